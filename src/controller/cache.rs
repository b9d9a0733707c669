//! What reconciles read instead of the apiserver, and who is woken when
//! something changes.
//!
//! One reflector store per managed kind (the store its controller already
//! keeps), one for ProviderConfigs and one for the credential Secrets they
//! name (only Secrets labelled [`CREDENTIALS_LABEL`]). Reference resolution,
//! referrer look-ups (deletion guards) and ProviderConfig users are answered
//! from memory. When an object's readiness, cloud ID or observed state
//! changes, every object that references it is reconciled at once; when one
//! is deleted, the objects it referenced are too (their deletion may be
//! waiting on it); when a ProviderConfig or its Secret changes, every object
//! using it is.

use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex, RwLock};

use futures::channel::mpsc::UnboundedSender;
use k8s_openapi::api::core::v1::Secret;
use kube::ResourceExt;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::watcher;
use terrane_api::{ManagedObject, ProviderConfig, Reference};

use crate::reconciler::RefState;

/// Set on a Secret a ProviderConfig names, so the controller can watch only those.
pub const CREDENTIALS_LABEL: &str = "terrane.dev/credentials";

/// What a look-up across kinds may ask of any managed object.
pub trait Scanned {
    fn provider_config(&self) -> &str;
    fn refs(&self) -> Vec<Reference>;
}

impl<O: ManagedObject> Scanned for O {
    fn provider_config(&self) -> &str {
        &self.common().provider_config_ref.name
    }
    fn refs(&self) -> Vec<Reference> {
        self.references()
    }
}

/// One kind's store and the way to wake one of its objects.
trait KindCache: Send + Sync {
    fn state(&self, ns: &str, name: &str, in_use: bool) -> RefState;
    /// Names of the objects of `ns` for which `keep` holds.
    fn scan(&self, ns: &str, keep: &dyn Fn(&dyn Scanned) -> bool) -> Vec<String>;
    fn wake(&self, ns: &str, name: &str);
}

struct TypedCache<O: ManagedObject> {
    store: Store<O>,
    wake: UnboundedSender<ObjectRef<O>>,
}

impl<O: ManagedObject> KindCache for TypedCache<O> {
    fn state(&self, ns: &str, name: &str, in_use: bool) -> RefState {
        match self.store.get(&ObjectRef::new(name).within(ns)) {
            None => RefState::Missing,
            Some(o) => ref_state(o.as_ref(), in_use),
        }
    }

    fn scan(&self, ns: &str, keep: &dyn Fn(&dyn Scanned) -> bool) -> Vec<String> {
        let mut names: Vec<String> = self
            .store
            .state()
            .iter()
            .filter(|o| o.namespace().as_deref() == Some(ns) && keep(o.as_ref()))
            .map(|o| o.name_any())
            .collect();
        names.sort();
        names
    }

    fn wake(&self, ns: &str, name: &str) {
        let _ = self.wake.unbounded_send(ObjectRef::new(name).within(ns));
    }
}

/// The state of a referenced object for a referrer whose cloud object
/// exists (`in_use`) or not. One being deleted is kept (with its cloud
/// object) while referenced: a referrer that already has its cloud object
/// keeps working until it lets go; a new one waits.
pub fn ref_state<O: ManagedObject>(o: &O, in_use: bool) -> RefState {
    let usable = if o.meta().deletion_timestamp.is_some() { in_use } else { o.status().is_some_and(|s| s.is_ready()) };
    match o.status().filter(|_| usable) {
        Some(s) => {
            s.id.clone()
                .map(|id| RefState::Ready(id, s.resource.clone().unwrap_or_default()))
                .unwrap_or(RefState::NotReady)
        }
        None => RefState::NotReady,
    }
}

/// Every store, and what wakes whom.
pub struct Caches {
    kinds: RwLock<BTreeMap<&'static str, Arc<dyn KindCache>>>,
    pub provider_configs: Store<ProviderConfig>,
    pub secrets: Store<Secret>,
    /// The last relevant state of each object, to wake others only on a real change.
    seen: Mutex<HashMap<(&'static str, String, String), u64>>,
    /// How many stores (kinds, ProviderConfigs, Secrets) hold their first list.
    /// (`Store::wait_until_ready` wakes only one of several waiters.)
    listed: Mutex<std::collections::BTreeSet<&'static str>>,
    listed_count: tokio::sync::watch::Sender<usize>,
}

impl Caches {
    pub fn new(provider_configs: Store<ProviderConfig>, secrets: Store<Secret>) -> Arc<Self> {
        Arc::new(Self {
            kinds: Default::default(),
            provider_configs,
            secrets,
            seen: Default::default(),
            listed: Default::default(),
            listed_count: tokio::sync::watch::Sender::new(0),
        })
    }

