//! JSON calls to one OpenStack service, with the headers it needs
//! (Nova's microversion), mapped to provider errors.

use reqwest::Method;
use serde::de::DeserializeOwned;
use serde_json::Value;
use terrane_provider::{ProviderError, ProviderResult};

use crate::client::{CloudClient, Service};

/// One service's API as Terrane uses it.
#[derive(Debug, Clone, Copy)]
pub struct Rest {
    pub service: Service,
    /// Sent with every request.
    pub headers: &'static [(&'static str, &'static str)],
    /// For messages: `Nova`, `Glance`...
    pub name: &'static str,
}

/// Nova at microversion 2.90: descriptions, tags in create requests and
/// list filters, flavors embedded in servers.
pub const NOVA: Rest =
    Rest { service: Service::Compute, headers: &[("OpenStack-API-Version", "compute 2.90")], name: "Nova" };
pub const NEUTRON: Rest = Rest { service: Service::Network, headers: &[], name: "Neutron" };
pub const GLANCE: Rest = Rest { service: Service::Image, headers: &[], name: "Glance" };
pub const CINDER: Rest = Rest { service: Service::BlockStorage, headers: &[], name: "Cinder" };
pub const DESIGNATE: Rest = Rest { service: Service::Dns, headers: &[], name: "Designate" };

impl Rest {
    pub fn parse<T: DeserializeOwned>(&self, v: Value, what: &str) -> ProviderResult<T> {
        serde_json::from_value(v)
            .map_err(|e| ProviderError::Transient(format!("unexpected {what} from {}: {e}", self.name)))
    }

    pub async fn call(
        &self,
        c: &CloudClient,
        method: Method,
        path: &str,
        body: Option<&Value>,
        extra: &[(&str, &str)],
    ) -> ProviderResult<Value> {
        let mut headers: Vec<(&str, &str)> = self.headers.to_vec();
        headers.extend_from_slice(extra);
        Ok(c.request(self.service, method, path, body, &headers).await?.body)
    }

    /// GET `path`; `None` on 404.
    pub async fn get_opt(&self, c: &CloudClient, path: &str) -> ProviderResult<Option<Value>> {
        match self.call(c, Method::GET, path, None, &[]).await {
            Ok(v) => Ok(Some(v)),
            Err(ProviderError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub async fn get(&self, c: &CloudClient, path: &str) -> ProviderResult<Value> {
        self.call(c, Method::GET, path, None, &[]).await
    }

    pub async fn post(&self, c: &CloudClient, path: &str, body: &Value) -> ProviderResult<Value> {
        self.call(c, Method::POST, path, Some(body), &[]).await
    }

    pub async fn put(&self, c: &CloudClient, path: &str, body: &Value) -> ProviderResult<Value> {
        self.call(c, Method::PUT, path, Some(body), &[]).await
    }

    /// DELETE; a 404 counts as deleted.
    pub async fn delete(&self, c: &CloudClient, path: &str) -> ProviderResult<()> {
        match self.call(c, Method::DELETE, path, None, &[]).await {
            Ok(_) | Err(ProviderError::NotFound(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Every item of the list answer `key` at `path`, page by page with
    /// `limit` and `marker` (which all five services take), each with its
    /// ID (at JSON pointer `id` within the item).
    pub async fn list_all(
        &self,
        c: &CloudClient,
        path: &str,
        key: &str,
        id: &str,
    ) -> ProviderResult<Vec<(String, Value)>> {
        const PAGE: usize = 1000;
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut out = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let page = match &marker {
                Some(m) => format!("{path}{sep}limit={PAGE}&marker={}", crate::query::encode(m)),
                None => format!("{path}{sep}limit={PAGE}"),
            };
            let body = self.get(c, &page).await?;
            let items = body.get(key).and_then(Value::as_array).cloned().unwrap_or_default();
            let n = items.len();
            for item in items {
                if let Some(item_id) = item.pointer(id).and_then(Value::as_str) {
                    marker = Some(item_id.to_string());
                    out.push((item_id.to_string(), item));
                }
            }
            if n < PAGE || marker.is_none() {
                return Ok(out);
            }
        }
    }

    /// `body[key]` as a string ID, for create answers.
    pub fn id_in(&self, body: &Value, pointer: &str, what: &str) -> ProviderResult<String> {
        body.pointer(pointer)
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| ProviderError::Transient(format!("{} created a {what} but returned no id", self.name)))
    }
}
