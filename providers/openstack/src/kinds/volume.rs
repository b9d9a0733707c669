//! Volume ⇄ Cinder v3 `/volumes`. The ownership marker is the metadata key
//! `terrane-uid`, found with Cinder's metadata list filter. Name and
//! description change in place; a larger size extends the volume.

use std::collections::BTreeMap;

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use terrane_api::{VolumeFilter, VolumeResource};
use terrane_provider::{Desired, Diff, ExternalKind, Freshness, ProviderError, ProviderResult, Readiness};

use super::ImageKind;
use crate::CloudClient;
use crate::list_cache::cached_item;
use crate::query::{encode, put_opt};
use crate::rest::CINDER;

const OWNER_KEY: &str = "terrane-uid";

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RemoteVolume {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    pub status: String,
    pub size: i32,
    #[serde(default, alias = "volume_type")]
    pub volume_type: Option<String>,
    #[serde(default, alias = "availability_zone")]
    pub availability_zone: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    #[serde(default, alias = "volume_image_metadata")]
    pub volume_image_metadata: Option<BTreeMap<String, String>>,
    /// Cinder says `"true"` or `"false"`.
    #[serde(default)]
    pub bootable: String,
}

async fn list(c: &CloudClient, query: &str) -> ProviderResult<Vec<RemoteVolume>> {
    let all = CINDER.get(c, &format!("/volumes/detail{query}")).await?;
    CINDER.parse(all["volumes"].clone(), "volumes")
}

const VOLUMES: &str = "cinder:volumes";

/// Every volume of the project, page by page, for drift checks.
async fn listing(c: &CloudClient) -> ProviderResult<Vec<(String, serde_json::Value)>> {
    CINDER.list_all(c, "/volumes/detail", "volumes", "/id").await
}

pub struct VolumeKind;

#[async_trait]
impl ExternalKind for VolumeKind {
    type Object = terrane_api::Volume;
    type Cloud = CloudClient;
    type Resource = VolumeResource;
    type Filter = VolumeFilter;
    type Remote = RemoteVolume;

    async fn get(&self, c: &CloudClient, id: &str, f: Freshness) -> ProviderResult<Option<RemoteVolume>> {
        if let Some(v) = cached_item(c, f, VOLUMES, id, || listing(c)).await? {
            return CINDER.parse(v, "volume").map(Some);
        }
        CINDER
            .get_opt(c, &format!("/volumes/{id}"))
            .await?
            .map(|v| CINDER.parse(v["volume"].clone(), "volume"))
            .transpose()
    }

    async fn find(&self, c: &CloudClient, f: &VolumeFilter) -> ProviderResult<Vec<RemoteVolume>> {
        let q = f.name.as_ref().map(|n| format!("?name={}", encode(n))).unwrap_or_default();
        Ok(list(c, &q).await?.into_iter().filter(|v| f.name.is_none() || v.name == f.name).collect())
    }

    async fn find_owned(
        &self,
        c: &CloudClient,
        d: &Desired<'_, VolumeResource>,
        _: Freshness,
    ) -> ProviderResult<Vec<RemoteVolume>> {
        let filter = json!({ OWNER_KEY: d.uid }).to_string();
        let found = list(c, &format!("?metadata={}", encode(&filter))).await?;
        Ok(found
            .into_iter()
            .filter(|v| !d.uid.is_empty() && v.metadata.get(OWNER_KEY).map(String::as_str) == Some(d.uid))
            .collect())
    }

    fn id(&self, r: &RemoteVolume) -> String {
        r.id.clone()
    }

    fn diff(&self, d: &Desired<'_, VolumeResource>, r: &RemoteVolume) -> Diff {
        let w = d.resource;
        let mut diff = Diff::default();
        diff.check_immutable("volumeType", w.volume_type.clone().map(Some).as_ref(), &r.volume_type);
        diff.check_immutable("availabilityZone", w.availability_zone.clone().map(Some).as_ref(), &r.availability_zone);
        if !matches!(r.status.as_str(), "available" | "in-use") {
            // Busy or broken: nothing can change now; readiness says why.
            return diff;
        }
        if w.size < r.size {
            diff.check_immutable("size", Some(&w.size), &r.size);
        } else {
            diff.check("size", Some(&w.size), &r.size);
        }
        diff.check("name", d.name(w.name.as_ref()).map(Some).as_ref(), &r.name);
        diff.check("description", w.description.clone().map(Some).as_ref(), &r.description);
        diff.check("bootable", w.bootable.as_ref(), &(r.bootable == "true"));
        diff
    }

    fn readiness(&self, r: &RemoteVolume) -> Readiness {
        match r.status.as_str() {
            "available" | "in-use" => Readiness::Ready,
            s if s.starts_with("error") => {
                Readiness::Failed(format!("volume {} is {s} in the cloud; delete and recreate it", r.id))
            }
            s => Readiness::Pending(format!("volume {} is {s}", r.id)),
        }
    }

    async fn create(&self, c: &CloudClient, d: &Desired<'_, VolumeResource>) -> ProviderResult<String> {
        let w = d.resource;
        let mut body = json!({
            "name": d.name(w.name.as_ref()).unwrap_or_else(|| d.default_name.to_string()),
            "size": w.size,
            "metadata": { OWNER_KEY: d.uid },
        });
        put_opt(&mut body, "description", w.description.as_deref());
        put_opt(&mut body, "volume_type", w.volume_type.as_deref());
        put_opt(&mut body, "availability_zone", w.availability_zone.as_deref());
        if let Some(image) = &w.image_ref {
            body["imageRef"] = json!(d.refs.id::<ImageKind>(&image.name)?);
        }
        let answer = CINDER.post(c, "/volumes", &json!({ "volume": body })).await?;
        CINDER.id_in(&answer, "/volume/id", "volume")
    }

    async fn update(
        &self,
        c: &CloudClient,
        d: &Desired<'_, VolumeResource>,
        r: &RemoteVolume,
        diff: &Diff,
    ) -> ProviderResult<()> {
        let w = d.resource;
        if diff.mutable.iter().any(|f| f.field == "name" || f.field == "description") {
            let mut body = json!({});
            put_opt(&mut body, "name", d.name(w.name.as_ref()));
            put_opt(&mut body, "description", w.description.as_deref());
            CINDER.put(c, &format!("/volumes/{}", r.id), &json!({ "volume": body })).await?;
        }
        if let Some(bootable) = w.bootable.filter(|b| *b != (r.bootable == "true")) {
            CINDER
                .post(c, &format!("/volumes/{}/action", r.id), &json!({ "os-set_bootable": { "bootable": bootable } }))
                .await?;
        }
        if w.size > r.size {
            CINDER
                .post(c, &format!("/volumes/{}/action", r.id), &json!({ "os-extend": { "new_size": w.size } }))
                .await?;
        }
        Ok(())
    }

    /// Cinder refuses to delete a volume that is attached or busy: an
    /// attached one is a transient error saying so (it goes once detached),
    /// a busy one is simply asked again on the next poll.
    async fn delete(&self, c: &CloudClient, id: &str) -> ProviderResult<()> {
        let Some(v) = self.get(c, id, Freshness::Fresh).await? else { return Ok(()) };
        match v.status.as_str() {
            "in-use" | "attaching" | "detaching" | "reserved" => Err(ProviderError::Transient(format!(
                "volume {id} is {} (attached to a server); it is deleted once detached",
                v.status
            ))),
            "creating" | "extending" | "downloading" | "deleting" | "uploading" => Ok(()),
            _ => CINDER.delete(c, &format!("/volumes/{id}")).await,
        }
    }
}
