//! Lists kept for drift checks. At rest, one paginated list of a collection
//! serves the look-up of every object in it: a drift check
//! ([`Freshness::Cached`]) reads its object from a list started no longer
//! ago than the reconciler allows, and concurrent checks share one list
//! call. An object the list does not hold is asked for directly, so an
//! answer from the cache is never "gone" when the cloud still has it.
//!
//! A list replaces one GET per object, but it returns the whole project's
//! collection, so it is used only while at least `min_objects` objects of
//! the collection are being drift-checked (counted over the last three list
//! ages); below that, each check is a GET by ID.

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
pub struct ListCache {
    slots: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Slot>>>>,
    /// When each object (by ID) of each collection was last drift-checked.
    checked: Mutex<HashMap<String, HashMap<String, Instant>>>,
    min_objects: usize,
}

impl Default for ListCache {
    fn default() -> Self {
        Self::new(DEFAULT_MIN_OBJECTS)
    }
}

/// How many objects of one collection must be drift-checked before one list
/// serves them all, by default.
pub const DEFAULT_MIN_OBJECTS: usize = 20;

impl std::fmt::Debug for ListCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ListCache").finish_non_exhaustive()
    }
}

impl ListCache {
    /// Lists serve drift checks once `min_objects` objects of a collection are checked.
    pub fn new(min_objects: usize) -> Self {
        Self { slots: Default::default(), checked: Default::default(), min_objects: min_objects.max(1) }
    }

    /// Notes a drift check of `id`; true when enough objects of
    /// `collection` are checked for a list to serve them.
    fn note_check(&self, collection: &str, id: &str, max_age: Duration) -> bool {
        let mut checked = self.checked.lock().unwrap_or_else(|p| p.into_inner());
        let ids = checked.entry(collection.to_string()).or_default();
        let now = Instant::now();
        ids.insert(id.to_string(), now);
        let window = max_age.saturating_mul(3);
        ids.retain(|_, at| now.duration_since(*at) <= window);
        ids.len() >= self.min_objects
    }

    /// True while lists serve the drift checks of `collection`.
    fn serves(&self, collection: &str) -> bool {
        let checked = self.checked.lock().unwrap_or_else(|p| p.into_inner());
        checked.get(collection).is_some_and(|ids| ids.len() >= self.min_objects)
    }

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
    if !c.lists().note_check(collection, id, age) {
        return Ok(None);
    }
    Ok(c.lists().snapshot(collection, age, list).await?.get(id).cloned())
}

/// Every item of the cached list of `collection` for a drift check; `None`
/// when `freshness` is `Fresh` or lists do not serve `collection` (the
/// caller lists with its own filters).
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
    if !c.lists().serves(collection) {
        return Ok(None);
    }
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
    fn lists_serve_a_collection_only_while_enough_of_it_is_checked() {
        let cache = ListCache::new(3);
        let age = Duration::from_secs(60);
        assert!(!cache.note_check("networks", "a", age));
        assert!(!cache.note_check("networks", "b", age));
        assert!(!cache.note_check("networks", "a", age), "the same object counts once");
        assert!(!cache.serves("networks"));
        assert!(cache.note_check("networks", "c", age));
        assert!(cache.serves("networks") && !cache.serves("ports"), "counted per collection");
        let short = Duration::from_millis(1);
        assert!(!cache.note_check("ports", "a", short) && !cache.note_check("ports", "b", short));
        std::thread::sleep(Duration::from_millis(10));
        assert!(!cache.note_check("ports", "c", short), "checks older than three list ages are forgotten");
    }

    #[test]
    fn fresh_or_zero_age_asks_the_cloud() {
        assert_eq!(max_age(Freshness::Fresh), None);
        assert_eq!(max_age(Freshness::Cached { max_age_secs: 0 }), None);
        assert_eq!(max_age(Freshness::Cached { max_age_secs: 5 }), Some(Duration::from_secs(5)));
    }
}
