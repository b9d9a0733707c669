//! Reaching the ground's OpenStack cloud from tests, through the provider's own client.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use terrane_openstack::{ClientOptions, CloudClient, CloudConfig};
use terrane_provider::RequestObserver;

use crate::{GroundError, Result};

/// Counts requests by `service method status`.
#[derive(Default)]
pub struct RequestCounter(Mutex<BTreeMap<String, u64>>);

impl RequestCounter {
    pub fn total(&self) -> u64 {
        self.0.lock().map(|m| m.values().sum()).unwrap_or(0)
    }

    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        self.0.lock().map(|m| m.clone()).unwrap_or_default()
    }
}

impl RequestObserver for RequestCounter {
    fn observe(&self, service: &str, method: &str, status: u16, _: Duration) {
        if let Ok(mut m) = self.0.lock() {
            *m.entry(format!("{service} {method} {status}")).or_default() += 1;
        }
    }
}

/// The ground's `clouds.yaml` text.
pub fn clouds_yaml_text() -> Result<String> {
    let path = crate::clouds_yaml();
    std::fs::read_to_string(&path).map_err(|source| GroundError::Io {
        what: format!("reading {} (is the ground up? run tests/ground/ground.sh up)", path.display()),
        source,
    })
}

/// A client of cloud `name` ("admin" or "demo") and the counter of its requests.
pub fn cloud_client(name: &str) -> Result<(Arc<CloudClient>, Arc<RequestCounter>)> {
    crate::init_crypto();
    let config = CloudConfig::from_clouds_yaml(&clouds_yaml_text()?, name, None)
        .map_err(|e| GroundError::Kubeconfig(e.to_string()))?;
    let counter = Arc::new(RequestCounter::default());
    let options = ClientOptions { requests_per_second: 0.0, ..ClientOptions::default() };
    let client =
        CloudClient::new(config, options, counter.clone()).map_err(|e| GroundError::Kubeconfig(e.to_string()))?;
    Ok((Arc::new(client), counter))
}
