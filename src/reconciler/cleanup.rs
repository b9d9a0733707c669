//! Deleting: wait for referrers, honour Orphan and ObserveOnly, delete every
//! cloud object this object made, and confirm each is gone.

use terrane_api::{DeletionPolicy, ManagedObject, ManagementPolicy};
use terrane_provider::{Desired, ExternalKind, Freshness, ProviderError};

use super::env::{Environment, Event};
use super::outcome::{self, Outcome, from_provider};
use super::{Pass, Reconciler, Verdict};

const RELEASE_HINT: &str = "; set spec.deletionPolicy: Orphan to let the object go without deleting the cloud object";

impl<K: ExternalKind> Reconciler<K> {
    pub(super) async fn cleanup_steps<O, E>(&self, p: &mut Pass<'_, O, E>) -> Outcome
    where
        O: ManagedObject<Resource = K::Resource, Filter = K::Filter>,
        E: Environment<O, K::Cloud>,
    {
        let referrers = match p.env.referrers(p.obj).await {
            Ok(r) => r,
            Err(e) => return outcome::from_env(&e),
        };
        if !referrers.is_empty() {
            return Outcome::await_change(Verdict::waiting(format!(
                "deletion waits until these are deleted: {}",
                referrers.join(", ")
            )));
        }
        let common = p.obj.common();
        if common.deletion_policy == DeletionPolicy::Orphan || common.management_policy == ManagementPolicy::ObserveOnly
        {
            if let Some(id) = &p.status.id {
                let note = format!("left {} {id} in the cloud", O::KIND);
                p.env.event(p.obj, Event::normal("Orphaned", "Delete", note)).await;
            }
            return Outcome::deleted("orphaned");
        }
        if p.status.id.is_none() && p.status.pending_create.is_none() {
            return Outcome::deleted("nothing was created in the cloud");
        }
        let cloud = match p.env.cloud(p.obj).await {
            Ok(c) => c,
            Err(e) => return outcome::from_env(&e).with_hint(RELEASE_HINT),
        };
        let ids = match self.made_here(p, &cloud).await {
            Ok(ids) => ids,
            Err(o) => return o,
        };
        self.delete_all(p, &cloud, &ids).await
    }

    /// `status.id` and every other cloud object carrying the marker (one
    /// whose ID was never stored: a crash, a lost answer).
    async fn made_here<O, E>(&self, p: &Pass<'_, O, E>, cloud: &K::Cloud) -> Result<Vec<String>, Outcome>
    where
        O: ManagedObject<Resource = K::Resource, Filter = K::Filter>,
        E: Environment<O, K::Cloud>,
    {
        let mut ids: Vec<String> = p.status.id.iter().cloned().collect();
        let Some(resource) = p.obj.resource().filter(|_| p.obj.import().is_none()) else { return Ok(ids) };
        let refs = self.resolve(p).await.unwrap_or_default();
        let (uid, default_name) = (p.uid(), p.name());
        let desired = Desired { uid: &uid, default_name: &default_name, imported: false, resource, refs: &refs };
        match self.kind.find_owned(cloud, &desired, Freshness::Fresh).await {
            Ok(found) => {
                ids.extend(found.iter().map(|r| self.kind.id(r)).filter(|id| p.status.id.as_ref() != Some(id)))
            }
            // References already gone: status.id is all there is to go by.
            Err(ProviderError::Terminal { .. }) if !ids.is_empty() => {}
            Err(e) => return Err(from_provider(&e, "look for objects created earlier")),
        }
        Ok(ids)
    }

    /// Deletes each of `ids`; `Deleted` once the cloud shows none of them.
    async fn delete_all<O, E>(&self, p: &Pass<'_, O, E>, cloud: &K::Cloud, ids: &[String]) -> Outcome
    where
        O: ManagedObject,
        E: Environment<O, K::Cloud>,
    {
        let mut pending = Vec::new();
        for id in ids {
            if let Err(e) = self.kind.delete(cloud, id).await
                && !matches!(e, ProviderError::NotFound(_))
            {
                let o = from_provider(&e, &format!("delete {id}"));
                return if e.is_retryable() { o } else { o.with_hint(RELEASE_HINT) };
            }
            match self.kind.get(cloud, id, Freshness::Fresh).await {
                Ok(None) => {
                    let note = format!("deleted {} {id}", O::KIND);
                    p.env.event(p.obj, Event::normal("Deleted", "Delete", note)).await
                }
                Ok(Some(_)) => pending.push(id.clone()),
                Err(e) => return from_provider(&e, "observe deletion"),
            }
        }
        if pending.is_empty() {
            Outcome::deleted("deleted")
        } else {
            Outcome::poll(Verdict::deleting(format!("waiting for the cloud to delete {}", pending.join(", "))))
        }
    }
}
