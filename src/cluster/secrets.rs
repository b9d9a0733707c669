//! The Secrets a Cluster keeps in the management cluster, in Cluster API's
//! shape (type `cluster.x-k8s.io/secret`, label
//! `cluster.x-k8s.io/cluster-name`), so Flux's `kubeConfig.secretRef`,
//! Sveltos and Cluster API add-on tools read them unchanged.

use std::collections::BTreeMap;

use base64::Engine;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kube::{Resource, ResourceExt};
use serde_json::json;
use terrane_api::Cluster;

use super::pki::CertAndKey;

pub const SECRET_TYPE: &str = "cluster.x-k8s.io/secret";
pub const CLUSTER_NAME_LABEL: &str = "cluster.x-k8s.io/cluster-name";
/// The key of a kubeconfig or user-data Secret.
pub const VALUE_KEY: &str = "value";
pub const CERT_KEY: &str = "tls.crt";
pub const KEY_KEY: &str = "tls.key";
/// The key of the bootstrap token Secret.
pub const TOKEN_KEY: &str = "token";
/// On `<cluster>-kubeconfig`: when its client certificate expires (RFC 3339).
pub const NOT_AFTER_ANNOTATION: &str = "terrane.dev/client-certificate-not-after";
/// On `<cluster>-kubeconfig`: the endpoint it points at.
pub const ENDPOINT_ANNOTATION: &str = "terrane.dev/endpoint";

/// The CAs and keys a Cluster keeps, by Secret suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Ca,
    Etcd,
    Proxy,
    ServiceAccount,
}

impl Purpose {
    pub const ALL: [Purpose; 4] = [Purpose::Ca, Purpose::Etcd, Purpose::Proxy, Purpose::ServiceAccount];

    /// `<cluster>-ca`, `-etcd`, `-proxy`, `-sa`.
    pub fn secret_name(self, cluster: &str) -> String {
        let suffix = match self {
            Purpose::Ca => "ca",
            Purpose::Etcd => "etcd",
            Purpose::Proxy => "proxy",
            Purpose::ServiceAccount => "sa",
        };
        format!("{cluster}-{suffix}")
    }
}

pub fn kubeconfig_name(cluster: &str) -> String {
    format!("{cluster}-kubeconfig")
}

pub fn token_name(cluster: &str) -> String {
    format!("{cluster}-bootstrap-token")
}

pub fn argocd_name(cluster: &str) -> String {
    format!("{cluster}-argocd")
}

/// The controller owner reference to `cluster` (blocking its deletion until the object is gone).
pub fn owner(cluster: &Cluster) -> OwnerReference {
    cluster.controller_owner_ref(&()).unwrap_or_default()
}

/// A Secret of `cluster` named `name` with `data`, in Cluster API's shape.
pub fn secret(cluster: &Cluster, name: &str, data: BTreeMap<String, Vec<u8>>) -> Secret {
    Secret {
        metadata: ObjectMeta {
            name: Some(name.to_string()),
            namespace: cluster.namespace(),
            labels: Some(BTreeMap::from([
                (CLUSTER_NAME_LABEL.to_string(), cluster.name_any()),
                ("app.kubernetes.io/managed-by".to_string(), "terrane".to_string()),
            ])),
            owner_references: Some(vec![owner(cluster)]),
            ..Default::default()
        },
        type_: Some(SECRET_TYPE.into()),
        data: Some(data.into_iter().map(|(k, v)| (k, ByteString(v))).collect()),
        ..Default::default()
    }
}

/// The data of a CA or key-pair Secret.
pub fn key_pair_data(pair: &CertAndKey) -> BTreeMap<String, Vec<u8>> {
    BTreeMap::from([
        (CERT_KEY.to_string(), pair.cert.as_bytes().to_vec()),
        (KEY_KEY.to_string(), pair.key.as_bytes().to_vec()),
    ])
}

/// The certificate and key a CA Secret holds, if both are there as text.
pub fn key_pair_of(secret: &Secret) -> Option<CertAndKey> {
    let data = secret.data.as_ref()?;
    let text = |k: &str| data.get(k).and_then(|b| String::from_utf8(b.0.clone()).ok());
    Some(CertAndKey { cert: text(CERT_KEY)?, key: text(KEY_KEY)? })
}

/// One key of a Secret as text.
pub fn text_of(secret: &Secret, key: &str) -> Option<String> {
    secret.data.as_ref()?.get(key).and_then(|b| String::from_utf8(b.0.clone()).ok())
}

/// A self-contained kubeconfig (no exec plugin, everything inline) for the
/// cluster `name` at `server`, authenticating with a client certificate.
pub fn kubeconfig(name: &str, server: &str, ca_cert: &str, client: &CertAndKey) -> String {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s.as_bytes());
    let user = format!("{name}-admin");
    let context = format!("{user}@{name}");
    let doc = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{ "name": name, "cluster": { "server": server, "certificate-authority-data": b64(ca_cert) } }],
        "users": [{ "name": user, "user": { "client-certificate-data": b64(&client.cert), "client-key-data": b64(&client.key) } }],
        "contexts": [{ "name": context, "context": { "cluster": name, "user": user } }],
        "current-context": context,
    });
    serde_saphyr::to_string(&doc).unwrap_or_default()
}

/// An Argo CD cluster Secret for `server` with the same client certificate.
pub fn argocd_data(name: &str, server: &str, ca_cert: &str, client: &CertAndKey) -> BTreeMap<String, Vec<u8>> {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s.as_bytes());
    let config = json!({ "tlsClientConfig": { "caData": b64(ca_cert), "certData": b64(&client.cert), "keyData": b64(&client.key) } });
    BTreeMap::from([
        ("name".to_string(), name.as_bytes().to_vec()),
        ("server".to_string(), server.as_bytes().to_vec()),
        ("config".to_string(), config.to_string().into_bytes()),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::pki;

    #[test]
    fn the_kubeconfig_is_self_contained_and_loads_with_kubes_loader() {
        let ca = pki::new_ca("kubernetes").unwrap();
        let (client, _) =
            pki::client_certificate(&ca, "terrane-admin", &["system:masters"], std::time::Duration::from_secs(60))
                .unwrap();
        let text = kubeconfig("prod", "https://127.0.0.1:6443", &ca.cert, &client);
        let loaded = kube::config::Kubeconfig::from_yaml(&text).unwrap();
        assert_eq!(loaded.current_context.as_deref(), Some("prod-admin@prod"));
        let auth = loaded.auth_infos[0].auth_info.as_ref().unwrap();
        assert!(auth.exec.is_none() && auth.client_certificate_data.is_some() && auth.client_key_data.is_some());
        let cluster = loaded.clusters[0].cluster.as_ref().unwrap();
        assert_eq!(cluster.server.as_deref(), Some("https://127.0.0.1:6443"));
        assert!(cluster.certificate_authority_data.is_some());
    }
}
