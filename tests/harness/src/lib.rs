//! The test ground: real services that Terrane's integration tests run against.
//!
//! * [`KubeCluster`]: a real `kube-apiserver` (built by `tests/ground/build-kube.sh`)
//!   on a real `etcd` (from the `etcd-bin-vendored` crate), with an optional
//!   `kube-controller-manager` so namespaces and owned objects are really deleted.
//!   [`KubeCluster::shared`] is the one the ground command starts;
//!   [`KubeCluster::start_ephemeral`] starts an independent one (a "target cluster").
//! * [`ControlPlaneMachine`]: plays a machine a Cluster boots, from its user data.
//! * [`GitServer`]: real Git repositories on loopback (`git://` and smart HTTP).
//! * [`TestNamespace`]: a fresh namespace per test on a shared apiserver.
//! * [`ground_dir`] / [`clouds_yaml`]: where the ground keeps its state and the
//!   `clouds.yaml` of the local OpenStack cloud that `tests/ground/start-openstack.sh` seeds.

mod cloud;
mod git_server;
mod kube_cluster;
mod machine;
mod namespace;
mod pause;
mod pki;

use std::path::PathBuf;

pub use cloud::{RequestCounter, cloud_client, clouds_yaml_text};
pub use git_server::{GitRepo, GitServer};
pub use kube_cluster::{KubeCluster, MachineStart, StartOptions};
pub use machine::{CloudConfig, ControlPlaneMachine};
pub use namespace::TestNamespace;
pub use pause::{Paused, pause};

/// What can go wrong while bringing up or reaching the ground.
#[derive(Debug, thiserror::Error)]
pub enum GroundError {
    #[error("{what}: {source}")]
    Io { what: String, source: std::io::Error },
    #[error("`{command}` failed: {stderr}")]
    Command { command: String, stderr: String },
    #[error("{0} is not built; run tests/ground/ground.sh up")]
    NotBuilt(PathBuf),
    #[error("timed out after {secs}s waiting for {what}; see the logs in {logs}")]
    Timeout { what: String, secs: u64, logs: String },
    #[error("kubernetes client: {0}")]
    Kube(#[from] kube::Error),
    #[error("kubeconfig: {0}")]
    Kubeconfig(String),
}

pub type Result<T, E = GroundError> = std::result::Result<T, E>;

pub(crate) fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> GroundError {
    let what = what.into();
    move |source| GroundError::Io { what, source }
}

/// The directory of the ground's state: `$TERRANE_GROUND_DIR`, else `$HOME/.cache/terrane/ground`.
pub fn ground_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("TERRANE_GROUND_DIR") {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/tmp"));
    home.join(".cache/terrane/ground")
}

/// The `clouds.yaml` of the local OpenStack cloud (clouds `admin` and `demo`).
pub fn clouds_yaml() -> PathBuf {
    ground_dir().join("clouds.yaml")
}

/// Installs the process-wide rustls crypto provider (ring). Idempotent.
pub fn init_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The pinned Kubernetes release, from `tests/ground/versions.env`.
pub fn kube_version() -> &'static str {
    include_str!("../../ground/versions.env")
        .lines()
        .find_map(|l| l.strip_prefix("KUBE_VERSION="))
        .map(str::trim)
        .unwrap_or("unknown")
}

/// Where `build-kube.sh` puts the Kubernetes binaries of the pinned release.
pub fn kube_bin_dir() -> PathBuf {
    let cache = std::env::var_os("TERRANE_CACHE").map(PathBuf::from).unwrap_or_else(|| {
        let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/tmp"));
        home.join(".cache/terrane")
    });
    cache.join("kube").join(kube_version()).join("bin")
}

/// A random lowercase hex string of `n` characters, for unique test names.
pub fn random_suffix(n: usize) -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    (0..n).map(|_| char::from_digit(rng.random_range(0..16), 16).unwrap_or('0')).collect()
}
