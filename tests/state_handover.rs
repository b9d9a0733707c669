//! `terrane state push` and `terrane state pull` against the real
//! kube-apiserver and cloud: objects applied from a laptop's state are handed
//! to a running controller, which adopts every one by its cloud ID and
//! creates nothing; pulled back, `terrane apply` takes over and the cluster
//! lets go without deleting a cloud object.

mod support;

use std::path::Path;
use std::process::{Command, Output};

use serde_json::{Value, json};
use support::*;

fn terrane(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_terrane"))
        .args(args)
        .arg("--state")
        .arg(dir.join("laptop.state.json"))
        .env("KUBECONFIG", terrane_testground::KubeCluster::shared_handle().kubeconfig_path())
        .env("OS_CLIENT_CONFIG_FILE", dir.join("clouds.yaml"))
        .env("TERRANE_GIT_CACHE", dir.join("git-cache"))
        .output()
        .expect("run terrane")
}

fn ok(out: Output, what: &str) -> String {
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{what}: exit {:?}\n{stdout}\n{stderr}", out.status.code());
    stdout.into_owned()
}

#[tokio::test]
async fn a_laptop_state_is_pushed_to_a_cluster_adopted_without_a_create_and_pulled_back() {
    let env = Env::without_controller("handover").await;
    let (cloud, ns) = (env.cloud.clone(), env.ns.name.clone());
    let before = inventory(&cloud).await;
    let dir = std::env::temp_dir().join(format!("terrane-handover-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let source = dir.join("source");
    std::fs::create_dir_all(&source).expect("dir");
    std::fs::write(dir.join("clouds.yaml"), terrane_testground::clouds_yaml_text().expect("clouds.yaml"))
        .expect("write");
    let obj = |kind: &str, name: &str, resource: Value| {
        json!({"apiVersion": "terrane.dev/v1alpha1", "kind": kind, "metadata": {"name": name, "namespace": ns},
               "spec": {"providerConfigRef": {"name": "cloud"}, "resource": resource}})
    };
    let key_name = unique("laptop");
    let docs = [
        obj("Network", "mgmt", json!({"description": "management"})),
        obj("Subnet", "mgmt", json!({"networkRef": {"name": "mgmt"}, "cidr": "10.66.0.0/24"})),
        obj("KeyPair", "ops", json!({"name": key_name})),
    ];
    let text: Vec<String> = docs.iter().map(|d| d.to_string()).collect();
    std::fs::write(source.join("mgmt.yaml"), text.join("\n---\n")).expect("write");
    let pc = std::fs::read_to_string(format!("{}/deploy/examples/provider-config.yaml", env!("CARGO_MANIFEST_DIR")))
        .expect("example");
    std::fs::write(source.join("provider-config.yaml"), pc).expect("write");
    let src = source.to_str().expect("path");

    // 1. Applied from the laptop.
    ok(terrane(&["apply", src], &dir), "1. apply");
    let made = inventory(&cloud).await;
    let state: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("laptop.state.json")).expect("state")).expect("JSON");
    let network_id = state["objects"]["Network/mgmt"]["status"]["id"].as_str().expect("1. network ID").to_string();

    // 2. Pushed: the controller, started after, adopts each by ID.
    let kubeconfig = std::fs::read_to_string(terrane_testground::KubeCluster::shared_handle().kubeconfig_path())
        .expect("kubeconfig");
    let context = kubeconfig
        .lines()
        .find_map(|l| l.strip_prefix("current-context: "))
        .expect("a current context")
        .trim()
        .to_string();
    let pushed = ok(terrane(&["state", "push", src, "--context", &context, "--namespace", &ns], &dir), "2. push");
    assert!(pushed.contains("3 objects with their cloud IDs"), "2. {pushed}");
    let mut env = env;
    env.start_controller(&[]);
    let objects: Vec<(String, String)> = [("Network", "mgmt"), ("Subnet", "mgmt"), ("KeyPair", "ops")]
        .iter()
        .map(|(k, n)| (k.to_string(), n.to_string()))
        .collect();
    wait_all_ready(&env, &objects, 120).await;
    let network = terrane_api(&env.ns.client, &ns, "Network").get("mgmt").await.expect("2. network");
    assert_eq!(network.data["status"]["id"], network_id.as_str(), "2. the same cloud object");
    assert_eq!(inventory(&cloud).await, made, "2. nothing made in the cloud");
    assert!(controller_requests(&env, "network", "GET").await > 0, "2. the controller observed the cloud");
    assert_eq!(controller_requests(&env, "network", "POST").await, 0, "2. and sent no create");
    for name in ["mgmt", "ops"] {
        let events = env.events(name).await;
        assert!(!events.iter().any(|e| e.starts_with("Created")), "2. {name}: {events:?}");
    }
    let secret: k8s_openapi::api::core::v1::Secret =
        env.api().get("ops-ssh-key").await.expect("2. the generated key is pushed");
    assert!(secret.data.is_some_and(|d| d.contains_key("ssh-privatekey")));
    let refused = terrane(&["plan", src], &dir);
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        !refused.status.success() && err.contains(&format!("was handed over to kube context {context}")),
        "2. the laptop's state stays out of the way: {err}"
    );

    // 3. terrane diff: nothing to change; then, with the controller stopped, drift in the cloud shows.
    let diff = |what: &str| -> Value {
        let out = ok(terrane(&["diff", "--context", &context, "--namespace", &ns, "-o", "json"], &dir), what);
        serde_json::from_str(&out).expect("JSON")
    };
    assert_eq!(diff("3. diff")["summary"]["unchanged"], 3, "3. in sync");
    env.stop_controller();
    cloud
        .put(
            terrane_openstack::Service::Network,
            &format!("/v2.0/networks/{network_id}"),
            &json!({"network": {"description": "changed by hand"}}),
        )
        .await
        .expect("drift");
    let drifted = diff("3. diff after drift");
    assert_eq!(drifted["summary"]["update"], 1, "3. {drifted:#}");
    let step = drifted["steps"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["object"] == "Network/mgmt"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(step["fields"][0]["field"], "description", "3. {step:#}");
    assert_eq!(step["fields"][0]["desired"], "\"management\"", "3. {step:#}");
    env.start_controller(&[]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while neutron_get(&cloud, "networks", "network", &network_id).await.expect("network")["description"]
        .as_str()
        .is_none_or(|d| !d.starts_with("management"))
    {
        assert!(std::time::Instant::now() < deadline, "3. the restarted controller corrects the drift");
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }

    // 4. Pulled back: the cluster lets go, the cloud keeps everything, the laptop's plan is empty.
    let pulled = ok(terrane(&["state", "pull", "--context", &context, "--namespace", &ns], &dir), "4. pull");
    assert!(pulled.contains("3 objects"), "4. {pulled}");
    for (kind, name) in &objects {
        let api = terrane_api(&env.ns.client, &ns, kind);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while api.get_opt(name).await.expect("get").is_some() {
            assert!(std::time::Instant::now() < deadline, "4. {kind}/{name} let go");
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        }
    }
    assert_eq!(inventory(&cloud).await, made, "4. the cloud keeps every object");
    let plan: Value = serde_json::from_str(&ok(terrane(&["plan", src, "-o", "json"], &dir), "4. plan")).expect("JSON");
    assert_eq!(plan["summary"]["unchanged"], 3, "4. the drift was corrected, and the laptop sees no change: {plan:#}");

    // 5. Declaring nothing deletes them from the laptop.
    std::fs::write(source.join("mgmt.yaml"), "").expect("write");
    ok(terrane(&["apply", src], &dir), "5. apply nothing");
    assert_eq!(inventory(&cloud).await, before, "5. nothing left");
    env.teardown().await;
    let _ = std::fs::remove_dir_all(dir);
}
