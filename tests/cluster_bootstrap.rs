//! `Cluster` with `backend: existing`: a second real kube-apiserver given as
//! a kubeconfig Secret, bootstrapped from real Git repositories on loopback
//! (smart HTTPS with basic auth and a private CA, and `git://`).

mod support;

use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Secret};
use kube::api::{Api, DeleteParams, ListParams};
use serde_json::json;
use support::*;
use terrane_api::Cluster;
use terrane_testground::{GitServer, KubeCluster, StartOptions};

/// A file of the example bootstrap path, `deploy/examples/cluster-bootstrap/`.
fn example(file: &str) -> String {
    std::fs::read_to_string(format!("{}/deploy/examples/cluster-bootstrap/{file}", env!("CARGO_MANIFEST_DIR")))
        .expect("example file")
}

fn config_map(name: &str, ns: &str) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: {ns}\ndata:\n  k: v\n")
}

async fn target() -> KubeCluster {
    KubeCluster::start_ephemeral(StartOptions { controller_manager: false, ..Default::default() })
        .await
        .expect("second kube-apiserver")
}

async fn put_secret(env: &Env, name: &str, data: serde_json::Value) {
    create(
        &env.api::<Secret>(),
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "stringData": data}),
    )
    .await;
}

fn cluster(name: &str, git: serde_json::Value) -> serde_json::Value {
    json!({
        "apiVersion": "terrane.dev/v1alpha1", "kind": "Cluster", "metadata": {"name": name},
        "spec": {
            "backend": "existing",
            "existing": {"kubeconfigSecretRef": {"name": "target-kubeconfig"}},
            "bootstrap": {"git": git},
        }
    })
}

fn revision(c: &Cluster) -> Option<String> {
    c.status.as_ref()?.bootstrap.as_ref()?.revision.clone()
}

async fn exists<K>(api: &Api<K>, name: &str) -> bool
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    api.get_opt(name).await.expect("read target").is_some()
}

