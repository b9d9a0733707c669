//! `terrane controller`: the Kubernetes driver of the generic reconciler.

mod cache;
pub(crate) mod env;
pub(crate) mod events;
pub(crate) mod finalizers;
mod http;
mod inputs;
mod kind;
mod leader;
pub mod metrics;
mod provider_config;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use terrane_openstack::OpenStackConnector;
use tokio::sync::watch;

pub use kind::{PAUSED_ANNOTATION, Timing};

/// How the controller runs.
#[derive(Debug, Clone)]
pub struct Options {
    pub resync: Duration,
    /// The timeout of one cloud request.
    pub cloud_timeout: Duration,
    /// Drift checks of a collection read one list of it once this many of
    /// its objects are checked (one GET each below that).
    pub list_min_objects: usize,
    pub metrics_addr: SocketAddr,
    pub concurrency: u16,
    /// `Some((namespace, lease name))` to run only while holding that Lease.
    pub leader_election: Option<(String, String)>,
    pub identity: String,
    /// Watch only this namespace (default: all).
    pub namespace: Option<String>,
    /// Where Cluster bootstraps cache fetched Git repositories.
    pub git_cache: std::path::PathBuf,
}

/// Why the controller stopped.
#[derive(Debug, thiserror::Error)]
pub enum ControllerRunError {
    #[error("cannot reach the Kubernetes API: {0}")]
    Kube(#[from] kube::Error),
    #[error("leader election: {0}")]
    Leader(String),
    #[error("serving metrics: {0}")]
    Http(#[from] std::io::Error),
}

/// Runs every kind's controller until SIGTERM/SIGINT (or, with leader
/// election, until the lease is lost).
pub async fn run(options: Options) -> Result<(), ControllerRunError> {
    let client = kube::Client::try_default().await?;
    let metrics = metrics::Metrics::new();
    let listener_metrics = metrics.clone();
    let addr = options.metrics_addr;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(addr = %listener.local_addr()?, "serving /metrics and /healthz");
    let server = tokio::spawn(async move { http::serve(listener, listener_metrics).await });

    let (stop_tx, stop_rx) = watch::channel(false);
    let lease = match &options.leader_election {
        Some((ns, name)) => Some(leader::acquire(client.clone(), ns, name, &options.identity).await?),
        None => None,
    };

    let (provider_configs, provider_config_writer) = kube::runtime::reflector::store();
    let (secrets, secret_writer) = kube::runtime::reflector::store();
    let shared = Arc::new(env::Shared {
        client: client.clone(),
        connector: OpenStackConnector::new(metrics.clone(), options.cloud_timeout)
            .with_list_min_objects(options.list_min_objects),
        recorder: events::EventRecorder::new(client.clone(), options.identity.clone()),
        caches: cache::Caches::new(provider_configs, secrets),
        written: Default::default(),
    });
    let stopped = |mut rx: watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    let timing = Timing::new(options.resync, options.cloud_timeout);
    let c = options.concurrency;
    let ns = options.namespace.as_deref();
    macro_rules! controllers {
        ($($api:ident => $provider:ident),* $(,)?) => {
            vec![$(
                Box::pin(kind::run::<terrane_api::$api, _>(
                    shared.clone(),
                    terrane_openstack::kinds::$provider,
                    metrics.clone(),
                    timing,
                    c,
                    ns,
                    stopped(stop_rx.clone()),
                )) as BoxFuture<'_, ()>,
            )*]
        };
    }
    let mut all = crate::for_each_kind!(controllers);
    all.push(Box::pin(provider_config::run(shared.clone(), ns, provider_config_writer, stopped(stop_rx.clone()))));
    all.push(Box::pin(provider_config::watch_credentials(shared.clone(), ns, secret_writer, stopped(stop_rx.clone()))));
    all.push(Box::pin(crate::cluster::run(
        client.clone(),
        Arc::new(events::EventRecorder::new(client.clone(), options.identity.clone())),
        crate::cluster::Options { git_cache: options.git_cache.clone() },
        ns,
        stopped(stop_rx.clone()),
    )));
    let controllers = futures::future::join_all(all);
    tracing::info!(resync = ?options.resync, "controllers started");

    let lost = async {
        match lease {
            Some(l) => l.lost().await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(controllers);
    let mut result = Ok(());
    tokio::select! {
        _ = &mut controllers => {},
        _ = shutdown_signal() => {
            tracing::info!("shutting down");
            let _ = stop_tx.send(true);
            controllers.await;
        }
        e = lost => {
            let _ = stop_tx.send(true);
            result = Err(ControllerRunError::Leader(e));
        }
        r = server => {
            let _ = stop_tx.send(true);
            if let Ok(Err(e)) = r { result = Err(e.into()); }
        }
    }
    result
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(t) => t,
            Err(_) => {
                let _ = ctrl_c.await;
                return;
            }
        };
        tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
