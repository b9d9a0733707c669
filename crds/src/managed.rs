//! What the generic reconciler needs of every managed kind.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::common::{CommonSpec, Import, ResourceStatus};

/// A reference from one managed object to another, by kind and name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Reference {
    /// The spec field that holds it, for messages (`resource.networkRef`).
    pub field: String,
    pub kind: &'static str,
    pub name: String,
}

impl Reference {
    /// A reference held in spec `field` to the `T` object `name`.
    pub fn to<T: ManagedObject>(field: impl Into<String>, name: impl Into<String>) -> Self {
        Self { field: field.into(), kind: T::KIND, name: name.into() }
    }
}

/// Where a value the cloud object needs comes from, outside Terrane's own kinds.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum InputSource {
    /// One key of a Secret of the object's namespace.
    SecretKey { name: String, key: String },
    /// One key of a ConfigMap of the object's namespace.
    ConfigMapKey { name: String, key: String },
    /// The public half of an SSH key pair kept in a Secret of the object's
    /// namespace (`ssh-privatekey`, `ssh-publickey`); generated and stored,
    /// owned by the object, when the Secret does not exist.
    GeneratedSshKey { secret: String },
}

/// A value a spec field takes from an [`InputSource`].
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Input {
    /// The spec field it stands for (`resource.userData`): the key under
    /// which the provider finds the value.
    pub field: String,
    pub source: InputSource,
}

impl Input {
    /// `Secret/name key k`, for messages.
    pub fn describe(&self) -> String {
        match &self.source {
            InputSource::SecretKey { name, key } => format!("Secret/{name} key {key:?}"),
            InputSource::ConfigMapKey { name, key } => format!("ConfigMap/{name} key {key:?}"),
            InputSource::GeneratedSshKey { secret } => format!("Secret/{secret} (SSH key)"),
        }
    }
}

/// A Terrane kind whose objects stand for one cloud object each.
///
/// The reconciler relies on: `common()` and `resource()` being the spec as the
/// user wrote it; `references()` listing every other Terrane object the cloud
/// object needs, so it can wait for them to be Ready and guard them from
/// deletion.
pub trait ManagedObject:
    kube::Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>
    + Clone
    + std::fmt::Debug
    + Serialize
    + DeserializeOwned
    + Send
    + Sync
    + 'static
{
    /// The desired cloud object (`spec.resource`).
    type Resource: Clone + std::fmt::Debug + Serialize + Send + Sync;
    /// The fields `spec.import.filter` may match on.
    type Filter: Clone + std::fmt::Debug + Serialize + Send + Sync;

    const KIND: &'static str;

    fn common(&self) -> &CommonSpec;
    fn import(&self) -> Option<&Import<Self::Filter>>;
    fn resource(&self) -> Option<&Self::Resource>;
    fn status(&self) -> Option<&ResourceStatus>;
    /// Every Terrane object this one refers to.
    fn references(&self) -> Vec<Reference>;
    /// Every value taken from a Secret or ConfigMap (none by default).
    fn inputs(&self) -> Vec<Input> {
        Vec::new()
    }
}

/// Implements [`ManagedObject`] for a kind whose spec has the standard
/// `common` (flattened), `import` and `resource` fields.
#[macro_export]
macro_rules! managed_object {
    ($kind:ty, $resource:ty, $filter:ty, |$this:ident| $refs:expr $(, inputs: |$ithis:ident| $inputs:expr)?) => {
        impl $crate::managed::ManagedObject for $kind {
            type Resource = $resource;
            type Filter = $filter;
            const KIND: &'static str = stringify!($kind);

            fn common(&self) -> &$crate::common::CommonSpec {
                &self.spec.common
            }
            fn import(&self) -> Option<&$crate::common::Import<$filter>> {
                self.spec.import.as_ref()
            }
            fn resource(&self) -> Option<&$resource> {
                self.spec.resource.as_ref()
            }
            fn status(&self) -> Option<&$crate::common::ResourceStatus> {
                self.status.as_ref()
            }
            fn references(&self) -> Vec<$crate::managed::Reference> {
                let $this = self;
                $refs
            }
            $(
            fn inputs(&self) -> Vec<$crate::managed::Input> {
                let $ithis = self;
                $inputs
            }
            )?
        }
    };
}

/// Declares a managed kind whose spec is the standard `common` (flattened) +
/// `import` + `resource`, with the standard printer columns (after `columns`),
/// category `terrane`, the rule "resource, import, or both", and its
/// [`ManagedObject`] implementation.
#[macro_export]
macro_rules! managed_kind {
    (
        $(#[$meta:meta])*
        kind: $kind:ident $kind_name:tt, spec: $spec:ident, short: $short:tt,
        resource: $resource:ty, filter: $filter:ty,
        columns: [$($col:tt),*],
        references: |$this:ident| $refs:expr
        $(, inputs: |$ithis:ident| $inputs:expr)?
    ) => {
        $(#[$meta])*
        #[derive(kube::CustomResource, serde::Serialize, serde::Deserialize, Clone, Debug, PartialEq, schemars::JsonSchema)]
        #[kube(
            group = "terrane.dev", version = "v1alpha1", kind = $kind_name, namespaced,
            status = "ResourceStatus", category = "terrane", shortname = $short,
            $(printcolumn = $col,)*
            printcolumn = r#"{"name":"ID","type":"string","jsonPath":".status.id"}"#,
            printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#,
            printcolumn = r#"{"name":"Reason","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].reason"}"#,
            printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#,
            validation = kube::core::Rule::new("has(self.spec.resource) || has(self.spec.import)").message("spec needs resource, import, or both")
        )]
        #[serde(rename_all = "camelCase")]
        pub struct $spec {
            #[serde(flatten)]
            pub common: $crate::common::CommonSpec,
            /// Take over an existing cloud object instead of creating one.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub import: Option<$crate::common::Import<$filter>>,
            /// The desired cloud object. Fields left out keep the cloud's value.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub resource: Option<$resource>,
        }

        $crate::managed_object!($kind, $resource, $filter, |$this| $refs $(, inputs: |$ithis| $inputs)?);
    };
}
