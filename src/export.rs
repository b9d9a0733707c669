//! `terrane export`: manifests for what a cloud project holds. The
//! project's objects are read from the cloud's APIs and described the way the
//! Terraform OpenStack provider records them, so the one conversion of
//! `terrane import-tfstate` ([`crate::tfstate`]) makes the manifests: each
//! object imported by ID, references by name, what the project only refers
//! to (an external network, a flavor, an image, the default security group)
//! imported ObserveOnly. Applying the export adopts everything and changes
//! nothing.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use terrane_openstack::CloudClient;
use terrane_openstack::marker::strip_marker;
use terrane_openstack::rest::{CINDER, DESIGNATE, NEUTRON, NOVA};
use terrane_provider::ProviderError;

use crate::tfstate::TfObject;

/// Why the project could not be read; names the request.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("listing {what}: {source}")]
    List { what: String, source: ProviderError },
    #[error("{0}")]
    Cloud(String),
}

/// Keeps the objects whose cloud name contains `text`, and the unnamed ones
/// attached to them (a router's interfaces, a port's floating IP); what they
/// refer to outside the selection is imported ObserveOnly by the conversion.
pub fn select(objects: Vec<TfObject>, text: &str) -> Vec<TfObject> {
    let named = |o: &TfObject| o.attributes["name"].as_str().is_some_and(|n| n.contains(text));
    let kept: Vec<String> =
        objects.iter().filter(|o| named(o)).filter_map(|o| o.attributes["id"].as_str().map(str::to_string)).collect();
    let attached = |o: &TfObject| match o.type_.as_str() {
        "openstack_networking_router_interface_v2" => kept.iter().any(|k| o.attributes["router_id"] == k.as_str()),
        "openstack_networking_floatingip_v2" => kept.iter().any(|k| o.attributes["port_id"] == k.as_str()),
        "openstack_networking_secgroup_rule_v2" => kept.iter().any(|k| o.attributes["security_group_id"] == k.as_str()),
        _ => false,
    };
    objects.into_iter().filter(|o| o.data || named(o) || attached(o)).collect()
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

/// A description as the user wrote it: Terrane's ownership marker taken out.
fn description(v: &Value) -> Value {
    json!(strip_marker(s(&v["description"])).trim_end())
}

/// A Terraform-like name from a cloud name, else the kind and ID start.
fn name_of(v: &Value, prefix: &str) -> String {
    let name = s(&v["name"]);
    if name.is_empty() { format!("{prefix}-{}", &s(&v["id"]).chars().take(8).collect::<String>()) } else { name.into() }
}

fn object(type_: &str, name: &str, attributes: Value) -> TfObject {
    TfObject {
        data: false,
        address: format!("{type_}.{name}"),
        type_: type_.into(),
        name: crate::tfstate::object_name(name, None),
        attributes,
    }
}

async fn list(
    cloud: &CloudClient,
    rest: &terrane_openstack::rest::Rest,
    path: &str,
    key: &str,
) -> Result<Vec<Value>, ExportError> {
    rest.list_all(cloud, path, key, "/id")
        .await
        .map(|items| items.into_iter().map(|(_, v)| v).collect())
        .map_err(|source| ExportError::List { what: path.into(), source })
}

/// Records the network `id` when the project does not own it: a data
/// source naming it, so every reference to it resolves to one object.
async fn external_network(
    cloud: &CloudClient,
    owned: &[Value],
    external: &mut BTreeMap<String, String>,
    id: &str,
    out: &mut Vec<TfObject>,
) -> Result<(), ExportError> {
    if id.is_empty() || external.contains_key(id) || owned.iter().any(|n| s(&n["id"]) == id) {
        return Ok(());
    }
    let net = NEUTRON
        .get(cloud, &format!("/v2.0/networks/{id}"))
        .await
        .map_err(|source| ExportError::List { what: format!("network {id}"), source })?;
    let name = s(&net["network"]["name"]).to_string();
    external.insert(id.to_string(), name.clone());
    out.push(TfObject {
        data: true,
        address: format!("data.openstack_networking_network_v2.{name}"),
        type_: "openstack_networking_network_v2".into(),
        name: crate::tfstate::object_name(&name, None),
        attributes: json!({"id": id, "name": name}),
    });
    Ok(())
}

/// A list of an optional service: empty when the catalog has no such service.
fn optional(result: Result<Vec<Value>, ExportError>) -> Result<Vec<Value>, ExportError> {
    match result {
        Err(ExportError::List { source, .. }) if source.to_string().contains("catalog has no") => Ok(Vec::new()),
        other => other,
    }
}

/// Every object of project `project` (Neutron's filter; the other services
/// answer for the project `cloud` is scoped to), as Terraform would record
/// it. Block storage and DNS are read when the catalog has them.
pub async fn read(cloud: &CloudClient, project: &str) -> Result<Vec<TfObject>, ExportError> {
    let mut out = Vec::new();
    let q = format!("?project_id={project}");
    let networks = list(cloud, &NEUTRON, &format!("/v2.0/networks{q}"), "networks").await?;
    for n in &networks {
        out.push(object(
            "openstack_networking_network_v2",
            &name_of(n, "network"),
            json!({"id": n["id"], "name": n["name"], "description": description(n), "admin_state_up": n["admin_state_up"], "mtu": n["mtu"]}),
        ));
    }
    for sn in list(cloud, &NEUTRON, &format!("/v2.0/subnets{q}"), "subnets").await? {
        out.push(object(
            "openstack_networking_subnet_v2",
            &name_of(&sn, "subnet"),
            json!({"id": sn["id"], "name": sn["name"], "description": description(&sn), "network_id": sn["network_id"],
                   "cidr": sn["cidr"], "ip_version": sn["ip_version"], "gateway_ip": sn["gateway_ip"],
                   "no_gateway": sn["gateway_ip"].is_null(), "enable_dhcp": sn["enable_dhcp"],
                   "dns_nameservers": sn["dns_nameservers"], "allocation_pool": sn["allocation_pools"]}),
        ));
    }
    // External networks the project uses but does not own: named by a data source.
    let mut external: BTreeMap<String, String> = BTreeMap::new();
    for r in list(cloud, &NEUTRON, &format!("/v2.0/routers{q}"), "routers").await? {
        let gateway = s(&r["external_gateway_info"]["network_id"]).to_string();
        external_network(cloud, &networks, &mut external, &gateway, &mut out).await?;
        out.push(object(
            "openstack_networking_router_v2",
            &name_of(&r, "router"),
            json!({"id": r["id"], "name": r["name"], "description": description(&r), "admin_state_up": r["admin_state_up"], "external_network_id": gateway}),
        ));
    }
    let groups = list(cloud, &NEUTRON, &format!("/v2.0/security-groups{q}"), "security_groups").await?;
    for g in groups.iter().filter(|g| g["name"] != "default") {
        out.push(object(
            "openstack_networking_secgroup_v2",
            &name_of(g, "group"),
            json!({"id": g["id"], "name": g["name"], "description": description(g), "delete_default_rules": true}),
        ));
        for (i, rule) in g["security_group_rules"].as_array().into_iter().flatten().enumerate() {
            out.push(object(
                "openstack_networking_secgroup_rule_v2",
                &format!("{}-rule-{i}", name_of(g, "group")),
                json!({"id": rule["id"], "security_group_id": g["id"], "direction": rule["direction"], "ethertype": rule["ethertype"],
                       "protocol": rule["protocol"], "port_range_min": rule["port_range_min"], "port_range_max": rule["port_range_max"],
                       "remote_ip_prefix": rule["remote_ip_prefix"], "remote_group_id": rule["remote_group_id"]}),
            ));
        }
    }
    let ports = list(cloud, &NEUTRON, &format!("/v2.0/ports{q}"), "ports").await?;
    for p in &ports {
        let owner = s(&p["device_owner"]);
        if owner == "network:router_interface" {
            let subnet = s(&p["fixed_ips"][0]["subnet_id"]);
            out.push(object(
                "openstack_networking_router_interface_v2",
                &format!("{}-{}", name_of(p, "interface"), &subnet.chars().take(8).collect::<String>()),
                json!({"id": p["id"], "router_id": p["device_id"], "subnet_id": subnet, "port_id": p["id"]}),
            ));
        } else if !owner.starts_with("network:") {
            let fixed: Vec<Value> = p["fixed_ips"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|ip| json!({"subnet_id": ip["subnet_id"], "ip_address": ip["ip_address"]}))
                .collect();
            out.push(object(
                "openstack_networking_port_v2",
                &name_of(p, "port"),
                json!({"id": p["id"], "name": p["name"], "description": description(p), "network_id": p["network_id"],
                       "admin_state_up": p["admin_state_up"], "fixed_ip": fixed, "security_group_ids": p["security_groups"]}),
            ));
        }
    }
    for f in list(cloud, &NEUTRON, &format!("/v2.0/floatingips{q}"), "floatingips").await? {
        let network = s(&f["floating_network_id"]).to_string();
        external_network(cloud, &networks, &mut external, &network, &mut out).await?;
        let pool = external.get(&network).cloned().unwrap_or_default();
        out.push(object(
            "openstack_networking_floatingip_v2",
            &format!("fip-{}", s(&f["floating_ip_address"]).replace('.', "-")),
            json!({"id": f["id"], "address": f["floating_ip_address"], "pool": pool, "port_id": f["port_id"], "description": description(&f)}),
        ));
    }
    let key_pairs = NOVA
        .get(cloud, "/os-keypairs")
        .await
        .map_err(|source| ExportError::List { what: "key pairs".into(), source })?;
    for k in key_pairs["keypairs"].as_array().into_iter().flatten().map(|k| &k["keypair"]) {
        out.push(object(
            "openstack_compute_keypair_v2",
            s(&k["name"]),
            json!({"id": k["name"], "name": k["name"], "public_key": k["public_key"]}),
        ));
    }
    let flavors =
        NOVA.get(cloud, "/flavors").await.map_err(|source| ExportError::List { what: "flavors".into(), source })?;
    let flavor_id = |name: &str| {
        flavors["flavors"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|f| s(&f["name"]) == name)
            .map(|f| s(&f["id"]).to_string())
    };
    for v in list(cloud, &NOVA, "/servers/detail", "servers").await? {
        let flavor_name = s(&v["flavor"]["original_name"]);
        let networks: Vec<Value> = ports
            .iter()
            .filter(|p| p["device_id"] == v["id"])
            .map(|p| json!({"uuid": p["network_id"], "port": p["id"]}))
            .collect();
        out.push(object(
            "openstack_compute_instance_v2",
            &name_of(&v, "server"),
            json!({"id": v["id"], "name": v["name"], "flavor_id": flavor_id(flavor_name).unwrap_or_default(), "flavor_name": flavor_name,
                   "image_id": v["image"]["id"], "key_pair": v["key_name"], "metadata": v["metadata"], "network": networks}),
        ));
    }
    {
        for vol in optional(list(cloud, &CINDER, "/volumes/detail", "volumes").await)? {
            out.push(object(
                "openstack_blockstorage_volume_v3",
                &name_of(&vol, "volume"),
                json!({"id": vol["id"], "name": vol["name"], "size": vol["size"], "description": description(&vol), "volume_type": vol["volume_type"]}),
            ));
        }
    }
    {
        for z in optional(list(cloud, &DESIGNATE, "/v2/zones", "zones").await)? {
            let zone_name = s(&z["name"]).trim_end_matches('.').to_string();
            out.push(object(
                "openstack_dns_zone_v2",
                &zone_name,
                json!({"id": z["id"], "name": z["name"], "email": z["email"], "ttl": z["ttl"], "description": description(&z)}),
            ));
            let records =
                list(cloud, &DESIGNATE, &format!("/v2/zones/{}/recordsets", s(&z["id"])), "recordsets").await?;
            // The zone's SOA and NS records are Designate's own.
            for r in records.iter().filter(|r| !matches!(s(&r["type"]), "SOA" | "NS")) {
                out.push(object(
                    "openstack_dns_recordset_v2",
                    &format!("{}-{}", s(&r["name"]).trim_end_matches('.'), s(&r["type"]).to_ascii_lowercase()),
                    json!({"id": format!("{}/{}", s(&z["id"]), s(&r["id"])), "zone_id": z["id"], "name": r["name"], "type": r["type"],
                           "records": r["records"], "ttl": r["ttl"], "description": description(r)}),
                ));
            }
        }
    }
    Ok(out)
}
