//! Reactions come from watches, not from polling: an object waiting on
//! another starts when that one changes, and fixing credentials wakes the
//! objects that use them. The controllers here run with the default
//! 600 s drift-check period, so nothing but a watch can explain a prompt
//! reaction.

mod support;

use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Secret;
use kube::api::{Patch, PatchParams};
use serde_json::json;
use support::*;
use terrane_api::*;

const SLOW_RESYNC: &[&str] = &["--resync-seconds", "600"];

fn ready_since<K: ManagedObject>(obj: &K) -> Option<k8s_openapi::jiff::Timestamp> {
    obj.status()?.condition(CONDITION_READY).filter(|c| c.status == "True").map(|c| c.last_transition_time.0)
}

#[tokio::test]
async fn a_subnet_naming_a_missing_network_warns_and_starts_as_soon_as_the_network_is_ready() {
    let mut env = Env::without_controller("watch-ref").await;
    env.start_controller_with(&[], SLOW_RESYNC);
    let subnets = env.api::<Subnet>();
    let spec = json!({"resource": {"networkRef": {"name": "late"}, "cidr": "10.61.0.0/24"}});
    create(&subnets, terrane_obj("Subnet", "s", spec)).await;
    wait_reason(&subnets, "s", "Waiting", "Network/late (not found)").await;
    let deadline = Instant::now() + Duration::from_secs(30);
    let warned = loop {
        let events = env.events("s").await;
        if let Some(e) = events.iter().find(|e| e.starts_with("ReferenceNotFound")) {
            break e.clone();
        }
        assert!(Instant::now() < deadline, "1. a Warning names the missing Network: {events:?}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert!(warned.contains("resource.networkRef names Network/late"), "1. {warned}");

    create(&env.api::<Network>(), terrane_obj("Network", "late", json!({"resource": {}}))).await;
    let network = wait_ready(&env.api::<Network>(), "late").await;
    let subnet = wait_ready(&subnets, "s").await;
    let (Some(n), Some(s)) = (ready_since(&network), ready_since(&subnet)) else { panic!("Ready times") };
    let lag = s.duration_since(n);
    println!("subnet Ready {lag:?} after its network");
    // Polling would have waited for the 30 s safety re-check at least.
    assert!(lag < k8s_openapi::jiff::SignedDuration::from_secs(15), "2. woken by the network's change: {lag:?}");
    env.teardown().await;
}

#[tokio::test]
async fn fixing_a_wrong_password_in_the_secret_wakes_the_objects_that_use_it() {
    let mut env = Env::without_controller("watch-cred").await;
    let good = terrane_testground::clouds_yaml_text().expect("ground clouds.yaml");
    let bad = good.replace("password: ground-demo", "password: not-the-password");
    assert_ne!(good, bad, "the ground's clouds.yaml has the demo password");
    let secrets = env.api::<Secret>();
    let set = |text: &str| json!({"stringData": {"clouds.yaml": text}});
    secrets.patch("ground-clouds", &PatchParams::default(), &Patch::Merge(set(&bad))).await.expect("break the Secret");
    env.start_controller_with(&[], SLOW_RESYNC);
    let networks = env.api::<Network>();
    create(&networks, terrane_obj("Network", "n", json!({"resource": {}}))).await;
    // A refused password is a terminal error: the next try would be at the 600 s resync.
    wait_reason(&networks, "n", "InvalidConfiguration", "authentication to Keystone failed").await;
    let fixed_at = Instant::now();
    secrets.patch("ground-clouds", &PatchParams::default(), &Patch::Merge(set(&good))).await.expect("fix the Secret");
    wait_for(&networks, "n", 60, "Ready after the fix", |n| n.status.as_ref().is_some_and(|s| s.is_ready())).await;
    println!("network Ready {:?} after the Secret was fixed", fixed_at.elapsed());
    env.teardown().await;
}
