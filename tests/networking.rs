//! Router, RouterInterface, SecurityGroup, Port and FloatingIP against the
//! real ground, and the README's worked example end to end.

mod support;

use std::collections::BTreeSet;

use serde_json::{Value, json};
use support::*;
use terrane_api::*;
use terrane_openstack::{CloudClient, Service};

fn obj(kind: &str, name: &str, spec: Value) -> Value {
    let mut spec = spec;
    spec["providerConfigRef"] = json!({"name": PROVIDER});
    json!({"apiVersion": "terrane.dev/v1alpha1", "kind": kind, "metadata": {"name": name}, "spec": spec})
}

async fn public_network(env: &Env) {
    create(
        &env.api::<Network>(),
        obj(
            "Network",
            "public",
            json!({"managementPolicy": "ObserveOnly", "import": {"filter": {"name": "public", "external": true}}}),
        ),
    )
    .await;
}

/// Every object of the demo project, as `collection/id` and its description.
async fn cloud_inventory(cloud: &CloudClient) -> Vec<(String, String)> {
    let project = cloud.project_id().await.expect("project").unwrap_or_default();
    let mut all = Vec::new();
    for plural in ["networks", "subnets", "routers", "ports", "floatingips", "security-groups"] {
        let r = cloud.get(Service::Network, &format!("/v2.0/{plural}?project_id={project}")).await.expect("list");
        for item in r.body[plural.replace('-', "_")].as_array().cloned().unwrap_or_default() {
            all.push((
                format!("{plural}/{}", item["id"].as_str().unwrap_or_default()),
                item["description"].as_str().unwrap_or_default().to_string(),
            ));
        }
    }
    all
}

