//! One real kube-apiserver on one real etcd, on loopback, in its own directory.

use std::fs;
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use kube::config::{KubeConfigOptions, Kubeconfig};

use crate::{GroundError, Result, io, pki};

const PROCESSES: [&str; 3] = ["controller-manager", "apiserver", "etcd"];

/// A running kube-apiserver. The shared one outlives the tests (the ground
/// command stops it); an ephemeral one is stopped and removed on drop.
#[derive(Debug)]
pub struct KubeCluster {
    dir: PathBuf,
    ephemeral: bool,
}

/// How to start a cluster.
#[derive(Debug, Clone)]
pub struct StartOptions {
    /// Also run kube-controller-manager's namespace and garbage-collector
    /// controllers, so deleting a namespace really deletes what is in it.
    pub controller_manager: bool,
    /// Start as a booted control-plane machine would: with the CAs and
    /// service-account keys already in the directory (not made here).
    pub machine: Option<MachineStart>,
}

/// The apiserver of a booted machine.
#[derive(Debug, Clone)]
pub struct MachineStart {
    pub port: u16,
    /// Names of the serving certificate besides 127.0.0.1 and localhost.
    pub sans: Vec<String>,
}

impl Default for StartOptions {
    fn default() -> Self {
        Self { controller_manager: true, machine: None }
    }
}

impl KubeCluster {
    /// The ground's shared apiserver in `<ground_dir>/kube`, started if it is
    /// not answering. Safe to call from many tests and processes at once.
    pub async fn shared() -> Result<Self> {
        let dir = crate::ground_dir().join("kube");
        fs::create_dir_all(&dir).map_err(io(format!("creating {}", dir.display())))?;
        let lock = fs::File::create(dir.join(".lock")).map_err(io("creating the start lock"))?;
        lock.lock().map_err(io("taking the start lock"))?;
        let cluster = Self { dir, ephemeral: false };
        if !cluster.is_ready().await {
            cluster.start(StartOptions::default()).await?;
        }
        drop(lock);
        Ok(cluster)
    }

    /// A new, independent apiserver (its own etcd, CA and ports), stopped and
    /// deleted when the value is dropped.
    pub async fn start_ephemeral(options: StartOptions) -> Result<Self> {
        let dir = crate::ground_dir().join("clusters").join(crate::random_suffix(10));
        fs::create_dir_all(&dir).map_err(io(format!("creating {}", dir.display())))?;
        let cluster = Self { dir, ephemeral: true };
        cluster.start(options).await?;
        Ok(cluster)
    }

    /// An apiserver started from files a booted machine holds: `dir` already
    /// has `ca.crt`, `ca.key`, `sa.pub`, `sa.key` and `front-proxy-ca.crt`.
    /// Stopped and deleted on drop.
    pub async fn start_machine(dir: PathBuf, machine: MachineStart) -> Result<Self> {
        let cluster = Self { dir, ephemeral: true };
        cluster.start(StartOptions { controller_manager: false, machine: Some(machine) }).await?;
        Ok(cluster)
    }

