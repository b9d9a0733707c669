//! The Cluster's Secrets in the management cluster: made once and read back
//! ever after (the CAs, the service-account keys, the bootstrap token, each
//! machine's user data), or rotated (the admin kubeconfig).

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::core::v1::Secret;
use kube::ResourceExt;
use kube::api::{Api, Patch, PatchParams, PostParams};
use terrane_api::Cluster;

use super::ClusterError;
use super::boot_config::ClusterPki;
use super::pki::{self, CertAndKey};
use super::secrets::{self, Purpose};

/// How long the admin client certificate is valid; a new one is issued once
/// less than a third of it is left.
pub const ADMIN_CERT_VALIDITY: Duration = Duration::from_secs(24 * 3600);
/// The admin's user and group in the target (`system:masters`: no RBAC binding needed).
pub const ADMIN_USER: &str = "terrane-admin";
pub const ADMIN_GROUP: &str = "system:masters";

fn api(cluster: &Cluster, client: &kube::Client) -> Api<Secret> {
    Api::namespaced(client.clone(), &cluster.namespace().unwrap_or_default())
}

/// Creates Secret `name` with `data` unless it exists, and returns the one
/// that is there: a crash or a second replica never replaces a key in use.
async fn create_once(
    api: &Api<Secret>,
    cluster: &Cluster,
    name: &str,
    make: impl FnOnce() -> Result<BTreeMap<String, Vec<u8>>, ClusterError>,
) -> Result<Secret, ClusterError> {
    if let Some(s) = api.get_opt(name).await? {
        return owned_by(s, cluster, name);
    }
    let secret = secrets::secret(cluster, name, make()?);
    match api.create(&PostParams::default(), &secret).await {
        Ok(s) => Ok(s),
        Err(kube::Error::Api(s)) if s.code == 409 => owned_by(api.get(name).await?, cluster, name),
        Err(e) => Err(e.into()),
    }
}

fn owned_by(secret: Secret, cluster: &Cluster, name: &str) -> Result<Secret, ClusterError> {
    let uid = cluster.uid().unwrap_or_default();
    if secret.owner_references().iter().any(|o| o.uid == uid) {
        Ok(secret)
    } else {
        Err(ClusterError::Invalid(format!(
            "Secret/{name} exists and is not this Cluster's; delete or rename it (Terrane keeps the cluster's keys there)"
        )))
    }
}

/// The cluster's CAs and service-account keys, generated on first use.
pub async fn ensure_pki(client: &kube::Client, cluster: &Cluster) -> Result<ClusterPki, ClusterError> {
    let api = api(cluster, client);
    let name = cluster.name_any();
    let mut pairs = Vec::new();
    for purpose in Purpose::ALL {
        let secret_name = purpose.secret_name(&name);
        let secret = create_once(&api, cluster, &secret_name, || {
            let pair = match purpose {
                Purpose::Ca => pki::new_ca("kubernetes")?,
                Purpose::Etcd => pki::new_ca("etcd-ca")?,
                Purpose::Proxy => pki::new_ca("front-proxy-ca")?,
                Purpose::ServiceAccount => {
                    let (public, private) = pki::service_account_keys()?;
                    CertAndKey { cert: public, key: private }
                }
            };
            Ok(secrets::key_pair_data(&pair))
        })
        .await?;
        let pair = secrets::key_pair_of(&secret).ok_or_else(|| {
            ClusterError::Invalid(format!(
                "Secret/{secret_name} lacks tls.crt or tls.key; delete it to have it made again"
            ))
        })?;
        pairs.push(pair);
    }
    let [ca, etcd, front_proxy, service_account]: [CertAndKey; 4] =
        pairs.try_into().map_err(|_| ClusterError::Invalid("the cluster's key Secrets are incomplete".into()))?;
    Ok(ClusterPki { ca, etcd, front_proxy, service_account })
}

