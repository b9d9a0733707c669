//! The reconciler's environment without a cluster: references and status in
//! the state file, inputs and credentials from the source (or a clouds.yaml
//! on this machine), Events handed to the progress output.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use serde_json::Value;
use terrane_api::{Input, InputSource, ManagedObject, Reference, ResourceStatus};
use terrane_openstack::{CloudClient, OpenStackConnector};
use terrane_provider::{Connector, ProviderSettings};

use super::graph::{self, Key};
use super::objects::Object;
use super::state::State;
use crate::reconciler::{EnvError, Environment, Event, RefState};
use crate::ssh_keys::{PRIVATE_KEY, PUBLIC_KEY};

/// Receives each object's Events as they happen (the progress output).
pub type EventSink = Box<dyn Fn(&str, &Event) + Send + Sync>;

/// Why the source's credentials cannot be used; one line naming the thing.
#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    #[error("{object} names ProviderConfig/{name}, which is not in the source")]
    NoProviderConfig { object: Key, name: String },
    #[error("ProviderConfig/{name}: {message}")]
    Invalid { name: String, message: String },
    #[error(
        "ProviderConfig/{name} takes its credentials from Secret/{secret} key {key:?}, which is not in the source, and no clouds.yaml was found (--clouds-yaml, OS_CLIENT_CONFIG_FILE, ./clouds.yaml, ~/.config/openstack/clouds.yaml, /etc/openstack/clouds.yaml)"
    )]
    NoCloudsYaml { name: String, secret: String, key: String },
    #[error("{path}: {message}")]
    CloudsYaml { path: String, message: String },
}

/// The clouds.yaml to use when the source holds no credentials Secret:
/// `explicit`, else `OS_CLIENT_CONFIG_FILE`, else the places the OpenStack
/// client looks in.
pub fn clouds_yaml_file(explicit: Option<PathBuf>) -> Option<PathBuf> {
    if explicit.is_some() {
        return explicit;
    }
    if let Some(p) = std::env::var_os("OS_CLIENT_CONFIG_FILE") {
        return Some(PathBuf::from(p));
    }
    let home = std::env::var_os("HOME").map(PathBuf::from);
    [Some(PathBuf::from("clouds.yaml")), home.map(|h| h.join(".config/openstack/clouds.yaml"))]
        .into_iter()
        .flatten()
        .chain([PathBuf::from("/etc/openstack/clouds.yaml")])
        .find(|p| p.is_file())
}

/// The text of each key of a Secret manifest (`data` decoded, `stringData` as is).
pub(crate) fn secret_data(object: &Value) -> BTreeMap<String, String> {
    use base64::Engine;
    let mut out = BTreeMap::new();
    for (k, v) in object["data"].as_object().into_iter().flatten() {
        if let Some(bytes) = v.as_str().and_then(|s| base64::engine::general_purpose::STANDARD.decode(s).ok()) {
            out.insert(k.clone(), String::from_utf8_lossy(&bytes).into_owned());
        }
    }
    for (k, v) in object["stringData"].as_object().into_iter().flatten() {
        out.insert(k.clone(), v.as_str().unwrap_or_default().to_string());
    }
    out
}

/// Everything `plan` and `apply` read and write besides the cloud.
pub struct LocalEnv {
    connector: OpenStackConnector,
    providers: BTreeMap<String, ProviderSettings>,
    secrets: BTreeMap<String, BTreeMap<String, String>>,
    config_maps: BTreeMap<String, BTreeMap<String, String>>,
    /// The managed objects of the source.
    declared: BTreeSet<Key>,
    pub state: Mutex<State>,
    /// While planning: what each planned object will be (its ID and observed
    /// state when it exists already, else `NotReady`).
    planned: Mutex<Option<BTreeMap<Key, RefState>>>,
    sink: EventSink,
}

