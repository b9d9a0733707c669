//! `Port`: a Neutron port with fixed IPs, security groups and allowed address pairs.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::{LocalReference, ResourceStatus};
use crate::managed::Reference;

crate::managed_kind! {
    /// A Neutron port.
    kind: Port "Port", spec: PortSpec, short: "tport",
    resource: PortResource, filter: PortFilter,
    columns: [],
    references: |p| {
    let mut refs = Vec::new();
    if let Some(r) = &p.spec.resource {
        refs.push(Reference::to::<crate::Network>("resource.networkRef", &r.network_ref.name));
        for (i, f) in r.fixed_ips.iter().flatten().enumerate() {
            if let Some(s) = &f.subnet_ref {
                refs.push(Reference::to::<crate::Subnet>(format!("resource.fixedIps[{i}].subnetRef"), &s.name));
            }
        }
        for (i, g) in r.security_group_refs.iter().flatten().enumerate() {
            refs.push(Reference::to::<crate::SecurityGroup>(format!("resource.securityGroupRefs[{i}]"), &g.name));
        }
    }
    refs
}
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PortResource {
    /// The Network of the port. Immutable.
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "networkRef is immutable"}]))]
    pub network_ref: LocalReference,
    /// The cloud name; defaults to the object's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin_state_up: Option<bool>,
    /// Addresses of the port; each names a Subnet, an address, or both.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 32))]
    pub fixed_ips: Option<Vec<FixedIp>>,
    /// Security groups (same namespace). Left out: the cloud's default group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 32))]
    pub security_group_refs: Option<Vec<LocalReference>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 32))]
    pub allowed_address_pairs: Option<Vec<AddressPair>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port_security_enabled: Option<bool>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [{"rule": "has(self.subnetRef) || has(self.ipAddress)", "message": "a fixed IP needs subnetRef, ipAddress or both"}]))]
pub struct FixedIp {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subnet_ref: Option<LocalReference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "isIP(self)", "message": "ipAddress must be an IP address"}]))]
    #[schemars(length(max = 64))]
    pub ip_address: Option<String>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AddressPair {
    /// An address or a CIDR.
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "isIP(self) || isCIDR(self)", "message": "ipAddress must be an IP address or a CIDR"}]))]
    #[schemars(length(max = 64))]
    pub ip_address: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac_address: Option<String>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PortFilter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}
