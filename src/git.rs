//! Reading Git repositories with gix: fetch into a bare cache (no work
//! tree), resolve a branch, tag or commit, and read the files under a path
//! at that commit. Everything here blocks; async callers run it on
//! `spawn_blocking`.
//!
//! Transports: `https://` (reqwest, rustls; HTTP basic or a token; the
//! system's roots and optionally a private CA), `http://` without
//! credentials, `git://`, and `file://` (which runs `git upload-pack`). SSH
//! is not offered: gix runs the `ssh` program for it, which a controller
//! image does not carry.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use gix::ObjectId;
use gix::bstr::ByteSlice;

/// Why a repository could not be read. No credential appears in a message.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("cannot open the repository cache {path}: {message}")]
    Cache { path: String, message: String },
    #[error("fetching {url}: {message}")]
    Fetch { url: String, message: String },
    #[error("{url}: credentials are sent over https:// only, never in clear text over http://")]
    ClearText { url: String },
    #[error("the CA certificate for {url} is not PEM: {message}")]
    BadCa { url: String, message: String },
    #[error("{what} not found in {url}")]
    NoSuchRevision { what: String, url: String },
    #[error("path {path:?} not found at commit {commit}")]
    NoSuchPath { path: String, commit: String },
    #[error("reading {what} at commit {commit}: {message}")]
    Read { what: String, commit: String, message: String },
}

/// Which revision to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revision {
    Branch(String),
    Tag(String),
    /// A full commit ID: never moves.
    Commit(String),
}

impl Revision {
    pub fn describe(&self) -> String {
        match self {
            Revision::Branch(b) => format!("branch {b:?}"),
            Revision::Tag(t) => format!("tag {t:?}"),
            Revision::Commit(c) => format!("commit {c}"),
        }
    }
}

/// HTTP credentials: a user name and password, or a token (sent as the
/// password with the user name `git`, which GitHub, GitLab and Gitea take).
/// Sent only over `https://`.
#[derive(Clone, Default)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

/// How to reach an HTTPS server: its credentials and the CA its
/// certificate chains to, when that is not a public one.
#[derive(Clone, Debug, Default)]
pub struct Access {
    pub credentials: Option<Credentials>,
    /// PEM certificates trusted besides the system's roots.
    pub ca_pem: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials").field("username", &self.username).field("password", &"<redacted>").finish()
    }
}

/// One file of a tree: its path from the repository root and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    pub path: String,
    pub data: Vec<u8>,
}

/// The cache directory for `url` under `root`: one bare repository per URL.
pub fn cache_dir(root: &Path, url: &str) -> PathBuf {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(url.as_bytes());
    root.join(digest.iter().take(12).map(|b| format!("{b:02x}")).collect::<String>())
}

/// A URL without any user or password in it, for messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(scheme), Some(at)) if at > scheme => format!("{}{}", &url[..scheme + 3], &url[at + 1..]),
        _ => url.to_string(),
    }
}

