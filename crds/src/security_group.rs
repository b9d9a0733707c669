//! `SecurityGroup`: a Neutron security group with its rules inline.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::{LocalReference, ResourceStatus};
use crate::managed::Reference;

crate::managed_kind! {
    /// A Neutron security group with its rules.
    kind: SecurityGroup "SecurityGroup", spec: SecurityGroupSpec, short: "tsg",
    resource: SecurityGroupResource, filter: SecurityGroupFilter,
    columns: [],
    references: |g| {
    let own = g.metadata.name.clone().unwrap_or_default();
    g.spec
        .resource
        .iter()
        .flat_map(|r| r.rules.iter().flatten().enumerate())
        .filter_map(|(i, rule)| rule.remote_group_ref.as_ref().map(|r| (i, r)))
        .filter(|(_, r)| r.name != own)
        .map(|(i, r)| Reference::to::<crate::SecurityGroup>(format!("resource.rules[{i}].remoteGroupRef"), &r.name))
        .collect()
}
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {"rule": "has(self.stateful) == has(oldSelf.stateful)", "message": "stateful is immutable: it cannot be added or removed once set (or left out)"}
]))]
pub struct SecurityGroupResource {
    /// The cloud name; defaults to the object's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Immutable (Neutron cannot change it while the group is in use).
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "stateful is immutable"}]))]
    pub stateful: Option<bool>,
    /// The complete set of rules. When given, rules in the cloud that are
    /// not listed (the cloud's default egress rules included) are removed;
    /// list egress rules explicitly. Left out: rules are not managed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 256))]
    pub rules: Option<Vec<SecurityGroupRule>>,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, JsonSchema)]
pub enum Direction {
    #[default]
    #[serde(rename = "ingress")]
    Ingress,
    #[serde(rename = "egress")]
    Egress,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, JsonSchema)]
pub enum Ethertype {
    #[default]
    IPv4,
    IPv6,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {"rule": "!(has(self.remoteIpPrefix) && has(self.remoteGroupRef))", "message": "remoteIpPrefix and remoteGroupRef exclude each other"},
    {"rule": "!has(self.portRangeMin) && !has(self.portRangeMax) || has(self.protocol) && self.protocol in ['tcp', 'udp', 'sctp', 'icmp', 'icmpv6', 'ipv6-icmp', '6', '17', '132', '1', '58']", "message": "a port range needs protocol tcp, udp, sctp or icmp"},
    {"rule": "!has(self.portRangeMin) || !has(self.portRangeMax) || self.portRangeMin <= self.portRangeMax || (has(self.protocol) && self.protocol.startsWith('icmp'))", "message": "portRangeMin must not exceed portRangeMax"}
]))]
pub struct SecurityGroupRule {
    /// ingress (default) or egress.
    #[serde(default)]
    pub direction: Direction,
    /// IPv4 (default) or IPv6.
    #[serde(default)]
    pub ethertype: Ethertype,
    /// tcp, udp, icmp, ... or a protocol number; left out: any protocol.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 16))]
    pub protocol: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 65535))]
    pub port_range_min: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 65535))]
    pub port_range_max: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "isCIDR(self)", "message": "remoteIpPrefix must be a CIDR"}]))]
    #[schemars(length(max = 64))]
    pub remote_ip_prefix: Option<String>,
    /// Another SecurityGroup (same namespace), or this one by its own name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_group_ref: Option<LocalReference>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecurityGroupFilter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}
