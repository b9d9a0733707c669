//! Converging a found cloud object on the spec.

use terrane_api::ManagedObject;
use terrane_provider::{Desired, Diff, ExternalKind, Freshness, Readiness};
use tracing::info;

use super::env::{Environment, Event};
use super::outcome::{Outcome, from_provider};
use super::{Pass, Reconciler, Verdict};

/// Why differences in fields the cloud cannot change stop the object (the
/// condition message, and the plan's refusal).
pub(super) fn immutable_message(fields: &[terrane_provider::FieldDiff]) -> String {
    let detail = fields
        .iter()
        .map(|d| format!("{} is {} in the cloud but the spec asks for {}", d.field, d.cloud, d.desired))
        .collect::<Vec<_>>()
        .join("; ");
    format!("{detail}; the cloud cannot change this in place (recreate the object to change it)")
}

impl<K: ExternalKind> Reconciler<K> {
    /// Compares and, when a mutable field differs, updates. A difference in
    /// a field the cloud cannot change is a terminal `InvalidConfiguration`
    /// naming it. `drift_check`: the object was in sync, so a difference is
    /// drift (Event `DriftCorrected` instead of `Updated`).
    pub(super) async fn converge<O, E>(
        &self,
        p: &mut Pass<'_, O, E>,
        cloud: &K::Cloud,
        desired: &Desired<'_, K::Resource>,
        remote: &K::Remote,
        drift_check: bool,
    ) -> Outcome
    where
        O: ManagedObject,
        E: Environment<O, K::Cloud>,
    {
        let diff = self.kind.diff(desired, remote);
        if !diff.immutable.is_empty() {
            return Outcome::stalled(Verdict::invalid(immutable_message(&diff.immutable)));
        }
        if diff.mutable.is_empty() {
            return self.readiness(remote);
        }
        let fields = Diff::fields(&diff.mutable);
        self.changed(desired.uid);
        if let Err(e) = self.kind.update(cloud, desired, remote, &diff).await {
            return from_provider(&e, &format!("update {fields}"));
        }
        let (reason, message) = if drift_check {
            ("DriftCorrected", format!("the cloud object had drifted ({fields}); restored the spec's values"))
        } else {
            ("Updated", format!("updated {fields}"))
        };
        info!(%fields, drift = drift_check, "updated");
        p.env.event(p.obj, Event::normal(reason, "Update", message)).await;
        self.after_update(p, cloud, desired).await
    }

    /// Reads the object back after an update: Ready once nothing differs.
    async fn after_update<O, E>(
        &self,
        p: &mut Pass<'_, O, E>,
        cloud: &K::Cloud,
        desired: &Desired<'_, K::Resource>,
    ) -> Outcome {
        let Some(id) = p.status.id.clone() else { return Outcome::poll(Verdict::progressing("updated")) };
        match self.kind.get(cloud, &id, Freshness::Fresh).await {
            Ok(Some(r)) => {
                p.status.resource = serde_json::to_value(&r).ok();
                let still = self.kind.diff(desired, &r);
                if still.mutable.is_empty() {
                    self.readiness(&r)
                } else {
                    let fields = Diff::fields(&still.mutable);
                    Outcome::poll(Verdict::progressing(format!("waiting for {fields} to converge")))
                }
            }
            Ok(None) => Outcome::poll(Verdict::progressing("the object disappeared during update")),
            Err(e) => from_provider(&e, "observe after update"),
        }
    }

    pub(super) fn readiness(&self, remote: &K::Remote) -> Outcome {
        match self.kind.readiness(remote) {
            Readiness::Ready => Outcome::resync(Verdict::ready("the cloud object matches the spec")),
            Readiness::Pending(m) => Outcome::poll(Verdict::progressing(m)),
            Readiness::Failed(m) => Outcome::stalled(Verdict::unrecoverable(m)),
        }
    }
}
