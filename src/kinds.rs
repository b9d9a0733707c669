//! The one table of managed kinds: each line pairs an API type
//! (`terrane_api`) with its provider kind (`terrane_openstack::kinds`).
//!
//! Everything that needs the list of kinds takes it from here: the
//! controllers, reference and referrer look-ups, `terrane crds`, the RBAC
//! rules of `deploy/base/rbac.yaml`, and the tests. Lines are in dependency
//! order: a kind refers only to kinds above it, so deleting in reverse order
//! never waits on a referrer.

/// Calls `$callback! { Api => ProviderKind, ... }` with every managed kind.
#[macro_export]
macro_rules! for_each_kind {
    ($callback:ident) => {
        $callback! {
            Network => NetworkKind,
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

/// The CRD of ProviderConfig and of every managed kind, in table order.
pub fn crds() -> Vec<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition> {
    use kube::CustomResourceExt;
    macro_rules! crds {
        ($($api:ident => $provider:ident),* $(,)?) => {
            vec![terrane_api::ProviderConfig::crd(), $(terrane_api::$api::crd()),*]
        };
    }
    for_each_kind!(crds)
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
        assert_eq!(order.len(), 14);
    }
}
