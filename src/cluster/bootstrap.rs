//! Applying a Git revision's manifests into a target cluster: server-side
//! apply with field manager `terrane`, CustomResourceDefinitions and
//! Namespaces first (waiting until the CRDs are Established), then the rest;
//! and pruning what a newer revision no longer has, only from the inventory
//! of what Terrane applied.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use kube::api::{Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, Patch, PatchParams};
use kube::discovery::Scope;
use terrane_api::InventoryEntry;

use super::target::{Target, chain};
use crate::git::GitError;
use crate::manifests::{Manifest, ManifestError};

pub const FIELD_MANAGER: &str = "terrane";

/// Why a revision was not applied (in full). Each names the file and
/// document or the object, and what the target said.
#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    #[error("{0}")]
    Git(#[from] GitError),
    #[error("{0}")]
    Manifest(#[from] ManifestError),
    #[error("{origin}: {what}: the target has no such kind")]
    UnknownKind { origin: String, what: String },
    #[error("{origin}: {what} refused: {message}")]
    Refused { origin: String, what: String, message: String },
    #[error("{origin}: CustomResourceDefinition/{name} not Established after {secs}s")]
    NotEstablished { origin: String, name: String, secs: u64 },
    #[error("pruning {what}: {message}")]
    Prune { what: String, message: String },
    #[error("the target did not answer: {0}")]
    Unreachable(String),
    #[error("{0}")]
    Credentials(String),
}

/// How long a CRD may take to become Established.
const ESTABLISH_TIMEOUT: Duration = Duration::from_secs(30);

fn entry(m: &Manifest, namespace: Option<String>) -> InventoryEntry {
    InventoryEntry {
        api_version: m.api_version().to_string(),
        kind: m.kind().to_string(),
        namespace,
        name: m.name().to_string(),
    }
}

fn gvk_of(api_version: &str, kind: &str) -> GroupVersionKind {
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    GroupVersionKind::gvk(group, version, kind)
}

/// Resolves kinds to API resources, once per kind per apply.
struct Kinds<'a> {
    target: &'a Target,
    known: HashMap<(String, String), (ApiResource, Scope)>,
}

