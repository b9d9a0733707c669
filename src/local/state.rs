//! The state of a source applied without a cluster: for each object the
//! status the controller would keep in the apiserver (cloud ID, pending
//! create, observed state) and the UID its ownership marker carries. Held
//! under a lock while in use, and written whole (to a temporary file, then
//! renamed) after every step, so a killed `apply` resumes from the last step.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use terrane_api::ResourceStatus;

use super::graph::Key;

/// Why the state cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{path} is not a Terrane state file: {message}")]
    Unreadable { path: String, message: String },
    #[error("{path} is in use by {holder}; wait for it to finish or remove the lock if that process is gone")]
    Locked { path: String, holder: String },
}

/// One object's state.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    /// The UID its ownership marker carries: made once, kept for good.
    pub uid: String,
    /// Raised each time the applied spec changes (as `metadata.generation`).
    #[serde(default)]
    pub generation: i64,
    /// The manifest last applied (what a later deletion goes by).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<serde_json::Value>,
    #[serde(default)]
    pub status: ResourceStatus,
}

/// What the state file holds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StateData {
    pub version: u32,
    /// By `Kind/name`.
    #[serde(default)]
    pub objects: BTreeMap<Key, Entry>,
    /// Secrets Terrane generated (SSH key pairs), by name and key. The file
    /// is written readable by its owner only.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub secrets: BTreeMap<String, BTreeMap<String, String>>,
    /// Set by `terrane state push` (where to, and when): a cluster's
    /// controller drives these objects now, so plan and apply refuse.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handed_over: Option<String>,
}

pub const VERSION: u32 = 1;

/// The UID of `key` in `namespace` without a cluster: the same for every run
/// and machine (UUID-shaped, from SHA-256), so a plan without state, or an
/// apply whose state was lost, finds by its ownership marker what an earlier
/// apply made, rather than making it again. Objects of two sources applied
/// to one cloud project must therefore differ in namespace, kind or name,
/// as they would in one cluster.
pub fn uid(namespace: &str, key: &str) -> String {
    use sha2::Digest;
    let hash = sha2::Sha256::digest(format!("terrane-local/{namespace}/{key}").as_bytes());
    let hex: String = hash.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
}

/// A state file held under its lock until dropped (or a state kept only in
/// memory, for a plan without state).
pub struct State {
    path: Option<PathBuf>,
    _lock: Option<File>,
    pub data: StateData,
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> StateError + '_ {
    move |source| StateError::Io { path: path.display().to_string(), source }
}

impl State {
    /// Opens (or starts) the state at `path` and takes its lock
    /// (`<path>.lock`, holding who took it); refuses while another holds it.
    pub fn open(path: &Path) -> Result<Self, StateError> {
        let lock_path = path.with_extension("lock");
        let mut lock = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock_path)
            .map_err(io(&lock_path))?;
        if lock.try_lock().is_err() {
            let mut holder = String::new();
            let _ = lock.read_to_string(&mut holder);
            let holder =
                if holder.trim().is_empty() { "another process".to_string() } else { holder.trim().to_string() };
            return Err(StateError::Locked { path: path.display().to_string(), holder });
        }
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
        let me = format!(
            "terrane (pid {}) on {} since {}",
            std::process::id(),
            host.trim(),
            chrono::Utc::now().to_rfc3339()
        );
        lock.set_len(0).map_err(io(&lock_path))?;
        lock.rewind().map_err(io(&lock_path))?;
        lock.write_all(me.as_bytes()).map_err(io(&lock_path))?;
        let data = match std::fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text)
                .map_err(|e| StateError::Unreadable { path: path.display().to_string(), message: e.to_string() })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                StateData { version: VERSION, ..StateData::default() }
            }
            Err(e) => return Err(io(path)(e)),
        };
        Ok(Self { path: Some(path.to_path_buf()), _lock: Some(lock), data })
    }

    /// [`State::open`], retrying for up to `wait` while another holds the lock.
    pub fn open_waiting(path: &Path, wait: std::time::Duration) -> Result<Self, StateError> {
        let until = std::time::Instant::now() + wait;
        loop {
            match Self::open(path) {
                Err(StateError::Locked { .. }) if std::time::Instant::now() < until => {
                    std::thread::sleep(std::time::Duration::from_millis(500));
                }
                other => return other,
            }
        }
    }

    /// Where the file is (none in memory).
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// True for a state kept only in memory (a plan without state).
    pub fn is_in_memory(&self) -> bool {
        self.path.is_none()
    }

    /// An empty state that is never written.
    pub fn in_memory() -> Self {
        Self { path: None, _lock: None, data: StateData { version: VERSION, ..StateData::default() } }
    }

    /// The entry of `key` (in `namespace`), made with its UID when there is none.
    pub fn entry(&mut self, namespace: &str, key: &str) -> &mut Entry {
        self.data
            .objects
            .entry(key.to_string())
            .or_insert_with(|| Entry { uid: uid(namespace, key), ..Entry::default() })
    }

    /// Writes the whole state: to `<path>.tmp`, synced, then renamed over.
    pub fn save(&self) -> Result<(), StateError> {
        let Some(path) = &self.path else { return Ok(()) };
        let tmp = path.with_extension("tmp");
        let text = serde_json::to_string_pretty(&self.data)
            .map_err(|e| StateError::Unreadable { path: path.display().to_string(), message: e.to_string() })?;
        let mut options = File::options();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&tmp).map_err(io(&tmp))?;
        file.write_all(text.as_bytes()).map_err(io(&tmp))?;
        file.sync_all().map_err(io(&tmp))?;
        std::fs::rename(&tmp, path).map_err(io(path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_with_who_holds_it_and_the_state_survives_a_reopen() {
        let dir = std::env::temp_dir().join(format!("terrane-state-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("prod.state.json");
        let mut first = State::open(&path).unwrap();
        let uid = first.entry("default", "Network/web").uid.clone();
        assert_eq!(uid, super::uid("default", "Network/web"), "the UID is derived from namespace, kind and name");
        assert_ne!(uid, super::uid("prod", "Network/web"));
        assert_eq!(uid.len(), 36);
        first.entry("default", "Network/web").status.id = Some("net-1".into());
        first.save().unwrap();
        let e = State::open(&path).err().expect("locked");
        assert!(e.to_string().contains(&format!("terrane (pid {})", std::process::id())), "{e}");
        drop(first);
        // A child another test is spawning may hold a copy of the lock's
        // descriptor until it execs: wait that moment out.
        let mut again = (0..100)
            .find_map(|_| {
                State::open(&path).ok().or_else(|| {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                    None
                })
            })
            .expect("the lock is free once its holder is gone");
        assert_eq!(again.entry("default", "Network/web").uid, uid, "the UID is kept");
        assert_eq!(again.entry("default", "Network/web").status.id.as_deref(), Some("net-1"));
        assert_ne!(again.entry("default", "Subnet/web").uid, uid);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "the state may hold generated private keys: owner only");
        }
        std::fs::write(&path, "not json").unwrap();
        drop(again);
        assert!(matches!(State::open(&path), Err(StateError::Unreadable { .. })));
        let _ = std::fs::remove_dir_all(dir);
    }
}
