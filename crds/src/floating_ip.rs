//! `FloatingIP`: an address on an external network, optionally bound to a Port.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::{LocalReference, ResourceStatus};
use crate::managed::Reference;

crate::managed_kind! {
    /// A floating IP address.
    kind: FloatingIP "FloatingIP", spec: FloatingIPSpec, short: "tfip",
    resource: FloatingIPResource, filter: FloatingIPFilter,
    columns: [r#"{"name":"Address","type":"string","jsonPath":".status.resource.floatingIpAddress"}"#],
    references: |f| {
    let mut refs = Vec::new();
    if let Some(r) = &f.spec.resource {
        refs.push(Reference::to::<crate::Network>("resource.floatingNetworkRef", &r.floating_network_ref.name));
        if let Some(p) = &r.port_ref {
            refs.push(Reference::to::<crate::Port>("resource.portRef", &p.name));
        }
    }
    refs
}
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {"rule": "has(self.floatingIpAddress) == has(oldSelf.floatingIpAddress)", "message": "floatingIpAddress is immutable: it cannot be added or removed once set (or left out)"}
]))]
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
