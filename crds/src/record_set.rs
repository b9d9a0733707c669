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
    references: |r| r.spec.resource.as_ref().map(RecordSetResource::references).unwrap_or_default()
}

/// A Terrane object whose address becomes a record.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [{"rule": "has(self.floatingIPRef) != has(self.serverRef)", "message": "recordsFrom entries need exactly one of floatingIPRef or serverRef"}]))]
pub struct AddressSource {
    /// The FloatingIP's address.
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "floatingIPRef")]
    pub floating_ip_ref: Option<LocalReference>,
    /// The Server's own (fixed) addresses of the record's family (A: IPv4,
    /// AAAA: IPv6); for its public address, use the FloatingIP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_ref: Option<LocalReference>,
}

impl RecordSetResource {
    fn references(&self) -> Vec<Reference> {
        let mut refs = vec![Reference::to::<crate::Zone>("resource.zoneRef", &self.zone_ref.name)];
        for a in &self.records_from {
            if let Some(f) = &a.floating_ip_ref {
                refs.push(Reference::to::<crate::FloatingIP>("resource.recordsFrom.floatingIPRef", &f.name));
            }
            if let Some(s) = &a.server_ref {
                refs.push(Reference::to::<crate::Server>("resource.recordsFrom.serverRef", &s.name));
            }
        }
        refs
    }
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
    {"rule": "has(self.name) == has(oldSelf.name)", "message": "name is immutable: it cannot be added or removed once set (or left out)"},
    {"rule": "self.type != 'A' || !has(self.records) || self.records.all(r, isIP(r) && ip(r).family() == 4)", "message": "A records must be IPv4 addresses"},
    {"rule": "self.type != 'AAAA' || !has(self.records) || self.records.all(r, isIP(r) && ip(r).family() == 6)", "message": "AAAA records must be IPv6 addresses"},
    {"rule": "self.type != 'CNAME' || (has(self.records) && size(self.records) == 1)", "message": "a CNAME has exactly one record"},
    {"rule": "(has(self.records) && size(self.records) > 0) || (has(self.recordsFrom) && size(self.recordsFrom) > 0)", "message": "a record set needs records, recordsFrom, or both"},
    {"rule": "!has(self.recordsFrom) || self.type == 'A' || self.type == 'AAAA'", "message": "recordsFrom makes A or AAAA records only"}
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
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 32), inner(length(min = 1, max = 255)))]
    pub records: Vec<String>,
    /// Records taken from the addresses of other Terrane objects (A and AAAA
    /// only), added to `records`: "this server's name" stays true when the
    /// address is only known once the cloud has made it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 16))]
    pub records_from: Vec<AddressSource>,
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
