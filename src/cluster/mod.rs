//! `Cluster`: Kubernetes clusters, above the generic reconciler.
//!
//! A `backend: servers` Cluster gets its PKI and bootstrap token
//! ([`keys`]), owned Port / Server / SecurityGroup (/ FloatingIP /
//! RecordSet) objects that the generic reconciler creates in the cloud
//! ([`machines`], [`children`]), and kubeadm boot configuration in each
//! machine's user data ([`boot_config`]). A `backend: existing` Cluster is
//! given as a kubeconfig Secret. Both publish `<name>-kubeconfig` in
//! Cluster API's shape ([`secrets`]), report the target's health
//! ([`target`]) and apply `spec.bootstrap.git` into it ([`bootstrap`]).

mod boot_config;
mod bootstrap;
mod children;
mod converge;
mod keys;
mod machines;
mod pki;
mod run;
mod secrets;
mod target;

pub use boot_config::{BOOTSTRAPPERS_GROUP, KUBEADM_CONFIG_PATH};
pub use run::{Options, run};
pub use secrets::{CLUSTER_NAME_LABEL, SECRET_TYPE, VALUE_KEY};

pub use children::owned_plurals;

/// Why a Cluster is not Ready. Every variant's message is fit for its
/// `Ready` condition and a Warning Event: none carries a key or token.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// The spec or a Secret it names cannot work; the user must change it.
    #[error("{0}")]
    Invalid(String),
    /// Something it needs is not there yet.
    #[error("{0}")]
    Waiting(String),
    #[error("{0}")]
    Target(#[from] target::TargetError),
    #[error("bootstrap: {0}")]
    Bootstrap(#[from] bootstrap::BootstrapError),
    #[error("{0}")]
    Pki(#[from] pki::PkiError),
    #[error("Kubernetes API of the management cluster: {0}")]
    Kube(#[from] kube::Error),
}

impl ClusterError {
    /// The condition reason.
    pub fn reason(&self) -> &'static str {
        match self {
            ClusterError::Invalid(_) => terrane_api::reason::INVALID_CONFIGURATION,
            ClusterError::Waiting(_) => terrane_api::reason::WAITING,
            ClusterError::Target(_) => "TargetUnavailable",
            ClusterError::Bootstrap(_) => "BootstrapFailed",
            ClusterError::Pki(_) | ClusterError::Kube(_) => terrane_api::reason::TRANSIENT_ERROR,
        }
    }
}
