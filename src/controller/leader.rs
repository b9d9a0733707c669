//! Leader election on a coordination.k8s.io Lease.

use kube_lease_manager::{LeaseManager, LeaseManagerBuilder};
use tokio::sync::watch;

/// A held lease. [`Held::lost`] resolves when it is no longer ours.
pub struct Held {
    state: watch::Receiver<bool>,
    _task: tokio::task::JoinHandle<kube_lease_manager::Result<LeaseManager>>,
}

impl Held {
    pub async fn lost(mut self) -> String {
        match self.state.wait_for(|held| !*held).await {
            Ok(_) => "the lease was lost to another instance".into(),
            Err(_) => "the lease manager stopped".into(),
        }
    }
}

/// Waits until this instance holds Lease `ns/name`.
pub async fn acquire(
    client: kube::Client,
    ns: &str,
    name: &str,
    identity: &str,
) -> Result<Held, super::ControllerRunError> {
    let manager = LeaseManagerBuilder::new(client, name)
        .with_namespace(ns)
        .with_identity(identity)
        .with_duration(15)
        .with_grace(5)
        .build()
        .await
        .map_err(|e| super::ControllerRunError::Leader(e.to_string()))?;
    let (mut state, task) = manager.watch().await;
    tracing::info!(lease = %format!("{ns}/{name}"), %identity, "waiting to become leader");
    state
        .wait_for(|held| *held)
        .await
        .map_err(|_| super::ControllerRunError::Leader("the lease manager stopped".into()))?;
    tracing::info!("became leader");
    Ok(Held { state, _task: task })
}
