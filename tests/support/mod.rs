//! What every controller test needs: a namespace with the CRDs, a
//! ProviderConfig for the ground's `demo` cloud, a controller process watching
//! only that namespace, and waits that fail with the object's conditions.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Event, Secret};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::{Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use terrane_api::ManagedObject;
use terrane_openstack::CloudClient;
use terrane_testground::{KubeCluster, RequestCounter, TestNamespace};

pub const PROVIDER: &str = "ground";

/// A running `terrane controller` limited to one namespace; killed on drop.
pub struct ControllerProcess {
    child: Child,
    pub log: PathBuf,
}

impl ControllerProcess {
    pub fn start(namespace: &str, extra_env: &[(&str, &str)]) -> Self {
        Self::start_with(namespace, extra_env, &[])
    }

    pub fn start_with(namespace: &str, extra_env: &[(&str, &str)], extra_args: &[&str]) -> Self {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("controller-logs");
        std::fs::create_dir_all(&dir).expect("log dir");
        let log = dir.join(format!("{namespace}.log"));
        let file = std::fs::OpenOptions::new().create(true).append(true).open(&log).expect("log file");
        let err = file.try_clone().expect("log file");
        let kubeconfig = KubeCluster::shared_handle().kubeconfig_path();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_terrane"));
        cmd.args(["controller", "--namespace", namespace, "--metrics-addr", "127.0.0.1:0", "--resync-seconds", "4"])
            .env("KUBECONFIG", kubeconfig)
            .args(extra_args)
            .env("RUST_LOG", "info,terrane=debug")
            .stdin(Stdio::null())
            .stdout(file)
            .stderr(err);
        for (k, v) in extra_env {
            assert!(
                *k != "TERRANE_FAILPOINT" || cfg!(feature = "failpoints"),
                "crash tests need the test build: cargo test --features failpoints (tests/ground/ground.sh test does)"
            );
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("start terrane controller");
        Self { child, log }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits for the process to exit by itself (a failpoint), returning its code.
    pub fn wait_exit(&mut self, secs: u64) -> Option<i32> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        None
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for ControllerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A namespace with a ProviderConfig named [`PROVIDER`] and a controller.
pub struct Env {
    pub ns: TestNamespace,
    pub controller: Option<ControllerProcess>,
    pub cloud: Arc<CloudClient>,
    pub counter: Arc<RequestCounter>,
}

pub async fn install_crds(client: &kube::Client) {
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    for crd in terrane::kinds::crds() {
        let name = crd.name_any();
        api.patch(&name, &PatchParams::apply("terrane-tests").force(), &Patch::Apply(&crd))
            .await
            .unwrap_or_else(|e| panic!("apply CRD {name}: {e}"));
        let established = kube::runtime::wait::await_condition(
            api.clone(),
            &name,
            kube::runtime::wait::conditions::is_crd_established(),
        );
        tokio::time::timeout(Duration::from_secs(30), established).await.expect("CRD established").expect("watch CRD");
    }
}

impl Env {
    /// Namespace, CRDs, credentials Secret, ProviderConfig and a running controller.
    pub async fn new(prefix: &str) -> Self {
        let env = Self::without_controller(prefix).await;
        Self { controller: Some(ControllerProcess::start(&env.ns.name, &[])), ..env }
    }

    pub async fn without_controller(prefix: &str) -> Self {
        let ns = TestNamespace::new(prefix).await.expect("ground kube-apiserver");
        install_crds(&ns.client).await;
        let clouds = terrane_testground::clouds_yaml_text().expect("ground clouds.yaml");
        secret(&ns, "ground-clouds", &clouds).await;
        create(
            &ns.api::<terrane_api::ProviderConfig>(),
            json!({
                "apiVersion": "terrane.dev/v1alpha1", "kind": "ProviderConfig",
                "metadata": {"name": PROVIDER},
                "spec": {"openstack": {"cloud": "demo", "credentialsSecretRef": {"name": "ground-clouds"}}}
            }),
        )
        .await;
        let (cloud, counter) = terrane_testground::cloud_client("demo").expect("cloud client");
        Self { ns, controller: None, cloud, counter }
    }

    pub fn api<K>(&self) -> Api<K>
    where
        K: Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>,
    {
        self.ns.api::<K>()
    }

    pub fn start_controller(&mut self, extra_env: &[(&str, &str)]) {
        self.controller = Some(ControllerProcess::start(&self.ns.name, extra_env));
    }

    pub fn start_controller_with(&mut self, extra_env: &[(&str, &str)], extra_args: &[&str]) {
        self.controller = Some(ControllerProcess::start_with(&self.ns.name, extra_env, extra_args));
    }

    pub fn stop_controller(&mut self) {
        self.controller = None;
    }

    /// What the running controller's `/metrics` says.
    pub async fn controller_metrics(&self) -> Option<ControllerMetrics> {
        let log = self.controller.as_ref()?.log_text();
        // The log is appended to across restarts: the last start is the running one.
        let line = log.lines().rev().find(|l| l.contains("serving /metrics"))?;
        let clean: String = line.chars().filter(|c| c.is_ascii_graphic() || *c == ' ').collect();
        let port: u16 = clean
            .split("127.0.0.1:")
            .nth(1)?
            .chars()
            .take_while(char::is_ascii_digit)
            .collect::<String>()
            .parse()
            .ok()?;
        let text = plain_http_get(port, "/metrics").await;
        let sum = |prefix: &str| {
            text.lines()
                .filter(|l| l.starts_with(prefix))
                .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
                .sum()
        };
        Some(ControllerMetrics {
            requests: sum("terrane_cloud_requests_total"),
            reconciles: sum("terrane_reconciles_total"),
            text,
        })
    }

    /// Events recorded for `name`, as `reason: note` lines.
    pub async fn events(&self, name: &str) -> Vec<String> {
        let events: Api<Event> = self.api();
        let list = events.list(&ListParams::default()).await.expect("list events");
        list.items
            .into_iter()
            .filter(|e| e.involved_object.name.as_deref() == Some(name))
            .map(|e| format!("{}: {}", e.reason.unwrap_or_default(), e.message.unwrap_or_default()))
            .collect()
    }

    /// Deletes every Terrane object of the namespace, waits until they are
    /// gone (so the cloud is clean), then the namespace.
    /// With a controller running, also waits until the namespace is gone
    /// (the controller releases the ProviderConfig and Secret last).
    pub async fn teardown(self) {
        teardown_all(&self).await;
        let (client, name, watching) = (self.ns.client.clone(), self.ns.name.clone(), self.controller.is_some());
        self.ns.delete().await.expect("delete namespace");
        if watching {
            let namespaces: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client);
            let deadline = Instant::now() + Duration::from_secs(60);
            while namespaces.get_opt(&name).await.ok().flatten().is_some() {
                assert!(Instant::now() < deadline, "teardown: namespace {name} still there after 60s");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
}

async fn teardown_all(env: &Env) {
    // Dependents first (the kinds table in reverse), so the namespace empties
    // in the order Terrane deletes.
    let client = env.ns.client.clone();
    // Clusters first: they delete the objects they own.
    let apis: Vec<_> = std::iter::once("Cluster")
        .chain(terrane::kinds::all().into_iter().rev().map(|k| k.kind))
        .map(|k| terrane_api(&client, &env.ns.name, k))
        .collect();
    for api in &apis {
        let _ = api.delete_collection(&DeleteParams::default(), &ListParams::default()).await;
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let mut left = 0;
        for api in &apis {
            left += api.list(&ListParams::default()).await.map(|l| l.items.len()).unwrap_or(0);
        }
        if left == 0 {
            return;
        }
        assert!(Instant::now() < deadline, "teardown: {left} objects still present after 120s");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// A dynamic API for Terrane kind `kind` in namespace `ns`, its plural taken from the CRDs.
pub fn terrane_api(client: &kube::Client, ns: &str, kind: &str) -> Api<kube::api::DynamicObject> {
    let crd = terrane::kinds::crds()
        .into_iter()
        .find(|c| c.spec.names.kind == kind)
        .unwrap_or_else(|| panic!("no CRD for {kind}"));
    let gvk = kube::api::GroupVersionKind::gvk(terrane_api::GROUP, terrane_api::VERSION, kind);
    Api::namespaced_with(
        client.clone(),
        ns,
        &kube::api::ApiResource::from_gvk_with_plural(&gvk, &crd.spec.names.plural),
    )
}

/// Totals from a controller's `/metrics`.
pub struct ControllerMetrics {
    pub requests: u64,
    pub reconciles: u64,
    pub text: String,
}

/// GET over plain HTTP on loopback without another client dependency.
async fn plain_http_get(port: u16, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.expect("connect metrics");
    s.write_all(format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").as_bytes()).await.expect("write");
    let mut out = String::new();
    s.read_to_string(&mut out).await.expect("read");
    out
}

pub async fn secret(ns: &TestNamespace, name: &str, clouds_yaml: &str) {
    let s: Secret = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": name},
        "stringData": {"clouds.yaml": clouds_yaml}
    }))
    .expect("secret");
    ns.api::<Secret>().create(&PostParams::default(), &s).await.expect("create secret");
}

pub async fn create<K>(api: &Api<K>, value: Value) -> K
where
    K: Clone + DeserializeOwned + Serialize + std::fmt::Debug,
{
    let obj: K = serde_json::from_value(value).expect("valid object");
    api.create(&PostParams::default(), &obj).await.expect("create")
}

/// Creates and returns the admission error's message instead of panicking.
pub async fn create_rejected<K>(api: &Api<K>, value: Value) -> String
where
    K: Clone + DeserializeOwned + Serialize + std::fmt::Debug,
{
    let obj: K = serde_json::from_value(value).expect("valid object");
    match api.create(&PostParams::default(), &obj).await {
        Ok(_) => panic!("the apiserver accepted an object it should refuse"),
        Err(e) => e.to_string(),
    }
}

pub async fn merge<K>(api: &Api<K>, name: &str, patch: Value) -> Result<K, kube::Error>
where
    K: Clone + DeserializeOwned + std::fmt::Debug,
{
    api.patch(name, &PatchParams::default(), &Patch::Merge(patch)).await
}

fn conditions<K: ManagedObject>(obj: &K) -> String {
    obj.status().map(|s| serde_json::to_string(&s.conditions).unwrap_or_default()).unwrap_or_else(|| "no status".into())
}

/// Polls `name` until `check` holds; panics with its conditions after `secs`.
pub async fn wait_for<K: ManagedObject>(
    api: &Api<K>,
    name: &str,
    secs: u64,
    what: &str,
    check: impl Fn(&K) -> bool,
) -> K {
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut last = None;
    loop {
        if let Ok(Some(obj)) = api.get_opt(name).await {
            if check(&obj) {
                return obj;
            }
            last = Some(obj);
        }
        if Instant::now() > deadline {
            panic!(
                "{} {name}: not {what} after {secs}s; conditions: {}",
                K::KIND,
                last.as_ref().map(conditions).unwrap_or_else(|| "object not found".into())
            );
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

pub async fn wait_ready<K: ManagedObject>(api: &Api<K>, name: &str) -> K {
    wait_for(api, name, 90, "Ready", |o| {
        o.status().is_some_and(|s| s.is_ready() && s.observed_generation == o.meta().generation)
    })
    .await
}

/// The controller's cloud request timeout in the tests (its default).
pub const CLOUD_TIMEOUT_SECS: u64 = 30;

/// Waits until Ready has `reason` and its message contains `text`.
pub async fn wait_reason<K: ManagedObject>(api: &Api<K>, name: &str, reason: &str, text: &str) -> K {
    wait_reason_within(api, name, reason, text, 90).await
}

/// [`wait_reason`] for up to `secs`.
pub async fn wait_reason_within<K: ManagedObject>(api: &Api<K>, name: &str, reason: &str, text: &str, secs: u64) -> K {
    wait_for(api, name, secs, &format!("{reason} ({text})"), |o| {
        o.status().and_then(|s| s.condition("Ready")).is_some_and(|c| c.reason == reason && c.message.contains(text))
    })
    .await
}

pub async fn wait_gone<K: ManagedObject>(api: &Api<K>, name: &str, secs: u64) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while let Ok(Some(obj)) = api.get_opt(name).await {
        assert!(
            Instant::now() < deadline,
            "{} {name} still exists after {secs}s; conditions: {}",
            K::KIND,
            conditions(&obj)
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

pub fn id_of<K: ManagedObject>(obj: &K) -> String {
    obj.status().and_then(|s| s.id.clone()).expect("status.id is set")
}

/// GET a Neutron object; `None` when it is gone.
pub async fn neutron_get(cloud: &CloudClient, plural: &str, singular: &str, id: &str) -> Option<Value> {
    match cloud.get(terrane_openstack::Service::Network, &format!("/v2.0/{plural}/{id}")).await {
        Ok(r) => Some(r.body[singular].clone()),
        Err(e) if e.status() == Some(404) => None,
        Err(e) => panic!("GET {plural}/{id}: {e}"),
    }
}

/// Every Neutron object of `plural` in the demo project whose name is `name`.
pub async fn neutron_named(cloud: &CloudClient, plural: &str, name: &str) -> Vec<Value> {
    let r = cloud.get(terrane_openstack::Service::Network, &format!("/v2.0/{plural}?name={name}")).await.expect("list");
    r.body[plural].as_array().cloned().unwrap_or_default()
}

pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", terrane_testground::random_suffix(6))
}

/// A Terrane object of `kind` using the test's ProviderConfig (unless the
/// spec names another).
pub fn terrane_obj(kind: &str, name: &str, spec: Value) -> Value {
    let mut spec = spec;
    if spec.get("providerConfigRef").is_none() {
        spec["providerConfigRef"] = json!({"name": PROVIDER});
    }
    json!({"apiVersion": "terrane.dev/v1alpha1", "kind": kind, "metadata": {"name": name}, "spec": spec})
}

/// Cloud requests the running controller made, by `service` and `method`
/// (from its `/metrics`).
pub async fn controller_requests(env: &Env, service: &str, method: &str) -> u64 {
    let Some(m) = env.controller_metrics().await else { return 0 };
    m.text
        .lines()
        .filter(|l| l.starts_with("terrane_cloud_requests_total"))
        .filter(|l| l.contains(&format!("service=\"{service}\"")) && l.contains(&format!("method=\"{method}\"")))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

/// Every document of `deploy/examples/<file>` created in the namespace as
/// is, in file order, with the test's ProviderConfig and (when given) the
/// zone name replaced; returns `(kind, name)` of each.
pub async fn apply_example(env: &Env, file: &str, zone: Option<&str>) -> Vec<(String, String)> {
    apply_example_with(env, file, |doc| {
        if let Some(zone) = zone.filter(|_| doc["kind"] == "Zone") {
            doc["spec"]["resource"]["name"] = json!(zone);
        }
    })
    .await
}

/// [`apply_example`] with `edit` applied to each document first.
pub async fn apply_example_with(env: &Env, file: &str, edit: impl Fn(&mut Value)) -> Vec<(String, String)> {
    let path = format!("{}/deploy/examples/{file}", env!("CARGO_MANIFEST_DIR"));
    let yaml = std::fs::read_to_string(&path).expect("example");
    let docs: Vec<Value> = serde_saphyr::from_multiple(&yaml).expect("example YAML");
    let mut objects = Vec::new();
    for mut doc in docs {
        doc["spec"]["providerConfigRef"]["name"] = json!(PROVIDER);
        edit(&mut doc);
        let kind = doc["kind"].as_str().expect("kind").to_string();
        let obj: kube::api::DynamicObject = serde_json::from_value(doc).expect("object");
        let name = obj.metadata.name.clone().expect("name");
        terrane_api(&env.ns.client, &env.ns.name, &kind)
            .create(&PostParams::default(), &obj)
            .await
            .unwrap_or_else(|e| panic!("the API accepts {kind}/{name}: {e}"));
        objects.push((kind, name));
    }
    objects
}

fn dynamic_ready(o: &kube::api::DynamicObject) -> bool {
    o.data["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|c| c["type"] == "Ready" && c["status"] == "True")
}

/// Waits until every one of `objects` is Ready; panics after `secs` listing
/// what still waits and why.
pub async fn wait_all_ready(env: &Env, objects: &[(String, String)], secs: u64) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let mut waiting = Vec::new();
        for (kind, name) in objects {
            let o = terrane_api(&env.ns.client, &env.ns.name, kind).get(name).await.expect("get");
            if !dynamic_ready(&o) {
                let message =
                    o.data["status"]["conditions"][0]["message"].as_str().unwrap_or("no status yet").to_string();
                waiting.push(format!("{kind}/{name}: {message}"));
            }
        }
        if waiting.is_empty() {
            return;
        }
        assert!(Instant::now() < deadline, "everything Ready within {secs}s; still waiting: {waiting:#?}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Deletes the namespace and waits until it is gone; returns how long it took.
pub async fn delete_namespace(env: &Env, secs: u64) -> Duration {
    let namespaces: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(env.ns.client.clone());
    let started = Instant::now();
    namespaces.delete(&env.ns.name, &Default::default()).await.expect("delete namespace");
    while namespaces.get_opt(&env.ns.name).await.expect("get namespace").is_some() {
        assert!(started.elapsed() < Duration::from_secs(secs), "the namespace is gone within {secs}s");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    started.elapsed()
}

/// What bind9 on the ground answers for `name` (A records).
pub fn dig(name: &str) -> std::collections::BTreeSet<String> {
    let out = Command::new("dig").args(["+short", "@127.0.0.1", name, "A"]).output().expect("run dig");
    String::from_utf8_lossy(&out.stdout).lines().filter(|l| !l.is_empty()).map(str::to_string).collect()
}

/// The Ready condition of Cluster `name` as `(status, reason, message)`.
pub async fn cluster_ready(env: &Env, name: &str) -> Option<(String, String, String)> {
    let c = env.api::<terrane_api::Cluster>().get_opt(name).await.ok()??;
    let r = c.status?.conditions.into_iter().find(|c| c.type_ == "Ready")?;
    Some((r.status, r.reason, r.message))
}

/// Waits until Cluster `name` passes `check`, for at most `secs`; panics
/// with its last Ready condition otherwise.
pub async fn wait_cluster(
    env: &Env,
    name: &str,
    secs: u64,
    what: &str,
    check: impl Fn(&terrane_api::Cluster) -> bool,
) -> terrane_api::Cluster {
    let api = env.api::<terrane_api::Cluster>();
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Ok(Some(c)) = api.get_opt(name).await
            && check(&c)
        {
            return c;
        }
        if Instant::now() > deadline {
            panic!("Cluster/{name}: {what} not reached in {secs}s; Ready: {:?}", cluster_ready(env, name).await);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// True when the Cluster's Ready condition is True.
pub fn cluster_is_ready(c: &terrane_api::Cluster) -> bool {
    c.status.as_ref().is_some_and(|s| s.conditions.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

/// The Cluster's Ready message.
pub fn cluster_message(c: &terrane_api::Cluster) -> String {
    c.status
        .as_ref()
        .and_then(|s| s.conditions.iter().find(|c| c.type_ == "Ready"))
        .map(|c| c.message.clone())
        .unwrap_or_default()
}

/// A self-contained kubeconfig (CA inline, admin token) for `cluster`.
pub fn inline_kubeconfig(cluster: &KubeCluster) -> String {
    use base64::Engine;
    let dir = cluster.dir();
    let ca = std::fs::read_to_string(dir.join("ca.crt")).expect("ca.crt");
    let token = std::fs::read_to_string(dir.join("admin.token")).expect("admin.token");
    let port = cluster.port().expect("port");
    json!({
        "apiVersion": "v1", "kind": "Config", "current-context": "t",
        "clusters": [{"name": "t", "cluster": {"server": format!("https://127.0.0.1:{port}"),
            "certificate-authority-data": base64::engine::general_purpose::STANDARD.encode(ca)}}],
        "users": [{"name": "admin", "user": {"token": token.trim()}}],
        "contexts": [{"name": "t", "context": {"cluster": "t", "user": "admin"}}],
    })
    .to_string()
}

/// A client from kubeconfig text, through kube's own loader.
pub async fn client_from_kubeconfig(text: &str) -> kube::Client {
    let kc = kube::config::Kubeconfig::from_yaml(text).expect("kubeconfig parses");
    let config = kube::Config::from_custom_kubeconfig(kc, &Default::default()).await.expect("kubeconfig loads");
    kube::Client::try_from(config).expect("client")
}

/// Every object of the demo project in Neutron, Nova and Designate, as `collection/id`.
pub async fn inventory(cloud: &CloudClient) -> std::collections::BTreeSet<String> {
    let project = cloud.project_id().await.expect("project").unwrap_or_default();
    let mut all = std::collections::BTreeSet::new();
    for plural in ["networks", "subnets", "routers", "ports", "floatingips", "security-groups"] {
        let r = cloud
            .get(terrane_openstack::Service::Network, &format!("/v2.0/{plural}?project_id={project}"))
            .await
            .expect("list");
        for item in r.body[plural.replace('-', "_")].as_array().cloned().unwrap_or_default() {
            all.insert(format!("{plural}/{}", item["id"].as_str().unwrap_or_default()));
        }
    }
    let servers = terrane_openstack::rest::NOVA.get(cloud, "/servers").await.expect("servers");
    all.extend(
        servers["servers"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|s| format!("servers/{}", s["id"].as_str().unwrap_or_default())),
    );
    let keys = terrane_openstack::rest::NOVA.get(cloud, "/os-keypairs").await.expect("key pairs");
    all.extend(
        keys["keypairs"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|k| format!("keypairs/{}", k["keypair"]["name"].as_str().unwrap_or_default())),
    );
    let zones = terrane_openstack::rest::DESIGNATE.get(cloud, "/v2/zones").await.expect("zones");
    all.extend(
        zones["zones"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|z| format!("zones/{}", z["id"].as_str().unwrap_or_default())),
    );
    all
}
