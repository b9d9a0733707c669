//! `RouterInterface`: attaches a Subnet to a Router (a router port on the subnet).

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::{CommonSpec, Import, LocalReference, ResourceStatus};
use crate::managed::{ManagedObject, Reference};

#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[kube(
    group = "terrane.dev",
    version = "v1alpha1",
    kind = "RouterInterface",
    namespaced,
    status = "ResourceStatus",
    category = "terrane",
    shortname = "trif",
    printcolumn = r#"{"name":"Router","type":"string","jsonPath":".spec.resource.routerRef.name"}"#,
    printcolumn = r#"{"name":"Subnet","type":"string","jsonPath":".spec.resource.subnetRef.name"}"#,
    printcolumn = r#"{"name":"ID","type":"string","jsonPath":".status.id"}"#,
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name":"Reason","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].reason"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct RouterInterfaceSpec {
    #[serde(flatten)]
    pub common: CommonSpec,
    /// The router and the subnet; the interface is found by the pair.
    pub resource: RouterInterfaceResource,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "routerRef and subnetRef are immutable"}]))]
pub struct RouterInterfaceResource {
    pub router_ref: LocalReference,
    pub subnet_ref: LocalReference,
}

/// A router interface is found by its router and subnet; there is nothing to filter on.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct NoFilter {}

impl ManagedObject for RouterInterface {
    type Resource = RouterInterfaceResource;
    type Filter = NoFilter;
    const KIND: &'static str = "RouterInterface";

    fn common(&self) -> &CommonSpec {
        &self.spec.common
    }
    fn import(&self) -> Option<&Import<NoFilter>> {
        None
    }
    fn resource(&self) -> Option<&RouterInterfaceResource> {
        Some(&self.spec.resource)
    }
    fn status(&self) -> Option<&ResourceStatus> {
        self.status.as_ref()
    }
    fn references(&self) -> Vec<Reference> {
        vec![
            Reference::to::<crate::Router>("resource.routerRef", &self.spec.resource.router_ref.name),
            Reference::to::<crate::Subnet>("resource.subnetRef", &self.spec.resource.subnet_ref.name),
        ]
    }
}
