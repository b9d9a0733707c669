//! A test-only kind `Widget`, an in-memory cloud whose next answers can be
//! scripted, and an environment that plays the apiserver.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use terrane_api::{Input, ManagedObject, Reference, ResourceStatus};
use terrane_provider::{Desired, Diff, ExternalKind, Freshness, ProviderError, ProviderResult, Readiness};

use crate::reconciler::{EnvError, Environment, Event, Outcome, Reconciler, RefState};

terrane_api::managed_kind! {
    /// A cloud object with a mutable `size`, an immutable `zone`, and an
    /// optional reference to another Widget.
    kind: Widget "Widget", spec: WidgetSpec, short: "twidget",
    resource: WidgetResource, filter: WidgetFilter,
    columns: [],
    references: |w| w
        .spec
        .resource
        .iter()
        .filter_map(|r| r.needs.as_ref())
        .map(|n| Reference::to::<Widget>("resource.needs", n))
        .collect()
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WidgetResource {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub needs: Option<String>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct WidgetFilter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// A widget as the fake cloud holds it.
#[derive(Serialize, Deserialize, schemars::JsonSchema, Clone, Debug, PartialEq)]
pub struct RemoteWidget {
    pub id: String,
    pub name: String,
    /// The UID of the object that created it (the ownership marker).
    pub marker: String,
    pub size: i32,
    pub zone: String,
    /// `ACTIVE`, `BUILD` or `ERROR`.
    pub status: String,
}

/// What the next create does instead of succeeding.
pub enum CreateScript {
    Fail(ProviderError),
    /// The object is made, but the answer is lost.
    LandsButAnswerLost,
}

/// An in-memory cloud. Every call is logged as `"create"`, `"get <id>"`, ...
#[derive(Default)]
pub struct FakeCloud {
    pub objects: Mutex<BTreeMap<String, RemoteWidget>>,
    pub calls: Mutex<Vec<String>>,
    pub next_create: Mutex<VecDeque<CreateScript>>,
    pub next_delete: Mutex<VecDeque<ProviderError>>,
    ids: Mutex<u32>,
}

impl FakeCloud {
    fn log(&self, call: String) {
        self.calls.lock().unwrap().push(call);
    }

    /// Adds a widget as if someone had made it; returns its ID.
    pub fn insert(&self, name: &str, marker: &str, size: i32) -> String {
        let mut n = self.ids.lock().unwrap();
        *n += 1;
        let id = format!("w-{n}");
        let w = RemoteWidget {
            id: id.clone(),
            name: name.into(),
            marker: marker.into(),
            size,
            zone: "a".into(),
            status: "ACTIVE".into(),
        };
        self.objects.lock().unwrap().insert(id.clone(), w);
        id
    }

    pub fn count(&self) -> usize {
        self.objects.lock().unwrap().len()
    }

    pub fn last_get(&self) -> String {
        self.calls.lock().unwrap().iter().rev().find(|c| c.starts_with("get ")).cloned().unwrap_or_default()
    }

    pub fn calls_of(&self, prefix: &str) -> usize {
        self.calls.lock().unwrap().iter().filter(|c| c.starts_with(prefix)).count()
    }

    pub fn set(&self, id: &str, change: impl FnOnce(&mut RemoteWidget)) {
        if let Some(w) = self.objects.lock().unwrap().get_mut(id) {
            change(w);
        }
    }
}

pub struct FakeKind;

#[async_trait]
impl ExternalKind for FakeKind {
    type Object = Widget;
    type Cloud = FakeCloud;
    type Resource = WidgetResource;
    type Filter = WidgetFilter;
    type Remote = RemoteWidget;

    async fn get(&self, c: &FakeCloud, id: &str, freshness: Freshness) -> ProviderResult<Option<RemoteWidget>> {
        c.log(format!("get {id} {freshness:?}"));
        Ok(c.objects.lock().unwrap().get(id).cloned())
    }

    async fn find(&self, c: &FakeCloud, f: &WidgetFilter) -> ProviderResult<Vec<RemoteWidget>> {
        c.log("find".into());
        let all = c.objects.lock().unwrap();
        Ok(all.values().filter(|w| f.name.as_ref().is_none_or(|n| *n == w.name)).cloned().collect())
    }

    async fn find_owned(
        &self,
        c: &FakeCloud,
        d: &Desired<'_, WidgetResource>,
        _: Freshness,
    ) -> ProviderResult<Vec<RemoteWidget>> {
        c.log("find_owned".into());
        Ok(c.objects.lock().unwrap().values().filter(|w| w.marker == d.uid).cloned().collect())
    }

    fn id(&self, r: &RemoteWidget) -> String {
        r.id.clone()
    }

    fn diff(&self, d: &Desired<'_, WidgetResource>, r: &RemoteWidget) -> Diff {
        let mut diff = Diff::default();
        diff.check("name", d.name(d.resource.name.as_ref()).as_ref(), &r.name);
        diff.check("size", d.resource.size.as_ref(), &r.size);
        diff.check_immutable("zone", d.resource.zone.as_ref(), &r.zone);
        diff
    }

    fn readiness(&self, r: &RemoteWidget) -> Readiness {
        match r.status.as_str() {
            "ACTIVE" => Readiness::Ready,
            "ERROR" => Readiness::Failed(format!("widget {} is in ERROR", r.id)),
            other => Readiness::Pending(format!("widget {} is {other}", r.id)),
        }
    }

    async fn create(&self, c: &FakeCloud, d: &Desired<'_, WidgetResource>) -> ProviderResult<String> {
        c.log("create".into());
        let script = c.next_create.lock().unwrap().pop_front();
        if let Some(CreateScript::Fail(e)) = script {
            return Err(e);
        }
        let name = d.name(d.resource.name.as_ref()).unwrap_or_default();
        let id = c.insert(&name, d.uid, d.resource.size.unwrap_or(1));
        if let Some(zone) = &d.resource.zone {
            c.set(&id, |w| w.zone = zone.clone());
        }
        match script {
            Some(CreateScript::LandsButAnswerLost) => Err(ProviderError::OutcomeUnknown("no answer in 5 s".into())),
            _ => Ok(id),
        }
    }

    async fn update(
        &self,
        c: &FakeCloud,
        d: &Desired<'_, WidgetResource>,
        r: &RemoteWidget,
        _: &Diff,
    ) -> ProviderResult<()> {
        c.log(format!("update {}", r.id));
        let name = d.name(d.resource.name.as_ref());
        c.set(&r.id, |w| {
            if let Some(size) = d.resource.size {
                w.size = size;
            }
            if let Some(name) = name {
                w.name = name;
            }
        });
        Ok(())
    }

    async fn delete(&self, c: &FakeCloud, id: &str) -> ProviderResult<()> {
        c.log(format!("delete {id}"));
        if let Some(e) = c.next_delete.lock().unwrap().pop_front() {
            return Err(e);
        }
        c.objects.lock().unwrap().remove(id);
        Ok(())
    }
}

/// The reconciler's environment, in memory: references by name, referrers,
/// every saved status and Event.
#[derive(Default)]
pub struct FakeEnv {
    pub cloud: Arc<FakeCloud>,
    pub refs: Mutex<BTreeMap<String, RefState>>,
    pub referrers: Mutex<Vec<String>>,
    pub cloud_error: Mutex<Option<EnvError>>,
    pub saved: Mutex<Vec<ResourceStatus>>,
    pub events: Mutex<Vec<Event>>,
}

impl FakeEnv {
    pub fn reasons(&self) -> Vec<&'static str> {
        self.events.lock().unwrap().iter().map(|e| e.reason).collect()
    }

    pub fn saved(&self) -> Vec<ResourceStatus> {
        self.saved.lock().unwrap().clone()
    }
}

#[async_trait]
impl Environment<Widget, FakeCloud> for FakeEnv {
    async fn resolve(&self, _: &Widget, r: &Reference) -> Result<RefState, EnvError> {
        Ok(self.refs.lock().unwrap().get(&r.name).cloned().unwrap_or(RefState::Missing))
    }

    async fn input(&self, _: &Widget, _: &Input) -> Result<Option<String>, EnvError> {
        Ok(None)
    }

    async fn cloud(&self, _: &Widget) -> Result<Arc<FakeCloud>, EnvError> {
        match self.cloud_error.lock().unwrap().clone() {
            Some(e) => Err(e),
            None => Ok(self.cloud.clone()),
        }
    }

    async fn save_status(&self, _: &Widget, status: &ResourceStatus) -> Result<(), EnvError> {
        self.saved.lock().unwrap().push(status.clone());
        Ok(())
    }

    async fn event(&self, _: &Widget, event: Event) {
        self.events.lock().unwrap().push(event);
    }

    async fn referrers(&self, _: &Widget) -> Result<Vec<String>, EnvError> {
        Ok(self.referrers.lock().unwrap().clone())
    }
}

/// A Widget `name` (UID `uid-<name>`, generation 1) with `spec` merged in.
pub fn widget(name: &str, spec: serde_json::Value) -> Widget {
    let mut full = serde_json::json!({"providerConfigRef": {"name": "cloud"}});
    if let (Some(full), Some(extra)) = (full.as_object_mut(), spec.as_object()) {
        full.extend(extra.clone());
    }
    let mut w: Widget = serde_json::from_value(serde_json::json!({
        "apiVersion": "terrane.dev/v1alpha1", "kind": "Widget",
        "metadata": {"name": name, "namespace": "ns", "uid": format!("uid-{name}"), "generation": 1},
        "spec": full,
    }))
    .expect("a valid Widget");
    w.status = None;
    w
}

pub fn reconciler() -> Reconciler<FakeKind> {
    Reconciler::new(FakeKind, std::time::Duration::from_secs(600), std::time::Duration::from_secs(60))
}

/// Reconciles `w` and, as the apiserver would, keeps the last status saved.
pub async fn apply(r: &Reconciler<FakeKind>, w: &mut Widget, env: &FakeEnv) -> Outcome {
    let outcome = r.apply(w, env).await;
    w.status = env.saved.lock().unwrap().last().cloned();
    outcome
}

/// Deletes `w` the same way.
pub async fn cleanup(r: &Reconciler<FakeKind>, w: &mut Widget, env: &FakeEnv) -> Outcome {
    let outcome = r.cleanup(w, env).await;
    w.status = env.saved.lock().unwrap().last().cloned();
    outcome
}

/// The Ready condition's reason and message.
pub fn ready(w: &Widget) -> (String, String) {
    w.status()
        .and_then(|s| s.condition(terrane_api::CONDITION_READY))
        .map(|c| (c.reason.clone(), c.message.clone()))
        .unwrap_or_default()
}
