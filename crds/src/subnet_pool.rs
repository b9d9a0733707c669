//! `SubnetPool`: a Neutron subnet pool, address ranges subnets are carved from.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::ResourceStatus;

crate::managed_kind! {
    /// A Neutron subnet pool.
    kind: SubnetPool "SubnetPool", spec: SubnetPoolSpec, short: "tsnp",
    resource: SubnetPoolResource, filter: SubnetPoolFilter,
    columns: [],
    references: |_p| Vec::new()
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubnetPoolResource {
    /// The cloud name; defaults to the object's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The pool's CIDRs, all of one IP version. Prefixes can be added but
    /// not removed (the cloud refuses to shrink a pool).
    #[schemars(length(min = 1, max = 64), inner(length(max = 64)))]
    #[schemars(extend("x-kubernetes-validations" = [
        {"rule": "self.all(p, isCIDR(p))", "message": "prefixes must be CIDRs"},
        {"rule": "oldSelf.all(p, p in self)", "message": "prefixes can be added, not removed"}
    ]))]
    pub prefixes: Vec<String>,
    /// The prefix length of a subnet made from the pool without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 128))]
    pub default_prefix_length: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 128))]
    pub min_prefix_length: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 128))]
    pub max_prefix_length: Option<i32>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubnetPoolFilter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}
