//! Reaching a target cluster through a kubeconfig: its health (version,
//! Nodes Ready) and the bootstrap token its joining machines use.

use std::time::Duration;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::{Node, Secret};
use kube::api::{Api, ListParams, Patch, PatchParams};
use kube::config::{KubeConfigOptions, Kubeconfig};

use super::boot_config::BOOTSTRAPPERS_GROUP;

/// Why a target cluster could not be used. Messages name the endpoint and
/// never carry a credential.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("the kubeconfig is not usable: {0}")]
    Kubeconfig(String),
    #[error("API not answering at {endpoint}: {message}")]
    NotAnswering { endpoint: String, message: String },
    #[error("the target refused {what}: {message}")]
    Refused { what: String, message: String },
}

/// A client of the target cluster.
#[derive(Clone)]
pub struct Target {
    pub client: kube::Client,
    /// `https://host:port`, for messages.
    pub endpoint: String,
}

/// What the target reports about itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Health {
    pub version: String,
    pub control_plane_ready: i32,
    pub workers_ready: i32,
}

/// The error `e` with its causes, one line.
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text = format!("{text}: {s_text}");
        }
        source = s.source();
    }
    text
}

/// A client for the kubeconfig `text` (its current context). Only the
/// kubeconfig's own CA is trusted.
pub async fn connect(text: &str) -> Result<Target, TargetError> {
    let kubeconfig = Kubeconfig::from_yaml(text).map_err(|e| TargetError::Kubeconfig(chain(&e)))?;
    let mut config = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .map_err(|e| TargetError::Kubeconfig(chain(&e)))?;
    config.connect_timeout = Some(Duration::from_secs(5));
    config.read_timeout = Some(Duration::from_secs(15));
    let endpoint = config.cluster_url.to_string().trim_end_matches('/').to_string();
    let client = kube::Client::try_from(config).map_err(|e| TargetError::Kubeconfig(chain(&e)))?;
    Ok(Target { client, endpoint })
}

impl Target {
    fn not_answering(&self, e: &kube::Error) -> TargetError {
        let host = self.endpoint.trim_start_matches("https://").trim_start_matches("http://").to_string();
        TargetError::NotAnswering { endpoint: host, message: chain(e) }
    }

    /// The version the API reports and the Ready Nodes by role.
    pub async fn health(&self) -> Result<Health, TargetError> {
        let version = self.client.apiserver_version().await.map_err(|e| self.not_answering(&e))?;
        let nodes = Api::<Node>::all(self.client.clone())
            .list(&ListParams::default())
            .await
            .map_err(|e| self.not_answering(&e))?;
        let mut health = Health { version: version.git_version, ..Default::default() };
        for node in nodes {
            let ready = node
                .status
                .as_ref()
                .and_then(|s| s.conditions.as_ref())
                .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
            if !ready {
                continue;
            }
            let control_plane =
                node.metadata.labels.as_ref().is_some_and(|l| l.contains_key("node-role.kubernetes.io/control-plane"));
            if control_plane {
                health.control_plane_ready += 1;
            } else {
                health.workers_ready += 1;
            }
        }
        Ok(health)
    }

    /// Keeps `kube-system/bootstrap-token-<id>` valid for a day from now,
    /// refreshed once less than 16 hours are left, as Cluster API's kubeadm
    /// bootstrap does: machines added later still join.
    pub async fn ensure_bootstrap_token(&self, token: &str) -> Result<(), TargetError> {
        let Some((id, secret)) = token.split_once('.') else {
            return Err(TargetError::Kubeconfig("the bootstrap token is malformed".into()));
        };
        let name = format!("bootstrap-token-{id}");
        let api = Api::<Secret>::namespaced(self.client.clone(), "kube-system");
        let existing = api.get_opt(&name).await.map_err(|e| self.not_answering(&e))?;
        let now = chrono::Utc::now();
        let fresh = existing
            .as_ref()
            .and_then(|s| s.data.as_ref()?.get("expiration").cloned())
            .and_then(|b| String::from_utf8(b.0).ok())
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(&t).ok())
            .is_some_and(|exp| exp.with_timezone(&chrono::Utc) - now > chrono::Duration::hours(16));
        if fresh {
            return Ok(());
        }
        let expiration = (now + chrono::Duration::hours(24)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let data = [
            ("token-id", id),
            ("token-secret", secret),
            ("usage-bootstrap-authentication", "true"),
            ("usage-bootstrap-signing", "true"),
            ("auth-extra-groups", BOOTSTRAPPERS_GROUP),
            ("expiration", expiration.as_str()),
        ];
        let body = Secret {
            metadata: kube::api::ObjectMeta {
                name: Some(name.clone()),
                namespace: Some("kube-system".into()),
                ..Default::default()
            },
            type_: Some("bootstrap.kubernetes.io/token".into()),
            data: Some(data.iter().map(|(k, v)| (k.to_string(), ByteString(v.as_bytes().to_vec()))).collect()),
            ..Default::default()
        };
        api.patch(&name, &PatchParams::apply("terrane").force(), &Patch::Apply(&body)).await.map(|_| ()).map_err(|e| {
            match e {
                kube::Error::Api(s) => {
                    TargetError::Refused { what: format!("Secret/kube-system/{name}"), message: s.message }
                }
                e => self.not_answering(&e),
            }
        })
    }
}
