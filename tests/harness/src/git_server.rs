//! Real Git repositories served on loopback: `git daemon` for `git://` and
//! smart HTTPS with basic auth (`git http-backend` behind
//! `tests/ground/git_http.py`, with a certificate of its own CA). Both stop,
//! and the repositories go, on drop.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::{GroundError, Result, io};

/// A running Git server with one user for HTTP.
pub struct GitServer {
    root: PathBuf,
    children: Vec<Child>,
    pub git_port: u16,
    pub http_port: u16,
    pub user: String,
    pub password: String,
}

/// A repository of a [`GitServer`] with a work tree the test commits from.
pub struct GitRepo {
    work: PathBuf,
    name: String,
}

fn free_port() -> Result<u16> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(io("finding a free port"))?;
    Ok(l.local_addr().map_err(io("finding a free port"))?.port())
}

fn git(dir: &Path, args: &[&str]) -> Result<String> {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=Terrane Test",
            "-c",
            "user.email=test@terrane.invalid",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .map_err(io("running git"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        Err(GroundError::Command {
            command: format!("git {}", args.join(" ")),
            stderr: String::from_utf8_lossy(&out.stderr).into(),
        })
    }
}

fn wait_port(port: u16, what: &str) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(15);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            return Err(GroundError::Timeout { what: what.into(), secs: 15, logs: "stderr".into() });
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(())
}

impl GitServer {
    /// Starts both servers over a fresh directory of repositories.
    pub fn start() -> Result<Self> {
        let root = crate::ground_dir().join("git").join(crate::random_suffix(10));
        std::fs::create_dir_all(root.join("repos")).map_err(io("creating the git root"))?;
        let (git_port, http_port) = (free_port()?, free_port()?);
        let repos = root.join("repos").display().to_string();
        let daemon = Command::new("git")
            .args(["daemon", "--reuseaddr", "--export-all", "--listen=127.0.0.1"])
            .arg(format!("--port={git_port}"))
            .arg(format!("--base-path={repos}"))
            .arg(&repos)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(io("starting git daemon"))?;
        crate::pki::ensure(&root)?;
        let password = crate::random_suffix(20);
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ground/git_http.py");
        let http = Command::new("python3")
            .arg(script)
            .args([http_port.to_string(), repos.clone(), "terrane".into(), password.clone()])
            .arg(root.join("server.crt"))
            .arg(root.join("server.key"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(io("starting the git HTTP server"))?;
        let server = Self { root, children: vec![daemon, http], git_port, http_port, user: "terrane".into(), password };
        wait_port(git_port, "git daemon")?;
        wait_port(http_port, "the git HTTP server")?;
        Ok(server)
    }

    /// A new empty repository `name` (served as `name.git`).
    pub fn create_repo(&self, name: &str) -> Result<GitRepo> {
        let bare = self.root.join("repos").join(format!("{name}.git"));
        std::fs::create_dir_all(&bare).map_err(io("creating a bare repository"))?;
        git(&bare, &["init", "-q", "--bare"])?;
        git(&bare, &["config", "http.receivepack", "false"])?;
        let work = self.root.join("work").join(name);
        std::fs::create_dir_all(&work).map_err(io("creating a work tree"))?;
        git(&work, &["init", "-q"])?;
        git(&work, &["remote", "add", "origin", &bare.display().to_string()])?;
        Ok(GitRepo { work, name: name.into() })
    }

    pub fn git_url(&self, repo: &GitRepo) -> String {
        format!("git://127.0.0.1:{}/{}.git", self.git_port, repo.name)
    }

    pub fn https_url(&self, repo: &GitRepo) -> String {
        format!("https://127.0.0.1:{}/{}.git", self.http_port, repo.name)
    }

    /// The CA the HTTPS server's certificate chains to (PEM).
    pub fn ca_pem(&self) -> Result<String> {
        std::fs::read_to_string(self.root.join("ca.crt")).map_err(io("reading the git server's CA"))
    }
}

impl Drop for GitServer {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

impl GitRepo {
    /// Writes `path` (from the repository root) in the work tree.
    pub fn write(&self, path: &str, content: &str) -> Result<()> {
        let file = self.work.join(path);
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent).map_err(io("creating a directory"))?;
        }
        std::fs::write(file, content).map_err(io(format!("writing {path}")))
    }

    pub fn remove(&self, path: &str) -> Result<()> {
        std::fs::remove_file(self.work.join(path)).map_err(io(format!("removing {path}")))
    }

    /// Commits everything and pushes `main`; returns the commit ID.
    pub fn commit(&self, message: &str) -> Result<String> {
        git(&self.work, &["add", "-A"])?;
        git(&self.work, &["commit", "-q", "--allow-empty", "-m", message])?;
        git(&self.work, &["push", "-q", "origin", "HEAD:refs/heads/main"])?;
        git(&self.work, &["rev-parse", "HEAD"])
    }
}
