//! The controller of one kind: watch, finalizer, reconcile, requeue.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::{FutureExt, StreamExt};
use kube::ResourceExt;
use kube::api::Api;
use kube::runtime::controller::{Action, Controller};
use kube::runtime::{WatchStreamExt, reflector, watcher};
use rand::Rng;
use terrane_api::ManagedObject;
use terrane_openstack::CloudClient;
use terrane_provider::ExternalKind;
use tracing::{Instrument, info_span, warn};

use super::env::{KubeEnv, Shared};
use super::finalizers;
use super::metrics::{KindLabels, Metrics, ReconcileLabels};
use crate::reconciler::{Next, Outcome, Reconciler};

pub const FINALIZER: &str = "terrane.dev/cleanup";

/// An object annotated `terrane.dev/paused: "true"` is not reconciled at
/// all (neither changed nor deleted in the cloud) until the annotation goes.
/// `terrane state push` applies objects paused until their status is written.
pub const PAUSED_ANNOTATION: &str = "terrane.dev/paused";

fn paused<O: ManagedObject>(obj: &O) -> bool {
    obj.annotations().get(PAUSED_ANNOTATION).is_some_and(|v| v == "true")
}

/// Timing of requeues.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// Drift check period (jittered by up to 10 %).
    pub resync: Duration,
    pub poll_min: Duration,
    pub poll_max: Duration,
    pub retry_min: Duration,
    pub retry_max: Duration,
    /// How long a create that got no answer is looked for by its marker
    /// before another is sent: twice the cloud request timeout.
    pub unanswered_create_wait: Duration,
    /// The safety re-check of an object waiting on another (woken by a watch first).
    pub await_change_max: Duration,
    /// After a start, a Ready object's first drift check comes at a random
    /// point within this, so that new and changed objects go first.
    pub startup_spread: Duration,
}

impl Timing {
    /// Retries back off up to 5 minutes, never beyond the resync period.
    pub fn new(resync: Duration, cloud_timeout: Duration) -> Self {
        Self {
            resync,
            poll_min: Duration::from_millis(500),
            poll_max: Duration::from_secs(5),
            retry_min: Duration::from_secs(2),
            retry_max: Duration::from_secs(300).min(resync).max(Duration::from_secs(2)),
            unanswered_create_wait: cloud_timeout.saturating_mul(2),
            await_change_max: Duration::from_secs(30),
            startup_spread: (resync / 2).min(Duration::from_secs(60)),
        }
    }
}

struct KindContext<K> {
    shared: Arc<Shared>,
    reconciler: Reconciler<K>,
    metrics: Arc<Metrics>,
    timing: Timing,
    attempts: Mutex<HashMap<String, (Next, u32)>>,
    /// Objects (by UID) reconciled since this process started.
    seen: Mutex<std::collections::HashSet<String>>,
}

/// Doubling delay from `min` capped at `max`, with up to 20 % jitter.
pub fn backoff(attempt: u32, min: Duration, max: Duration) -> Duration {
    let base = min.saturating_mul(2u32.saturating_pow(attempt.min(20))).min(max);
    let jitter = rand::rng().random_range(0.0..0.2);
    base.mul_f64(1.0 + jitter).min(max)
}

impl<K> KindContext<K> {
    /// The requeue for `next`. Polls and retries back off separately: a
    /// retry after a series of polls starts from the retry minimum.
    fn action(&self, key: &str, next: Next) -> Action {
        let mut attempts = self.attempts.lock().unwrap_or_else(|p| p.into_inner());
        let mut step = |kind: Next, min, max| {
            let entry = attempts.entry(key.to_string()).or_insert((kind, 0));
            if entry.0 != kind {
                *entry = (kind, 0);
            }
            let d = backoff(entry.1, min, max);
            entry.1 += 1;
            Action::requeue(d)
        };
        match next {
            Next::Poll => step(Next::Poll, self.timing.poll_min, self.timing.poll_max),
            Next::Retry => step(Next::Retry, self.timing.retry_min, self.timing.retry_max),
            Next::AwaitChange => {
                attempts.remove(key);
                Action::requeue(self.timing.await_change_max)
            }
            Next::Resync | Next::Stalled => {
                attempts.remove(key);
                let jitter = rand::rng().random_range(0.0..0.1);
                Action::requeue(self.timing.resync.mul_f64(1.0 + jitter))
            }
            Next::Deleted => {
                attempts.remove(key);
                Action::await_change()
            }
        }
    }
}

