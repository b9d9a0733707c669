//! `Cluster` with `backend: servers`, from deploy/examples/cluster.yaml, on
//! the real OpenStack. The test plays the booted machines: it reads the
//! control-plane Server's user data from Nova, starts a real kube-apiserver
//! with exactly the certificates and keys Terrane put there, and joins each
//! worker through the bootstrap token in its user data.

mod support;

use std::collections::BTreeSet;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Namespace, Secret};
use kube::api::{DeleteParams, ListParams};
use serde_json::json;
use support::*;
use terrane_api::{Cluster, Port, Server};
use terrane_openstack::rest::NOVA;
use terrane_testground::{CloudConfig, ControlPlaneMachine, GitServer};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The user data Nova holds for Server `name` (admin, microversion >= 2.3).
async fn user_data(env: &Env, name: &str) -> (String, CloudConfig) {
    let server = wait_ready(&env.api::<Server>(), name).await;
    let (admin, _) = terrane_testground::cloud_client("admin").expect("admin cloud");
    let body = NOVA.get(&admin, &format!("/servers/{}", id_of(&server))).await.expect("server");
    let encoded = body["server"]["OS-EXT-SRV-ATTR:user_data"].as_str().expect("user data shown to admin").to_string();
    let config = CloudConfig::from_user_data(&encoded).expect("gzipped cloud-config");
    (encoded, config)
}

async fn servers(env: &Env) -> BTreeSet<String> {
    env.api::<Server>()
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter_map(|s| s.metadata.name)
        .collect()
}

fn workers(c: &Cluster) -> (i32, i32) {
    c.status.as_ref().and_then(|s| s.workers.as_ref()).map(|w| (w.ready, w.desired)).unwrap_or_default()
}

