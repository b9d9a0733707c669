//! The one reconciler every kind runs through:
//! resolve refs → observe (status.id → import → ownership marker) →
//! create | update | delete → status.
//!
//! It works on an object, an [`Environment`] and a provider [`ExternalKind`];
//! it never touches a Kubernetes client, so `terrane plan/apply` run it too.
//! Each step is a file: [`refs`] (references and inputs), `observe`
//! (finding the cloud object), `create`, `update`, `cleanup`; `outcome`
//! maps errors to what users see.

mod cleanup;
mod create;
pub mod env;
mod observe;
mod outcome;
mod plan;
mod refs;
pub mod status;
mod update;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use terrane_api::{ManagementPolicy, ResourceStatus};
use terrane_provider::{Desired, ExternalKind, Freshness};

pub use env::{EnvError, Environment, Event, Next, RefState};
pub use outcome::Outcome;
pub use plan::{PlanStep, Planned};
pub use status::Verdict;

use observe::Found;
use outcome::from_provider;

/// With the `failpoints` feature (the test suite's build only): set to
/// `after-create` to exit the process right after a cloud create, before its
/// ID is stored (used by the crash-safety tests).
#[cfg(feature = "failpoints")]
pub const FAILPOINT_ENV: &str = "TERRANE_FAILPOINT";

/// Drift checks per duplicate check: looking for other cloud objects carrying
/// the marker lists a whole collection, so it runs at every sixth resync.
const RESYNCS_PER_DUPLICATE_CHECK: u32 = 6;

/// One reconcile of one object: what every step reads, and the status it builds.
struct Pass<'a, O, E> {
    obj: &'a O,
    env: &'a E,
    status: ResourceStatus,
    /// True once this pass stored a status (the stored one is no longer `obj`'s).
    stored: bool,
}

impl<'a, O, E> Pass<'a, O, E> {
    fn new(obj: &'a O, env: &'a E) -> Self
    where
        O: terrane_api::ManagedObject,
    {
        Self { obj, env, status: obj.status().cloned().unwrap_or_default(), stored: false }
    }

    /// Stores the status now (before a cloud call that depends on it).
    async fn save<C>(&mut self) -> Result<(), Outcome>
    where
        O: terrane_api::ManagedObject,
        E: Environment<O, C>,
    {
        self.env.save_status(self.obj, &self.status).await.map_err(|e| outcome::from_env(&e))?;
        self.stored = true;
        Ok(())
    }
}

impl<O: terrane_api::ManagedObject, E> Pass<'_, O, E> {
    fn uid(&self) -> String {
        self.obj.meta().uid.clone().unwrap_or_default()
    }

    fn name(&self) -> String {
        self.obj.meta().name.clone().unwrap_or_default()
    }

    fn observe_only(&self) -> bool {
        self.obj.common().management_policy == ManagementPolicy::ObserveOnly
    }

    /// True when Terrane made (or will make) the cloud object: neither imported nor observed only.
    fn created_here(&self) -> bool {
        !self.observe_only() && self.obj.import().is_none()
    }

    /// Ready at the current generation: a reconcile now is a drift check.
    fn in_steady_state(&self) -> bool {
        self.status.is_ready() && self.status.observed_generation == self.obj.meta().generation
    }
}

/// Reconciles objects of one kind with provider kind `K`.
pub struct Reconciler<K> {
    kind: K,
    resync: Duration,
    /// How long the ownership-marker look-up must stay empty after a create
    /// whose outcome is unknown before a new create is sent.
    unanswered_create_wait: Duration,
    /// When each object (by UID) was last checked for duplicates.
    duplicate_checks: Mutex<HashMap<String, Instant>>,
    /// When this process last changed each object's cloud object (by UID):
    /// a cached list older than that cannot be trusted for it.
    last_change: Mutex<HashMap<String, Instant>>,
    /// The generation at which each object (by UID) was last Ready in this
    /// process: a difference found at that generation is drift, even when
    /// the object waited on a reference in between.
    converged: Mutex<HashMap<String, Option<i64>>>,
}

impl<K: ExternalKind> Reconciler<K> {
    /// `resync`: the drift-check period. `unanswered_create_wait`: how long
    /// a create that got no answer is looked for by its marker before another
    /// create is sent (the cloud request timeout plus a margin).
    pub fn new(kind: K, resync: Duration, unanswered_create_wait: Duration) -> Self {
        Self {
            kind,
            resync,
            unanswered_create_wait,
            duplicate_checks: Default::default(),
            last_change: Default::default(),
            converged: Default::default(),
        }
    }

    /// True at the first drift check of `uid` and every
    /// [`RESYNCS_PER_DUPLICATE_CHECK`] resync periods after.
    fn duplicate_check_due(&self, uid: &str) -> bool {
        let period = self.resync.saturating_mul(RESYNCS_PER_DUPLICATE_CHECK).saturating_sub(Duration::from_secs(1));
        let mut checks = self.duplicate_checks.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        match checks.get(uid) {
            Some(at) if now.duration_since(*at) < period => false,
            _ => {
                checks.insert(uid.to_string(), now);
                true
            }
        }
    }

    /// Notes that this process just changed `uid`'s cloud object.
    fn changed(&self, uid: &str) {
        self.last_change.lock().unwrap_or_else(|p| p.into_inner()).insert(uid.to_string(), Instant::now());
    }

