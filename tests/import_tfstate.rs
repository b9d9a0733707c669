//! Migration onto Terrane, of cloud objects this test makes on the ground by
//! the cloud's own API: `terrane export` of the project, and `terrane
//! import-tfstate` of a Terraform state (format version 4, as Terraform 1.x
//! writes it for the OpenStack provider) describing them. Applying either
//! adopts every object and changes nothing, and the plan after is empty.

mod support;

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::*;
use terrane_openstack::CloudClient;
use terrane_openstack::rest::{CINDER, DESIGNATE, GLANCE, NEUTRON, NOVA};

const PROVIDER: &str = "provider[\"registry.terraform.io/terraform-provider-openstack/openstack\"]";

fn managed(type_: &str, name: &str, attributes: Value) -> Value {
    json!({"mode": "managed", "type": type_, "name": name, "provider": PROVIDER,
           "instances": [{"schema_version": 0, "attributes": attributes, "sensitive_attributes": []}]})
}

async fn wait_status(cloud: &CloudClient, what: &str, get: impl AsyncFn(&CloudClient) -> Value, status: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let v = get(cloud).await;
        if v["status"].as_str() == Some(status) {
            return v;
        }
        assert!(Instant::now() < deadline, "{what} is not {status}: {v}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

fn terrane(args: &[&str], dir: &std::path::Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_terrane"))
        .args(args)
        .env("OS_CLIENT_CONFIG_FILE", dir.join("clouds.yaml"))
        .output()
        .expect("run terrane")
}

fn ok(out: Output, what: &str) -> String {
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{what}: exit {:?}\n{stdout}\n{stderr}", out.status.code());
    stdout.into_owned()
}

#[tokio::test]
async fn a_terraform_state_becomes_manifests_that_adopt_every_object_and_change_nothing() {
    let (cloud, _) = terrane_testground::cloud_client("demo").expect("cloud");
    let before = inventory(&cloud).await;
    let u = unique("tf");
    let dir = std::env::temp_dir().join(format!("terrane-tfstate-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(dir.join("clouds.yaml"), terrane_testground::clouds_yaml_text().expect("clouds.yaml"))
        .expect("write");

    // 1. What `terraform apply` would have made, made here by the cloud's API.
    let public =
        NEUTRON.get(&cloud, "/v2.0/networks?name=public&router:external=true").await.expect("public")["networks"][0]
            .clone();
    let public_id = public["id"].as_str().expect("the ground's public network").to_string();
    let net = NEUTRON
        .post(&cloud, "/v2.0/networks", &json!({"network": {"name": u, "description": "from terraform"}}))
        .await
        .expect("network")["network"]
        .clone();
    let net_id = net["id"].as_str().expect("id").to_string();
    let subnet = NEUTRON
        .post(&cloud, "/v2.0/subnets", &json!({"subnet": {"network_id": net_id, "name": u, "cidr": "10.55.0.0/24", "ip_version": 4, "dns_nameservers": ["10.55.0.2"]}}))
        .await
        .expect("subnet")["subnet"].clone();
    let subnet_id = subnet["id"].as_str().expect("id").to_string();
    let router = NEUTRON
        .post(
            &cloud,
            "/v2.0/routers",
            &json!({"router": {"name": u, "external_gateway_info": {"network_id": public_id}}}),
        )
        .await
        .expect("router")["router"]
        .clone();
    let router_id = router["id"].as_str().expect("id").to_string();
    let iface = NEUTRON
        .put(&cloud, &format!("/v2.0/routers/{router_id}/add_router_interface"), &json!({"subnet_id": subnet_id}))
        .await
        .expect("router interface");
    let iface_port = iface["port_id"].as_str().expect("port id").to_string();
    let sg = NEUTRON
        .post(&cloud, "/v2.0/security-groups", &json!({"security_group": {"name": u, "description": "web"}}))
        .await
        .expect("group")["security_group"]
        .clone();
    let sg_id = sg["id"].as_str().expect("id").to_string();
    let rule = NEUTRON
        .post(&cloud, "/v2.0/security-group-rules", &json!({"security_group_rule": {"security_group_id": sg_id, "direction": "ingress", "ethertype": "IPv4", "protocol": "tcp", "port_range_min": 80, "port_range_max": 80, "remote_ip_prefix": "0.0.0.0/0"}}))
        .await
        .expect("rule")["security_group_rule"].clone();
    let port = NEUTRON
        .post(&cloud, "/v2.0/ports", &json!({"port": {"network_id": net_id, "name": u, "fixed_ips": [{"subnet_id": subnet_id, "ip_address": "10.55.0.10"}], "security_groups": [sg_id]}}))
        .await
        .expect("port")["port"].clone();
    let port_id = port["id"].as_str().expect("id").to_string();
    let fip = NEUTRON
        .post(
            &cloud,
            "/v2.0/floatingips",
            &json!({"floatingip": {"floating_network_id": public_id, "port_id": port_id}}),
        )
        .await
        .expect("floating ip")["floatingip"]
        .clone();
    let (_, public_key) = terrane::ssh_keys::generate().expect("key");
    NOVA.post(&cloud, "/os-keypairs", &json!({"keypair": {"name": u, "public_key": public_key, "type": "ssh"}}))
        .await
        .expect("key pair");
    let flavors = NOVA.get(&cloud, "/flavors").await.expect("flavors");
    let flavor =
        flavors["flavors"].as_array().into_iter().flatten().find(|f| f["name"] == "m1.tiny").expect("m1.tiny").clone();
    let image = GLANCE.get(&cloud, "/v2/images?name=tiny-raw").await.expect("images")["images"][0].clone();
    let server = NOVA
        .post(&cloud, "/servers", &json!({"server": {"name": u, "flavorRef": flavor["id"], "imageRef": image["id"], "key_name": u, "networks": [{"port": port_id}], "metadata": {"tier": "web"}}}))
        .await
        .expect("server")["server"].clone();
    let server_id = server["id"].as_str().expect("id").to_string();
    wait_status(
        &cloud,
        "the server",
        async |c| NOVA.get(c, &format!("/servers/{server_id}")).await.expect("server")["server"].clone(),
        "ACTIVE",
    )
    .await;
    let volume = CINDER
        .post(&cloud, "/volumes", &json!({"volume": {"size": 1, "name": u, "description": "logs"}}))
        .await
        .expect("volume")["volume"]
        .clone();
    let volume_id = volume["id"].as_str().expect("id").to_string();
    let volume = wait_status(
        &cloud,
        "the volume",
        async |c| CINDER.get(c, &format!("/volumes/{volume_id}")).await.expect("volume")["volume"].clone(),
        "available",
    )
    .await;
    let zone_name = format!("{u}.terrane.test.");
    let zone = DESIGNATE
        .post(&cloud, "/v2/zones", &json!({"name": zone_name, "email": "hostmaster@example.org", "ttl": 300}))
        .await
        .expect("zone");
    let zone_id = zone["id"].as_str().expect("id").to_string();
    wait_status(
        &cloud,
        "the zone",
        async |c| DESIGNATE.get(c, &format!("/v2/zones/{zone_id}")).await.expect("zone"),
        "ACTIVE",
    )
    .await;
    let rs = DESIGNATE
        .post(
            &cloud,
            &format!("/v2/zones/{zone_id}/recordsets"),
            &json!({"name": format!("www.{zone_name}"), "type": "A", "records": ["10.55.0.10"], "ttl": 300}),
        )
        .await
        .expect("record set");
    let rs_id = rs["id"].as_str().expect("id").to_string();
    let made = inventory(&cloud).await;

    // 2a. terrane export of this test's objects (by name): the plan imports
    //     everything and changes nothing; applied, nothing changes; the plan after is empty.
    let export_dir = dir.join("export");
    let export_ns = unique("exns");
    let exported = ok(
        terrane(
            &[
                "export",
                "--cloud",
                "demo",
                "--out",
                export_dir.to_str().expect("path"),
                "--namespace",
                &export_ns,
                "--name-contains",
                &u,
            ],
            &dir,
        ),
        "2a. export",
    );
    println!("export: {exported}");
    let export_src = export_dir.to_str().expect("path");
    let started = Instant::now();
    let plan: Value =
        serde_json::from_str(&ok(terrane(&["plan", export_src, "-o", "json"], &dir), "2a. plan")).expect("JSON");
    let plan_took = started.elapsed();
    let s = &plan["summary"];
    let steps = plan["steps"].as_array().map(Vec::len).unwrap_or_default() as u64;
    assert_eq!(
        (s["create"].as_u64(), s["update"].as_u64(), s["refused"].as_u64()),
        (Some(0), Some(0), Some(0)),
        "2a. {plan:#}"
    );
    assert_eq!(s["import"].as_u64().unwrap_or(0) + s["adopt"].as_u64().unwrap_or(0), steps, "2a. {plan:#}");
    assert_eq!(steps, 15, "2a. the twelve objects, the external network, the flavor and the image: {plan:#}");
    let started = Instant::now();
    let applied = ok(terrane(&["apply", export_src], &dir), "2a. apply");
    let apply_took = started.elapsed();
    assert!(!applied.contains(": updated") && !applied.contains(": created"), "2a. nothing changed or made: {applied}");
    assert_eq!(inventory(&cloud).await, made, "2a. the cloud is unchanged");
    let again: Value =
        serde_json::from_str(&ok(terrane(&["plan", export_src, "-o", "json"], &dir), "2a. plan")).expect("JSON");
    assert_eq!(again["summary"]["unchanged"].as_u64(), Some(steps), "2a. the plan is empty: {again:#}");
    println!(
        "export -> apply -> empty plan: {steps} objects, plan {:.1} s, apply {:.1} s",
        plan_took.as_secs_f64(),
        apply_took.as_secs_f64()
    );
    // Forget the export's state (the cloud objects stay) for the Terraform path below.
    std::fs::remove_file(export_dir.join("terrane.state.json")).expect("2a. the export's state");

    // 2. Its Terraform state, with the attributes the OpenStack provider records.
    let state = json!({
        "version": 4, "terraform_version": "1.9.8", "serial": 14, "lineage": "6d2f4b1e-8a7c-4c55-9a3e-2b1f0c9d8e7a", "outputs": {},
        "resources": [
            {"mode": "data", "type": "openstack_networking_network_v2", "name": "public", "provider": PROVIDER,
             "instances": [{"schema_version": 0, "attributes": {"id": public_id, "name": "public", "external": true}}]},
            managed("openstack_networking_network_v2", "app", json!({"id": net_id, "name": u, "description": "from terraform", "admin_state_up": true, "mtu": net["mtu"], "shared": false, "external": false, "tags": [], "region": "RegionOne"})),
            managed("openstack_networking_subnet_v2", "app", json!({"id": subnet_id, "name": u, "description": "", "network_id": net_id, "cidr": "10.55.0.0/24", "ip_version": 4, "gateway_ip": subnet["gateway_ip"], "no_gateway": false, "enable_dhcp": subnet["enable_dhcp"], "dns_nameservers": ["10.55.0.2"], "allocation_pool": subnet["allocation_pools"]})),
            managed("openstack_networking_router_v2", "app", json!({"id": router_id, "name": u, "description": "", "admin_state_up": true, "external_network_id": public_id, "enable_snat": router["external_gateway_info"]["enable_snat"]})),
            managed("openstack_networking_router_interface_v2", "app", json!({"id": iface_port, "router_id": router_id, "subnet_id": subnet_id, "port_id": iface_port})),
            managed("openstack_networking_secgroup_v2", "web", json!({"id": sg_id, "name": u, "description": "web", "delete_default_rules": false, "stateful": true})),
            managed("openstack_networking_secgroup_rule_v2", "http", json!({"id": rule["id"], "security_group_id": sg_id, "direction": "ingress", "ethertype": "IPv4", "protocol": "tcp", "port_range_min": 80, "port_range_max": 80, "remote_ip_prefix": "0.0.0.0/0", "remote_group_id": ""})),
            managed("openstack_networking_port_v2", "web", json!({"id": port_id, "name": u, "description": "", "network_id": net_id, "admin_state_up": true, "fixed_ip": [{"subnet_id": subnet_id, "ip_address": "10.55.0.10"}], "security_group_ids": [sg_id], "mac_address": port["mac_address"]})),
            managed("openstack_networking_floatingip_v2", "web", json!({"id": fip["id"], "address": fip["floating_ip_address"], "pool": "public", "port_id": "", "description": ""})),
            managed("openstack_networking_floatingip_associate_v2", "web", json!({"id": fip["id"], "floating_ip": fip["floating_ip_address"], "port_id": port_id, "fixed_ip": "10.55.0.10"})),
            managed("openstack_compute_keypair_v2", "ops", json!({"id": u, "name": u, "public_key": public_key, "fingerprint": ""})),
            managed("openstack_compute_instance_v2", "web", json!({"id": server_id, "name": u, "flavor_id": flavor["id"], "flavor_name": "m1.tiny", "image_id": image["id"], "image_name": "tiny-raw", "key_pair": u, "security_groups": ["default"], "metadata": {"tier": "web"}, "user_data": "da39a3ee5e6b4b0d3255bfef95601890afd80709", "network": [{"uuid": net_id, "name": u, "port": port_id, "fixed_ip_v4": "10.55.0.10", "fixed_ip_v6": "", "mac": port["mac_address"], "access_network": false}]})),
            managed("openstack_blockstorage_volume_v3", "logs", json!({"id": volume_id, "name": u, "size": 1, "description": "logs", "volume_type": volume["volume_type"], "availability_zone": volume["availability_zone"]})),
            managed("openstack_dns_zone_v2", "web", json!({"id": zone_id, "name": zone_name, "email": "hostmaster@example.org", "ttl": 300, "description": "", "type": "PRIMARY"})),
            managed("openstack_dns_recordset_v2", "www", json!({"id": format!("{zone_id}/{rs_id}"), "zone_id": zone_id, "name": format!("www.{zone_name}"), "type": "A", "records": ["10.55.0.10"], "ttl": 300, "description": ""})),
            managed("openstack_objectstorage_container_v1", "backups", json!({"id": "backups", "name": "backups"})),
        ]
    });
    let tfstate = dir.join("terraform.tfstate");
    std::fs::write(&tfstate, serde_json::to_string_pretty(&state).expect("JSON")).expect("write state");

    // 3. Manifests, one file per kind, references by name, unknown types listed.
    let out_dir = dir.join("infra");
    let ns = unique("tfns");
    let converted = ok(
        terrane(
            &[
                "import-tfstate",
                tfstate.to_str().expect("path"),
                "--out",
                out_dir.to_str().expect("path"),
                "--namespace",
                &ns,
            ],
            &dir,
        ),
        "3. import-tfstate",
    );
    assert!(converted.contains("skipped openstack_objectstorage_container_v1.backups"), "3. {converted}");
    let subnets = std::fs::read_to_string(out_dir.join("subnets.yaml")).expect("3. subnets.yaml");
    assert!(
        subnets.contains("networkRef:") && subnets.contains("name: app") && subnets.contains(&subnet_id),
        "3. {subnets}"
    );
    let servers = std::fs::read_to_string(out_dir.join("servers.yaml")).expect("3. servers.yaml");
    assert!(
        servers.contains("keyPairRef:") && servers.contains("name: ops") && servers.contains("portRef:"),
        "3. {servers}"
    );
    let flavors = std::fs::read_to_string(out_dir.join("flavors.yaml")).expect("3. the flavor, imported ObserveOnly");
    assert!(flavors.contains("ObserveOnly"), "3. {flavors}");
    let pc = std::fs::read_to_string(format!("{}/deploy/examples/provider-config.yaml", env!("CARGO_MANIFEST_DIR")))
        .expect("example");
    std::fs::write(
        out_dir.join("provider-config.yaml"),
        pc.replace("metadata: {name: cloud}", &format!("metadata: {{name: cloud, namespace: {ns}}}")),
    )
    .expect("write");
    let source = out_dir.to_str().expect("path");

    // 4. The plan: every object imported, nothing to create, update or refuse.
    let plan: Value =
        serde_json::from_str(&ok(terrane(&["plan", source, "-o", "json"], &dir), "4. plan")).expect("JSON");
    let s = &plan["summary"];
    assert_eq!(
        (s["create"].as_u64(), s["update"].as_u64(), s["refused"].as_u64()),
        (Some(0), Some(0), Some(0)),
        "4. {plan:#}"
    );
    let imports = plan["steps"].as_array().expect("steps").len();
    assert_eq!(
        (s["import"].as_u64(), s["adopt"].as_u64()),
        (Some(imports as u64 - 1), Some(1)),
        "4. every object an import, the router interface found by its router and subnet: {plan:#}"
    );
    assert_eq!(
        imports, 15,
        "4. 12 resources (rules and the association folded in) and the external network (named by its data source), flavor and image"
    );
    let names: Vec<&str> =
        plan["steps"].as_array().into_iter().flatten().filter_map(|s| s["object"].as_str()).collect();
    assert!(names.contains(&"Flavor/m1.tiny") && names.contains(&"Network/public"), "4. {names:?}");

    // 5. Applied: adopted, nothing changed in the cloud; then the plan is empty.
    let applied = ok(terrane(&["apply", source], &dir), "5. apply");
    assert!(!applied.contains(": updated") && !applied.contains(": created"), "5. nothing changed or made: {applied}");
    assert_eq!(inventory(&cloud).await, made, "5. the cloud has exactly what it had");
    let volume_after = CINDER.get(&cloud, &format!("/volumes/{volume_id}")).await.expect("volume")["volume"].clone();
    assert_eq!(volume_after["updated_at"], volume["updated_at"], "5. the volume was not touched");
    let again: Value =
        serde_json::from_str(&ok(terrane(&["plan", source, "-o", "json"], &dir), "5. plan")).expect("JSON");
    assert_eq!(again["summary"]["unchanged"].as_u64(), Some(imports as u64), "5. the plan is empty: {again:#}");

    // 6. Terrane owns them now: declaring nothing deletes what Terraform made, and leaves the rest.
    for f in std::fs::read_dir(&out_dir).expect("dir") {
        let path = f.expect("entry").path();
        let manifest = path.extension().is_some_and(|e| e == "yaml");
        if manifest && path.file_name().is_some_and(|n| n != "provider-config.yaml") {
            std::fs::remove_file(path).expect("remove");
        }
    }
    ok(terrane(&["apply", source], &dir), "6. apply nothing");
    let after = inventory(&cloud).await;
    assert_eq!(after, before, "6. left over: {:?}", after.difference(&before).collect::<Vec<_>>());
    assert!(
        CINDER
            .get_opt(&cloud, &format!("/volumes/{volume_id}"))
            .await
            .expect("cinder")
            .is_none_or(|v| v["volume"]["status"] == "deleting")
    );
    let _ = std::fs::remove_dir_all(dir);
}
