//! SubnetPool ⇄ Neutron `/v2.0/subnetpools`.

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use terrane_api::{SubnetPoolFilter, SubnetPoolResource};
use terrane_provider::{Desired, Diff, ExternalKind, Freshness, ProviderResult};

use crate::CloudClient;
use crate::addr;
use crate::marker::{self, with_marker};
use crate::neutron::{Collection, check_name_and_description, put_opt, put_pair};
use crate::query::sorted;

const POOLS: Collection = Collection { plural: "subnetpools", singular: "subnetpool" };

/// A Neutron subnet pool as observed.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RemoteSubnetPool {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub prefixes: Vec<String>,
    #[serde(default, alias = "ip_version")]
    pub ip_version: i32,
    #[serde(default, alias = "default_prefixlen", deserialize_with = "int_or_text")]
    pub default_prefix_length: i32,
    #[serde(default, alias = "min_prefixlen", deserialize_with = "int_or_text")]
    pub min_prefix_length: i32,
    #[serde(default, alias = "max_prefixlen", deserialize_with = "int_or_text")]
    pub max_prefix_length: i32,
    #[serde(default, alias = "project_id")]
    pub project_id: String,
}

pub struct SubnetPoolKind;

/// Neutron answers prefix lengths as strings (`"24"`); the status form has numbers.
fn int_or_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<i32, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum IntOrText {
        Int(i32),
        Text(String),
    }
    match IntOrText::deserialize(d)? {
        IntOrText::Int(n) => Ok(n),
        IntOrText::Text(t) => t.trim().parse().map_err(serde::de::Error::custom),
    }
}

/// The prefixes as values, sorted (Neutron answers in canonical form).
fn prefixes(list: &[String]) -> Vec<String> {
    sorted(&list.iter().map(|p| addr::cidr(p)).collect::<Vec<_>>())
}

fn body(d: &Desired<'_, SubnetPoolResource>, description: Option<String>) -> Value {
    let r = d.resource;
    let mut body = json!({ "prefixes": prefixes(&r.prefixes) });
    put_opt(&mut body, "name", d.name(r.name.as_ref()));
    put_opt(&mut body, "description", description);
    put_opt(&mut body, "default_prefixlen", r.default_prefix_length);
    put_opt(&mut body, "min_prefixlen", r.min_prefix_length);
    put_opt(&mut body, "max_prefixlen", r.max_prefix_length);
    body
}

#[async_trait]
impl ExternalKind for SubnetPoolKind {
    type Object = terrane_api::SubnetPool;
    type Cloud = CloudClient;
    type Resource = SubnetPoolResource;
    type Filter = SubnetPoolFilter;
    type Remote = RemoteSubnetPool;

    async fn get(&self, c: &CloudClient, id: &str, freshness: Freshness) -> ProviderResult<Option<RemoteSubnetPool>> {
        POOLS.get_with(c, id, freshness).await
    }

    async fn find(&self, c: &CloudClient, f: &SubnetPoolFilter) -> ProviderResult<Vec<RemoteSubnetPool>> {
        let mut q = Vec::new();
        put_pair(&mut q, "name", f.name.as_deref());
        POOLS.list_visible(c, &q).await
    }

    async fn find_owned(
        &self,
        c: &CloudClient,
        d: &Desired<'_, SubnetPoolResource>,
        freshness: Freshness,
    ) -> ProviderResult<Vec<RemoteSubnetPool>> {
        POOLS.find_owned(c, d.uid, freshness).await
    }

    fn id(&self, r: &RemoteSubnetPool) -> String {
        r.id.clone()
    }

    fn diff(&self, d: &Desired<'_, SubnetPoolResource>, r: &RemoteSubnetPool) -> Diff {
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
        diff.check("prefixes", Some(&prefixes(&want.prefixes)), &prefixes(&r.prefixes));
        diff.check("defaultPrefixLength", want.default_prefix_length.as_ref(), &r.default_prefix_length);
        diff.check("minPrefixLength", want.min_prefix_length.as_ref(), &r.min_prefix_length);
        diff.check("maxPrefixLength", want.max_prefix_length.as_ref(), &r.max_prefix_length);
        diff
    }

    async fn create(&self, c: &CloudClient, d: &Desired<'_, SubnetPoolResource>) -> ProviderResult<String> {
        POOLS.create(c, body(d, Some(with_marker(d.resource.description.as_deref(), d.uid)))).await
    }

    async fn update(
        &self,
        c: &CloudClient,
        d: &Desired<'_, SubnetPoolResource>,
        r: &RemoteSubnetPool,
        _: &Diff,
    ) -> ProviderResult<()> {
        let description =
            d.resource.description.as_deref().map(|want| marker::for_update(want, &r.description, d.uid, d.imported));
        POOLS.update(c, &r.id, body(d, description)).await
    }

    async fn delete(&self, c: &CloudClient, id: &str) -> ProviderResult<()> {
        POOLS.delete(c, id).await
    }
}
