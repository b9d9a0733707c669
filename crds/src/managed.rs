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
    pub fn new(field: impl Into<String>, kind: &'static str, name: impl Into<String>) -> Self {
        Self { field: field.into(), kind, name: name.into() }
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
    fn status_mut(&mut self) -> &mut Option<ResourceStatus>;
    /// Every Terrane object this one refers to.
    fn references(&self) -> Vec<Reference>;
}

/// Implements [`ManagedObject`] for a kind whose spec has the standard
/// `common` (flattened), `import` and `resource` fields.
#[macro_export]
macro_rules! managed_object {
    ($kind:ty, $resource:ty, $filter:ty, |$this:ident| $refs:expr) => {
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
            fn status_mut(&mut self) -> &mut Option<$crate::common::ResourceStatus> {
                &mut self.status
            }
            fn references(&self) -> Vec<$crate::managed::Reference> {
                let $this = self;
                $refs
            }
        }
    };
}
