//! `Flavor`: a compute flavor (vCPUs, RAM, disk).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::ResourceStatus;

crate::managed_kind! {
    /// A compute flavor. Usually imported by name (`import.filter.name`);
    /// creating one needs admin credentials.
    kind: Flavor "Flavor", spec: FlavorSpec, short: "tflavor",
    resource: FlavorResource, filter: FlavorFilter,
    columns: [
        r#"{"name":"Flavor","type":"string","jsonPath":".status.resource.name"}"#,
        r#"{"name":"vCPUs","type":"integer","jsonPath":".status.resource.vcpus"}"#,
        r#"{"name":"RAM","type":"integer","jsonPath":".status.resource.ram"}"#
    ],
    references: |_f| Vec::new()
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {"rule": "has(self.name) == has(oldSelf.name)", "message": "name is immutable: it cannot be added or removed once set (or left out)"},
    {"rule": "has(self.ephemeral) == has(oldSelf.ephemeral)", "message": "ephemeral is immutable: it cannot be added or removed once set (or left out)"},
    {"rule": "has(self.swap) == has(oldSelf.swap)", "message": "swap is immutable: it cannot be added or removed once set (or left out)"},
    {"rule": "has(self.isPublic) == has(oldSelf.isPublic)", "message": "isPublic is immutable: it cannot be added or removed once set (or left out)"}
]))]
pub struct FlavorResource {
    /// Defaults to the object's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 255))]
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "a flavor cannot change (except its description): create another one"}]))]
    pub name: Option<String>,
    #[schemars(range(min = 1))]
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "a flavor cannot change (except its description): create another one"}]))]
    pub vcpus: i32,
    /// MiB.
    #[schemars(range(min = 1))]
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "a flavor cannot change (except its description): create another one"}]))]
    pub ram: i32,
    /// Root disk, GiB (0: the image's size).
    #[serde(default)]
    #[schemars(range(min = 0))]
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "a flavor cannot change (except its description): create another one"}]))]
    pub disk: i32,
    /// Ephemeral disk, GiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "a flavor cannot change (except its description): create another one"}]))]
    pub ephemeral: Option<i32>,
    /// Swap, MiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "a flavor cannot change (except its description): create another one"}]))]
    pub swap: Option<i32>,
    /// Visible to every project (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "a flavor cannot change (except its description): create another one"}]))]
    pub is_public: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 65000))]
    pub description: Option<String>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FlavorFilter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}
