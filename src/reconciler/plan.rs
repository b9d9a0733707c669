//! What `apply` would do to one object, found with the same look-ups and the
//! same provider `diff`, without changing anything: no create, update,
//! delete, status write or Event.

use serde::Serialize;
use terrane_api::{ManagedObject, ManagementPolicy};
use terrane_provider::{Desired, ExternalKind, FieldDiff, Freshness, ResolvedRefs};

use super::env::{Environment, RefState};
use super::outcome;
use super::{Pass, Reconciler};

/// What applying the object would do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "action")]
pub enum Planned {
    /// No cloud object yet: one is created with the spec's fields.
    Create {
        /// A note such as "Network net-1 was deleted outside Terrane".
        #[serde(skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    /// Found by `status.id`; these fields are changed in place.
    Update { id: String, fields: Vec<FieldDiff> },
    /// Found by `status.id` and matching the spec.
    NoChange { id: String },
    /// Found by `spec.import`; taken over, with these fields changed.
    Import { id: String, fields: Vec<FieldDiff> },
    /// Found by this object's ownership marker (made earlier for it):
    /// adopted, with these fields changed.
    Adopt { id: String, fields: Vec<FieldDiff> },
    /// Found, but its references or inputs are made by this same apply:
    /// the fields depending on them are known only then.
    UpdateAfter { id: String, waiting: Vec<String> },
    /// Cannot be applied as it stands: the reason, as the condition would say it.
    Refused { message: String },
}

impl Planned {
    /// The cloud ID the object has, or will have without a create.
    pub fn id(&self) -> Option<&str> {
        match self {
            Self::Update { id, .. }
            | Self::NoChange { id }
            | Self::Import { id, .. }
            | Self::Adopt { id, .. }
            | Self::UpdateAfter { id, .. } => Some(id),
            Self::Create { .. } | Self::Refused { .. } => None,
        }
    }
}

/// A planned object: what it would do, and its cloud object as observed (for
/// the objects that reference it).
#[derive(Debug, Clone)]
pub struct PlanStep {
    pub planned: Planned,
    pub observed: Option<serde_json::Value>,
}

impl PlanStep {
    fn refused(message: impl Into<String>) -> Self {
        Self { planned: Planned::Refused { message: message.into() }, observed: None }
    }
}

impl<K: ExternalKind> Reconciler<K> {
    /// Plans `obj` through `env`'s references, inputs and cloud. A reference
    /// that is not Ready is one this same apply makes first: the object is
    /// then a create, or an update whose referenced values are not known yet.
    pub async fn plan<O, E>(&self, obj: &O, env: &E) -> PlanStep
    where
        O: ManagedObject<Resource = K::Resource, Filter = K::Filter>,
        E: Environment<O, K::Cloud>,
    {
        let p = Pass::new(obj, env);
        if p.observe_only() && obj.import().is_none() && p.status.id.is_none() {
            return PlanStep::refused("managementPolicy ObserveOnly needs spec.import (id or filter)");
        }
        let mut refs = ResolvedRefs::default();
        let mut waiting = Vec::new();
        for r in obj.references() {
            match env.resolve(obj, &r).await {
                Ok(RefState::Ready(id, resource)) => refs.insert(r.kind, &r.name, id, resource),
                Ok(RefState::NotReady) => waiting.push(format!("{}/{}", r.kind, r.name)),
                Ok(RefState::Missing) => {
                    return PlanStep::refused(format!("{} names {}/{}, which does not exist", r.field, r.kind, r.name));
                }
                Err(e) => return PlanStep::refused(e.to_string()),
            }
        }
        for input in obj.inputs() {
            match env.input(obj, &input).await {
                Ok(Some(value)) => refs.insert_input(&input.field, value),
                Ok(None) => waiting.push(input.describe()),
                Err(e) => return PlanStep::refused(e.to_string()),
            }
        }
        let cloud = match env.cloud(obj).await {
            Ok(c) => c,
            Err(e) => return PlanStep::refused(outcome::from_env(&e).verdict.message),
        };
        let (uid, default_name) = (p.uid(), p.name());
        let desired = obj.resource().map(|resource| Desired {
            uid: &uid,
            default_name: &default_name,
            imported: obj.import().is_some(),
            resource,
            refs: &refs,
        });
        if waiting.is_empty()
            && let Some(Err(e)) = desired.as_ref().map(|d| self.kind.validate(d))
        {
            return PlanStep::refused(format!("spec: {e}"));
        }
        let (how, remote) = match self.find_for_plan(&p, &cloud, desired.as_ref().filter(|_| waiting.is_empty())).await
        {
            Ok(Seen::Found(how, remote)) => (how, remote),
            Ok(Seen::Gone(note)) => return PlanStep { planned: Planned::Create { note: Some(note) }, observed: None },
            Ok(Seen::Missing) if !waiting.is_empty() && obj.import().is_some() => {
                return PlanStep::refused(format!("import waits on {}", waiting.join(", ")));
            }
            Ok(Seen::Missing) => return PlanStep { planned: Planned::Create { note: None }, observed: None },
            Err(message) => return PlanStep::refused(message),
        };
        let id = self.kind.id(&remote);
        let observed = serde_json::to_value(&remote).ok();
        if !waiting.is_empty() {
            return PlanStep { planned: Planned::UpdateAfter { id, waiting }, observed };
        }
        let fields = match desired.as_ref().filter(|_| obj.common().management_policy != ManagementPolicy::ObserveOnly)
        {
            Some(d) => {
                let diff = self.kind.diff(d, &remote);
                if !diff.immutable.is_empty() {
                    return PlanStep::refused(super::update::immutable_message(&diff.immutable));
                }
                diff.mutable
            }
            None => Vec::new(),
        };
        let planned = match how {
            How::ById if fields.is_empty() => Planned::NoChange { id },
            How::ById => Planned::Update { id, fields },
            How::Imported => Planned::Import { id, fields },
            How::Adopted => Planned::Adopt { id, fields },
        };
        PlanStep { planned, observed }
    }

