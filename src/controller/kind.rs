//! The controller of one kind: watch, finalizer, reconcile, requeue.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
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
use super::metrics::{Metrics, ReconcileLabels};
use crate::reconciler::{Next, Outcome, Reconciler};

pub const FINALIZER: &str = "terrane.dev/cleanup";

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
        }
    }
}

struct KindContext<K> {
    shared: Arc<Shared>,
    reconciler: Reconciler<K>,
    metrics: Arc<Metrics>,
    timing: Timing,
    attempts: Mutex<HashMap<String, (Next, u32)>>,
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

fn api_of<O: ManagedObject, K>(ctx: &KindContext<K>, obj: &O) -> Api<O> {
    Api::namespaced(ctx.shared.client.clone(), &obj.namespace().unwrap_or_default())
}

async fn reconcile<O, K>(obj: Arc<O>, ctx: Arc<KindContext<K>>) -> Result<Action, ControllerError>
where
    O: ManagedObject<Resource = K::Resource, Filter = K::Filter>,
    K: ExternalKind<Cloud = CloudClient>,
{
    let key = format!("{}/{}", obj.namespace().unwrap_or_default(), obj.name_any());
    // The watch cache may not have seen the status this controller wrote a
    // moment ago (a new cloud ID); acting on it could create twice.
    let Some(fresh) = api_of(&ctx, obj.as_ref()).get_opt(&obj.name_any()).await.map_err(ControllerError::Read)? else {
        return Ok(Action::await_change());
    };
    let obj = Arc::new(fresh);
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

/// What a reconcile must react to: a new generation, deletion, finalizers.
fn spec_or_lifecycle<O: ManagedObject>(obj: &O) -> Option<u64> {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    obj.meta().generation.hash(&mut h);
    obj.meta().deletion_timestamp.is_some().hash(&mut h);
    obj.finalizers().hash(&mut h);
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
        reconciler: Reconciler::new(kind, timing.resync.as_secs(), timing.unanswered_create_wait),
        shared,
        metrics,
        timing,
        attempts: Mutex::new(HashMap::new()),
    });
    let (reader, writer) = reflector::store();
    // Status writes (every reconcile stores status) must not trigger another
    // reconcile: only spec (generation), deletion and finalizer changes do.
    let changes = watcher(api, watcher::Config::default().any_semantic())
        .default_backoff()
        .reflect(writer)
        .applied_objects()
        .predicate_filter(spec_or_lifecycle::<O>, Default::default());
    Controller::for_stream(changes, reader)
        .with_config(kube::runtime::controller::Config::default().concurrency(concurrency))
        .graceful_shutdown_on(shutdown)
        .run(
            |obj: Arc<O>, ctx: Arc<KindContext<K>>| {
                let span = info_span!("reconcile", kind = O::KIND, namespace = %obj.namespace().unwrap_or_default(), name = %obj.name_any());
                reconcile::<O, K>(obj, ctx).instrument(span)
            },
            error_policy::<O, K>,
            ctx,
        )
        .for_each(|_| futures::future::ready(()))
        .await;
}
