//! Applying a plan: every object reconciled until Ready, as many at once as
//! their references allow, then the removed objects deleted deepest first.
//! The state is written after every step (by the environment), so a killed
//! apply resumes where it stopped; the first terminal error stops it.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::stream::FuturesUnordered;

use super::drivers::Driver;
use super::env::LocalEnv;
use super::graph::{self, Key};
use super::objects::Object;
use super::plan::{Change, Removed, Step};
use crate::reconciler::{Event, Next, Planned};

/// Why an apply stopped.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("{object}: {message}")]
    Object { object: Key, message: String },
    #[error("the plan refuses {}; nothing was applied", .objects.join("; "))]
    Refused { objects: Vec<String> },
}

/// How long each object may take, and how many are worked on at once.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub timeout: Duration,
    pub concurrency: usize,
}

/// Progress lines, and on a terminal (`live`) colours and a status line kept
/// under them: how many objects are Ready, in progress and left.
pub struct Progress {
    live: bool,
    started: Instant,
    out: Mutex<Box<dyn Write + Send>>,
    counts: Mutex<Counts>,
}

#[derive(Default)]
struct Counts {
    total: usize,
    ready: usize,
    running: usize,
}

impl Progress {
    pub fn new(live: bool, out: Box<dyn Write + Send>) -> Self {
        Self { live, started: Instant::now(), out: Mutex::new(out), counts: Mutex::new(Counts::default()) }
    }

    fn counts(&self) -> std::sync::MutexGuard<'_, Counts> {
        self.counts.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn line(&self, code: &str, object: &str, text: &str) {
        let at = self.started.elapsed().as_secs_f64();
        let mut out = self.out.lock().unwrap_or_else(|p| p.into_inner());
        if self.live {
            let c = self.counts();
            let left = c.total.saturating_sub(c.ready + c.running);
            let status = format!("{} of {} Ready, {} in progress, {left} waiting", c.ready, c.total, c.running);
            let _ = write!(out, "\r\x1b[2K[{at:>6.1}s] \x1b[{code}m{object}\x1b[0m: {text}\n\x1b[1m{status}\x1b[0m");
        } else {
            let _ = writeln!(out, "[{at:>6.1}s] {object}: {text}");
        }
        let _ = out.flush();
    }

    /// Clears the status line (a terminal's) before the summary is printed.
    pub fn finish(&self) {
        if self.live {
            let mut out = self.out.lock().unwrap_or_else(|p| p.into_inner());
            let _ = write!(out, "\r\x1b[2K");
            let _ = out.flush();
        }
    }

    /// An Event of the reconciler (created, adopted, updated, deleted...).
    pub fn event(&self, object: &str, event: &Event) {
        self.line(if event.warning { "33" } else { "36" }, object, &event.message);
    }

    fn ready(&self, object: &str, took: Duration) {
        {
            let mut c = self.counts();
            c.ready += 1;
            c.running = c.running.saturating_sub(1);
        }
        self.line("32", object, &format!("Ready ({:.1} s)", took.as_secs_f64()));
    }

    fn waiting(&self, object: &str, message: &str) {
        self.line("2", object, message);
    }

    fn failed(&self, object: &str, message: &str) {
        {
            let mut c = self.counts();
            c.running = c.running.saturating_sub(1);
        }
        self.line("1;31", object, message);
    }
}

/// What an apply did.
#[derive(Debug, Default)]
pub struct Applied {
    pub ready: usize,
    pub deleted: usize,
    /// Removed from the state with their cloud objects left (Orphan, ObserveOnly).
    pub left: usize,
}

/// Reconciles one object until Ready; a terminal verdict or the timeout is an error.
async fn converge(
    env: &LocalEnv,
    driver: &dyn Driver,
    key: &str,
    manifest: &serde_json::Value,
    limits: Limits,
    progress: &Progress,
) -> Result<(), String> {
    let started = Instant::now();
    let mut pause = Duration::from_millis(300);
    let mut last = String::new();
    loop {
        let outcome = driver.apply(env.object_value(key, manifest, true), env).await?;
        match outcome.next {
            Next::Resync => {
                progress.ready(key, started.elapsed());
                return Ok(());
            }
            Next::Stalled => return Err(outcome.verdict.message),
            _ if started.elapsed() > limits.timeout => {
                return Err(format!("not Ready after {} s: {}", limits.timeout.as_secs(), outcome.verdict.message));
            }
            _ => {
                // An error is shown by its Warning Event already.
                if outcome.verdict.synced && outcome.verdict.message != last {
                    progress.waiting(key, &outcome.verdict.message);
                }
                last = outcome.verdict.message;
                tokio::time::sleep(pause).await;
                pause = (pause * 3 / 2).min(Duration::from_secs(5));
            }
        }
    }
}

