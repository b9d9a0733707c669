//! Creating the cloud object, and deleting duplicates of it.

use k8s_openapi::jiff::Timestamp;
use terrane_api::ManagedObject;
use terrane_provider::{Desired, ExternalKind, Freshness, ProviderError};
use tracing::{info, warn};

use super::env::{Environment, Event};
use super::outcome::{Outcome, from_provider};
use super::{Pass, Reconciler, Verdict};

impl<K: ExternalKind> Reconciler<K> {
    /// Records `pendingCreate`, creates, and stores the new ID before
    /// anything else. A create whose outcome is unknown keeps
    /// `pendingCreate`: the next reconciles look for the object by its
    /// marker, and create again only once that has stayed empty for
    /// `unanswered_create_wait`. A refusal clears it: nothing was made.
    pub(super) async fn create<O, E>(
        &self,
        p: &mut Pass<'_, O, E>,
        cloud: &K::Cloud,
        desired: &Desired<'_, K::Resource>,
    ) -> Result<K::Remote, Outcome>
    where
        O: ManagedObject,
        E: Environment<O, K::Cloud>,
    {
        p.status.pending_create = Some(Timestamp::now().to_string());
        p.status.marker_absent_since = None;
        p.save().await?;
        self.changed(desired.uid);
        let id = match self.kind.create(cloud, desired).await {
            Ok(id) => id,
            Err(e @ ProviderError::OutcomeUnknown(_)) => {
                warn!(error = %e, "create got no answer; looking for the object by its marker before creating again");
                let wait = self.unanswered_create_wait.as_secs();
                return Err(Outcome::poll(Verdict::transient(format!(
                    "create: {e}; looking for the object by its ownership marker, and creating again only if it has not appeared within {wait} s"
                ))));
            }
            Err(e) => {
                p.status.pending_create = None;
                return Err(match e {
                    ProviderError::Conflict(m) => Outcome::stalled(Verdict::invalid(format!(
                        "create: {m}; it clashes with something in the cloud: change the spec, or import the existing object"
                    ))),
                    e => from_provider(&e, "create"),
                });
            }
        };
        #[cfg(feature = "failpoints")]
        if std::env::var(super::FAILPOINT_ENV).as_deref() == Ok("after-create") {
            tracing::warn!(%id, "failpoint after-create: exiting before the ID is stored");
            std::process::exit(86);
        }
        p.status.id = Some(id.clone());
        p.status.pending_create = None;
        p.save().await?;
        info!(%id, "created");
        p.env.event(p.obj, Event::normal("Created", "Create", format!("created {} {id}", O::KIND))).await;
        match self.kind.get(cloud, &id, Freshness::Fresh).await {
            Ok(Some(r)) => Ok(r),
            Ok(None) => {
                Err(Outcome::poll(Verdict::progressing(format!("created {id}; waiting for the cloud to show it"))))
            }
            Err(e) => Err(from_provider(&e, "observe after create")),
        }
    }

    /// Deletes every object in `owned` except `keep`: cloud objects carrying
    /// this object's ownership marker that are not its `status.id` were made
    /// by a create whose answer was lost. Returns the IDs removed.
    pub(super) async fn remove_duplicates<O, E>(
        &self,
        p: &Pass<'_, O, E>,
        cloud: &K::Cloud,
        keep: &str,
        owned: &[K::Remote],
    ) -> Result<Vec<String>, Outcome>
    where
        O: ManagedObject,
        E: Environment<O, K::Cloud>,
    {
        let mut removed = Vec::new();
        for id in owned.iter().map(|r| self.kind.id(r)).filter(|id| id != keep) {
            if let Err(e) = self.kind.delete(cloud, &id).await
                && !matches!(e, ProviderError::NotFound(_))
            {
                return Err(from_provider(&e, &format!("delete duplicate {id}")));
            }
            warn!(%id, keep, "deleted a duplicate carrying this object's marker");
            let note = format!(
                "{} {id} carried this object's ownership marker but is not {keep} (a create whose answer was lost); deleted it",
                O::KIND
            );
            p.env.event(p.obj, Event::warning("DuplicateDeleted", "Observe", note)).await;
            removed.push(id);
        }
        Ok(removed)
    }
}
