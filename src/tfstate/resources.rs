//! One Terraform OpenStack resource type → one Terrane kind: the fields of
//! `spec.resource` from the state's attributes, references by name.
//! Fields the state does not record faithfully (a server's user data is
//! kept as a hash) are left out: left out, they keep the cloud's value.

use serde_json::{Map, Value, json};

use super::{Names, TfObject};

/// The Terrane kind of a Terraform resource type.
pub(super) fn kind_of(type_: &str) -> Option<&'static str> {
    Some(match type_ {
        "openstack_networking_network_v2" => "Network",
        "openstack_networking_subnet_v2" => "Subnet",
        "openstack_networking_router_v2" => "Router",
        "openstack_networking_router_interface_v2" => "RouterInterface",
        "openstack_networking_port_v2" => "Port",
        "openstack_networking_secgroup_v2" => "SecurityGroup",
        "openstack_networking_floatingip_v2" => "FloatingIP",
        "openstack_compute_instance_v2" => "Server",
        "openstack_compute_keypair_v2" => "KeyPair",
        "openstack_blockstorage_volume_v3" => "Volume",
        "openstack_dns_zone_v2" => "Zone",
        "openstack_dns_recordset_v2" => "RecordSet",
        _ => return None,
    })
}

/// Kinds whose spec takes `import` (a router interface is found by its
/// router and subnet instead).
pub(super) fn importable(kind: &str) -> bool {
    kind != "RouterInterface"
}

/// Types folded into another object (rules into their group, an
/// association into its floating IP) rather than skipped.
pub(super) fn folded(type_: &str) -> bool {
    matches!(type_, "openstack_networking_secgroup_rule_v2" | "openstack_networking_floatingip_associate_v2")
}

/// The ID Terrane imports by: the state's `id` (a record set's is `zone/recordset`).
pub(super) fn cloud_id(o: &TfObject) -> Option<String> {
    let id = o.attr("id")?;
    Some(match o.type_.as_str() {
        "openstack_dns_recordset_v2" => id.rsplit('/').next().unwrap_or(id).to_string(),
        _ => id.to_string(),
    })
}

/// The object's name: the Terraform resource name (and index).
pub(super) fn object_name(o: &TfObject) -> String {
    o.name.clone()
}

/// Copies the non-empty string attribute `from` to `to`.
fn text(out: &mut Map<String, Value>, o: &TfObject, from: &str, to: &str) {
    if let Some(v) = o.attr(from) {
        out.insert(to.into(), json!(v));
    }
}

fn boolean(out: &mut Map<String, Value>, o: &TfObject, from: &str, to: &str) {
    if let Some(v) = o.attributes[from].as_bool() {
        out.insert(to.into(), json!(v));
    }
}

/// A positive integer attribute.
fn number(out: &mut Map<String, Value>, o: &TfObject, from: &str, to: &str) {
    if let Some(v) = o.attributes[from].as_i64().filter(|n| *n > 0) {
        out.insert(to.into(), json!(v));
    }
}

fn list<'a>(o: &'a TfObject, key: &str) -> impl Iterator<Item = &'a Value> {
    o.attributes[key].as_array().into_iter().flatten()
}

fn strings(o: &TfObject, key: &str) -> Vec<String> {
    list(o, key).filter_map(|v| v.as_str().map(str::to_string)).collect()
}

fn required<'a>(o: &'a TfObject, key: &str) -> Result<&'a str, String> {
    o.attr(key).ok_or_else(|| format!("has no {key}"))
}

/// A record set's name relative to its zone (`www`, `@` for the apex), as
/// the RecordSet kind takes it; the full name when the zone is not known.
fn relative_name(full: &str, zone: Option<&str>) -> String {
    let Some(zone) = zone else { return full.to_string() };
    let dotted = |s: &str| if s.ends_with('.') { s.to_string() } else { format!("{s}.") };
    let (full, zone) = (dotted(full), dotted(zone));
    if full == zone {
        return "@".into();
    }
    full.strip_suffix(&format!(".{zone}")).map(str::to_string).unwrap_or(full)
}

