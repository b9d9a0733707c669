//! The contract between Terrane's generic reconciler and a cloud provider.
//!
//! A provider implements [`ExternalKind`] once per kind and [`Connector`]
//! once; it reports each cloud request to a [`RequestObserver`]. Errors are
//! [`ProviderError`]s, sorted by what the reconciler should do next.

pub mod connect;
pub mod error;
pub mod kind;
pub mod metrics;

pub use connect::{Connector, ProviderSettings};
pub use error::{ProviderError, ProviderResult, TerminalReason};
pub use kind::{Desired, Diff, ExternalKind, FieldDiff, Freshness, Readiness, ResolvedRefs};
pub use metrics::{NoopObserver, RequestObserver};
