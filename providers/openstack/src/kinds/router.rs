//! Router ⇄ Neutron `/v2.0/routers`.

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use terrane_api::{RouterFilter, RouterResource};
use terrane_provider::{Desired, Diff, ExternalKind, Freshness, ProviderResult, Readiness};

use super::NetworkKind;
use crate::CloudClient;
use crate::marker::{self, with_marker};
use crate::neutron::{Collection, check_name_and_description, put_opt, put_pair, readiness};

const ROUTERS: Collection = Collection { plural: "routers", singular: "router" };

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RemoteRouter {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub status: String,
    #[serde(default, alias = "admin_state_up")]
    pub admin_state_up: bool,
    #[serde(default, alias = "external_gateway_info")]
    pub external_gateway_info: Option<GatewayInfo>,
    #[serde(default, alias = "project_id")]
    pub project_id: String,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GatewayInfo {
    #[serde(alias = "network_id")]
    pub network_id: String,
    #[serde(default, alias = "enable_snat")]
    pub enable_snat: Option<bool>,
    #[serde(default, alias = "external_fixed_ips")]
    pub external_fixed_ips: Vec<Value>,
}

pub struct RouterKind;

fn gateway(d: &Desired<'_, RouterResource>) -> ProviderResult<Value> {
    let mut info = json!({});
    if let Some(g) = &d.resource.external_gateway {
        info["network_id"] = json!(d.refs.id::<NetworkKind>(&g.network_ref.name)?);
        put_opt(&mut info, "enable_snat", g.enable_snat);
    }
    Ok(info)
}

fn body(d: &Desired<'_, RouterResource>, description: Option<String>) -> ProviderResult<Value> {
    let mut body = json!({});
    put_opt(&mut body, "name", d.name(d.resource.name.as_ref()));
    put_opt(&mut body, "description", description);
    put_opt(&mut body, "admin_state_up", d.resource.admin_state_up);
    if d.resource.external_gateway.is_some() {
        body["external_gateway_info"] = gateway(d)?;
    }
    Ok(body)
}

#[async_trait]
impl ExternalKind for RouterKind {
    type Object = terrane_api::Router;
    type Cloud = CloudClient;
    type Resource = RouterResource;
    type Filter = RouterFilter;
    type Remote = RemoteRouter;

    async fn get(&self, c: &CloudClient, id: &str, freshness: Freshness) -> ProviderResult<Option<RemoteRouter>> {
        ROUTERS.get_with(c, id, freshness).await
    }

    async fn find(&self, c: &CloudClient, f: &RouterFilter) -> ProviderResult<Vec<RemoteRouter>> {
        let mut q = Vec::new();
        put_pair(&mut q, "name", f.name.as_deref());
        ROUTERS.list_visible(c, &q).await
    }

    async fn find_owned(
        &self,
        c: &CloudClient,
        d: &Desired<'_, RouterResource>,
        freshness: Freshness,
    ) -> ProviderResult<Vec<RemoteRouter>> {
        ROUTERS.find_owned(c, d.uid, freshness).await
    }

    fn id(&self, r: &RemoteRouter) -> String {
        r.id.clone()
    }

    fn diff(&self, d: &Desired<'_, RouterResource>, r: &RemoteRouter) -> Diff {
        let want = d.resource;
        let mut diff = Diff::default();
        check_name_and_description(
            &mut diff,
            d,
            want.name.as_ref(),
            want.description.as_ref(),
            &r.name,
            &r.description,
        );
        diff.check("adminStateUp", want.admin_state_up.as_ref(), &r.admin_state_up);
        let cloud_gw = r.external_gateway_info.as_ref().map(|g| g.network_id.clone());
        match &want.external_gateway {
            Some(g) => {
                if let Ok(net) = d.refs.id::<NetworkKind>(&g.network_ref.name) {
                    diff.check("externalGateway.networkRef", Some(&Some(net.to_string())), &cloud_gw);
                }
                let snat = r.external_gateway_info.as_ref().and_then(|g| g.enable_snat);
                diff.check("externalGateway.enableSnat", g.enable_snat.map(Some).as_ref(), &snat);
            }
            None if !d.imported => diff.check("externalGateway", Some(&None), &cloud_gw),
            None => {}
        }
        diff
    }

    fn readiness(&self, r: &RemoteRouter) -> Readiness {
        readiness("router", &r.id, &r.status)
    }

    async fn create(&self, c: &CloudClient, d: &Desired<'_, RouterResource>) -> ProviderResult<String> {
        ROUTERS.create(c, body(d, Some(with_marker(d.resource.description.as_deref(), d.uid)))?).await
    }

    async fn update(
        &self,
        c: &CloudClient,
        d: &Desired<'_, RouterResource>,
        r: &RemoteRouter,
        _: &Diff,
    ) -> ProviderResult<()> {
        let description =
            d.resource.description.as_deref().map(|want| marker::for_update(want, &r.description, d.uid, d.imported));
        let mut body = body(d, description)?;
        if d.resource.external_gateway.is_none() && !d.imported && r.external_gateway_info.is_some() {
            body["external_gateway_info"] = json!({});
        }
        ROUTERS.update(c, &r.id, body).await
    }

    async fn delete(&self, c: &CloudClient, id: &str) -> ProviderResult<()> {
        ROUTERS.delete(c, id).await
    }
}
