//! Drift checks of many objects read one paged list per kind: at rest the
//! cloud sees far fewer requests than one GET per object per period, and a
//! change made by hand is still repaired. (The controllers of the other
//! tests manage fewer objects of a kind than the list threshold, so their
//! drift checks are GETs by ID.)

mod support;

use std::time::{Duration, Instant};

use serde_json::json;
use support::*;
use terrane_api::Network;
use terrane_openstack::Service;

/// The tests' drift-check period (see `ControllerProcess::start_with`).
const PERIOD: Duration = Duration::from_secs(4);
const NETWORKS: u64 = 12;

#[tokio::test]
async fn drift_checks_of_many_networks_read_one_list_and_still_repair_drift() {
    let mut env = Env::without_controller("drift-list").await;
    env.start_controller_with(&[], &["--drift-list-min-objects", "5"]);
    let networks = env.api::<Network>();
    for i in 0..NETWORKS {
        create(&networks, terrane_obj("Network", &format!("n{i}"), json!({"resource": {"description": "v1"}}))).await;
    }
    for i in 0..NETWORKS {
        wait_ready(&networks, &format!("n{i}")).await;
    }
    tokio::time::sleep(PERIOD * 2).await;
    let before = controller_requests(&env, "network", "GET").await;
    tokio::time::sleep(PERIOD * 3).await;
    let gets = controller_requests(&env, "network", "GET").await - before;
    // By ID this would be one GET per network per period: 36.
    println!("{gets} Neutron GETs for {NETWORKS} Ready networks over three drift-check periods");
    assert!(gets <= NETWORKS * 3 / 2, "1. at rest the checks share lists: {gets} GETs for {NETWORKS} networks");

    let id = id_of(&networks.get("n3").await.expect("n3"));
    env.cloud
        .put(Service::Network, &format!("/v2.0/networks/{id}"), &json!({"network": {"description": "by hand"}}))
        .await
        .expect("change the network by hand");
    let deadline = Instant::now() + PERIOD * 8;
    loop {
        let cloud = neutron_get(&env.cloud, "networks", "network", &id).await.expect("the network exists");
        if cloud["description"].as_str().is_some_and(|d| d.starts_with("v1")) {
            break;
        }
        assert!(Instant::now() < deadline, "2. the change by hand is repaired from the list: {cloud}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let events = env.events("n3").await;
    assert!(events.iter().any(|e| e.starts_with("DriftCorrected")), "3. reported as drift: {events:?}");
    env.teardown().await;
}