#[tokio::test]
async fn worked_example_converges_and_deleting_the_namespace_leaves_the_cloud_as_before() {
    let env = Env::without_controller("example").await;
    let yaml = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/examples/networking.yaml"))
        .expect("example");
    let docs: Vec<Value> = serde_saphyr::from_multiple(&yaml).expect("example YAML");
    let mut env = env;
    let started = std::time::Instant::now();
    env.start_controller(&[]);
    for mut doc in docs {
        doc["spec"]["providerConfigRef"]["name"] = json!(PROVIDER);
        match doc["kind"].as_str() {
            Some("Network") => drop(create(&env.api::<Network>(), doc).await),
            Some("Subnet") => drop(create(&env.api::<Subnet>(), doc).await),
            Some("Router") => drop(create(&env.api::<Router>(), doc).await),
            Some("RouterInterface") => drop(create(&env.api::<RouterInterface>(), doc).await),
            Some("SecurityGroup") => drop(create(&env.api::<SecurityGroup>(), doc).await),
            Some("Port") => drop(create(&env.api::<Port>(), doc).await),
            Some("FloatingIP") => drop(create(&env.api::<FloatingIP>(), doc).await),
            other => panic!("unexpected kind {other:?} in the example"),
        }
    }
    wait_ready(&env.api::<FloatingIP>(), "web-1").await;
    for name in ["public", "web"] {
        wait_ready(&env.api::<Network>(), name).await;
    }
    wait_ready(&env.api::<Subnet>(), "web").await;
    wait_ready(&env.api::<Router>(), "web").await;
    wait_ready(&env.api::<RouterInterface>(), "web").await;
    wait_ready(&env.api::<SecurityGroup>(), "web").await;
    let port = wait_ready(&env.api::<Port>(), "web-1").await;
    let converged = started.elapsed();
    let fip = env.api::<FloatingIP>().get("web-1").await.expect("fip");
    let cloud_fip =
        neutron_get(&env.cloud, "floatingips", "floatingip", &id_of(&fip)).await.expect("1. the floating IP exists");
    assert_eq!(cloud_fip["port_id"].as_str(), Some(id_of(&port).as_str()), "2. bound to the port");
    assert_eq!(cloud_fip["fixed_ip_address"], json!("10.0.1.101"));

    // What the example made: every object's cloud ID and ownership marker.
    let mut made: Vec<(String, String)> = Vec::new();
    macro_rules! collect {
        ($t:ty, $plural:expr) => {
            for o in env.api::<$t>().list(&Default::default()).await.expect("list").items {
                if o.spec.common.management_policy == ManagementPolicy::Managed {
                    made.push((format!("{}/{}", $plural, id_of(&o)), o.metadata.uid.clone().unwrap_or_default()));
                }
            }
        };
    }
    collect!(Network, "networks");
    collect!(Subnet, "subnets");
    collect!(Router, "routers");
    collect!(SecurityGroup, "security-groups");
    collect!(Port, "ports");
    collect!(FloatingIP, "floatingips");
    made.push((
        format!("ports/{}", id_of(&env.api::<RouterInterface>().get("web").await.expect("interface"))),
        String::new(),
    ));
    assert_eq!(made.len(), 7, "the example makes 7 cloud objects");
    if let Some(m) = env.controller_metrics().await {
        println!(
            "worked example: converged in {:.1}s, {} reconciles, {} cloud requests",
            converged.as_secs_f64(),
            m.reconciles,
            m.requests
        );
        assert!(
            m.requests > 0 && m.requests < 100,
            "3. converging costs a bounded number of cloud requests: {}",
            m.requests
        );
        assert!(m.text.contains("terrane_cloud_request_duration_seconds"), "4. latency histogram exported");
    }

    let ns_name = env.ns.name.clone();
    let client = env.ns.client.clone();
    let namespaces: kube::Api<k8s_openapi::api::core::v1::Namespace> = kube::Api::all(client);
    namespaces.delete(&ns_name, &Default::default()).await.expect("delete namespace");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while namespaces.get_opt(&ns_name).await.expect("get ns").is_some() {
        assert!(std::time::Instant::now() < deadline, "5. the namespace is gone within 120s");
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    let after = cloud_inventory(&env.cloud).await;
    for (id, uid) in &made {
        assert!(!after.iter().any(|(i, _)| i == id), "6. {id} was deleted");
        assert!(
            uid.is_empty() || !after.iter().any(|(_, d)| d.contains(uid.as_str())),
            "7. nothing carries the marker of {uid}"
        );
    }
}

#[tokio::test]
async fn security_group_rules_converge_and_drift_is_repaired() {
    let env = Env::new("sg").await;
    let groups = env.api::<SecurityGroup>();
    create(
        &groups,
        obj(
            "SecurityGroup",
            "web",
            json!({"resource": {"description": "web", "rules": [
                {"protocol": "tcp", "portRangeMin": 443, "portRangeMax": 443, "remoteIpPrefix": "0.0.0.0/0"},
                {"remoteGroupRef": {"name": "web"}},
                {"direction": "egress"}
            ]}}),
        ),
    )
    .await;
    let id = id_of(&wait_ready(&groups, "web").await);
    let rules = |g: &Value| g["security_group_rules"].as_array().cloned().unwrap_or_default();
    let g = neutron_get(&env.cloud, "security-groups", "security_group", &id).await.expect("exists");
    assert_eq!(
        rules(&g).len(),
        3,
        "1. exactly the listed rules (the default IPv6 egress rule removed): {}",
        g["security_group_rules"]
    );
    assert!(
        rules(&g).iter().any(|r| r["remote_group_id"].as_str() == Some(id.as_str())),
        "2. the self reference points at the group itself"
    );

    let https = rules(&g).into_iter().find(|r| r["port_range_min"] == json!(443)).expect("443 rule");
    env.cloud
        .delete(Service::Network, &format!("/v2.0/security-group-rules/{}", https["id"].as_str().unwrap_or_default()))
        .await
        .expect("delete behind Terrane's back");
    env.cloud.post(Service::Network, "/v2.0/security-group-rules", &json!({"security_group_rule": {"security_group_id": id, "direction": "ingress", "protocol": "tcp", "port_range_min": 23, "port_range_max": 23}})).await.expect("add behind Terrane's back");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let g = neutron_get(&env.cloud, "security-groups", "security_group", &id).await.expect("exists");
        let ports: BTreeSet<i64> = rules(&g).iter().filter_map(|r| r["port_range_min"].as_i64()).collect();
        if ports == BTreeSet::from([443]) && rules(&g).len() == 3 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "3. drift of rules was not repaired: {}",
            g["security_group_rules"]
        );
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    merge(&groups, "web", json!({"spec": {"resource": {"rules": [{"direction": "egress"}]}}})).await.expect("patch");
    wait_ready(&groups, "web").await;
    let g = neutron_get(&env.cloud, "security-groups", "security_group", &id).await.expect("exists");
    assert_eq!(rules(&g).len(), 1, "4. rules removed from the spec are removed from the cloud");
    let error =
        create_rejected(&groups, obj("SecurityGroup", "bad", json!({"resource": {"rules": [{"portRangeMin": 80}]}})))
            .await;
    assert!(error.contains("a port range needs protocol"), "5. admission names the problem: {error}");
    env.teardown().await;
}

