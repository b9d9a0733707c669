//! Subnet against the real ground: references, guards, admission and immutability.

mod support;

use serde_json::json;
use support::*;
use terrane_api::{Network, Subnet};
use terrane_openstack::Service;

fn network(name: &str) -> serde_json::Value {
    json!({"apiVersion": "terrane.dev/v1alpha1", "kind": "Network", "metadata": {"name": name},
           "spec": {"providerConfigRef": {"name": PROVIDER}, "resource": {}}})
}

fn subnet(name: &str, resource: serde_json::Value) -> serde_json::Value {
    json!({"apiVersion": "terrane.dev/v1alpha1", "kind": "Subnet", "metadata": {"name": name},
           "spec": {"providerConfigRef": {"name": PROVIDER}, "resource": resource}})
}

#[tokio::test]
async fn waits_for_its_network_then_guards_it_from_deletion() {
    let env = Env::new("subnet-deps").await;
    let (networks, subnets) = (env.api::<Network>(), env.api::<Subnet>());
    create(
        &subnets,
        subnet(
            "app",
            json!({"networkRef": {"name": "app"}, "cidr": "10.20.0.0/24",
        "gatewayIp": "10.20.0.1", "allocationPools": [{"start": "10.20.0.10", "end": "10.20.0.99"}],
        "dnsNameservers": ["10.20.0.53"], "hostRoutes": [{"destination": "192.168.0.0/16", "nexthop": "10.20.0.254"}]}),
        ),
    )
    .await;
    wait_reason(&subnets, "app", "Waiting", "Waiting on Network/app (not found)").await;
    create(&networks, network("app")).await;
    let s = wait_ready(&subnets, "app").await;
    let net_id = id_of(&wait_ready(&networks, "app").await);
    let cloud = neutron_get(&env.cloud, "subnets", "subnet", &id_of(&s)).await.expect("1. the subnet exists");
    assert_eq!(cloud["network_id"].as_str(), Some(net_id.as_str()), "2. on the referenced network");
    assert_eq!(cloud["allocation_pools"], json!([{"start": "10.20.0.10", "end": "10.20.0.99"}]));
    assert_eq!(cloud["host_routes"], json!([{"destination": "192.168.0.0/16", "nexthop": "10.20.0.254"}]));

    merge(
        &subnets,
        "app",
        json!({"spec": {"resource": {"dnsNameservers": ["10.20.0.54", "10.20.0.55"], "enableDhcp": false}}}),
    )
    .await
    .expect("patch");
    wait_ready(&subnets, "app").await;
    let cloud = neutron_get(&env.cloud, "subnets", "subnet", &id_of(&s)).await.expect("exists");
    assert_eq!(
        (cloud["dns_nameservers"].clone(), cloud["enable_dhcp"].clone()),
        (json!(["10.20.0.54", "10.20.0.55"]), json!(false)),
        "3. updated in place"
    );

    networks.delete("app", &Default::default()).await.expect("delete network");
    wait_reason(&networks, "app", "Waiting", "Subnet/app").await;
    assert!(
        neutron_get(&env.cloud, "networks", "network", &net_id).await.is_some(),
        "4. the network stays while a Subnet references it"
    );
    subnets.delete("app", &Default::default()).await.expect("delete subnet");
    wait_gone(&networks, "app", 60).await;
    assert!(
        neutron_get(&env.cloud, "networks", "network", &net_id).await.is_none(),
        "5. then both are gone from the cloud"
    );
    env.teardown().await;
}

#[tokio::test]
async fn bad_input_is_refused_at_admission_with_the_field_named() {
    let env = Env::without_controller("subnet-admission").await;
    let subnets = env.api::<Subnet>();
    let cases = [
        (json!({"networkRef": {"name": "n"}, "cidr": "10.0.0.300/24"}), "cidr must be a CIDR"),
        (
            json!({"networkRef": {"name": "n"}, "cidr": "10.0.0.0/24", "gatewayIp": "10.9.9.1"}),
            "gatewayIp must be inside cidr",
        ),
        (json!({"networkRef": {"name": "n"}, "cidr": "10.0.0.0/24", "ipVersion": 6}), "ipVersion does not match"),
        (
            json!({"networkRef": {"name": "n"}, "cidr": "10.0.0.0/24", "dnsNameservers": ["not-an-ip"]}),
            "dnsNameservers must be IP addresses",
        ),
        (
            json!({"networkRef": {"name": "n"}, "cidr": "10.0.0.0/24", "gatewayIp": "10.0.0.1", "disableGateway": true}),
            "exclude each other",
        ),
    ];
    for (i, (resource, message)) in cases.into_iter().enumerate() {
        let error = create_rejected(&subnets, subnet(&format!("bad-{i}"), resource)).await;
        assert!(error.contains(message), "case {i}: expected {message:?} in {error}");
    }
    let error = create_rejected(
        &subnets,
        json!({"apiVersion": "terrane.dev/v1alpha1", "kind": "Subnet", "metadata": {"name": "empty"},
        "spec": {"providerConfigRef": {"name": PROVIDER}}}),
    )
    .await;
    assert!(error.contains("spec needs resource, import, or both"), "{error}");

    create(&subnets, subnet("ok", json!({"networkRef": {"name": "n"}, "cidr": "10.0.0.0/24"}))).await;
    let error = merge(&subnets, "ok", json!({"spec": {"resource": {"cidr": "10.0.1.0/24"}}}))
        .await
        .expect_err("cidr change refused");
    assert!(error.to_string().contains("cidr is immutable"), "{error}");
    let error = merge(&subnets, "ok", json!({"spec": {"resource": {"networkRef": {"name": "other"}}}}))
        .await
        .expect_err("network change refused");
    assert!(error.to_string().contains("networkRef is immutable"), "{error}");
    env.teardown().await;
}

