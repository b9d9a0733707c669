//! The ProviderConfig controller: checks the credentials (status `Ready`),
//! and keeps the ProviderConfig and its Secret from being deleted while
//! managed objects still need them to delete their cloud objects (deleting
//! a namespace deletes the Secret too; without this guard every cloud object
//! of the namespace would leak).

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::{WatchStreamExt, reflector, watcher};
use kube::{Resource, ResourceExt};
use serde_json::json;
use terrane_api::{ProviderConfig, ProviderConfigStatus, reason};
use terrane_provider::Connector;
use tracing::{Instrument, info_span, warn};

use super::cache::CREDENTIALS_LABEL;
use super::env::{Shared, credentials_secret, provider_settings};
use super::finalizers;
use crate::reconciler::EnvError;

/// Held by a ProviderConfig and its Secret while managed objects use them.
pub const IN_USE_FINALIZER: &str = "terrane.dev/in-use";

#[derive(Debug, thiserror::Error)]
pub enum ProviderConfigError {
    #[error("{0}")]
    Env(#[from] EnvError),
    #[error("updating {what}: {source}")]
    Kube { what: String, source: kube::Error },
}

/// Adds (`in_use`) or removes the in-use finalizer; no request when already so.
pub async fn set_in_use<K>(api: &Api<K>, obj: &K, in_use: bool) -> Result<(), ProviderConfigError>
where
    K: Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    // A finalizer cannot be added to an object already being deleted.
    if in_use && obj.meta().deletion_timestamp.is_some() {
        return Ok(());
    }
    let result = if in_use {
        finalizers::update(api, obj, finalizers::with(IN_USE_FINALIZER)).await
    } else {
        finalizers::update(api, obj, finalizers::without(IN_USE_FINALIZER)).await
    };
    result.map_err(|source| ProviderConfigError::Kube { what: format!("finalizers of {}", obj.name_any()), source })
}

async fn reconcile(pc: Arc<ProviderConfig>, shared: Arc<Shared>) -> Result<Action, ProviderConfigError> {
    let ns = pc.namespace().unwrap_or_default();
    let name = pc.name_any();
    let client = &shared.client;
    let users = shared.caches.provider_config_users(&ns, &name);
    let in_use = !users.is_empty();
    let secrets: Api<Secret> = Api::namespaced(client.clone(), &ns);
    let secret_name = &pc.spec.openstack.credentials_secret_ref.name;
    if let Some(secret) = credentials_secret(&shared, &ns, secret_name).await? {
        // Another ProviderConfig may share the Secret: keep it while any is in use.
        let shared_use = in_use || secret_in_use_elsewhere(&shared, &ns, &name, secret_name);
        set_in_use(&secrets, &secret, shared_use).await?;
    }
    let configs: Api<ProviderConfig> = Api::namespaced(client.clone(), &ns);
    set_in_use(&configs, pc.as_ref(), in_use).await?;

    let deleting = pc.meta().deletion_timestamp.is_some();
    let (ready, why, message) = if deleting {
        (
            false,
            reason::DELETING,
            if in_use {
                format!("deletion waits until these are deleted: {}", users.join(", "))
            } else {
                "deleting".into()
            },
        )
    } else {
        match verify(&shared, &ns, &name).await {
            Ok(()) => (true, reason::SUCCESS, "the cloud accepted the credentials".to_string()),
            Err(EnvError::Credentials(e)) => (
                false,
                if e.is_retryable() { reason::TRANSIENT_ERROR } else { reason::INVALID_CONFIGURATION },
                e.to_string(),
            ),
            Err(e) => (false, reason::TRANSIENT_ERROR, e.to_string()),
        }
    };
    if !deleting || in_use {
        write_status(&configs, &pc, ready, why, &message).await?;
    }
    Ok(match (deleting, in_use, ready) {
        (true, true, _) => Action::requeue(Duration::from_secs(5)),
        (_, _, false) | (_, true, _) => Action::requeue(Duration::from_secs(60)),
        _ => Action::requeue(Duration::from_secs(600)),
    })
}

/// True when another ProviderConfig of `ns` naming `secret` is in use.
fn secret_in_use_elsewhere(shared: &Shared, ns: &str, this: &str, secret: &str) -> bool {
    shared.caches.provider_configs.state().iter().any(|p| {
        p.namespace().as_deref() == Some(ns)
            && p.name_any() != this
            && p.spec.openstack.credentials_secret_ref.name == secret
            && !shared.caches.provider_config_users(ns, &p.name_any()).is_empty()
    })
}