/// What can stop a reconcile before the reconciler runs.
#[derive(Debug, thiserror::Error)]
pub enum ControllerError {
    #[error("updating finalizers: {0}")]
    Finalizer(#[source] kube::Error),
    #[error("reading the object: {0}")]
    Read(#[source] kube::Error),
}

impl<K> KindContext<K> {
    /// At the first sight of an object since the start: a Ready object in
    /// sync with its spec waits a random part of the startup spread, so that
    /// objects with work to do go first.
    fn defer_at_start<O: ManagedObject>(&self, obj: &O) -> Option<Duration> {
        let uid = obj.meta().uid.clone().unwrap_or_default();
        let first = self.seen.lock().unwrap_or_else(|p| p.into_inner()).insert(uid);
        let in_sync = obj.meta().deletion_timestamp.is_none()
            && obj.status().is_some_and(|s| s.is_ready() && s.observed_generation == obj.meta().generation);
        (first && in_sync && !self.timing.startup_spread.is_zero())
            .then(|| self.timing.startup_spread.mul_f64(rand::rng().random_range(0.0..1.0)))
    }
}

fn api_of<O: ManagedObject, K>(ctx: &KindContext<K>, obj: &O) -> Api<O> {
    Api::namespaced(ctx.shared.client.clone(), &obj.namespace().unwrap_or_default())
}

async fn reconcile<O, K>(obj: Arc<O>, ctx: Arc<KindContext<K>>) -> Result<Action, ControllerError>
where
    O: ManagedObject<Resource = K::Resource, Filter = K::Filter>,
    K: ExternalKind<Cloud = CloudClient>,
{
    let key = format!("{}/{}", obj.namespace().unwrap_or_default(), obj.name_any());
    ctx.shared.caches.ready().await;
    if let Some(delay) = ctx.defer_at_start(obj.as_ref()) {
        return Ok(Action::requeue(delay));
    }
    // The cached copy may not hold the last status written (a new cloud ID,
    // by this process a moment ago or by a previous leader); acting on it
    // could create twice. So an object without a cloud ID (one a create may
    // follow for) is always read again, and so is one whose cached copy is
    // older than this process's last write to it.
    let has_id = obj.status().is_some_and(|s| s.id.is_some());
    let obj = if has_id && ctx.shared.is_current(obj.as_ref()) {
        obj
    } else {
        match api_of(&ctx, obj.as_ref()).get_opt(&obj.name_any()).await.map_err(ControllerError::Read)? {
            Some(fresh) => Arc::new(fresh),
            None => return Ok(Action::await_change()),
        }
    };
    if paused(obj.as_ref()) {
        return Ok(Action::await_change());
    }
    let env = KubeEnv { shared: ctx.shared.clone() };
    let has_finalizer = obj.finalizers().iter().any(|f| f == FINALIZER);
    let outcome: Outcome = if obj.meta().deletion_timestamp.is_some() {
        if !has_finalizer {
            return Ok(Action::await_change());
        }
        let outcome = ctx.reconciler.cleanup(obj.as_ref(), &env).await;
        if outcome.next == Next::Deleted {
            finalizers::update(&api_of(&ctx, obj.as_ref()), obj.as_ref(), finalizers::without(FINALIZER))
                .await
                .map_err(ControllerError::Finalizer)?;
        }
        outcome
    } else {
        if !has_finalizer {
            finalizers::update(&api_of(&ctx, obj.as_ref()), obj.as_ref(), finalizers::with(FINALIZER))
                .await
                .map_err(ControllerError::Finalizer)?;
            return Ok(Action::requeue(Duration::ZERO));
        }
        ctx.reconciler.apply(obj.as_ref(), &env).await
    };
    let labels = ReconcileLabels { kind: O::KIND.into(), reason: outcome.verdict.reason.into() };
    ctx.metrics.reconciles.get_or_create(&labels).inc();
    if !outcome.verdict.synced {
        ctx.metrics.errors.get_or_create(&labels).inc();
        warn!(reason = outcome.verdict.reason, message = %outcome.verdict.message, "reconcile did not succeed");
    } else {
        tracing::debug!(reason = outcome.verdict.reason, message = %outcome.verdict.message, "reconciled");
    }
    Ok(ctx.action(&key, outcome.next))
}

fn error_policy<O, K>(obj: Arc<O>, error: &ControllerError, ctx: Arc<KindContext<K>>) -> Action
where
    O: ManagedObject,
{
    warn!(kind = O::KIND, name = %obj.name_any(), %error, "reconcile failed");
    ctx.action(&format!("{}/{}", obj.namespace().unwrap_or_default(), obj.name_any()), Next::Retry)
}

/// What a reconcile must react to: a new generation, deletion, finalizers, pausing.
fn spec_or_lifecycle<O: ManagedObject>(obj: &O) -> Option<u64> {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    obj.meta().generation.hash(&mut h);
    obj.meta().deletion_timestamp.is_some().hash(&mut h);
    obj.finalizers().hash(&mut h);
    paused(obj).hash(&mut h);
    Some(h.finish())
}

/// Runs the controller of `O` until `shutdown` resolves.
pub async fn run<O, K>(
    shared: Arc<Shared>,
    kind: K,
    metrics: Arc<Metrics>,
    timing: Timing,
    concurrency: u16,
    namespace: Option<&str>,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) where
    O: ManagedObject<Resource = K::Resource, Filter = K::Filter>,
    K: ExternalKind<Cloud = CloudClient>,
{
    let api = match namespace {
        Some(ns) => Api::<O>::namespaced(shared.client.clone(), ns),
        None => Api::<O>::all(shared.client.clone()),
    };
    let ctx = Arc::new(KindContext {
        reconciler: Reconciler::new(kind, timing.resync, timing.unanswered_create_wait),
        shared,
        metrics,
        timing,
        attempts: Mutex::new(HashMap::new()),
        seen: Mutex::new(Default::default()),
    });
    let (reader, writer) = reflector::store();
    let (wake, woken) = futures::channel::mpsc::unbounded();
    ctx.shared.caches.register::<O>(reader.clone(), wake);
    let caches = ctx.shared.caches.clone();
    // Status writes (every reconcile stores status) must not trigger another
    // reconcile: only spec (generation), deletion and finalizer changes do.
    let changes = watcher(api, watcher::Config::default().any_semantic())
        .default_backoff()
        .reflect(writer)
        .inspect(move |event| {
            if let Ok(event) = event {
                caches.on_event(event);
            }
        })
        .applied_objects()
        .predicate_filter(spec_or_lifecycle::<O>, Default::default());
    Controller::for_stream(changes, reader)
        .reconcile_on(woken)
        .with_config(kube::runtime::controller::Config::default().concurrency(concurrency))
        .graceful_shutdown_on(shutdown)
        .run(
            |obj: Arc<O>, ctx: Arc<KindContext<K>>| {
                let span = info_span!("reconcile", kind = O::KIND, namespace = %obj.namespace().unwrap_or_default(), name = %obj.name_any());
                let histogram = ctx.metrics.reconcile_duration.get_or_create(&KindLabels { kind: O::KIND.into() }).clone();
                let started = std::time::Instant::now();
                reconcile::<O, K>(obj, ctx).instrument(span).inspect(move |_| histogram.observe(started.elapsed().as_secs_f64()))
            },
            error_policy::<O, K>,
            ctx,
        )
        .for_each(|_| futures::future::ready(()))
        .await;
}