#[tokio::test]
async fn router_gateway_interface_and_deletion_guard() {
    let env = Env::new("router").await;
    public_network(&env).await;
    create(&env.api::<Network>(), obj("Network", "n", json!({"resource": {}}))).await;
    create(
        &env.api::<Subnet>(),
        obj("Subnet", "s", json!({"resource": {"networkRef": {"name": "n"}, "cidr": "10.40.0.0/24"}})),
    )
    .await;
    create(
        &env.api::<Router>(),
        obj("Router", "r", json!({"resource": {"externalGateway": {"networkRef": {"name": "public"}}}})),
    )
    .await;
    create(
        &env.api::<RouterInterface>(),
        obj("RouterInterface", "r-s", json!({"resource": {"routerRef": {"name": "r"}, "subnetRef": {"name": "s"}}})),
    )
    .await;
    let router = wait_ready(&env.api::<Router>(), "r").await;
    let iface = wait_ready(&env.api::<RouterInterface>(), "r-s").await;
    let public = id_of(&wait_ready(&env.api::<Network>(), "public").await);
    let r = neutron_get(&env.cloud, "routers", "router", &id_of(&router)).await.expect("router");
    assert_eq!(
        r["external_gateway_info"]["network_id"].as_str(),
        Some(public.as_str()),
        "1. gateway on the external network"
    );
    let p = neutron_get(&env.cloud, "ports", "port", &id_of(&iface)).await.expect("interface port");
    assert_eq!(p["device_id"].as_str(), Some(id_of(&router).as_str()), "2. the interface is a port of the router");
    assert_eq!(p["fixed_ips"][0]["ip_address"], json!("10.40.0.1"), "3. on the subnet's gateway address");

    merge(&env.api::<Router>(), "r", json!({"spec": {"resource": {"externalGateway": null}}}))
        .await
        .expect("drop gateway");
    wait_ready(&env.api::<Router>(), "r").await;
    let r = neutron_get(&env.cloud, "routers", "router", &id_of(&router)).await.expect("router");
    assert!(
        r["external_gateway_info"].is_null(),
        "4. removing the gateway from the spec removes it: {}",
        r["external_gateway_info"]
    );

    env.api::<Router>().delete("r", &Default::default()).await.expect("delete router");
    wait_reason(&env.api::<Router>(), "r", "Waiting", "RouterInterface/r-s").await;
    env.api::<RouterInterface>().delete("r-s", &Default::default()).await.expect("delete interface");
    wait_gone(&env.api::<Router>(), "r", 60).await;
    assert!(neutron_get(&env.cloud, "ports", "port", &id_of(&iface)).await.is_none(), "5. interface removed");
    assert!(
        neutron_get(&env.cloud, "routers", "router", &id_of(&router)).await.is_none(),
        "6. router deleted after its interface"
    );
    env.teardown().await;
}