    /// Notes that the store of `what` holds its first complete list.
    pub fn listed(&self, what: &'static str) {
        let mut listed = self.listed.lock().unwrap_or_else(|p| p.into_inner());
        if listed.insert(what) {
            self.listed_count.send_replace(listed.len());
        }
    }

    /// Registers kind `O`'s store and the channel that wakes its objects.
    pub fn register<O: ManagedObject>(&self, store: Store<O>, wake: UnboundedSender<ObjectRef<O>>) {
        let cache: Arc<dyn KindCache> = Arc::new(TypedCache { store, wake });
        self.kinds.write().unwrap_or_else(|p| p.into_inner()).insert(O::KIND, cache);
    }

    fn kind(&self, kind: &str) -> Option<Arc<dyn KindCache>> {
        self.kinds.read().unwrap_or_else(|p| p.into_inner()).get(kind).cloned()
    }

    fn all(&self) -> Vec<(&'static str, Arc<dyn KindCache>)> {
        self.kinds.read().unwrap_or_else(|p| p.into_inner()).iter().map(|(k, v)| (*k, v.clone())).collect()
    }

    /// Resolves once every kind's store, the ProviderConfig store and the
    /// Secret store hold their first complete list.
    pub async fn ready(&self) {
        let expected = crate::kinds::all().len() + 2;
        let mut count = self.listed_count.subscribe();
        let _ = count.wait_for(|n| *n >= expected).await;
    }

    /// The state of `kind/name` in `ns`; `None` for a kind nobody registered.
    pub fn resolve(&self, ns: &str, kind: &str, name: &str, in_use: bool) -> Option<RefState> {
        self.kind(kind).map(|c| c.state(ns, name, in_use))
    }

    /// Every object of `ns` (as `Kind/name`) for which `keep` holds.
    fn scan_all(&self, ns: &str, keep: &dyn Fn(&dyn Scanned) -> bool) -> Vec<(&'static str, String)> {
        self.all().into_iter().flat_map(|(kind, c)| c.scan(ns, keep).into_iter().map(move |n| (kind, n))).collect()
    }

    /// Every object of `ns` that references `kind/name`.
    pub fn referrers(&self, ns: &str, kind: &str, name: &str) -> Vec<String> {
        let keep = |o: &dyn Scanned| o.refs().iter().any(|r| r.kind == kind && r.name == name);
        self.scan_all(ns, &keep).into_iter().map(|(k, n)| format!("{k}/{n}")).collect()
    }

    /// Every managed object of `ns` that uses ProviderConfig `config`.
    pub fn provider_config_users(&self, ns: &str, config: &str) -> Vec<String> {
        let keep = |o: &dyn Scanned| o.provider_config() == config;
        self.scan_all(ns, &keep).into_iter().map(|(k, n)| format!("{k}/{n}")).collect()
    }

    fn wake_where(&self, ns: &str, keep: &dyn Fn(&dyn Scanned) -> bool) -> usize {
        let mut n = 0;
        for (_, cache) in self.all() {
            for name in cache.scan(ns, keep) {
                cache.wake(ns, &name);
                n += 1;
            }
        }
        n
    }

    /// True when `key`'s relevant state differs from the last one seen.
    fn changed(&self, key: (&'static str, String, String), state: Option<u64>) -> bool {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        match state {
            Some(h) => seen.insert(key, h) != Some(h),
            None => seen.remove(&key).is_some(),
        }
    }

