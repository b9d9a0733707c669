//! `Router`: a Neutron router, optionally with an external gateway.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::{LocalReference, ResourceStatus};
use crate::managed::Reference;

crate::managed_kind! {
    /// A Neutron router.
    kind: Router "Router", spec: RouterSpec, short: "trouter",
    resource: RouterResource, filter: RouterFilter,
    columns: [],
    references: |r| r
    .spec
    .resource
    .iter()
    .filter_map(|res| res.external_gateway.as_ref())
    .map(|g| Reference::to::<crate::Network>("resource.externalGateway.networkRef", &g.network_ref.name))
    .collect()
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
