//! Writing and removing the Terrane objects a Cluster owns. Applied with
//! server-side apply (field manager `terrane-cluster`), so a user's own
//! fields on them survive; found again by the `terrane.dev/cluster` label.

use std::collections::BTreeSet;
use std::fmt::Debug;

use k8s_openapi::NamespaceResourceScope;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams};
use kube::{Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;
use terrane_api::{Cluster, FloatingIP, ManagedObject, Port, RecordSet, SecurityGroup, Server};

use super::ClusterError;
use super::machines::CLUSTER_LABEL;

pub const FIELD_MANAGER: &str = "terrane-cluster";

/// A kind a Cluster creates objects of.
pub trait Child:
    Resource<Scope = NamespaceResourceScope, DynamicType = ()> + Clone + Debug + Serialize + DeserializeOwned + Send + Sync
{
}
impl<T> Child for T where
    T: Resource<Scope = NamespaceResourceScope, DynamicType = ()>
        + Clone
        + Debug
        + Serialize
        + DeserializeOwned
        + Send
        + Sync
{
}

fn api<K: Child>(client: &kube::Client, cluster: &Cluster) -> Api<K> {
    Api::namespaced(client.clone(), &cluster.namespace().unwrap_or_default())
}

fn selector(cluster: &Cluster) -> ListParams {
    ListParams::default().labels(&format!("{CLUSTER_LABEL}={}", cluster.name_any()))
}

/// The plurals of the kinds a Cluster creates and deletes objects of (for its RBAC).
pub fn owned_plurals() -> Vec<String> {
    fn plural<K: Child>() -> String {
        K::plural(&()).into_owned()
    }
    vec![plural::<SecurityGroup>(), plural::<Port>(), plural::<Server>(), plural::<FloatingIP>(), plural::<RecordSet>()]
}

/// Applies `object`; a refusal names the object and the apiserver's reason.
pub async fn apply<K: Child>(client: &kube::Client, cluster: &Cluster, object: &K) -> Result<K, ClusterError> {
    let name = object.name_any();
    let mut value = serde_json::to_value(object).map_err(|e| ClusterError::Invalid(e.to_string()))?;
    if let Some(map) = value.as_object_mut() {
        map.remove("status");
    }
    api::<K>(client, cluster)
        .patch(&name, &PatchParams::apply(FIELD_MANAGER).force(), &Patch::Apply(&value))
        .await
        .map_err(|e| match e {
            kube::Error::Api(s) if s.code == 422 => {
                ClusterError::Invalid(format!("{}/{name} refused: {}", K::kind(&()), s.message))
            }
            e => e.into(),
        })
}

/// The objects of kind `K` this Cluster owns.
pub async fn owned<K: Child>(client: &kube::Client, cluster: &Cluster) -> Result<Vec<K>, ClusterError> {
    let uid = cluster.uid().unwrap_or_default();
    Ok(api::<K>(client, cluster)
        .list(&selector(cluster))
        .await?
        .into_iter()
        .filter(|o| o.owner_references().iter().any(|r| r.uid == uid))
        .collect())
}

async fn delete<K: Child>(client: &kube::Client, cluster: &Cluster, name: &str) -> Result<(), ClusterError> {
    match api::<K>(client, cluster).delete(name, &DeleteParams::background()).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Deletes the owned `K` objects whose names are not in `keep`; returns
/// how many are still there (deleting takes the generic reconciler's time).
async fn delete_unwanted<K: Child + ManagedObject>(
    client: &kube::Client,
    cluster: &Cluster,
    keep: &BTreeSet<String>,
) -> Result<usize, ClusterError> {
    let mut left = 0;
    for o in owned::<K>(client, cluster).await? {
        if keep.contains(&o.name_any()) {
            continue;
        }
        left += 1;
        if o.meta().deletion_timestamp.is_none() {
            // The Cluster's deletion policy wins over what the child was made with.
            let policy = json!({ "spec": { "deletionPolicy": cluster.spec.deletion_policy } });
            if o.common().deletion_policy != cluster.spec.deletion_policy {
                api::<K>(client, cluster).patch(&o.name_any(), &PatchParams::default(), &Patch::Merge(&policy)).await?;
            }
            delete::<K>(client, cluster, &o.name_any()).await?;
        }
    }
    Ok(left)
}

/// What of the Cluster's objects stays besides its machines.
#[derive(Debug, Default, Clone, Copy)]
pub struct Keep<'a> {
    pub floating_ip: Option<&'a str>,
    pub security_group: Option<&'a str>,
    pub record_set: Option<&'a str>,
}

/// Removes every machine object not named in `machines` (Servers and their
/// Ports; the reconciler's guards let a Port go only after its Server), and
/// the FloatingIP, SecurityGroup and RecordSet unless `keep` names them.
/// Returns how many objects are still on their way out.
pub async fn delete_except(
    client: &kube::Client,
    cluster: &Cluster,
    machines: &BTreeSet<String>,
    keep: Keep<'_>,
) -> Result<usize, ClusterError> {
    let one = |n: Option<&str>| n.map(|n| BTreeSet::from([n.to_string()])).unwrap_or_default();
    let mut left = delete_unwanted::<RecordSet>(client, cluster, &one(keep.record_set)).await?;
    left += delete_unwanted::<Server>(client, cluster, machines).await?;
    left += delete_unwanted::<FloatingIP>(client, cluster, &one(keep.floating_ip)).await?;
    left += delete_unwanted::<Port>(client, cluster, machines).await?;
    left += delete_unwanted::<SecurityGroup>(client, cluster, &one(keep.security_group)).await?;
    Ok(left)
}

/// The `Ready` condition's message of `o` when it is not Ready.
pub fn not_ready<K: ManagedObject>(o: &K) -> Option<String> {
    let status = o.status();
    if status.is_some_and(|s| s.is_ready()) {
        return None;
    }
    let message = status
        .and_then(|s| s.condition(terrane_api::CONDITION_READY))
        .map(|c| c.message.clone())
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| "not reconciled yet".into());
    Some(format!("{}/{}: {message}", K::KIND, o.name_any()))
}

/// `status.resource` field `pointer` of `o` as text, once it is observed.
pub fn observed<K: ManagedObject>(o: &K, pointer: &str) -> Option<String> {
    o.status()?.resource.as_ref()?.pointer(pointer)?.as_str().filter(|s| !s.is_empty()).map(str::to_string)
}