async fn verify(shared: &Shared, ns: &str, name: &str) -> Result<(), EnvError> {
    let settings = provider_settings(shared, ns, name).await?;
    let cloud = shared.connector.connect(&settings).await.map_err(EnvError::Credentials)?;
    shared.connector.verify(&cloud).await.map_err(EnvError::Credentials)
}

async fn write_status(
    api: &Api<ProviderConfig>,
    pc: &ProviderConfig,
    ready: bool,
    why: &str,
    message: &str,
) -> Result<(), ProviderConfigError> {
    let status = if ready { "True" } else { "False" };
    let previous = pc.status.as_ref().and_then(|s| s.conditions.iter().find(|c| c.type_ == "Ready"));
    if previous.is_some_and(|c| c.status == status && c.reason == why && c.message == message)
        && pc.status.as_ref().and_then(|s| s.observed_generation) == pc.meta().generation
    {
        return Ok(());
    }
    let last_transition_time = match previous {
        Some(c) if c.status == status => c.last_transition_time.clone(),
        _ => k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(k8s_openapi::jiff::Timestamp::now()),
    };
    let new = ProviderConfigStatus {
        conditions: vec![Condition {
            type_: "Ready".into(),
            status: status.into(),
            reason: why.into(),
            message: message.into(),
            observed_generation: pc.meta().generation,
            last_transition_time,
        }],
        observed_generation: pc.meta().generation,
    };
    api.patch_status(&pc.name_any(), &PatchParams::default(), &Patch::Merge(json!({ "status": new })))
        .await
        .map(|_| ())
        .map_err(|source| ProviderConfigError::Kube { what: "ProviderConfig status".into(), source })
}

/// Runs until `shutdown` resolves, filling the ProviderConfig store through
/// `writer`; a change of a ProviderConfig's spec or readiness wakes the
/// objects using it.
pub async fn run(
    shared: Arc<Shared>,
    namespace: Option<&str>,
    writer: reflector::store::Writer<ProviderConfig>,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) {
    let api = match namespace {
        Some(ns) => Api::<ProviderConfig>::namespaced(shared.client.clone(), ns),
        None => Api::<ProviderConfig>::all(shared.client.clone()),
    };
    let caches = shared.caches.clone();
    let changes = watcher(api, watcher::Config::default().any_semantic())
        .default_backoff()
        .reflect(writer)
        .inspect(move |event| {
            if let Ok(watcher::Event::InitDone) = event {
                caches.listed("ProviderConfig");
            }
            if let Ok(watcher::Event::Apply(pc) | watcher::Event::Delete(pc)) = event {
                let ready = pc
                    .status
                    .as_ref()
                    .is_some_and(|s| s.conditions.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
                if ready || pc.meta().deletion_timestamp.is_some() {
                    caches.wake_users(&pc.namespace().unwrap_or_default(), &pc.name_any());
                }
            }
        })
        .applied_objects();
    Controller::for_stream(changes, shared.caches.provider_configs.clone())
        .graceful_shutdown_on(shutdown)
        .run(
            |pc: Arc<ProviderConfig>, shared: Arc<Shared>| {
                let span = info_span!("reconcile", kind = "ProviderConfig", namespace = %pc.namespace().unwrap_or_default(), name = %pc.name_any());
                reconcile(pc, shared).instrument(span)
            },
            |pc, error: &ProviderConfigError, _| {
                warn!(name = %pc.name_any(), %error, "ProviderConfig reconcile failed");
                Action::requeue(Duration::from_secs(5))
            },
            shared,
        )
        .for_each(|_| futures::future::ready(()))
        .await;
}

/// Keeps the credential Secret store filled (only Secrets labelled
/// [`CREDENTIALS_LABEL`]); a change of their data wakes the objects using them.
pub async fn watch_credentials(
    shared: Arc<Shared>,
    namespace: Option<&str>,
    writer: reflector::store::Writer<Secret>,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) {
    let api = match namespace {
        Some(ns) => Api::<Secret>::namespaced(shared.client.clone(), ns),
        None => Api::<Secret>::all(shared.client.clone()),
    };
    let caches = shared.caches.clone();
    let config = watcher::Config::default().labels(CREDENTIALS_LABEL).any_semantic();
    let events = watcher(api, config).default_backoff().reflect(writer).for_each(move |event| {
        if let Ok(event) = &event {
            caches.on_secret_event(event);
        }
        futures::future::ready(())
    });
    tokio::select! {
        _ = events => {},
        _ = shutdown => {},
    }
}
