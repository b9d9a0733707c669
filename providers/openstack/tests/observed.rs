//! Every kind's observed state reads back from what it writes to
//! `status.resource`: the camelCase form other kinds read through
//! `ResolvedRefs::get`, from an answer in the cloud's own spelling.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use terrane_openstack::kinds::{
    flavor::RemoteFlavor, floating_ip::RemoteFloatingIp, image::RemoteImage, key_pair::RemoteKeyPair,
    network::RemoteNetwork, port::RemotePort, record_set::RemoteRecordSet, router::RemoteRouter,
    router_interface::RemoteRouterInterface, security_group::RemoteSecurityGroup, server::RemoteServer,
    subnet::RemoteSubnet, subnet_pool::RemoteSubnetPool, volume::RemoteVolume, zone::RemoteZone,
};

/// Parses `cloud`, writes it as status shows it, reads that back; returns the status form.
fn status_form<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(cloud: Value) -> Value {
    let observed: T = serde_json::from_value(cloud).expect("the cloud's answer parses");
    let shown = serde_json::to_value(&observed).expect("serializes");
    let back: T = serde_json::from_value(shown.clone()).expect("status.resource reads back");
    assert_eq!(back, observed);
    shown
}

#[test]
fn neutron_kinds_read_back_from_status() {
    let fip = status_form::<RemoteFloatingIp>(json!({
        "id": "f1", "floating_ip_address": "172.24.4.9", "floating_network_id": "n1",
        "port_id": "p1", "fixed_ip_address": "10.0.0.5", "router_id": null, "status": "ACTIVE", "description": ""
    }));
    assert_eq!(fip["floatingIpAddress"], "172.24.4.9");
    let net = status_form::<RemoteNetwork>(json!({
        "id": "n1", "name": "web", "admin_state_up": true, "mtu": 1450, "port_security_enabled": true,
        "router:external": true, "subnets": ["s1"], "project_id": "p"
    }));
    assert_eq!((&net["external"], &net["adminStateUp"]), (&json!(true), &json!(true)));
    let port = status_form::<RemotePort>(json!({
        "id": "p1", "name": "a", "network_id": "n1", "mac_address": "fa:16:3e:00:00:01",
        "fixed_ips": [{"subnet_id": "s1", "ip_address": "10.0.0.5"}],
        "allowed_address_pairs": [{"ip_address": "10.0.0.0/24", "mac_address": null}],
        "security_groups": ["g1"], "device_id": "", "device_owner": ""
    }));
    assert_eq!(port["fixedIps"][0]["ipAddress"], "10.0.0.5");
    let subnet = status_form::<RemoteSubnet>(json!({
        "id": "s1", "name": "a", "network_id": "n1", "cidr": "10.0.0.0/24", "ip_version": 4,
        "gateway_ip": "10.0.0.1", "enable_dhcp": true,
        "allocation_pools": [{"start": "10.0.0.2", "end": "10.0.0.254"}],
        "dns_nameservers": [], "host_routes": [{"destination": "0.0.0.0/0", "nexthop": "10.0.0.1"}],
        "ipv6_address_mode": null, "ipv6_ra_mode": null, "project_id": "p"
    }));
    assert_eq!(subnet["gatewayIp"], "10.0.0.1");
    let pool = status_form::<RemoteSubnetPool>(json!({
        "id": "sp1", "name": "pool", "prefixes": ["10.230.0.0/16"], "ip_version": 4,
        "default_prefixlen": "24", "min_prefixlen": 8, "max_prefixlen": 32, "project_id": "p"
    }));
    assert_eq!(pool["defaultPrefixLength"], 24);
    let router = status_form::<RemoteRouter>(json!({
        "id": "r1", "name": "edge", "admin_state_up": true, "project_id": "p",
        "external_gateway_info": {"network_id": "n1", "enable_snat": true}
    }));
    assert_eq!(router["externalGatewayInfo"]["networkId"], "n1");
    let group = status_form::<RemoteSecurityGroup>(json!({
        "id": "g1", "name": "web", "stateful": true, "security_group_rules": [{
            "id": "r1", "direction": "ingress", "ethertype": "IPv4", "protocol": "tcp",
            "port_range_min": 443, "port_range_max": 443, "remote_ip_prefix": "0.0.0.0/0", "remote_group_id": null
        }]
    }));
    assert_eq!(group["securityGroupRules"][0]["portRangeMin"], 443);
}

#[test]
fn nova_glance_cinder_and_designate_kinds_read_back_from_status() {
    let flavor = status_form::<RemoteFlavor>(json!({
        "id": "1", "name": "m1.tiny", "vcpus": 1, "ram": 512, "disk": 1,
        "OS-FLV-EXT-DATA:ephemeral": 0, "swap": 0, "os-flavor-access:is_public": false
    }));
    assert_eq!(flavor["isPublic"], false);
    let key = status_form::<RemoteKeyPair>(json!({"name": "k", "public_key": "ssh-ed25519 AAAA", "type": "ssh"}));
    assert_eq!((&key["publicKey"], &key["keyType"]), (&json!("ssh-ed25519 AAAA"), &json!("ssh")));
    let image = status_form::<RemoteImage>(json!({
        "id": "i1", "name": "tiny-raw", "status": "active", "disk_format": "raw", "container_format": "bare",
        "visibility": "shared", "min_disk": 1, "min_ram": 0, "size": 1024, "tags": [], "hw_disk_bus": "scsi"
    }));
    assert_eq!((&image["diskFormat"], &image["hw_disk_bus"]), (&json!("raw"), &json!("scsi")));
    let volume = status_form::<RemoteVolume>(json!({
        "id": "v1", "name": "data", "status": "available", "size": 1, "volume_type": "lvm",
        "availability_zone": "nova", "metadata": {"a": "b"}, "volume_image_metadata": {"image_id": "i1"},
        "bootable": "true"
    }));
    assert_eq!(volume["volumeImageMetadata"]["image_id"], "i1", "map keys are the cloud's, not renamed");
    let zone = status_form::<RemoteZone>(json!({
        "id": "z1", "name": "example.org.", "email": "a@example.org", "ttl": 300, "status": "ACTIVE",
        "action": "NONE", "serial": 1
    }));
    assert_eq!(zone["name"], "example.org.");
    let records = status_form::<RemoteRecordSet>(json!({
        "id": "r1", "zone_id": "z1", "zone_name": "example.org.", "name": "www.example.org.", "type": "A",
        "records": ["10.0.0.5"], "ttl": null, "status": "ACTIVE", "action": "NONE"
    }));
    assert_eq!((&records["zoneName"], &records["type"]), (&json!("example.org."), &json!("A")));
}

#[test]
fn kinds_parsed_by_hand_read_back_from_status() {
    // Server and RouterInterface are assembled from several cloud fields,
    // so only their status form is read.
    let server = status_form::<RemoteServer>(json!({
        "id": "s1", "name": "vm", "status": "ACTIVE", "taskState": null, "flavor": "m1.tiny", "imageId": "i1",
        "keyName": null, "availabilityZone": "nova", "metadata": {}, "tags": [], "securityGroups": ["default"],
        "addresses": [{"network": "web", "addr": "10.0.0.5", "version": 4, "type": "fixed"}],
        "volumes": [], "fault": null
    }));
    assert_eq!(server["addresses"][0]["type"], "fixed");
    let iface = status_form::<RemoteRouterInterface>(
        json!({"id": "p1", "routerId": "r1", "subnetId": "s1", "ipAddress": "10.0.0.1"}),
    );
    assert_eq!(iface["routerId"], "r1");
}
