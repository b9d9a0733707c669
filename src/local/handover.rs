//! Handing a standalone state to a cluster and back: `terrane state push`
//! applies the source's objects into a namespace with each object's cloud ID
//! in its status, so the controller finds every cloud object by ID and
//! creates nothing (the bootstrap of a first management cluster: apply from
//! a laptop, then push). `terrane state pull` writes the cluster's statuses
//! into a state file and lets the controller go of the objects (each set to
//! `deletionPolicy: Orphan`, then deleted), so `terrane apply` takes over.

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams};
use kube::discovery::ApiResource;
use serde_json::{Value, json};

use super::graph::{self, Key};
use super::objects::Object;
use super::state::State;
use crate::controller::PAUSED_ANNOTATION;

/// Why a hand-over stopped; one line naming the thing.
#[derive(Debug, thiserror::Error)]
pub enum HandoverError {
    #[error("kube context {context:?}: {message}")]
    Context { context: String, message: String },
    #[error("{object}: {message}")]
    Kube { object: String, message: String },
    #[error(
        "{0}: a create is in doubt (pendingCreate without a cloud ID); run terrane apply to settle it before handing over"
    )]
    InDoubt(Key),
    #[error("{0}")]
    Credentials(String),
}

/// A client of kube context `context` (the current one when `None`).
pub async fn client(context: Option<&str>) -> Result<kube::Client, HandoverError> {
    let shown = context.unwrap_or("(current)").to_string();
    let fail = |message: String| HandoverError::Context { context: shown.clone(), message };
    let options = kube::config::KubeConfigOptions { context: context.map(str::to_string), ..Default::default() };
    let config = kube::Config::from_kubeconfig(&options).await.map_err(|e| fail(e.to_string()))?;
    kube::Client::try_from(config).map_err(|e| fail(e.to_string()))
}

/// The API of a Terrane kind (a managed kind or ProviderConfig).
pub(crate) fn api_resource(kind: &str) -> ApiResource {
    let plural = match kind {
        "ProviderConfig" => "providerconfigs".to_string(),
        k => crate::kinds::all().into_iter().find(|x| x.kind == k).map(|x| x.plural).unwrap_or_default(),
    };
    ApiResource {
        group: "terrane.dev".into(),
        version: "v1alpha1".into(),
        api_version: "terrane.dev/v1alpha1".into(),
        kind: kind.into(),
        plural,
    }
}

fn dynamic(client: &kube::Client, namespace: &str, manifest: &Value) -> Api<DynamicObject> {
    let (api_version, kind) =
        (manifest["apiVersion"].as_str().unwrap_or_default(), manifest["kind"].as_str().unwrap_or_default());
    let ar = match (api_version, kind) {
        ("v1", k) => ApiResource {
            group: String::new(),
            version: "v1".into(),
            api_version: "v1".into(),
            kind: k.into(),
            plural: format!("{}s", k.to_ascii_lowercase()),
        },
        (_, k) => api_resource(k),
    };
    Api::namespaced_with(client.clone(), namespace, &ar)
}

const MANAGER: &str = "terrane";

async fn apply(api: &Api<DynamicObject>, key: &str, mut manifest: Value, namespace: &str) -> Result<(), HandoverError> {
    manifest["metadata"]["namespace"] = json!(namespace);
    let name = manifest["metadata"]["name"].as_str().unwrap_or_default().to_string();
    let obj: DynamicObject = serde_json::from_value(manifest)
        .map_err(|e| HandoverError::Kube { object: key.into(), message: e.to_string() })?;
    api.patch(&name, &PatchParams::apply(MANAGER).force(), &Patch::Apply(&obj))
        .await
        .map(|_| ())
        .map_err(|e| HandoverError::Kube { object: key.into(), message: e.to_string() })
}

/// What a push did.
#[derive(Debug, Default)]
pub struct Pushed {
    /// Objects given their cloud ID.
    pub adopted: usize,
    /// Objects the state had no cloud ID for (the controller creates them).
    pub to_create: usize,
    /// Secrets, ConfigMaps and ProviderConfigs applied.
    pub others: usize,
}