impl LocalEnv {
    /// Reads the ProviderConfigs, Secrets and ConfigMaps of `objects`. Every
    /// managed object, and every one `state` holds, must name a
    /// ProviderConfig of the source.
    pub fn new(
        objects: &[Object],
        state: State,
        clouds_yaml: Option<PathBuf>,
        connector: OpenStackConnector,
        sink: EventSink,
    ) -> Result<Self, CredentialsError> {
        fn by_kind<'a>(objects: &'a [Object], kind: &'a str) -> impl Iterator<Item = &'a Object> {
            objects.iter().filter(move |o| o.kind == kind && !o.managed)
        }
        let secrets: BTreeMap<String, BTreeMap<String, String>> = by_kind(objects, "Secret")
            .map(|o| (o.manifest.name().to_string(), secret_data(&o.manifest.object)))
            .collect();
        let config_maps = by_kind(objects, "ConfigMap")
            .map(|o| {
                let data = o.manifest.object["data"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                    .collect();
                (o.manifest.name().to_string(), data)
            })
            .collect();
        let fallback = clouds_yaml_file(clouds_yaml);
        let mut providers = BTreeMap::new();
        for o in by_kind(objects, "ProviderConfig") {
            let name = o.manifest.name().to_string();
            let pc: terrane_api::ProviderConfig = serde_json::from_value(o.manifest.object.clone())
                .map_err(|e| CredentialsError::Invalid { name: name.clone(), message: e.to_string() })?;
            let os = &pc.spec.openstack;
            let secret_ref = &os.credentials_secret_ref;
            let clouds_yaml = match secrets.get(&secret_ref.name).and_then(|s| s.get(&secret_ref.key)) {
                Some(text) => text.clone(),
                None => {
                    let path = fallback.clone().ok_or_else(|| CredentialsError::NoCloudsYaml {
                        name: name.clone(),
                        secret: secret_ref.name.clone(),
                        key: secret_ref.key.clone(),
                    })?;
                    std::fs::read_to_string(&path).map_err(|e| CredentialsError::CloudsYaml {
                        path: path.display().to_string(),
                        message: e.to_string(),
                    })?
                }
            };
            providers.insert(name, crate::controller::env::settings_of(&pc, clouds_yaml));
        }
        let stored = state.data.objects.iter().filter_map(|(k, e)| Some((k.clone(), e.object.clone()?)));
        let declared_objects = objects.iter().filter(|o| o.managed).map(|o| (o.key.clone(), o.manifest.object.clone()));
        for (key, object) in declared_objects.chain(stored) {
            let name = object["spec"]["providerConfigRef"]["name"].as_str().unwrap_or_default();
            if !providers.contains_key(name) {
                return Err(CredentialsError::NoProviderConfig { object: key, name: name.into() });
            }
        }
        Ok(Self {
            connector,
            providers,
            secrets,
            config_maps,
            declared: objects.iter().filter(|o| o.managed).map(|o| o.key.clone()).collect(),
            state: Mutex::new(state),
            planned: Mutex::new(None),
            sink,
        })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts (`true`) or ends a plan: while planning, references resolve
    /// to what [`LocalEnv::plan_ref`] recorded.
    pub fn planning(&self, on: bool) {
        *self.planned.lock().unwrap_or_else(|p| p.into_inner()) = on.then(BTreeMap::new);
    }

    /// Records what the planned object `key` will be for those referring to it.
    pub fn plan_ref(&self, key: &str, id: Option<&str>, observed: Option<Value>) {
        if let Some(planned) = self.planned.lock().unwrap_or_else(|p| p.into_inner()).as_mut() {
            let state = match (id, observed) {
                (Some(id), Some(observed)) => RefState::Ready(id.to_string(), observed),
                _ => RefState::NotReady,
            };
            planned.insert(key.to_string(), state);
        }
    }

    /// `manifest` as the reconciler's object: the state's UID, generation
    /// (raised when the spec changed since the last apply) and status.
    /// `record`: store the manifest as the one applied (apply, not plan).
    pub fn object_value(&self, key: &str, manifest: &Value, record: bool) -> Value {
        let namespace = manifest["metadata"]["namespace"].as_str().unwrap_or("default").to_string();
        let mut state = self.state();
        let exists = state.data.objects.contains_key(key);
        let entry = state.entry(&namespace, key);
        let changed = entry.object.as_ref().map(|o| &o["spec"]) != Some(&manifest["spec"]);
        let generation = if changed { entry.generation + 1 } else { entry.generation.max(1) };
        let mut value = manifest.clone();
        value["metadata"]["namespace"] = namespace.clone().into();
        value["metadata"]["uid"] = entry.uid.clone().into();
        value["metadata"]["generation"] = generation.into();
        value["status"] = serde_json::to_value(&entry.status).unwrap_or_default();
        if record {
            entry.generation = generation;
            entry.object = Some(manifest.clone());
        } else if !exists {
            state.data.objects.remove(key);
        }
        value
    }

    /// Marks `key` as having a create in doubt, so the reconciler looks for
    /// it by its ownership marker (the plan found it there) before creating.
    pub fn expect_adoption(&self, key: &str) -> Result<(), EnvError> {
        let mut state = self.state();
        if let Some(entry) = state.data.objects.get_mut(key)
            && entry.status.id.is_none()
            && entry.status.pending_create.is_none()
        {
            entry.status.pending_create = Some(k8s_openapi::jiff::Timestamp::now().to_string());
        }
        state.save().map_err(|e| EnvError::Store(e.to_string()))
    }

    /// Forgets `key` (deleted, or orphaned) and writes the state.
    pub fn forget(&self, key: &str) -> Result<(), EnvError> {
        let mut state = self.state();
        state.data.objects.remove(key);
        state.save().map_err(|e| EnvError::Store(e.to_string()))
    }

    fn key_of<O: ManagedObject>(obj: &O) -> Key {
        graph::key(O::KIND, obj.meta().name.as_deref().unwrap_or_default())
    }

    /// The public key of the generated key pair in `secret`, generated and
    /// written to the state first when there is none. While planning none is
    /// generated: without state, the key of the cloud's key pair of that
    /// name is taken as the generated one (the cloud as observed).
    async fn generated_public_key<O: ManagedObject>(&self, obj: &O, secret: &str) -> Result<Option<String>, EnvError> {
        let (known, stateless) = {
            let state = self.state();
            (state.data.secrets.get(secret).and_then(|s| s.get(PUBLIC_KEY)).cloned(), state.is_in_memory())
        };
        if let Some(public) = known {
            return Ok(Some(public.trim().to_string()));
        }
        if self.planned.lock().unwrap_or_else(|p| p.into_inner()).is_some() {
            if !stateless {
                return Ok(None);
            }
            let value = serde_json::to_value(obj).unwrap_or_default();
            let name =
                value["spec"]["resource"]["name"].as_str().or(value["metadata"]["name"].as_str()).unwrap_or_default();
            let cloud = Environment::<O, CloudClient>::cloud(self, obj).await?;
            let path = format!("/os-keypairs/{}", terrane_openstack::query::encode(name));
            let found = terrane_openstack::rest::NOVA.get_opt(&cloud, &path).await.map_err(EnvError::Credentials)?;
            return Ok(found.and_then(|k| k["keypair"]["public_key"].as_str().map(str::to_string)));
        }
        let (private, public) = crate::ssh_keys::generate().map_err(EnvError::Store)?;
        let mut state = self.state();
        state.data.secrets.insert(
            secret.to_string(),
            BTreeMap::from([(PRIVATE_KEY.to_string(), private), (PUBLIC_KEY.to_string(), public.clone())]),
        );
        state.save().map_err(|e| EnvError::Store(e.to_string()))?;
        Ok(Some(public))
    }
}

#[async_trait]
impl<O: ManagedObject> Environment<O, CloudClient> for LocalEnv {
    async fn resolve(&self, _obj: &O, r: &Reference) -> Result<RefState, EnvError> {
        let key = graph::key(r.kind, &r.name);
        if let Some(planned) = self.planned.lock().unwrap_or_else(|p| p.into_inner()).as_ref()
            && let Some(found) = planned.get(&key)
        {
            return Ok(found.clone());
        }
        let state = self.state();
        let entry = state.data.objects.get(&key);
        Ok(match entry {
            Some(e) if e.status.is_ready() && e.status.id.is_some() => RefState::Ready(
                e.status.id.clone().unwrap_or_default(),
                e.status.resource.clone().unwrap_or(Value::Null),
            ),
            Some(_) => RefState::NotReady,
            None if self.declared.contains(&key) => RefState::NotReady,
            None => RefState::Missing,
        })
    }

    async fn input(&self, obj: &O, input: &Input) -> Result<Option<String>, EnvError> {
        Ok(match &input.source {
            InputSource::SecretKey { name, key } => match self.secrets.get(name) {
                Some(secret) => secret.get(key).cloned(),
                None => self.state().data.secrets.get(name).and_then(|s| s.get(key)).cloned(),
            },
            InputSource::ConfigMapKey { name, key } => self.config_maps.get(name).and_then(|c| c.get(key)).cloned(),
            InputSource::GeneratedSshKey { secret } => self.generated_public_key(obj, secret).await?,
        })
    }

    async fn cloud(&self, obj: &O) -> Result<Arc<CloudClient>, EnvError> {
        let name = &obj.common().provider_config_ref.name;
        let settings = self.providers.get(name).ok_or_else(|| EnvError::ProviderConfigMissing(name.clone()))?;
        self.connector.connect(settings).await.map_err(EnvError::Credentials)
    }

    async fn save_status(&self, obj: &O, status: &ResourceStatus) -> Result<(), EnvError> {
        let namespace = obj.meta().namespace.clone().unwrap_or_else(|| "default".into());
        let mut state = self.state();
        state.entry(&namespace, &Self::key_of(obj)).status = status.clone();
        state.save().map_err(|e| EnvError::Store(e.to_string()))
    }

    async fn event(&self, obj: &O, event: Event) {
        (self.sink)(&Self::key_of(obj), &event);
    }

    async fn referrers(&self, obj: &O) -> Result<Vec<String>, EnvError> {
        let target = Self::key_of(obj);
        let state = self.state();
        let mut found = Vec::new();
        for (key, entry) in &state.data.objects {
            let Some(object) = &entry.object else { continue };
            let kind = object["kind"].as_str().unwrap_or_default();
            let refs = super::objects::managed_references(kind, object).and_then(Result::ok).unwrap_or_default();
            if refs.iter().any(|r| graph::key(r.kind, &r.name) == target) {
                found.push(key.clone());
            }
        }
        Ok(found)
    }
}