/// Fetches `revision` of `url` into the bare repository at `dir` (made if
/// missing) and returns the commit it names. A commit already in the cache
/// is not fetched again.
pub fn fetch(dir: &Path, url: &str, revision: &Revision, access: &Access) -> Result<ObjectId, GitError> {
    let shown = redact_url(url);
    if access.credentials.is_some() && url.starts_with("http://") {
        return Err(GitError::ClearText { url: shown });
    }
    let cache =
        |e: &dyn std::fmt::Display| GitError::Cache { path: dir.display().to_string(), message: format!("{e:#}") };
    let repo = if dir.join("HEAD").exists() {
        gix::open(dir).map_err(|e| cache(&e))?
    } else {
        std::fs::create_dir_all(dir).map_err(|e| cache(&e))?;
        gix::init_bare(dir).map_err(|e| cache(&e))?
    };
    if let Revision::Commit(c) = revision
        && let Ok(id) = ObjectId::from_hex(c.as_bytes())
        && repo.find_commit(id).is_ok()
    {
        return Ok(id);
    }
    let refspecs = ["+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*"];
    let failed = |e: &dyn std::fmt::Display| GitError::Fetch { url: shown.clone(), message: format!("{e:#}") };
    let remote = repo
        .remote_at(url)
        .map_err(|e| failed(&e))?
        .with_refspecs(refspecs, gix::remote::Direction::Fetch)
        .map_err(|e| failed(&e))?;
    let mut connection = remote.connect(gix::remote::Direction::Fetch).map_err(|e| failed(&e))?;
    if let Some(pem) = &access.ca_pem {
        use gix::protocol::transport::client::blocking_io::http;
        let cert = reqwest::Certificate::from_pem(pem.as_bytes())
            .map_err(|e| GitError::BadCa { url: shown.clone(), message: e.to_string() })?;
        let defaults = repo.transport_options(url, None).map_err(|e| failed(&e))?;
        let mut options = defaults.and_then(|b| b.downcast::<http::Options>().ok()).map(|b| *b).unwrap_or_default();
        let backend = http::reqwest::Options {
            configure_client: Some(Box::new(move |builder| Ok(builder.add_root_certificate(cert.clone())))),
            configure_request: None,
        };
        options.backend = Some(std::sync::Arc::new(std::sync::Mutex::new(backend)));
        connection.set_transport_options(Box::new(options));
    }
    if let Some(c) = access.credentials.clone() {
        connection.set_credentials(move |action| match action {
            gix::credentials::helper::Action::Get(ctx) => Ok(Some(gix::credentials::protocol::Outcome {
                identity: gix::sec::identity::Account {
                    username: c.username.clone(),
                    password: c.password.clone(),
                    oauth_refresh_token: None,
                },
                next: ctx.into(),
            })),
            _ => Ok(None),
        });
    }
    connection
        .prepare_fetch(gix::progress::Discard, Default::default())
        .map_err(|e| failed(&e))?
        .receive(gix::progress::Discard, &AtomicBool::new(false))
        .map_err(|e| failed(&e))?;
    resolve(&repo, revision, &shown)
}

fn resolve(repo: &gix::Repository, revision: &Revision, url: &str) -> Result<ObjectId, GitError> {
    let missing = || GitError::NoSuchRevision { what: revision.describe(), url: url.to_string() };
    let name = match revision {
        Revision::Branch(b) => format!("refs/remotes/origin/{b}"),
        Revision::Tag(t) => format!("refs/tags/{t}"),
        Revision::Commit(c) => {
            let id = ObjectId::from_hex(c.as_bytes()).map_err(|_| missing())?;
            return repo.find_commit(id).map(|_| id).map_err(|_| missing());
        }
    };
    let mut reference = repo.try_find_reference(name.as_str()).ok().flatten().ok_or_else(missing)?;
    reference.peel_to_commit().map(|c| c.id).map_err(|_| missing())
}

