//! Lists kept for drift checks. At rest, one paginated list of a collection
//! serves the look-up of every object in it: a drift check
//! ([`Freshness::Cached`]) reads its object from a list started no longer
//! ago than the reconciler allows, and concurrent checks share one list
//! call. An object the list does not hold is asked for directly, so an
//! answer from the cache is never "gone" when the cloud still has it.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use terrane_provider::{Freshness, ProviderResult};

use crate::client::CloudClient;

/// The items of one listed collection, by ID.
pub type Snapshot = Arc<HashMap<String, Value>>;

#[derive(Default)]
struct Slot {
    listed: Option<(Instant, Snapshot)>,
}

/// One cloud's cached lists, by collection.
#[derive(Default)]
pub struct ListCache {
    slots: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Slot>>>>,
}

impl std::fmt::Debug for ListCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ListCache").finish_non_exhaustive()
    }
}

impl ListCache {
    /// The items of `collection` from a list started within `max_age`;
    /// lists (once for every concurrent caller) when there is none.
    pub async fn snapshot<F, Fut>(&self, collection: &str, max_age: Duration, list: F) -> ProviderResult<Snapshot>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = ProviderResult<Vec<(String, Value)>>>,
    {
        let slot = {
            let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
            slots.entry(collection.to_string()).or_default().clone()
        };
        let mut slot = slot.lock().await;
        if let Some((started, items)) = &slot.listed
            && started.elapsed() <= max_age
        {
            return Ok(items.clone());
        }
        let started = Instant::now();
        let items: Snapshot = Arc::new(list().await?.into_iter().collect());
        slot.listed = Some((started, items.clone()));
        Ok(items)
    }
}

/// How old a list may be for `freshness`; `None` when the cloud must be asked now.
pub fn max_age(freshness: Freshness) -> Option<Duration> {
    match freshness {
        Freshness::Fresh => None,
        Freshness::Cached { max_age_secs: 0 } => None,
        Freshness::Cached { max_age_secs } => Some(Duration::from_secs(max_age_secs)),
    }
}

/// For a drift check: `id`'s item from the cached list of `collection`.
/// `None` when `freshness` is `Fresh` or the list does not hold it: the
/// caller then asks the cloud for the object directly.
pub async fn cached_item<F, Fut>(
    c: &CloudClient,
    freshness: Freshness,
    collection: &str,
    id: &str,
    list: F,
) -> ProviderResult<Option<Value>>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = ProviderResult<Vec<(String, Value)>>>,
{
    let Some(age) = max_age(freshness) else { return Ok(None) };
    Ok(c.lists().snapshot(collection, age, list).await?.get(id).cloned())
}

/// Every item of the cached list of `collection` for a drift check; `None`
/// when `freshness` is `Fresh` (the caller lists with its own filters).
pub async fn cached_items<F, Fut>(
    c: &CloudClient,
    freshness: Freshness,
    collection: &str,
    list: F,
) -> ProviderResult<Option<Snapshot>>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = ProviderResult<Vec<(String, Value)>>>,
{
    let Some(age) = max_age(freshness) else { return Ok(None) };
    c.lists().snapshot(collection, age, list).await.map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn one_list_serves_every_look_up_until_it_is_too_old() {
        let cache = ListCache::default();
        let calls = AtomicUsize::new(0);
        let list = || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Ok(vec![("a".to_string(), Value::from(1)), ("b".to_string(), Value::from(2))])
        };
        let first = cache.snapshot("networks", Duration::from_secs(60), list).await.expect("listed");
        let second = cache.snapshot("networks", Duration::from_secs(60), list).await.expect("listed");
        assert_eq!((first.len(), second.get("b")), (2, Some(&Value::from(2))));
        assert_eq!(calls.load(Ordering::SeqCst), 1, "the second look-up used the first list");
        cache.snapshot("networks", Duration::ZERO, list).await.expect("listed");
        assert_eq!(calls.load(Ordering::SeqCst), 2, "a list older than allowed is taken again");
        cache.snapshot("ports", Duration::from_secs(60), list).await.expect("listed");
        assert_eq!(calls.load(Ordering::SeqCst), 3, "each collection has its own list");
    }

    #[test]
    fn fresh_or_zero_age_asks_the_cloud() {
        assert_eq!(max_age(Freshness::Fresh), None);
        assert_eq!(max_age(Freshness::Cached { max_age_secs: 0 }), None);
        assert_eq!(max_age(Freshness::Cached { max_age_secs: 5 }), Some(Duration::from_secs(5)));
    }
}