/// Deletes one removed object's cloud object (`true`), or leaves it as its
/// policy says (`false`), and forgets the object.
async fn remove(
    env: &LocalEnv,
    driver: &dyn Driver,
    r: &Removed,
    limits: Limits,
    progress: &Progress,
) -> Result<bool, String> {
    let started = Instant::now();
    let mut pause = Duration::from_millis(300);
    loop {
        let outcome = driver.cleanup(env.object_value(&r.key, &r.manifest, false), env).await?;
        match outcome.next {
            Next::Deleted => {
                env.forget(&r.key).map_err(|e| e.to_string())?;
                let deleted = !super::plan::keeps_cloud_object(&r.manifest);
                let what = if deleted { "deleted" } else { "forgotten; its cloud object stays" };
                progress.line("31", &r.key, &format!("{what} ({:.1} s)", started.elapsed().as_secs_f64()));
                return Ok(deleted);
            }
            Next::Stalled => return Err(outcome.verdict.message),
            _ if started.elapsed() > limits.timeout => {
                return Err(format!("not deleted after {} s: {}", limits.timeout.as_secs(), outcome.verdict.message));
            }
            _ => {
                tokio::time::sleep(pause).await;
                pause = (pause * 3 / 2).min(Duration::from_secs(5));
            }
        }
    }
}

/// Applies `objects` after `steps` (their plan) was shown: nothing at all
/// when the plan refuses any object.
pub async fn run(
    env: &LocalEnv,
    drivers: &BTreeMap<&'static str, Box<dyn Driver>>,
    objects: &[Object],
    steps: &[Step],
    removed: &[Removed],
    limits: Limits,
    progress: &Progress,
) -> Result<Applied, ApplyError> {
    let refused: Vec<String> = steps
        .iter()
        .filter_map(|s| match &s.change {
            Change::Apply(Planned::Refused { message }) => Some(format!("{}: {message}", s.object)),
            _ => None,
        })
        .collect();
    if !refused.is_empty() {
        return Err(ApplyError::Refused { objects: refused });
    }
    for step in steps {
        if let Change::Apply(Planned::Adopt { .. }) = step.change {
            let manifest = objects.iter().find(|o| o.key == step.object).map(|o| &o.manifest.object);
            if let Some(m) = manifest {
                env.object_value(&step.object, m, true);
            }
            env.expect_adoption(&step.object)
                .map_err(|e| ApplyError::Object { object: step.object.clone(), message: e.to_string() })?;
        }
    }
    let managed: Vec<&Object> = objects.iter().filter(|o| o.managed).collect();
    let keys: BTreeSet<&str> = managed.iter().map(|o| o.key.as_str()).collect();
    let deps: BTreeMap<&str, Vec<Key>> = managed
        .iter()
        .map(|o| {
            let d = o.references.iter().map(|r| graph::key(r.kind, &r.name)).filter(|k| keys.contains(k.as_str()));
            (o.key.as_str(), d.collect())
        })
        .collect();
    progress.counts().total = managed.len();
    let mut done: BTreeSet<Key> = BTreeSet::new();
    let mut started: BTreeSet<&str> = BTreeSet::new();
    let mut running = FuturesUnordered::new();
    let mut failure = None;
    loop {
        if failure.is_none() {
            for o in &managed {
                if running.len() >= limits.concurrency.max(1) {
                    break;
                }
                let ready = deps.get(o.key.as_str()).is_none_or(|d| d.iter().all(|k| done.contains(k)));
                if ready && !started.contains(o.key.as_str()) {
                    started.insert(o.key.as_str());
                    progress.counts().running += 1;
                    let driver = drivers.get(o.kind.as_str()).map(|d| d.as_ref());
                    running.push(async move {
                        let result = match driver {
                            Some(d) => converge(env, d, &o.key, &o.manifest.object, limits, progress).await,
                            None => Err(format!("{} is not a managed kind", o.kind)),
                        };
                        (o.key.clone(), result)
                    });
                }
            }
        }
        let Some((key, result)) = running.next().await else { break };
        match result {
            Ok(()) => {
                done.insert(key);
            }
            Err(message) => {
                progress.failed(&key, &message);
                failure.get_or_insert(ApplyError::Object { object: key, message });
            }
        }
    }
    if let Some(e) = failure {
        return Err(e);
    }
    let mut applied = Applied { ready: done.len(), ..Applied::default() };
    for r in removed {
        let kind = r.manifest["kind"].as_str().unwrap_or_default();
        let Some(driver) = drivers.get(kind) else { continue };
        match remove(env, driver.as_ref(), r, limits, progress).await {
            Ok(true) => applied.deleted += 1,
            Ok(false) => applied.left += 1,
            Err(message) => {
                progress.failed(&r.key, &message);
                return Err(ApplyError::Object { object: r.key.clone(), message });
            }
        }
    }
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Default)]
    struct Buffer(std::sync::Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn run(live: bool) -> String {
        let buffer = Buffer::default();
        let p = Progress::new(live, Box::new(buffer.clone()));
        p.counts().total = 3;
        p.counts().running = 2;
        p.event("Network/web", &Event::normal("Created", "Create", "created Network n-1"));
        p.ready("Network/web", Duration::from_millis(1500));
        p.finish();
        String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap()
    }

    #[test]
    fn a_terminal_gets_a_status_line_under_the_progress_lines_and_a_pipe_plain_lines() {
        let plain = run(false);
        assert!(plain.contains("] Network/web: created Network n-1\n"), "{plain:?}");
        assert!(plain.contains("] Network/web: Ready (1.5 s)\n"), "{plain:?}");
        assert!(!plain.contains('\x1b') && !plain.contains('\r'), "{plain:?}");
        let live = run(true);
        assert!(live.contains("0 of 3 Ready, 2 in progress, 1 waiting"), "{live:?}");
        assert!(live.contains("1 of 3 Ready, 1 in progress, 1 waiting"), "{live:?}");
        assert!(live.ends_with("\r\x1b[2K"), "the status line is cleared at the end: {live:?}");
    }
}
