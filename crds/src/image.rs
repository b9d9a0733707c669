//! `Image`: a Glance image, imported from a URL the cloud can reach.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::ResourceStatus;

crate::managed_kind! {
    /// A disk image. Created images are filled by the cloud itself from
    /// `source.url` (Glance's web-download import).
    kind: Image "Image", spec: ImageSpec, short: "timage",
    resource: ImageResource, filter: ImageFilter,
    columns: [
        r#"{"name":"Image","type":"string","jsonPath":".status.resource.name"}"#,
        r#"{"name":"Status","type":"string","jsonPath":".status.resource.status"}"#
    ],
    references: |_i| Vec::new()
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DiskFormat {
    Raw,
    Qcow2,
    Vmdk,
    Vdi,
    Vhd,
    Vhdx,
    Iso,
    Ploop,
    Ami,
    Aki,
    Ari,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ImageVisibility {
    Private,
    Shared,
    Community,
    Public,
}

/// Where the image's data comes from.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImageSource {
    /// An http(s) URL the cloud's image service can download.
    #[schemars(length(min = 8, max = 2048))]
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self.startsWith('http://') || self.startsWith('https://')", "message": "url must be http:// or https://"}]))]
    pub url: String,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {"rule": "has(self.containerFormat) == has(oldSelf.containerFormat)", "message": "containerFormat is immutable: it cannot be added or removed once set (or left out)"}
]))]
pub struct ImageResource {
    /// Defaults to the object's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 255))]
    pub name: Option<String>,
    /// Immutable: the data is downloaded once.
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "source is immutable: create another Image"}]))]
    pub source: ImageSource,
    /// Immutable.
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "diskFormat is immutable"}]))]
    pub disk_format: DiskFormat,
    /// `bare` unless the image is wrapped (`ovf`, `ova`, `docker`...). Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 32))]
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "containerFormat is immutable"}]))]
    pub container_format: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visibility: Option<ImageVisibility>,
    /// GiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub min_disk: Option<i32>,
    /// MiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub min_ram: Option<i32>,
    /// Extra image properties (`os_distro`, `hw_disk_bus`...). Only the keys
    /// listed are managed; others in the cloud are left alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 64), inner(length(min = 1, max = 255)))]
    pub tags: Option<Vec<String>>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImageFilter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visibility: Option<ImageVisibility>,
}