/// `spec.resource` of `o`; `all` is the whole state (for rules and associations).
pub(super) fn resource(o: &TfObject, all: &[TfObject], names: &mut Names) -> Result<Value, String> {
    let mut r = Map::new();
    match o.type_.as_str() {
        "openstack_networking_network_v2" => {
            text(&mut r, o, "name", "name");
            text(&mut r, o, "description", "description");
            boolean(&mut r, o, "admin_state_up", "adminStateUp");
            number(&mut r, o, "mtu", "mtu");
        }
        "openstack_networking_subnet_v2" => {
            r.insert("networkRef".into(), names.reference("Network", required(o, "network_id")?, "network"));
            text(&mut r, o, "name", "name");
            text(&mut r, o, "description", "description");
            r.insert("cidr".into(), json!(required(o, "cidr")?));
            number(&mut r, o, "ip_version", "ipVersion");
            if o.attributes["no_gateway"].as_bool() != Some(true) {
                text(&mut r, o, "gateway_ip", "gatewayIp");
            }
            boolean(&mut r, o, "enable_dhcp", "enableDhcp");
            let dns = strings(o, "dns_nameservers");
            if !dns.is_empty() {
                r.insert("dnsNameservers".into(), json!(dns));
            }
            let pools: Vec<Value> = list(o, "allocation_pool")
                .chain(list(o, "allocation_pools"))
                .map(|p| json!({"start": p["start"], "end": p["end"]}))
                .collect();
            if !pools.is_empty() {
                r.insert("allocationPools".into(), json!(pools));
            }
        }
        "openstack_networking_router_v2" => {
            text(&mut r, o, "name", "name");
            text(&mut r, o, "description", "description");
            boolean(&mut r, o, "admin_state_up", "adminStateUp");
            if let Some(net) = o.attr("external_network_id") {
                r.insert("externalGateway".into(), json!({"networkRef": names.reference("Network", net, "external")}));
            }
        }
        "openstack_networking_router_interface_v2" => {
            let subnet =
                o.attr("subnet_id").ok_or("a router interface by port_id only is not converted; give it subnet_id")?;
            r.insert("routerRef".into(), names.reference("Router", required(o, "router_id")?, "router"));
            r.insert("subnetRef".into(), names.reference("Subnet", subnet, "subnet"));
        }
        "openstack_networking_port_v2" => {
            r.insert("networkRef".into(), names.reference("Network", required(o, "network_id")?, "network"));
            text(&mut r, o, "name", "name");
            text(&mut r, o, "description", "description");
            boolean(&mut r, o, "admin_state_up", "adminStateUp");
            let mut fixed = Vec::new();
            for ip in list(o, "fixed_ip") {
                let mut entry = Map::new();
                if let Some(s) = ip["subnet_id"].as_str().filter(|s| !s.is_empty()) {
                    entry.insert("subnetRef".into(), names.reference("Subnet", s, "subnet"));
                }
                if let Some(a) = ip["ip_address"].as_str().filter(|s| !s.is_empty()) {
                    entry.insert("ipAddress".into(), json!(a));
                }
                fixed.push(Value::Object(entry));
            }
            if !fixed.is_empty() {
                r.insert("fixedIps".into(), json!(fixed));
            }
            let groups: Vec<Value> =
                strings(o, "security_group_ids").iter().map(|g| names.reference("SecurityGroup", g, "group")).collect();
            if !groups.is_empty() {
                r.insert("securityGroupRefs".into(), json!(groups));
            }
        }
        "openstack_networking_secgroup_v2" => {
            text(&mut r, o, "name", "name");
            text(&mut r, o, "description", "description");
            let id = required(o, "id")?;
            let mut rules: Vec<Value> = Vec::new();
            for rule in all.iter().filter(|x| x.type_ == "openstack_networking_secgroup_rule_v2") {
                if rule.attr("security_group_id") != Some(id) {
                    continue;
                }
                let mut out = Map::new();
                text(&mut out, rule, "direction", "direction");
                text(&mut out, rule, "ethertype", "ethertype");
                text(&mut out, rule, "protocol", "protocol");
                number(&mut out, rule, "port_range_min", "portRangeMin");
                number(&mut out, rule, "port_range_max", "portRangeMax");
                text(&mut out, rule, "remote_ip_prefix", "remoteIpPrefix");
                if let Some(g) = rule.attr("remote_group_id") {
                    out.insert("remoteGroupRef".into(), names.reference("SecurityGroup", g, "group"));
                }
                rules.push(Value::Object(out));
            }
            // Neutron gives every new group an egress rule per ethertype;
            // Terraform keeps them (unseen) unless told to delete them.
            if o.attributes["delete_default_rules"].as_bool() != Some(true) {
                for ethertype in ["IPv4", "IPv6"] {
                    rules.push(json!({"direction": "egress", "ethertype": ethertype}));
                }
            }
            r.insert("rules".into(), json!(rules));
        }
        "openstack_networking_floatingip_v2" => {
            let pool = required(o, "pool")?;
            let network = names.reference_by_filter(
                "Network",
                &format!("pool:{pool}"),
                json!({"name": pool, "external": true}),
                &super::object_name(pool, None),
            );
            r.insert("floatingNetworkRef".into(), network);
            text(&mut r, o, "address", "floatingIpAddress");
            text(&mut r, o, "description", "description");
            let address = o.attr("address");
            let associated = all
                .iter()
                .filter(|x| x.type_ == "openstack_networking_floatingip_associate_v2")
                .find(|x| x.attr("floating_ip").is_some() && x.attr("floating_ip") == address)
                .and_then(|x| x.attr("port_id"));
            if let Some(port) = o.attr("port_id").or(associated) {
                r.insert("portRef".into(), names.reference("Port", port, "port"));
            }
        }
        "openstack_compute_instance_v2" => {
            r.insert("name".into(), json!(required(o, "name")?));
            let flavor = names.reference_named("Flavor", required(o, "flavor_id")?, "flavor", o.attr("flavor_name"));
            r.insert("flavorRef".into(), flavor);
            if let Some(image) = o.attr("image_id") {
                r.insert("imageRef".into(), names.reference_named("Image", image, "image", o.attr("image_name")));
            }
            if let Some(key) = o.attr("key_pair") {
                let reference = match names.name_of("KeyPair", &format!("name:{key}")) {
                    Some(n) => json!({"name": n}),
                    None => names.reference("KeyPair", key, "keypair"),
                };
                r.insert("keyPairRef".into(), reference);
            }
            let mut networks = Vec::new();
            for n in list(o, "network") {
                if let Some(port) = n["port"].as_str().filter(|s| !s.is_empty()) {
                    networks.push(json!({"portRef": names.reference("Port", port, "port")}));
                } else if let Some(uuid) = n["uuid"].as_str().filter(|s| !s.is_empty()) {
                    let mut entry = json!({"networkRef": names.reference("Network", uuid, "network")});
                    if let Some(ip) = n["fixed_ip_v4"].as_str().filter(|s| !s.is_empty()) {
                        entry["fixedIp"] = json!(ip);
                    }
                    networks.push(entry);
                }
            }
            r.insert("networks".into(), json!(networks));
            let metadata = o.attributes["metadata"].as_object().filter(|m| !m.is_empty());
            if let Some(m) = metadata {
                r.insert("metadata".into(), Value::Object(m.clone()));
            }
        }
        "openstack_compute_keypair_v2" => {
            text(&mut r, o, "name", "name");
            r.insert("publicKey".into(), json!(required(o, "public_key")?.trim()));
        }
        "openstack_blockstorage_volume_v3" => {
            text(&mut r, o, "name", "name");
            r.insert("size".into(), json!(o.attributes["size"].as_i64().ok_or("has no size")?));
            text(&mut r, o, "description", "description");
            text(&mut r, o, "volume_type", "volumeType");
            if let Some(image) = o.attr("image_id") {
                r.insert("imageRef".into(), names.reference("Image", image, "image"));
            }
        }
        "openstack_dns_zone_v2" => {
            r.insert("name".into(), json!(required(o, "name")?));
            r.insert("email".into(), json!(required(o, "email")?));
            number(&mut r, o, "ttl", "ttl");
            text(&mut r, o, "description", "description");
        }
        "openstack_dns_recordset_v2" => {
            let zone_id = required(o, "zone_id")?;
            r.insert("zoneRef".into(), names.reference("Zone", zone_id, "zone"));
            let zone = all.iter().find(|z| z.type_ == "openstack_dns_zone_v2" && z.attr("id") == Some(zone_id));
            r.insert("name".into(), json!(relative_name(required(o, "name")?, zone.and_then(|z| z.attr("name")))));
            r.insert("type".into(), json!(required(o, "type")?));
            r.insert("records".into(), json!(strings(o, "records")));
            number(&mut r, o, "ttl", "ttl");
            text(&mut r, o, "description", "description");
        }
        other => return Err(format!("{other} is not converted")),
    }
    Ok(Value::Object(r))
}

#[cfg(test)]
mod tests {
    use super::relative_name;

    #[test]
    fn record_names_are_made_relative_to_their_zone() {
        assert_eq!(relative_name("www.example.org.", Some("example.org.")), "www");
        assert_eq!(relative_name("a.b.example.org.", Some("example.org")), "a.b");
        assert_eq!(relative_name("example.org.", Some("example.org.")), "@");
        assert_eq!(relative_name("www.other.org.", Some("example.org.")), "www.other.org.");
        assert_eq!(relative_name("www.example.org.", None), "www.example.org.");
    }
}
