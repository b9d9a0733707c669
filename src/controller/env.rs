//! The reconciler's environment on a Kubernetes cluster.

use std::sync::Arc;

use async_trait::async_trait;
use k8s_openapi::api::core::v1::Secret;
use kube::ResourceExt;
use kube::api::{Api, Patch, PatchParams};
use serde_json::{Value, json};
use terrane_api::{Input, ManagedObject, ProviderConfig, Reference, ResourceStatus};
use terrane_openstack::{CloudClient, OpenStackConnector};
use terrane_provider::{Connector, ProviderError, ProviderSettings};

use super::cache::{CREDENTIALS_LABEL, Caches};
use super::provider_config::set_in_use;
use crate::reconciler::{EnvError, Environment, Event, RefState};

/// Shared by every reconcile.
pub struct Shared {
    pub client: kube::Client,
    pub connector: OpenStackConnector,
    pub recorder: super::events::EventRecorder,
    pub caches: Arc<Caches>,
    /// The resourceVersion of the last status this process wrote, by UID:
    /// a cached copy older than that is read again from the apiserver.
    pub written: std::sync::Mutex<std::collections::HashMap<String, u64>>,
}

impl Shared {
    /// True when the cached `obj` already holds the last status written for it.
    pub fn is_current<O: ManagedObject>(&self, obj: &O) -> bool {
        let uid = obj.meta().uid.clone().unwrap_or_default();
        let written = self.written.lock().unwrap_or_else(|p| p.into_inner()).get(&uid).copied();
        match (written, obj.resource_version().and_then(|v| v.parse::<u64>().ok())) {
            (None, _) => true,
            (Some(w), Some(have)) => have >= w,
            (Some(_), None) => false,
        }
    }
}

/// One reconcile's view of the cluster.
pub struct KubeEnv {
    pub shared: Arc<Shared>,
}

/// The status as a merge patch: absent optional fields become null, so a
/// cleared ID really is cleared.
pub fn status_patch(status: &ResourceStatus) -> Value {
    let mut value = serde_json::to_value(status).unwrap_or_else(|_| json!({}));
    for key in ["id", "resource", "pendingCreate", "markerAbsentSince"] {
        if value.get(key).is_none() {
            value[key] = Value::Null;
        }
    }
    json!({ "status": value })
}

/// A ProviderConfig with its Secret.
pub struct LoadedProvider {
    pub config: ProviderConfig,
    pub secret: Secret,
    pub settings: ProviderSettings,
}

/// Reads a ProviderConfig and its Secret into provider settings.
pub async fn provider_settings(shared: &Shared, ns: &str, name: &str) -> Result<ProviderSettings, EnvError> {
    Ok(load_provider(shared, ns, name).await?.settings)
}

/// The Secret `name` of `ns`: from the credentials cache, else read and
/// labelled so that the cache holds it from now on.
pub async fn credentials_secret(shared: &Shared, ns: &str, name: &str) -> Result<Option<Secret>, EnvError> {
    let key = kube::runtime::reflector::ObjectRef::new(name).within(ns);
    if let Some(s) = shared.caches.secrets.get(&key) {
        return Ok(Some(s.as_ref().clone()));
    }
    let api = Api::<Secret>::namespaced(shared.client.clone(), ns);
    let secret = api.get_opt(name).await.map_err(|e| EnvError::Store(format!("reading Secret/{name}: {e}")))?;
    if secret.as_ref().is_some_and(|s| !s.labels().contains_key(CREDENTIALS_LABEL)) {
        let patch = json!({"metadata": {"labels": {CREDENTIALS_LABEL: "true"}}});
        api.patch(name, &PatchParams::default(), &Patch::Merge(patch))
            .await
            .map_err(|e| EnvError::Store(format!("labelling Secret/{name}: {e}")))?;
    }
    Ok(secret)
}

