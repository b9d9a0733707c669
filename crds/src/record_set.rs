//! `RecordSet`: the records of one name and type in a Zone.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::{LocalReference, ResourceStatus};
use crate::managed::Reference;

crate::managed_kind! {
    /// The records of one name and type in a Zone.
    kind: RecordSet "RecordSet", spec: RecordSetSpec, short: "trs",
    resource: RecordSetResource, filter: RecordSetFilter,
    columns: [r#"{"name":"Type","type":"string","jsonPath":".spec.resource.type"}"#],
    references: |r| r
        .spec
        .resource
        .iter()
        .map(|res| Reference::new("resource.zoneRef", "Zone", &res.zone_ref.name))
        .collect()
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub enum RecordType {
    A,
    AAAA,
    CNAME,
    TXT,
    MX,
    SRV,
    PTR,
}

impl RecordType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::A => "A",
            Self::AAAA => "AAAA",
            Self::CNAME => "CNAME",
            Self::TXT => "TXT",
            Self::MX => "MX",
            Self::SRV => "SRV",
            Self::PTR => "PTR",
        }
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {"rule": "self.type != 'A' || self.records.all(r, isIP(r) && ip(r).family() == 4)", "message": "A records must be IPv4 addresses"},
    {"rule": "self.type != 'AAAA' || self.records.all(r, isIP(r) && ip(r).family() == 6)", "message": "AAAA records must be IPv6 addresses"},
    {"rule": "self.type != 'CNAME' || size(self.records) == 1", "message": "a CNAME has exactly one record"}
]))]
pub struct RecordSetResource {
    /// The Zone (same namespace). Immutable.
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "zoneRef is immutable"}]))]
    pub zone_ref: LocalReference,
    /// The name relative to the zone (`www`), `@` for the zone's apex; defaults
    /// to the object's name. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 255))]
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "name is immutable"}]))]
    pub name: Option<String>,
    /// A, AAAA, CNAME, TXT, MX, SRV or PTR. Immutable.
    #[serde(rename = "type")]
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "type is immutable"}]))]
    pub record_type: RecordType,
    /// The record data, e.g. `["192.0.2.10"]`, `["10 mail.example.org."]`.
    #[schemars(length(min = 1, max = 32), inner(length(min = 1, max = 255)))]
    pub records: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 2147483647))]
    pub ttl: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 100))]
    pub description: Option<String>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecordSetFilter {
    /// The fully qualified name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "type")]
    pub record_type: Option<RecordType>,
}