    /// The cloud object as `observe` would find it: by ID, by import, then
    /// by marker. The marker is looked up even without a pending create: a
    /// plan without state must find what an earlier apply made.
    async fn find_for_plan<O, E>(
        &self,
        p: &Pass<'_, O, E>,
        cloud: &K::Cloud,
        desired: Option<&Desired<'_, K::Resource>>,
    ) -> Result<Seen<K::Remote>, String>
    where
        O: ManagedObject<Resource = K::Resource, Filter = K::Filter>,
    {
        let mut gone = None;
        if let Some(id) = &p.status.id {
            match self.kind.get(cloud, id, Freshness::Fresh).await {
                Ok(Some(remote)) => return Ok(Seen::Found(How::ById, remote)),
                Ok(None) if !p.created_here() => {
                    return Err(format!("the {} {id} no longer exists in the cloud", O::KIND));
                }
                Ok(None) => gone = Some(format!("{} {id} was deleted outside Terrane; it is created again", O::KIND)),
                Err(e) => return Err(format!("observe: {e}")),
            }
        }
        if let Some(import) = p.obj.import() {
            return match self.import::<O>(cloud, import).await {
                Ok(remote) => Ok(Seen::Found(How::Imported, remote)),
                Err(o) => Err(o.verdict.message),
            };
        }
        let Some(desired) = desired else { return Ok(gone.map_or(Seen::Missing, Seen::Gone)) };
        match self.kind.find_owned(cloud, desired, Freshness::Fresh).await {
            Ok(found) => Ok(match (found.into_iter().next(), gone) {
                (Some(remote), _) => Seen::Found(How::Adopted, remote),
                (None, Some(note)) => Seen::Gone(note),
                (None, None) => Seen::Missing,
            }),
            Err(e) => Err(format!("look for an object created earlier: {e}")),
        }
    }
}

/// What the plan's look-up saw.
enum Seen<R> {
    Found(How, R),
    /// `status.id` names an object deleted outside Terrane.
    Gone(String),
    Missing,
}

/// How a planned object was found.
#[derive(Debug, Clone, Copy)]
enum How {
    ById,
    Imported,
    Adopted,
}