#[tokio::test]
async fn port_updates_and_floating_ip_follows_its_port() {
    let env = Env::new("port-fip").await;
    public_network(&env).await;
    create(&env.api::<Network>(), obj("Network", "n", json!({"resource": {}}))).await;
    create(
        &env.api::<Subnet>(),
        obj("Subnet", "s", json!({"resource": {"networkRef": {"name": "n"}, "cidr": "10.50.0.0/24"}})),
    )
    .await;
    create(
        &env.api::<Router>(),
        obj("Router", "r", json!({"resource": {"externalGateway": {"networkRef": {"name": "public"}}}})),
    )
    .await;
    create(
        &env.api::<RouterInterface>(),
        obj("RouterInterface", "r-s", json!({"resource": {"routerRef": {"name": "r"}, "subnetRef": {"name": "s"}}})),
    )
    .await;
    create(&env.api::<SecurityGroup>(), obj("SecurityGroup", "a", json!({"resource": {}}))).await;
    create(&env.api::<SecurityGroup>(), obj("SecurityGroup", "b", json!({"resource": {}}))).await;
    for (name, ip) in [("p1", "10.50.0.11"), ("p2", "10.50.0.12")] {
        create(&env.api::<Port>(), obj("Port", name, json!({"resource": {"networkRef": {"name": "n"}, "fixedIps": [{"subnetRef": {"name": "s"}, "ipAddress": ip}], "securityGroupRefs": [{"name": "a"}]}}))).await;
    }
    create(&env.api::<FloatingIP>(), obj("FloatingIP", "f", json!({"resource": {"floatingNetworkRef": {"name": "public"}, "portRef": {"name": "p1"}, "description": "front"}}))).await;
    let fip = wait_ready(&env.api::<FloatingIP>(), "f").await;
    let p1 = id_of(&wait_ready(&env.api::<Port>(), "p1").await);
    let p2 = id_of(&wait_ready(&env.api::<Port>(), "p2").await);
    let b = id_of(&wait_ready(&env.api::<SecurityGroup>(), "b").await);
    let fip_id = id_of(&fip);
    let get_fip = || neutron_get(&env.cloud, "floatingips", "floatingip", &fip_id);
    assert_eq!(get_fip().await.expect("fip")["port_id"].as_str(), Some(p1.as_str()), "1. bound to p1");

    merge(&env.api::<FloatingIP>(), "f", json!({"spec": {"resource": {"portRef": {"name": "p2"}}}}))
        .await
        .expect("move");
    wait_ready(&env.api::<FloatingIP>(), "f").await;
    assert_eq!(get_fip().await.expect("fip")["port_id"].as_str(), Some(p2.as_str()), "2. moved to p2 in place");
    merge(&env.api::<FloatingIP>(), "f", json!({"spec": {"resource": {"portRef": null}}})).await.expect("unbind");
    wait_ready(&env.api::<FloatingIP>(), "f").await;
    assert!(get_fip().await.expect("fip")["port_id"].is_null(), "3. unbound");

    merge(&env.api::<Port>(), "p1", json!({"spec": {"resource": {"securityGroupRefs": [{"name": "b"}], "allowedAddressPairs": [{"ipAddress": "10.50.0.200"}], "description": "db"}}})).await.expect("patch port");
    wait_ready(&env.api::<Port>(), "p1").await;
    let p = neutron_get(&env.cloud, "ports", "port", &p1).await.expect("port");
    assert_eq!(p["security_groups"], json!([b]), "4. security groups replaced");
    assert_eq!(p["allowed_address_pairs"][0]["ip_address"], json!("10.50.0.200"));
    assert_eq!(p["fixed_ips"][0]["ip_address"], json!("10.50.0.11"), "5. the address did not change");

    env.api::<SecurityGroup>().delete("b", &Default::default()).await.expect("delete sg");
    wait_reason(&env.api::<SecurityGroup>(), "b", "Waiting", "Port/p1").await;
    env.teardown().await;
}

#[tokio::test]
async fn router_interface_is_adopted_by_router_and_subnet_after_a_crash() {
    let mut env = Env::new("rif-crash").await;
    create(&env.api::<Network>(), obj("Network", "n", json!({"resource": {}}))).await;
    create(
        &env.api::<Subnet>(),
        obj("Subnet", "s", json!({"resource": {"networkRef": {"name": "n"}, "cidr": "10.70.0.0/24"}})),
    )
    .await;
    create(&env.api::<Router>(), obj("Router", "r", json!({"resource": {}}))).await;
    let router = id_of(&wait_ready(&env.api::<Router>(), "r").await);
    let subnet = id_of(&wait_ready(&env.api::<Subnet>(), "s").await);
    env.stop_controller();
    env.start_controller(&[("TERRANE_FAILPOINT", "after-create")]);
    create(
        &env.api::<RouterInterface>(),
        obj("RouterInterface", "r-s", json!({"resource": {"routerRef": {"name": "r"}, "subnetRef": {"name": "s"}}})),
    )
    .await;
    assert_eq!(
        env.controller.as_mut().and_then(|c| c.wait_exit(60)),
        Some(86),
        "1. the controller died at the failpoint"
    );
    env.start_controller(&[]);
    let iface = id_of(&wait_ready(&env.api::<RouterInterface>(), "r-s").await);
    let ports = env.cloud.get(Service::Network, &format!("/v2.0/ports?device_id={router}")).await.expect("ports").body;
    let on_subnet: Vec<&Value> = ports["ports"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["fixed_ips"][0]["subnet_id"].as_str() == Some(subnet.as_str()))
        .collect();
    assert_eq!(on_subnet.len(), 1, "2. one interface on the subnet, not two");
    assert_eq!(on_subnet[0]["id"].as_str(), Some(iface.as_str()), "3. and it was adopted");
    env.teardown().await;
}
