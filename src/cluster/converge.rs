//! One pass over a Cluster: its machines (backend servers) or its given
//! kubeconfig (backend existing), the kubeconfig Secret, the target's
//! health, and the bootstrap from Git.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use kube::ResourceExt;
use terrane_api::{
    BootstrapStrategy, Cluster, ClusterBackend, ClusterStatus, FloatingIP, GitSource, MachineCount, Port, Server,
};

use super::boot_config::{self, MachineBoot};
use super::run::Context;
use super::target::{self, Health, Target};
use super::{ClusterError, bootstrap, children, keys, machines, pki};
use crate::git::{self, Access, Credentials, Revision};
use crate::manifests;

/// Where a pass ended when nothing failed.
pub enum Converged {
    Ready { message: String, recheck: Duration },
    Waiting(String),
}

/// What the servers backend hands on to the health check.
struct Machines {
    kubeconfig: String,
    token: String,
    /// The first owned object not Ready, as `Kind/name: why`.
    not_ready: Option<String>,
    control_plane: i32,
    workers: i32,
}

const DEFAULT_INTERVAL: Duration = Duration::from_secs(300);
/// How long one fetch may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(120);

pub async fn converge(cluster: &Cluster, ctx: &Context, status: &mut ClusterStatus) -> Result<Converged, ClusterError> {
    let (kubeconfig, machines) = match cluster.spec.backend {
        ClusterBackend::Servers => match servers(cluster, ctx, status).await? {
            Ok(m) => (m.kubeconfig.clone(), Some(m)),
            Err(waiting) => return Ok(Converged::Waiting(waiting)),
        },
        ClusterBackend::Existing => (existing(cluster, ctx).await?, None),
    };
    let target = target::connect(&kubeconfig).await?;
    status.endpoint = Some(target.endpoint.clone());
    let health = match target.health().await {
        Ok(h) => h,
        Err(e) => {
            if let Some(waiting) = machines.as_ref().and_then(|m| m.not_ready.clone()) {
                return Ok(Converged::Waiting(format!("Waiting on {waiting}")));
            }
            return Err(e.into());
        }
    };
    record_health(status, &health, machines.as_ref());
    if let Some(m) = &machines {
        target.ensure_bootstrap_token(&m.token).await?;
    }
    let mut message = format!(
        "API {} at {} answers; control plane {}/{} and workers {}/{} Ready",
        health.version,
        target.endpoint,
        status.control_plane.as_ref().map(|c| c.ready).unwrap_or_default(),
        status.control_plane.as_ref().map(|c| c.desired).unwrap_or_default(),
        status.workers.as_ref().map(|c| c.ready).unwrap_or_default(),
        status.workers.as_ref().map(|c| c.desired).unwrap_or_default(),
    );
    let mut recheck = Duration::from_secs(60);
    if let Some(b) = &cluster.spec.bootstrap {
        let interval = interval(&b.git);
        recheck = recheck.min(interval);
        run_bootstrap(cluster, ctx, &target, &b.git, interval, status).await?;
        if let Some(rev) = status.bootstrap.as_ref().and_then(|s| s.revision.as_deref()) {
            message.push_str(&format!("; bootstrap at {}", &rev[..rev.len().min(12)]));
        }
    }
    Ok(Converged::Ready { message, recheck })
}

fn record_health(status: &mut ClusterStatus, health: &Health, machines: Option<&Machines>) {
    status.kubernetes_version = Some(health.version.clone());
    let (cp, workers) = match machines {
        Some(m) => (m.control_plane, m.workers),
        None => (health.control_plane_ready, health.workers_ready),
    };
    status.control_plane = Some(MachineCount { ready: health.control_plane_ready, desired: cp });
    status.workers = Some(MachineCount { ready: health.workers_ready, desired: workers });
}

