//! Subnet ⇄ Neutron `/v2.0/subnets`.

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use terrane_api::{AllocationPool, HostRoute, SubnetFilter, SubnetResource};
use terrane_provider::{Desired, Diff, ExternalKind, Freshness, ProviderResult};

use super::NetworkKind;
use crate::CloudClient;
use crate::addr;
use crate::marker::{self, with_marker};
use crate::neutron::{Collection, UsedBy, check_name_and_description, delete_naming_users, put_opt, put_pair};
use crate::query::sorted;

const SUBNETS: Collection = Collection { plural: "subnets", singular: "subnet" };

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RemoteSubnet {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(alias = "network_id")]
    pub network_id: String,
    pub cidr: String,
    #[serde(alias = "ip_version")]
    pub ip_version: i32,
    #[serde(default, alias = "gateway_ip")]
    pub gateway_ip: Option<String>,
    #[serde(default, alias = "enable_dhcp")]
    pub enable_dhcp: bool,
    #[serde(default, alias = "allocation_pools")]
    pub allocation_pools: Vec<AllocationPool>,
    #[serde(default, alias = "dns_nameservers")]
    pub dns_nameservers: Vec<String>,
    #[serde(default, alias = "host_routes")]
    pub host_routes: Vec<HostRoute>,
    #[serde(default, alias = "ipv6_address_mode")]
    pub ipv6_address_mode: Option<String>,
    #[serde(default, alias = "ipv6_ra_mode")]
    pub ipv6_ra_mode: Option<String>,
    #[serde(default, alias = "project_id")]
    pub project_id: String,
}

pub struct SubnetKind;

/// Pools as sorted (start, end) pairs of canonical addresses.
fn pools(list: &[AllocationPool]) -> Vec<(String, String)> {
    sorted(&list.iter().map(|p| (addr::ip(&p.start), addr::ip(&p.end))).collect::<Vec<_>>())
}

/// Name servers in order (the order is the resolver's), canonical.
fn ips(list: &[String]) -> Vec<String> {
    list.iter().map(|a| addr::ip(a)).collect()
}

/// Routes as sorted (destination, next hop), canonical.
fn routes(list: &[HostRoute]) -> Vec<(String, String)> {
    sorted(&list.iter().map(|r| (addr::cidr(&r.destination), addr::ip(&r.nexthop))).collect::<Vec<_>>())
}

fn ip_version(r: &SubnetResource) -> i32 {
    r.ip_version.unwrap_or(if r.cidr.contains(':') { 6 } else { 4 })
}

/// The gateway the spec asks for: `Some(None)` for "no gateway".
fn wanted_gateway(r: &SubnetResource) -> Option<Option<String>> {
    if r.disable_gateway == Some(true) { Some(None) } else { r.gateway_ip.clone().map(Some) }
}

fn mutable_body(d: &Desired<'_, SubnetResource>, description: Option<String>) -> Value {
    let r = d.resource;
    let mut body = json!({});
    put_opt(&mut body, "name", d.name(r.name.as_ref()));
    put_opt(&mut body, "description", description);
    if let Some(g) = wanted_gateway(r) {
        body["gateway_ip"] = json!(g);
    }
    put_opt(&mut body, "enable_dhcp", r.enable_dhcp);
    put_opt(&mut body, "allocation_pools", r.allocation_pools.clone());
    put_opt(&mut body, "dns_nameservers", r.dns_nameservers.clone());
    put_opt(&mut body, "host_routes", r.host_routes.clone());
    body
}

#[async_trait]
impl ExternalKind for SubnetKind {
    type Object = terrane_api::Subnet;
    type Cloud = CloudClient;
    type Resource = SubnetResource;
    type Filter = SubnetFilter;
    type Remote = RemoteSubnet;

    async fn get(&self, c: &CloudClient, id: &str, freshness: Freshness) -> ProviderResult<Option<RemoteSubnet>> {
        SUBNETS.get_with(c, id, freshness).await
    }

