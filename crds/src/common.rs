//! The parts every managed kind shares: policies, references, import, status.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Whether Terrane may change the cloud object.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum ManagementPolicy {
    /// Create, update and delete the cloud object.
    #[default]
    Managed,
    /// Only observe an existing (imported) cloud object; never change or delete it.
    ObserveOnly,
}

/// What happens to the cloud object when the Kubernetes object is deleted.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum DeletionPolicy {
    /// Delete the cloud object.
    #[default]
    Delete,
    /// Leave the cloud object in place.
    Orphan,
}

/// A reference to another Terrane object of the same namespace.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, JsonSchema)]
pub struct LocalReference {
    /// The name of the referenced object.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
}

impl LocalReference {
    pub fn new(name: impl Into<String>) -> Self {
        Self { name: name.into() }
    }
}

/// The fields every managed kind's spec starts with.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CommonSpec {
    /// The ProviderConfig (same namespace) whose credentials reach the cloud.
    pub provider_config_ref: LocalReference,
    /// `Managed` (default) or `ObserveOnly`.
    #[serde(default)]
    pub management_policy: ManagementPolicy,
    /// `Delete` (default) or `Orphan`.
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,
}

/// Take over an existing cloud object instead of creating one: by ID, or by a
/// filter that must match exactly one object.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [{"rule": "has(self.id) != has(self.filter)", "message": "import needs exactly one of id or filter"}]))]
pub struct Import<F> {
    /// The cloud ID of the object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Fields the object must match; exactly one object may match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<F>,
}

/// The status every managed kind shares.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResourceStatus {
    /// The cloud ID of the object. Written right after the cloud creates it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Set just before a create is sent (RFC 3339), cleared once its ID is
    /// stored or the cloud refused it. While set, a cloud object may exist
    /// that `id` does not name yet: Terrane looks for it by its ownership
    /// marker before creating again, and before letting the object go on
    /// deletion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_create: Option<String>,
    /// While `pendingCreate` is set: since when the ownership-marker look-up
    /// has come back empty without a break (RFC 3339). A create is sent again
    /// only once this is older than twice the cloud request timeout, so a
    /// create whose answer was lost (a timeout, a dropped connection, a 5xx)
    /// can still land and be adopted instead of duplicated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marker_absent_since: Option<String>,
    /// The cloud object as last observed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::schema::preserve_unknown_object")]
    pub resource: Option<serde_json::Value>,
    /// `Ready` and `Synced`, kstatus-compatible.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(schema_with = "crate::schema::conditions")]
    pub conditions: Vec<Condition>,
    /// The generation the conditions describe.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// When the cloud object was last observed (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_sync_time: Option<String>,
}

impl ResourceStatus {
    pub fn condition(&self, type_: &str) -> Option<&Condition> {
        self.conditions.iter().find(|c| c.type_ == type_)
    }

    pub fn is_ready(&self) -> bool {
        self.condition(CONDITION_READY).is_some_and(|c| c.status == "True")
    }
}

/// True when the cloud object matches the spec of `observedGeneration`.
pub const CONDITION_READY: &str = "Ready";
/// Whether the last reconcile reached the cloud and did what it had to.
pub const CONDITION_SYNCED: &str = "Synced";

/// Condition reasons.
pub mod reason {
    pub const SUCCESS: &str = "Success";
    pub const PROGRESSING: &str = "Progressing";
    pub const WAITING: &str = "Waiting";
    pub const TRANSIENT_ERROR: &str = "TransientError";
    pub const INVALID_CONFIGURATION: &str = "InvalidConfiguration";
    pub const UNRECOVERABLE: &str = "Unrecoverable";
    pub const DELETING: &str = "Deleting";
}