/// The cluster's bootstrap token, made on first use.
pub async fn ensure_token(client: &kube::Client, cluster: &Cluster) -> Result<String, ClusterError> {
    let api = api(cluster, client);
    let name = secrets::token_name(&cluster.name_any());
    let secret = create_once(&api, cluster, &name, || {
        Ok(BTreeMap::from([(secrets::TOKEN_KEY.to_string(), pki::bootstrap_token().into_bytes())]))
    })
    .await?;
    secrets::text_of(&secret, secrets::TOKEN_KEY)
        .ok_or_else(|| ClusterError::Invalid(format!("Secret/{name} has no token; delete it to have one made")))
}

/// The machine's user-data Secret, written once: a machine boots with what
/// it was created with, later spec changes reach new machines only.
pub async fn ensure_user_data(
    client: &kube::Client,
    cluster: &Cluster,
    name: &str,
    make: impl FnOnce() -> String,
) -> Result<(), ClusterError> {
    let api = api(cluster, client);
    create_once(&api, cluster, name, || {
        Ok(BTreeMap::from([
            (secrets::VALUE_KEY.to_string(), make().into_bytes()),
            ("format".to_string(), b"cloud-config".to_vec()),
        ]))
    })
    .await
    .map(|_| ())
}

/// Writes `<cluster>-kubeconfig` for `server` with a fresh admin client
/// certificate when it is missing, points elsewhere, or its certificate
/// has less than a third of its validity left. Returns the kubeconfig and
/// its certificate's expiry (RFC 3339).
pub async fn ensure_kubeconfig(
    client: &kube::Client,
    cluster: &Cluster,
    server: &str,
    ca: &CertAndKey,
) -> Result<(String, String), ClusterError> {
    let api = api(cluster, client);
    let name = secrets::kubeconfig_name(&cluster.name_any());
    let existing = api.get_opt(&name).await?;
    if let Some(s) = &existing {
        owned_by(s.clone(), cluster, &name)?;
        let annotations = s.annotations();
        let not_after = annotations.get(secrets::NOT_AFTER_ANNOTATION).cloned().unwrap_or_default();
        let same_endpoint = annotations.get(secrets::ENDPOINT_ANNOTATION).is_some_and(|e| e == server);
        let argo_ok = cluster.spec.argo_cd != Some(true)
            || api.get_opt(&secrets::argocd_name(&cluster.name_any())).await?.is_some();
        let keep = same_endpoint && argo_ok && !needs_rotation(&not_after, chrono::Utc::now());
        if let (true, Some(text)) = (keep, secrets::text_of(s, secrets::VALUE_KEY)) {
            return Ok((text, not_after));
        }
    }
    let (client_cert, expiry) = pki::client_certificate(ca, ADMIN_USER, &[ADMIN_GROUP], ADMIN_CERT_VALIDITY)?;
    let not_after = chrono::DateTime::from_timestamp(expiry.unix_timestamp(), 0)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let text = secrets::kubeconfig(&cluster.name_any(), server, &ca.cert, &client_cert);
    let mut secret =
        secrets::secret(cluster, &name, BTreeMap::from([(secrets::VALUE_KEY.into(), text.clone().into_bytes())]));
    secret.metadata.annotations = Some(BTreeMap::from([
        (secrets::NOT_AFTER_ANNOTATION.to_string(), not_after.clone()),
        (secrets::ENDPOINT_ANNOTATION.to_string(), server.to_string()),
    ]));
    api.patch(&name, &PatchParams::apply("terrane").force(), &Patch::Apply(&secret)).await?;
    if cluster.spec.argo_cd == Some(true) {
        let argo = secrets::argocd_name(&cluster.name_any());
        let mut s =
            secrets::secret(cluster, &argo, secrets::argocd_data(&cluster.name_any(), server, &ca.cert, &client_cert));
        s.type_ = Some("Opaque".into());
        s.metadata.labels.get_or_insert_default().insert("argocd.argoproj.io/secret-type".into(), "cluster".into());
        api.patch(&argo, &PatchParams::apply("terrane").force(), &Patch::Apply(&s)).await?;
    }
    Ok((text, not_after))
}

