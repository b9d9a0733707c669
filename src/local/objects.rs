//! The Terrane objects of a source, checked before anything is observed:
//! every document a kind Terrane knows (its managed kinds, ProviderConfig,
//! and the Secrets and ConfigMaps they read), each one parsed as its type,
//! in dependency order.

use std::collections::BTreeSet;

use serde_json::Value;
use terrane_api::{ManagedObject, Reference};

use super::graph::{self, GraphError, Key, Node};
use crate::manifests::{Manifest, ManifestError};

/// Why the objects of a source cannot be planned. Each names the file and
/// document or the object.
#[derive(Debug, thiserror::Error)]
pub enum ObjectsError {
    #[error("{0}")]
    Manifest(#[from] ManifestError),
    #[error(
        "{origin}: {api_version} {kind} is not a kind terrane plan and apply handle (terrane.dev kinds, Secrets and ConfigMaps)"
    )]
    UnknownKind { origin: String, api_version: String, kind: String },
    #[error("{origin}: {key} is not a valid {kind}: {message}")]
    Invalid { origin: String, key: Key, kind: String, message: String },
    #[error("{origin}: {key} is declared twice (also in {first})")]
    Duplicate { origin: String, key: Key, first: String },
    #[error("{0}")]
    Graph(#[from] GraphError),
}

/// One object of the source.
#[derive(Debug, Clone)]
pub struct Object {
    pub key: Key,
    /// `Network`, `ProviderConfig`, `Secret`...
    pub kind: String,
    pub manifest: Manifest,
    /// The Terrane objects it refers to (none for Secrets and ConfigMaps).
    pub references: Vec<Reference>,
    /// True for the managed kinds (the ones with a cloud object).
    pub managed: bool,
}

/// The references of `value` when it is a managed kind: `None` for a kind
/// that is not one, an error when it does not parse as that kind.
pub(crate) fn managed_references(kind: &str, value: &Value) -> Option<Result<Vec<Reference>, serde_json::Error>> {
    macro_rules! references {
        ($($api:ident => $provider:ident),* $(,)?) => {
            match kind {
                $(k if k == <terrane_api::$api as ManagedObject>::KIND => Some(
                    serde_json::from_value::<terrane_api::$api>(value.clone()).map(|o| o.references()),
                ),)*
                _ => None,
            }
        };
    }
    crate::for_each_kind!(references)
}

/// The objects of `manifests` in apply order: ProviderConfigs, Secrets and
/// ConfigMaps first, then the managed kinds after what they refer to.
pub fn load(manifests: Vec<Manifest>) -> Result<Vec<Object>, ObjectsError> {
    let mut objects: Vec<Object> = Vec::new();
    for m in manifests {
        let kind = m.kind().to_string();
        let key = graph::key(&kind, m.name());
        let (references, managed) = match (m.api_version(), kind.as_str()) {
            ("v1", "Secret" | "ConfigMap") => (Vec::new(), false),
            ("terrane.dev/v1alpha1", "ProviderConfig") => {
                serde_json::from_value::<terrane_api::ProviderConfig>(m.object.clone()).map_err(|e| {
                    ObjectsError::Invalid {
                        origin: m.origin(),
                        key: key.clone(),
                        kind: kind.clone(),
                        message: e.to_string(),
                    }
                })?;
                (Vec::new(), false)
            }
            ("terrane.dev/v1alpha1", _) => match managed_references(&kind, &m.object) {
                Some(Ok(r)) => (r, true),
                Some(Err(e)) => {
                    return Err(ObjectsError::Invalid { origin: m.origin(), key, kind, message: e.to_string() });
                }
                None => {
                    return Err(ObjectsError::UnknownKind {
                        origin: m.origin(),
                        api_version: m.api_version().into(),
                        kind,
                    });
                }
            },
            (api_version, _) => {
                return Err(ObjectsError::UnknownKind { origin: m.origin(), api_version: api_version.into(), kind });
            }
        };
        if let Some(first) = objects.iter().find(|o| o.key == key) {
            return Err(ObjectsError::Duplicate { origin: m.origin(), key, first: first.manifest.origin() });
        }
        objects.push(Object { key, kind, manifest: m, references, managed });
    }
    let (plain, managed): (Vec<Object>, Vec<Object>) = objects.into_iter().partition(|o| !o.managed);
    let nodes: Vec<Node> =
        managed.iter().map(|o| Node { key: o.key.clone(), references: o.references.clone() }).collect();
    let order = graph::order(&nodes, &BTreeSet::new())?;
    let mut managed = managed;
    let mut sorted = plain;
    for key in order {
        if let Some(i) = managed.iter().position(|o| o.key == key) {
            sorted.push(managed.swap_remove(i));
        }
    }
    Ok(sorted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::git::File;

    fn examples(file: &str) -> Vec<Manifest> {
        let path = format!("{}/deploy/examples/{file}", env!("CARGO_MANIFEST_DIR"));
        let data = std::fs::read(&path).unwrap();
        crate::manifests::parse(&[File { path: file.into(), data }]).unwrap()
    }

    #[test]
    fn the_web_tier_example_loads_in_dependency_order() {
        let mut all = examples("provider-config.yaml");
        all.extend(examples("web-tier.yaml"));
        let objects = load(all).unwrap();
        let keys: Vec<&str> = objects.iter().map(|o| o.key.as_str()).collect();
        let at = |k: &str| keys.iter().position(|x| *x == k).unwrap_or_else(|| panic!("{k} in {keys:?}"));
        assert!(at("ProviderConfig/cloud") < at("Network/web"));
        assert!(at("Network/web") < at("Subnet/web") && at("Subnet/web") < at("Port/web-1"));
        assert!(at("Port/web-1") < at("Server/web-1") && at("Server/web-1") < at("FloatingIP/web-1"));
        assert!(at("Zone/web") < at("RecordSet/www"), "{keys:?}");
    }

    fn one(text: &str) -> Result<Vec<Object>, ObjectsError> {
        load(crate::manifests::parse(&[File { path: "x.yaml".into(), data: text.as_bytes().to_vec() }])?)
    }

    #[test]
    fn unknown_kinds_invalid_specs_duplicates_and_dangling_references_are_named() {
        let e = one("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n").unwrap_err();
        assert!(e.to_string().starts_with("x.yaml document 1: apps/v1 Deployment is not a kind"), "{e}");
        let e = one(
            "apiVersion: terrane.dev/v1alpha1\nkind: Network\nmetadata: {name: net}\nspec: {resource: {mtu: big}}\n",
        )
        .unwrap_err();
        assert!(e.to_string().starts_with("x.yaml document 1: Network/net is not a valid Network: "), "{e}");
        let net = "apiVersion: terrane.dev/v1alpha1\nkind: Network\nmetadata: {name: net}\nspec: {providerConfigRef: {name: c}, resource: {}}\n";
        let e = one(&format!("{net}---\n{net}")).unwrap_err();
        assert_eq!(e.to_string(), "x.yaml document 2: Network/net is declared twice (also in x.yaml document 1)");
        let subnet = "apiVersion: terrane.dev/v1alpha1\nkind: Subnet\nmetadata: {name: s}\nspec: {providerConfigRef: {name: c}, resource: {networkRef: {name: missing}, cidr: 10.0.0.0/24}}\n";
        let e = one(subnet).unwrap_err();
        assert_eq!(e.to_string(), "Subnet/s: resource.networkRef names Network/missing, which is not in the source");
    }
}