#[tokio::test]
async fn an_imported_subnet_with_another_cidr_is_a_terminal_condition() {
    let env = Env::new("subnet-import").await;
    let name = unique("imp");
    let net =
        env.cloud.post(Service::Network, "/v2.0/networks", &json!({"network": {"name": name}})).await.expect("network");
    let net_id = net.body["network"]["id"].as_str().expect("id").to_string();
    let sub = env
        .cloud
        .post(
            Service::Network,
            "/v2.0/subnets",
            &json!({"subnet": {"name": name, "network_id": net_id, "ip_version": 4, "cidr": "10.30.0.0/24"}}),
        )
        .await
        .expect("subnet");
    let sub_id = sub.body["subnet"]["id"].as_str().expect("id").to_string();
    let networks = env.api::<Network>();
    create(&networks, json!({"apiVersion": "terrane.dev/v1alpha1", "kind": "Network", "metadata": {"name": "imp"},
        "spec": {"providerConfigRef": {"name": PROVIDER}, "managementPolicy": "ObserveOnly", "import": {"id": net_id}}})).await;
    let subnets = env.api::<Subnet>();
    create(&subnets, json!({"apiVersion": "terrane.dev/v1alpha1", "kind": "Subnet", "metadata": {"name": "imp"},
        "spec": {"providerConfigRef": {"name": PROVIDER}, "deletionPolicy": "Orphan", "import": {"filter": {"name": name}},
                 "resource": {"networkRef": {"name": "imp"}, "cidr": "10.31.0.0/24"}}})).await;
    let s = wait_reason(
        &subnets,
        "imp",
        "InvalidConfiguration",
        "cidr is \"10.30.0.0/24\" in the cloud but the spec asks for \"10.31.0.0/24\"",
    )
    .await;
    assert_eq!(s.status.and_then(|s| s.id), Some(sub_id.clone()), "1. the import itself succeeded");
    assert!(env.events("imp").await.iter().any(|e| e.starts_with("InvalidConfiguration")), "2. an Event says so too");
    subnets.delete("imp", &Default::default()).await.expect("delete");
    wait_gone(&subnets, "imp", 30).await;
    env.cloud.delete(Service::Network, &format!("/v2.0/networks/{net_id}")).await.expect("clean up");
    env.teardown().await;
}

#[tokio::test]
async fn ipv6_subnet_with_slaac() {
    let env = Env::new("subnet-v6").await;
    create(&env.api::<Network>(), network("v6")).await;
    create(
        &env.api::<Subnet>(),
        subnet(
            "v6",
            json!({"networkRef": {"name": "v6"}, "cidr": "2001:db8:40::/64",
        "ipv6AddressMode": "slaac", "ipv6RaMode": "slaac", "dnsNameservers": ["2001:db8::53"]}),
        ),
    )
    .await;
    let s = wait_ready(&env.api::<Subnet>(), "v6").await;
    let cloud = neutron_get(&env.cloud, "subnets", "subnet", &id_of(&s)).await.expect("1. the subnet exists");
    assert_eq!(
        (cloud["ip_version"].as_i64(), cloud["ipv6_address_mode"].as_str(), cloud["ipv6_ra_mode"].as_str()),
        (Some(6), Some("slaac"), Some("slaac")),
        "2. IPv6 with the asked modes"
    );
    let error = create_rejected(
        &env.api::<Subnet>(),
        subnet("v4-modes", json!({"networkRef": {"name": "v6"}, "cidr": "10.0.0.0/24", "ipv6AddressMode": "slaac"})),
    )
    .await;
    assert!(error.contains("need an IPv6 cidr"), "3. IPv6 modes on an IPv4 cidr are refused: {error}");
    env.teardown().await;
}
