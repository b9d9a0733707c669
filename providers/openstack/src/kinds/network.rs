//! Network ⇄ Neutron `/v2.0/networks`.

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use terrane_api::{NetworkFilter, NetworkResource};
use terrane_provider::{Desired, Diff, ExternalKind, Freshness, ProviderResult, Readiness};

use crate::CloudClient;
use crate::marker::{self, with_marker};
use crate::neutron::{Collection, check_name_and_description, put_opt, put_pair, readiness};

const NETWORKS: Collection = Collection { plural: "networks", singular: "network" };

/// A Neutron network as observed.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RemoteNetwork {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub status: String,
    #[serde(default, alias = "admin_state_up")]
    pub admin_state_up: bool,
    #[serde(default)]
    pub mtu: Option<i32>,
    #[serde(default, alias = "port_security_enabled")]
    pub port_security_enabled: Option<bool>,
    #[serde(default)]
    pub shared: bool,
    #[serde(default, alias = "router:external")]
    pub external: bool,
    #[serde(default)]
    pub subnets: Vec<String>,
    #[serde(default, alias = "project_id")]
    pub project_id: String,
}

pub struct NetworkKind;

fn body(d: &Desired<'_, NetworkResource>, description: Option<String>) -> Value {
    let r = d.resource;
    let mut body = json!({});
    put_opt(&mut body, "name", d.name(r.name.as_ref()));
    put_opt(&mut body, "description", description);
    put_opt(&mut body, "admin_state_up", r.admin_state_up);
    put_opt(&mut body, "mtu", r.mtu);
    put_opt(&mut body, "port_security_enabled", r.port_security_enabled);
    put_opt(&mut body, "shared", r.shared);
    put_opt(&mut body, "router:external", r.external);
    body
}

#[async_trait]
impl ExternalKind for NetworkKind {
    type Object = terrane_api::Network;
    type Cloud = CloudClient;
    type Resource = NetworkResource;
    type Filter = NetworkFilter;
    type Remote = RemoteNetwork;

    async fn get(&self, c: &CloudClient, id: &str, freshness: Freshness) -> ProviderResult<Option<RemoteNetwork>> {
        NETWORKS.get_with(c, id, freshness).await
    }

    async fn find(&self, c: &CloudClient, f: &NetworkFilter) -> ProviderResult<Vec<RemoteNetwork>> {
        let external = f.external.map(|e| e.to_string());
        let mut q: Vec<(&str, &str)> = Vec::new();
        put_pair(&mut q, "name", f.name.as_deref());
        put_pair(&mut q, "router:external", external.as_deref());
        NETWORKS.list_visible(c, &q).await
    }

    async fn find_owned(
        &self,
        c: &CloudClient,
        d: &Desired<'_, NetworkResource>,
        freshness: Freshness,
    ) -> ProviderResult<Vec<RemoteNetwork>> {
        NETWORKS.find_owned(c, d.uid, freshness).await
    }

    fn id(&self, r: &RemoteNetwork) -> String {
        r.id.clone()
    }

    fn diff(&self, d: &Desired<'_, NetworkResource>, r: &RemoteNetwork) -> Diff {
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
        diff.check("mtu", want.mtu.map(Some).as_ref(), &r.mtu);
        diff.check("portSecurityEnabled", want.port_security_enabled.map(Some).as_ref(), &r.port_security_enabled);
        diff.check("shared", want.shared.as_ref(), &r.shared);
        diff.check("external", want.external.as_ref(), &r.external);
        diff
    }

    fn readiness(&self, r: &RemoteNetwork) -> Readiness {
        readiness("network", &r.id, &r.status)
    }

    async fn create(&self, c: &CloudClient, d: &Desired<'_, NetworkResource>) -> ProviderResult<String> {
        NETWORKS.create(c, body(d, Some(with_marker(d.resource.description.as_deref(), d.uid)))).await
    }

    async fn update(
        &self,
        c: &CloudClient,
        d: &Desired<'_, NetworkResource>,
        r: &RemoteNetwork,
        _: &Diff,
    ) -> ProviderResult<()> {
        let description =
            d.resource.description.as_deref().map(|want| marker::for_update(want, &r.description, d.uid, d.imported));
        NETWORKS.update(c, &r.id, body(d, description)).await
    }

    async fn delete(&self, c: &CloudClient, id: &str) -> ProviderResult<()> {
        NETWORKS.delete(c, id).await
    }
}
