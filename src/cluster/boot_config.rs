//! The cloud-init user data a machine boots with: the cluster's CAs and keys
//! and a kubeadm configuration under `write_files`, and `kubeadm init` or
//! `kubeadm join` under `runcmd`, as Cluster API's kubeadm bootstrap writes
//! it. Gzipped and base64-encoded, because Nova refuses user data over 64 KiB.

use std::io::Write;

use base64::Engine;
use serde_json::{Value, json};

use super::pki::CertAndKey;

/// Where kubeadm reads its configuration on the machine.
pub const KUBEADM_CONFIG_PATH: &str = "/run/kubeadm/kubeadm.yaml";
/// The group kubeadm's default bootstrap tokens authenticate as.
pub const BOOTSTRAPPERS_GROUP: &str = "system:bootstrappers:kubeadm:default-node-token";

/// The keys every control-plane machine needs.
#[derive(Debug, Clone)]
pub struct ClusterPki {
    pub ca: CertAndKey,
    pub etcd: CertAndKey,
    pub front_proxy: CertAndKey,
    /// The service-account key pair (`cert` is the public key).
    pub service_account: CertAndKey,
}

/// What one machine does at boot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The first control-plane machine: `kubeadm init`.
    Init,
    /// Another control-plane machine: `kubeadm join --control-plane`.
    ControlPlane,
    Worker,
}

/// Everything a machine's boot configuration is made from.
#[derive(Debug, Clone, Copy)]
pub struct MachineBoot<'a> {
    pub cluster: &'a str,
    pub machine: &'a str,
    pub role: Role,
    /// `host:port` of the API.
    pub endpoint_host: &'a str,
    pub endpoint_port: i32,
    pub kubernetes_version: Option<&'a str>,
    pub token: &'a str,
    pub pki: &'a ClusterPki,
    /// `sha256:` hash of the cluster CA's public key, for discovery.
    pub ca_cert_hash: &'a str,
}

/// The `#cloud-config` document for `boot`.
pub fn cloud_config(boot: &MachineBoot<'_>) -> String {
    let mut files = Vec::new();
    if boot.role != Role::Worker {
        let pki = boot.pki;
        for (path, content, mode) in [
            ("ca.crt", &pki.ca.cert, "0640"),
            ("ca.key", &pki.ca.key, "0600"),
            ("etcd/ca.crt", &pki.etcd.cert, "0640"),
            ("etcd/ca.key", &pki.etcd.key, "0600"),
            ("front-proxy-ca.crt", &pki.front_proxy.cert, "0640"),
            ("front-proxy-ca.key", &pki.front_proxy.key, "0600"),
            ("sa.pub", &pki.service_account.cert, "0640"),
            ("sa.key", &pki.service_account.key, "0600"),
        ] {
            files.push(file(&format!("/etc/kubernetes/pki/{path}"), content, mode));
        }
    }
    files.push(file(KUBEADM_CONFIG_PATH, &kubeadm_config(boot), "0640"));
    files.push(file(
        "/run/cluster-api/placeholder",
        "This file is used by Terrane to mark the machine's boot.\n",
        "0640",
    ));
    let command = match boot.role {
        Role::Init => format!("kubeadm init --config {KUBEADM_CONFIG_PATH}"),
        Role::ControlPlane | Role::Worker => format!("kubeadm join --config {KUBEADM_CONFIG_PATH}"),
    };
    let doc = json!({
        "write_files": files,
        "runcmd": [format!("{command} && echo success > /run/cluster-api/bootstrap-success.complete")],
    });
    // serde_saphyr writes any serde value; a failure here is a bug in the value built above.
    let body = serde_saphyr::to_string(&doc).unwrap_or_default();
    format!("#cloud-config\n{body}")
}

fn file(path: &str, content: &str, permissions: &str) -> Value {
    json!({ "path": path, "owner": "root:root", "permissions": permissions, "content": content })
}

