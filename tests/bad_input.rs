//! Bad specs get a clear terminal condition and an Event, or are refused at
//! admission; none is retried for ever or silently ignored.

mod support;

use serde_json::json;
use support::*;
use terrane_api::*;

async fn refused<K>(api: &kube::Api<K>, name: &str, patch: serde_json::Value) -> String
where
    K: Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    match merge(api, name, patch.clone()).await {
        Ok(_) => panic!("the apiserver accepted {patch} on {name}"),
        Err(e) => e.to_string(),
    }
}

#[tokio::test]
async fn a_fixed_ip_already_in_use_is_invalid_configuration() {
    let env = Env::new("bad-ip").await;
    create(&env.api::<Network>(), terrane_obj("Network", "n", json!({"resource": {}}))).await;
    create(
        &env.api::<Subnet>(),
        terrane_obj("Subnet", "n", json!({"resource": {"networkRef": {"name": "n"}, "cidr": "10.42.0.0/24"}})),
    )
    .await;
    let ports = env.api::<Port>();
    let fixed = json!({"resource": {"networkRef": {"name": "n"}, "fixedIps": [{"subnetRef": {"name": "n"}, "ipAddress": "10.42.0.50"}]}});
    create(&ports, terrane_obj("Port", "first", fixed.clone())).await;
    wait_ready(&ports, "first").await;
    create(&ports, terrane_obj("Port", "second", fixed)).await;
    let second = wait_reason(&ports, "second", "InvalidConfiguration", "10.42.0.50").await;
    assert!(second.status.as_ref().is_some_and(|s| s.id.is_none()), "1. no port was made for it");
    let net = id_of(&wait_ready(&env.api::<Network>(), "n").await);
    let holders = env
        .cloud
        .get(terrane_openstack::Service::Network, &format!("/v2.0/ports?network_id={net}"))
        .await
        .expect("list ports");
    assert_eq!(holders.body["ports"].as_array().map(Vec::len), Some(1), "1. one port on the network: the first");
    let events = env.events("second").await;
    assert!(
        events.iter().any(|e| e.starts_with("InvalidConfiguration") && e.contains("10.42.0.50")),
        "2. an Event says so: {events:?}"
    );
    env.teardown().await;
}

#[tokio::test]
async fn a_key_pair_whose_secret_name_is_too_long_is_invalid_configuration() {
    let env = Env::new("bad-key").await;
    let name = format!("k{}", "a".repeat(249));
    let keys = env.api::<KeyPair>();
    create(&keys, terrane_obj("KeyPair", &name, json!({"resource": {"name": unique("long")}}))).await;
    wait_reason(&keys, &name, "InvalidConfiguration", "privateKeySecretName").await;
    let events = env.events(&name).await;
    assert!(events.iter().any(|e| e.starts_with("InvalidConfiguration")), "1. an Event says so: {events:?}");
    env.teardown().await;
}

#[tokio::test]
async fn repeated_security_group_rules_are_invalid_configuration() {
    let env = Env::new("bad-rules").await;
    let groups = env.api::<SecurityGroup>();
    create(
        &groups,
        terrane_obj(
            "SecurityGroup",
            "g",
            json!({"resource": {"rules": [
        {"protocol": "tcp", "portRangeMin": 22, "portRangeMax": 22, "remoteIpPrefix": "10.0.0.0/8"},
        {"direction": "egress"},
        {"protocol": "tcp", "portRangeMin": 22, "portRangeMax": 22, "remoteIpPrefix": "10.1.2.3/8"}]}}),
        ),
    )
    .await;
    let g = wait_reason(&groups, "g", "InvalidConfiguration", "rules[2] repeats rules[0]").await;
    assert!(g.status.as_ref().is_some_and(|s| s.id.is_none()), "1. no group was created");
    let events = env.events("g").await;
    assert!(
        events.iter().any(|e| e.starts_with("InvalidConfiguration") && e.contains("rules[2]")),
        "2. an Event says so: {events:?}"
    );
    env.teardown().await;
}

#[tokio::test]
async fn immutable_fields_cannot_be_changed_added_or_removed() {
    let env = Env::without_controller("immutable").await;
    let servers = env.api::<Server>();
    create(&servers, terrane_obj("Server", "s", json!({"resource": {"flavorRef": {"name": "f"}, "imageRef": {"name": "i"}, "networks": [{"networkRef": {"name": "n"}}]}}))).await;
    let e =
        refused(&servers, "s", json!({"spec": {"resource": {"imageRef": null, "bootVolumeRef": {"name": "v"}}}})).await;
    assert!(
        e.contains("cannot switch between imageRef and bootVolumeRef"),
        "1. imageRef → bootVolumeRef is refused: {e}"
    );
    let e = refused(&servers, "s", json!({"spec": {"resource": {"keyPairRef": {"name": "k"}}}})).await;
    assert!(e.contains("keyPairRef is immutable"), "2. adding a key pair is refused: {e}");

    let subnets = env.api::<Subnet>();
    create(
        &subnets,
        terrane_obj("Subnet", "v4", json!({"resource": {"networkRef": {"name": "n"}, "cidr": "10.43.0.0/24"}})),
    )
    .await;
    let e = refused(&subnets, "v4", json!({"spec": {"resource": {"ipVersion": 4}}})).await;
    assert!(e.contains("ipVersion is immutable"), "3. adding ipVersion is refused: {e}");
    create(&subnets, terrane_obj("Subnet", "v6", json!({"resource": {"networkRef": {"name": "n"}, "cidr": "fc00:43::/64", "ipVersion": 6, "ipv6AddressMode": "slaac", "ipv6RaMode": "slaac"}}))).await;
    let e = refused(&subnets, "v6", json!({"spec": {"resource": {"ipv6AddressMode": "dhcpv6-stateful"}}})).await;
    assert!(e.contains("ipv6AddressMode is immutable"), "4. changing ipv6AddressMode is refused: {e}");
    let e = refused(&subnets, "v6", json!({"spec": {"resource": {"ipv6RaMode": null}}})).await;
    assert!(e.contains("ipv6RaMode is immutable"), "5. removing ipv6RaMode is refused: {e}");
    let e = refused(&subnets, "v6", json!({"spec": {"resource": {"ipVersion": 4}}})).await;
    assert!(e.contains("ipVersion is immutable"), "6. changing ipVersion is refused: {e}");

    let groups = env.api::<SecurityGroup>();
    create(&groups, terrane_obj("SecurityGroup", "g", json!({"resource": {"stateful": true}}))).await;
    let e = refused(&groups, "g", json!({"spec": {"resource": {"stateful": false}}})).await;
    assert!(e.contains("stateful is immutable"), "7. changing stateful is refused: {e}");
    let e = refused(&groups, "g", json!({"spec": {"resource": {"stateful": null}}})).await;
    assert!(e.contains("stateful is immutable"), "8. removing stateful is refused: {e}");

    let keys = env.api::<KeyPair>();
    create(&keys, terrane_obj("KeyPair", "k", json!({"resource": {}}))).await;
    let e = refused(&keys, "k", json!({"spec": {"resource": {"publicKey": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB"}}}))
        .await;
    assert!(e.contains("publicKey is immutable"), "9. adding a public key later is refused: {e}");
    // Mutable fields still change.
    merge(&servers, "s", json!({"spec": {"resource": {"tags": ["x"]}}})).await.expect("10. a mutable field changes");
    env.teardown().await;
}
