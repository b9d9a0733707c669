//! The contract between Terrane's generic reconciler and a cloud provider.

pub mod error;
pub mod metrics;

pub use error::{ProviderError, ProviderResult, TerminalReason};
pub use metrics::{NoopObserver, RequestObserver};
