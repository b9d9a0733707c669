//! `Subnet`: an IPv4 or IPv6 subnet of a Network.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::{LocalReference, ResourceStatus};
use crate::managed::Reference;

crate::managed_kind! {
    /// An IPv4 or IPv6 subnet of a Network.
    kind: Subnet "Subnet", spec: SubnetSpec, short: "tsubnet",
    resource: SubnetResource, filter: SubnetFilter,
    columns: [r#"{"name":"CIDR","type":"string","jsonPath":".spec.resource.cidr"}"#],
    references: |s| s
    .spec
    .resource
    .iter()
    .map(|r| Reference::to::<crate::Network>("resource.networkRef", &r.network_ref.name))
    .collect()
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {"rule": "has(self.ipVersion) == has(oldSelf.ipVersion)", "message": "ipVersion is immutable: it cannot be added or removed once set (or left out)"},
    {"rule": "has(self.ipv6AddressMode) == has(oldSelf.ipv6AddressMode)", "message": "ipv6AddressMode is immutable: it cannot be added or removed once set (or left out)"},
    {"rule": "has(self.ipv6RaMode) == has(oldSelf.ipv6RaMode)", "message": "ipv6RaMode is immutable: it cannot be added or removed once set (or left out)"},
    {"rule": "!has(self.ipVersion) || !isCIDR(self.cidr) || (self.ipVersion == 4) == (cidr(self.cidr).ip().family() == 4)", "message": "ipVersion does not match the family of cidr"},
    {"rule": "!(has(self.gatewayIp) && has(self.disableGateway) && self.disableGateway)", "message": "gatewayIp and disableGateway: true exclude each other"},
    {"rule": "!has(self.gatewayIp) || !isCIDR(self.cidr) || !isIP(self.gatewayIp) || cidr(self.cidr).containsIP(self.gatewayIp)", "message": "gatewayIp must be inside cidr"},
    {"rule": "!has(self.allocationPools) || !isCIDR(self.cidr) || self.allocationPools.all(p, !isIP(p.start) || !isIP(p.end) || (cidr(self.cidr).containsIP(p.start) && cidr(self.cidr).containsIP(p.end)))", "message": "allocationPools must be inside cidr"},
    {"rule": "!(has(self.ipv6AddressMode) || has(self.ipv6RaMode)) || !isCIDR(self.cidr) || cidr(self.cidr).ip().family() == 6", "message": "ipv6AddressMode and ipv6RaMode need an IPv6 cidr"}
]))]
pub struct SubnetResource {
    /// The Network (same namespace) this subnet belongs to. Immutable.
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "networkRef is immutable"}]))]
    pub network_ref: LocalReference,
    /// The cloud name; defaults to the object's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The address range, e.g. 10.0.1.0/24 or 2001:db8::/64. Immutable.
    #[schemars(extend("x-kubernetes-validations" = [
        {"rule": "isCIDR(self)", "message": "cidr must be a CIDR such as 10.0.1.0/24 or 2001:db8::/64"},
        {"rule": "self == oldSelf", "message": "cidr is immutable"}
    ]))]
    #[schemars(length(max = 64))]
    pub cidr: String,
    /// 4 or 6; derived from cidr when left out. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = [4, 6]))]
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "ipVersion is immutable"}]))]
    pub ip_version: Option<i32>,
    /// The gateway address; the cloud picks the first address when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "isIP(self)", "message": "gatewayIp must be an IP address"}]))]
    #[schemars(length(max = 64))]
    pub gateway_ip: Option<String>,
    /// No gateway at all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_gateway: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_dhcp: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 64))]
    pub allocation_pools: Option<Vec<AllocationPool>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self.all(a, isIP(a))", "message": "dnsNameservers must be IP addresses"}]))]
    #[schemars(length(max = 16))]
    pub dns_nameservers: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 64))]
    pub host_routes: Option<Vec<HostRoute>>,
    /// IPv6 address assignment: slaac, dhcpv6-stateful or dhcpv6-stateless. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "ipv6AddressMode is immutable"}]))]
    pub ipv6_address_mode: Option<Ipv6Mode>,
    /// IPv6 router advertisements: slaac, dhcpv6-stateful or dhcpv6-stateless. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "ipv6RaMode is immutable"}]))]
    pub ipv6_ra_mode: Option<Ipv6Mode>,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub enum Ipv6Mode {
    #[serde(rename = "slaac")]
    Slaac,
    #[serde(rename = "dhcpv6-stateful")]
    Dhcpv6Stateful,
    #[serde(rename = "dhcpv6-stateless")]
    Dhcpv6Stateless,
}

impl Ipv6Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Slaac => "slaac",
            Self::Dhcpv6Stateful => "dhcpv6-stateful",
            Self::Dhcpv6Stateless => "dhcpv6-stateless",
        }
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, JsonSchema)]
pub struct AllocationPool {
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "isIP(self)", "message": "start must be an IP address"}]))]
    #[schemars(length(max = 64))]
    pub start: String,
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "isIP(self)", "message": "end must be an IP address"}]))]
    #[schemars(length(max = 64))]
    pub end: String,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, JsonSchema)]
pub struct HostRoute {
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "isCIDR(self)", "message": "destination must be a CIDR"}]))]
    #[schemars(length(max = 64))]
    pub destination: String,
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "isIP(self)", "message": "nexthop must be an IP address"}]))]
    #[schemars(length(max = 64))]
    pub nexthop: String,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubnetFilter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cidr: Option<String>,
}