/// kubeadm's v1beta4 documents for the machine's role, one YAML stream.
pub fn kubeadm_config(boot: &MachineBoot<'_>) -> String {
    let endpoint = format!("{}:{}", boot.endpoint_host, boot.endpoint_port);
    let registration =
        json!({ "name": boot.machine, "kubeletExtraArgs": [{ "name": "cloud-provider", "value": "external" }] });
    let discovery = json!({
        "bootstrapToken": { "apiServerEndpoint": endpoint, "token": boot.token, "caCertHashes": [boot.ca_cert_hash] },
    });
    let mut docs = Vec::new();
    match boot.role {
        Role::Init => {
            let mut cluster = json!({
                "apiVersion": "kubeadm.k8s.io/v1beta4",
                "kind": "ClusterConfiguration",
                "clusterName": boot.cluster,
                "controlPlaneEndpoint": endpoint,
                "certificatesDir": "/etc/kubernetes/pki",
                "encryptionAlgorithm": "ECDSA-P256",
                "apiServer": { "certSANs": [boot.endpoint_host] },
            });
            if let Some(v) = boot.kubernetes_version {
                cluster["kubernetesVersion"] = json!(v);
            }
            docs.push(cluster);
            docs.push(json!({
                "apiVersion": "kubeadm.k8s.io/v1beta4",
                "kind": "InitConfiguration",
                "bootstrapTokens": [{
                    "token": boot.token,
                    "groups": [BOOTSTRAPPERS_GROUP],
                    "usages": ["signing", "authentication"],
                    "ttl": "24h0m0s",
                }],
                "localAPIEndpoint": { "bindPort": boot.endpoint_port },
                "nodeRegistration": registration,
            }));
        }
        Role::ControlPlane => docs.push(json!({
            "apiVersion": "kubeadm.k8s.io/v1beta4",
            "kind": "JoinConfiguration",
            "discovery": discovery,
            "controlPlane": { "localAPIEndpoint": { "bindPort": boot.endpoint_port } },
            "nodeRegistration": registration,
        })),
        Role::Worker => docs.push(json!({
            "apiVersion": "kubeadm.k8s.io/v1beta4",
            "kind": "JoinConfiguration",
            "discovery": discovery,
            "nodeRegistration": registration,
        })),
    }
    docs.iter().map(|d| format!("---\n{}", serde_saphyr::to_string(d).unwrap_or_default())).collect()
}

/// `text` gzipped, then base64: what Nova's `user_data` takes.
pub fn gzip_base64(text: &str) -> String {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    // Writing into a Vec cannot fail.
    let _ = encoder.write_all(text.as_bytes());
    let bytes = encoder.finish().unwrap_or_default();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;
    use crate::cluster::pki;

    fn pki() -> ClusterPki {
        let (public, private) = pki::service_account_keys().unwrap();
        ClusterPki {
            ca: pki::new_ca("kubernetes").unwrap(),
            etcd: pki::new_ca("etcd-ca").unwrap(),
            front_proxy: pki::new_ca("front-proxy-ca").unwrap(),
            service_account: CertAndKey { cert: public, key: private },
        }
    }

    fn boot<'a>(pki: &'a ClusterPki, role: Role) -> MachineBoot<'a> {
        MachineBoot {
            cluster: "prod",
            machine: "prod-cp-0",
            role,
            endpoint_host: "api.example.org",
            endpoint_port: 6443,
            kubernetes_version: Some("v1.36.0"),
            token: "abcdef.0123456789abcdef",
            pki,
            ca_cert_hash: "sha256:00",
        }
    }

    fn yaml(text: &str) -> Value {
        serde_saphyr::from_str(text).unwrap()
    }

    #[test]
    fn the_first_control_plane_machine_gets_every_key_and_runs_init() {
        let pki = pki();
        let doc = yaml(&cloud_config(&boot(&pki, Role::Init)));
        let files = doc["write_files"].as_array().unwrap();
        let content =
            |p: &str| files.iter().find(|f| f["path"] == p).map(|f| f["content"].as_str().unwrap().to_string());
        assert_eq!(content("/etc/kubernetes/pki/ca.key").as_deref(), Some(pki.ca.key.as_str()));
        assert_eq!(content("/etc/kubernetes/pki/sa.pub").as_deref(), Some(pki.service_account.cert.as_str()));
        assert_eq!(content("/etc/kubernetes/pki/etcd/ca.crt").as_deref(), Some(pki.etcd.cert.as_str()));
        let kubeadm = content(KUBEADM_CONFIG_PATH).unwrap();
        assert!(kubeadm.contains("controlPlaneEndpoint: api.example.org:6443"), "{kubeadm}");
        assert!(kubeadm.contains("kind: InitConfiguration") && kubeadm.contains("abcdef.0123456789abcdef"));
        assert!(doc["runcmd"][0].as_str().unwrap().starts_with("kubeadm init --config /run/kubeadm/kubeadm.yaml"));
    }

    #[test]
    fn a_worker_gets_no_keys_and_joins_with_the_token() {
        let pki = pki();
        let text = cloud_config(&boot(&pki, Role::Worker));
        assert!(!text.contains("PRIVATE KEY"));
        let doc = yaml(&text);
        assert!(doc["runcmd"][0].as_str().unwrap().starts_with("kubeadm join"));
        assert!(text.contains("kind: JoinConfiguration") && text.contains("apiServerEndpoint: api.example.org:6443"));
    }

    #[test]
    fn gzipped_user_data_fits_novas_limit_and_unzips_to_the_same_text() {
        let pki = pki();
        let text = cloud_config(&boot(&pki, Role::Init));
        let encoded = gzip_base64(&text);
        assert!(encoded.len() < 65535 && encoded.len() < text.len(), "{} of {}", encoded.len(), text.len());
        let bytes = base64::engine::general_purpose::STANDARD.decode(&encoded).unwrap();
        let mut back = String::new();
        flate2::read::GzDecoder::new(&bytes[..]).read_to_string(&mut back).unwrap();
        assert_eq!(back, text);
    }
}
