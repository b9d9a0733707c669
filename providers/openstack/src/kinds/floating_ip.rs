//! FloatingIP ⇄ Neutron `/v2.0/floatingips`.

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use terrane_api::{FloatingIPFilter, FloatingIPResource};
use terrane_provider::{Desired, Diff, ExternalKind, Freshness, ProviderResult, Readiness};

use super::{NetworkKind, PortKind};
use crate::CloudClient;
use crate::addr;
use crate::marker::{self, strip_marker, with_marker};
use crate::neutron::{Collection, put_opt, put_pair};

const FIPS: Collection = Collection { plural: "floatingips", singular: "floatingip" };

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RemoteFloatingIp {
    pub id: String,
    #[serde(alias = "floating_ip_address")]
    pub floating_ip_address: String,
    #[serde(alias = "floating_network_id")]
    pub floating_network_id: String,
    #[serde(default, alias = "port_id")]
    pub port_id: Option<String>,
    #[serde(default, alias = "fixed_ip_address")]
    pub fixed_ip_address: Option<String>,
    #[serde(default, alias = "router_id")]
    pub router_id: Option<String>,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub description: String,
}

pub struct FloatingIpKind;

fn port_id(d: &Desired<'_, FloatingIPResource>) -> ProviderResult<Option<String>> {
    d.resource.port_ref.as_ref().map(|p| d.refs.id::<PortKind>(&p.name).map(str::to_string)).transpose()
}

fn association(d: &Desired<'_, FloatingIPResource>) -> ProviderResult<Value> {
    let mut body = json!({ "port_id": port_id(d)? });
    if d.resource.port_ref.is_some() {
        put_opt(&mut body, "fixed_ip_address", d.resource.fixed_ip_address.clone());
    }
    Ok(body)
}

#[async_trait]
impl ExternalKind for FloatingIpKind {
    type Object = terrane_api::FloatingIP;
    type Cloud = CloudClient;
    type Resource = FloatingIPResource;
    type Filter = FloatingIPFilter;
    type Remote = RemoteFloatingIp;

    async fn get(&self, c: &CloudClient, id: &str, freshness: Freshness) -> ProviderResult<Option<RemoteFloatingIp>> {
        FIPS.get_with(c, id, freshness).await
    }

    async fn find(&self, c: &CloudClient, f: &FloatingIPFilter) -> ProviderResult<Vec<RemoteFloatingIp>> {
        let mut q = Vec::new();
        put_pair(&mut q, "floating_ip_address", f.floating_ip_address.as_deref());
        FIPS.list(c, &q).await
    }

    async fn find_owned(
        &self,
        c: &CloudClient,
        d: &Desired<'_, FloatingIPResource>,
        freshness: Freshness,
    ) -> ProviderResult<Vec<RemoteFloatingIp>> {
        FIPS.find_owned(c, d.uid, freshness).await
    }

    fn id(&self, r: &RemoteFloatingIp) -> String {
        r.id.clone()
    }

    fn diff(&self, d: &Desired<'_, FloatingIPResource>, r: &RemoteFloatingIp) -> Diff {
        let want = d.resource;
        let mut diff = Diff::default();
        if let Ok(net) = d.refs.id::<NetworkKind>(&want.floating_network_ref.name) {
            diff.check_immutable("floatingNetworkRef", Some(&net.to_string()), &r.floating_network_id);
        }
        diff.check_immutable(
            "floatingIpAddress",
            addr::ip_opt(want.floating_ip_address.as_ref()).as_ref(),
            &addr::ip(&r.floating_ip_address),
        );
        diff.check("description", want.description.as_ref(), &strip_marker(&r.description).to_string());
        if let Ok(port) = port_id(d) {
            diff.check("portRef", Some(&port), &r.port_id);
            if port.is_some() {
                diff.check(
                    "fixedIpAddress",
                    addr::ip_opt(want.fixed_ip_address.as_ref()).map(Some).as_ref(),
                    &addr::ip_opt(r.fixed_ip_address.as_ref()),
                );
            }
        }
        diff
    }

    fn readiness(&self, r: &RemoteFloatingIp) -> Readiness {
        match r.status.as_str() {
            "ERROR" => Readiness::Failed(format!("floating IP {} is in status ERROR", r.floating_ip_address)),
            _ => Readiness::Ready,
        }
    }

    async fn create(&self, c: &CloudClient, d: &Desired<'_, FloatingIPResource>) -> ProviderResult<String> {
        let mut body = association(d)?;
        body["floating_network_id"] = json!(d.refs.id::<NetworkKind>(&d.resource.floating_network_ref.name)?);
        body["description"] = json!(with_marker(d.resource.description.as_deref(), d.uid));
        put_opt(&mut body, "floating_ip_address", d.resource.floating_ip_address.clone());
        if body["port_id"].is_null()
            && let Some(map) = body.as_object_mut()
        {
            map.remove("port_id");
        }
        FIPS.create(c, body).await
    }

    async fn update(
        &self,
        c: &CloudClient,
        d: &Desired<'_, FloatingIPResource>,
        r: &RemoteFloatingIp,
        _: &Diff,
    ) -> ProviderResult<()> {
        let mut body = association(d)?;
        put_opt(
            &mut body,
            "description",
            d.resource.description.as_deref().map(|want| marker::for_update(want, &r.description, d.uid, d.imported)),
        );
        FIPS.update(c, &r.id, body).await
    }

    async fn delete(&self, c: &CloudClient, id: &str) -> ProviderResult<()> {
        FIPS.delete(c, id).await
    }
}