async fn scale(env: &Env, replicas: i32) {
    merge(&env.api::<Cluster>(), "lab", json!({"spec": {"workers": [{"name": "workers", "replicas": replicas}]}}))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_cluster_boots_on_servers_with_terranes_pki_and_scales() {
    let env = Env::new("cluster-srv").await;
    let before = inventory(&env.cloud).await;
    let git = GitServer::start().expect("git server");
    let repo = git.create_repo("platform").unwrap();
    for file in ["namespaces.yaml", "crd.yaml", "widget.yaml", "web.yaml"] {
        let text =
            std::fs::read_to_string(format!("{}/deploy/examples/cluster-bootstrap/{file}", env!("CARGO_MANIFEST_DIR")))
                .unwrap();
        repo.write(&format!("clusters/lab/{file}"), &text).unwrap();
    }
    let commit = repo.commit("the lab's platform").unwrap();
    let port = free_port();
    let url = git.git_url(&repo);
    let started = Instant::now();
    let objects = apply_example_with(&env, "cluster.yaml", |doc| {
        if doc["kind"] == "Cluster" {
            doc["spec"]["controlPlaneEndpoint"] = json!({"host": "127.0.0.1", "port": port});
            doc["spec"]["argoCd"] = json!(true);
            let g = &mut doc["spec"]["bootstrap"]["git"];
            g["url"] = json!(url);
            g["interval"] = json!("5s");
            g.as_object_mut().unwrap().remove("secretRef");
        }
    })
    .await;
    assert_eq!(objects.len(), 5, "the example declares a network, a subnet, a flavor, an image and the cluster");

    // 1. The machines are ordinary Terrane objects owned by the Cluster.
    let (encoded, control_plane) = user_data(&env, "lab-cp-0").await;
    let expected: BTreeSet<String> = ["lab-cp-0", "lab-workers-0", "lab-workers-1"].map(String::from).into();
    assert_eq!(servers(&env).await, expected, "1. one control-plane and two worker Servers");
    let port_obj = env.api::<Port>().get("lab-cp-0").await.expect("1. the machine's Port");
    assert_eq!(port_obj.metadata.owner_references.unwrap()[0].kind, "Cluster");
    assert!(
        encoded.len() < 65535 && encoded.starts_with("H4sI"),
        "2. gzipped user data under Nova's limit: {} bytes",
        encoded.len()
    );
    assert!(control_plane.runcmd[0].starts_with("kubeadm init"), "2. {:?}", control_plane.runcmd);

    // 3. With the machines up but no API answering, the condition says so.
    let c =
        wait_cluster(&env, "lab", 60, "waiting on the API", |c| cluster_message(c).contains("API not answering")).await;
    assert!(
        cluster_message(&c).contains(&format!("API not answering at 127.0.0.1:{port}")),
        "3. {}",
        cluster_message(&c)
    );

    // 4. The machine boots with Terrane's certificates; the Cluster becomes Ready with the bootstrap applied.
    let machine = ControlPlaneMachine::boot(&control_plane).await.expect("4. an apiserver runs on Terrane's PKI");
    wait_cluster(&env, "lab", 120, "Ready", cluster_is_ready).await;
    let ready_after = started.elapsed();
    let c = wait_cluster(&env, "lab", 30, "the control plane's Node counted", |c| {
        c.status.as_ref().and_then(|s| s.control_plane.as_ref()).is_some_and(|m| m.ready == 1)
    })
    .await;
    let status = c.status.clone().unwrap();
    assert_eq!(status.bootstrap.as_ref().and_then(|b| b.revision.clone()), Some(commit.clone()), "4. bootstrapped");
    assert_eq!(status.bootstrap.as_ref().map(|b| b.objects), Some(6), "4. the example's six objects");
    assert_eq!(
        status.kubernetes_version.as_deref(),
        Some(terrane_testground::kube_version()),
        "4. the version the API reports"
    );
    assert_eq!(status.control_plane.as_ref().map(|m| (m.ready, m.desired)), Some((1, 1)), "4. {status:?}");
    assert_eq!(workers(&c), (0, 2), "4. no worker joined yet");

    // 5. The kubeconfig Secret: self-contained, the cluster's own CA, lists the target's Namespaces.
    let secrets = env.api::<Secret>();
    let kubeconfig = secrets.get("lab-kubeconfig").await.unwrap();
    assert_eq!(kubeconfig.type_.as_deref(), Some("cluster.x-k8s.io/secret"));
    let text = String::from_utf8(kubeconfig.data.unwrap()["value"].0.clone()).unwrap();
    assert!(!text.contains("exec"), "5. no exec plugin");
    let ca = secrets.get("lab-ca").await.unwrap();
    assert_eq!(
        ca.data.as_ref().unwrap()["tls.crt"].0,
        machine.ca_pem().unwrap().into_bytes(),
        "5. the machine runs with the CA Terrane keeps in lab-ca"
    );
    let names: Vec<String> = kube::Api::<Namespace>::all(client_from_kubeconfig(&text).await)
        .list(&ListParams::default())
        .await
        .expect("5. the kubeconfig reaches the API, trusting only the cluster CA")
        .into_iter()
        .filter_map(|n| n.metadata.name)
        .collect();
    assert!(names.contains(&"apps".to_string()), "5. the bootstrap's Namespaces are there: {names:?}");
    let argo = secrets.get("lab-argocd").await.expect("5. the Argo CD cluster Secret");
    assert_eq!(argo.metadata.labels.as_ref().unwrap()["argocd.argoproj.io/secret-type"], "cluster");
    assert_eq!(argo.data.as_ref().unwrap()["server"].0, format!("https://127.0.0.1:{port}").into_bytes());
    for suffix in ["ca", "etcd", "proxy", "sa"] {
        let s = secrets.get(&format!("lab-{suffix}")).await.unwrap();
        assert_eq!(s.type_.as_deref(), Some("cluster.x-k8s.io/secret"), "lab-{suffix}");
        assert_eq!(s.metadata.labels.unwrap()["cluster.x-k8s.io/cluster-name"], "lab");
    }

    // 6. Workers join through the bootstrap token Terrane issued.
    for name in ["lab-workers-0", "lab-workers-1"] {
        let (_, config) = user_data(&env, name).await;
        assert!(!config.files.keys().any(|p| p.ends_with(".key")), "6. a worker gets no CA key");
        machine.join_worker(&config).await.unwrap_or_else(|e| panic!("6. {name} joins with the token: {e}"));
    }
    wait_cluster(&env, "lab", 90, "two workers Ready", |c| workers(c) == (2, 2)).await;

    // 7. Scaling the pool 2 -> 3 -> 1 creates and deletes the right machines.
    scale(&env, 3).await;
    let (_, third) = user_data(&env, "lab-workers-2").await;
    machine.join_worker(&third).await.expect("7. the third worker joins");
    wait_cluster(&env, "lab", 90, "three workers Ready", |c| workers(c) == (3, 3)).await;
    scale(&env, 1).await;
    let deadline = Instant::now() + Duration::from_secs(120);
    let one: BTreeSet<String> = ["lab-cp-0", "lab-workers-0"].map(String::from).into();
    while servers(&env).await != one {
        assert!(Instant::now() < deadline, "7. scaled to one worker: {:?}", servers(&env).await);
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    while env.api::<Port>().get_opt("lab-workers-2").await.unwrap().is_some() {
        assert!(Instant::now() < deadline, "7. the removed machine's Port goes too");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    // 8. No key or token in the controller's log, the Events or the statuses.
    let token =
        String::from_utf8(secrets.get("lab-bootstrap-token").await.unwrap().data.unwrap()["token"].0.clone()).unwrap();
    let mut key_lines = Vec::new();
    for s in ["ca", "etcd", "proxy", "sa"] {
        let data = secrets.get(&format!("lab-{s}")).await.unwrap().data.unwrap();
        key_lines.push(String::from_utf8(data["tls.key"].0.clone()).unwrap().lines().nth(1).unwrap().to_string());
    }
    let log = env.controller.as_ref().unwrap().log_text();
    let events = env.events("lab").await.join("\n");
    let mut statuses = String::new();
    for kind in ["Cluster", "Server", "Port", "SecurityGroup"] {
        for o in terrane_api(&env.ns.client, &env.ns.name, kind).list(&ListParams::default()).await.unwrap() {
            statuses.push_str(&o.data["status"].to_string());
        }
    }
    for secret in key_lines.iter().map(String::as_str).chain([token.as_str(), token.split('.').nth(1).unwrap()]) {
        assert!(
            !log.contains(secret) && !events.contains(secret) && !statuses.contains(secret),
            "8. a key or token leaked"
        );
    }
    println!(
        "cluster: Ready {:.1}s after apply (the test boots the machine on its own); {} cloud requests by the controller",
        ready_after.as_secs_f64(),
        env.controller_metrics().await.map(|m| m.requests).unwrap_or_default()
    );

    // 9. Deleting the Cluster removes its machines and Secrets; then the cloud is as before.
    env.api::<Cluster>().delete("lab", &DeleteParams::default()).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(180);
    while env.api::<Cluster>().get_opt("lab").await.unwrap().is_some() {
        assert!(Instant::now() < deadline, "9. the Cluster is deleted: {:?}", cluster_ready(&env, "lab").await);
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(servers(&env).await.is_empty(), "9. no Server left");
    assert!(secrets.get_opt("lab-kubeconfig").await.unwrap().is_none(), "9. the kubeconfig Secret is gone");
    drop(machine);
    let cloud = env.cloud.clone();
    env.teardown().await;
    // Other tests of this file run at the same time: nothing of this one may be left over.
    let after = inventory(&cloud).await;
    let left: Vec<&String> = after.difference(&before).collect();
    assert!(left.is_empty(), "9. the cloud has nothing of the cluster left: {left:?}");
}

#[tokio::test]
async fn an_orphaned_cluster_leaves_its_machines_and_its_endpoint_is_published() {
    use terrane_openstack::Service;
    let env = Env::new("cluster-orphan").await;
    let zone = format!("{}.terrane.test.", unique("lab"));
    create(
        &env.api::<terrane_api::Zone>(),
        terrane_obj("Zone", "lab", json!({"resource": {"name": zone, "email": "hostmaster@example.org"}})),
    )
    .await;
    apply_example_with(&env, "cluster.yaml", |doc| {
        if doc["kind"] == "Cluster" {
            let spec = doc["spec"].as_object_mut().unwrap();
            spec.remove("bootstrap");
            spec.insert("workers".into(), json!([]));
            spec.insert("deletionPolicy".into(), json!("Orphan"));
            spec.insert("recordSet".into(), json!({"zoneRef": {"name": "lab"}, "name": "api"}));
        }
    })
    .await;

    // 1. Without controlPlaneEndpoint the endpoint is the first machine's address.
    let server = wait_ready(&env.api::<Server>(), "lab-cp-0").await;
    let port = wait_ready(&env.api::<Port>(), "lab-cp-0").await;
    let address = port.status.as_ref().unwrap().resource.as_ref().unwrap()["fixedIps"][0]["ipAddress"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, config) = user_data(&env, "lab-cp-0").await;
    let kubeadm = config.kubeadm("ClusterConfiguration").unwrap();
    assert_eq!(kubeadm["controlPlaneEndpoint"], format!("{address}:6443"), "1. kubeadm is told the machine's address");
    let c =
        wait_cluster(&env, "lab", 90, "waiting on its API", |c| cluster_message(c).contains("API not answering")).await;
    assert!(cluster_message(&c).contains(&format!("at {address}:6443")), "1. {}", cluster_message(&c));

    // 2. The endpoint is published in the Zone.
    wait_ready(&env.api::<terrane_api::RecordSet>(), "lab-api").await;
    let deadline = Instant::now() + Duration::from_secs(60);
    while dig(&format!("api.{zone}")) != BTreeSet::from([address.clone()]) {
        assert!(Instant::now() < deadline, "2. api.{zone} answers {address}: {:?}", dig(&format!("api.{zone}")));
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    // 3. Deleting the Cluster with deletionPolicy Orphan leaves the machine in the cloud.
    env.api::<Cluster>().delete("lab", &DeleteParams::default()).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while env.api::<Cluster>().get_opt("lab").await.unwrap().is_some() {
        assert!(Instant::now() < deadline, "3. the Cluster is deleted: {:?}", cluster_ready(&env, "lab").await);
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(servers(&env).await.is_empty(), "3. the Server objects are gone");
    let server_id = id_of(&server);
    let port_id = id_of(&port);
    assert!(
        NOVA.get_opt(&env.cloud, &format!("/servers/{server_id}")).await.unwrap().is_some(),
        "3. the cloud server stays"
    );
    assert!(neutron_get(&env.cloud, "ports", "port", &port_id).await.is_some(), "3. its port stays");

    // The test's own clean-up of what was orphaned.
    env.cloud.delete(Service::Compute, &format!("/servers/{server_id}")).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while NOVA.get_opt(&env.cloud, &format!("/servers/{server_id}")).await.unwrap().is_some() {
        assert!(Instant::now() < deadline, "clean-up: the server goes");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let groups = port.status.unwrap().resource.unwrap()["securityGroups"].clone();
    env.cloud.delete(Service::Network, &format!("/v2.0/ports/{port_id}")).await.unwrap();
    for g in groups.as_array().into_iter().flatten().filter_map(|g| g.as_str()) {
        env.cloud.delete(Service::Network, &format!("/v2.0/security-groups/{g}")).await.unwrap();
    }
    env.teardown().await;
}
