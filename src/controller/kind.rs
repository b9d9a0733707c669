//! The controller of one kind: watch, finalizer, reconcile, requeue.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::watcher;
use kube::ResourceExt;
use rand::Rng;
use serde_json::json;
use terrane_api::ManagedObject;
use terrane_openstack::CloudClient;
use terrane_provider::ExternalKind;
use tracing::{Instrument, info_span, warn};

use super::env::{KubeEnv, Shared};
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
}

impl Timing {
    pub fn new(resync: Duration) -> Self {
        Self {
            resync,
            poll_min: Duration::from_millis(500),
            poll_max: Duration::from_secs(30),
            retry_min: Duration::from_secs(2),
            retry_max: Duration::from_secs(300),
        }
    }
}

struct KindContext<K> {
    shared: Arc<Shared>,
    reconciler: Reconciler<K>,
    metrics: Arc<Metrics>,
    timing: Timing,
    attempts: Mutex<HashMap<String, u32>>,
}

/// Doubling delay from `min` capped at `max`, with up to 20 % jitter.
pub fn backoff(attempt: u32, min: Duration, max: Duration) -> Duration {
    let base = min.saturating_mul(2u32.saturating_pow(attempt.min(20))).min(max);
    let jitter = rand::rng().random_range(0.0..0.2);
    base.mul_f64(1.0 + jitter).min(max)
}

impl<K> KindContext<K> {
    fn action(&self, key: &str, next: Next) -> Action {
        let mut attempts = self.attempts.lock().unwrap_or_else(|p| p.into_inner());
        let mut step = |min, max| {
            let n = attempts.entry(key.to_string()).or_insert(0);
            let d = backoff(*n, min, max);
            *n += 1;
            Action::requeue(d)
        };
        match next {
            Next::Poll => step(self.timing.poll_min, self.timing.poll_max),
            Next::Retry => step(self.timing.retry_min, self.timing.retry_max),
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
}

async fn set_finalizers<O: ManagedObject>(client: &kube::Client, obj: &O, finalizers: Vec<String>) -> Result<(), ControllerError> {
    let api = Api::<O>::namespaced(client.clone(), &obj.namespace().unwrap_or_default());
    let patch = json!({ "metadata": { "finalizers": finalizers, "resourceVersion": obj.resource_version() } });
    api.patch(&obj.name_any(), &PatchParams::default(), &Patch::Merge(patch)).await.map_err(ControllerError::Finalizer)?;
    Ok(())
}

async fn reconcile<O, K>(obj: Arc<O>, ctx: Arc<KindContext<K>>) -> Result<Action, ControllerError>
where
    O: ManagedObject<Resource = K::Resource, Filter = K::Filter>,
    K: ExternalKind<Cloud = CloudClient>,
{
    let key = format!("{}/{}", obj.namespace().unwrap_or_default(), obj.name_any());
    let env = KubeEnv { shared: ctx.shared.clone() };
    let has_finalizer = obj.finalizers().iter().any(|f| f == FINALIZER);
    let outcome: Outcome = if obj.meta().deletion_timestamp.is_some() {
        if !has_finalizer {
            return Ok(Action::await_change());
        }
        let outcome = ctx.reconciler.cleanup(obj.as_ref(), &env).await;
        if outcome.next == Next::Deleted {
            let rest = obj.finalizers().iter().filter(|f| *f != FINALIZER).cloned().collect();
            set_finalizers(&ctx.shared.client, obj.as_ref(), rest).await?;
        }
        outcome
    } else {
        if !has_finalizer {
            let mut all = obj.finalizers().to_vec();
            all.push(FINALIZER.to_string());
            set_finalizers(&ctx.shared.client, obj.as_ref(), all).await?;
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
        reconciler: Reconciler::new(kind, timing.resync.as_secs()),
        shared,
        metrics,
        timing,
        attempts: Mutex::new(HashMap::new()),
    });
    Controller::new(api, watcher::Config::default().any_semantic())
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
