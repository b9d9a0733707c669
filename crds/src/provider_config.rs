//! `ProviderConfig`: how objects of a namespace reach a cloud.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[kube(
    group = "terrane.dev",
    version = "v1alpha1",
    kind = "ProviderConfig",
    namespaced,
    status = "ProviderConfigStatus",
    category = "terrane",
    shortname = "tpc",
    printcolumn = r#"{"name":"Cloud","type":"string","jsonPath":".spec.openstack.cloud"}"#,
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name":"Reason","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].reason"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct ProviderConfigSpec {
    /// An OpenStack-style cloud.
    pub openstack: OpenStackConfig,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OpenStackConfig {
    /// The entry of the clouds.yaml to use.
    #[schemars(length(min = 1))]
    pub cloud: String,
    /// The Secret (same namespace) holding a standard clouds.yaml.
    pub credentials_secret_ref: SecretKeyReference,
    /// Overrides the cloud's `region_name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Client-side limit of requests to this cloud, shared by every object using this ProviderConfig.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimit>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecretKeyReference {
    #[schemars(length(min = 1))]
    pub name: String,
    /// The key of the Secret's data; default `clouds.yaml`.
    #[serde(default = "default_key")]
    pub key: String,
}

fn default_key() -> String {
    "clouds.yaml".into()
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RateLimit {
    /// Sustained requests per second (default 10).
    #[serde(default = "default_rps")]
    #[schemars(range(min = 0.1, max = 10000.0))]
    pub requests_per_second: f64,
    /// Requests that may go at once after a quiet time (default 20).
    #[serde(default = "default_burst")]
    #[schemars(range(min = 1, max = 10000))]
    pub burst: u32,
}

fn default_rps() -> f64 {
    10.0
}

fn default_burst() -> u32 {
    20
}

impl Default for RateLimit {
    fn default() -> Self {
        Self { requests_per_second: default_rps(), burst: default_burst() }
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProviderConfigStatus {
    /// `Ready`: the credentials were accepted by the cloud.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(schema_with = "crate::schema::conditions")]
    pub conditions: Vec<Condition>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}