    async fn find(&self, c: &CloudClient, f: &SubnetFilter) -> ProviderResult<Vec<RemoteSubnet>> {
        let mut q = Vec::new();
        put_pair(&mut q, "name", f.name.as_deref());
        put_pair(&mut q, "cidr", f.cidr.as_deref());
        SUBNETS.list_visible(c, &q).await
    }

    async fn find_owned(
        &self,
        c: &CloudClient,
        d: &Desired<'_, SubnetResource>,
        freshness: Freshness,
    ) -> ProviderResult<Vec<RemoteSubnet>> {
        SUBNETS.find_owned(c, d.uid, freshness).await
    }

    fn id(&self, r: &RemoteSubnet) -> String {
        r.id.clone()
    }

    fn diff(&self, d: &Desired<'_, SubnetResource>, r: &RemoteSubnet) -> Diff {
        let want = d.resource;
        let mut diff = Diff::default();
        diff.check_immutable("cidr", Some(&addr::cidr(&want.cidr)), &addr::cidr(&r.cidr));
        diff.check_immutable("ipVersion", Some(&ip_version(want)), &r.ip_version);
        if let Ok(network) = d.refs.id::<NetworkKind>(&want.network_ref.name) {
            diff.check_immutable("networkRef", Some(&network.to_string()), &r.network_id);
        }
        diff.check_immutable(
            "ipv6AddressMode",
            want.ipv6_address_mode.map(|m| Some(m.as_str().to_string())).as_ref(),
            &r.ipv6_address_mode,
        );
        diff.check_immutable(
            "ipv6RaMode",
            want.ipv6_ra_mode.map(|m| Some(m.as_str().to_string())).as_ref(),
            &r.ipv6_ra_mode,
        );
        check_name_and_description(
            &mut diff,
            d,
            want.name.as_ref(),
            want.description.as_ref(),
            &r.name,
            &r.description,
        );
        diff.check(
            "gatewayIp",
            wanted_gateway(want).map(|g| addr::ip_opt(g.as_ref())).as_ref(),
            &addr::ip_opt(r.gateway_ip.as_ref()),
        );
        diff.check("enableDhcp", want.enable_dhcp.as_ref(), &r.enable_dhcp);
        diff.check(
            "allocationPools",
            want.allocation_pools.as_deref().map(pools).as_ref(),
            &pools(&r.allocation_pools),
        );
        diff.check("dnsNameservers", want.dns_nameservers.as_deref().map(ips).as_ref(), &ips(&r.dns_nameservers));
        diff.check("hostRoutes", want.host_routes.as_deref().map(routes).as_ref(), &routes(&r.host_routes));
        diff
    }

    async fn create(&self, c: &CloudClient, d: &Desired<'_, SubnetResource>) -> ProviderResult<String> {
        let r = d.resource;
        let mut body = mutable_body(d, Some(with_marker(r.description.as_deref(), d.uid)));
        body["network_id"] = json!(d.refs.id::<NetworkKind>(&r.network_ref.name)?);
        body["cidr"] = json!(r.cidr);
        body["ip_version"] = json!(ip_version(r));
        put_opt(&mut body, "ipv6_address_mode", r.ipv6_address_mode.map(|m| m.as_str()));
        put_opt(&mut body, "ipv6_ra_mode", r.ipv6_ra_mode.map(|m| m.as_str()));
        SUBNETS.create(c, body).await
    }

    async fn update(
        &self,
        c: &CloudClient,
        d: &Desired<'_, SubnetResource>,
        r: &RemoteSubnet,
        _: &Diff,
    ) -> ProviderResult<()> {
        let description =
            d.resource.description.as_deref().map(|want| marker::for_update(want, &r.description, d.uid, d.imported));
        SUBNETS.update(c, &r.id, mutable_body(d, description)).await
    }

    async fn delete(&self, c: &CloudClient, id: &str) -> ProviderResult<()> {
        delete_naming_users(c, &SUBNETS, id, UsedBy::Subnet(id)).await
    }
}
