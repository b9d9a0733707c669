//! What the reconciler needs from whoever drives it (the Kubernetes
//! controller, or the local driver of `terrane plan/apply`).

use std::sync::Arc;

use async_trait::async_trait;
use terrane_api::{Input, ManagedObject, Reference, ResourceStatus};
use terrane_provider::ProviderError;

/// The state of one referenced object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefState {
    /// Ready, with its cloud ID and observed cloud object (`status.resource`).
    Ready(String, serde_json::Value),
    /// Exists but is not Ready yet (or is being deleted).
    NotReady,
    /// Does not exist (yet).
    Missing,
}

/// A Kubernetes-style event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub warning: bool,
    /// `Created`, `Adopted`, `Updated`, `DriftCorrected`, `Deleted`, ... or an error category.
    pub reason: &'static str,
    pub action: &'static str,
    pub message: String,
}

impl Event {
    pub fn normal(reason: &'static str, action: &'static str, message: impl Into<String>) -> Self {
        Self { warning: false, reason, action, message: message.into() }
    }

    pub fn warning(reason: &'static str, action: &'static str, message: impl Into<String>) -> Self {
        Self { warning: true, reason, action, message: message.into() }
    }
}

/// Why the reconciler could not finish, apart from provider errors.
#[derive(Debug, Clone, thiserror::Error)]
pub enum EnvError {
    /// The driver could not store status or read objects (apiserver down, conflict).
    #[error("{0}")]
    Store(String),
    /// Credentials or ProviderConfig are missing or wrong.
    #[error("{0}")]
    Credentials(ProviderError),
    /// A Secret or ConfigMap the spec points at holds something unusable.
    #[error("{0}")]
    Invalid(String),
    /// The ProviderConfig named by the spec does not exist (yet).
    #[error("Waiting on ProviderConfig/{0}")]
    ProviderConfigMissing(String),
    /// A Secret (or its key) that credentials come from does not exist yet,
    /// described (`Secret/name key "k"`, and who names it).
    #[error("Waiting on {0}")]
    SecretMissing(String),
}

/// What the reconciler should be called again for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// In sync: check for drift after the resync period.
    Resync,
    /// Something is under way (cloud BUILD, waiting on a reference): call
    /// again soon, backing off.
    Poll,
    /// Waiting on another object (a reference, a referrer's deletion, a
    /// ProviderConfig): the driver calls again when that object changes, and
    /// after a safety period in case it missed the change.
    AwaitChange,
    /// An error that may go away: retry with backoff.
    Retry,
    /// Needs a spec change (or a fix outside): retry only at the resync period.
    Stalled,
    /// Deletion finished: the driver may remove the finalizer.
    Deleted,
}

/// The driver's side of a reconcile. Implementations must persist
/// `save_status` before returning: the reconciler relies on a new cloud ID
/// being stored before it does anything else.
#[async_trait]
pub trait Environment<O: ManagedObject, C>: Send + Sync {
    async fn resolve(&self, obj: &O, reference: &Reference) -> Result<RefState, EnvError>;
    /// The value of `input`; `None` while its Secret, ConfigMap or key does
    /// not exist. An SSH key input is generated and stored when missing.
    async fn input(&self, obj: &O, input: &Input) -> Result<Option<String>, EnvError>;
    async fn cloud(&self, obj: &O) -> Result<Arc<C>, EnvError>;
    async fn save_status(&self, obj: &O, status: &ResourceStatus) -> Result<(), EnvError>;
    async fn event(&self, obj: &O, event: Event);
    /// Objects (as `Kind/name`) that reference `obj` and are not gone yet.
    async fn referrers(&self, obj: &O) -> Result<Vec<String>, EnvError>;
}
