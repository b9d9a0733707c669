//! The calls every Neutron kind makes, on `/v2.0/<collection>`.

use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use terrane_provider::{Desired, Diff, Freshness, ProviderError, ProviderResult, Readiness};

use crate::client::CloudClient;
use crate::list_cache::{cached_item, cached_items};
use crate::marker;
use crate::query::query;
pub use crate::query::{put_opt, put_pair};
use crate::rest::NEUTRON;

/// One Neutron collection: `networks` / `network`, `subnets` / `subnet`, ...
/// `plural` is the URL path; list answers use it with `_` for `-`
/// (`/security-groups` answers `{"security_groups": [...]}`).
#[derive(Debug, Clone, Copy)]
pub struct Collection {
    pub plural: &'static str,
    pub singular: &'static str,
}

impl Collection {
    fn list_key(&self) -> String {
        self.plural.replace('-', "_")
    }

    fn cache_key(&self) -> String {
        format!("neutron:{}", self.plural)
    }

    /// Every object of the token's project, page by page.
    async fn list_project(&self, c: &CloudClient) -> ProviderResult<Vec<(String, Value)>> {
        let project = c.project_id().await.map_err(ProviderError::from)?;
        let pairs: Vec<(&str, &str)> = project.as_deref().map(|p| ("project_id", p)).into_iter().collect();
        NEUTRON.list_all(c, &format!("/v2.0/{}{}", self.plural, query(&pairs)), &self.list_key(), "/id").await
    }

    /// The object by ID; a drift check reads it from the project's list.
    pub async fn get_with<T: DeserializeOwned>(
        &self,
        c: &CloudClient,
        id: &str,
        freshness: Freshness,
    ) -> ProviderResult<Option<T>> {
        let listed = cached_item(c, freshness, &self.cache_key(), id, || self.list_project(c)).await?;
        match listed {
            Some(v) => NEUTRON.parse(v, self.singular).map(Some),
            None => self.get(c, id).await,
        }
    }

    pub async fn get<T: DeserializeOwned>(&self, c: &CloudClient, id: &str) -> ProviderResult<Option<T>> {
        let found = NEUTRON.get_opt(c, &format!("/v2.0/{}/{id}", self.plural)).await?;
        found.map(|v| NEUTRON.parse(v[self.singular].clone(), self.singular)).transpose()
    }

    /// Lists with `filters`, limited to the token's project.
    pub async fn list<T: DeserializeOwned>(&self, c: &CloudClient, filters: &[(&str, &str)]) -> ProviderResult<Vec<T>> {
        let project = c.project_id().await.map_err(ProviderError::from)?;
        let mut pairs: Vec<(&str, &str)> = filters.to_vec();
        if let Some(p) = project.as_deref() {
            pairs.push(("project_id", p));
        }
        let r = NEUTRON.get(c, &format!("/v2.0/{}{}", self.plural, query(&pairs))).await?;
        NEUTRON.parse(r[self.list_key()].clone(), self.plural)
    }

    /// Lists everything matching `filters` in any project the token may see
    /// (shared and external networks of other projects included).
    pub async fn list_visible<T: DeserializeOwned>(
        &self,
        c: &CloudClient,
        filters: &[(&str, &str)],
    ) -> ProviderResult<Vec<T>> {
        let r = NEUTRON.get(c, &format!("/v2.0/{}{}", self.plural, query(filters))).await?;
        NEUTRON.parse(r[self.list_key()].clone(), self.plural)
    }

    /// The objects of the token's project whose description carries `uid`'s
    /// marker; a drift check reads them from the project's list.
    pub async fn find_owned<T: DeserializeOwned>(
        &self,
        c: &CloudClient,
        uid: &str,
        freshness: Freshness,
    ) -> ProviderResult<Vec<T>> {
        let all: Vec<Value> = match cached_items(c, freshness, &self.cache_key(), || self.list_project(c)).await? {
            Some(items) => items.values().cloned().collect(),
            None => self.list_project(c).await?.into_iter().map(|(_, v)| v).collect(),
        };
        marker::carrying(all, uid, |v| NEUTRON.parse(v, self.singular))
    }

