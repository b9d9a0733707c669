//! Image ⇄ Glance `/v2/images`. A create makes a queued image carrying the
//! ownership marker as the property `terrane_uid`, then asks Glance to fill it
//! from the URL (web-download import); a queued image found later is
//! imported again. Changes go as a JSON patch.

use std::collections::BTreeMap;

use async_trait::async_trait;
use reqwest::Method;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use terrane_api::{ImageFilter, ImageResource};
use terrane_provider::{Desired, Diff, ExternalKind, Freshness, ProviderResult, Readiness};

use crate::CloudClient;
use crate::list_cache::cached_item;
use crate::query::{put_opt, put_pair, query, sorted};
use crate::rest::GLANCE;

/// The property holding the ownership marker.
pub const OWNER_PROPERTY: &str = "terrane_uid";
/// The property recording where the data came from.
pub const SOURCE_PROPERTY: &str = "terrane_source_url";
const PATCH_TYPE: (&str, &str) = ("Content-Type", "application/openstack-images-v2.1-json-patch");

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RemoteImage {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    pub status: String,
    #[serde(default, alias = "disk_format")]
    pub disk_format: Option<String>,
    #[serde(default, alias = "container_format")]
    pub container_format: Option<String>,
    #[serde(default)]
    pub visibility: String,
    #[serde(default, alias = "min_disk")]
    pub min_disk: i32,
    #[serde(default, alias = "min_ram")]
    pub min_ram: i32,
    #[serde(default)]
    pub size: Option<i64>,
    #[serde(default)]
    pub tags: Vec<String>,
    /// Every other string field: the image's properties.
    #[serde(flatten)]
    pub properties: BTreeMap<String, Value>,
}

impl RemoteImage {
    fn property(&self, key: &str) -> Option<&str> {
        self.properties.get(key).and_then(Value::as_str)
    }
}

fn lower<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

/// Every image of the token's project matching `filters`, following Glance's pages.
async fn list(c: &CloudClient, filters: &[(&str, &str)]) -> ProviderResult<Vec<RemoteImage>> {
    let mut out = Vec::new();
    let mut path = format!("/v2/images{}", query(filters));
    loop {
        let page = GLANCE.get(c, &path).await?;
        out.extend(GLANCE.parse::<Vec<RemoteImage>>(page["images"].clone(), "images")?);
        match page["next"].as_str() {
            Some(next) if out.len() < 10_000 => path = next.to_string(),
            _ => return Ok(out),
        }
    }
}

async fn start_import(c: &CloudClient, id: &str, url: &str) -> ProviderResult<()> {
    GLANCE
        .post(c, &format!("/v2/images/{id}/import"), &json!({ "method": { "name": "web-download", "uri": url } }))
        .await?;
    Ok(())
}

const IMAGES: &str = "glance:images";

/// Every image the token sees, page by page, for drift checks.
async fn listing(c: &CloudClient) -> ProviderResult<Vec<(String, serde_json::Value)>> {
    GLANCE.list_all(c, "/v2/images", "images", "/id").await
}

pub struct ImageKind;

#[async_trait]
impl ExternalKind for ImageKind {
    type Object = terrane_api::Image;
    type Cloud = CloudClient;
    type Resource = ImageResource;
    type Filter = ImageFilter;
    type Remote = RemoteImage;

    async fn get(&self, c: &CloudClient, id: &str, f: Freshness) -> ProviderResult<Option<RemoteImage>> {
        if let Some(v) = cached_item(c, f, IMAGES, id, || listing(c)).await? {
            return GLANCE.parse(v, "image").map(Some);
        }
        GLANCE.get_opt(c, &format!("/v2/images/{id}")).await?.map(|v| GLANCE.parse(v, "image")).transpose()
    }

    async fn find(&self, c: &CloudClient, f: &ImageFilter) -> ProviderResult<Vec<RemoteImage>> {
        let visibility = f.visibility.as_ref().map(lower);
        let mut q = Vec::new();
        put_pair(&mut q, "name", f.name.as_deref());
        put_pair(&mut q, "visibility", visibility.as_deref());
        list(c, &q).await
    }

    async fn find_owned(
        &self,
        c: &CloudClient,
        d: &Desired<'_, ImageResource>,
        _: Freshness,
    ) -> ProviderResult<Vec<RemoteImage>> {
        let project = c.project_id().await.map_err(terrane_provider::ProviderError::from)?.unwrap_or_default();
        let mine = list(c, &[("owner", &project)]).await?;
        Ok(mine.into_iter().filter(|i| !d.uid.is_empty() && i.property(OWNER_PROPERTY) == Some(d.uid)).collect())
    }

    fn id(&self, r: &RemoteImage) -> String {
        r.id.clone()
    }