/// Pushes `objects` and their `state` into `namespace`. `clouds_yaml`:
/// the credentials to store for a ProviderConfig whose Secret the source
/// does not hold. Every managed object is applied paused, given its status,
/// then unpaused: the controller never sees it without its cloud ID.
pub async fn push(
    client: &kube::Client,
    namespace: &str,
    objects: &[Object],
    state: &State,
    clouds_yaml: Option<&str>,
) -> Result<Pushed, HandoverError> {
    for (key, entry) in &state.data.objects {
        if entry.status.id.is_none() && entry.status.pending_create.is_some() {
            return Err(HandoverError::InDoubt(key.clone()));
        }
    }
    let mut pushed = Pushed::default();
    let secrets: Api<Secret> = Api::namespaced(client.clone(), namespace);
    let declared_secrets: Vec<&str> =
        objects.iter().filter(|o| o.kind == "Secret").map(|o| o.manifest.name()).collect();
    for o in objects.iter().filter(|o| !o.managed) {
        apply(&dynamic(client, namespace, &o.manifest.object), &o.key, o.manifest.object.clone(), namespace).await?;
        pushed.others += 1;
        if o.kind == "ProviderConfig" {
            let secret_ref = &o.manifest.object["spec"]["openstack"]["credentialsSecretRef"];
            let (name, key) =
                (secret_ref["name"].as_str().unwrap_or_default(), secret_ref["key"].as_str().unwrap_or("clouds.yaml"));
            if !declared_secrets.contains(&name) {
                let text = clouds_yaml.ok_or_else(|| {
                    HandoverError::Credentials(format!(
                        "{}: Secret/{name} is not in the source and no clouds.yaml was found to create it from",
                        o.key
                    ))
                })?;
                let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "stringData": {key: text}});
                apply(&dynamic(client, namespace, &secret), &format!("Secret/{name}"), secret, namespace).await?;
            }
        }
    }
    for (name, data) in &state.data.secrets {
        let secret = Secret {
            metadata: kube::api::ObjectMeta { name: Some(name.clone()), ..Default::default() },
            type_: Some("kubernetes.io/ssh-auth".into()),
            data: Some(
                data.iter().map(|(k, v)| (k.clone(), ByteString(v.clone().into_bytes()))).collect::<BTreeMap<_, _>>(),
            ),
            ..Default::default()
        };
        secrets
            .patch(name, &PatchParams::apply(MANAGER).force(), &Patch::Apply(&secret))
            .await
            .map_err(|e| HandoverError::Kube { object: format!("Secret/{name}"), message: e.to_string() })?;
    }
    for o in objects.iter().filter(|o| o.managed) {
        let api = dynamic(client, namespace, &o.manifest.object);
        let status = state.data.objects.get(&o.key).map(|e| &e.status).filter(|s| s.id.is_some());
        let Some(status) = status else {
            apply(&api, &o.key, o.manifest.object.clone(), namespace).await?;
            pushed.to_create += 1;
            continue;
        };
        let mut paused = o.manifest.object.clone();
        paused["metadata"]["annotations"][PAUSED_ANNOTATION] = json!("true");
        apply(&api, &o.key, paused, namespace).await?;
        let kube_err = |e: kube::Error| HandoverError::Kube { object: o.key.clone(), message: e.to_string() };
        let status = json!({"status": {"id": status.id, "resource": status.resource}});
        api.patch_status(o.manifest.name(), &PatchParams::default(), &Patch::Merge(&status)).await.map_err(kube_err)?;
        let unpause = json!({"metadata": {"annotations": {PAUSED_ANNOTATION: null}}});
        api.patch(o.manifest.name(), &PatchParams::default(), &Patch::Merge(&unpause)).await.map_err(kube_err)?;
        pushed.adopted += 1;
    }
    Ok(pushed)
}

/// Pulls every managed object of `namespace` into `state` (status and
/// manifest), then lets the controller go of each: `deletionPolicy: Orphan`,
/// then deleted. Returns the keys pulled.
pub async fn pull(client: &kube::Client, namespace: &str, state: &mut State) -> Result<Vec<Key>, HandoverError> {
    let mut pulled = Vec::new();
    let mut apis = Vec::new();
    for kind in crate::kinds::all() {
        let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), namespace, &api_resource(kind.kind));
        let list = api
            .list(&ListParams::default())
            .await
            .map_err(|e| HandoverError::Kube { object: kind.plural.clone(), message: e.to_string() })?;
        for obj in list.items {
            let name = obj.metadata.name.clone().unwrap_or_default();
            let key = graph::key(kind.kind, &name);
            let status: terrane_api::ResourceStatus =
                serde_json::from_value(obj.data["status"].clone()).unwrap_or_default();
            if status.id.is_none() && status.pending_create.is_some() {
                return Err(HandoverError::InDoubt(key));
            }
            let manifest = json!({
                "apiVersion": "terrane.dev/v1alpha1", "kind": kind.kind,
                "metadata": {"name": name, "namespace": namespace},
                "spec": obj.data["spec"],
            });
            if kind.kind == "KeyPair" {
                let secret_name = obj.data["spec"]["resource"]["privateKeySecretName"]
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("{name}-ssh-key"));
                let secrets: Api<Secret> = Api::namespaced(client.clone(), namespace);
                let found = secrets.get_opt(&secret_name).await.map_err(|e| HandoverError::Kube {
                    object: format!("Secret/{secret_name}"),
                    message: e.to_string(),
                })?;
                if let Some(data) = found.and_then(|s| s.data) {
                    let text = data.into_iter().map(|(k, v)| (k, String::from_utf8_lossy(&v.0).into_owned())).collect();
                    state.data.secrets.insert(secret_name, text);
                }
            }
            let entry = state.entry(namespace, &key);
            entry.generation = 1;
            entry.object = Some(manifest);
            entry.status =
                terrane_api::ResourceStatus { id: status.id, resource: status.resource, ..Default::default() };
            pulled.push(key);
            apis.push((api.clone(), name));
        }
    }
    state.data.handed_over = None;
    state.save().map_err(|e| HandoverError::Credentials(e.to_string()))?;
    for (api, name) in apis {
        let orphan = json!({"spec": {"deletionPolicy": "Orphan"}});
        let kube_err = |e: kube::Error| HandoverError::Kube { object: name.clone(), message: e.to_string() };
        api.patch(&name, &PatchParams::default(), &Patch::Merge(&orphan)).await.map_err(kube_err)?;
        api.delete(&name, &DeleteParams::default()).await.map_err(kube_err)?;
    }
    Ok(pulled)
}
