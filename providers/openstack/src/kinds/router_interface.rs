//! RouterInterface ⇄ a router port on a subnet
//! (`PUT /v2.0/routers/{id}/add_router_interface` / `remove_router_interface`).
//!
//! Neutron makes the port; it cannot carry a marker, but the pair (router,
//! subnet) names it uniquely, so adoption finds it by that pair. Its ID is
//! the port's ID.

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use terrane_api::{NoFilter, RouterInterfaceResource};
use terrane_provider::{Desired, Diff, ExternalKind, Freshness, ProviderError, ProviderResult};

use super::{RouterKind, SubnetKind};
use crate::CloudClient;
use crate::client::Service;
use crate::neutron::Collection;

const PORTS: Collection = Collection { plural: "ports", singular: "port" };

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RemoteRouterInterface {
    /// The router port's ID.
    pub id: String,
    pub router_id: String,
    pub subnet_id: String,
    pub ip_address: String,
}

#[derive(Deserialize)]
struct Port {
    id: String,
    device_id: String,
    device_owner: String,
    #[serde(default)]
    fixed_ips: Vec<FixedIp>,
}

#[derive(Deserialize)]
struct FixedIp {
    subnet_id: String,
    ip_address: String,
}

fn from_port(p: Port) -> Option<RemoteRouterInterface> {
    if !p.device_owner.starts_with("network:router_interface") {
        return None;
    }
    let ip = p.fixed_ips.into_iter().next()?;
    Some(RemoteRouterInterface { id: p.id, router_id: p.device_id, subnet_id: ip.subnet_id, ip_address: ip.ip_address })
}

pub struct RouterInterfaceKind;

fn ids<'a>(d: &'a Desired<'_, RouterInterfaceResource>) -> ProviderResult<(&'a str, &'a str)> {
    Ok((d.refs.id::<RouterKind>(&d.resource.router_ref.name)?, d.refs.id::<SubnetKind>(&d.resource.subnet_ref.name)?))
}

#[async_trait]
impl ExternalKind for RouterInterfaceKind {
    type Object = terrane_api::RouterInterface;
    type Cloud = CloudClient;
    type Resource = RouterInterfaceResource;
    type Filter = NoFilter;
    type Remote = RemoteRouterInterface;

    async fn get(&self, c: &CloudClient, id: &str, f: Freshness) -> ProviderResult<Option<RemoteRouterInterface>> {
        Ok(PORTS.get_with::<Port>(c, id, f).await?.and_then(from_port))
    }

    async fn find(&self, _: &CloudClient, _: &NoFilter) -> ProviderResult<Vec<RemoteRouterInterface>> {
        Ok(Vec::new())
    }

    async fn find_owned(
        &self,
        c: &CloudClient,
        d: &Desired<'_, RouterInterfaceResource>,
        _: Freshness,
    ) -> ProviderResult<Vec<RemoteRouterInterface>> {
        let (router, subnet) = ids(d)?;
        let ports: Vec<Port> = PORTS.list_visible(c, &[("device_id", router)]).await?;
        Ok(ports.into_iter().filter_map(from_port).filter(|i| i.subnet_id == subnet).collect())
    }

    fn id(&self, r: &RemoteRouterInterface) -> String {
        r.id.clone()
    }

    fn diff(&self, d: &Desired<'_, RouterInterfaceResource>, r: &RemoteRouterInterface) -> Diff {
        let mut diff = Diff::default();
        if let Ok((router, subnet)) = ids(d) {
            diff.check_immutable("routerRef", Some(&router.to_string()), &r.router_id);
            diff.check_immutable("subnetRef", Some(&subnet.to_string()), &r.subnet_id);
        }
        diff
    }

    async fn create(&self, c: &CloudClient, d: &Desired<'_, RouterInterfaceResource>) -> ProviderResult<String> {
        let (router, subnet) = ids(d)?;
        let r = c
            .put_creating(
                Service::Network,
                &format!("/v2.0/routers/{router}/add_router_interface"),
                &json!({ "subnet_id": subnet }),
            )
            .await?;
        r.body["port_id"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| ProviderError::Transient("Neutron added the interface but returned no port_id".into()))
    }

    async fn update(
        &self,
        _: &CloudClient,
        _: &Desired<'_, RouterInterfaceResource>,
        _: &RemoteRouterInterface,
        _: &Diff,
    ) -> ProviderResult<()> {
        Ok(())
    }

    async fn delete(&self, c: &CloudClient, id: &str) -> ProviderResult<()> {
        let Some(port) = PORTS.get::<Value>(c, id).await? else { return Ok(()) };
        let Some(router) = port["device_id"].as_str().filter(|r| !r.is_empty()) else { return Ok(()) };
        match c
            .put(
                Service::Network,
                &format!("/v2.0/routers/{router}/remove_router_interface"),
                &json!({ "port_id": id }),
            )
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.status() == Some(404) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}
