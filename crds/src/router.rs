//! `Router`: a Neutron router, optionally with an external gateway.

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::{CommonSpec, Import, LocalReference, ResourceStatus};
use crate::managed::Reference;

#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[kube(
    group = "terrane.dev", version = "v1alpha1", kind = "Router", namespaced,
    status = "ResourceStatus", category = "terrane", shortname = "trouter",
    printcolumn = r#"{"name":"ID","type":"string","jsonPath":".status.id"}"#,
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name":"Reason","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].reason"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#,
    validation = kube::core::Rule::new("has(self.spec.resource) || has(self.spec.import)").message("spec needs resource, import, or both")
)]
#[serde(rename_all = "camelCase")]
pub struct RouterSpec {
    #[serde(flatten)]
    pub common: CommonSpec,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub import: Option<Import<RouterFilter>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<RouterResource>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RouterResource {
    /// The cloud name; defaults to the object's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin_state_up: Option<bool>,
    /// The external network the router's gateway sits on (a Network, usually
    /// an imported, ObserveOnly one). Without it the router has no gateway.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_gateway: Option<ExternalGateway>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExternalGateway {
    pub network_ref: LocalReference,
    /// Source NAT on the gateway (setting it usually needs admin rights).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_snat: Option<bool>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RouterFilter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

crate::managed_object!(Router, RouterResource, RouterFilter, |r| r
    .spec
    .resource
    .iter()
    .filter_map(|res| res.external_gateway.as_ref())
    .map(|g| Reference::new("resource.externalGateway.networkRef", "Network", &g.network_ref.name))
    .collect());