    fn diff(&self, d: &Desired<'_, ImageResource>, r: &RemoteImage) -> Diff {
        let w = d.resource;
        let mut diff = Diff::default();
        diff.check_immutable("diskFormat", Some(&Some(lower(&w.disk_format))), &r.disk_format);
        diff.check_immutable("containerFormat", w.container_format.clone().map(Some).as_ref(), &r.container_format);
        if let Some(source) = r.property(SOURCE_PROPERTY) {
            diff.check_immutable("source.url", Some(&w.source.url.as_str()), &source);
        }
        diff.check("name", d.name(w.name.as_ref()).map(Some).as_ref(), &r.name);
        diff.check("visibility", w.visibility.as_ref().map(lower).as_ref(), &r.visibility);
        diff.check("minDisk", w.min_disk.as_ref(), &r.min_disk);
        diff.check("minRam", w.min_ram.as_ref(), &r.min_ram);
        diff.check("tags", w.tags.as_deref().map(sorted).as_ref(), &sorted(&r.tags));
        for (k, v) in w.properties.iter().flatten() {
            diff.check(&format!("properties.{k}"), Some(&Some(v.as_str())), &r.property(k));
        }
        if r.status == "queued" && !d.imported && r.property("os_glance_failed_import").unwrap_or_default().is_empty() {
            diff.mutable.push(terrane_provider::FieldDiff {
                field: "data".into(),
                cloud: "none (queued)".into(),
                desired: w.source.url.clone(),
            });
        }
        diff
    }

    fn readiness(&self, r: &RemoteImage) -> Readiness {
        let name = r.name.as_deref().unwrap_or(&r.id);
        match r.status.as_str() {
            "active" => Readiness::Ready,
            "killed" | "deleted" | "pending_delete" | "deactivated" => {
                Readiness::Failed(format!("image {name} is {}", r.status))
            }
            "queued" if r.property("os_glance_failed_import").is_some_and(|s| !s.is_empty()) => {
                Readiness::Failed(format!(
                    "Glance could not import image {name} from {}; check that the cloud can download the URL",
                    r.property(SOURCE_PROPERTY).unwrap_or("its source URL")
                ))
            }
            other => Readiness::Pending(format!("image {name} is {other}")),
        }
    }

    async fn create(&self, c: &CloudClient, d: &Desired<'_, ImageResource>) -> ProviderResult<String> {
        let w = d.resource;
        let mut body = json!({
            "name": d.name(w.name.as_ref()).unwrap_or_else(|| d.default_name.to_string()),
            "disk_format": lower(&w.disk_format),
            "container_format": w.container_format.as_deref().unwrap_or("bare"),
            OWNER_PROPERTY: d.uid,
            SOURCE_PROPERTY: w.source.url,
        });
        put_opt(&mut body, "visibility", w.visibility.as_ref().map(lower));
        put_opt(&mut body, "min_disk", w.min_disk);
        put_opt(&mut body, "min_ram", w.min_ram);
        put_opt(&mut body, "tags", w.tags.clone());
        for (k, v) in w.properties.iter().flatten() {
            body[k] = json!(v);
        }
        let answer = GLANCE.post(c, "/v2/images", &body).await?;
        let id = GLANCE.id_in(&answer, "/id", "image")?;
        // The image exists now: a failed import start is retried by `update` (the image stays queued).
        if let Err(e) = start_import(c, &id, &w.source.url).await {
            tracing::warn!(%id, error = %e, "starting the image import failed; will retry");
        }
        Ok(id)
    }

    async fn update(
        &self,
        c: &CloudClient,
        d: &Desired<'_, ImageResource>,
        r: &RemoteImage,
        diff: &Diff,
    ) -> ProviderResult<()> {
        let w = d.resource;
        let mut ops = Vec::new();
        let mut set = |path: String, value: Value, exists: bool| {
            ops.push(json!({ "op": if exists { "replace" } else { "add" }, "path": path, "value": value }))
        };
        for f in &diff.mutable {
            match f.field.as_str() {
                "name" => set("/name".into(), json!(d.name(w.name.as_ref())), true),
                "visibility" => set("/visibility".into(), json!(w.visibility.as_ref().map(lower)), true),
                "minDisk" => set("/min_disk".into(), json!(w.min_disk), true),
                "minRam" => set("/min_ram".into(), json!(w.min_ram), true),
                "tags" => set("/tags".into(), json!(w.tags), true),
                field => {
                    if let Some(key) = field.strip_prefix("properties.") {
                        let value = w.properties.as_ref().and_then(|p| p.get(key));
                        set(format!("/{key}"), json!(value), r.properties.contains_key(key));
                    }
                }
            }
        }
        if !ops.is_empty() {
            GLANCE.call(c, Method::PATCH, &format!("/v2/images/{}", r.id), Some(&json!(ops)), &[PATCH_TYPE]).await?;
        }
        if diff.mutable.iter().any(|f| f.field == "data") {
            start_import(c, &r.id, &w.source.url).await?;
        }
        Ok(())
    }

    async fn delete(&self, c: &CloudClient, id: &str) -> ProviderResult<()> {
        GLANCE.delete(c, &format!("/v2/images/{id}")).await
    }
}
