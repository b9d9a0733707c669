//! Finding the cloud object: status.id → spec.import → ownership marker
//! (only while a create is pending: nothing else can have made one).

use k8s_openapi::jiff::Timestamp;
use terrane_api::{Import, ManagedObject};
use terrane_provider::{Desired, ExternalKind, Freshness};
use tracing::{debug, info};

use super::env::{Environment, Event};
use super::outcome::{Outcome, from_provider};
use super::{Pass, Reconciler, Verdict};

/// How the cloud object was found.
#[derive(Debug)]
pub(super) enum Found<R> {
    /// By `status.id`.
    ById(R),
    /// By `spec.import` (id or filter).
    Imported(R),
    /// By the ownership marker of a create whose ID was never stored.
    Adopted(R),
    /// Nowhere: it is to be created.
    Missing,
}

/// `since` (RFC 3339) plus `wait`: when a create left in doubt may be sent again.
pub(super) fn doubt_ends(since: &str, wait: std::time::Duration) -> Option<Timestamp> {
    let at: Timestamp = since.parse().ok()?;
    at.checked_add(k8s_openapi::jiff::SignedDuration::try_from(wait).ok()?).ok()
}

impl<K: ExternalKind> Reconciler<K> {
    /// Finds the cloud object. An ID found by import or adoption is stored
    /// (and announced by an Event) before this returns.
    pub(super) async fn observe<O, E>(
        &self,
        p: &mut Pass<'_, O, E>,
        cloud: &K::Cloud,
        desired: Option<&Desired<'_, K::Resource>>,
    ) -> Result<Found<K::Remote>, Outcome>
    where
        O: ManagedObject<Resource = K::Resource, Filter = K::Filter>,
        E: Environment<O, K::Cloud>,
    {
        if let Some(found) = self.by_id(p, cloud, desired).await? {
            return Ok(found);
        }
        let found = if let Some(import) = p.obj.import() {
            Found::Imported(self.import::<O>(cloud, import).await?)
        } else if let Some(desired) = desired
            && p.status.pending_create.is_some()
        {
            match self.adopt(p, cloud, desired).await? {
                Some(remote) => Found::Adopted(remote),
                None => return Ok(Found::Missing),
            }
        } else {
            return Ok(Found::Missing);
        };
        self.record(p, found).await
    }

    /// The object `status.id` names; `None` when there is no ID, or when the
    /// object Terrane made was deleted outside it (it is made again).
    async fn by_id<O, E>(
        &self,
        p: &mut Pass<'_, O, E>,
        cloud: &K::Cloud,
        desired: Option<&Desired<'_, K::Resource>>,
    ) -> Result<Option<Found<K::Remote>>, Outcome>
    where
        O: ManagedObject,
        E: Environment<O, K::Cloud>,
    {
        let Some(id) = p.status.id.clone() else { return Ok(None) };
        match self.kind.get(cloud, &id, self.freshness(p)).await {
            Ok(Some(remote)) => {
                if p.created_here()
                    && p.in_steady_state()
                    && let Some(desired) = desired
                    && self.duplicate_check_due(desired.uid)
                {
                    self.check_duplicates(p, cloud, &id, desired).await?;
                }
                Ok(Some(Found::ById(remote)))
            }
            Ok(None) if !p.created_here() => Err(Outcome::stalled(Verdict::unrecoverable(format!(
                "the {} {id} no longer exists in the cloud",
                O::KIND
            )))),
            Ok(None) => {
                let note = format!("{} {id} was deleted outside Terrane; creating it again", O::KIND);
                p.env.event(p.obj, Event::warning("Recreating", "Observe", note)).await;
                p.status.id = None;
                p.status.resource = None;
                Ok(None)
            }
            Err(e) => Err(from_provider(&e, "observe")),
        }
    }

    /// At a drift check: anything else carrying the marker is a duplicate
    /// (a create whose answer was lost) and is deleted.
    async fn check_duplicates<O, E>(
        &self,
        p: &Pass<'_, O, E>,
        cloud: &K::Cloud,
        id: &str,
        desired: &Desired<'_, K::Resource>,
    ) -> Result<(), Outcome>
    where
        O: ManagedObject,
        E: Environment<O, K::Cloud>,
    {
        let owned = self
            .kind
            .find_owned(cloud, desired, self.freshness(p))
            .await
            .map_err(|e| from_provider(&e, "look for duplicates"))?;
        let removed = self.remove_duplicates(p, cloud, id, &owned).await?;
        if removed.is_empty() {
            return Ok(());
        }
        Err(Outcome::poll(Verdict::progressing(format!(
            "deleted duplicate {} {} carrying this object's ownership marker; keeping {id}",
            O::KIND,
            removed.join(", ")
        ))))
    }