    /// Called with every watch event of kind `O` (before the controller
    /// sees it): wakes referrers when `O`'s readiness, ID or observed state
    /// changed, and the objects it referenced when it went away.
    pub fn on_event<O: ManagedObject>(&self, event: &watcher::Event<O>) {
        let (obj, gone, initial) = match event {
            watcher::Event::Apply(o) => (o, false, false),
            watcher::Event::InitApply(o) => (o, false, true),
            watcher::Event::Delete(o) => (o, true, false),
            watcher::Event::InitDone => return self.listed(O::KIND),
            watcher::Event::Init => return,
        };
        let (ns, name) = (obj.namespace().unwrap_or_default(), obj.name_any());
        let state = (!gone).then(|| relevant_state(obj));
        if !self.changed((O::KIND, ns.clone(), name.clone()), state) || initial {
            return;
        }
        let woken = self.wake_where(&ns, &|o| o.refs().iter().any(|r| r.kind == O::KIND && r.name == name));
        if gone || obj.meta().deletion_timestamp.is_some() {
            for r in obj.references() {
                if let Some(c) = self.kind(r.kind) {
                    c.wake(&ns, &r.name);
                }
            }
        }
        if woken > 0 {
            tracing::debug!(kind = O::KIND, %ns, %name, woken, "woke referrers");
        }
    }

    /// Wakes every object using ProviderConfig `config` in `ns`.
    pub fn wake_users(&self, ns: &str, config: &str) -> usize {
        self.wake_where(ns, &|o| o.provider_config() == config)
    }

    /// Called with every event of the credential Secrets: a change of their
    /// data wakes every object whose ProviderConfig names the Secret.
    pub fn on_secret_event(&self, event: &watcher::Event<Secret>) {
        let (secret, gone) = match event {
            watcher::Event::Apply(s) => (s, false),
            watcher::Event::Delete(s) => (s, true),
            watcher::Event::InitDone => return self.listed("Secret"),
            watcher::Event::Init | watcher::Event::InitApply(_) => return,
        };
        let (ns, name) = (secret.namespace().unwrap_or_default(), secret.name_any());
        let state = (!gone).then(|| hash_of(&secret.data));
        if !self.changed(("Secret", ns.clone(), name.clone()), state) {
            return;
        }
        for pc in self.provider_configs.state() {
            if pc.namespace().as_deref() == Some(ns.as_str()) && pc.spec.openstack.credentials_secret_ref.name == name {
                let woken = self.wake_users(&ns, &pc.name_any());
                tracing::info!(%ns, secret = %name, provider_config = %pc.name_any(), woken, "credentials changed");
            }
        }
    }
}

fn hash_of<T: serde::Serialize>(value: &T) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    serde_json::to_string(value).unwrap_or_default().hash(&mut h);
    h.finish()
}

/// What referrers depend on: readiness, cloud ID, observed state, deletion.
fn relevant_state<O: ManagedObject>(o: &O) -> u64 {
    let status = o.status();
    hash_of(&(
        status.is_some_and(|s| s.is_ready()),
        status.and_then(|s| s.id.as_ref()),
        status.and_then(|s| s.resource.as_ref()),
        o.meta().deletion_timestamp.is_some(),
    ))
}

#[cfg(test)]
mod tests {
    use super::ref_state;
    use crate::reconciler::RefState;

    fn network(status: serde_json::Value, deleting: bool) -> terrane_api::Network {
        let mut meta = serde_json::json!({"name": "n", "namespace": "ns"});
        if deleting {
            meta["deletionTimestamp"] = serde_json::json!("2026-12-02T12:00:00Z");
        }
        serde_json::from_value(serde_json::json!({
            "apiVersion": "terrane.dev/v1alpha1", "kind": "Network", "metadata": meta,
            "spec": {"providerConfigRef": {"name": "p"}, "resource": {}}, "status": status,
        }))
        .expect("a Network")
    }

    #[test]
    fn a_reference_is_usable_when_ready_or_when_being_deleted_under_an_existing_user() {
        let ready = serde_json::json!({"id": "net-1", "conditions": [{"type": "Ready", "status": "True", "reason": "Success", "message": "", "lastTransitionTime": "2026-12-02T12:00:00Z"}]});
        assert!(matches!(ref_state(&network(ready.clone(), false), false), RefState::Ready(id, _) if id == "net-1"));
        assert_eq!(ref_state(&network(serde_json::json!({"id": "net-1"}), false), true), RefState::NotReady);
        assert!(matches!(ref_state(&network(ready.clone(), true), true), RefState::Ready(..)));
        assert_eq!(ref_state(&network(ready, true), false), RefState::NotReady, "a new referrer waits");
    }
}