    /// True when the spec at this generation was already in effect in the
    /// cloud: the object is Ready at it, or was Ready at it earlier in this
    /// process (and has only waited on a reference since).
    fn spec_was_in_effect<O: terrane_api::ManagedObject, E>(&self, p: &Pass<'_, O, E>) -> bool {
        p.in_steady_state()
            || self.converged.lock().unwrap_or_else(|p| p.into_inner()).get(&p.uid()) == Some(&p.obj.meta().generation)
    }

    /// Remembers the generation `obj` is Ready at, or forgets it once `obj` is gone.
    fn note_verdict<O: terrane_api::ManagedObject>(&self, obj: &O, outcome: &Outcome) {
        let uid = obj.meta().uid.clone().unwrap_or_default();
        let mut converged = self.converged.lock().unwrap_or_else(|p| p.into_inner());
        if outcome.next == Next::Deleted {
            converged.remove(&uid);
            self.last_change.lock().unwrap_or_else(|p| p.into_inner()).remove(&uid);
            self.duplicate_checks.lock().unwrap_or_else(|p| p.into_inner()).remove(&uid);
        } else if outcome.verdict.ready {
            converged.insert(uid, obj.meta().generation);
        }
    }

    /// How current a look-up must be: fresh unless this is a drift check;
    /// a drift check accepts a list up to half a resync old, but never one
    /// older than this process's last change to the object.
    fn freshness<O: terrane_api::ManagedObject, E>(&self, p: &Pass<'_, O, E>) -> Freshness {
        if !p.in_steady_state() {
            return Freshness::Fresh;
        }
        let half = self.resync / 2;
        let since_change =
            self.last_change.lock().unwrap_or_else(|p| p.into_inner()).get(&p.uid()).map(|t| t.elapsed());
        let max_age = since_change.map_or(half, |s| s.min(half));
        Freshness::Cached { max_age_secs: max_age.as_secs() }
    }

    /// Brings the cloud object in line with `obj`'s spec and stores status
    /// through `env`. Never returns an error: every failure becomes a verdict
    /// (condition reason and message) and an event.
    pub async fn apply<O, E>(&self, obj: &O, env: &E) -> Outcome
    where
        O: terrane_api::ManagedObject<Resource = K::Resource, Filter = K::Filter>,
        E: Environment<O, K::Cloud>,
    {
        let mut p = Pass::new(obj, env);
        let result = self.apply_steps(&mut p).await;
        self.note_verdict(obj, &result);
        outcome::report(p, result, "Reconcile").await
    }

    /// Deletes the cloud object (or leaves it, for Orphan and ObserveOnly)
    /// once nothing references `obj`. `Next::Deleted` means the driver may
    /// let the Kubernetes object go.
    pub async fn cleanup<O, E>(&self, obj: &O, env: &E) -> Outcome
    where
        O: terrane_api::ManagedObject<Resource = K::Resource, Filter = K::Filter>,
        E: Environment<O, K::Cloud>,
    {
        let mut p = Pass::new(obj, env);
        let result = self.cleanup_steps(&mut p).await;
        self.note_verdict(obj, &result);
        if result.next == Next::Deleted {
            return result;
        }
        outcome::report(p, result, "Delete").await
    }

    async fn apply_steps<O, E>(&self, p: &mut Pass<'_, O, E>) -> Outcome
    where
        O: terrane_api::ManagedObject<Resource = K::Resource, Filter = K::Filter>,
        E: Environment<O, K::Cloud>,
    {
        if p.observe_only() && p.obj.import().is_none() && p.status.id.is_none() {
            return Outcome::stalled(Verdict::invalid("managementPolicy ObserveOnly needs spec.import (id or filter)"));
        }
        let refs = match self.resolve(p).await {
            Ok(refs) => refs,
            Err(o) => return o,
        };
        let cloud = match p.env.cloud(p.obj).await {
            Ok(c) => c,
            Err(e) => return outcome::from_env(&e),
        };
        let (uid, default_name) = (p.uid(), p.name());
        let desired = p.obj.resource().map(|resource| Desired {
            uid: &uid,
            default_name: &default_name,
            imported: p.obj.import().is_some(),
            resource,
            refs: &refs,
        });
        if let Some(Err(e)) = desired.as_ref().map(|d| self.kind.validate(d)) {
            return from_provider(&e, "spec");
        }
        let drift_check = self.spec_was_in_effect(p);
        let remote = match self.observe(p, &cloud, desired.as_ref()).await {
            Ok(Found::ById(r) | Found::Imported(r) | Found::Adopted(r)) => r,
            Ok(Found::Missing) => {
                let Some(desired) = &desired else {
                    return Outcome::stalled(Verdict::invalid("nothing to create: spec.resource is missing"));
                };
                match self.create(p, &cloud, desired).await {
                    Ok(r) => r,
                    Err(o) => return o,
                }
            }
            Err(o) => return o,
        };
        p.status.resource = serde_json::to_value(&remote).ok();
        p.status.last_sync_time = Some(k8s_openapi::jiff::Timestamp::now().to_string());
        match &desired {
            Some(desired) if !p.observe_only() => self.converge(p, &cloud, desired, &remote, drift_check).await,
            _ => self.readiness(&remote),
        }
    }
}
