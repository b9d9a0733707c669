//! The one reconciler every kind runs through:
//! resolve refs → observe (status.id → import → ownership marker) →
//! create | update | delete → status.
//!
//! It works on an object, an [`Environment`] and a provider [`ExternalKind`];
//! it never touches a Kubernetes client, so `terrane plan/apply` run it too.

pub mod env;
pub mod status;

use std::time::Duration;
use terrane_api::{DeletionPolicy, ManagedObject, ManagementPolicy, ResourceStatus, reason};
use terrane_provider::{Desired, Diff, ExternalKind, Freshness, ProviderError, Readiness, ResolvedRefs};

use k8s_openapi::jiff::Timestamp;
use tracing::{debug, info, warn};

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
    /// How long the ownership-marker look-up must stay empty after a create
    /// whose outcome is unknown before a new create is sent.
    unanswered_create_wait: Duration,
    /// When each object (by UID) was last checked for duplicates.
    duplicate_checks: std::sync::Mutex<std::collections::HashMap<String, std::time::Instant>>,
}

/// Drift checks per duplicate check: looking for other cloud objects carrying
/// the marker lists a whole collection, so it runs at every sixth resync.
const RESYNCS_PER_DUPLICATE_CHECK: u32 = 6;

enum Found<R> {
    Remote(R),
    Missing,
}

fn now() -> Timestamp {
    Timestamp::now()
}

/// `since` (RFC 3339) plus `wait`: when a create left in doubt may be sent again.
fn doubt_ends(since: &str, wait: Duration) -> Option<Timestamp> {
    let at: Timestamp = since.parse().ok()?;
    at.checked_add(k8s_openapi::jiff::SignedDuration::try_from(wait).ok()?).ok()
}

fn outcome(next: Next, verdict: Verdict) -> Outcome {
    Outcome { next, verdict }
}

fn error_outcome(e: &ProviderError, what: &str) -> Outcome {
    let message = format!("{what}: {e}");
    match e {
        ProviderError::Waiting(_) => {
            outcome(Next::Poll, Verdict::new(false, true, reason::WAITING, format!("{message}; trying again")))
        }
        ProviderError::Conflict(_) => {
            outcome(Next::Retry, Verdict::new(false, false, reason::WAITING, format!("{message}; trying again")))
        }
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
        EnvError::Invalid(m) => {
            outcome(Next::Stalled, Verdict::new(false, false, reason::INVALID_CONFIGURATION, m.clone()))
        }
        EnvError::ProviderConfigMissing(_) | EnvError::SecretMissing(_) => {
            outcome(Next::Poll, Verdict::new(false, true, reason::WAITING, e.to_string()))
        }
    }
}

