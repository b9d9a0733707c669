//! What a provider implements per kind: look-ups, a pure comparison, and
//! create / update / delete.
//!
//! The generic reconciler owns the order of things: it finds the cloud object
//! by `status.id`, else by `spec.import`, else by the ownership marker a
//! create wrote (adoption after a crash), compares it with [`ExternalKind::diff`]
//! and only then creates, updates or deletes. Splitting observe into look-ups
//! and a pure diff keeps each kind short and lets a provider serve look-ups
//! from one list call per kind (see [`Freshness`]).

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde::Serialize;
use serde::de::DeserializeOwned;
use terrane_api::ManagedObject;

use crate::error::ProviderResult;

/// How current a look-up's answer must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// Ask the cloud now (after a change, or when the spec changed).
    Fresh,
    /// An answer from a list of this kind made within `max_age_secs` will do
    /// (periodic drift checks of many objects).
    Cached { max_age_secs: u64 },
}

/// What the reconciler resolved before calling the provider: the cloud ID
/// and observed cloud object (`status.resource`) of every Terrane object the
/// spec references, by `(kind, name)`, and the value of every input (Secret
/// or ConfigMap key) by spec field. `Debug` never shows input values: they
/// may be secrets.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ResolvedRefs {
    refs: BTreeMap<(String, String), (String, serde_json::Value)>,
    inputs: BTreeMap<String, String>,
}

impl std::fmt::Debug for ResolvedRefs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResolvedRefs")
            .field("ids", &self.refs.iter().map(|(k, v)| (k, &v.0)).collect::<Vec<_>>())
            .field("inputs", &self.inputs.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl ResolvedRefs {
    /// Records the referenced object `kind/name` (the reconciler does this
    /// for every reference before calling the provider).
    pub fn insert(&mut self, kind: &str, name: &str, id: impl Into<String>, resource: serde_json::Value) {
        self.refs.insert((kind.to_string(), name.to_string()), (id.into(), resource));
    }

    pub fn insert_input(&mut self, field: &str, value: String) {
        self.inputs.insert(field.to_string(), value);
    }

    fn entry(&self, kind: &str, name: &str) -> ProviderResult<&(String, serde_json::Value)> {
        self.refs
            .get(&(kind.to_string(), name.to_string()))
            .ok_or_else(|| crate::ProviderError::invalid(format!("reference to {kind}/{name} was not resolved")))
    }

    /// The cloud ID of the `K` object `name`. The reconciler resolves every
    /// reference the object lists before calling the provider, so a missing
    /// entry is a bug of the kind's `references()`; it is reported as
    /// invalid configuration.
    pub fn id<K: ExternalKind>(&self, name: &str) -> ProviderResult<&str> {
        self.entry(<K::Object as ManagedObject>::KIND, name).map(|e| e.0.as_str())
    }

    /// The `K` object `name` as its own provider observed it
    /// (`status.resource`, read as `K::Remote`). Same errors as
    /// [`ResolvedRefs::id`]; an observed state not recorded yet, or not
    /// readable as `K::Remote`, is [`crate::ProviderError::Waiting`].
    pub fn get<K: ExternalKind>(&self, name: &str) -> ProviderResult<K::Remote> {
        let kind = <K::Object as ManagedObject>::KIND;
        let (_, resource) = self.entry(kind, name)?;
        serde_json::from_value(resource.clone()).map_err(|e| {
            crate::ProviderError::Waiting(format!("the observed state of {kind}/{name} is not readable yet: {e}"))
        })
    }

    /// The value of the input standing for spec `field`; `None` when the
    /// object declares no such input.
    pub fn input(&self, field: &str) -> Option<&str> {
        self.inputs.get(field).map(String::as_str)
    }
}

/// The desired state handed to a provider: the spec with every reference resolved.
#[derive(Debug, Clone)]
pub struct Desired<'a, R> {
    /// The Kubernetes object's UID: the ownership marker every create writes.
    pub uid: &'a str,
    /// The object's name: the cloud name when the spec gives none.
    pub default_name: &'a str,
    /// True when the cloud object was imported rather than created: fields
    /// the spec leaves out, the name included, keep the cloud's values.
    pub imported: bool,
    /// `spec.resource`.
    pub resource: &'a R,
    pub refs: &'a ResolvedRefs,
}

impl<R> Desired<'_, R> {
    /// The cloud name to enforce: `explicit`, else the object's name unless imported.
    pub fn name(&self, explicit: Option<&String>) -> Option<String> {
        explicit.cloned().or_else(|| (!self.imported).then(|| self.default_name.to_string()))
    }
}

/// One field whose cloud value differs from the spec.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldDiff {
    pub field: String,
    pub cloud: String,
    pub desired: String,
}

/// The result of comparing a cloud object with the spec.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diff {
    /// Differences `update` can converge.
    pub mutable: Vec<FieldDiff>,
    /// Differences the cloud cannot change in place.
    pub immutable: Vec<FieldDiff>,
}

impl Diff {
    pub fn is_empty(&self) -> bool {
        self.mutable.is_empty() && self.immutable.is_empty()
    }

