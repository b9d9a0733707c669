//! Zone ⇄ Designate `/v2/zones`. Creates and deletes are asynchronous: the
//! zone is PENDING until the DNS servers have it.

use async_trait::async_trait;
use reqwest::Method;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use terrane_api::{ZoneFilter, ZoneResource};
use terrane_provider::{Desired, Diff, ExternalKind, Freshness, ProviderError, ProviderResult, Readiness};

use crate::CloudClient;
use crate::client::Service;
use crate::designate::{Collection, readiness};
use crate::marker::{self, strip_marker, with_marker};
use crate::query::put_opt;

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RemoteZone {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub ttl: Option<i32>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub serial: Option<i64>,
}

const ZONES: Collection = Collection { path: "/v2/zones", key: "zones" };

pub struct ZoneKind;

#[async_trait]
impl ExternalKind for ZoneKind {
    type Object = terrane_api::Zone;
    type Cloud = CloudClient;
    type Resource = ZoneResource;
    type Filter = ZoneFilter;
    type Remote = RemoteZone;

    async fn get(&self, c: &CloudClient, id: &str, freshness: Freshness) -> ProviderResult<Option<RemoteZone>> {
        ZONES.get_with(c, id, freshness).await
    }

    async fn find(&self, c: &CloudClient, f: &ZoneFilter) -> ProviderResult<Vec<RemoteZone>> {
        let mut q = Vec::new();
        crate::query::put_pair(&mut q, "name", f.name.as_deref());
        ZONES.list(c, &q).await
    }

    async fn find_owned(
        &self,
        c: &CloudClient,
        d: &Desired<'_, ZoneResource>,
        freshness: Freshness,
    ) -> ProviderResult<Vec<RemoteZone>> {
        ZONES.find_owned(c, d.uid, freshness).await
    }

    fn id(&self, r: &RemoteZone) -> String {
        r.id.clone()
    }

    fn diff(&self, d: &Desired<'_, ZoneResource>, r: &RemoteZone) -> Diff {
        let want = d.resource;
        let mut diff = Diff::default();
        diff.check_immutable("name", Some(&want.name), &r.name);
        diff.check("email", Some(&want.email), &r.email);
        diff.check("ttl", want.ttl.map(Some).as_ref(), &r.ttl);
        diff.check(
            "description",
            want.description.as_ref(),
            &strip_marker(r.description.as_deref().unwrap_or_default()).to_string(),
        );
        diff
    }

    fn readiness(&self, r: &RemoteZone) -> Readiness {
        readiness("zone", &r.name, &r.status, &r.action)
    }

    async fn create(&self, c: &CloudClient, d: &Desired<'_, ZoneResource>) -> ProviderResult<String> {
        let r = d.resource;
        let mut body = json!({ "name": r.name, "email": r.email, "type": "PRIMARY", "description": with_marker(r.description.as_deref(), d.uid) });
        put_opt(&mut body, "ttl", r.ttl);
        let answer = c.post(Service::Dns, "/v2/zones", &body).await?;
        answer.body["id"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| ProviderError::Transient("Designate created a zone but returned no id".into()))
    }

    async fn update(
        &self,
        c: &CloudClient,
        d: &Desired<'_, ZoneResource>,
        r: &RemoteZone,
        _: &Diff,
    ) -> ProviderResult<()> {
        let mut body = json!({ "email": d.resource.email });
        put_opt(&mut body, "ttl", d.resource.ttl);
        let current = r.description.as_deref().unwrap_or_default();
        put_opt(
            &mut body,
            "description",
            d.resource.description.as_deref().map(|want| marker::for_update(want, current, d.uid, d.imported)),
        );
        c.request(Service::Dns, Method::PATCH, &format!("/v2/zones/{}", r.id), Some(&body), &[]).await?;
        Ok(())
    }

    async fn delete(&self, c: &CloudClient, id: &str) -> ProviderResult<()> {
        match self.get(c, id, Freshness::Fresh).await? {
            Some(z) if z.action != "DELETE" => Ok(c.delete(Service::Dns, &format!("/v2/zones/{id}")).await?),
            _ => Ok(()),
        }
    }
}
