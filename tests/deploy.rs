//! deploy/base applies to the real apiserver, and its RBAC is enough for the
//! controller (run with the ServiceAccount's own token) and no more.

mod support;

use std::time::Duration;

use k8s_openapi::api::authentication::v1::TokenRequest;
use k8s_openapi::api::authorization::v1::SelfSubjectAccessReview;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::ServiceAccount;
use kube::api::{Api, PostParams};
use serde_json::json;
use support::*;
use terrane_api::{Network, SecurityGroup};
use terrane_testground::KubeCluster;

fn kubectl() -> std::path::PathBuf {
    terrane_testground::kube_bin_dir().join("kubectl")
}

#[tokio::test]
async fn base_applies_and_its_rbac_runs_the_controller_with_least_privilege() {
    let mut env = Env::without_controller("deploy").await;
    let cluster = KubeCluster::shared_handle();
    let out = std::process::Command::new(kubectl())
        .args(["apply", "-k", concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/base")])
        .env("KUBECONFIG", cluster.kubeconfig_path())
        .output()
        .expect("run kubectl");
    assert!(out.status.success(), "1. kubectl apply -k deploy/base: {}", String::from_utf8_lossy(&out.stderr));

    let sas: Api<ServiceAccount> = Api::namespaced(env.ns.client.clone(), "terrane-system");
    let request: TokenRequest = serde_json::from_value(
        json!({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {"expirationSeconds": 3600}}),
    )
    .expect("token request");
    let token: TokenRequest = sas
        .create_subresource("token", "terrane", &PostParams::default(), &request)
        .await
        .expect("2. a token for the terrane ServiceAccount");
    let token = token.status.and_then(|s| s.token).expect("token");
    let ca = cluster.dir().join("ca.crt");
    let kubeconfig = std::env::temp_dir().join(format!("terrane-sa-{}.kubeconfig", env.ns.name));
    std::fs::write(&kubeconfig, format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: g\n  cluster:\n    server: https://127.0.0.1:{}\n    certificate-authority: {}\nusers:\n- name: sa\n  user:\n    token: {token}\ncontexts:\n- name: g\n  context: {{cluster: g, user: sa}}\ncurrent-context: g\n",
        cluster.port().expect("port"), ca.display())).expect("write kubeconfig");

    let sa_config = kube::Config::from_custom_kubeconfig(
        kube::config::Kubeconfig::read_from(&kubeconfig).expect("read"),
        &Default::default(),
    )
    .await
    .expect("config");
    let sa_client = kube::Client::try_from(sa_config).expect("client");
    for (verb, resource, allowed) in [
        ("get", "secrets", true),
        // The credentials watch (restricted to labelled Secrets by its selector).
        ("list", "secrets", true),
        // A Cluster's keys, kubeconfig and user data.
        ("delete", "secrets", true),
        ("update", "secrets", false),
        ("delete", "networks", false),
        // The machines a Cluster owns, when it scales down or goes.
        ("delete", "servers", true),
        ("patch", "networks", true),
    ] {
        let group = if resource == "networks" || resource == "servers" { "terrane.dev" } else { "" };
        let review: SelfSubjectAccessReview = serde_json::from_value(json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": {"namespace": env.ns.name, "verb": verb, "resource": resource, "group": group}}})).expect("review");
        let answer = Api::<SelfSubjectAccessReview>::all(sa_client.clone())
            .create(&PostParams::default(), &review)
            .await
            .expect("access review");
        assert_eq!(answer.status.map(|s| s.allowed), Some(allowed), "3. {verb} {resource} allowed = {allowed}");
    }

    env.start_controller_with(
        &[("KUBECONFIG", kubeconfig.to_str().unwrap_or_default())],
        &["--leader-election-namespace", "terrane-system"],
    );
    create(
        &env.api::<Network>(),
        json!({"apiVersion": "terrane.dev/v1alpha1", "kind": "Network", "metadata": {"name": "n"},
        "spec": {"providerConfigRef": {"name": PROVIDER}, "resource": {}}}),
    )
    .await;
    create(
        &env.api::<SecurityGroup>(),
        json!({"apiVersion": "terrane.dev/v1alpha1", "kind": "SecurityGroup", "metadata": {"name": "g"},
        "spec": {"providerConfigRef": {"name": PROVIDER}, "resource": {"rules": [{"direction": "egress"}]}}}),
    )
    .await;
    wait_ready(&env.api::<Network>(), "n").await;
    wait_ready(&env.api::<SecurityGroup>(), "g").await;
    assert!(env.events("n").await.iter().any(|e| e.starts_with("Created")), "4. events are allowed");
    let lease = Api::<Lease>::namespaced(env.ns.client.clone(), "terrane-system")
        .get("terrane-controller")
        .await
        .expect("5. the leader Lease exists");
    assert!(lease.spec.and_then(|s| s.holder_identity).is_some(), "6. and has a holder");
    env.teardown().await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let _ = std::fs::remove_file(kubeconfig);
}
