//! The calls every Neutron kind makes, on `/v2.0/<collection>`.

use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use terrane_provider::{Desired, Diff, ProviderError, ProviderResult, Readiness};

use crate::client::{CloudClient, Service};
use crate::marker;
pub use crate::query::{put_opt, put_pair};
use crate::query::query;

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
}

fn parse<T: DeserializeOwned>(value: &Value, what: &str) -> ProviderResult<T> {
    serde_json::from_value(value.clone()).map_err(|e| ProviderError::Transient(format!("unexpected {what} from Neutron: {e}")))
}

impl Collection {
    pub async fn get<T: DeserializeOwned>(&self, c: &CloudClient, id: &str) -> ProviderResult<Option<T>> {
        match c.get(Service::Network, &format!("/v2.0/{}/{id}", self.plural)).await {
            Ok(r) => Ok(Some(parse(&r.body[self.singular], self.singular)?)),
            Err(e) if e.status() == Some(404) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Lists with `filters`, limited to the token's project.
    pub async fn list<T: DeserializeOwned>(&self, c: &CloudClient, filters: &[(&str, &str)]) -> ProviderResult<Vec<T>> {
        let project = c.project_id().await.map_err(ProviderError::from)?;
        let mut pairs: Vec<(&str, &str)> = filters.to_vec();
        if let Some(p) = project.as_deref() {
            pairs.push(("project_id", p));
        }
        let r = c.get(Service::Network, &format!("/v2.0/{}{}", self.plural, query(&pairs))).await?;
        parse(&r.body[self.list_key()], self.plural)
    }

    /// Lists everything matching `filters` in any project the token may see
    /// (shared and external networks of other projects included).
    pub async fn list_visible<T: DeserializeOwned>(&self, c: &CloudClient, filters: &[(&str, &str)]) -> ProviderResult<Vec<T>> {
        let r = c.get(Service::Network, &format!("/v2.0/{}{}", self.plural, query(filters))).await?;
        parse(&r.body[self.list_key()], self.plural)
    }

    /// The objects of the token's project whose description carries `uid`'s marker.
    pub async fn find_owned<T: DeserializeOwned>(&self, c: &CloudClient, uid: &str) -> ProviderResult<Vec<T>> {
        let all: Vec<Value> = self.list(c, &[]).await?;
        all.iter()
            .filter(|v| v["description"].as_str().is_some_and(|d| marker::has_marker(d, uid)))
            .map(|v| parse(v, self.singular))
            .collect()
    }

    /// POSTs `{singular: body}` and returns the new object's ID.
    pub async fn create(&self, c: &CloudClient, body: Value) -> ProviderResult<String> {
        let r = c.post(Service::Network, &format!("/v2.0/{}", self.plural), &json!({ self.singular: body })).await?;
        r.body[self.singular]["id"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| ProviderError::Transient(format!("Neutron created a {} but returned no id", self.singular)))
    }

    pub async fn update(&self, c: &CloudClient, id: &str, body: Value) -> ProviderResult<()> {
        c.put(Service::Network, &format!("/v2.0/{}/{id}", self.plural), &json!({ self.singular: body })).await?;
        Ok(())
    }

    pub async fn delete(&self, c: &CloudClient, id: &str) -> ProviderResult<()> {
        Ok(c.delete(Service::Network, &format!("/v2.0/{}/{id}", self.plural)).await?)
    }
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
