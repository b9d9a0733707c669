//! A namespace's live objects as a source and a state, for `terrane diff`:
//! what the controller would change right now, planned by the same code as
//! `terrane plan`.

use kube::api::{Api, DynamicObject, ListParams};
use serde_json::{Value, json};

use super::handover::{HandoverError, api_resource};
use super::objects::{self, Object};
use super::state::State;
use crate::manifests::Manifest;

fn manifest(api_version: &str, kind: &str, obj: &DynamicObject, document: usize) -> Manifest {
    let mut object = json!({
        "apiVersion": api_version, "kind": kind,
        "metadata": {"name": obj.metadata.name, "namespace": obj.metadata.namespace},
    });
    for field in ["spec", "data", "stringData"] {
        if !obj.data[field].is_null() {
            object[field] = obj.data[field].clone();
        }
    }
    Manifest { file: "cluster".into(), document, object }
}

async fn list(api: Api<DynamicObject>, what: &str) -> Result<Vec<DynamicObject>, HandoverError> {
    api.list(&ListParams::default())
        .await
        .map(|l| l.items)
        .map_err(|e| HandoverError::Kube { object: what.into(), message: e.to_string() })
}

/// The objects of `namespace` (managed kinds, ProviderConfigs, Secrets,
/// ConfigMaps) in apply order, and a state in memory holding each managed
/// object's UID, generation and status as the apiserver has them.
pub async fn read(client: &kube::Client, namespace: &str) -> Result<(Vec<Object>, State), HandoverError> {
    let mut manifests = Vec::new();
    let mut state = State::in_memory();
    let core = |kind: &str, plural: &str| kube::discovery::ApiResource {
        group: String::new(),
        version: "v1".into(),
        api_version: "v1".into(),
        kind: kind.into(),
        plural: plural.into(),
    };
    for (kind, plural) in [("Secret", "secrets"), ("ConfigMap", "configmaps")] {
        for obj in list(Api::namespaced_with(client.clone(), namespace, &core(kind, plural)), plural).await? {
            if kind == "Secret" {
                let data: Value = obj.data["data"].clone();
                let text = super::env::secret_data(&json!({"data": data}));
                state.data.secrets.insert(obj.metadata.name.clone().unwrap_or_default(), text);
            }
            manifests.push(manifest("v1", kind, &obj, manifests.len() + 1));
        }
    }
    let pc = api_resource("ProviderConfig");
    for obj in list(Api::namespaced_with(client.clone(), namespace, &pc), "providerconfigs").await? {
        manifests.push(manifest("terrane.dev/v1alpha1", "ProviderConfig", &obj, manifests.len() + 1));
    }
    for kind in crate::kinds::all() {
        let api = Api::namespaced_with(client.clone(), namespace, &api_resource(kind.kind));
        for obj in list(api, &kind.plural).await? {
            if obj.metadata.deletion_timestamp.is_some() {
                continue;
            }
            let m = manifest("terrane.dev/v1alpha1", kind.kind, &obj, manifests.len() + 1);
            let key = super::graph::key(kind.kind, m.name());
            let entry = state.entry(namespace, &key);
            entry.uid = obj.metadata.uid.clone().unwrap_or_default();
            entry.generation = obj.metadata.generation.unwrap_or(1);
            entry.object = Some(m.object.clone());
            entry.status = serde_json::from_value(obj.data["status"].clone()).unwrap_or_default();
            manifests.push(m);
        }
    }
    let objects = objects::load(manifests)
        .map_err(|e| HandoverError::Kube { object: namespace.into(), message: e.to_string() })?;
    Ok((objects, state))
}
