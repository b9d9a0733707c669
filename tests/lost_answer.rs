//! A create whose answer is lost must not make a second cloud object: the
//! service's API process is frozen (SIGSTOP) while the controller's create
//! is on its way, past the controller's request timeout, then resumed, so
//! the create lands late, as it does on a busy cloud. Also: a duplicate
//! carrying an object's marker is found and deleted, deletion removes every
//! object carrying the marker, and a delete refused because of use names
//! the user.

mod support;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::*;
use terrane_api::*;
use terrane_openstack::Service;
use terrane_openstack::rest::NOVA;

/// How long the API process stays frozen: past the controller's 8 s request
/// timeout, and below the 30 s timeout of the other tests' controllers.
const PAUSE: Duration = Duration::from_secs(12);
const TIMEOUT_ARGS: [&str; 2] = ["--cloud-timeout-seconds", "8"];

async fn tagged_servers(env: &Env, uid: &str) -> Vec<String> {
    let r = NOVA.get(&env.cloud, &format!("/servers/detail?tags=terrane-uid:{uid}")).await.expect("Nova answers");
    r["servers"].as_array().into_iter().flatten().filter_map(|s| s["id"].as_str().map(str::to_string)).collect()
}

async fn marked_networks(env: &Env, uid: &str) -> Vec<String> {
    let r = env.cloud.get(Service::Network, "/v2.0/networks").await.expect("Neutron answers");
    let marker = format!("[terrane-uid:{uid}]");
    r.body["networks"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|n| n["description"].as_str().is_some_and(|d| d.ends_with(&marker)))
        .filter_map(|n| n["id"].as_str().map(str::to_string))
        .collect()
}

/// Creates `value` while `service` is frozen, waits until the controller
/// reports the create as unanswered, resumes the service after [`PAUSE`].
async fn create_during_pause<K: ManagedObject>(
    api: &kube::Api<K>,
    service: &str,
    name: &str,
    value: Value,
) -> Duration {
    let paused = terrane_testground::pause(service).expect("freeze the service");
    let started = Instant::now();
    create(api, value).await;
    wait_for(api, name, 40, "a create without answer", |o| {
        o.status().and_then(|s| s.condition("Ready")).is_some_and(|c| c.message.contains("may still take effect"))
    })
    .await;
    let left = PAUSE.saturating_sub(started.elapsed());
    tokio::time::sleep(left).await;
    let paused_for = started.elapsed();
    paused.resume().expect("resume the service");
    paused_for
}

#[tokio::test]
async fn a_server_create_whose_answer_is_lost_makes_exactly_one_server() {
    let mut env = Env::without_controller("lost-server").await;
    env.start_controller_with(&[], &TIMEOUT_ARGS);
    create(
        &env.api::<Flavor>(),
        terrane_obj(
            "Flavor",
            "tiny",
            json!({"managementPolicy": "ObserveOnly", "import": {"filter": {"name": "m1.tiny"}}}),
        ),
    )
    .await;
    create(
        &env.api::<Image>(),
        terrane_obj(
            "Image",
            "os",
            json!({"managementPolicy": "ObserveOnly", "import": {"filter": {"name": "tiny-raw"}}}),
        ),
    )
    .await;
    create(&env.api::<Network>(), terrane_obj("Network", "n", json!({"resource": {}}))).await;
    create(
        &env.api::<Subnet>(),
        terrane_obj("Subnet", "n", json!({"resource": {"networkRef": {"name": "n"}, "cidr": "10.40.0.0/24"}})),
    )
    .await;
    wait_ready(&env.api::<Subnet>(), "n").await;
    wait_ready(&env.api::<Flavor>(), "tiny").await;
    wait_ready(&env.api::<Image>(), "os").await;

    let servers = env.api::<Server>();
    let spec = json!({"resource": {"flavorRef": {"name": "tiny"}, "imageRef": {"name": "os"}, "networks": [{"networkRef": {"name": "n"}}]}});
    let paused = create_during_pause(&servers, "nova-api", "vm", terrane_obj("Server", "vm", spec)).await;
    let vm = wait_ready(&servers, "vm").await;
    let uid = vm.metadata.uid.clone().expect("uid");
    assert_eq!(
        tagged_servers(&env, &uid).await,
        vec![id_of(&vm)],
        "1. exactly one server (nova-api frozen {paused:?}), the one in status.id"
    );
    // Past the controller's wait (2 × 8 s) and two resyncs: still one.
    tokio::time::sleep(Duration::from_secs(18)).await;
    assert_eq!(
        tagged_servers(&env, &uid).await,
        vec![id_of(&vm)],
        "2. still exactly one server after the wait has passed"
    );
    let events = env.events("vm").await;
    assert!(events.iter().any(|e| e.starts_with("Adopted")), "3. the late create was adopted: {events:?}");
    assert!(!events.iter().any(|e| e.starts_with("DuplicateDeleted")), "4. no second server was ever made: {events:?}");
    println!("nova-api frozen for {paused:?}; servers carrying the marker afterwards: 1");
    env.teardown().await;
}

