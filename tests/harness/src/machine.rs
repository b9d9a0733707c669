//! Plays the machines a `backend: servers` Cluster boots. The control-plane
//! machine: its user data (as Nova returns it: base64 of gzip) is unpacked,
//! the CAs and keys Terrane wrote there go where kubeadm puts them, and a
//! real kube-apiserver starts with exactly those at the endpoint of the
//! kubeadm configuration, with the RBAC `kubeadm init` sets up. A worker:
//! its join configuration's bootstrap token is used as a kubelet's TLS
//! bootstrap would (CSR as the token, signed by the cluster CA), and the
//! resulting node identity registers a Ready Node.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;

use base64::Engine;
use k8s_openapi::api::certificates::v1::CertificateSigningRequest;
use k8s_openapi::api::core::v1::Node;
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use serde_json::{Value, json};

use crate::kube_cluster::{KubeCluster, MachineStart};
use crate::{GroundError, Result, io, pki};

/// A machine's `#cloud-config`: its files by path, and its commands.
#[derive(Debug, Clone)]
pub struct CloudConfig {
    pub files: BTreeMap<String, String>,
    pub runcmd: Vec<String>,
}

fn bad(what: impl Into<String>) -> GroundError {
    GroundError::Kubeconfig(what.into())
}

impl CloudConfig {
    /// Nova's `user_data` (base64, here of gzip) unpacked.
    pub fn from_user_data(encoded: &str) -> Result<Self> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .map_err(|e| bad(format!("user data is not base64: {e}")))?;
        let mut text = String::new();
        flate2::read::GzDecoder::new(&bytes[..]).read_to_string(&mut text).map_err(io("un-gzipping user data"))?;
        if !text.starts_with("#cloud-config") {
            return Err(bad("user data is not #cloud-config"));
        }
        let doc: Value = serde_saphyr::from_str(&text).map_err(|e| bad(format!("user data YAML: {e}")))?;
        let files = doc["write_files"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|f| Some((f["path"].as_str()?.to_string(), f["content"].as_str()?.to_string())))
            .collect();
        let runcmd =
            doc["runcmd"].as_array().into_iter().flatten().filter_map(|c| c.as_str().map(str::to_string)).collect();
        Ok(Self { files, runcmd })
    }

    /// The kubeadm document of `kind` in `/run/kubeadm/kubeadm.yaml`.
    pub fn kubeadm(&self, kind: &str) -> Option<Value> {
        let text = self.files.get("/run/kubeadm/kubeadm.yaml")?;
        text.split("\n---")
            .filter_map(|d| serde_saphyr::from_str::<Value>(d.trim_start_matches("---")).ok())
            .find(|d| d["kind"] == kind)
    }

    /// The name the machine registers as.
    pub fn node_name(&self) -> Option<String> {
        ["InitConfiguration", "JoinConfiguration"]
            .iter()
            .find_map(|k| self.kubeadm(k)?["nodeRegistration"]["name"].as_str().map(str::to_string))
    }
}

/// The control-plane machine: an apiserver running on the machine's PKI.
pub struct ControlPlaneMachine {
    pub cluster: KubeCluster,
    dir: PathBuf,
}

fn kubeconfig_text(server: &str, ca_pem: &str, user: Value) -> String {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    json!({
        "apiVersion": "v1", "kind": "Config", "current-context": "c",
        "clusters": [{"name": "c", "cluster": {"server": server, "certificate-authority-data": b64(ca_pem)}}],
        "users": [{"name": "u", "user": user}],
        "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
    })
    .to_string()
}

async fn client_from(text: &str) -> Result<kube::Client> {
    let kc = Kubeconfig::from_yaml(text).map_err(|e| bad(e.to_string()))?;
    let config = kube::Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
        .await
        .map_err(|e| bad(e.to_string()))?;
    Ok(kube::Client::try_from(config)?)
}

fn ready_node(name: &str, control_plane: bool) -> Node {
    let mut labels = BTreeMap::from([("kubernetes.io/hostname".to_string(), name.to_string())]);
    if control_plane {
        labels.insert("node-role.kubernetes.io/control-plane".into(), String::new());
    }
    serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": labels},
    }))
    .unwrap_or_default()
}

async fn set_ready(api: &Api<Node>, name: &str) -> Result<()> {
    let now = k8s_openapi::jiff::Timestamp::now().to_string();
    let status = json!({"status": {"conditions": [{
        "type": "Ready", "status": "True", "reason": "KubeletReady", "message": "kubelet is posting ready status",
        "lastHeartbeatTime": now, "lastTransitionTime": now,
    }]}});
    api.patch_status(name, &PatchParams::default(), &Patch::Merge(&status)).await?;
    Ok(())
}