/// `Err(message)` while something the machines need is not there yet.
async fn servers(
    cluster: &Cluster,
    ctx: &Context,
    status: &mut ClusterStatus,
) -> Result<Result<Machines, String>, ClusterError> {
    let client = &ctx.client;
    let name = cluster.name_any();
    let cp = cluster
        .spec
        .control_plane
        .as_ref()
        .ok_or_else(|| ClusterError::Invalid("backend servers needs controlPlane".into()))?;
    let pki = keys::ensure_pki(client, cluster).await?;
    let token = keys::ensure_token(client, cluster).await?;
    let wanted = machines::desired(cluster);
    let port = cluster.spec.control_plane_endpoint.as_ref().map(|e| e.port).unwrap_or(6443);

    children::apply(client, cluster, &machines::security_group(cluster, port)).await?;
    let mut ports = Vec::new();
    for m in &wanted {
        ports.push(children::apply(client, cluster, &machines::port(cluster, m)).await?);
    }
    let floating = match machines::floating_ip(cluster, cp) {
        Some(f) => Some(children::apply(client, cluster, &f).await?),
        None => None,
    };
    if let Some(record) = &cluster.spec.record_set {
        children::apply(client, cluster, &machines::record_set(cluster, cp, record)).await?;
    }
    let host = match (&cluster.spec.control_plane_endpoint, &floating) {
        (Some(e), _) => e.host.clone(),
        (None, Some(f)) => match children::observed::<FloatingIP>(f, "/floatingIpAddress") {
            Some(a) => a,
            None => return Ok(Err(format!("Waiting on FloatingIP/{} for the API address", f.name_any()))),
        },
        (None, None) => match ports.first().and_then(|p| children::observed::<Port>(p, "/fixedIps/0/ipAddress")) {
            Some(a) => a,
            None => return Ok(Err(format!("Waiting on Port/{name}-cp-0 for the API address"))),
        },
    };
    let hash = pki::ca_cert_hash(&pki.ca.cert)
        .ok_or_else(|| ClusterError::Invalid(format!("Secret/{name}-ca holds no readable certificate")))?;
    for m in &wanted {
        let boot = MachineBoot {
            cluster: &name,
            machine: &m.name,
            role: m.role,
            endpoint_host: &host,
            endpoint_port: port,
            kubernetes_version: cluster.spec.kubernetes_version.as_deref(),
            token: &token,
            pki: &pki,
            ca_cert_hash: &hash,
        };
        keys::ensure_user_data(client, cluster, &m.user_data_secret(), || {
            boot_config::gzip_base64(&boot_config::cloud_config(&boot))
        })
        .await?;
        children::apply(client, cluster, &machines::server(cluster, m)).await?;
    }
    let names: BTreeSet<String> = wanted.iter().map(|m| m.name.clone()).collect();
    let fip = floating.as_ref().map(|f| f.name_any());
    let group = machines::security_group_name(&name);
    let record = cluster.spec.record_set.as_ref().map(|_| machines::record_set_name(&name));
    let keep =
        children::Keep { floating_ip: fip.as_deref(), security_group: Some(&group), record_set: record.as_deref() };
    children::delete_except(client, cluster, &names, keep).await?;

    let server = format!("https://{host}:{port}");
    let (kubeconfig, not_after) = keys::ensure_kubeconfig(client, cluster, &server, &pki.ca).await?;
    status.admin_certificate_not_after = Some(not_after);
    let servers = children::owned::<Server>(client, cluster).await?;
    keys::delete_unused_user_data(client, cluster, &names, &servers).await?;
    let not_ready = wanted.iter().find_map(|m| match servers.iter().find(|s| s.name_any() == m.name) {
        Some(s) => children::not_ready(s),
        None => Some(format!("Server/{}: not created yet", m.name)),
    });
    Ok(Ok(Machines {
        kubeconfig,
        token,
        not_ready,
        control_plane: cp.replicas,
        workers: cluster.spec.workers.iter().map(|w| w.replicas).sum(),
    }))
}

async fn existing(cluster: &Cluster, ctx: &Context) -> Result<String, ClusterError> {
    let given = cluster
        .spec
        .existing
        .as_ref()
        .ok_or_else(|| ClusterError::Invalid("backend existing needs existing.kubeconfigSecretRef".into()))?;
    let r = &given.kubeconfig_secret_ref;
    let text = keys::read_key(&ctx.client, cluster, &r.name, &r.key).await?.ok_or_else(|| {
        ClusterError::Waiting(format!("Waiting on Secret/{} key {:?} for the kubeconfig", r.name, r.key))
    })?;
    keys::publish_kubeconfig(&ctx.client, cluster, &text).await?;
    Ok(text)
}

/// `interval` parsed (`1h2m3s`); 5 minutes when absent, at least 5 seconds.
pub fn interval(git: &GitSource) -> Duration {
    let Some(text) = git.interval.as_deref() else { return DEFAULT_INTERVAL };
    let mut total = 0u64;
    let mut number = 0u64;
    for c in text.chars() {
        match c {
            '0'..='9' => number = number * 10 + u64::from(c as u8 - b'0'),
            'h' => (total, number) = (total + number * 3600, 0),
            'm' => (total, number) = (total + number * 60, 0),
            's' => (total, number) = (total + number, 0),
            _ => return DEFAULT_INTERVAL,
        }
    }
    Duration::from_secs(total.max(5))
}

fn revision(git: &GitSource) -> Revision {
    let r = &git.reference;
    match (&r.commit, &r.tag, &r.branch) {
        (Some(c), _, _) => Revision::Commit(c.clone()),
        (None, Some(t), _) => Revision::Tag(t.clone()),
        (None, None, Some(b)) => Revision::Branch(b.clone()),
        (None, None, None) => Revision::Branch("main".into()),
    }
}

