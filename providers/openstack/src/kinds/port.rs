//! Port ⇄ Neutron `/v2.0/ports`.

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use terrane_api::{AddressPair, PortFilter, PortResource};
use terrane_provider::{Desired, Diff, ExternalKind, Freshness, ProviderResult};

use super::{NetworkKind, SecurityGroupKind, SubnetKind};
use crate::CloudClient;
use crate::addr;
use crate::marker::{self, with_marker};
use crate::neutron::{Collection, check_name_and_description, put_opt, put_pair};
use crate::query::sorted;

const PORTS: Collection = Collection { plural: "ports", singular: "port" };

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RemotePort {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(alias = "network_id")]
    pub network_id: String,
    #[serde(default)]
    pub status: String,
    #[serde(default, alias = "admin_state_up")]
    pub admin_state_up: bool,
    #[serde(default, alias = "mac_address")]
    pub mac_address: String,
    #[serde(default, alias = "fixed_ips")]
    pub fixed_ips: Vec<RemoteFixedIp>,
    #[serde(default, alias = "security_groups")]
    pub security_groups: Vec<String>,
    #[serde(default, alias = "allowed_address_pairs")]
    pub allowed_address_pairs: Vec<RemotePair>,
    #[serde(default, alias = "port_security_enabled")]
    pub port_security_enabled: Option<bool>,
    #[serde(default, alias = "device_id")]
    pub device_id: String,
    #[serde(default, alias = "device_owner")]
    pub device_owner: String,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RemoteFixedIp {
    #[serde(alias = "subnet_id")]
    pub subnet_id: String,
    #[serde(alias = "ip_address")]
    pub ip_address: String,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RemotePair {
    #[serde(alias = "ip_address")]
    pub ip_address: String,
    #[serde(default, alias = "mac_address")]
    pub mac_address: Option<String>,
}

/// True when the cloud's pairs are the wanted ones; a pair without a MAC
/// matches whatever MAC Neutron filled in (the port's own).
fn pairs_match(want: &[AddressPair], cloud: &[RemotePair]) -> bool {
    want.len() == cloud.len()
        && want.iter().all(|w| {
            cloud.iter().any(|c| {
                addr::cidr(&c.ip_address) == addr::cidr(&w.ip_address)
                    && w.mac_address.as_ref().is_none_or(|m| Some(m) == c.mac_address.as_ref())
            })
        })
}

fn pairs_body(pairs: &[AddressPair]) -> Value {
    json!(
        pairs
            .iter()
            .map(|p| {
                let mut v = json!({ "ip_address": p.ip_address });
                put_opt(&mut v, "mac_address", p.mac_address.clone());
                v
            })
            .collect::<Vec<_>>()
    )
}

pub struct PortKind;

/// A wanted fixed IP: (subnet ID, address), either may be left to the cloud.
type WantedIp = (Option<String>, Option<String>);

/// Fixed IPs as the spec asks for them.
fn wanted_ips(d: &Desired<'_, PortResource>) -> ProviderResult<Option<Vec<WantedIp>>> {
    let Some(list) = &d.resource.fixed_ips else { return Ok(None) };
    list.iter()
        .map(|f| {
            let subnet =
                f.subnet_ref.as_ref().map(|s| d.refs.id::<SubnetKind>(&s.name).map(str::to_string)).transpose()?;
            Ok((subnet, f.ip_address.clone()))
        })
        .collect::<ProviderResult<Vec<_>>>()
        .map(Some)
}

fn wanted_groups(d: &Desired<'_, PortResource>) -> ProviderResult<Option<Vec<String>>> {
    let Some(list) = &d.resource.security_group_refs else { return Ok(None) };
    let mut ids = list
        .iter()
        .map(|g| d.refs.id::<SecurityGroupKind>(&g.name).map(str::to_string))
        .collect::<ProviderResult<Vec<_>>>()?;
    ids.sort();
    ids.dedup();
    Ok(Some(ids))
}

/// True when every wanted (subnet, address) is matched by one cloud address.
fn ips_match(want: &[WantedIp], cloud: &[RemoteFixedIp]) -> bool {
    want.len() == cloud.len()
        && want.iter().all(|(s, a)| {
            cloud.iter().any(|c| {
                s.as_ref().is_none_or(|s| *s == c.subnet_id)
                    && a.as_ref().is_none_or(|a| addr::ip(a) == addr::ip(&c.ip_address))
            })
        })
}

fn body(d: &Desired<'_, PortResource>, description: Option<String>) -> ProviderResult<Value> {
    let r = d.resource;
    let mut body = json!({});
    put_opt(&mut body, "name", d.name(r.name.as_ref()));
    put_opt(&mut body, "description", description);
    put_opt(&mut body, "admin_state_up", r.admin_state_up);
    put_opt(&mut body, "port_security_enabled", r.port_security_enabled);
    put_opt(&mut body, "allowed_address_pairs", r.allowed_address_pairs.as_deref().map(pairs_body));
    put_opt(&mut body, "security_groups", wanted_groups(d)?);
    if let Some(ips) = wanted_ips(d)? {
        let list: Vec<Value> = ips
            .into_iter()
            .map(|(s, a)| {
                let mut v = json!({});
                put_opt(&mut v, "subnet_id", s);
                put_opt(&mut v, "ip_address", a);
                v
            })
            .collect();
        body["fixed_ips"] = json!(list);
    }
    Ok(body)
}

#[async_trait]
impl ExternalKind for PortKind {
    type Object = terrane_api::Port;
    type Cloud = CloudClient;
    type Resource = PortResource;
    type Filter = PortFilter;
    type Remote = RemotePort;

    async fn get(&self, c: &CloudClient, id: &str, freshness: Freshness) -> ProviderResult<Option<RemotePort>> {
        PORTS.get_with(c, id, freshness).await
    }

    async fn find(&self, c: &CloudClient, f: &PortFilter) -> ProviderResult<Vec<RemotePort>> {
        let mut q = Vec::new();
        put_pair(&mut q, "name", f.name.as_deref());
        PORTS.list_visible(c, &q).await
    }

    async fn find_owned(
        &self,
        c: &CloudClient,
        d: &Desired<'_, PortResource>,
        freshness: Freshness,
    ) -> ProviderResult<Vec<RemotePort>> {
        PORTS.find_owned(c, d.uid, freshness).await
    }

    fn id(&self, r: &RemotePort) -> String {
        r.id.clone()
    }

    fn diff(&self, d: &Desired<'_, PortResource>, r: &RemotePort) -> Diff {
        let want = d.resource;
        let mut diff = Diff::default();
        if let Ok(net) = d.refs.id::<NetworkKind>(&want.network_ref.name) {
            diff.check_immutable("networkRef", Some(&net.to_string()), &r.network_id);
        }
        check_name_and_description(
            &mut diff,
            d,
            want.name.as_ref(),
            want.description.as_ref(),
            &r.name,
            &r.description,
        );
        diff.check("adminStateUp", want.admin_state_up.as_ref(), &r.admin_state_up);
        diff.check("portSecurityEnabled", want.port_security_enabled.map(Some).as_ref(), &r.port_security_enabled);
        if let Some(pairs) = &want.allowed_address_pairs
            && !pairs_match(pairs, &r.allowed_address_pairs)
        {
            diff.mutable.push(terrane_provider::FieldDiff {
                field: "allowedAddressPairs".into(),
                cloud: format!("{:?}", r.allowed_address_pairs),
                desired: format!("{pairs:?}"),
            });
        }
        if let Ok(Some(groups)) = wanted_groups(d) {
            diff.check("securityGroupRefs", Some(&groups), &sorted(&r.security_groups));
        }
        if let Ok(Some(ips)) = wanted_ips(d)
            && !ips_match(&ips, &r.fixed_ips)
        {
            diff.mutable.push(terrane_provider::FieldDiff {
                field: "fixedIps".into(),
                cloud: format!("{:?}", r.fixed_ips),
                desired: format!("{ips:?}"),
            });
        }
        diff
    }

    async fn create(&self, c: &CloudClient, d: &Desired<'_, PortResource>) -> ProviderResult<String> {
        let mut body = body(d, Some(with_marker(d.resource.description.as_deref(), d.uid)))?;
        body["network_id"] = json!(d.refs.id::<NetworkKind>(&d.resource.network_ref.name)?);
        PORTS.create(c, body).await
    }

    async fn update(
        &self,
        c: &CloudClient,
        d: &Desired<'_, PortResource>,
        r: &RemotePort,
        diff: &Diff,
    ) -> ProviderResult<()> {
        let description =
            d.resource.description.as_deref().map(|want| marker::for_update(want, &r.description, d.uid, d.imported));
        let mut body = body(d, description)?;
        // Resending subnet-only fixed IPs would make Neutron pick new addresses.
        if !diff.mutable.iter().any(|f| f.field == "fixedIps")
            && let Some(map) = body.as_object_mut()
        {
            map.remove("fixed_ips");
        }
        PORTS.update(c, &r.id, body).await
    }

    async fn delete(&self, c: &CloudClient, id: &str) -> ProviderResult<()> {
        PORTS.delete(c, id).await
    }
}
