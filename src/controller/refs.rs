//! Looking up referenced objects and referrers across every kind.

use kube::Api;
use kube::api::ListParams;
use terrane_api::{FloatingIP, ManagedObject, Network, Port, RecordSet, Router, RouterInterface, SecurityGroup, Subnet, Zone};

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
    };
}

async fn state_of<O: ManagedObject>(client: &kube::Client, ns: &str, name: &str) -> Result<RefState, EnvError> {
    let obj = Api::<O>::namespaced(client.clone(), ns).get_opt(name).await.map_err(|e| EnvError::Store(format!("reading {}/{name}: {e}", O::KIND)))?;
    Ok(match obj {
        None => RefState::Missing,
        Some(o) if o.meta().deletion_timestamp.is_some() => RefState::NotReady,
        Some(o) => match o.status() {
            Some(s) if s.is_ready() => s.id.clone().map(RefState::Ready).unwrap_or(RefState::NotReady),
            _ => RefState::NotReady,
        },
    })
}

/// The state of `kind/name` in namespace `ns`.
pub async fn resolve(client: &kube::Client, ns: &str, kind: &str, name: &str) -> Result<RefState, EnvError> {
    macro_rules! arm {
        ($t:ident) => {
            if kind == <$t as ManagedObject>::KIND {
                return state_of::<$t>(client, ns, name).await;
            }
        };
    }
    for_each_kind!(arm);
    Err(EnvError::Store(format!("unknown kind {kind}")))
}

async fn referrers_of<O: ManagedObject>(client: &kube::Client, ns: &str, kind: &str, name: &str, out: &mut Vec<String>) -> Result<(), EnvError> {
    let list = Api::<O>::namespaced(client.clone(), ns)
        .list(&ListParams::default())
        .await
        .map_err(|e| EnvError::Store(format!("listing {}s: {e}", O::KIND)))?;
    for o in list.items {
        if o.references().iter().any(|r| r.kind == kind && r.name == name) {
            out.push(format!("{}/{}", O::KIND, o.meta().name.clone().unwrap_or_default()));
        }
    }
    Ok(())
}

/// Every object of namespace `ns` that references `kind/name`.
pub async fn referrers(client: &kube::Client, ns: &str, kind: &str, name: &str) -> Result<Vec<String>, EnvError> {
    let mut out = Vec::new();
    macro_rules! arm {
        ($t:ident) => {
            referrers_of::<$t>(client, ns, kind, name, &mut out).await?;
        };
    }
    for_each_kind!(arm);
    Ok(out)
}

async fn users_of<O: ManagedObject>(client: &kube::Client, ns: &str, config: &str, out: &mut Vec<String>) -> Result<(), EnvError> {
    let list = Api::<O>::namespaced(client.clone(), ns)
        .list(&ListParams::default())
        .await
        .map_err(|e| EnvError::Store(format!("listing {}s: {e}", O::KIND)))?;
    for o in list.items {
        if o.common().provider_config_ref.name == config {
            out.push(format!("{}/{}", O::KIND, o.meta().name.clone().unwrap_or_default()));
        }
    }
    Ok(())
}

/// Every managed object of namespace `ns` that uses ProviderConfig `config`.
pub async fn provider_config_users(client: &kube::Client, ns: &str, config: &str) -> Result<Vec<String>, EnvError> {
    let mut out = Vec::new();
    macro_rules! arm {
        ($t:ident) => {
            users_of::<$t>(client, ns, config, &mut out).await?;
        };
    }
    for_each_kind!(arm);
    Ok(out)
}
