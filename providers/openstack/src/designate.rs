//! The calls the Designate kinds share: get, list, look-up by ownership
//! marker (Designate filters accept `*` wildcards), and status as readiness.

use serde::de::DeserializeOwned;
use serde_json::Value;
use terrane_provider::{Freshness, ProviderResult, Readiness};

use crate::client::CloudClient;
use crate::list_cache::{cached_item, cached_items};
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
    fn cache_key(&self) -> String {
        format!("designate:{}", self.key)
    }

    async fn list_all(&self, c: &CloudClient) -> ProviderResult<Vec<(String, Value)>> {
        DESIGNATE.list_all(c, self.path, self.key, "/id").await
    }

    /// The object by ID; a drift check reads it from the collection's list.
    pub async fn get_with<T: DeserializeOwned>(
        &self,
        c: &CloudClient,
        id: &str,
        freshness: Freshness,
    ) -> ProviderResult<Option<T>> {
        match cached_item(c, freshness, &self.cache_key(), id, || self.list_all(c)).await? {
            Some(v) => DESIGNATE.parse(v, self.key).map(Some),
            None => self.get(c, id).await,
        }
    }

    pub async fn get<T: DeserializeOwned>(&self, c: &CloudClient, id: &str) -> ProviderResult<Option<T>> {
        DESIGNATE.get_opt(c, &format!("{}/{id}", self.path)).await?.map(|v| DESIGNATE.parse(v, self.key)).transpose()
    }

    pub async fn list<T: DeserializeOwned>(&self, c: &CloudClient, filters: &[(&str, &str)]) -> ProviderResult<Vec<T>> {
        let r = DESIGNATE.get(c, &format!("{}{}", self.path, query(filters))).await?;
        DESIGNATE.parse(r[self.key].clone(), self.key)
    }

    /// The objects whose description carries `uid`'s marker; a drift check
    /// reads them from the collection's list.
    pub async fn find_owned<T: DeserializeOwned>(
        &self,
        c: &CloudClient,
        uid: &str,
        freshness: Freshness,
    ) -> ProviderResult<Vec<T>> {
        let found: Vec<Value> = match cached_items(c, freshness, &self.cache_key(), || self.list_all(c)).await? {
            Some(items) => items.values().cloned().collect(),
            None => self.list(c, &[("description", &format!("*terrane-uid:{uid}]"))]).await?,
        };
        marker::carrying(found, uid, |v| DESIGNATE.parse(v, self.key))
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
