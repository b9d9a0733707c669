//! `Zone`: a Designate DNS zone.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::ResourceStatus;

crate::managed_kind! {
    /// A DNS zone.
    kind: Zone "Zone", spec: ZoneSpec, short: "tzone",
    resource: ZoneResource, filter: ZoneFilter,
    columns: [r#"{"name":"Zone","type":"string","jsonPath":".spec.resource.name"}"#],
    references: |_z| Vec::new()
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ZoneResource {
    /// The zone's name, fully qualified with the final dot (`example.org.`). Immutable.
    #[schemars(length(min = 2, max = 255))]
    #[schemars(extend("x-kubernetes-validations" = [
        {"rule": "self.endsWith('.')", "message": "name must be fully qualified and end with a dot, e.g. example.org."},
        {"rule": "self == oldSelf", "message": "name is immutable"}
    ]))]
    pub name: String,
    /// The zone administrator's address (SOA RNAME).
    #[schemars(length(min = 3, max = 255))]
    pub email: String,
    /// Default TTL of the zone's records, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 2147483647))]
    pub ttl: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 100))]
    pub description: Option<String>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ZoneFilter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}
