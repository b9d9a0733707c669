//! The plan of a source: for each object what `apply` would do, in apply
//! order, then the deletions, found by the reconciler's own look-ups and
//! the provider's own `diff` (so what the plan promises is what the
//! controller does).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;
use terrane_api::{DeletionPolicy, ManagementPolicy};

use super::drivers::{self, Driver};
use super::env::LocalEnv;
use super::graph::Key;
use super::objects::Object;
use crate::reconciler::Planned;

/// One object's line of the plan.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    /// `Kind/name`.
    pub object: Key,
    #[serde(flatten)]
    pub change: Change,
    /// For a create: the fields of `spec.resource` as `path = value`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub spec: Vec<SpecField>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SpecField {
    pub field: String,
    pub value: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Change {
    Apply(Planned),
    Remove(Removal),
}

/// An object no longer in the source.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "action", rename_all = "camelCase")]
pub enum Removal {
    /// Its cloud object is deleted (none when no create ever landed).
    Delete {
        #[serde(skip_serializing_if = "Option::is_none")]
        id: Option<String>,
    },
    /// `deletionPolicy: Orphan` or ObserveOnly: the cloud object stays.
    Orphan {
        #[serde(skip_serializing_if = "Option::is_none")]
        id: Option<String>,
    },
}

/// Counts by action.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub create: usize,
    pub update: usize,
    pub delete: usize,
    pub import: usize,
    pub adopt: usize,
    pub unchanged: usize,
    pub refused: usize,
}

impl Summary {
    /// "3 to create, 1 to update, 0 to delete" and the others that are not zero.
    pub fn line(&self) -> String {
        let mut parts = vec![
            format!("{} to create", self.create),
            format!("{} to update", self.update),
            format!("{} to delete", self.delete),
        ];
        for (n, what) in [(self.import, "to import"), (self.adopt, "to adopt"), (self.unchanged, "unchanged")] {
            if n > 0 {
                parts.push(format!("{n} {what}"));
            }
        }
        if self.refused > 0 {
            parts.push(format!("{} refused", self.refused));
        }
        parts.join(", ")
    }

    /// True when applying would change nothing in the cloud.
    pub fn is_empty(&self) -> bool {
        self.create + self.update + self.delete + self.import + self.adopt + self.refused == 0
    }
}

/// The whole plan.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    /// What was planned: a directory, or `URL@REV:PATH`.
    pub source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// With `--from`: the revision compared against, and its commit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base: Option<String>,
    pub steps: Vec<Step>,
    pub summary: Summary,
}

impl Step {
    pub fn is_change(&self) -> bool {
        !matches!(self.change, Change::Apply(Planned::NoChange { .. }))
    }
}

/// The leaves of `value` as `a.b[0].c = value` (strings quoted as JSON).
pub fn spec_fields(value: &Value) -> Vec<SpecField> {
    fn walk(prefix: &str, value: &Value, out: &mut Vec<SpecField>) {
        match value {
            Value::Object(map) if !map.is_empty() => {
                for (k, v) in map {
                    let path = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                    walk(&path, v, out);
                }
            }
            Value::Array(items) if !items.is_empty() => {
                for (i, v) in items.iter().enumerate() {
                    walk(&format!("{prefix}[{i}]"), v, out);
                }
            }
            v => out.push(SpecField { field: prefix.to_string(), value: v.to_string() }),
        }
    }
    let mut out = Vec::new();
    if value.as_object().is_some_and(|m| !m.is_empty()) {
        walk("", value, &mut out);
    }
    out
}

fn count(steps: &[Step]) -> Summary {
    let mut s = Summary::default();
    for step in steps {
        match &step.change {
            Change::Apply(Planned::Create { .. }) => s.create += 1,
            Change::Apply(Planned::Update { .. } | Planned::UpdateAfter { .. }) => s.update += 1,
            Change::Apply(Planned::NoChange { .. }) | Change::Remove(Removal::Orphan { .. }) => s.unchanged += 1,
            Change::Apply(Planned::Import { .. }) => s.import += 1,
            Change::Apply(Planned::Adopt { .. }) => s.adopt += 1,
            Change::Apply(Planned::Refused { .. }) => s.refused += 1,
            Change::Remove(Removal::Delete { .. }) => s.delete += 1,
        }
    }
    s
}

