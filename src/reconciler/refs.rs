//! Resolving references and inputs before anything touches the cloud.

use terrane_api::ManagedObject;
use terrane_provider::{ExternalKind, ResolvedRefs};

use super::env::{Environment, Event, RefState};
use super::outcome::{self, Outcome};
use super::{Pass, Reconciler, Verdict};

impl<K: ExternalKind> Reconciler<K> {
    /// Every reference Ready and every input present, or a `Waiting`
    /// outcome naming what is not. A reference to an object that does not
    /// exist also gets a Warning Event naming it (once, while the message
    /// stays the same).
    pub(super) async fn resolve<O, E>(&self, p: &Pass<'_, O, E>) -> Result<ResolvedRefs, Outcome>
    where
        O: ManagedObject,
        E: Environment<O, K::Cloud>,
    {
        let mut refs = ResolvedRefs::default();
        let mut waiting = Vec::new();
        let mut missing = Vec::new();
        for r in p.obj.references() {
            match p.env.resolve(p.obj, &r).await {
                Ok(RefState::Ready(id, resource)) => refs.insert(r.kind, &r.name, id, resource),
                Ok(RefState::NotReady) => waiting.push(format!("{}/{}", r.kind, r.name)),
                Ok(RefState::Missing) => {
                    waiting.push(format!("{}/{} (not found)", r.kind, r.name));
                    missing.push((r.field.clone(), format!("{}/{}", r.kind, r.name)));
                }
                Err(e) => return Err(outcome::from_env(&e)),
            }
        }
        for input in p.obj.inputs() {
            match p.env.input(p.obj, &input).await {
                Ok(Some(value)) => refs.insert_input(&input.field, value),
                Ok(None) => waiting.push(format!("{} (not found)", input.describe())),
                Err(e) => return Err(outcome::from_env(&e)),
            }
        }
        if waiting.is_empty() {
            return Ok(refs);
        }
        let message = format!("Waiting on {}", waiting.join(", "));
        let previous = p.obj.status().and_then(|s| s.condition(terrane_api::CONDITION_READY)).map(|c| &c.message);
        if previous != Some(&message) {
            for (field, target) in &missing {
                let note = format!("{field} names {target}, which does not exist in this namespace; waiting for it");
                p.env.event(p.obj, Event::warning("ReferenceNotFound", "Resolve", note)).await;
            }
        }
        Err(Outcome::await_change(Verdict::waiting(message)))
    }
}
