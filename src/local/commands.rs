//! `terrane plan` and `terrane apply`: a source (directory or Git revision)
//! against its state file and the cloud.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use terrane_openstack::OpenStackConnector;
use terrane_provider::RequestObserver;

use super::apply::{self, Applied, Limits, Progress};
use super::env::LocalEnv;
use super::objects::Object;
use super::plan::{self, Plan, Removed};
use super::render::{self, Format};
use super::state::State;
use super::{LocalError, Source, access_from_env, load};

/// How `plan` and `apply` run.
#[derive(Debug, Clone)]
pub struct Options {
    /// The state file; `None`: [`default_state`].
    pub state: Option<PathBuf>,
    /// The clouds.yaml for ProviderConfigs whose Secret is not in the source.
    pub clouds_yaml: Option<PathBuf>,
    pub format: Format,
    pub limits: Limits,
    /// How long to wait for another run's lock on the state.
    pub lock_wait: Duration,
    /// The timeout of one cloud request.
    pub cloud_timeout: Duration,
}

/// Where the state of `source` is kept by default: `terrane.state.json` in
/// the directory, or in the current directory for a Git source.
pub fn default_state(source: &Source) -> PathBuf {
    match source {
        Source::Dir(dir) => dir.join("terrane.state.json"),
        Source::Git { .. } => PathBuf::from("terrane.state.json"),
    }
}

/// Counts cloud requests, for the summary line.
#[derive(Default)]
struct Requests(AtomicU64);