impl Kinds<'_> {
    async fn resolve(&mut self, api_version: &str, kind: &str) -> Result<Option<(ApiResource, Scope)>, kube::Error> {
        let key = (api_version.to_string(), kind.to_string());
        if let Some(found) = self.known.get(&key) {
            return Ok(Some(found.clone()));
        }
        match kube::discovery::pinned_kind(&self.target.client, &gvk_of(api_version, kind)).await {
            Ok((ar, caps)) => {
                self.known.insert(key, (ar.clone(), caps.scope.clone()));
                Ok(Some((ar, caps.scope)))
            }
            Err(kube::Error::Api(s)) if s.code == 404 => Ok(None),
            Err(kube::Error::Discovery(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

fn api_for(target: &Target, ar: &ApiResource, scope: &Scope, namespace: Option<&str>) -> Api<DynamicObject> {
    match (scope, namespace) {
        (Scope::Namespaced, Some(ns)) => Api::namespaced_with(target.client.clone(), ns, ar),
        _ => Api::all_with(target.client.clone(), ar),
    }
}

/// Applies `manifests` (in the order given) and returns the inventory of
/// what was applied. Stops at the first object the target refuses.
pub async fn apply(target: &Target, manifests: &[Manifest]) -> Result<Vec<InventoryEntry>, BootstrapError> {
    let unreachable = |e: kube::Error| BootstrapError::Unreachable(chain(&e));
    let mut kinds = Kinds { target, known: HashMap::new() };
    let mut inventory = Vec::new();
    let params = PatchParams::apply(FIELD_MANAGER).force();
    for m in manifests {
        let what = format!("{}/{}", m.kind(), m.name());
        // A kind a CRD of this revision defines can take a moment to be served.
        let mut resolved = kinds.resolve(m.api_version(), m.kind()).await.map_err(unreachable)?;
        for _ in 0..10 {
            if resolved.is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
            resolved = kinds.resolve(m.api_version(), m.kind()).await.map_err(unreachable)?;
        }
        let Some((ar, scope)) = resolved else {
            return Err(BootstrapError::UnknownKind {
                origin: m.origin(),
                what: format!("{} {}", m.api_version(), m.kind()),
            });
        };
        let namespace = match scope {
            Scope::Namespaced => Some(m.namespace().unwrap_or("default").to_string()),
            Scope::Cluster => None,
        };
        let api = api_for(target, &ar, &scope, namespace.as_deref());
        let mut object: DynamicObject = serde_json::from_value(m.object.clone())
            .map_err(|e| BootstrapError::Refused { origin: m.origin(), what: what.clone(), message: e.to_string() })?;
        object.metadata.namespace = namespace.clone();
        match api.patch(m.name(), &params, &Patch::Apply(&object)).await {
            Ok(_) => {}
            Err(kube::Error::Api(s)) => {
                return Err(BootstrapError::Refused { origin: m.origin(), what, message: s.message });
            }
            Err(e) => return Err(unreachable(e)),
        }
        if m.kind() == "CustomResourceDefinition" && m.api_version() == "apiextensions.k8s.io/v1" {
            wait_established(&api, m).await?;
        }
        inventory.push(entry(m, namespace));
    }
    Ok(inventory)
}

async fn wait_established(api: &Api<DynamicObject>, m: &Manifest) -> Result<(), BootstrapError> {
    let deadline = tokio::time::Instant::now() + ESTABLISH_TIMEOUT;
    loop {
        if let Ok(crd) = api.get(m.name()).await {
            let established = crd.data["status"]["conditions"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|c| c["type"] == "Established" && c["status"] == "True");
            if established {
                return Ok(());
            }
        }
        if tokio::time::Instant::now() > deadline {
            return Err(BootstrapError::NotEstablished {
                origin: m.origin(),
                name: m.name().to_string(),
                secs: ESTABLISH_TIMEOUT.as_secs(),
            });
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// What `before` has and `after` does not: what a prune deletes.
pub fn removed(before: &[InventoryEntry], after: &[InventoryEntry]) -> Vec<InventoryEntry> {
    let keep: BTreeSet<&InventoryEntry> = after.iter().collect();
    before.iter().filter(|e| !keep.contains(e)).cloned().collect()
}

/// Deletes `entries` from the target (already gone is fine). Objects of a
/// kind the target no longer serves are gone with their CRD.
pub async fn prune(target: &Target, entries: &[InventoryEntry]) -> Result<(), BootstrapError> {
    let mut kinds = Kinds { target, known: HashMap::new() };
    // Reverse apply order: the rest, then Namespaces, then CRDs.
    let rank = |e: &InventoryEntry| match e.kind.as_str() {
        "CustomResourceDefinition" => 0,
        "Namespace" => 1,
        _ => 2,
    };
    let mut ordered = entries.to_vec();
    ordered.sort_by_key(|e| std::cmp::Reverse(rank(e)));
    for e in &ordered {
        let failed = |message: String| BootstrapError::Prune { what: e.describe(), message };
        let Some((ar, scope)) = kinds.resolve(&e.api_version, &e.kind).await.map_err(|x| failed(chain(&x)))? else {
            continue;
        };
        let api = api_for(target, &ar, &scope, e.namespace.as_deref());
        match api.delete(&e.name, &DeleteParams::background()).await {
            Ok(_) => {}
            Err(kube::Error::Api(s)) if s.code == 404 => {}
            Err(kube::Error::Api(s)) => return Err(failed(s.message)),
            Err(x) => return Err(failed(chain(&x))),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(kind: &str, name: &str) -> InventoryEntry {
        InventoryEntry { api_version: "v1".into(), kind: kind.into(), namespace: Some("a".into()), name: name.into() }
    }

    #[test]
    fn only_what_the_new_revision_dropped_is_pruned() {
        let before = [e("ConfigMap", "one"), e("ConfigMap", "two"), e("Service", "one")];
        let after = [e("ConfigMap", "one"), e("Service", "one"), e("Service", "three")];
        assert_eq!(removed(&before, &after), [e("ConfigMap", "two")]);
        assert!(removed(&[], &after).is_empty());
    }

    #[test]
    fn core_kinds_have_an_empty_group() {
        let g = gvk_of("v1", "ConfigMap");
        assert_eq!((g.group.as_str(), g.version.as_str()), ("", "v1"));
        let g = gvk_of("apps/v1", "Deployment");
        assert_eq!((g.group.as_str(), g.version.as_str(), g.kind.as_str()), ("apps", "v1", "Deployment"));
    }
}
