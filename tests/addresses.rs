//! Addresses written in a non-canonical form (IPv6 as people write it,
//! CIDRs with host bits) converge with at most one update, then none at rest:
//! subnet gateway, allocation pools, DNS name servers and host routes; port
//! fixed IPs and allowed address pairs; security-group remote prefixes; AAAA
//! records.

mod support;

use std::time::Duration;

use serde_json::json;
use support::*;
use terrane_api::*;

/// Writes (PUT, POST, DELETE) the controller has sent to `service`.
async fn writes(env: &Env, service: &str) -> u64 {
    let mut n = 0;
    for method in ["PUT", "POST", "DELETE"] {
        n += controller_requests(env, service, method).await;
    }
    n
}

#[tokio::test]
async fn addresses_in_any_form_converge_and_stay_at_rest() {
    let env = Env::new("addr-forms").await;
    create(&env.api::<Network>(), terrane_obj("Network", "v6", json!({"resource": {}}))).await;
    create(
        &env.api::<Subnet>(),
        terrane_obj(
            "Subnet",
            "v6",
            json!({"resource": {
        "networkRef": {"name": "v6"}, "cidr": "fc00:74:0::/64", "gatewayIp": "fc00:74:0:0::1",
        "allocationPools": [{"start": "fc00:74::1:0:0:0", "end": "fc00:74::1:0:0:ff"}],
        "dnsNameservers": ["FC00:74::53"],
        "hostRoutes": [{"destination": "fc00:75:0::/64", "nexthop": "fc00:74:0::1:0:0:1"}]}}),
        ),
    )
    .await;
    create(&env.api::<SecurityGroup>(), terrane_obj("SecurityGroup", "v6", json!({"resource": {"rules": [
        {"ethertype": "IPv6", "protocol": "tcp", "portRangeMin": 22, "portRangeMax": 22, "remoteIpPrefix": "fc00:77:0::/64"},
        {"ethertype": "IPv4", "protocol": "tcp", "portRangeMin": 80, "portRangeMax": 80, "remoteIpPrefix": "192.0.2.7/24"}]}}))).await;
    create(
        &env.api::<Port>(),
        terrane_obj(
            "Port",
            "v6",
            json!({"resource": {
        "networkRef": {"name": "v6"}, "fixedIps": [{"subnetRef": {"name": "v6"}, "ipAddress": "fc00:74::1:0:0:a"}],
        "allowedAddressPairs": [{"ipAddress": "fc00:76:0::/64"}]}}),
        ),
    )
    .await;
    let zone = format!("{}.terrane.test.", unique("v6"));
    create(
        &env.api::<Zone>(),
        terrane_obj("Zone", "z", json!({"resource": {"name": zone, "email": "ops@example.org"}})),
    )
    .await;
    create(&env.api::<RecordSet>(), terrane_obj("RecordSet", "www", json!({"resource": {
        "zoneRef": {"name": "z"}, "name": "www", "type": "AAAA", "records": ["2001:DB8:0::1", "2001:db8:0:0:0:0:0:2"]}}))).await;
    wait_ready(&env.api::<Subnet>(), "v6").await;
    wait_ready(&env.api::<SecurityGroup>(), "v6").await;
    wait_ready(&env.api::<Port>(), "v6").await;
    wait_ready(&env.api::<RecordSet>(), "www").await;

    let subnet_updates = controller_requests(&env, "network", "PUT").await;
    assert!(subnet_updates <= 2, "1. at most one update each for the subnet and the port: {subnet_updates} PUTs");
    let (network, dns) = (writes(&env, "network").await, writes(&env, "dns").await);
    // Three resync periods (4 s each) of drift checks.
    tokio::time::sleep(Duration::from_secs(13)).await;
    assert_eq!(writes(&env, "network").await, network, "2. no Neutron write at rest");
    assert_eq!(writes(&env, "dns").await, dns, "3. no Designate write at rest");
    for (kind, name) in [("Subnet", "v6"), ("Port", "v6"), ("SecurityGroup", "v6"), ("RecordSet", "www")] {
        let events = env.events(name).await;
        assert!(!events.iter().any(|e| e.starts_with("DriftCorrected")), "4. {kind}/{name} saw no drift: {events:?}");
        assert!(
            events.iter().filter(|e| e.starts_with("Updated")).count() <= 1,
            "5. at most one update (a group's first rules): {events:?}"
        );
    }
    env.teardown().await;
}
