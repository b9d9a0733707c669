//! `Volume`: a block storage volume.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::{LocalReference, ResourceStatus};
use crate::managed::Reference;

crate::managed_kind! {
    /// A block storage volume. Needs the cloud's block storage service; a
    /// cloud without one gets a terminal condition saying so.
    kind: Volume "Volume", spec: VolumeSpec, short: "tvol",
    resource: VolumeResource, filter: VolumeFilter,
    columns: [r#"{"name":"Size","type":"integer","jsonPath":".spec.resource.size"}"#],
    references: |v| v
        .spec
        .resource
        .iter()
        .filter_map(|r| r.image_ref.as_ref())
        .map(|i| Reference::to::<crate::Image>("resource.imageRef", &i.name))
        .collect()
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {"rule": "has(self.volumeType) == has(oldSelf.volumeType)", "message": "volumeType is immutable: it cannot be added or removed once set (or left out)"},
    {"rule": "has(self.imageRef) == has(oldSelf.imageRef)", "message": "imageRef is immutable: it cannot be added or removed once set (or left out)"},
    {"rule": "has(self.availabilityZone) == has(oldSelf.availabilityZone)", "message": "availabilityZone is immutable: it cannot be added or removed once set (or left out)"}
]))]
pub struct VolumeResource {
    /// Defaults to the object's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 255))]
    pub name: Option<String>,
    /// GiB. Can grow (the volume is extended), never shrink.
    #[schemars(range(min = 1))]
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self >= oldSelf", "message": "size cannot shrink"}]))]
    pub size: i32,
    /// Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 255))]
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "volumeType is immutable"}]))]
    pub volume_type: Option<String>,
    /// Fill the volume from this Image. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "imageRef is immutable"}]))]
    pub image_ref: Option<LocalReference>,
    /// Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 255))]
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "availabilityZone is immutable"}]))]
    pub availability_zone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 255))]
    pub description: Option<String>,
    /// Whether a server may boot from it (a volume filled from an image is).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bootable: Option<bool>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct VolumeFilter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}