/// True when removing the object leaves its cloud object (Orphan, ObserveOnly).
pub fn keeps_cloud_object(manifest: &Value) -> bool {
    let spec = &manifest["spec"];
    serde_json::from_value::<DeletionPolicy>(spec["deletionPolicy"].clone()).ok() == Some(DeletionPolicy::Orphan)
        || serde_json::from_value::<ManagementPolicy>(spec["managementPolicy"].clone()).ok()
            == Some(ManagementPolicy::ObserveOnly)
}

/// An object to be removed, with the manifest it was applied from.
pub struct Removed {
    pub key: Key,
    pub manifest: Value,
}

/// The objects the state holds that `objects` no longer declares, deepest
/// dependents first.
pub fn removed_from_state(env: &LocalEnv, objects: &[Object]) -> Vec<Removed> {
    let declared: BTreeSet<&str> = objects.iter().filter(|o| o.managed).map(|o| o.key.as_str()).collect();
    let state = env.state.lock().unwrap_or_else(|p| p.into_inner());
    let mut out: Vec<Removed> = state
        .data
        .objects
        .iter()
        .filter(|(k, _)| !declared.contains(k.as_str()))
        .filter_map(|(k, e)| Some(Removed { key: k.clone(), manifest: e.object.clone()? }))
        .collect();
    out.sort_by_key(|r| std::cmp::Reverse(drivers::rank(r.manifest["kind"].as_str().unwrap_or_default())));
    out
}

/// Plans `objects` (in apply order), then `removed`. Leaves the state as it
/// was: nothing is written.
pub async fn compute(
    env: &LocalEnv,
    drivers: &BTreeMap<&'static str, Box<dyn Driver>>,
    objects: &[Object],
    removed: &[Removed],
) -> Vec<Step> {
    env.planning(true);
    let mut steps = Vec::new();
    for o in objects.iter().filter(|o| o.managed) {
        let planned = plan_one(env, drivers, &o.key, &o.manifest.object).await;
        let spec = match &planned {
            Planned::Create { .. } => spec_fields(&o.manifest.object["spec"]["resource"]),
            _ => Vec::new(),
        };
        steps.push(Step { object: o.key.clone(), change: Change::Apply(planned), spec });
    }
    for r in removed {
        let id = {
            let state = env.state.lock().unwrap_or_else(|p| p.into_inner());
            state.data.objects.get(&r.key).and_then(|e| e.status.id.clone())
        };
        let id = match id {
            Some(id) => Some(id),
            None => plan_one(env, drivers, &r.key, &r.manifest).await.id().map(str::to_string),
        };
        let change = if keeps_cloud_object(&r.manifest) { Removal::Orphan { id } } else { Removal::Delete { id } };
        steps.push(Step { object: r.key.clone(), change: Change::Remove(change), spec: Vec::new() });
    }
    env.planning(false);
    steps
}

async fn plan_one(
    env: &LocalEnv,
    drivers: &BTreeMap<&'static str, Box<dyn Driver>>,
    key: &str,
    manifest: &Value,
) -> Planned {
    let kind = manifest["kind"].as_str().unwrap_or_default();
    let Some(driver) = drivers.get(kind) else {
        return Planned::Refused { message: format!("{kind} is not a managed kind") };
    };
    let value = env.object_value(key, manifest, false);
    match driver.plan(value, env).await {
        Ok(step) => {
            env.plan_ref(key, step.planned.id(), step.observed);
            step.planned
        }
        Err(message) => {
            env.plan_ref(key, None, None);
            Planned::Refused { message }
        }
    }
}

/// For a plan against a base revision without state: the objects the base
/// declares are taken as applied, so finding one by its import or its
/// ownership marker is no change (or an update of the fields that differ),
/// not an import or an adoption.
pub fn as_already_applied(steps: &mut [Step], in_base: &BTreeSet<&str>) {
    for step in steps.iter_mut().filter(|s| in_base.contains(s.object.as_str())) {
        if let Change::Apply(Planned::Import { id, fields } | Planned::Adopt { id, fields }) = &step.change {
            let planned = if fields.is_empty() {
                Planned::NoChange { id: id.clone() }
            } else {
                Planned::Update { id: id.clone(), fields: fields.clone() }
            };
            step.change = Change::Apply(planned);
        }
    }
}

/// The plan with its summary.
pub fn finish(source: String, commit: Option<String>, base: Option<String>, steps: Vec<Step>) -> Plan {
    let summary = count(&steps);
    Plan { source, commit, base, steps, summary }
}
