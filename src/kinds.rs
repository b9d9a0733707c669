//! The one table of managed kinds: each line pairs an API type
//! (`terrane_api`) with its provider kind (`terrane_openstack::kinds`).
//!
//! Everything that needs the list of kinds takes it from here: the
//! controllers, reference and referrer look-ups, `terrane crds`, the RBAC
//! rules of `deploy/base/rbac.yaml`, and the tests. Lines are in dependency
//! order: a kind refers only to kinds above it, so deleting in reverse order
//! never waits on a referrer.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{CustomResourceDefinition, JSONSchemaProps};

/// Calls `$callback! { Api => ProviderKind, ... }` with every managed kind.
#[macro_export]
macro_rules! for_each_kind {
    ($callback:ident) => {
        $callback! {
            Network => NetworkKind,
            SubnetPool => SubnetPoolKind,
            Subnet => SubnetKind,
            Router => RouterKind,
            RouterInterface => RouterInterfaceKind,
            SecurityGroup => SecurityGroupKind,
            Port => PortKind,
            FloatingIP => FloatingIpKind,
            Flavor => FlavorKind,
            Image => ImageKind,
            KeyPair => KeyPairKind,
            Volume => VolumeKind,
            Server => ServerKind,
            Zone => ZoneKind,
            RecordSet => RecordSetKind,
        }
    };
}

/// One managed kind, as the API names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KindName {
    /// `Network`
    pub kind: &'static str,
    /// `networks`
    pub plural: String,
}

/// Every managed kind in dependency order (referenced kinds first).
pub fn all() -> Vec<KindName> {
    macro_rules! names {
        ($($api:ident => $provider:ident),* $(,)?) => {
            vec![$(KindName {
                kind: <terrane_api::$api as terrane_api::ManagedObject>::KIND,
                plural: <terrane_api::$api as kube::Resource>::plural(&()).into_owned(),
            }),*]
        };
    }
    for_each_kind!(names)
}

/// The CRDs of ProviderConfig, Cluster and every managed kind, in table order.
/// Each kind's `status.resource` is described by its provider's observed
/// type (`ExternalKind::Remote`), so the cloud state shown there has a schema.
pub fn crds() -> Vec<CustomResourceDefinition> {
    use kube::CustomResourceExt;
    macro_rules! crds {
        ($($api:ident => $provider:ident),* $(,)?) => {
            vec![terrane_api::ProviderConfig::crd(), terrane_api::Cluster::crd(), $(with_observed_schema(
                terrane_api::$api::crd(),
                observed_schema::<<terrane_openstack::kinds::$provider as terrane_provider::ExternalKind>::Remote>(),
            )),*]
        };
    }
    for_each_kind!(crds)
}

/// `crd` with `status.resource` described by `schema` (its description kept).
fn with_observed_schema(mut crd: CustomResourceDefinition, mut schema: JSONSchemaProps) -> CustomResourceDefinition {
    for version in &mut crd.spec.versions {
        let status = version
            .schema
            .as_mut()
            .and_then(|s| s.open_api_v3_schema.as_mut())
            .and_then(|s| s.properties.as_mut())
            .and_then(|p| p.get_mut("status"))
            .and_then(|s| s.properties.as_mut());
        if let Some(fields) = status
            && let Some(resource) = fields.get_mut("resource")
        {
            schema.description = resource.description.take();
            *resource = schema.clone();
        }
    }
    crd
}

/// The structural schema of `T`, generated the way kube-derive generates a
/// CRD's; a free-form part (a JSON value, a flattened map) keeps its fields.
fn observed_schema<T: schemars::JsonSchema>() -> JSONSchemaProps {
    let generator = schemars::generate::SchemaSettings::openapi3()
        .with(|s| {
            s.inline_subschemas = true;
            s.meta_schema = None;
        })
        .with_transform(schemars::transform::AddNullable::default())
        .with_transform(kube::core::schema::StructuralSchemaRewriter)
        .into_generator();
    let mut value = serde_json::to_value(generator.into_root_schema_for::<T>()).unwrap_or_default();
    keep_free_form_fields(&mut value);
    // A schemars schema of a serde type is always a valid JSONSchemaProps.
    serde_json::from_value(value).unwrap_or_default()
}

/// Kubernetes accepts no untyped schema and no `additionalProperties` next to
/// `properties`: both become `x-kubernetes-preserve-unknown-fields`. Limits
/// and rules of spec types reused in the observed state are dropped: the
/// cloud's answer is shown as it is (a status write must never be refused),
/// and the rules would cost the CRD's CEL budget.
fn keep_free_form_fields(schema: &mut serde_json::Value) {
    let Some(map) = schema.as_object_mut() else { return };
    for limit in [
        "title",
        "x-kubernetes-validations",
        "maxLength",
        "minLength",
        "maxItems",
        "minItems",
        "pattern",
        "enum",
        "minimum",
        "maximum",
    ] {
        map.remove(limit);
    }
    let untyped = !map.contains_key("type") && !map.contains_key("anyOf") && !map.contains_key("oneOf");
    let mixed = map.contains_key("properties") && map.contains_key("additionalProperties");
    if mixed {
        map.remove("additionalProperties");
    }
    if untyped || mixed {
        map.insert("x-kubernetes-preserve-unknown-fields".into(), true.into());
    }
    for key in ["properties"] {
        if let Some(props) = map.get_mut(key).and_then(|p| p.as_object_mut()) {
            props.values_mut().for_each(keep_free_form_fields);
        }
    }
    for key in ["items", "additionalProperties"] {
        if let Some(sub) = map.get_mut(key) {
            keep_free_form_fields(sub);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::all;

    #[test]
    fn the_table_is_in_dependency_order() {
        // Every reference a kind can hold points at a kind listed above it.
        let order: Vec<&str> = all().iter().map(|k| k.kind).collect();
        let refers_to: &[(&str, &[&str])] = &[
            ("Subnet", &["Network"]),
            ("Router", &["Network"]),
            ("RouterInterface", &["Router", "Subnet"]),
            ("Port", &["Network", "Subnet", "SecurityGroup"]),
            ("FloatingIP", &["Network", "Port"]),
            ("Volume", &["Image"]),
            ("Server", &["Flavor", "Image", "Volume", "Network", "Port", "SecurityGroup", "KeyPair"]),
            ("RecordSet", &["Zone", "FloatingIP", "Server"]),
        ];
        let at = |k: &str| order.iter().position(|x| *x == k).unwrap_or_else(|| panic!("{k} is in the table"));
        for (kind, targets) in refers_to {
            for t in *targets {
                assert!(at(t) < at(kind), "{t} must come before {kind}");
            }
        }
        assert_eq!(order.len(), 15);
    }
}