#[tokio::test]
async fn a_network_create_whose_answer_is_lost_makes_exactly_one_network() {
    let mut env = Env::without_controller("lost-net").await;
    env.start_controller_with(&[], &TIMEOUT_ARGS);
    let networks = env.api::<Network>();
    let paused =
        create_during_pause(&networks, "neutron-server", "n", terrane_obj("Network", "n", json!({"resource": {}})))
            .await;
    let n = wait_ready(&networks, "n").await;
    let uid = n.metadata.uid.clone().expect("uid");
    assert_eq!(
        marked_networks(&env, &uid).await,
        vec![id_of(&n)],
        "1. exactly one network (neutron-server frozen {paused:?})"
    );
    tokio::time::sleep(Duration::from_secs(18)).await;
    assert_eq!(marked_networks(&env, &uid).await, vec![id_of(&n)], "2. still exactly one after the wait has passed");
    let events = env.events("n").await;
    assert!(events.iter().any(|e| e.starts_with("Adopted")), "3. the late create was adopted: {events:?}");
    println!("neutron-server frozen for {paused:?}; networks carrying the marker afterwards: 1");
    env.teardown().await;
}

async fn duplicate_network(env: &Env, uid: &str) -> String {
    let body = json!({"network": {"name": unique("dup"), "description": format!("[terrane-uid:{uid}]")}});
    let r = env.cloud.post(Service::Network, "/v2.0/networks", &body).await.expect("create a duplicate by hand");
    r.body["network"]["id"].as_str().expect("id").to_string()
}

#[tokio::test]
async fn a_duplicate_carrying_the_marker_is_deleted_and_deletion_takes_every_one() {
    let mut env = Env::new("dup-marker").await;
    let networks = env.api::<Network>();
    create(&networks, terrane_obj("Network", "n", json!({"resource": {}}))).await;
    let n = wait_ready(&networks, "n").await;
    let (id, uid) = (id_of(&n), n.metadata.uid.clone().expect("uid"));

    let dup = duplicate_network(&env, &uid).await;
    // Duplicate checks run at every sixth drift check: 24 s with the tests' 4 s resync.
    let deadline = Instant::now() + Duration::from_secs(60);
    while neutron_get(&env.cloud, "networks", "network", &dup).await.is_some() {
        assert!(Instant::now() < deadline, "1. the duplicate {dup} is deleted within six drift checks");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // The Event is written right after the delete.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let events = env.events("n").await;
        if events.iter().any(|e| e.starts_with("DuplicateDeleted") && e.contains(&dup)) {
            break;
        }
        assert!(Instant::now() < deadline, "2. an Event names the duplicate: {events:?}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(id_of(&wait_ready(&networks, "n").await), id, "3. the object keeps its own network");
    assert!(neutron_get(&env.cloud, "networks", "network", &id).await.is_some(), "3. which still exists");

    env.stop_controller();
    let dup = duplicate_network(&env, &uid).await;
    networks.delete("n", &Default::default()).await.expect("delete");
    env.start_controller(&[]);
    wait_gone(&networks, "n", 60).await;
    assert!(
        neutron_get(&env.cloud, "networks", "network", &id).await.is_none(),
        "4. the network in status.id is deleted"
    );
    assert!(
        neutron_get(&env.cloud, "networks", "network", &dup).await.is_none(),
        "5. and so is every other carrying the marker"
    );
    env.teardown().await;
}

#[tokio::test]
async fn a_subnet_or_group_delete_refused_while_in_use_names_the_port() {
    let env = Env::new("in-use").await;
    create(&env.api::<Network>(), terrane_obj("Network", "n", json!({"resource": {}}))).await;
    create(
        &env.api::<Subnet>(),
        terrane_obj("Subnet", "s", json!({"resource": {"networkRef": {"name": "n"}, "cidr": "10.41.0.0/24"}})),
    )
    .await;
    let subnets = env.api::<Subnet>();
    let s = wait_ready(&subnets, "s").await;
    let net = id_of(&wait_ready(&env.api::<Network>(), "n").await);
    let port = env
        .cloud
        .post(
            Service::Network,
            "/v2.0/ports",
            &json!({"port": {"network_id": net, "fixed_ips": [{"subnet_id": id_of(&s)}], "name": "by-hand"}}),
        )
        .await
        .expect("a port made outside Terrane");
    let port_id = port.body["port"]["id"].as_str().expect("id").to_string();
    subnets.delete("s", &Default::default()).await.expect("delete");
    wait_reason(&subnets, "s", "Waiting", &port_id).await;
    let events = env.events("s").await;
    assert!(
        events.iter().any(|e| e.contains(&port_id)),
        "1. an Event names the port that holds the subnet: {events:?}"
    );
    env.cloud.delete(Service::Network, &format!("/v2.0/ports/{port_id}")).await.expect("delete the port");
    wait_gone(&subnets, "s", 60).await;

    let groups = env.api::<SecurityGroup>();
    create(&groups, terrane_obj("SecurityGroup", "g", json!({"resource": {}}))).await;
    let g = id_of(&wait_ready(&groups, "g").await);
    let port = env
        .cloud
        .post(
            Service::Network,
            "/v2.0/ports",
            &json!({"port": {"network_id": net, "security_groups": [g], "name": "by-hand"}}),
        )
        .await
        .expect("a port");
    let port_id = port.body["port"]["id"].as_str().expect("id").to_string();
    groups.delete("g", &Default::default()).await.expect("delete");
    wait_reason(&groups, "g", "Waiting", &port_id).await;
    env.cloud.delete(Service::Network, &format!("/v2.0/ports/{port_id}")).await.expect("delete the port");
    wait_gone(&groups, "g", 60).await;
    env.teardown().await;
}
