//! One generic reconciler per managed kind, reached by kind name with the
//! object as JSON (the local driver holds manifests, not typed objects).

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value;
use terrane_openstack::CloudClient;
use terrane_provider::ExternalKind;

use super::env::LocalEnv;
use crate::reconciler::{Outcome, PlanStep, Reconciler};

/// The reconciler of one kind, taking its objects as JSON. An error is a
/// value that does not parse as the kind (the source was checked, so this
/// is a state file edited by hand).
#[async_trait]
pub trait Driver: Send + Sync {
    async fn plan(&self, object: Value, env: &LocalEnv) -> Result<PlanStep, String>;
    async fn apply(&self, object: Value, env: &LocalEnv) -> Result<Outcome, String>;
    async fn cleanup(&self, object: Value, env: &LocalEnv) -> Result<Outcome, String>;
}

#[async_trait]
impl<K> Driver for Reconciler<K>
where
    K: ExternalKind<Cloud = CloudClient>,
    K::Object: serde::de::DeserializeOwned,
{
    async fn plan(&self, object: Value, env: &LocalEnv) -> Result<PlanStep, String> {
        let obj: K::Object = serde_json::from_value(object).map_err(|e| e.to_string())?;
        Ok(Reconciler::plan(self, &obj, env).await)
    }

    async fn apply(&self, object: Value, env: &LocalEnv) -> Result<Outcome, String> {
        let obj: K::Object = serde_json::from_value(object).map_err(|e| e.to_string())?;
        Ok(Reconciler::apply(self, &obj, env).await)
    }

    async fn cleanup(&self, object: Value, env: &LocalEnv) -> Result<Outcome, String> {
        let obj: K::Object = serde_json::from_value(object).map_err(|e| e.to_string())?;
        Ok(Reconciler::cleanup(self, &obj, env).await)
    }
}

/// Every managed kind's reconciler by kind name. `unanswered_create_wait`
/// as in the controller: how long a create in doubt is looked for by its
/// marker before it is sent again.
pub fn all(unanswered_create_wait: Duration) -> BTreeMap<&'static str, Box<dyn Driver>> {
    // Drift checks are not periodic here: every run observes afresh.
    let resync = Duration::from_secs(600);
    macro_rules! drivers {
        ($($api:ident => $provider:ident),* $(,)?) => {
            BTreeMap::from([$((
                <terrane_api::$api as terrane_api::ManagedObject>::KIND,
                Box::new(Reconciler::new(terrane_openstack::kinds::$provider, resync, unanswered_create_wait))
                    as Box<dyn Driver>,
            )),*])
        };
    }
    crate::for_each_kind!(drivers)
}

/// The position of `kind` in the kinds table (dependency order), for
/// deleting in reverse.
pub fn rank(kind: &str) -> usize {
    crate::kinds::all().iter().position(|k| k.kind == kind).unwrap_or(usize::MAX)
}
