//! The one reconciler every kind runs through:
//! resolve refs → observe (status.id → import → ownership marker) →
//! create | update | delete → status.
//!
//! It works on an object, an [`Environment`] and a provider [`ExternalKind`];
//! it never touches a Kubernetes client, so `terrane plan/apply` run it too.

pub mod env;
pub mod status;

use terrane_api::{DeletionPolicy, ManagedObject, ManagementPolicy, ResourceStatus, reason};
use terrane_provider::{Desired, Diff, ExternalKind, Freshness, ProviderError, Readiness, ResolvedRefs};
use tracing::{debug, info};

pub use env::{EnvError, Environment, Event, Next, RefState};
pub use status::Verdict;

/// Set to `after-create` to exit the process right after a cloud create,
/// before its ID is stored (used by the crash-safety test).
pub const FAILPOINT_ENV: &str = "TERRANE_FAILPOINT";

/// The result of one reconcile: what to do next, and the verdict shown to users.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub next: Next,
    pub verdict: Verdict,
}

/// Writes `result` into `status` and stores it; a failure whose message is
/// new also becomes a warning Event (repeats of the same failure do not).
async fn report<O, C, E>(obj: &O, env: &E, mut status: ResourceStatus, result: Outcome, action: &'static str) -> Outcome
where
    O: ManagedObject,
    E: Environment<O, C>,
{
    status::apply(&mut status, &result.verdict, obj.meta().generation);
    let previous = obj.status().and_then(|s| s.condition(terrane_api::CONDITION_READY)).map(|c| c.message.as_str());
    if !result.verdict.synced && previous != Some(result.verdict.message.as_str()) {
        env.event(obj, Event::warning(result.verdict.reason, action, result.verdict.message.clone())).await;
    }
    match env.save_status(obj, &status).await {
        Ok(()) => result,
        Err(e) => env_outcome(&e),
    }
}

/// Reconciles objects of one kind with provider kind `K`.
pub struct Reconciler<K> {
    kind: K,
    resync_secs: u64,
}

enum Found<R> {
    Remote(R),
    Missing,
}

fn outcome(next: Next, verdict: Verdict) -> Outcome {
    Outcome { next, verdict }
}

fn error_outcome(e: &ProviderError, what: &str) -> Outcome {
    let message = format!("{what}: {e}");
    match e {
        ProviderError::Terminal { reason: r, .. } => {
            let reason = match r {
                terrane_provider::TerminalReason::InvalidConfiguration => reason::INVALID_CONFIGURATION,
                terrane_provider::TerminalReason::Unrecoverable => reason::UNRECOVERABLE,
            };
            outcome(Next::Stalled, Verdict::new(false, false, reason, message))
        }
        _ => outcome(Next::Retry, Verdict::new(false, false, reason::TRANSIENT_ERROR, message)),
    }
}

fn env_outcome(e: &EnvError) -> Outcome {
    match e {
        EnvError::Store(m) => outcome(Next::Retry, Verdict::new(false, false, reason::TRANSIENT_ERROR, m.clone())),
        EnvError::Credentials(p) => error_outcome(p, "credentials"),
        EnvError::Invalid(m) => outcome(Next::Stalled, Verdict::new(false, false, reason::INVALID_CONFIGURATION, m.clone())),
        EnvError::ProviderConfigMissing(_) => outcome(Next::Poll, Verdict::new(false, true, reason::WAITING, e.to_string())),
    }
}

impl<K> Reconciler<K>
where
    K: ExternalKind,
{
    pub fn new(kind: K, resync_secs: u64) -> Self {
        Self { kind, resync_secs }
    }

    /// Brings the cloud object in line with `obj`'s spec and stores status
    /// through `env`. Never returns an error: every failure becomes a verdict
    /// (condition reason and message) and an event.
    pub async fn apply<O, E>(&self, obj: &O, env: &E) -> Outcome
    where
        O: ManagedObject<Resource = K::Resource, Filter = K::Filter>,
        E: Environment<O, K::Cloud>,
    {
        let mut status = obj.status().cloned().unwrap_or_default();
        let result = self.apply_inner(obj, env, &mut status).await;
        report(obj, env, status, result, "Reconcile").await
    }

    async fn apply_inner<O, E>(&self, obj: &O, env: &E, status: &mut ResourceStatus) -> Outcome
    where
        O: ManagedObject<Resource = K::Resource, Filter = K::Filter>,
        E: Environment<O, K::Cloud>,
    {
        let common = obj.common();
        let observe_only = common.management_policy == ManagementPolicy::ObserveOnly;
        if observe_only && obj.import().is_none() && status.id.is_none() {
            return outcome(
                Next::Stalled,
                Verdict::new(false, false, reason::INVALID_CONFIGURATION, "managementPolicy ObserveOnly needs spec.import (id or filter)"),
            );
        }
        let refs = match self.resolve(obj, env).await {
            Ok(refs) => refs,
            Err(o) => return o,
        };
        let cloud = match env.cloud(obj).await {
            Ok(c) => c,
            Err(e) => return env_outcome(&e),
        };
        let uid = obj.meta().uid.clone().unwrap_or_default();
        let default_name = obj.meta().name.clone().unwrap_or_default();
        let in_steady_state = status.is_ready() && status.observed_generation == obj.meta().generation;
        let freshness = if in_steady_state { Freshness::Cached { max_age_secs: self.resync_secs / 2 } } else { Freshness::Fresh };

        let found = match self.observe(obj, &cloud, status, &uid, &default_name, &refs, freshness, env).await {
            Ok(f) => f,
            Err(o) => return o,
        };
        let remote = match found {
            Found::Remote(r) => r,
            Found::Missing => {
                let Some(resource) = obj.resource() else {
                    return outcome(Next::Stalled, Verdict::new(false, false, reason::INVALID_CONFIGURATION, "nothing to create: spec.resource is missing"));
                };
                let desired = Desired { uid: &uid, default_name: &default_name, imported: obj.import().is_some(), resource, refs: &refs };
                status.pending_create = Some(k8s_openapi::jiff::Timestamp::now().to_string());
                if let Err(e) = env.save_status(obj, status).await {
                    return env_outcome(&e);
                }
                let id = match self.kind.create(&cloud, &desired).await {
                    Ok(id) => id,
                    Err(e) => {
                        // Only a transient error (timeout, 5xx) leaves it open whether the
                        // cloud made the object; a refusal means it did not.
                        if !matches!(e, ProviderError::Transient(_)) {
                            status.pending_create = None;
                        }
                        return error_outcome(&e, "create");
                    }
                };
                if std::env::var(FAILPOINT_ENV).as_deref() == Ok("after-create") {
                    tracing::warn!(%id, "failpoint after-create: exiting before the ID is stored");
                    std::process::exit(86);
                }
                status.id = Some(id.clone());
                status.pending_create = None;
                if let Err(e) = env.save_status(obj, status).await {
                    return env_outcome(&e);
                }
                info!(%id, "created");
                env.event(obj, Event::normal("Created", "Create", format!("created {} {id}", O::KIND))).await;
                match self.kind.get(&cloud, &id, Freshness::Fresh).await {
                    Ok(Some(r)) => r,
                    Ok(None) => return outcome(Next::Poll, Verdict::new(false, true, reason::PROGRESSING, format!("created {id}; waiting for the cloud to show it"))),
                    Err(e) => return error_outcome(&e, "observe after create"),
                }
            }
        };
        status.resource = serde_json::to_value(&remote).ok();
        status.last_sync_time = Some(k8s_openapi::jiff::Timestamp::now().to_string());

        if !observe_only && let Some(resource) = obj.resource() {
            let desired = Desired { uid: &uid, default_name: &default_name, imported: obj.import().is_some(), resource, refs: &refs };
            let diff = self.kind.diff(&desired, &remote);
            if !diff.immutable.is_empty() {
                let detail = diff.immutable.iter().map(|d| format!("{} is {} in the cloud but the spec asks for {}", d.field, d.cloud, d.desired)).collect::<Vec<_>>().join("; ");
                return outcome(
                    Next::Stalled,
                    Verdict::new(false, false, reason::INVALID_CONFIGURATION, format!("{detail}; the cloud cannot change this in place (recreate the object to change it)")),
                );
            }
            if !diff.mutable.is_empty() {
                return self.update(obj, env, &cloud, &desired, &remote, &diff, status, in_steady_state).await;
            }
        }
        self.readiness(&remote)
    }

    #[allow(clippy::too_many_arguments)]
    async fn update<O, E>(
        &self,
        obj: &O,
        env: &E,
        cloud: &K::Cloud,
        desired: &Desired<'_, K::Resource>,
        remote: &K::Remote,
        diff: &Diff,
        status: &mut ResourceStatus,
        drift: bool,
    ) -> Outcome
    where
        O: ManagedObject<Resource = K::Resource, Filter = K::Filter>,
        E: Environment<O, K::Cloud>,
    {
        let fields = Diff::fields(&diff.mutable);
        if let Err(e) = self.kind.update(cloud, desired, remote, diff).await {
            return error_outcome(&e, &format!("update {fields}"));
        }
        let (reason, message) = if drift {
            ("DriftCorrected", format!("the cloud object had drifted ({fields}); restored the spec's values"))
        } else {
            ("Updated", format!("updated {fields}"))
        };
        info!(%fields, drift, "updated");
        env.event(obj, Event::normal(reason, "Update", message)).await;
        let Some(id) = status.id.clone() else { return outcome(Next::Poll, Verdict::new(false, true, reason::PROGRESSING, "updated")) };
        match self.kind.get(cloud, &id, Freshness::Fresh).await {
            Ok(Some(r)) => {
                status.resource = serde_json::to_value(&r).ok();
                let still = self.kind.diff(desired, &r);
                if still.mutable.is_empty() {
                    self.readiness(&r)
                } else {
                    outcome(Next::Poll, Verdict::new(false, true, reason::PROGRESSING, format!("waiting for {} to converge", Diff::fields(&still.mutable))))
                }
            }
            Ok(None) => outcome(Next::Poll, Verdict::new(false, true, reason::PROGRESSING, "the object disappeared during update")),
            Err(e) => error_outcome(&e, "observe after update"),
        }
    }

    fn readiness(&self, remote: &K::Remote) -> Outcome {
        match self.kind.readiness(remote) {
            Readiness::Ready => outcome(Next::Resync, Verdict::new(true, true, reason::SUCCESS, "the cloud object matches the spec")),
            Readiness::Pending(m) => outcome(Next::Poll, Verdict::new(false, true, reason::PROGRESSING, m)),
            Readiness::Failed(m) => outcome(Next::Stalled, Verdict::new(false, false, reason::UNRECOVERABLE, m)),
        }
    }

    async fn resolve<O, E>(&self, obj: &O, env: &E) -> Result<ResolvedRefs, Outcome>
    where
        O: ManagedObject,
        E: Environment<O, K::Cloud>,
    {
        let mut refs = ResolvedRefs::default();
        let mut waiting = Vec::new();
        for r in obj.references() {
            match env.resolve(obj, &r).await {
                Ok(RefState::Ready(id, resource)) => refs.insert(r.kind, &r.name, id, resource),
                Ok(RefState::NotReady) => waiting.push(format!("{}/{}", r.kind, r.name)),
                Ok(RefState::Missing) => waiting.push(format!("{}/{} (not found)", r.kind, r.name)),
                Err(e) => return Err(env_outcome(&e)),
            }
        }
        for input in obj.inputs() {
            match env.input(obj, &input).await {
                Ok(Some(value)) => refs.insert_input(&input.field, value),
                Ok(None) => waiting.push(format!("{} (not found)", input.describe())),
                Err(e) => return Err(env_outcome(&e)),
            }
        }
        if waiting.is_empty() {
            Ok(refs)
        } else {
            Err(outcome(Next::Poll, Verdict::new(false, true, reason::WAITING, format!("Waiting on {}", waiting.join(", ")))))
        }
    }

    /// status.id → import → ownership marker (only while a create is
    /// pending: nothing else can have made one). Stores an ID found by import
    /// or adoption before returning.
    #[allow(clippy::too_many_arguments)]
    async fn observe<O, E>(
        &self,
        obj: &O,
        cloud: &K::Cloud,
        status: &mut ResourceStatus,
        uid: &str,
        default_name: &str,
        refs: &ResolvedRefs,
        freshness: Freshness,
        env: &E,
    ) -> Result<Found<K::Remote>, Outcome>
    where
        O: ManagedObject<Resource = K::Resource, Filter = K::Filter>,
        E: Environment<O, K::Cloud>,
    {
        let observe_only = obj.common().management_policy == ManagementPolicy::ObserveOnly;
        if let Some(id) = status.id.clone() {
            match self.kind.get(cloud, &id, freshness).await {
                Ok(Some(r)) => return Ok(Found::Remote(r)),
                Ok(None) if observe_only || obj.import().is_some() => {
                    return Err(outcome(Next::Stalled, Verdict::new(false, false, reason::UNRECOVERABLE, format!("the {} {id} no longer exists in the cloud", O::KIND))));
                }
                Ok(None) => {
                    env.event(obj, Event::warning("Recreating", "Observe", format!("{} {id} was deleted outside Terrane; creating it again", O::KIND))).await;
                    status.id = None;
                    status.resource = None;
                }
                Err(e) => return Err(error_outcome(&e, "observe")),
            }
        }
        let (found, how) = if let Some(import) = obj.import() {
            let matches = match (&import.id, &import.filter) {
                (Some(id), _) => match self.kind.get(cloud, id, Freshness::Fresh).await {
                    Ok(Some(r)) => vec![r],
                    Ok(None) => Vec::new(),
                    Err(e) => return Err(error_outcome(&e, "import")),
                },
                (None, Some(filter)) => match self.kind.find(cloud, filter).await {
                    Ok(v) => v,
                    Err(e) => return Err(error_outcome(&e, "import")),
                },
                (None, None) => Vec::new(),
            };
            let described = match (&import.id, &import.filter) {
                (Some(id), _) => format!("import id {id}"),
                (None, Some(f)) => format!("import filter {}", serde_json::to_string(f).unwrap_or_default()),
                (None, None) => "import".to_string(),
            };
            match matches.len() {
                1 => (matches.into_iter().next(), "Imported"),
                0 => {
                    return Err(outcome(Next::Stalled, Verdict::new(false, false, reason::INVALID_CONFIGURATION, format!("{described} matches no {} in the cloud", O::KIND))));
                }
                n => {
                    let ids = matches.iter().map(|r| self.kind.id(r)).collect::<Vec<_>>().join(", ");
                    return Err(outcome(
                        Next::Stalled,
                        Verdict::new(false, false, reason::INVALID_CONFIGURATION, format!("{described} matches {n} {}s ({ids}); it must match exactly one", O::KIND)),
                    ));
                }
            }
        } else if let Some(resource) = obj.resource().filter(|_| status.pending_create.is_some()) {
            let desired = Desired { uid, default_name, imported: false, resource, refs };
            let owned = match self.kind.find_owned(cloud, &desired).await {
                Ok(v) => v,
                Err(e) => return Err(error_outcome(&e, "look for an object created earlier")),
            };
            if owned.len() > 1 {
                let ids = owned.iter().map(|r| self.kind.id(r)).collect::<Vec<_>>().join(", ");
                return Err(outcome(
                    Next::Stalled,
                    Verdict::new(false, false, reason::UNRECOVERABLE, format!("{} cloud objects carry this object's ownership marker ({ids}); delete all but one", owned.len())),
                ));
            }
            (owned.into_iter().next(), "Adopted")
        } else {
            (None, "")
        };
        let Some(remote) = found else { return Ok(Found::Missing) };
        let id = self.kind.id(&remote);
        debug!(%id, how, "found the cloud object");
        status.id = Some(id.clone());
        status.pending_create = None;
        if let Err(e) = env.save_status(obj, status).await {
            return Err(env_outcome(&e));
        }
        let message = if how == "Adopted" {
            format!("adopted {} {id}, created earlier for this object", O::KIND)
        } else {
            format!("imported {} {id}", O::KIND)
        };
        env.event(obj, Event::normal(how, "Observe", message)).await;
        Ok(Found::Remote(remote))
    }

    /// Deletes the cloud object (or leaves it, for Orphan and ObserveOnly)
    /// once nothing references `obj`. `Next::Deleted` means the driver may
    /// let the Kubernetes object go.
    pub async fn cleanup<O, E>(&self, obj: &O, env: &E) -> Outcome
    where
        O: ManagedObject<Resource = K::Resource, Filter = K::Filter>,
        E: Environment<O, K::Cloud>,
    {
        let mut status = obj.status().cloned().unwrap_or_default();
        let result = self.cleanup_inner(obj, env, &mut status).await;
        if result.next == Next::Deleted {
            return result;
        }
        report(obj, env, status, result, "Delete").await
    }

    async fn cleanup_inner<O, E>(&self, obj: &O, env: &E, status: &mut ResourceStatus) -> Outcome
    where
        O: ManagedObject<Resource = K::Resource, Filter = K::Filter>,
        E: Environment<O, K::Cloud>,
    {
        let referrers = match env.referrers(obj).await {
            Ok(r) => r,
            Err(e) => return env_outcome(&e),
        };
        if !referrers.is_empty() {
            return outcome(Next::Poll, Verdict::new(false, true, reason::WAITING, format!("deletion waits until these are deleted: {}", referrers.join(", "))));
        }
        let common = obj.common();
        if common.deletion_policy == DeletionPolicy::Orphan || common.management_policy == ManagementPolicy::ObserveOnly {
            if let Some(id) = &status.id {
                env.event(obj, Event::normal("Orphaned", "Delete", format!("left {} {id} in the cloud", O::KIND))).await;
            }
            return outcome(Next::Deleted, Verdict::new(false, true, reason::DELETING, "orphaned"));
        }
        if status.id.is_none() && status.pending_create.is_none() {
            return outcome(Next::Deleted, Verdict::new(false, true, reason::DELETING, "nothing was created in the cloud"));
        }
        let release_hint = "; set spec.deletionPolicy: Orphan to let the object go without deleting the cloud object";
        let cloud = match env.cloud(obj).await {
            Ok(c) => c,
            Err(e) => {
                let mut o = env_outcome(&e);
                o.verdict.message.push_str(release_hint);
                return o;
            }
        };
        let uid = obj.meta().uid.clone().unwrap_or_default();
        let default_name = obj.meta().name.clone().unwrap_or_default();
        let mut ids: Vec<String> = status.id.iter().cloned().collect();
        if ids.is_empty() && let Some(resource) = obj.resource() {
            // A create may have happened before a crash without its ID being stored.
            let refs = self.resolve(obj, env).await.unwrap_or_default();
            let desired = Desired { uid: &uid, default_name: &default_name, imported: obj.import().is_some(), resource, refs: &refs };
            match self.kind.find_owned(&cloud, &desired).await {
                Ok(found) => ids = found.iter().map(|r| self.kind.id(r)).collect(),
                Err(e) => return error_outcome(&e, "look for objects created earlier"),
            }
        }
        let mut pending = Vec::new();
        for id in &ids {
            if let Err(e) = self.kind.delete(&cloud, id).await
                && !matches!(e, ProviderError::NotFound(_))
            {
                let mut o = error_outcome(&e, &format!("delete {id}"));
                if !e.is_retryable() {
                    o.verdict.message.push_str(release_hint);
                }
                return o;
            }
            match self.kind.get(&cloud, id, Freshness::Fresh).await {
                Ok(None) => env.event(obj, Event::normal("Deleted", "Delete", format!("deleted {} {id}", O::KIND))).await,
                Ok(Some(_)) => pending.push(id.clone()),
                Err(e) => return error_outcome(&e, "observe deletion"),
            }
        }
        if pending.is_empty() {
            outcome(Next::Deleted, Verdict::new(false, true, reason::DELETING, "deleted"))
        } else {
            outcome(Next::Poll, Verdict::new(false, true, reason::DELETING, format!("waiting for the cloud to delete {}", pending.join(", "))))
        }
    }
}
