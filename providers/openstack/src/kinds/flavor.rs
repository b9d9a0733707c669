//! Flavor ⇄ Nova `/flavors`. Only the description can change; the ownership
//! marker is at its end. Creating needs admin credentials.

use async_trait::async_trait;
use reqwest::Method;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use terrane_api::{FlavorFilter, FlavorResource};
use terrane_provider::{Desired, Diff, ExternalKind, Freshness, ProviderError, ProviderResult};

use crate::CloudClient;
use crate::list_cache::cached_item;
use crate::marker::{self, strip_marker, with_marker};
use crate::rest::NOVA;

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RemoteFlavor {
    pub id: String,
    pub name: String,
    pub vcpus: i32,
    pub ram: i32,
    pub disk: i32,
    #[serde(default, alias = "OS-FLV-EXT-DATA:ephemeral")]
    pub ephemeral: i32,
    #[serde(default)]
    pub swap: i32,
    #[serde(default = "yes", alias = "os-flavor-access:is_public")]
    pub is_public: bool,
    #[serde(default)]
    pub description: Option<String>,
}

fn yes() -> bool {
    true
}

async fn list(c: &CloudClient) -> ProviderResult<Vec<RemoteFlavor>> {
    // is_public=None: private flavors the token may see too.
    let all = NOVA.get(c, "/flavors/detail?is_public=None").await?;
    NOVA.parse(all["flavors"].clone(), "flavors")
}

const FLAVORS: &str = "nova:flavors";

/// Every flavor the token sees, page by page, for drift checks.
async fn listing(c: &CloudClient) -> ProviderResult<Vec<(String, serde_json::Value)>> {
    NOVA.list_all(c, "/flavors/detail?is_public=None", "flavors", "/id").await
}

pub struct FlavorKind;

#[async_trait]
impl ExternalKind for FlavorKind {
    type Object = terrane_api::Flavor;
    type Cloud = CloudClient;
    type Resource = FlavorResource;
    type Filter = FlavorFilter;
    type Remote = RemoteFlavor;

    async fn get(&self, c: &CloudClient, id: &str, f: Freshness) -> ProviderResult<Option<RemoteFlavor>> {
        if let Some(v) = cached_item(c, f, FLAVORS, id, || listing(c)).await? {
            return NOVA.parse(v, "flavor").map(Some);
        }
        NOVA.get_opt(c, &format!("/flavors/{id}")).await?.map(|v| NOVA.parse(v["flavor"].clone(), "flavor")).transpose()
    }

    async fn find(&self, c: &CloudClient, f: &FlavorFilter) -> ProviderResult<Vec<RemoteFlavor>> {
        Ok(list(c).await?.into_iter().filter(|x| f.name.as_ref().is_none_or(|n| *n == x.name)).collect())
    }

    async fn find_owned(
        &self,
        c: &CloudClient,
        d: &Desired<'_, FlavorResource>,
        _: Freshness,
    ) -> ProviderResult<Vec<RemoteFlavor>> {
        Ok(list(c)
            .await?
            .into_iter()
            .filter(|x| x.description.as_deref().is_some_and(|t| marker::has_marker(t, d.uid)))
            .collect())
    }

    fn id(&self, r: &RemoteFlavor) -> String {
        r.id.clone()
    }

    fn diff(&self, d: &Desired<'_, FlavorResource>, r: &RemoteFlavor) -> Diff {
        let w = d.resource;
        let mut diff = Diff::default();
        diff.check_immutable("name", d.name(w.name.as_ref()).as_ref(), &r.name);
        diff.check_immutable("vcpus", Some(&w.vcpus), &r.vcpus);
        diff.check_immutable("ram", Some(&w.ram), &r.ram);
        diff.check_immutable("disk", Some(&w.disk), &r.disk);
        diff.check_immutable("ephemeral", w.ephemeral.as_ref(), &r.ephemeral);
        diff.check_immutable("swap", w.swap.as_ref(), &r.swap);
        diff.check_immutable("isPublic", w.is_public.as_ref(), &r.is_public);
        diff.check(
            "description",
            w.description.as_ref(),
            &strip_marker(r.description.as_deref().unwrap_or_default()).to_string(),
        );
        diff
    }

    async fn create(&self, c: &CloudClient, d: &Desired<'_, FlavorResource>) -> ProviderResult<String> {
        let w = d.resource;
        let body = json!({ "flavor": {
            "name": d.name(w.name.as_ref()).unwrap_or_else(|| d.default_name.to_string()),
            "vcpus": w.vcpus,
            "ram": w.ram,
            "disk": w.disk,
            "OS-FLV-EXT-DATA:ephemeral": w.ephemeral.unwrap_or(0),
            "swap": w.swap.unwrap_or(0),
            "os-flavor-access:is_public": w.is_public.unwrap_or(true),
            "description": with_marker(w.description.as_deref(), d.uid),
        }});
        match c.request(NOVA.service, Method::POST, "/flavors", Some(&body), NOVA.headers).await {
            Ok(answer) => NOVA.id_in(&answer.body, "/flavor/id", "flavor"),
            Err(e) if e.status() == Some(403) => Err(ProviderError::invalid(format!(
                "{e}; creating a flavor needs admin credentials: import an existing one (spec.import.filter.name) instead"
            ))),
            Err(e) => Err(e.into()),
        }
    }

    async fn update(
        &self,
        c: &CloudClient,
        d: &Desired<'_, FlavorResource>,
        r: &RemoteFlavor,
        _: &Diff,
    ) -> ProviderResult<()> {
        let Some(want) = d.resource.description.as_deref() else { return Ok(()) };
        let description = marker::for_update(want, r.description.as_deref().unwrap_or_default(), d.uid, d.imported);
        NOVA.put(c, &format!("/flavors/{}", r.id), &json!({ "flavor": { "description": description } })).await?;
        Ok(())
    }

    async fn delete(&self, c: &CloudClient, id: &str) -> ProviderResult<()> {
        NOVA.delete(c, &format!("/flavors/{id}")).await
    }
}