impl<K> Reconciler<K>
where
    K: ExternalKind,
{
    /// `unanswered_create_wait`: how long a create that got no answer is
    /// looked for by its marker before another create is sent (the cloud
    /// request timeout plus a margin).
    pub fn new(kind: K, resync_secs: u64, unanswered_create_wait: Duration) -> Self {
        Self { kind, resync_secs, unanswered_create_wait, duplicate_checks: Default::default() }
    }

    /// True at the first drift check of `uid` and every
    /// [`RESYNCS_PER_DUPLICATE_CHECK`] resync periods after.
    fn duplicate_check_due(&self, uid: &str) -> bool {
        let period = Duration::from_secs(self.resync_secs)
            .saturating_mul(RESYNCS_PER_DUPLICATE_CHECK)
            .saturating_sub(Duration::from_secs(1));
        let mut checks = self.duplicate_checks.lock().unwrap_or_else(|p| p.into_inner());
        let now = std::time::Instant::now();
        match checks.get(uid) {
            Some(at) if now.duration_since(*at) < period => false,
            _ => {
                checks.insert(uid.to_string(), now);
                true
            }
        }
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
                Verdict::new(
                    false,
                    false,
                    reason::INVALID_CONFIGURATION,
                    "managementPolicy ObserveOnly needs spec.import (id or filter)",
                ),
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
        let freshness =
            if in_steady_state { Freshness::Cached { max_age_secs: self.resync_secs / 2 } } else { Freshness::Fresh };

        let desired = obj.resource().map(|resource| Desired {
            uid: &uid,
            default_name: &default_name,
            imported: obj.import().is_some(),
            resource,
            refs: &refs,
        });
        if let Some(Err(e)) = desired.as_ref().map(|d| self.kind.validate(d)) {
            return error_outcome(&e, "spec");
        }
        let found = match self.observe(obj, &cloud, status, desired.as_ref(), freshness, env).await {
            Ok(f) => f,
            Err(o) => return o,
        };
        let remote = match found {
            Found::Remote(r) => r,
            Found::Missing => {
                let Some(desired) = &desired else {
                    return outcome(
                        Next::Stalled,
                        Verdict::new(
                            false,
                            false,
                            reason::INVALID_CONFIGURATION,
                            "nothing to create: spec.resource is missing",
                        ),
                    );
                };
                match self.create(obj, env, &cloud, status, desired).await {
                    Ok(r) => r,
                    Err(o) => return o,
                }
            }
        };
        status.resource = serde_json::to_value(&remote).ok();
        status.last_sync_time = Some(k8s_openapi::jiff::Timestamp::now().to_string());

        if !observe_only && let Some(desired) = &desired {
            let diff = self.kind.diff(desired, &remote);
            if !diff.immutable.is_empty() {
                let detail = diff
                    .immutable
                    .iter()
                    .map(|d| format!("{} is {} in the cloud but the spec asks for {}", d.field, d.cloud, d.desired))
                    .collect::<Vec<_>>()
                    .join("; ");
                return outcome(
                    Next::Stalled,
                    Verdict::new(
                        false,
                        false,
                        reason::INVALID_CONFIGURATION,
                        format!("{detail}; the cloud cannot change this in place (recreate the object to change it)"),
                    ),
                );
            }
            if !diff.mutable.is_empty() {
                return self.update(obj, env, &cloud, desired, &remote, &diff, status, in_steady_state).await;
            }
        }
        self.readiness(&remote)
    }

    /// Records `pendingCreate`, creates, and stores the new ID before
    /// anything else. A create whose outcome is unknown keeps
    /// `pendingCreate` (moved to now): the next reconciles look for the
    /// object by its marker, and create again only once that has stayed
    /// empty for `unanswered_create_wait`.
    async fn create<O, E>(
        &self,
        obj: &O,
        env: &E,
        cloud: &K::Cloud,
        status: &mut ResourceStatus,
        desired: &Desired<'_, K::Resource>,
    ) -> Result<K::Remote, Outcome>
    where
        O: ManagedObject<Resource = K::Resource, Filter = K::Filter>,
        E: Environment<O, K::Cloud>,
    {
        status.pending_create = Some(now().to_string());
        status.marker_absent_since = None;
        if let Err(e) = env.save_status(obj, status).await {
            return Err(env_outcome(&e));
        }
        let id = match self.kind.create(cloud, desired).await {
            Ok(id) => id,
            Err(e @ ProviderError::OutcomeUnknown(_)) => {
                status.marker_absent_since = None;
                warn!(error = %e, "create got no answer; looking for the object by its marker before creating again");
                let wait = self.unanswered_create_wait.as_secs();
                return Err(outcome(
                    Next::Poll,
                    Verdict::new(
                        false,
                        false,
                        reason::TRANSIENT_ERROR,
                        format!(
                            "create: {e}; looking for the object by its ownership marker, and creating again only if it has not appeared within {wait} s"
                        ),
                    ),
                ));
            }
            Err(e) => {
                // A refusal, or a failure before anything was sent: nothing was made.
                status.pending_create = None;
                status.marker_absent_since = None;
                return Err(match e {
                    ProviderError::Conflict(m) => outcome(
                        Next::Stalled,
                        Verdict::new(
                            false,
                            false,
                            reason::INVALID_CONFIGURATION,
                            format!(
                                "create: {m}; it clashes with something in the cloud: change the spec, or import the existing object"
                            ),
                        ),
                    ),
                    e => error_outcome(&e, "create"),
                });
            }
        };
        if std::env::var(FAILPOINT_ENV).as_deref() == Ok("after-create") {
            tracing::warn!(%id, "failpoint after-create: exiting before the ID is stored");
            std::process::exit(86);
        }
        status.id = Some(id.clone());
        status.pending_create = None;
        status.marker_absent_since = None;
        if let Err(e) = env.save_status(obj, status).await {
            return Err(env_outcome(&e));
        }
        info!(%id, "created");
        env.event(obj, Event::normal("Created", "Create", format!("created {} {id}", O::KIND))).await;
        match self.kind.get(cloud, &id, Freshness::Fresh).await {
            Ok(Some(r)) => Ok(r),
            Ok(None) => Err(outcome(
                Next::Poll,
                Verdict::new(
                    false,
                    true,
                    reason::PROGRESSING,
                    format!("created {id}; waiting for the cloud to show it"),
                ),
            )),
            Err(e) => Err(error_outcome(&e, "observe after create")),
        }
    }

    /// Deletes every object in `owned` except `keep`: cloud objects carrying
    /// this object's ownership marker that are not its `status.id` were made
    /// by a create whose answer was lost. Returns the IDs removed.
    async fn remove_duplicates<O, E>(
        &self,
        obj: &O,
        env: &E,
        cloud: &K::Cloud,
        keep: &str,
        owned: &[K::Remote],
    ) -> Result<Vec<String>, Outcome>
    where
        O: ManagedObject,
        E: Environment<O, K::Cloud>,
    {
        let mut removed = Vec::new();
        for id in owned.iter().map(|r| self.kind.id(r)).filter(|id| id != keep) {
            if let Err(e) = self.kind.delete(cloud, &id).await
                && !matches!(e, ProviderError::NotFound(_))
            {
                return Err(error_outcome(&e, &format!("delete duplicate {id}")));
            }
            warn!(%id, keep, "deleted a duplicate carrying this object's marker");
            env.event(obj, Event::warning("DuplicateDeleted", "Observe", format!(
                "{} {id} carried this object's ownership marker but is not {keep} (a create whose answer was lost); deleted it", O::KIND
            ))).await;
            removed.push(id);
        }
        Ok(removed)
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
        let Some(id) = status.id.clone() else {
            return outcome(Next::Poll, Verdict::new(false, true, reason::PROGRESSING, "updated"));
        };
        match self.kind.get(cloud, &id, Freshness::Fresh).await {
            Ok(Some(r)) => {
                status.resource = serde_json::to_value(&r).ok();
                let still = self.kind.diff(desired, &r);
                if still.mutable.is_empty() {
                    self.readiness(&r)
                } else {
                    outcome(
                        Next::Poll,
                        Verdict::new(
                            false,
                            true,
                            reason::PROGRESSING,
                            format!("waiting for {} to converge", Diff::fields(&still.mutable)),
                        ),
                    )
                }
            }
            Ok(None) => outcome(
                Next::Poll,
                Verdict::new(false, true, reason::PROGRESSING, "the object disappeared during update"),
            ),
            Err(e) => error_outcome(&e, "observe after update"),
        }
    }

    fn readiness(&self, remote: &K::Remote) -> Outcome {
        match self.kind.readiness(remote) {
            Readiness::Ready => {
                outcome(Next::Resync, Verdict::new(true, true, reason::SUCCESS, "the cloud object matches the spec"))
            }
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
            Err(outcome(
                Next::Poll,
                Verdict::new(false, true, reason::WAITING, format!("Waiting on {}", waiting.join(", "))),
            ))
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
        desired: Option<&Desired<'_, K::Resource>>,
        freshness: Freshness,
        env: &E,
    ) -> Result<Found<K::Remote>, Outcome>
    where
        O: ManagedObject<Resource = K::Resource, Filter = K::Filter>,
        E: Environment<O, K::Cloud>,
    {
        let observe_only = obj.common().management_policy == ManagementPolicy::ObserveOnly;
        let created_here = !observe_only && obj.import().is_none();
        if let Some(id) = status.id.clone() {
            match self.kind.get(cloud, &id, freshness).await {
                Ok(Some(r)) => {
                    // At each drift check: anything else carrying the marker is a duplicate.
                    if created_here
                        && freshness != Freshness::Fresh
                        && let Some(desired) = desired
                        && self.duplicate_check_due(desired.uid)
                    {
                        let owned = self
                            .kind
                            .find_owned(cloud, desired)
                            .await
                            .map_err(|e| error_outcome(&e, "look for duplicates"))?;
                        let removed = self.remove_duplicates(obj, env, cloud, &id, &owned).await?;
                        if !removed.is_empty() {
                            return Err(outcome(
                                Next::Poll,
                                Verdict::new(
                                    false,
                                    true,
                                    reason::PROGRESSING,
                                    format!(
                                        "deleted duplicate {} {} carrying this object's ownership marker; keeping {id}",
                                        O::KIND,
                                        removed.join(", ")
                                    ),
                                ),
                            ));
                        }
                    }
                    return Ok(Found::Remote(r));
                }
                Ok(None) if !created_here => {
                    return Err(outcome(
                        Next::Stalled,
                        Verdict::new(
                            false,
                            false,
                            reason::UNRECOVERABLE,
                            format!("the {} {id} no longer exists in the cloud", O::KIND),
                        ),
                    ));
                }
                Ok(None) => {
                    env.event(
                        obj,
                        Event::warning(
                            "Recreating",
                            "Observe",
                            format!("{} {id} was deleted outside Terrane; creating it again", O::KIND),
                        ),
                    )
                    .await;
                    status.id = None;
                    status.resource = None;
                }
                Err(e) => return Err(error_outcome(&e, "observe")),
            }
        }
        let (found, how) = if let Some(import) = obj.import() {
            (Some(self.import::<O>(cloud, import).await?), "Imported")
        } else if let Some(desired) = desired
            && let Some(pending) = status.pending_create.clone()
        {
            let owned = match self.kind.find_owned(cloud, desired).await {
                Ok(v) => v,
                Err(e) => {
                    // No answer is not an empty answer: the wait starts again.
                    status.marker_absent_since = None;
                    return Err(error_outcome(&e, "look for an object created earlier"));
                }
            };
            let Some(first) = owned.first() else {
                let wait = self.unanswered_create_wait;
                let since = status.marker_absent_since.get_or_insert_with(|| now().to_string()).clone();
                return match doubt_ends(&since, wait) {
                    Some(end) if end > now() => Err(outcome(
                        Next::Poll,
                        Verdict::new(
                            false,
                            true,
                            reason::PROGRESSING,
                            format!(
                                "the create sent at {pending} may still land: no cloud object carries this object's ownership marker since {since}; creating again after {end}"
                            ),
                        ),
                    )),
                    Some(_) => {
                        info!(%pending, %since, "no object carries the marker after the wait; creating again");
                        Ok(Found::Missing)
                    }
                    None => {
                        status.marker_absent_since = Some(now().to_string());
                        Err(outcome(
                            Next::Poll,
                            Verdict::new(
                                false,
                                true,
                                reason::PROGRESSING,
                                "looking for an object created earlier by its ownership marker",
                            ),
                        ))
                    }
                };
            };
            let keep = self.kind.id(first);
            self.remove_duplicates(obj, env, cloud, &keep, &owned).await?;
            (owned.into_iter().next(), "Adopted")
        } else {
            (None, "")
        };
        let Some(remote) = found else { return Ok(Found::Missing) };
        let id = self.kind.id(&remote);
        debug!(%id, how, "found the cloud object");
        status.id = Some(id.clone());
        status.pending_create = None;
        status.marker_absent_since = None;
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

    /// The one cloud object `import` names. None yet is progress (another
    /// pipeline may still be creating it): retried with backoff. Two or
    /// more is a terminal error naming them.
    async fn import<O: ManagedObject>(
        &self,
        cloud: &K::Cloud,
        import: &terrane_api::Import<K::Filter>,
    ) -> Result<K::Remote, Outcome> {
        let mut matches = match (&import.id, &import.filter) {
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
        let n = matches.len();
        if n == 1
            && let Some(r) = matches.pop()
        {
            return Ok(r);
        }
        match n {
            0 | 1 => Err(outcome(
                Next::Retry,
                Verdict::new(
                    false,
                    true,
                    reason::WAITING,
                    format!("{described} matches no {} yet; looking again with backoff", O::KIND),
                ),
            )),
            _ => {
                let ids = matches.iter().map(|r| self.kind.id(r)).collect::<Vec<_>>().join(", ");
                Err(outcome(
                    Next::Stalled,
                    Verdict::new(
                        false,
                        false,
                        reason::INVALID_CONFIGURATION,
                        format!("{described} matches {n} {}s ({ids}); it must match exactly one", O::KIND),
                    ),
                ))
            }
        }
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
            return outcome(
                Next::Poll,
                Verdict::new(
                    false,
                    true,
                    reason::WAITING,
                    format!("deletion waits until these are deleted: {}", referrers.join(", ")),
                ),
            );
        }
        let common = obj.common();
        if common.deletion_policy == DeletionPolicy::Orphan || common.management_policy == ManagementPolicy::ObserveOnly
        {
            if let Some(id) = &status.id {
                env.event(obj, Event::normal("Orphaned", "Delete", format!("left {} {id} in the cloud", O::KIND)))
                    .await;
            }
            return outcome(Next::Deleted, Verdict::new(false, true, reason::DELETING, "orphaned"));
        }
        if status.id.is_none() && status.pending_create.is_none() {
            return outcome(
                Next::Deleted,
                Verdict::new(false, true, reason::DELETING, "nothing was created in the cloud"),
            );
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
        if obj.import().is_none()
            && let Some(resource) = obj.resource()
        {
            // Every cloud object carrying the marker goes: one whose ID was
            // never stored (a crash, a lost answer) as well as status.id.
            let refs = self.resolve(obj, env).await.unwrap_or_default();
            let desired = Desired { uid: &uid, default_name: &default_name, imported: false, resource, refs: &refs };
            match self.kind.find_owned(&cloud, &desired).await {
                Ok(found) => {
                    ids.extend(found.iter().map(|r| self.kind.id(r)).filter(|id| status.id.as_ref() != Some(id)))
                }
                // References already gone: status.id is all there is to go by.
                Err(ProviderError::Terminal { .. }) if !ids.is_empty() => {}
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
                Ok(None) => {
                    env.event(obj, Event::normal("Deleted", "Delete", format!("deleted {} {id}", O::KIND))).await
                }
                Ok(Some(_)) => pending.push(id.clone()),
                Err(e) => return error_outcome(&e, "observe deletion"),
            }
        }
        if pending.is_empty() {
            outcome(Next::Deleted, Verdict::new(false, true, reason::DELETING, "deleted"))
        } else {
            outcome(
                Next::Poll,
                Verdict::new(
                    false,
                    true,
                    reason::DELETING,
                    format!("waiting for the cloud to delete {}", pending.join(", ")),
                ),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::doubt_ends;
    use std::time::Duration;

    #[test]
    fn a_create_in_doubt_may_be_sent_again_only_after_the_wait() {
        let end = doubt_ends("2026-12-02T12:00:00Z", Duration::from_secs(60)).expect("a time");
        assert_eq!(end.to_string(), "2026-12-02T12:01:00Z");
        assert!(
            doubt_ends("not a time", Duration::from_secs(60)).is_none(),
            "an unreadable time is not a finished wait"
        );
    }
}