impl RequestObserver for Requests {
    fn observe(&self, _: &str, _: &str, _: u16, _: Duration) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

/// One run's loaded source, state and environment.
struct Run {
    env: LocalEnv,
    objects: Vec<Object>,
    commit: Option<String>,
    requests: Arc<Requests>,
}

fn open(
    source: &Source,
    extra: Vec<Object>,
    state: State,
    options: &Options,
    progress: Option<Arc<Progress>>,
) -> Result<Run, LocalError> {
    let access = access_from_env()?;
    let (objects, commit) = load(source, &access)?;
    let requests = Arc::new(Requests::default());
    let connector = OpenStackConnector::new(requests.clone(), options.cloud_timeout);
    let sink: super::env::EventSink = match progress {
        Some(p) => Box::new(move |key, event| p.event(key, event)),
        None => Box::new(|_, _| {}),
    };
    let mut all = objects.clone();
    let keys: BTreeSet<String> = all.iter().map(|o| o.key.clone()).collect();
    all.extend(extra.into_iter().filter(|o| !keys.contains(&o.key)));
    let env = LocalEnv::new(&all, state, options.clouds_yaml.clone(), connector, sink)?;
    Ok(Run { env, objects, commit, requests })
}

/// The state at `path`, refused when it was handed over to a cluster.
fn open_state(path: &Path, wait: Duration) -> Result<State, LocalError> {
    let state = State::open_waiting(path, wait)?;
    match &state.data.handed_over {
        Some(to) => Err(LocalError::HandedOver { path: path.display().to_string(), to: to.clone() }),
        None => Ok(state),
    }
}

fn clouds_yaml_text(explicit: Option<PathBuf>) -> Option<String> {
    super::env::clouds_yaml_file(explicit).and_then(|p| std::fs::read_to_string(p).ok())
}

/// `terrane state push`: the source's objects into `namespace` of kube
/// context `context`, each with its cloud ID; the state is marked handed over.
pub async fn push(
    source: &Source,
    context: Option<&str>,
    namespace: &str,
    options: &Options,
) -> Result<super::handover::Pushed, LocalError> {
    let mut state = open_state(&options.state.clone().unwrap_or_else(|| default_state(source)), options.lock_wait)?;
    let (objects, _) = load(source, &access_from_env()?)?;
    let client = super::handover::client(context).await?;
    let clouds = clouds_yaml_text(options.clouds_yaml.clone());
    let pushed = super::handover::push(&client, namespace, &objects, &state, clouds.as_deref()).await?;
    state.data.handed_over = Some(format!(
        "kube context {}, namespace {namespace}, at {}",
        context.unwrap_or("(current)"),
        chrono::Utc::now().to_rfc3339()
    ));
    state.save()?;
    Ok(pushed)
}

/// `terrane state pull`: the managed objects of `namespace` into the state
/// (default `terrane.state.json` here), and out of the cluster.
pub async fn pull(context: Option<&str>, namespace: &str, options: &Options) -> Result<Vec<String>, LocalError> {
    let path = options.state.clone().unwrap_or_else(|| PathBuf::from("terrane.state.json"));
    let mut state = State::open_waiting(&path, options.lock_wait)?;
    let client = super::handover::client(context).await?;
    Ok(super::handover::pull(&client, namespace, &mut state).await?)
}

/// `terrane diff`: what the controller would change now in `namespace`.
pub async fn diff(context: Option<&str>, namespace: &str, options: &Options) -> Result<Plan, LocalError> {
    let client = super::handover::client(context).await?;
    let (objects, state) = super::live::read(&client, namespace).await?;
    let requests = Arc::new(Requests::default());
    let connector = OpenStackConnector::new(requests.clone(), options.cloud_timeout);
    let env = LocalEnv::new(&objects, state, options.clouds_yaml.clone(), connector, Box::new(|_, _| {}))?;
    let drivers = super::drivers::all(options.cloud_timeout * 2);
    let steps = plan::compute(&env, &drivers, &objects, &[]).await;
    let name = format!("kube context {}, namespace {namespace}", context.unwrap_or("(current)"));
    Ok(plan::finish(name, None, None, steps))
}

/// The plan of `source`; with `base` (`--from`), against what `base`
/// declares: its objects that `source` drops are deletions. Without an
/// explicit state, a plan against a base uses none: what exists is found in
/// the cloud by import and ownership marker.
pub async fn plan(source: &Source, base: Option<&Source>, options: &Options) -> Result<Plan, LocalError> {
    let started = Instant::now();
    let state = match (&options.state, base) {
        (Some(path), _) => open_state(path, options.lock_wait)?,
        (None, Some(_)) => State::in_memory(),
        (None, None) => open_state(&default_state(source), options.lock_wait)?,
    };
    let (base_objects, base_commit) = match base {
        Some(b) => {
            let (objects, commit) = load(b, &access_from_env()?)?;
            (objects, Some((b.describe(), commit)))
        }
        None => (Vec::new(), None),
    };
    let run = open(source, base_objects.iter().filter(|o| !o.managed).cloned().collect(), state, options, None)?;
    let declared: BTreeSet<&str> = run.objects.iter().filter(|o| o.managed).map(|o| o.key.as_str()).collect();
    let mut removed: Vec<Removed> = base_objects
        .iter()
        .filter(|o| o.managed && !declared.contains(o.key.as_str()))
        .rev()
        .map(|o| Removed { key: o.key.clone(), manifest: o.manifest.object.clone() })
        .collect();
    for r in plan::removed_from_state(&run.env, &run.objects) {
        if !removed.iter().any(|x| x.key == r.key) {
            removed.push(r);
        }
    }
    let drivers = super::drivers::all(options.cloud_timeout * 2);
    let mut steps = plan::compute(&run.env, &drivers, &run.objects, &removed).await;
    if base.is_some() && options.state.is_none() {
        let in_base: BTreeSet<&str> = base_objects.iter().filter(|o| o.managed).map(|o| o.key.as_str()).collect();
        plan::as_already_applied(&mut steps, &in_base);
    }
    let base = base_commit.map(|(name, commit)| match commit {
        Some(c) if !name.contains(&c) => format!("{name} at commit {c}"),
        _ => name,
    });
    let plan = plan::finish(source.describe(), run.commit.clone(), base, steps);
    tracing::debug!(took = ?started.elapsed(), requests = run.requests.0.load(Ordering::Relaxed), "planned");
    Ok(plan)
}

/// The plan printed as `options.format` asks.
pub fn show(plan: &Plan, format: Format) -> String {
    render::render(plan, format)
}

/// Plans `source`, prints the plan, then applies it with progress lines on
/// `progress`. Returns what was done and how many cloud requests it took.
pub async fn apply(
    source: &Source,
    options: &Options,
    progress: Arc<Progress>,
    print: impl Fn(&str),
) -> Result<(Plan, Applied, u64), LocalError> {
    let state = open_state(&options.state.clone().unwrap_or_else(|| default_state(source)), options.lock_wait)?;
    let run = open(source, Vec::new(), state, options, Some(progress.clone()))?;
    let removed = plan::removed_from_state(&run.env, &run.objects);
    let drivers = super::drivers::all(options.cloud_timeout * 2);
    let steps = plan::compute(&run.env, &drivers, &run.objects, &removed).await;
    let plan = plan::finish(source.describe(), run.commit.clone(), None, steps);
    print(&render::render(&plan, options.format));
    let applied =
        apply::run(&run.env, &drivers, &run.objects, &plan.steps, &removed, options.limits, &progress).await?;
    Ok((plan, applied, run.requests.0.load(Ordering::Relaxed)))
}