impl ControlPlaneMachine {
    /// Boots the first control-plane machine from its cloud-config.
    pub async fn boot(config: &CloudConfig) -> Result<Self> {
        let cluster_config = config.kubeadm("ClusterConfiguration").ok_or_else(|| bad("no ClusterConfiguration"))?;
        let endpoint = cluster_config["controlPlaneEndpoint"].as_str().ok_or_else(|| bad("no controlPlaneEndpoint"))?;
        let (host, port) = endpoint.rsplit_once(':').ok_or_else(|| bad("controlPlaneEndpoint has no port"))?;
        let port: u16 = port.parse().map_err(|_| bad("controlPlaneEndpoint port"))?;
        let mut sans = vec![host.to_string()];
        sans.extend(
            cluster_config["apiServer"]["certSANs"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|s| s.as_str().map(str::to_string)),
        );

        let dir = crate::ground_dir().join("clusters").join(crate::random_suffix(10));
        std::fs::create_dir_all(&dir).map_err(io("creating the machine's directory"))?;
        for (from, to) in [
            ("ca.crt", "ca.crt"),
            ("ca.key", "ca.key"),
            ("sa.pub", "sa.pub"),
            ("sa.key", "sa.key"),
            ("front-proxy-ca.crt", "front-proxy-ca.crt"),
            ("front-proxy-ca.key", "front-proxy-ca.key"),
            ("etcd/ca.crt", "etcd-ca.crt"),
        ] {
            let content = config
                .files
                .get(&format!("/etc/kubernetes/pki/{from}"))
                .ok_or_else(|| bad(format!("the user data has no /etc/kubernetes/pki/{from}")))?;
            std::fs::write(dir.join(to), content).map_err(io(format!("writing {to}")))?;
        }
        let cluster = KubeCluster::start_machine(dir.clone(), MachineStart { port, sans }).await?;

        // What `kubeadm init` sets up: the TLS bootstrap RBAC, and the Node
        // of the machine itself, labelled as control plane.
        let admin = cluster.client().await?;
        let bindings = Api::<k8s_openapi::api::rbac::v1::ClusterRoleBinding>::all(admin.clone());
        for (name, role) in [
            ("kubeadm:kubelet-bootstrap", "system:node-bootstrapper"),
            ("kubeadm:node-autoapprove-bootstrap", "system:certificates.k8s.io:certificatesigningrequests:nodeclient"),
        ] {
            let binding: k8s_openapi::api::rbac::v1::ClusterRoleBinding = serde_json::from_value(json!({
                "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": name},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
                "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:bootstrappers:kubeadm:default-node-token"}],
            }))
            .map_err(|e| bad(e.to_string()))?;
            bindings.patch(name, &PatchParams::apply("kubeadm").force(), &Patch::Apply(&binding)).await?;
        }
        if let Some(name) = config.node_name() {
            let nodes = Api::<Node>::all(admin);
            nodes.create(&PostParams::default(), &ready_node(&name, true)).await?;
            set_ready(&nodes, &name).await?;
        }
        Ok(Self { cluster, dir })
    }

    /// The cluster CA certificate the machine runs with.
    pub fn ca_pem(&self) -> Result<String> {
        std::fs::read_to_string(self.dir.join("ca.crt")).map_err(io("reading ca.crt"))
    }

    /// Joins a worker from its cloud-config as kubelet's TLS bootstrap
    /// would: checks the discovery CA hash, authenticates with the bootstrap
    /// token to file a CSR, signs it with the cluster CA (as the
    /// controller-manager's signer), then registers its Node with that
    /// identity and reports it Ready.
    pub async fn join_worker(&self, config: &CloudConfig) -> Result<String> {
        let join = config.kubeadm("JoinConfiguration").ok_or_else(|| bad("no JoinConfiguration"))?;
        let discovery = &join["discovery"]["bootstrapToken"];
        let token = discovery["token"].as_str().ok_or_else(|| bad("no bootstrap token"))?;
        let endpoint = discovery["apiServerEndpoint"].as_str().ok_or_else(|| bad("no apiServerEndpoint"))?;
        let name = config.node_name().ok_or_else(|| bad("no node name"))?;
        let ca = self.ca_pem()?;
        let expected = discovery["caCertHashes"][0].as_str().unwrap_or_default();
        let actual = ca_public_key_hash(&self.dir)?;
        if expected != actual {
            return Err(bad(format!("discovery hash {expected} is not the CA's {actual}")));
        }
        let server = format!("https://{endpoint}");
        let bootstrap = client_from(&kubeconfig_text(&server, &ca, json!({"token": token}))).await?;

        let (key, csr) = pki::key_and_csr(&self.dir, &name, &format!("/O=system:nodes/CN=system:node:{name}"))?;
        let csrs = Api::<CertificateSigningRequest>::all(bootstrap);
        let request = serde_json::from_value(json!({
            "apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest",
            "metadata": {"name": format!("node-csr-{name}")},
            "spec": {
                "request": base64::engine::general_purpose::STANDARD.encode(&csr),
                "signerName": "kubernetes.io/kube-apiserver-client-kubelet",
                "usages": ["digital signature", "client auth"],
            },
        }))
        .map_err(|e| bad(e.to_string()))?;
        csrs.create(&PostParams::default(), &request).await?;

        // The controller-manager's part: approve and sign.
        let admin = Api::<CertificateSigningRequest>::all(self.cluster.client().await?);
        let csr_name = format!("node-csr-{name}");
        let approval = json!({"status": {"conditions": [{"type": "Approved", "status": "True", "reason": "AutoApproved", "message": "the test approves kubelet client certificates"}]}});
        admin.patch_approval(&csr_name, &PatchParams::default(), &Patch::Merge(&approval)).await?;
        let cert = pki::sign_client_csr(&self.dir, &csr, &name)?;
        let signed = json!({"status": {"certificate": base64::engine::general_purpose::STANDARD.encode(&cert)}});
        admin.patch_status(&csr_name, &PatchParams::default(), &Patch::Merge(&signed)).await?;

        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        let kubelet = client_from(&kubeconfig_text(
            &server,
            &ca,
            json!({"client-certificate-data": b64(&cert), "client-key-data": b64(&key)}),
        ))
        .await?;
        let nodes = Api::<Node>::all(kubelet);
        nodes.create(&PostParams::default(), &ready_node(&name, false)).await?;
        set_ready(&nodes, &name).await?;
        Ok(name)
    }
}

fn ca_public_key_hash(dir: &std::path::Path) -> Result<String> {
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg("openssl x509 -in ca.crt -pubkey -noout | openssl pkey -pubin -outform der | sha256sum")
        .current_dir(dir)
        .output()
        .map_err(io("hashing the CA key"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    Ok(format!("sha256:{}", text.split_whitespace().next().unwrap_or_default()))
}
