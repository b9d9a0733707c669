//! `FloatingIP`: an address on an external network, optionally bound to a Port.

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::{CommonSpec, Import, LocalReference, ResourceStatus};
use crate::managed::Reference;

#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[kube(
    group = "terrane.dev", version = "v1alpha1", kind = "FloatingIP", namespaced,
    status = "ResourceStatus", category = "terrane", shortname = "tfip",
    printcolumn = r#"{"name":"Address","type":"string","jsonPath":".status.resource.floatingIpAddress"}"#,
    printcolumn = r#"{"name":"ID","type":"string","jsonPath":".status.id"}"#,
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name":"Reason","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].reason"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#,
    validation = kube::core::Rule::new("has(self.spec.resource) || has(self.spec.import)").message("spec needs resource, import, or both")
)]
#[serde(rename_all = "camelCase")]
pub struct FloatingIPSpec {
    #[serde(flatten)]
    pub common: CommonSpec,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub import: Option<Import<FloatingIPFilter>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<FloatingIPResource>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FloatingIPResource {
    /// The external Network the address comes from. Immutable.
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "floatingNetworkRef is immutable"}]))]
    pub floating_network_ref: LocalReference,
    /// The Port the address is bound to; left out: unbound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port_ref: Option<LocalReference>,
    /// Which of the port's addresses to bind, when it has several.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "isIP(self)", "message": "fixedIpAddress must be an IP address"}]))]
    #[schemars(length(max = 64))]
    pub fixed_ip_address: Option<String>,
    /// Ask for this address. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-validations" = [
        {"rule": "isIP(self)", "message": "floatingIpAddress must be an IP address"},
        {"rule": "self == oldSelf", "message": "floatingIpAddress is immutable"}
    ]))]
    #[schemars(length(max = 64))]
    pub floating_ip_address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FloatingIPFilter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub floating_ip_address: Option<String>,
}

crate::managed_object!(FloatingIP, FloatingIPResource, FloatingIPFilter, |f| {
    let mut refs = Vec::new();
    if let Some(r) = &f.spec.resource {
        refs.push(Reference::new("resource.floatingNetworkRef", "Network", &r.floating_network_ref.name));
        if let Some(p) = &r.port_ref {
            refs.push(Reference::new("resource.portRef", "Port", &p.name));
        }
    }
    refs
});
