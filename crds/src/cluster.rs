//! `Cluster`: a Kubernetes cluster Terrane builds on plain compute (or takes
//! as given), publishes a kubeconfig for, and bootstraps from Git.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::{DeletionPolicy, LocalReference};

/// A Kubernetes cluster. With `backend: servers` Terrane generates its PKI
/// and bootstrap token and creates owned Port, Server and SecurityGroup
/// objects that boot with kubeadm; with `backend: existing` it takes a
/// kubeconfig Secret. Either way it publishes `<name>-kubeconfig` in
/// Cluster API's shape, reports the target's health, and applies
/// `bootstrap.git` into it.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[kube(
    group = "terrane.dev",
    version = "v1alpha1",
    kind = "Cluster",
    namespaced,
    status = "ClusterStatus",
    category = "terrane",
    shortname = "tcl",
    printcolumn = r#"{"name":"Backend","type":"string","jsonPath":".spec.backend"}"#,
    printcolumn = r#"{"name":"Endpoint","type":"string","jsonPath":".status.endpoint"}"#,
    printcolumn = r#"{"name":"Version","type":"string","jsonPath":".status.kubernetesVersion"}"#,
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name":"Reason","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].reason"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#,
    validation = kube::core::Rule::new("self.spec.backend != 'servers' || (has(self.spec.controlPlane) && has(self.spec.providerConfigRef))").message("backend servers needs controlPlane and providerConfigRef"),
    validation = kube::core::Rule::new("self.spec.backend != 'existing' || has(self.spec.existing)").message("backend existing needs existing.kubeconfigSecretRef"),
    validation = kube::core::Rule::new("self.spec.backend == oldSelf.spec.backend").message("backend is immutable")
)]
#[serde(rename_all = "camelCase")]
pub struct ClusterSpec {
    /// `servers` (Terrane builds it on plain compute) or `existing`.
    pub backend: ClusterBackend,
    /// The ProviderConfig the machines' objects use (backend servers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_config_ref: Option<LocalReference>,
    /// The Kubernetes version kubeadm installs (backend servers), e.g. `v1.36.0`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 64), regex(pattern = r"^v\d+\.\d+\.\d+.*$"))]
    pub kubernetes_version: Option<String>,
    /// Where the API is reached: a DNS name or address, in the API server
    /// certificate's names. Default (backend servers): the control plane's
    /// floating IP when it has one, else the first machine's fixed address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control_plane_endpoint: Option<ApiEndpoint>,
    /// The control-plane machines (backend servers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control_plane: Option<ControlPlane>,
    /// Worker pools (backend servers). Changing `replicas` adds or deletes machines.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 32))]
    pub workers: Vec<WorkerPool>,
    /// The cluster made elsewhere (backend existing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub existing: Option<ExistingCluster>,
    /// Publishes the endpoint as an A record in a Terrane Zone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_set: Option<EndpointRecord>,
    /// Also write an Argo CD cluster Secret (`<name>-argocd`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub argo_cd: Option<bool>,
    /// What to apply into the cluster once its API answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bootstrap: Option<Bootstrap>,
    /// `Delete` (default) removes the machines with the Cluster; `Orphan` leaves them.
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub enum ClusterBackend {
    #[serde(rename = "servers")]
    Servers,
    #[serde(rename = "existing")]
    Existing,
}

/// `host:port` of the Kubernetes API, as in Cluster API.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiEndpoint {
    #[schemars(length(min = 1, max = 253))]
    pub host: String,
    /// Default 6443.
    #[serde(default = "default_api_port")]
    #[schemars(range(min = 1, max = 65535))]
    pub port: i32,
}

fn default_api_port() -> i32 {
    6443
}

/// The machines of the control plane: one runs `kubeadm init`, the rest join.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ControlPlane {
    /// Default 1.
    #[serde(default = "one")]
    #[schemars(range(min = 1, max = 7))]
    pub replicas: i32,
    /// The Flavor of each machine.
    pub flavor_ref: LocalReference,
    /// An Image with kubeadm, kubelet and a container runtime.
    pub image_ref: LocalReference,
    /// The Network the machines' Ports are on.
    pub network_ref: LocalReference,
    /// The Subnet their addresses come from.
    pub subnet_ref: LocalReference,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_pair_ref: Option<LocalReference>,
    /// Gives the first control-plane machine a FloatingIP on this external Network.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub floating_network_ref: Option<LocalReference>,
}