    /// After a create that may or may not have landed: the object carrying
    /// the marker (duplicates deleted), or `None` once the marker has stayed
    /// absent for `unanswered_create_wait` (create again). Until then, `Progressing`.
    async fn adopt<O, E>(
        &self,
        p: &mut Pass<'_, O, E>,
        cloud: &K::Cloud,
        desired: &Desired<'_, K::Resource>,
    ) -> Result<Option<K::Remote>, Outcome>
    where
        O: ManagedObject,
        E: Environment<O, K::Cloud>,
    {
        let owned = match self.kind.find_owned(cloud, desired, Freshness::Fresh).await {
            Ok(v) => v,
            Err(e) => {
                // No answer is not an empty answer: the wait starts again.
                p.status.marker_absent_since = None;
                return Err(from_provider(&e, "look for an object created earlier"));
            }
        };
        if let Some(first) = owned.first() {
            let keep = self.kind.id(first);
            self.remove_duplicates(p, cloud, &keep, &owned).await?;
            return Ok(owned.into_iter().next());
        }
        let pending = p.status.pending_create.clone().unwrap_or_default();
        let now = Timestamp::now();
        let since = p.status.marker_absent_since.get_or_insert_with(|| now.to_string()).clone();
        match doubt_ends(&since, self.unanswered_create_wait) {
            Some(end) if end > now => Err(Outcome::poll(Verdict::progressing(format!(
                "the create sent at {pending} may still land: no cloud object carries this object's ownership marker since {since}; creating again after {end}"
            )))),
            Some(_) => {
                info!(%pending, %since, "no object carries the marker after the wait; creating again");
                Ok(None)
            }
            None => {
                p.status.marker_absent_since = Some(now.to_string());
                Err(Outcome::poll(Verdict::progressing(
                    "looking for an object created earlier by its ownership marker",
                )))
            }
        }
    }

    /// Stores the ID of an imported or adopted object and announces it.
    async fn record<O, E>(&self, p: &mut Pass<'_, O, E>, found: Found<K::Remote>) -> Result<Found<K::Remote>, Outcome>
    where
        O: ManagedObject,
        E: Environment<O, K::Cloud>,
    {
        let (reason, remote) = match &found {
            Found::Imported(r) => ("Imported", r),
            Found::Adopted(r) => ("Adopted", r),
            Found::ById(_) | Found::Missing => return Ok(found),
        };
        let id = self.kind.id(remote);
        debug!(%id, how = reason, "found the cloud object");
        p.status.id = Some(id.clone());
        p.status.pending_create = None;
        p.status.marker_absent_since = None;
        p.save().await?;
        let message = match found {
            Found::Adopted(_) => format!("adopted {} {id}, created earlier for this object", O::KIND),
            _ => format!("imported {} {id}", O::KIND),
        };
        p.env.event(p.obj, Event::normal(reason, "Observe", message)).await;
        Ok(found)
    }

    /// The one cloud object `import` names. None yet is progress (another
    /// pipeline may still be creating it): retried with backoff. Two or
    /// more is a terminal error naming them.
    pub(super) async fn import<O: ManagedObject>(
        &self,
        cloud: &K::Cloud,
        import: &Import<K::Filter>,
    ) -> Result<K::Remote, Outcome> {
        let (described, matches) = match (&import.id, &import.filter) {
            (Some(id), _) => (
                format!("import id {id}"),
                self.kind.get(cloud, id, Freshness::Fresh).await.map(|r| r.into_iter().collect::<Vec<_>>()),
            ),
            (None, Some(filter)) => (
                format!("import filter {}", serde_json::to_string(filter).unwrap_or_default()),
                self.kind.find(cloud, filter).await,
            ),
            (None, None) => ("import".to_string(), Ok(Vec::new())),
        };
        let mut matches = matches.map_err(|e| from_provider(&e, "import"))?;
        match matches.len() {
            1 => Ok(matches.remove(0)),
            0 => Err(Outcome::retry(Verdict::waiting(format!(
                "{described} matches no {} yet; looking again with backoff",
                O::KIND
            )))),
            n => {
                let ids = matches.iter().map(|r| self.kind.id(r)).collect::<Vec<_>>().join(", ");
                Err(Outcome::stalled(Verdict::invalid(format!(
                    "{described} matches {n} {}s ({ids}); it must match exactly one",
                    O::KIND
                ))))
            }
        }
    }
}