/// A ProviderConfig (from the cache) and its Secret. Errors name the missing piece.
pub async fn load_provider(shared: &Shared, ns: &str, name: &str) -> Result<LoadedProvider, EnvError> {
    let key = kube::runtime::reflector::ObjectRef::new(name).within(ns);
    let pc = shared
        .caches
        .provider_configs
        .get(&key)
        .map(|p| p.as_ref().clone())
        .ok_or_else(|| EnvError::ProviderConfigMissing(name.to_string()))?;
    let os = &pc.spec.openstack;
    let secret_ref = &os.credentials_secret_ref;
    let secret = credentials_secret(shared, ns, &secret_ref.name).await?.ok_or_else(|| {
        EnvError::SecretMissing(format!(
            "Secret/{} (named by ProviderConfig/{name} spec.openstack.credentialsSecretRef; it does not exist yet)",
            secret_ref.name
        ))
    })?;
    let bytes = secret.data.as_ref().and_then(|d| d.get(&secret_ref.key)).ok_or_else(|| {
        EnvError::SecretMissing(format!(
            "Secret/{} key {:?} (ProviderConfig/{name} spec.openstack.credentialsSecretRef.key; the Secret has no such key yet)",
            secret_ref.name, secret_ref.key
        ))
    })?;
    let clouds_yaml = String::from_utf8(bytes.0.clone()).map_err(|_| {
        EnvError::Credentials(ProviderError::invalid(format!(
            "Secret {ns}/{} key {:?} is not UTF-8 text",
            secret_ref.name, secret_ref.key
        )))
    })?;
    let settings = settings_of(&pc, clouds_yaml);
    Ok(LoadedProvider { config: pc, secret, settings })
}

/// The provider settings of ProviderConfig `pc` with its credentials' text
/// (the controller's and the local driver's alike).
pub fn settings_of(pc: &ProviderConfig, clouds_yaml: String) -> ProviderSettings {
    let os = &pc.spec.openstack;
    let limit = os.rate_limit.clone().unwrap_or_default();
    ProviderSettings {
        clouds_yaml,
        cloud: os.cloud.clone(),
        region: os.region.clone(),
        requests_per_second: limit.requests_per_second,
        burst: limit.burst,
    }
}

#[async_trait]
impl<O: ManagedObject> Environment<O, CloudClient> for KubeEnv {
    async fn resolve(&self, obj: &O, r: &Reference) -> Result<RefState, EnvError> {
        let in_use = obj.status().is_some_and(|s| s.id.is_some());
        let ns = obj.namespace().unwrap_or_default();
        self.shared
            .caches
            .resolve(&ns, r.kind, &r.name, in_use)
            .ok_or_else(|| EnvError::Store(format!("{} is not a kind this controller runs", r.kind)))
    }

    async fn input(&self, obj: &O, input: &Input) -> Result<Option<String>, EnvError> {
        super::inputs::value(&self.shared.client, obj, &input.source).await
    }

    async fn cloud(&self, obj: &O) -> Result<Arc<CloudClient>, EnvError> {
        let ns = obj.namespace().unwrap_or_default();
        let loaded = load_provider(&self.shared, &ns, &obj.common().provider_config_ref.name).await?;
        // Guard the credentials before anything is created with them.
        let store = |e: super::provider_config::ProviderConfigError| EnvError::Store(e.to_string());
        set_in_use(&Api::namespaced(self.shared.client.clone(), &ns), &loaded.config, true).await.map_err(store)?;
        set_in_use(&Api::namespaced(self.shared.client.clone(), &ns), &loaded.secret, true).await.map_err(store)?;
        self.shared.connector.connect(&loaded.settings).await.map_err(EnvError::Credentials)
    }

    async fn save_status(&self, obj: &O, status: &ResourceStatus) -> Result<(), EnvError> {
        let api = Api::<O>::namespaced(self.shared.client.clone(), &obj.namespace().unwrap_or_default());
        let stored = api
            .patch_status(&obj.name_any(), &PatchParams::default(), &Patch::Merge(status_patch(status)))
            .await
            .map_err(|e| EnvError::Store(format!("storing status: {e}")))?;
        if let (Some(uid), Some(version)) =
            (obj.meta().uid.clone(), stored.resource_version().and_then(|v| v.parse::<u64>().ok()))
        {
            self.shared.written.lock().unwrap_or_else(|p| p.into_inner()).insert(uid, version);
        }
        Ok(())
    }

    async fn event(&self, obj: &O, event: Event) {
        if let Err(e) = self.shared.recorder.publish(&event, obj.object_ref(&())).await {
            tracing::warn!(error = %e, "could not record an event");
        }
    }

    async fn referrers(&self, obj: &O) -> Result<Vec<String>, EnvError> {
        Ok(self.shared.caches.referrers(&obj.namespace().unwrap_or_default(), O::KIND, &obj.name_any()))
    }
}
