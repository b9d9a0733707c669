//! Proves the Kubernetes half of the ground: a real apiserver accepts a CRD
//! with a status subresource, serves and watches custom resources, and a
//! second, independent apiserver can be started beside it.

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DynamicObject, GroupVersionKind, Patch, PatchParams, PostParams};
use kube::core::ApiResource;
use kube::runtime::{WatchStreamExt, watcher};
use serde_json::json;
use terrane_testground::{KubeCluster, StartOptions, TestNamespace};

fn crd() -> CustomResourceDefinition {
    serde_json::from_value(json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.smoke.terrane.dev"},
        "spec": {
            "group": "smoke.terrane.dev",
            "names": {"kind": "Widget", "plural": "widgets", "singular": "widget"},
            "scope": "Namespaced",
            "versions": [{
                "name": "v1", "served": true, "storage": true,
                "subresources": {"status": {}},
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                    "spec": {"type": "object", "properties": {"size": {"type": "integer"}}},
                    "status": {"type": "object", "properties": {"phase": {"type": "string"}}}
                }}}
            }]
        }
    }))
    .expect("valid CRD")
}

#[tokio::test]
async fn crd_with_status_subresource_is_served_and_watched() {
    let ns = TestNamespace::new("smoke-kube").await.expect("ground kube-apiserver");
    let crds: Api<CustomResourceDefinition> = Api::all(ns.client.clone());
    let params = PatchParams::apply("terrane-smoke").force();
    crds.patch("widgets.smoke.terrane.dev", &params, &Patch::Apply(crd())).await.expect("apply CRD");
    let established = kube::runtime::wait::await_condition(
        crds,
        "widgets.smoke.terrane.dev",
        kube::runtime::wait::conditions::is_crd_established(),
    );
    tokio::time::timeout(Duration::from_secs(30), established)
        .await
        .expect("CRD established in 30s")
        .expect("watch CRD");

    let gvk = GroupVersionKind::gvk("smoke.terrane.dev", "v1", "Widget");
    let resource = ApiResource::from_gvk_with_plural(&gvk, "widgets");
    let widgets: Api<DynamicObject> = Api::namespaced_with(ns.client.clone(), &ns.name, &resource);

    let mut events = watcher(widgets.clone(), watcher::Config::default()).applied_objects().boxed();
    let obj: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "smoke.terrane.dev/v1", "kind": "Widget",
        "metadata": {"name": "w1"}, "spec": {"size": 3}
    }))
    .expect("valid object");
    widgets.create(&PostParams::default(), &obj).await.expect("create widget");
    // The status subresource ignores status on create and accepts it on /status.
    widgets
        .patch_status("w1", &PatchParams::default(), &Patch::Merge(json!({"status": {"phase": "Ready"}})))
        .await
        .expect("patch status");

    let seen = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(obj) = events.try_next().await.expect("watch stream") {
            if obj.data.pointer("/status/phase").and_then(|v| v.as_str()) == Some("Ready") {
                return obj;
            }
        }
        panic!("watch ended")
    })
    .await
    .expect("the watch delivered the status change within 30s");
    assert_eq!(seen.data.pointer("/spec/size"), Some(&json!(3)));
    ns.delete().await.expect("delete namespace");
}

#[tokio::test]
async fn a_second_apiserver_is_independent() {
    let shared = TestNamespace::new("smoke-second").await.expect("ground kube-apiserver");
    let second = KubeCluster::start_ephemeral(StartOptions { controller_manager: false, ..Default::default() })
        .await
        .expect("second apiserver");
    let client = second.client().await.expect("client of the second apiserver");
    let version = client.apiserver_version().await.expect("version");
    assert_eq!(
        format!("v{}.{}", version.major, version.minor),
        terrane_testground::kube_version().rsplit_once('.').map(|(a, _)| a.to_string()).unwrap_or_default()
    );
    let namespaces: Api<Namespace> = Api::all(client);
    assert!(
        namespaces.get_opt(&shared.name).await.expect("get").is_none(),
        "the second apiserver must not see the shared one's namespace"
    );
    assert_ne!(second.port(), KubeCluster::shared_handle().port());
    shared.delete().await.expect("delete namespace");
}
