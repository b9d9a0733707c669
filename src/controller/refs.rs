//! Looking up referenced objects and referrers across every kind.

use kube::Api;
use kube::api::ListParams;
use terrane_api::{
    Flavor, FloatingIP, Image, KeyPair, ManagedObject, Network, Port, RecordSet, Router, RouterInterface,
    SecurityGroup, Server, Subnet, Volume, Zone,
};

use crate::reconciler::{EnvError, RefState};

/// Calls `$m!(Type)` for every managed kind.
macro_rules! for_each_kind {
    ($m:ident) => {
        $m!(Network);
        $m!(Subnet);
        $m!(Router);
        $m!(RouterInterface);
        $m!(SecurityGroup);
        $m!(Port);
        $m!(FloatingIP);
        $m!(Zone);
        $m!(RecordSet);
        $m!(Flavor);
        $m!(Image);
        $m!(KeyPair);
        $m!(Volume);
        $m!(Server);
    };
}

async fn state_of<O: ManagedObject>(
    client: &kube::Client,
    ns: &str,
    name: &str,
    in_use: bool,
) -> Result<RefState, EnvError> {
    let obj = Api::<O>::namespaced(client.clone(), ns)
        .get_opt(name)
        .await
        .map_err(|e| EnvError::Store(format!("reading {}/{name}: {e}", O::KIND)))?;
    Ok(match obj {
        None => RefState::Missing,
        // Being deleted, but kept (with its cloud object) while referenced: a
        // referrer that already has its cloud object keeps working until it
        // lets go; a new one waits.
        Some(o) if o.meta().deletion_timestamp.is_some() => match o.status().filter(|_| in_use) {
            Some(s) => {
                s.id.clone()
                    .map(|id| RefState::Ready(id, s.resource.clone().unwrap_or_default()))
                    .unwrap_or(RefState::NotReady)
            }
            None => RefState::NotReady,
        },
        Some(o) => match o.status() {
            Some(s) if s.is_ready() => {
                s.id.clone()
                    .map(|id| RefState::Ready(id, s.resource.clone().unwrap_or_default()))
                    .unwrap_or(RefState::NotReady)
            }
            _ => RefState::NotReady,
        },
    })
}

/// The state of `kind/name` in namespace `ns`, for a referrer whose cloud
/// object exists (`in_use`) or not.
pub async fn resolve(
    client: &kube::Client,
    ns: &str,
    kind: &str,
    name: &str,
    in_use: bool,
) -> Result<RefState, EnvError> {
    macro_rules! arm {
        ($t:ident) => {
            if kind == <$t as ManagedObject>::KIND {
                return state_of::<$t>(client, ns, name, in_use).await;
            }
        };
    }
    for_each_kind!(arm);
    Err(EnvError::Store(format!("unknown kind {kind}")))
}

/// Adds `Kind/name` of every `O` in namespace `ns` for which `keep` holds.
async fn scan<O: ManagedObject>(
    client: &kube::Client,
    ns: &str,
    keep: &(dyn Fn(&dyn Scanned) -> bool + Sync),
    out: &mut Vec<String>,
) -> Result<(), EnvError> {
    let list = Api::<O>::namespaced(client.clone(), ns)
        .list(&ListParams::default())
        .await
        .map_err(|e| EnvError::Store(format!("listing {}s: {e}", O::KIND)))?;
    for o in list.items.iter().filter(|o| keep(*o)) {
        out.push(format!("{}/{}", O::KIND, o.meta().name.clone().unwrap_or_default()));
    }
    Ok(())
}

/// What a scan may look at, for every kind alike.
pub trait Scanned {
    fn provider_config(&self) -> &str;
    fn refers_to(&self, kind: &str, name: &str) -> bool;
}

impl<O: ManagedObject> Scanned for O {
    fn provider_config(&self) -> &str {
        &self.common().provider_config_ref.name
    }
    fn refers_to(&self, kind: &str, name: &str) -> bool {
        self.references().iter().any(|r| r.kind == kind && r.name == name)
    }
}

/// Every object of namespace `ns` matching `keep`, as `Kind/name`.
async fn scan_all(
    client: &kube::Client,
    ns: &str,
    keep: &(dyn Fn(&dyn Scanned) -> bool + Sync),
) -> Result<Vec<String>, EnvError> {
    let mut out = Vec::new();
    macro_rules! arm {
        ($t:ident) => {
            scan::<$t>(client, ns, keep, &mut out).await?;
        };
    }
    for_each_kind!(arm);
    Ok(out)
}

/// Every object of namespace `ns` that references `kind/name`.
pub async fn referrers(client: &kube::Client, ns: &str, kind: &str, name: &str) -> Result<Vec<String>, EnvError> {
    scan_all(client, ns, &|o| o.refers_to(kind, name)).await
}

/// Every managed object of namespace `ns` that uses ProviderConfig `config`.
pub async fn provider_config_users(client: &kube::Client, ns: &str, config: &str) -> Result<Vec<String>, EnvError> {
    scan_all(client, ns, &|o| o.provider_config() == config).await
}