async fn eventually(secs: u64, what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    while !check().await {
        assert!(std::time::Instant::now() < deadline, "{what} not within {secs}s");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test]
async fn a_git_path_is_applied_into_an_existing_cluster_and_follows_its_branch() {
    let env = Env::new("cluster-git").await;
    let target = target().await;
    let git = GitServer::start().expect("git server");
    let repo = git.create_repo("platform").expect("repo");
    for file in ["namespaces.yaml", "crd.yaml", "widget.yaml", "web.yaml"] {
        repo.write(&format!("platform/{file}"), &example(file)).unwrap();
    }
    repo.write("platform/extra.yaml", &config_map("extra", "apps")).unwrap();
    repo.write("README.md", "# not applied\n").unwrap();
    let first = repo.commit("first").unwrap();

    put_secret(&env, "target-kubeconfig", json!({"value": inline_kubeconfig(&target)})).await;
    put_secret(
        &env,
        "git-auth",
        json!({"username": git.user, "password": git.password, "ca.crt": git.ca_pem().unwrap()}),
    )
    .await;
    create(
        &env.api::<Cluster>(),
        cluster(
            "edge",
            json!({"url": git.https_url(&repo), "ref": {"branch": "main"}, "path": "platform",
                   "secretRef": {"name": "git-auth"}, "interval": "3s", "prune": true}),
        ),
    )
    .await;

    let c = wait_cluster(&env, "edge", 120, "Ready at the first commit", |c| {
        cluster_is_ready(c) && revision(c).as_deref() == Some(first.as_str())
    })
    .await;
    let status = c.status.clone().unwrap();
    let boot = status.bootstrap.clone().unwrap();
    assert_eq!(
        boot.objects, 7,
        "1. two Namespaces, a CRD, a Widget, a Deployment and two ConfigMaps: {:?}",
        boot.inventory
    );
    assert!(boot.inventory.iter().any(|e| e.kind == "Widget" && e.namespace.as_deref() == Some("apps")));
    assert!(
        status.kubernetes_version.as_deref().is_some_and(|v| v.starts_with('v')),
        "2. the target's version: {status:?}"
    );
    assert!(cluster_message(&c).contains("bootstrap at"), "{}", cluster_message(&c));

    let t = target.client().await.unwrap();
    let deployments = Api::<Deployment>::namespaced(t.clone(), "apps");
    let web = deployments.get("web").await.expect("3. the Deployment is in the target");
    assert!(
        web.metadata
            .managed_fields
            .iter()
            .flatten()
            .any(|m| m.manager.as_deref() == Some("terrane") && m.operation.as_deref() == Some("Apply")),
        "3. applied server-side by field manager terrane"
    );
    let widgets = terrane_api_in(&t, "example.org", "v1", "Widget", "widgets", "apps");
    assert_eq!(widgets.get("w1").await.expect("4. the custom object").data["spec"]["size"], 3);

    // 5. The kubeconfig Secret in Cluster API's shape works with kube's own loader.
    let published = env.api::<Secret>().get("edge-kubeconfig").await.expect("edge-kubeconfig");
    assert_eq!(published.type_.as_deref(), Some("cluster.x-k8s.io/secret"));
    assert_eq!(published.metadata.labels.as_ref().unwrap()["cluster.x-k8s.io/cluster-name"], "edge");
    let text = String::from_utf8(published.data.unwrap()["value"].0.clone()).unwrap();
    let via_secret = client_from_kubeconfig(&text).await;
    let names: Vec<String> = Api::<Namespace>::all(via_secret)
        .list(&ListParams::default())
        .await
        .expect("5. lists the target's Namespaces")
        .into_iter()
        .filter_map(|n| n.metadata.name)
        .collect();
    assert!(names.iter().any(|n| n == "apps") && names.iter().any(|n| n == "monitoring"), "{names:?}");

    // 6. Drift in the target is repaired at the next interval.
    let maps = Api::<ConfigMap>::namespaced(t.clone(), "apps");
    maps.delete("web-config", &DeleteParams::default()).await.unwrap();
    eventually(30, "6. the deleted ConfigMap re-applied", async || exists(&maps, "web-config").await).await;

    // 7. A new commit is applied; what it removed is pruned.
    repo.remove("platform/extra.yaml").unwrap();
    repo.write("platform/more.yaml", &config_map("more", "apps")).unwrap();
    let second = repo.commit("second").unwrap();
    let c =
        wait_cluster(&env, "edge", 60, "the second commit", |c| revision(c).as_deref() == Some(second.as_str())).await;
    assert!(exists(&maps, "more").await, "7. the new ConfigMap is there");
    assert!(!exists(&maps, "extra").await, "7. the removed file's ConfigMap is pruned");
    assert_eq!(c.status.unwrap().bootstrap.unwrap().objects, 7);

    // 8. A broken YAML commit is reported by file and document; the last good revision stays.
    repo.write("platform/broken.yaml", &format!("{}---\nkind: [unclosed\n", config_map("fine", "apps"))).unwrap();
    let broken = repo.commit("broken").unwrap();
    let c = wait_cluster(&env, "edge", 60, "the broken commit reported", |c| {
        c.status.as_ref().and_then(|s| s.bootstrap.as_ref()).and_then(|b| b.attempted_revision.as_deref())
            == Some(broken.as_str())
    })
    .await;
    let message = cluster_message(&c);
    assert!(message.starts_with("bootstrap: platform/broken.yaml document 2: "), "8. {message}");
    assert!(!cluster_is_ready(&c), "8. not Ready while the branch head cannot be applied");
    assert_eq!(revision(&c).as_deref(), Some(second.as_str()), "8. the last good revision stays");
    assert!(!exists(&maps, "fine").await, "8. nothing of a broken revision is applied");
    let events = env.events("edge").await;
    assert!(events.iter().any(|e| e.contains("platform/broken.yaml document 2")), "8. a Warning Event: {events:?}");

    // 9. An object the target refuses is named with the target's message.
    repo.remove("platform/broken.yaml").unwrap();
    repo.write(
        "platform/bad-service.yaml",
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: bad\n  namespace: apps\nspec:\n  ports:\n    - port: 99999\n",
    )
    .unwrap();
    let refused = repo.commit("refused").unwrap();
    let c = wait_cluster(&env, "edge", 60, "the refused object reported", |c| {
        c.status.as_ref().and_then(|s| s.bootstrap.as_ref()).and_then(|b| b.attempted_revision.as_deref())
            == Some(refused.as_str())
    })
    .await;
    let message = cluster_message(&c);
    assert!(
        message.starts_with("bootstrap: platform/bad-service.yaml document 1: Service/bad refused: ")
            && message.contains("99999"),
        "9. {message}"
    );

    // 10. Fixed: Ready again at the new head.
    repo.remove("platform/bad-service.yaml").unwrap();
    let fixed = repo.commit("fixed").unwrap();
    wait_cluster(&env, "edge", 60, "Ready at the fixed commit", |c| {
        cluster_is_ready(c) && revision(c).as_deref() == Some(fixed.as_str())
    })
    .await;

    // 11. No credential in the log, Events or status.
    let log = env.controller.as_ref().unwrap().log_text();
    let token = std::fs::read_to_string(target.dir().join("admin.token")).unwrap();
    let status = serde_json::to_string(&env.api::<Cluster>().get("edge").await.unwrap().status).unwrap();
    let events = env.events("edge").await.join("\n");
    for secret in [git.password.as_str(), token.trim()] {
        assert!(
            !log.contains(secret) && !status.contains(secret) && !events.contains(secret),
            "11. a credential leaked"
        );
    }

    // 12. Deleting the Cluster removes its Secrets; the target keeps what was applied.
    env.api::<Cluster>().delete("edge", &DeleteParams::default()).await.unwrap();
    eventually(30, "12. the Cluster gone", async || env.api::<Cluster>().get_opt("edge").await.unwrap().is_none())
        .await;
    assert!(
        env.api::<Secret>().get_opt("edge-kubeconfig").await.unwrap().is_none(),
        "12. its kubeconfig Secret is gone"
    );
    assert!(exists(&deployments, "web").await, "12. the target's workloads stay");
    env.teardown().await;
}

/// A dynamic API for a custom kind in the target.
fn terrane_api_in(
    client: &kube::Client,
    group: &str,
    version: &str,
    kind: &str,
    plural: &str,
    ns: &str,
) -> Api<kube::api::DynamicObject> {
    let gvk = kube::api::GroupVersionKind::gvk(group, version, kind);
    let ar = kube::api::ApiResource::from_gvk_with_plural(&gvk, plural);
    Api::namespaced_with(client.clone(), ns, &ar)
}

#[tokio::test]
async fn a_pinned_commit_stays_and_unusable_sources_are_named() {
    let env = Env::new("cluster-pin").await;
    let target = target().await;
    let git = GitServer::start().expect("git server");
    let repo = git.create_repo("pins").expect("repo");
    repo.write("pinned/cm.yaml", &config_map("pinned", "default").replace("k: v", "version: one")).unwrap();
    let first = repo.commit("one").unwrap();
    put_secret(&env, "target-kubeconfig", json!({"value": inline_kubeconfig(&target)})).await;
    put_secret(
        &env,
        "wrong-auth",
        json!({"username": git.user, "password": "not-the-password", "ca.crt": git.ca_pem().unwrap()}),
    )
    .await;

    // 1. A pinned commit over git:// is applied and never moves.
    create(
        &env.api::<Cluster>(),
        cluster(
            "pinned",
            json!({"url": git.git_url(&repo), "ref": {"commit": first}, "path": "pinned", "interval": "3s"}),
        ),
    )
    .await;
    wait_cluster(&env, "pinned", 120, "Ready at the pinned commit", |c| {
        cluster_is_ready(c) && revision(c).as_deref() == Some(first.as_str())
    })
    .await;
    repo.write("pinned/cm.yaml", &config_map("pinned", "default").replace("k: v", "version: two")).unwrap();
    repo.commit("two").unwrap();

    // 2. Wrong credentials, a missing path and an unreachable repository are each named.
    create(&env.api::<Cluster>(), cluster("locked", json!({"url": git.https_url(&repo), "path": "pinned", "secretRef": {"name": "wrong-auth"}, "interval": "3s"}))).await;
    create(
        &env.api::<Cluster>(),
        cluster("nopath", json!({"url": git.git_url(&repo), "path": "nope", "interval": "3s"})),
    )
    .await;
    create(&env.api::<Cluster>(), cluster("nowhere", json!({"url": "git://127.0.0.1:9/none.git", "interval": "3s"})))
        .await;
    let failing = |c: &Cluster| !cluster_is_ready(c) && cluster_message(c).starts_with("bootstrap:");
    let locked = cluster_message(&wait_cluster(&env, "locked", 60, "the credentials refused", failing).await);
    assert!(locked.contains(&format!("fetching {}", git.https_url(&repo))), "2. {locked}");
    assert!(!locked.contains("not-the-password"), "2. no password in the message");
    let nopath = cluster_message(&wait_cluster(&env, "nopath", 60, "the missing path", failing).await);
    assert!(nopath.contains("path \"nope\" not found at commit"), "2. {nopath}");
    let nowhere = cluster_message(&wait_cluster(&env, "nowhere", 60, "the unreachable repository", failing).await);
    assert!(nowhere.starts_with("bootstrap: fetching git://127.0.0.1:9/none.git: "), "2. {nowhere}");
    for name in ["locked", "nopath", "nowhere"] {
        let events = env.events(name).await;
        assert!(events.iter().any(|e| e.contains("bootstrap:")), "2. a Warning Event for {name}: {events:?}");
    }

    // 3. Several intervals later the pinned Cluster is still at its commit, and so is the target.
    tokio::time::sleep(Duration::from_secs(8)).await;
    let c = env.api::<Cluster>().get("pinned").await.unwrap();
    assert_eq!(revision(&c).as_deref(), Some(first.as_str()), "3. a pinned commit never changes");
    let cm = Api::<ConfigMap>::namespaced(target.client().await.unwrap(), "default").get("pinned").await.unwrap();
    assert_eq!(cm.data.unwrap()["version"], "one", "3. the target has the pinned content");
    env.teardown().await;
}