    /// Records `field` as drifted when `desired` is given and differs from `cloud`.
    pub fn check<T: PartialEq + std::fmt::Debug>(&mut self, field: &str, desired: Option<&T>, cloud: &T) {
        if let Some(d) = desired
            && d != cloud
        {
            self.mutable.push(FieldDiff {
                field: field.into(),
                cloud: format!("{cloud:?}"),
                desired: format!("{d:?}"),
            });
        }
    }

    /// Like [`Diff::check`] for a field that cannot change.
    pub fn check_immutable<T: PartialEq + std::fmt::Debug>(&mut self, field: &str, desired: Option<&T>, cloud: &T) {
        if let Some(d) = desired
            && d != cloud
        {
            self.immutable.push(FieldDiff {
                field: field.into(),
                cloud: format!("{cloud:?}"),
                desired: format!("{d:?}"),
            });
        }
    }

    pub fn fields(list: &[FieldDiff]) -> String {
        list.iter().map(|d| d.field.as_str()).collect::<Vec<_>>().join(", ")
    }
}

/// Whether the cloud object is usable yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readiness {
    Ready,
    /// Still being built by the cloud (e.g. BUILD, PENDING_CREATE).
    Pending(String),
    /// Broken in the cloud (e.g. ERROR); the message comes from the cloud.
    Failed(String),
}

/// One kind of cloud object. Every method may be called again after a crash;
/// none may assume it runs once.
#[async_trait]
pub trait ExternalKind: Send + Sync + 'static {
    /// The API kind this provider kind reconciles.
    type Object: ManagedObject<Resource = Self::Resource, Filter = Self::Filter>;
    /// An authenticated connection to one cloud.
    type Cloud: Send + Sync;
    /// `spec.resource`.
    type Resource: Clone + std::fmt::Debug + Serialize + Send + Sync;
    /// `spec.import.filter`.
    type Filter: Clone + std::fmt::Debug + Serialize + Send + Sync;
    /// The cloud object as observed. Written to `status.resource` (whose
    /// schema in the CRD is this type's) and read back as this type by the
    /// kinds that reference it ([`ResolvedRefs::get`]): it must deserialize
    /// from its own serialization.
    type Remote: Serialize + DeserializeOwned + schemars::JsonSchema + Send + Sync;

    /// The object by cloud ID; `None` when it does not exist.
    async fn get(&self, cloud: &Self::Cloud, id: &str, freshness: Freshness) -> ProviderResult<Option<Self::Remote>>;

    /// Every object matching an import filter.
    async fn find(&self, cloud: &Self::Cloud, filter: &Self::Filter) -> ProviderResult<Vec<Self::Remote>>;

    /// Every object carrying the ownership marker of `desired.uid`. With
    /// `Freshness::Cached` (the duplicate check of a drift check) it may be
    /// answered from the same list as `get`.
    async fn find_owned(
        &self,
        cloud: &Self::Cloud,
        desired: &Desired<'_, Self::Resource>,
        freshness: Freshness,
    ) -> ProviderResult<Vec<Self::Remote>>;

    fn id(&self, remote: &Self::Remote) -> String;

    /// Compares without calling the cloud.
    fn diff(&self, desired: &Desired<'_, Self::Resource>, remote: &Self::Remote) -> Diff;

    /// Checks what admission cannot (duplicates after normalising, ...)
    /// without calling the cloud; an error is a terminal
    /// `InvalidConfiguration` and nothing is created or changed.
    fn validate(&self, _desired: &Desired<'_, Self::Resource>) -> ProviderResult<()> {
        Ok(())
    }

    fn readiness(&self, _remote: &Self::Remote) -> Readiness {
        Readiness::Ready
    }

    /// Creates the object with the ownership marker of `desired.uid` in the
    /// same call, and returns its ID. Must not fail once the object exists.
    async fn create(&self, cloud: &Self::Cloud, desired: &Desired<'_, Self::Resource>) -> ProviderResult<String>;

    /// Converges the mutable differences of `diff`.
    async fn update(
        &self,
        cloud: &Self::Cloud,
        desired: &Desired<'_, Self::Resource>,
        remote: &Self::Remote,
        diff: &Diff,
    ) -> ProviderResult<()>;

    /// Deletes the object; one that does not exist counts as deleted.
    /// `Pending` readiness afterwards (e.g. still DELETING) is fine: the
    /// reconciler polls `get` until it is gone.
    async fn delete(&self, cloud: &Self::Cloud, id: &str) -> ProviderResult<()>;
}

#[cfg(test)]
mod tests {
    use super::ResolvedRefs;

    #[test]
    fn debug_never_shows_input_values() {
        let mut refs = ResolvedRefs::default();
        refs.insert("Network", "n", "net-id", serde_json::json!({"name": "n"}));
        refs.insert_input("resource.userData", "password=hunter2".into());
        let shown = format!("{refs:?}");
        assert!(shown.contains("net-id") && shown.contains("resource.userData"), "{shown}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert_eq!(refs.input("resource.userData"), Some("password=hunter2"));
        assert!(refs.entry("Network", "other").is_err(), "an unresolved reference is an error");
    }
}