    /// The shared cluster's handle without starting anything (for `down`/`status`).
    pub fn shared_handle() -> Self {
        Self { dir: crate::ground_dir().join("kube"), ephemeral: false }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn kubeconfig_path(&self) -> PathBuf {
        self.dir.join("kubeconfig")
    }

    /// The HTTPS port of the apiserver, once it was started.
    pub fn port(&self) -> Option<u16> {
        fs::read_to_string(self.dir.join("port")).ok()?.trim().parse().ok()
    }

    /// A client with cluster-admin rights.
    pub async fn client(&self) -> Result<kube::Client> {
        let kubeconfig =
            Kubeconfig::read_from(self.kubeconfig_path()).map_err(|e| GroundError::Kubeconfig(e.to_string()))?;
        let config = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
            .await
            .map_err(|e| GroundError::Kubeconfig(e.to_string()))?;
        Ok(kube::Client::try_from(config)?)
    }

    /// True when `/readyz` answers ok.
    pub async fn is_ready(&self) -> bool {
        if self.port().is_none() || !self.kubeconfig_path().exists() {
            return false;
        }
        let Ok(client) = self.client().await else { return false };
        let Ok(request) = http::Request::get("/readyz").body(Vec::new()) else { return false };
        matches!(
            tokio::time::timeout(Duration::from_secs(5), client.request_text(request)).await,
            Ok(Ok(body)) if body.trim() == "ok"
        )
    }

    async fn start(&self, options: StartOptions) -> Result<()> {
        self.stop_processes();
        let bin = crate::kube_bin_dir();
        let apiserver = bin.join("kube-apiserver");
        if !apiserver.exists() {
            return Err(GroundError::NotBuilt(apiserver));
        }
        let etcd = etcd_bin_vendored::etcd_bin_path()
            .map_err(|e| GroundError::Kubeconfig(format!("no etcd for this platform: {e}")))?;
        let d = &self.dir;
        for sub in ["logs", "pids"] {
            fs::create_dir_all(d.join(sub)).map_err(io("creating the cluster directories"))?;
        }
        match &options.machine {
            None => pki::ensure(d)?,
            Some(m) => pki::serving_cert(d, &m.sans)?,
        }
        let token = match fs::read_to_string(d.join("admin.token")) {
            Ok(t) => t.trim().to_string(),
            Err(_) => crate::random_suffix(32),
        };
        write(d, "admin.token", &token)?;
        write(d, "tokens.csv", &format!("{token},admin,admin-uid,system:masters\n"))?;

        let port = match &options.machine {
            Some(m) => m.port,
            None => free_port()?,
        };
        let (etcd_port, peer_port, kcm_port) = (free_port()?, free_port()?, free_port()?);
        let etcd_url = format!("http://127.0.0.1:{etcd_port}");
        let peer_url = format!("http://127.0.0.1:{peer_port}");
        self.spawn(
            "etcd",
            etcd,
            &[
                "--name=ground".into(),
                format!("--data-dir={}", d.join("etcd").display()),
                format!("--listen-client-urls={etcd_url}"),
                format!("--advertise-client-urls={etcd_url}"),
                format!("--listen-peer-urls={peer_url}"),
                format!("--initial-advertise-peer-urls={peer_url}"),
                format!("--initial-cluster=ground={peer_url}"),
                "--unsafe-no-fsync".into(),
                "--log-level=warn".into(),
                "--quota-backend-bytes=4294967296".into(),
            ],
        )?;
        wait_until(d, "etcd", 30, || async { tcp_open(etcd_port) }).await?;

        let p = |f: &str| d.join(f).display().to_string();
        let mut args = vec![
            format!("--etcd-servers={etcd_url}"),
            "--bind-address=127.0.0.1".into(),
            "--advertise-address=127.0.0.1".into(),
            format!("--secure-port={port}"),
            format!("--cert-dir={}", p("certs")),
            format!("--tls-cert-file={}", p("server.crt")),
            format!("--tls-private-key-file={}", p("server.key")),
            format!("--client-ca-file={}", p("ca.crt")),
            format!("--token-auth-file={}", p("tokens.csv")),
            "--authorization-mode=RBAC".into(),
            "--service-account-issuer=https://kubernetes.default.svc".into(),
            format!("--service-account-key-file={}", p("sa.pub")),
            format!("--service-account-signing-key-file={}", p("sa.key")),
            "--service-cluster-ip-range=10.0.0.0/24".into(),
            "--disable-admission-plugins=ServiceAccount".into(),
            "--allow-privileged=true".into(),
            "--endpoint-reconciler-type=none".into(),
        ];
        if options.machine.is_some() {
            // As kubeadm runs it: joining machines authenticate with bootstrap
            // tokens, kubelets are authorized as their Node, and aggregated
            // APIs trust the front-proxy CA.
            args.retain(|a| !a.starts_with("--authorization-mode="));
            args.extend([
                "--authorization-mode=Node,RBAC".to_string(),
                "--enable-bootstrap-token-auth=true".into(),
                format!("--requestheader-client-ca-file={}", p("front-proxy-ca.crt")),
                "--requestheader-allowed-names=front-proxy-client".into(),
                "--requestheader-username-headers=X-Remote-User".into(),
                "--requestheader-group-headers=X-Remote-Group".into(),
                "--requestheader-extra-headers-prefix=X-Remote-Extra-".into(),
            ]);
        }
        self.spawn("apiserver", &apiserver, &args)?;
        write(d, "port", &port.to_string())?;
        write(d, "kubeconfig", &kubeconfig(port, &d.join("ca.crt"), &token))?;
        wait_until(d, "kube-apiserver /readyz", 90, || self.is_ready()).await?;

        let kcm = bin.join("kube-controller-manager");
        if options.controller_manager && kcm.exists() {
            self.spawn(
                "controller-manager",
                &kcm,
                &[
                    format!("--kubeconfig={}", p("kubeconfig")),
                    "--controllers=namespace-controller,garbage-collector-controller".into(),
                    "--leader-elect=false".into(),
                    "--bind-address=127.0.0.1".into(),
                    format!("--secure-port={kcm_port}"),
                    format!("--authentication-kubeconfig={}", p("kubeconfig")),
                    format!("--authorization-kubeconfig={}", p("kubeconfig")),
                    "--use-service-account-credentials=false".into(),
                    "--concurrent-namespace-syncs=4".into(),
                ],
            )?;
        }
        Ok(())
    }

    fn spawn(&self, name: &str, program: impl AsRef<std::ffi::OsStr>, args: &[String]) -> Result<()> {
        let log = fs::File::create(self.dir.join("logs").join(format!("{name}.log")))
            .map_err(io(format!("creating the log of {name}")))?;
        let err = log.try_clone().map_err(io("cloning a log handle"))?;
        let child = Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err)
            .process_group(0)
            .spawn()
            .map_err(io(format!("starting {name}")))?;
        write(&self.dir.join("pids"), &format!("{name}.pid"), &child.id().to_string())
    }

