//! The Cluster controller: one reconcile at a time per Cluster, woken by
//! changes to it and to the Servers, Ports and FloatingIPs it owns.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::watcher;
use kube::{Resource, ResourceExt};
use serde_json::json;
use terrane_api::{Cluster, ClusterStatus, FloatingIP, Port, Server};
use tracing::Instrument;

use super::ClusterError;
use super::converge::{self, Converged};
use crate::controller::events::EventRecorder;
use crate::controller::finalizers;
use crate::reconciler::Event;
use crate::reconciler::status::set;

pub const FINALIZER: &str = "terrane.dev/cluster";

/// How the Cluster controller runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// Where fetched Git repositories are cached.
    pub git_cache: PathBuf,
}

/// Shared by every Cluster reconcile.
pub struct Context {
    pub client: kube::Client,
    pub recorder: Arc<EventRecorder>,
    pub options: Options,
    /// When each Cluster's bootstrap last ran, by UID.
    pub bootstrapped: Mutex<HashMap<String, (std::time::Instant, Option<i64>)>>,
    /// One fetch at a time per repository cache.
    pub fetch_locks: Mutex<HashMap<PathBuf, Arc<tokio::sync::Mutex<()>>>>,
}

/// Runs the Cluster controller until `stopped` resolves.
pub async fn run(
    client: kube::Client,
    recorder: Arc<EventRecorder>,
    options: Options,
    namespace: Option<&str>,
    stopped: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) {
    fn api<K: Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>>(
        client: &kube::Client,
        ns: Option<&str>,
    ) -> Api<K> {
        match ns {
            Some(ns) => Api::namespaced(client.clone(), ns),
            None => Api::all(client.clone()),
        }
    }
    let context = Arc::new(Context {
        client: client.clone(),
        recorder,
        options,
        bootstrapped: Mutex::new(HashMap::new()),
        fetch_locks: Mutex::new(HashMap::new()),
    });
    let config = watcher::Config::default();
    Controller::new(api::<Cluster>(&client, namespace), config.clone())
        .owns(api::<Server>(&client, namespace), config.clone())
        .owns(api::<Port>(&client, namespace), config.clone())
        .owns(api::<FloatingIP>(&client, namespace), config)
        .graceful_shutdown_on(stopped)
        .run(reconcile, error_policy, context)
        .for_each(|_| async {})
        .await;
}

fn error_policy(_: Arc<Cluster>, e: &ClusterError, _: Arc<Context>) -> Action {
    tracing::warn!(error = %e, "writing a Cluster's status failed");
    Action::requeue(Duration::from_secs(10))
}

async fn reconcile(cluster: Arc<Cluster>, ctx: Arc<Context>) -> Result<Action, ClusterError> {
    let span = tracing::info_span!(
        "reconcile",
        kind = "Cluster",
        namespace = %cluster.namespace().unwrap_or_default(),
        name = %cluster.name_any()
    );
    reconcile_in_span(cluster, ctx).instrument(span).await
}

async fn reconcile_in_span(cluster: Arc<Cluster>, ctx: Arc<Context>) -> Result<Action, ClusterError> {
    let api = Api::<Cluster>::namespaced(ctx.client.clone(), &cluster.namespace().unwrap_or_default());
    let old = cluster.status.clone().unwrap_or_default();
    let mut status = old.clone();
    let generation = cluster.metadata.generation;

    if cluster.meta().deletion_timestamp.is_some() {
        if !cluster.finalizers().iter().any(|f| f == FINALIZER) {
            return Ok(Action::await_change());
        }
        return match converge::teardown(&cluster, &ctx).await {
            Ok(0) => {
                finalizers::update(&api, &cluster, finalizers::without(FINALIZER)).await?;
                ctx.bootstrapped.lock().unwrap_or_else(|p| p.into_inner()).remove(&cluster.uid().unwrap_or_default());
                Ok(Action::await_change())
            }
            Ok(left) => {
                let message = format!("waiting for {left} owned objects to be deleted");
                set(&mut status.conditions, "Ready", false, terrane_api::reason::DELETING, &message, generation);
                write_status(&api, &cluster, &old, &status).await?;
                Ok(Action::requeue(Duration::from_secs(3)))
            }
            Err(e) => {
                set(&mut status.conditions, "Ready", false, e.reason(), &e.to_string(), generation);
                announce(&ctx, &cluster, &old, &status, true).await;
                write_status(&api, &cluster, &old, &status).await?;
                Ok(Action::requeue(Duration::from_secs(10)))
            }
        };
    }
    finalizers::update(&api, &cluster, finalizers::with(FINALIZER)).await?;

    let outcome = converge::converge(&cluster, &ctx, &mut status).await;
    let (ready, reason, message, warning, after) = match &outcome {
        Ok(Converged::Ready { message, recheck }) => {
            (true, terrane_api::reason::SUCCESS, message.clone(), false, *recheck)
        }
        Ok(Converged::Waiting(message)) => {
            (false, terrane_api::reason::WAITING, message.clone(), false, Duration::from_secs(5))
        }
        Err(e) => (false, e.reason(), e.to_string(), true, Duration::from_secs(10)),
    };
    if let Err(e) = &outcome {
        tracing::info!(error = %e, "cluster not ready");
    }
    set(&mut status.conditions, "Ready", ready, reason, &message, generation);
    status.observed_generation = generation;
    announce(&ctx, &cluster, &old, &status, warning).await;
    write_status(&api, &cluster, &old, &status).await?;
    Ok(Action::requeue(after))
}

/// An Event when the Ready condition's message changed.
async fn announce(ctx: &Context, cluster: &Cluster, old: &ClusterStatus, new: &ClusterStatus, warning: bool) {
    let message = |s: &ClusterStatus| {
        s.conditions.iter().find(|c| c.type_ == "Ready").map(|c| (c.status.clone(), c.message.clone()))
    };
    let (Some(now), before) = (message(new), message(old)) else { return };
    if before.as_ref() == Some(&now) {
        return;
    }
    let ev = match (warning, now.0 == "True") {
        (true, _) => Event::warning("ClusterNotReady", "Reconcile", now.1),
        (false, true) => Event::normal("ClusterReady", "Reconcile", now.1),
        (false, false) => Event::normal("Progressing", "Reconcile", now.1),
    };
    if let Err(e) = ctx.recorder.publish(&ev, cluster.object_ref(&())).await {
        tracing::warn!(error = %e, "publishing an event failed");
    }
}

async fn write_status(
    api: &Api<Cluster>,
    cluster: &Cluster,
    old: &ClusterStatus,
    new: &ClusterStatus,
) -> Result<(), ClusterError> {
    if old == new {
        return Ok(());
    }
    // Server-side apply: a field this manager no longer sets is removed.
    let patch = json!({ "apiVersion": Cluster::api_version(&()), "kind": "Cluster", "status": new });
    api.patch_status(&cluster.name_any(), &PatchParams::apply("terrane-cluster").force(), &Patch::Apply(&patch))
        .await?;
    Ok(())
}