    /// POSTs `{singular: body}` and returns the new object's ID.
    pub async fn create(&self, c: &CloudClient, body: Value) -> ProviderResult<String> {
        let r = NEUTRON.post(c, &format!("/v2.0/{}", self.plural), &json!({ self.singular: body })).await?;
        NEUTRON.id_in(&r, &format!("/{}/id", self.singular), self.singular)
    }

    pub async fn update(&self, c: &CloudClient, id: &str, body: Value) -> ProviderResult<()> {
        NEUTRON.put(c, &format!("/v2.0/{}/{id}", self.plural), &json!({ self.singular: body })).await?;
        Ok(())
    }

    pub async fn delete(&self, c: &CloudClient, id: &str) -> ProviderResult<()> {
        NEUTRON.delete(c, &format!("/v2.0/{}/{id}", self.plural)).await
    }
}

/// What refers to a subnet or security group the cloud refuses to delete.
#[derive(Debug, Clone, Copy)]
pub enum UsedBy<'a> {
    Subnet(&'a str),
    SecurityGroup(&'a str),
}

/// Deletes `id` from `collection`; when Neutron refuses because it is in
/// use, the error names the ports (and the servers or routers they belong
/// to) that still use it.
pub async fn delete_naming_users(
    c: &CloudClient,
    collection: &Collection,
    id: &str,
    used: UsedBy<'_>,
) -> ProviderResult<()> {
    match collection.delete(c, id).await {
        Err(ProviderError::Conflict(message)) => {
            let users = port_users(c, used).await.unwrap_or_default();
            let what = if users.is_empty() { String::new() } else { format!("; still in use by {}", users.join(", ")) };
            Err(ProviderError::Conflict(format!("{message}{what}")))
        }
        other => other,
    }
}

async fn port_users(c: &CloudClient, used: UsedBy<'_>) -> ProviderResult<Vec<String>> {
    const PORTS: Collection = Collection { plural: "ports", singular: "port" };
    let ports: Vec<Value> = match used {
        UsedBy::Subnet(id) => PORTS.list_visible(c, &[("fixed_ips", &format!("subnet_id={id}"))]).await?,
        UsedBy::SecurityGroup(id) => {
            let all: Vec<Value> = PORTS.list_visible(c, &[]).await?;
            all.into_iter()
                .filter(|p| p["security_groups"].as_array().is_some_and(|g| g.iter().any(|g| g == id)))
                .collect()
        }
    };
    Ok(ports
        .iter()
        .map(|p| {
            let owner = p["device_owner"].as_str().unwrap_or_default();
            let device = p["device_id"].as_str().unwrap_or_default();
            let port = p["id"].as_str().unwrap_or_default();
            match (owner, device) {
                (_, "") => format!("port {port}"),
                (o, d) if o.starts_with("compute:") => format!("port {port} of server {d}"),
                (o, d) if o.starts_with("network:router") => format!("port {port} of router {d}"),
                (o, d) => format!("port {port} ({o} {d})"),
            }
        })
        .collect())
}

/// Compares the name (the spec's, or the object's name unless imported) and
/// the description (without the ownership marker) every Neutron object has.
pub fn check_name_and_description<R>(
    diff: &mut Diff,
    d: &Desired<'_, R>,
    name: Option<&String>,
    description: Option<&String>,
    cloud_name: &str,
    cloud_description: &str,
) {
    diff.check("name", d.name(name).as_ref(), &cloud_name.to_string());
    diff.check("description", description, &marker::strip_marker(cloud_description).to_string());
}

/// Neutron's `status` field: ERROR is a failure, anything else usable.
pub fn readiness(what: &str, id: &str, status: &str) -> Readiness {
    if status == "ERROR" { Readiness::Failed(format!("{what} {id} is in status ERROR")) } else { Readiness::Ready }
}