fn one() -> i32 {
    1
}

/// A pool of worker machines; fields left out are the control plane's.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkerPool {
    /// Part of each machine's name (`<cluster>-<pool>-<n>`).
    #[schemars(length(min = 1, max = 20), regex(pattern = r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$"))]
    pub name: String,
    #[schemars(range(min = 0, max = 100))]
    pub replicas: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flavor_ref: Option<LocalReference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_ref: Option<LocalReference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_ref: Option<LocalReference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subnet_ref: Option<LocalReference>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExistingCluster {
    /// The Secret (same namespace) holding a kubeconfig for the cluster.
    pub kubeconfig_secret_ref: SecretKey,
}

/// A key of a Secret in the Cluster's namespace.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecretKey {
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// Default `value` (Cluster API's key).
    #[serde(default = "default_value_key")]
    pub key: String,
}

fn default_value_key() -> String {
    "value".into()
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EndpointRecord {
    /// The Zone the record goes in.
    pub zone_ref: LocalReference,
    /// The record's name relative to the zone (`api`).
    #[schemars(length(min = 1, max = 255))]
    pub name: String,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Bootstrap {
    pub git: GitSource,
}

/// A path of a Git repository at a branch, tag or commit.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GitSource {
    /// `https://`, `http://` or `git://`.
    #[schemars(length(min = 1, max = 2048))]
    pub url: String,
    #[serde(rename = "ref", default)]
    pub reference: GitReference,
    /// The directory whose YAML files are applied (default: the whole tree).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 1024))]
    pub path: Option<String>,
    /// A Secret with `username` and `password`, or `token`, for HTTP(S).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<LocalReference>,
    /// How often a branch is fetched again (`30s`, `5m`, `1h`; default `5m`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^([0-9]+h)?([0-9]+m)?([0-9]+s)?$"), length(min = 2, max = 16))]
    pub interval: Option<String>,
    /// `Reconcile` (default): apply new commits and repair drift in the target.
    /// `ApplyOnce`: apply the first revision and leave the target alone after.
    #[serde(default)]
    pub strategy: BootstrapStrategy,
    /// Delete from the target what a newer revision no longer has (only what Terrane applied).
    #[serde(default)]
    pub prune: bool,
}

/// Exactly one of branch, tag or commit; default branch `main`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [{"rule": "[has(self.branch), has(self.tag), has(self.commit)].filter(x, x).size() <= 1", "message": "ref takes at most one of branch, tag or commit"}]))]
pub struct GitReference {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 255))]
    pub branch: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 255))]
    pub tag: Option<String>,
    /// A full commit ID (40 hex digits): pinned, never moves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[0-9a-f]{40}$"))]
    pub commit: Option<String>,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum BootstrapStrategy {
    #[default]
    Reconcile,
    ApplyOnce,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClusterStatus {
    /// `Ready`: the API answers with the cluster's CA and the bootstrap is applied.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(schema_with = "crate::schema::conditions")]
    pub conditions: Vec<Condition>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// `https://host:port`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// What the target's `/version` reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kubernetes_version: Option<String>,
    /// Control-plane Nodes Ready in the target, and how many are wanted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control_plane: Option<MachineCount>,
    /// Worker Nodes Ready in the target, and how many are wanted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workers: Option<MachineCount>,
    /// When the admin client certificate in `<name>-kubeconfig` expires (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin_certificate_not_after: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bootstrap: Option<BootstrapStatus>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MachineCount {
    pub ready: i32,
    pub desired: i32,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BootstrapStatus {
    /// The commit last applied in full (the last good revision).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    /// The commit last tried, when it is not `revision` (it failed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempted_revision: Option<String>,
    /// Objects applied from `revision`.
    #[serde(default)]
    pub objects: i32,
    /// When `revision` was applied (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied_at: Option<String>,
    /// What Terrane applied from `revision`: what `prune` may delete.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inventory: Vec<InventoryEntry>,
}

/// One object applied into the target.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct InventoryEntry {
    pub api_version: String,
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
}

impl InventoryEntry {
    /// `Kind/ns/name` or `Kind/name`, for messages.
    pub fn describe(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{}/{ns}/{}", self.kind, self.name),
            None => format!("{}/{}", self.kind, self.name),
        }
    }
}
