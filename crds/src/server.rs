//! `Server`: a compute instance.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::{LocalReference, ResourceStatus};
use crate::managed::{Input, InputSource, Reference};

crate::managed_kind! {
    /// A compute instance. To give it a floating IP, attach it through a
    /// Port (`networks[].portRef`) and point a FloatingIP at that Port.
    kind: Server "Server", spec: ServerSpec, short: "tsrv",
    resource: ServerResource, filter: ServerFilter,
    columns: [
        r#"{"name":"Status","type":"string","jsonPath":".status.resource.status"}"#,
        r#"{"name":"Flavor","type":"string","jsonPath":".status.resource.flavor"}"#
    ],
    references: |s| s.spec.resource.as_ref().map(ServerResource::references).unwrap_or_default(),
    inputs: |s| s.spec.resource.as_ref().and_then(|r| r.user_data.as_ref()).and_then(UserData::input).into_iter().collect()
}

/// The input under which user data from a Secret or ConfigMap reaches the provider.
pub const USER_DATA_INPUT: &str = "resource.userData";

/// One network attachment: a Network (the cloud makes the port) or a Port.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {"rule": "has(self.networkRef) != has(self.portRef)", "message": "a network attachment needs exactly one of networkRef or portRef"},
    {"rule": "!has(self.fixedIp) || has(self.networkRef)", "message": "fixedIp goes with networkRef (a Port has its own fixedIps)"}
]))]
pub struct ServerNetwork {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_ref: Option<LocalReference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port_ref: Option<LocalReference>,
    /// An address for the port the cloud makes on `networkRef`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 64))]
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "isIP(self)", "message": "fixedIp must be an IP address"}]))]
    pub fixed_ip: Option<String>,
}

/// A key of a Secret or ConfigMap in the same namespace.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct KeySelector {
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    #[schemars(length(min = 1, max = 253))]
    pub key: String,
}

/// Cloud-init user data: inline, or one key of a Secret or ConfigMap.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [{"rule": "[has(self.inline), has(self.secretKeyRef), has(self.configMapKeyRef)].filter(x, x).size() == 1", "message": "userData needs exactly one of inline, secretKeyRef or configMapKeyRef"}]))]
pub struct UserData {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 65535))]
    pub inline: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_key_ref: Option<KeySelector>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map_key_ref: Option<KeySelector>,
    /// `Base64`: the value is already base64 (binary user data such as
    /// gzipped cloud-config) and goes to the cloud as it is. Default `Text`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding: Option<UserDataEncoding>,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum UserDataEncoding {
    #[default]
    Text,
    Base64,
}

impl UserData {
    fn input(&self) -> Option<Input> {
        let source = match (&self.secret_key_ref, &self.config_map_key_ref) {
            (Some(s), _) => InputSource::SecretKey { name: s.name.clone(), key: s.key.clone() },
            (None, Some(c)) => InputSource::ConfigMapKey { name: c.name.clone(), key: c.key.clone() },
            (None, None) => return None,
        };
        Some(Input { field: USER_DATA_INPUT.into(), source })
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {"rule": "has(self.imageRef) == has(oldSelf.imageRef) && has(self.bootVolumeRef) == has(oldSelf.bootVolumeRef)", "message": "a server cannot switch between imageRef and bootVolumeRef (both are immutable): create a new Server"},
    {"rule": "has(self.keyPairRef) == has(oldSelf.keyPairRef)", "message": "keyPairRef is immutable: it cannot be added or removed once set (or left out)"},
    {"rule": "has(self.userData) == has(oldSelf.userData)", "message": "userData is immutable: it cannot be added or removed once set (or left out)"},
    {"rule": "has(self.availabilityZone) == has(oldSelf.availabilityZone)", "message": "availabilityZone is immutable: it cannot be added or removed once set (or left out)"},{"rule": "has(self.imageRef) != has(self.bootVolumeRef)", "message": "a server boots from exactly one of imageRef or bootVolumeRef"}]))]
pub struct ServerResource {
    /// Defaults to the object's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 255))]
    pub name: Option<String>,
    /// The Flavor (import one by name to use an existing flavor). Changing it
    /// resizes the server (resize, then confirm).
    pub flavor_ref: LocalReference,
    /// The Image to boot. Immutable: a new image needs a new Server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "imageRef is immutable: create a new Server to change the image"}]))]
    pub image_ref: Option<LocalReference>,
    /// Boot from this Volume instead of an image (it stays when the server
    /// goes). Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "bootVolumeRef is immutable"}]))]
    pub boot_volume_ref: Option<LocalReference>,
    /// More Volumes attached to the server. Attached and detached in place.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 16))]
    pub volume_refs: Option<Vec<LocalReference>>,
    /// Network attachments, in order. Immutable.
    #[schemars(length(min = 1, max = 16))]
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "networks are immutable"}]))]
    pub networks: Vec<ServerNetwork>,
    /// Security groups of the ports the cloud makes for `networkRef`
    /// attachments (a Port keeps its own). Updated in place.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 32))]
    pub security_group_refs: Option<Vec<LocalReference>>,
    /// Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "keyPairRef is immutable"}]))]
    pub key_pair_ref: Option<LocalReference>,
    /// Given to the server at boot. Immutable (the cloud cannot change it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "userData is immutable"}]))]
    pub user_data: Option<UserData>,
    /// Server metadata. Only the keys listed are managed. Updated in place.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<BTreeMap<String, String>>,
    /// Server tags (the list is managed as a whole). Updated in place.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 40), inner(length(min = 1, max = 60)))]
    pub tags: Option<Vec<String>>,
    /// Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 255))]
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "availabilityZone is immutable"}]))]
    pub availability_zone: Option<String>,
}

impl ServerResource {
    fn references(&self) -> Vec<Reference> {
        let mut refs = vec![Reference::to::<crate::Flavor>("resource.flavorRef", &self.flavor_ref.name)];
        if let Some(i) = &self.image_ref {
            refs.push(Reference::to::<crate::Image>("resource.imageRef", &i.name));
        }
        if let Some(v) = &self.boot_volume_ref {
            refs.push(Reference::to::<crate::Volume>("resource.bootVolumeRef", &v.name));
        }
        for v in self.volume_refs.iter().flatten() {
            refs.push(Reference::to::<crate::Volume>("resource.volumeRefs", &v.name));
        }
        for (i, n) in self.networks.iter().enumerate() {
            if let Some(r) = &n.network_ref {
                refs.push(Reference::to::<crate::Network>(format!("resource.networks[{i}].networkRef"), &r.name));
            }
            if let Some(r) = &n.port_ref {
                refs.push(Reference::to::<crate::Port>(format!("resource.networks[{i}].portRef"), &r.name));
            }
        }
        for r in self.security_group_refs.iter().flatten() {
            refs.push(Reference::to::<crate::SecurityGroup>("resource.securityGroupRefs", &r.name));
        }
        if let Some(k) = &self.key_pair_ref {
            refs.push(Reference::to::<crate::KeyPair>("resource.keyPairRef", &k.name));
        }
        refs
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServerFilter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}