/// The credentials and CA of `git.secretRef`: keys `username` and
/// `password`, or `token`; and optionally `ca.crt`.
async fn access(cluster: &Cluster, ctx: &Context, git: &GitSource) -> Result<Access, ClusterError> {
    let Some(r) = &git.secret_ref else { return Ok(Access::default()) };
    let read = |key: &'static str| keys::read_key(&ctx.client, cluster, &r.name, key);
    let (user, password, token, ca) =
        (read("username").await?, read("password").await?, read("token").await?, read("ca.crt").await?);
    let credentials = match (user, password, token) {
        (Some(username), Some(password), _) => Some(Credentials { username, password }),
        (username, None, Some(token)) => {
            Some(Credentials { username: username.unwrap_or_else(|| "git".into()), password: token })
        }
        (None, None, None) if ca.is_some() => None,
        _ => {
            return Err(ClusterError::Invalid(format!(
                "bootstrap: Secret/{} needs keys username and password, or token (and optionally ca.crt)",
                r.name
            )));
        }
    };
    Ok(Access { credentials, ca_pem: ca })
}

/// Fetches and applies the bootstrap revision when it is due: never applied,
/// the last try failed, the spec changed, or (strategy Reconcile) the
/// interval passed. A failure keeps the last good revision in status.
async fn run_bootstrap(
    cluster: &Cluster,
    ctx: &Context,
    target: &Target,
    git: &GitSource,
    interval: Duration,
    status: &mut ClusterStatus,
) -> Result<(), ClusterError> {
    let uid = cluster.uid().unwrap_or_default();
    let generation = cluster.metadata.generation;
    let state = status.bootstrap.get_or_insert_default();
    let applied = state.revision.is_some() && state.attempted_revision.is_none();
    if applied && git.strategy == BootstrapStrategy::ApplyOnce {
        return Ok(());
    }
    let last = ctx.bootstrapped.lock().unwrap_or_else(|p| p.into_inner()).get(&uid).copied();
    if applied && last.is_some_and(|(at, g)| at.elapsed() < interval && g == generation) {
        return Ok(());
    }
    ctx.bootstrapped.lock().unwrap_or_else(|p| p.into_inner()).insert(uid, (Instant::now(), generation));

    let access = access(cluster, ctx, git).await?;
    let dir = git::cache_dir(&ctx.options.git_cache, &git.url);
    let lock = ctx.fetch_locks.lock().unwrap_or_else(|p| p.into_inner()).entry(dir.clone()).or_default().clone();
    let _held = lock.lock().await;
    let (url, rev, path) = (git.url.clone(), revision(git), git.path.clone().unwrap_or_default());
    // A missing path is known only after the fetch: it still names the commit tried.
    let read = tokio::task::spawn_blocking(move || {
        git::fetch(&dir, &url, &rev, &access).map(|commit| (commit, git::files_at(&dir, commit, &path)))
    });
    let (commit, files) = match tokio::time::timeout(FETCH_TIMEOUT, read).await {
        Ok(Ok(Ok(found))) => found,
        Ok(Ok(Err(e))) => return Err(bootstrap::BootstrapError::Git(e).into()),
        Ok(Err(e)) => return Err(ClusterError::Waiting(format!("bootstrap: the fetch stopped: {e}"))),
        Err(_) => {
            return Err(bootstrap::BootstrapError::Git(git::GitError::Fetch {
                url: git::redact_url(&git.url),
                message: format!("no answer in {}s", FETCH_TIMEOUT.as_secs()),
            })
            .into());
        }
    };
    let commit = commit.to_string();
    let state = status.bootstrap.get_or_insert_default();
    let outcome = async {
        let manifests = manifests::parse(&files?)?;
        let inventory = bootstrap::apply(target, &manifests).await?;
        if git.prune {
            bootstrap::prune(target, &bootstrap::removed(&state.inventory, &inventory)).await?;
        }
        Ok::<_, bootstrap::BootstrapError>(inventory)
    }
    .await;
    match outcome {
        Ok(inventory) => {
            if state.revision.as_deref() != Some(commit.as_str()) || state.applied_at.is_none() {
                state.applied_at = Some(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
            }
            state.revision = Some(commit);
            state.attempted_revision = None;
            state.objects = i32::try_from(inventory.len()).unwrap_or(i32::MAX);
            state.inventory = inventory;
            Ok(())
        }
        Err(e) => {
            state.attempted_revision = Some(commit);
            // Try again soon, not only after the interval.
            ctx.bootstrapped.lock().unwrap_or_else(|p| p.into_inner()).remove(&cluster.uid().unwrap_or_default());
            Err(e.into())
        }
    }
}

/// Deletes what the Cluster owns; returns how many objects are still going.
pub async fn teardown(cluster: &Cluster, ctx: &Context) -> Result<usize, ClusterError> {
    let left = children::delete_except(&ctx.client, cluster, &BTreeSet::new(), children::Keep::default()).await?;
    if left == 0 {
        keys::delete_owned(&ctx.client, cluster).await?;
    }
    Ok(left)
}
