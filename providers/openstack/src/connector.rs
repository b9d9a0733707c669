//! Cloud connections from ProviderConfig settings, one per distinct settings.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use terrane_provider::{Connector, ProviderError, ProviderResult, ProviderSettings, RequestObserver};
use tokio::sync::Mutex;

use crate::{ClientOptions, CloudClient, CloudConfig};

/// Caches a [`CloudClient`] per (clouds.yaml, cloud, region, rate limit), so
/// every object of a ProviderConfig shares one token and one token bucket.
pub struct OpenStackConnector {
    observer: Arc<dyn RequestObserver>,
    timeout: Duration,
    list_min_objects: usize,
    clients: Mutex<HashMap<String, Arc<CloudClient>>>,
}

impl OpenStackConnector {
    /// Clients whose requests time out after `timeout`.
    pub fn new(observer: Arc<dyn RequestObserver>, timeout: Duration) -> Self {
        Self {
            observer,
            timeout,
            list_min_objects: crate::list_cache::DEFAULT_MIN_OBJECTS,
            clients: Mutex::new(HashMap::new()),
        }
    }

    /// Drift checks of a collection are served from one list once
    /// `min_objects` of its objects are checked.
    pub fn with_list_min_objects(mut self, min_objects: usize) -> Self {
        self.list_min_objects = min_objects;
        self
    }
}

fn cache_key(s: &ProviderSettings) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    s.clouds_yaml.hash(&mut h);
    format!("{:x}/{}/{:?}/{}/{}", h.finish(), s.cloud, s.region, s.requests_per_second, s.burst)
}

#[async_trait]
impl Connector for OpenStackConnector {
    type Cloud = CloudClient;

    async fn connect(&self, s: &ProviderSettings) -> ProviderResult<Arc<CloudClient>> {
        let key = cache_key(s);
        let mut clients = self.clients.lock().await;
        if let Some(c) = clients.get(&key) {
            return Ok(c.clone());
        }
        let config = CloudConfig::from_clouds_yaml(&s.clouds_yaml, &s.cloud, s.region.as_deref())
            .map_err(|e| ProviderError::invalid(e.to_string()))?;
        let options = ClientOptions {
            requests_per_second: s.requests_per_second,
            burst: s.burst,
            timeout: self.timeout,
            list_min_objects: self.list_min_objects,
            ..ClientOptions::default()
        };
        let client = Arc::new(CloudClient::new(config, options, self.observer.clone()).map_err(ProviderError::from)?);
        clients.insert(key, client.clone());
        Ok(client)
    }

    async fn verify(&self, cloud: &CloudClient) -> ProviderResult<()> {
        cloud.project_id().await.map(|_| ()).map_err(ProviderError::from)
    }
}
