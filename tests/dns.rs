//! Zone and RecordSet against the real Designate and bind9: records reach
//! ACTIVE and are answered by `dig @127.0.0.1`.

mod support;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::*;
use terrane_api::{RecordSet, Zone};
use terrane_openstack::Service;

fn obj(kind: &str, name: &str, resource: Value) -> Value {
    json!({"apiVersion": "terrane.dev/v1alpha1", "kind": kind, "metadata": {"name": name},
           "spec": {"providerConfigRef": {"name": PROVIDER}, "resource": resource}})
}

/// Polls `dig +short @127.0.0.1 NAME TYPE` until it answers `want` (sorted lines).
async fn wait_dig(name: &str, rtype: &str, want: &[&str]) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut want: Vec<String> = want.iter().map(|s| s.to_string()).collect();
    want.sort();
    loop {
        let out =
            std::process::Command::new("dig").args(["+short", "@127.0.0.1", name, rtype]).output().expect("run dig");
        let mut got: Vec<String> =
            String::from_utf8_lossy(&out.stdout).lines().map(str::to_string).filter(|l| !l.is_empty()).collect();
        got.sort();
        if got == want {
            return;
        }
        assert!(Instant::now() < deadline, "dig {name} {rtype}: {got:?}, want {want:?}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test]
async fn zone_and_records_are_served_updated_repaired_and_deleted() {
    let env = Env::new("dns").await;
    let zone_name = format!("{}.terrane.test.", unique("z"));
    create(
        &env.api::<RecordSet>(),
        obj(
            "RecordSet",
            "www",
            json!({"zoneRef": {"name": "z"}, "type": "A", "records": ["192.0.2.10", "192.0.2.11"], "ttl": 300}),
        ),
    )
    .await;
    wait_reason(&env.api::<RecordSet>(), "www", "Waiting", "Zone/z").await;
    create(
        &env.api::<Zone>(),
        obj("Zone", "z", json!({"name": zone_name, "email": "ops@terrane.test", "ttl": 600, "description": "web"})),
    )
    .await;
    let zone = wait_ready(&env.api::<Zone>(), "z").await;
    let rs = wait_ready(&env.api::<RecordSet>(), "www").await;
    let www = format!("www.{zone_name}");
    wait_dig(&www, "A", &["192.0.2.10", "192.0.2.11"]).await;
    create(
        &env.api::<RecordSet>(),
        obj(
            "RecordSet",
            "mail",
            json!({"zoneRef": {"name": "z"}, "name": "@", "type": "MX", "records": ["10 mail.terrane.test."]}),
        ),
    )
    .await;
    wait_ready(&env.api::<RecordSet>(), "mail").await;
    wait_dig(&zone_name, "MX", &["10 mail.terrane.test."]).await;

    merge(&env.api::<RecordSet>(), "www", json!({"spec": {"resource": {"records": ["192.0.2.20"]}}}))
        .await
        .expect("patch");
    wait_ready(&env.api::<RecordSet>(), "www").await;
    wait_dig(&www, "A", &["192.0.2.20"]).await;

    let (zone_id, rs_id) = (id_of(&zone), id_of(&rs));
    env.cloud
        .put(Service::Dns, &format!("/v2/zones/{zone_id}/recordsets/{rs_id}"), &json!({"records": ["198.51.100.1"]}))
        .await
        .expect("change behind Terrane's back");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !env.events("www").await.iter().any(|e| e.starts_with("DriftCorrected") && e.contains("records")) {
        assert!(Instant::now() < deadline, "drift of the records is repaired, with an event");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    wait_dig(&www, "A", &["192.0.2.20"]).await;

    let error = create_rejected(
        &env.api::<RecordSet>(),
        obj("RecordSet", "bad", json!({"zoneRef": {"name": "z"}, "type": "A", "records": ["2001:db8::1"]})),
    )
    .await;
    assert!(error.contains("A records must be IPv4 addresses"), "{error}");
    let error =
        create_rejected(&env.api::<Zone>(), obj("Zone", "bad", json!({"name": "no-dot.test", "email": "a@b.test"})))
            .await;
    assert!(error.contains("must be fully qualified"), "{error}");

    env.api::<Zone>().delete("z", &Default::default()).await.expect("delete zone");
    wait_reason(&env.api::<Zone>(), "z", "Waiting", "RecordSet/").await;
    env.teardown().await;
    let gone = env_zone_gone(&zone_id).await;
    assert!(gone, "the zone is deleted in Designate");
    wait_dig(&www, "A", &[]).await;
}

async fn env_zone_gone(id: &str) -> bool {
    let (cloud, _) = terrane_testground::cloud_client("demo").expect("client");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match cloud.get(Service::Dns, &format!("/v2/zones/{id}")).await {
            Err(e) if e.status() == Some(404) => return true,
            _ if Instant::now() > deadline => return false,
            _ => tokio::time::sleep(Duration::from_millis(500)).await,
        }
    }
}
