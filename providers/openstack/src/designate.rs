//! The calls the Designate kinds share: get, list, look-up by ownership
//! marker (Designate filters accept `*` wildcards), and status as readiness.

use serde::de::DeserializeOwned;
use serde_json::Value;
use terrane_provider::{ProviderResult, Readiness};

use crate::client::CloudClient;
use crate::marker;
use crate::query::query;
use crate::rest::DESIGNATE;

/// One Designate collection, e.g. `/v2/zones` answering `{"zones": [...]}`.
#[derive(Debug, Clone, Copy)]
pub struct Collection {
    pub path: &'static str,
    pub key: &'static str,
}

impl Collection {
    pub async fn get<T: DeserializeOwned>(&self, c: &CloudClient, id: &str) -> ProviderResult<Option<T>> {
        DESIGNATE.get_opt(c, &format!("{}/{id}", self.path)).await?.map(|v| DESIGNATE.parse(v, self.key)).transpose()
    }

    pub async fn list<T: DeserializeOwned>(&self, c: &CloudClient, filters: &[(&str, &str)]) -> ProviderResult<Vec<T>> {
        let r = DESIGNATE.get(c, &format!("{}{}", self.path, query(filters))).await?;
        DESIGNATE.parse(r[self.key].clone(), self.key)
    }

    /// The objects whose description carries `uid`'s marker.
    pub async fn find_owned<T: DeserializeOwned>(&self, c: &CloudClient, uid: &str) -> ProviderResult<Vec<T>> {
        let pattern = format!("*terrane-uid:{uid}]");
        let found: Vec<Value> = self.list(c, &[("description", &pattern)]).await?;
        found
            .into_iter()
            .filter(|v| v["description"].as_str().is_some_and(|d| marker::has_marker(d, uid)))
            .map(|v| DESIGNATE.parse(v, self.key))
            .collect()
    }
}

/// Designate's `status`/`action` pair as readiness.
pub fn readiness(what: &str, name: &str, status: &str, action: &str) -> Readiness {
    match status {
        "ACTIVE" => Readiness::Ready,
        "ERROR" => Readiness::Failed(format!("{what} {name} went to ERROR (action {action}) in Designate")),
        other => Readiness::Pending(format!("{what} {name} is {other} ({action})")),
    }
}