    /// Stops the processes this cluster's directory records (TERM, then KILL after 10 s).
    pub fn stop_processes(&self) {
        for name in PROCESSES {
            let file = self.dir.join("pids").join(format!("{name}.pid"));
            if let Some(pid) = fs::read_to_string(&file).ok().and_then(|s| s.trim().parse::<u32>().ok()) {
                terminate(pid);
            }
            let _ = fs::remove_file(file);
        }
        let _ = fs::remove_file(self.dir.join("port"));
    }
}

impl Drop for KubeCluster {
    fn drop(&mut self) {
        if self.ephemeral {
            self.stop_processes();
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

/// Signals the process group `pid` leads. `kill -s SIG -- -PGID` is the one
/// spelling procps' kill reads as a group; never called for pid 0 or 1.
fn signal_group(pid: u32, signal: &str) {
    if pid > 1 {
        let _ = Command::new("kill").args(["-s", signal, "--", &format!("-{pid}")]).stderr(Stdio::null()).status();
    }
}

fn terminate(pid: u32) {
    let alive = || Path::new(&format!("/proc/{pid}")).exists() && !is_zombie(pid);
    signal_group(pid, "TERM");
    let deadline = Instant::now() + Duration::from_secs(10);
    while alive() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    if alive() {
        signal_group(pid, "KILL");
    }
}

fn is_zombie(pid: u32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| s.rsplit(')').next().is_some_and(|rest| rest.trim_start().starts_with('Z')))
        .unwrap_or(true)
}

fn write(dir: &Path, name: &str, content: &str) -> Result<()> {
    fs::write(dir.join(name), content).map_err(io(format!("writing {name}")))
}

fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(io("finding a free port"))?;
    Ok(listener.local_addr().map_err(io("finding a free port"))?.port())
}

fn tcp_open(port: u16) -> bool {
    std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
}

async fn wait_until<F, Fut>(dir: &Path, what: &str, secs: u64, mut ready: F) -> Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !ready().await {
        if Instant::now() > deadline {
            return Err(GroundError::Timeout { what: what.into(), secs, logs: dir.join("logs").display().to_string() });
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    Ok(())
}

fn kubeconfig(port: u16, ca: &Path, token: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: ground\n  cluster:\n    server: https://127.0.0.1:{port}\n    certificate-authority: {ca}\nusers:\n- name: admin\n  user:\n    token: {token}\ncontexts:\n- name: ground\n  context:\n    cluster: ground\n    user: admin\ncurrent-context: ground\n",
        ca = ca.display()
    )
}
