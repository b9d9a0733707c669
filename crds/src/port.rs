//! `Port`: a Neutron port with fixed IPs, security groups and allowed address pairs.

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::{CommonSpec, Import, LocalReference, ResourceStatus};
use crate::managed::Reference;

#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[kube(
    group = "terrane.dev", version = "v1alpha1", kind = "Port", namespaced,
    status = "ResourceStatus", category = "terrane", shortname = "tport",
    printcolumn = r#"{"name":"ID","type":"string","jsonPath":".status.id"}"#,
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name":"Reason","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].reason"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#,
    validation = kube::core::Rule::new("has(self.spec.resource) || has(self.spec.import)").message("spec needs resource, import, or both")
)]
#[serde(rename_all = "camelCase")]
pub struct PortSpec {
    #[serde(flatten)]
    pub common: CommonSpec,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub import: Option<Import<PortFilter>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<PortResource>,
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

crate::managed_object!(Port, PortResource, PortFilter, |p| {
    let mut refs = Vec::new();
    if let Some(r) = &p.spec.resource {
        refs.push(Reference::new("resource.networkRef", "Network", &r.network_ref.name));
        for (i, f) in r.fixed_ips.iter().flatten().enumerate() {
            if let Some(s) = &f.subnet_ref {
                refs.push(Reference::new(format!("resource.fixedIps[{i}].subnetRef"), "Subnet", &s.name));
            }
        }
        for (i, g) in r.security_group_refs.iter().flatten().enumerate() {
            refs.push(Reference::new(format!("resource.securityGroupRefs[{i}]"), "SecurityGroup", &g.name));
        }
    }
    refs
});