/// Every file under `path` ("" or "." for the whole tree) at `commit`, in
/// path order. A `path` that is not a directory there is an error.
pub fn files_at(dir: &Path, commit: ObjectId, path: &str) -> Result<Vec<File>, GitError> {
    let hex = commit.to_string();
    let read = |what: &str, e: &dyn std::fmt::Display| GitError::Read {
        what: what.to_string(),
        commit: hex.clone(),
        message: format!("{e:#}"),
    };
    let repo = gix::open(dir).map_err(|e| read("the repository", &e))?;
    let root =
        repo.find_commit(commit).map_err(|e| read("the commit", &e))?.tree().map_err(|e| read("its tree", &e))?;
    let path = path.trim_matches('/');
    let start = if path.is_empty() || path == "." {
        root
    } else {
        let entry = root
            .lookup_entry_by_path(path)
            .map_err(|e| read(path, &e))?
            .filter(|e| e.mode().is_tree())
            .ok_or_else(|| GitError::NoSuchPath { path: path.to_string(), commit: hex.clone() })?;
        repo.find_tree(entry.object_id()).map_err(|e| read(path, &e))?
    };
    let mut files = Vec::new();
    let mut pending = vec![(if path == "." { String::new() } else { path.to_string() }, start.id)];
    while let Some((prefix, tree_id)) = pending.pop() {
        let tree = repo.find_tree(tree_id).map_err(|e| read(&prefix, &e))?;
        for entry in tree.iter() {
            let entry = entry.map_err(|e| read(&prefix, &e))?;
            let name = entry.filename().to_str_lossy();
            let full = if prefix.is_empty() { name.to_string() } else { format!("{prefix}/{name}") };
            if entry.mode().is_tree() {
                pending.push((full, entry.object_id()));
            } else if entry.mode().is_blob() {
                let blob = repo.find_blob(entry.object_id()).map_err(|e| read(&full, &e))?;
                files.push(File { path: full, data: blob.data.clone() });
            }
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_credentials_in_messages() {
        assert_eq!(redact_url("https://bob:s3cret@git.example.org/r.git"), "https://git.example.org/r.git");
        assert_eq!(redact_url("git://127.0.0.1/r"), "git://127.0.0.1/r");
        assert!(!format!("{:?}", Credentials { username: "u".into(), password: "p4ss".into() }).contains("p4ss"));
        let access = Access { credentials: Some(Credentials::default()), ca_pem: None };
        let dir = std::env::temp_dir().join("terrane-git-never-made");
        let e = fetch(&dir, "http://u:p@git.example.org/r.git", &Revision::Branch("main".into()), &access).unwrap_err();
        assert_eq!(
            e.to_string(),
            "http://git.example.org/r.git: credentials are sent over https:// only, never in clear text over http://"
        );
    }

    fn git(dir: &Path, args: &[&str]) {
        let ok = std::process::Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.org", "-c", "init.defaultBranch=main"])
            .args(args)
            .current_dir(dir)
            .status()
            .unwrap()
            .success();
        assert!(ok, "git {args:?}");
    }

    #[test]
    fn a_local_repository_is_fetched_and_a_path_read_at_a_commit() {
        let base = std::env::temp_dir().join(format!("terrane-git-{}", std::process::id()));
        let work = base.join("work");
        std::fs::create_dir_all(work.join("apps/web")).unwrap();
        git(&work, &["init", "-q"]);
        std::fs::write(work.join("apps/web/a.yaml"), "kind: A\n").unwrap();
        std::fs::write(work.join("apps/b.yaml"), "kind: B\n").unwrap();
        std::fs::write(work.join("README"), "x\n").unwrap();
        git(&work, &["add", "."]);
        git(&work, &["commit", "-q", "-m", "one"]);
        let url = format!("file://{}", work.display());
        let cache = cache_dir(&base.join("cache"), &url);
        let first = fetch(&cache, &url, &Revision::Branch("main".into()), &Access::default()).unwrap();
        let files = files_at(&cache, first, "apps").unwrap();
        let paths: Vec<_> = files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["apps/b.yaml", "apps/web/a.yaml"]);
        assert_eq!(files[1].data, b"kind: A\n");
        assert!(matches!(files_at(&cache, first, "nope"), Err(GitError::NoSuchPath { .. })));
        assert!(matches!(
            fetch(&cache, &url, &Revision::Branch("other".into()), &Access::default()),
            Err(GitError::NoSuchRevision { .. })
        ));

        std::fs::remove_file(work.join("apps/b.yaml")).unwrap();
        git(&work, &["commit", "-q", "-am", "two"]);
        let second = fetch(&cache, &url, &Revision::Branch("main".into()), &Access::default()).unwrap();
        assert_ne!(first, second);
        assert_eq!(files_at(&cache, second, "apps").unwrap().len(), 1);
        let pinned = fetch(&cache, &url, &Revision::Commit(first.to_string()), &Access::default()).unwrap();
        assert_eq!(pinned, first);
        assert_eq!(files_at(&cache, pinned, "apps").unwrap().len(), 2);
        let _ = std::fs::remove_dir_all(base);
    }
}
