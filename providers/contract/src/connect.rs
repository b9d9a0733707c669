//! How the reconciler gets an authenticated cloud connection from a ProviderConfig.

use std::sync::Arc;

use async_trait::async_trait;

use crate::error::ProviderResult;

/// A ProviderConfig with its credentials read from their Secret.
#[derive(Clone, PartialEq)]
pub struct ProviderSettings {
    /// The whole `clouds.yaml` text. Secret: never log it.
    pub clouds_yaml: String,
    pub cloud: String,
    pub region: Option<String>,
    pub requests_per_second: f64,
    pub burst: u32,
}

impl std::fmt::Debug for ProviderSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderSettings")
            .field("clouds_yaml", &"<redacted>")
            .field("cloud", &self.cloud)
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

/// Makes cloud connections. Implementations cache one connection per
/// distinct settings, so tokens and rate limits are shared.
#[async_trait]
pub trait Connector: Send + Sync {
    type Cloud: Send + Sync;

    /// A connection for `settings`. Errors are terminal when the settings are
    /// wrong (unknown cloud, incomplete auth), transient otherwise.
    async fn connect(&self, settings: &ProviderSettings) -> ProviderResult<Arc<Self::Cloud>>;

    /// Checks that the credentials work (a token can be had).
    async fn verify(&self, cloud: &Self::Cloud) -> ProviderResult<()>;
}