/// True when a certificate expiring at `not_after` (RFC 3339) has less
/// than a third of [`ADMIN_CERT_VALIDITY`] left at `now`, or the time is unreadable.
pub fn needs_rotation(not_after: &str, now: chrono::DateTime<chrono::Utc>) -> bool {
    let third = chrono::Duration::from_std(ADMIN_CERT_VALIDITY / 3).unwrap_or_else(|_| chrono::Duration::hours(8));
    chrono::DateTime::parse_from_rfc3339(not_after).map_or(true, |t| t.with_timezone(&chrono::Utc) - now <= third)
}

/// `<cluster>-kubeconfig` as a copy of the kubeconfig the user gave
/// (backend existing), unless the user's Secret is that one.
pub async fn publish_kubeconfig(client: &kube::Client, cluster: &Cluster, text: &str) -> Result<(), ClusterError> {
    let name = secrets::kubeconfig_name(&cluster.name_any());
    if cluster.spec.existing.as_ref().is_some_and(|e| e.kubeconfig_secret_ref.name == name) {
        return Ok(());
    }
    let secret =
        secrets::secret(cluster, &name, BTreeMap::from([(secrets::VALUE_KEY.into(), text.as_bytes().to_vec())]));
    api(cluster, client).patch(&name, &PatchParams::apply("terrane").force(), &Patch::Apply(&secret)).await?;
    Ok(())
}

/// The text of key `key` of Secret `name` in the Cluster's namespace.
pub async fn read_key(
    client: &kube::Client,
    cluster: &Cluster,
    name: &str,
    key: &str,
) -> Result<Option<String>, ClusterError> {
    let secret = api(cluster, client).get_opt(name).await?;
    Ok(secret.and_then(|s| secrets::text_of(&s, key)))
}

/// The Secrets this Cluster owns (its keys, token, kubeconfig, user data).
async fn owned_secrets(api: &Api<Secret>, cluster: &Cluster) -> Result<Vec<Secret>, ClusterError> {
    let selector = format!("{}={}", secrets::CLUSTER_NAME_LABEL, cluster.name_any());
    let uid = cluster.uid().unwrap_or_default();
    Ok(api
        .list(&kube::api::ListParams::default().labels(&selector))
        .await?
        .into_iter()
        .filter(|s| s.owner_references().iter().any(|o| o.uid == uid))
        .collect())
}

async fn delete_secret(api: &Api<Secret>, name: &str) -> Result<(), ClusterError> {
    match api.delete(name, &Default::default()).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(e)) if e.code == 404 => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Deletes the user-data Secrets of machines no longer wanted, once their
/// Server (of `servers`, the Cluster's current ones) is gone: a Server
/// being deleted may still read its user data.
pub async fn delete_unused_user_data(
    client: &kube::Client,
    cluster: &Cluster,
    machines: &std::collections::BTreeSet<String>,
    servers: &[terrane_api::Server],
) -> Result<(), ClusterError> {
    let api = api(cluster, client);
    for s in owned_secrets(&api, cluster).await? {
        let name = s.name_any();
        let Some(machine) = name.strip_suffix("-userdata") else { continue };
        if !machines.contains(machine) && !servers.iter().any(|v| v.name_any() == machine) {
            delete_secret(&api, &name).await?;
        }
    }
    Ok(())
}

/// Deletes the Secrets this Cluster owns.
pub async fn delete_owned(client: &kube::Client, cluster: &Cluster) -> Result<(), ClusterError> {
    let api = api(cluster, client);
    for s in owned_secrets(&api, cluster).await? {
        delete_secret(&api, &s.name_any()).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_admin_certificate_is_rotated_once_a_third_of_its_life_is_left() {
        let now = chrono::Utc::now();
        let at = |hours: i64| (now + chrono::Duration::hours(hours)).to_rfc3339();
        assert!(!needs_rotation(&at(23), now), "fresh");
        assert!(!needs_rotation(&at(9), now), "more than 8 of 24 hours left");
        assert!(needs_rotation(&at(7), now), "less than a third left");
        assert!(needs_rotation(&at(-1), now), "expired");
        assert!(needs_rotation("", now), "unknown expiry");
    }
}
