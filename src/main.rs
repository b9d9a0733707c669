use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};

use terrane::{controller, generate};

/// Terrane: Git-driven cloud infrastructure.
#[derive(Parser)]
#[command(version, about, args_override_self = true)]
struct Cli {
    /// Log format.
    #[arg(long, global = true, default_value = "text", value_parser = ["text", "json"])]
    log_format: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write the CRD YAML of every kind (default: crds/yaml).
    Crds {
        #[arg(long, default_value = "crds/yaml")]
        out: PathBuf,
    },
    /// Write the controller's RBAC rules for every kind (default: deploy/base/rbac.yaml).
    Rbac {
        #[arg(long, default_value = "deploy/base/rbac.yaml")]
        out: PathBuf,
    },
    /// Check Terrane manifests without a cluster or a cloud: every document
    /// parses as its kind, every reference names an object of the source, no
    /// reference cycle. Prints the apply order; exits 1 naming what is wrong.
    Validate {
        #[command(flatten)]
        source: SourceArgs,
    },
    /// Show what applying a source would do in the cloud, object by object
    /// (create, update field by field, delete, no change, import, adopt),
    /// without changing anything. Exits 1 when an object cannot be applied.
    Plan {
        #[command(flatten)]
        source: SourceArgs,
        /// With --git: plan the change from this revision to --to (what
        /// merging a pull request would do); objects --from declares that
        /// --to drops are deletions.
        #[arg(long, requires_all = ["git", "to"])]
        from: Option<String>,
        /// With --from: the revision to plan.
        #[arg(long, requires = "from")]
        to: Option<String>,
        #[command(flatten)]
        run: RunArgs,
    },
    /// Plan, print the plan, and apply it: every object reconciled until
    /// Ready, then the objects the source no longer declares deleted. Stops
    /// at the first object that cannot be applied, naming it and why.
    Apply {
        #[command(flatten)]
        source: SourceArgs,
        #[command(flatten)]
        run: RunArgs,
        /// How long one object may take to become Ready (seconds).
        #[arg(long, default_value_t = 900)]
        timeout_seconds: u64,
        /// Objects worked on at once (each after what it references).
        #[arg(long, default_value_t = 8)]
        concurrency: usize,
    },
    /// Hand a standalone state to a cluster (push) or take it back (pull).
    State {
        #[command(subcommand)]
        command: StateCommand,
    },
    /// In a cluster: what the controller would change right now in a
    /// namespace, as terrane plan shows it (read from the live objects).
    Diff {
        /// The kube context (default: the current one).
        #[arg(long)]
        context: Option<String>,
        #[arg(long, short, default_value = "default")]
        namespace: String,
        #[command(flatten)]
        run: RunArgs,
    },
    /// Write manifests for what a cloud project holds (networks, subnets,
    /// routers and interfaces, ports, security groups with rules, floating
    /// IPs, servers, key pairs, volumes, zones and record sets): one file per
    /// kind, each object with import.id, references by name, and a
    /// ProviderConfig for the cloud. Applying them adopts everything.
    Export {
        /// The cloud of clouds.yaml.
        #[arg(long)]
        cloud: String,
        /// The project whose networking objects are read (default: the one
        /// the cloud's credentials are scoped to; the other services always
        /// answer for that one).
        #[arg(long)]
        project: Option<String>,
        #[arg(long, default_value = "terrane-export")]
        out: PathBuf,
        #[arg(long, default_value = "cloud")]
        provider_config: String,
        #[arg(long)]
        namespace: Option<String>,
        /// Only the objects whose cloud name contains this, and the unnamed
        /// ones attached to them; what they refer to is imported ObserveOnly.
        #[arg(long)]
        name_contains: Option<String>,
        /// The clouds.yaml (default: OS_CLIENT_CONFIG_FILE, ./clouds.yaml,
        /// ~/.config/openstack/clouds.yaml, /etc/openstack/clouds.yaml).
        #[arg(long)]
        clouds_yaml: Option<PathBuf>,
    },
    /// Write Terrane manifests for the resources of a Terraform state of the
    /// OpenStack provider (format version 4): one file per kind, each object
    /// with import.id, references by name; unknown resource types are listed
    /// and skipped.
    ImportTfstate {
        /// The state file (terraform.tfstate, or `terraform state pull` output).
        file: PathBuf,
        /// Where to write the manifests.
        #[arg(long, default_value = "terrane-import")]
        out: PathBuf,
        /// The ProviderConfig every object names.
        #[arg(long, default_value = "cloud")]
        provider_config: String,
        /// The objects' namespace (also what their ownership markers derive from).
        #[arg(long)]
        namespace: Option<String>,
    },
    /// Run the controller against the cluster of the current kubeconfig or service account.
    #[command(args_override_self = true)]
    Controller {
        /// Drift-check period, e.g. 600 (seconds).
        #[arg(long, env = "TERRANE_RESYNC_SECONDS", default_value_t = 600)]
        resync_seconds: u64,
        /// How long one cloud request may take before it counts as unanswered.
        /// A create left unanswered is not sent again before twice this long
        /// has passed without the object appearing.
        #[arg(long, env = "TERRANE_CLOUD_TIMEOUT_SECONDS", default_value_t = 30)]
        cloud_timeout_seconds: u64,
        /// Drift checks of a kind read one paged list of the project's objects
        /// instead of one GET per object once at least this many of them are
        /// checked (per ProviderConfig).
        #[arg(long, env = "TERRANE_DRIFT_LIST_MIN_OBJECTS", default_value_t = 20)]
        drift_list_min_objects: usize,
        /// Address of /metrics and /healthz.
        #[arg(long, env = "TERRANE_METRICS_ADDR", default_value = "0.0.0.0:8080")]
        metrics_addr: SocketAddr,
        /// Objects of one kind reconciled at once.
        #[arg(long, default_value_t = 8)]
        concurrency: u16,
        /// Run only while holding the Lease `terrane-controller` in this namespace.
        #[arg(long, env = "TERRANE_LEADER_ELECTION_NAMESPACE")]
        leader_election_namespace: Option<String>,
        /// This instance's name in the Lease (default: the host name).
        #[arg(long, env = "POD_NAME")]
        identity: Option<String>,
        /// Reconcile only objects of this namespace (default: every namespace).
        #[arg(long, env = "TERRANE_NAMESPACE")]
        namespace: Option<String>,
        /// Where Cluster bootstraps keep fetched Git repositories (default: a
        /// `terrane-git` directory in the system's temporary directory).
        #[arg(long, env = "TERRANE_GIT_CACHE")]
        git_cache: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum StateCommand {
    /// Apply the source into a cluster's namespace with every object's cloud
    /// ID in its status, so the controller adopts each and creates nothing;
    /// the state is marked handed over (plan and apply refuse it).
    Push {
        #[command(flatten)]
        source: SourceArgs,
        /// The kube context (default: the current one).
        #[arg(long)]
        context: Option<String>,
        #[arg(long, short, default_value = "default")]
        namespace: String,
        #[command(flatten)]
        run: RunArgs,
    },
    /// Write the managed objects of a cluster's namespace into the state,
    /// then let the controller go of them without deleting a cloud object
    /// (each set to deletionPolicy Orphan and deleted). Suspend whatever
    /// syncs the namespace from Git first.
    Pull {
        #[arg(long)]
        context: Option<String>,
        #[arg(long, short, default_value = "default")]
        namespace: String,
        #[command(flatten)]
        run: RunArgs,
    },
}

/// Where manifests come from.
#[derive(clap::Args)]
struct SourceArgs {
    /// A directory, or URL@REV:PATH (REV a branch, tag or commit).
    #[arg(required_unless_present = "git")]
    source: Option<String>,
    /// A Git repository (https:// with TERRANE_GIT_TOKEN, git://, http://, file://).
    #[arg(long, conflicts_with = "source")]
    git: Option<String>,
    /// With --git: a branch, tag or commit.
    #[arg(long = "ref", default_value = "main", requires = "git")]
    reference: String,
    /// With --git: the directory in the repository.
    #[arg(long, default_value = "", requires = "git")]
    path: String,
}

impl SourceArgs {
    fn source(&self) -> terrane::local::Source {
        self.at(&self.reference)
    }

    fn at(&self, revision: &str) -> terrane::local::Source {
        match (&self.source, &self.git) {
            (Some(s), _) => terrane::local::Source::parse(s),
            (None, Some(url)) => {
                terrane::local::Source::Git { url: url.clone(), revision: revision.into(), path: self.path.clone() }
            }
            (None, None) => terrane::local::Source::Dir(".".into()),
        }
    }
}

/// How plan and apply run.
#[derive(clap::Args)]
struct RunArgs {
    /// The state file (default: terrane.state.json in the source directory,
    /// or in the current directory for a Git source).
    #[arg(long, env = "TERRANE_STATE")]
    state: Option<PathBuf>,
    /// The clouds.yaml for ProviderConfigs whose credentials Secret is not in
    /// the source (default: OS_CLIENT_CONFIG_FILE, ./clouds.yaml,
    /// ~/.config/openstack/clouds.yaml, /etc/openstack/clouds.yaml).
    #[arg(long)]
    clouds_yaml: Option<PathBuf>,
    /// text (coloured on a terminal), json, or markdown (for a pull request).
    #[arg(long, short, default_value = "text", value_parser = ["text", "json", "markdown"])]
    output: String,
    /// Wait this long for another run holding the state's lock (seconds; 0: refuse at once).
    #[arg(long, default_value_t = 0)]
    lock_wait_seconds: u64,
    /// How long one cloud request may take.
    #[arg(long, env = "TERRANE_CLOUD_TIMEOUT_SECONDS", default_value_t = 30)]
    cloud_timeout_seconds: u64,
}

impl RunArgs {
    fn options(&self, timeout: Duration, concurrency: usize) -> terrane::local::commands::Options {
        use std::io::IsTerminal;
        use terrane::local::render::Format;
        let colour = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        terrane::local::commands::Options {
            state: self.state.clone(),
            clouds_yaml: self.clouds_yaml.clone(),
            format: match self.output.as_str() {
                "json" => Format::Json,
                "markdown" => Format::Markdown,
                _ => Format::Text { colour },
            },
            limits: terrane::local::apply::Limits { timeout, concurrency },
            lock_wait: Duration::from_secs(self.lock_wait_seconds),
            cloud_timeout: Duration::from_secs(self.cloud_timeout_seconds.max(1)),
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| format!("starting the runtime: {e}"))
}

fn plan(source: &SourceArgs, from: Option<String>, to: Option<String>, run: &RunArgs) -> Result<bool, String> {
    let options = run.options(Duration::from_secs(0), 1);
    let (target, base) = match (from, to) {
        (Some(from), Some(to)) => (source.at(&to), Some(source.at(&from))),
        _ => (source.source(), None),
    };
    let plan = runtime()?
        .block_on(terrane::local::commands::plan(&target, base.as_ref(), &options))
        .map_err(|e| e.to_string())?;
    print!("{}", terrane::local::commands::show(&plan, options.format));
    Ok(plan.summary.refused == 0)
}

fn apply(source: &SourceArgs, run: &RunArgs, timeout: u64, concurrency: usize) -> Result<(), String> {
    let options = run.options(Duration::from_secs(timeout.max(1)), concurrency);
    let json = options.format == terrane::local::render::Format::Json;
    // Colour and a live status line only on a terminal, and only for text.
    let live = matches!(options.format, terrane::local::render::Format::Text { colour: true });
    let out: Box<dyn std::io::Write + Send> =
        if json { Box::new(std::io::stderr()) } else { Box::new(std::io::stdout()) };
    let progress = std::sync::Arc::new(terrane::local::apply::Progress::new(live, out));
    let started = std::time::Instant::now();
    let result = runtime()?
        .block_on(terrane::local::commands::apply(&source.source(), &options, progress.clone(), |text| {
            if json {
                eprint!("{text}");
            } else {
                println!("{text}");
            }
        }))
        .map_err(|e| e.to_string());
    progress.finish();
    let (_, applied, requests) = result?;
    let line = format!(
        "Apply complete: {} objects Ready, {} deleted, {} left in the cloud, in {:.1} s with {requests} cloud requests",
        applied.ready,
        applied.deleted,
        applied.left,
        started.elapsed().as_secs_f64()
    );
    if json {
        println!(
            "{}",
            serde_json::json!({"ready": applied.ready, "deleted": applied.deleted, "left": applied.left, "cloudRequests": requests, "seconds": started.elapsed().as_secs_f64()})
        );
    } else {
        println!("{line}");
    }
    Ok(())
}

/// Logs to stderr: `default` unless RUST_LOG says otherwise.
fn state(command: StateCommand) -> Result<(), String> {
    let rt = runtime()?;
    match command {
        StateCommand::Push { source, context, namespace, run } => {
            let options = run.options(Duration::from_secs(1), 1);
            let pushed = rt
                .block_on(terrane::local::commands::push(&source.source(), context.as_deref(), &namespace, &options))
                .map_err(|e| e.to_string())?;
            println!(
                "pushed to namespace {namespace}: {} objects with their cloud IDs (the controller adopts them), {} for the controller to create, {} ProviderConfigs, Secrets and ConfigMaps",
                pushed.adopted, pushed.to_create, pushed.others
            );
        }
        StateCommand::Pull { context, namespace, run } => {
            let options = run.options(Duration::from_secs(1), 1);
            let pulled = rt
                .block_on(terrane::local::commands::pull(context.as_deref(), &namespace, &options))
                .map_err(|e| e.to_string())?;
            println!(
                "pulled {} objects from namespace {namespace}; the cluster lets go of them, the cloud keeps them",
                pulled.len()
            );
        }
    }
    Ok(())
}

fn diff(context: Option<String>, namespace: &str, run: &RunArgs) -> Result<bool, String> {
    let options = run.options(Duration::from_secs(1), 1);
    let plan = runtime()?
        .block_on(terrane::local::commands::diff(context.as_deref(), namespace, &options))
        .map_err(|e| e.to_string())?;
    print!("{}", terrane::local::commands::show(&plan, options.format));
    Ok(plan.summary.refused == 0)
}

struct ExportArgs {
    cloud: String,
    project: Option<String>,
    out: PathBuf,
    provider_config: String,
    namespace: Option<String>,
    name_contains: Option<String>,
    clouds_yaml: Option<PathBuf>,
}

fn export(a: ExportArgs) -> Result<(), String> {
    let path = terrane::local::env::clouds_yaml_file(a.clouds_yaml).ok_or("no clouds.yaml found (--clouds-yaml)")?;
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let config = terrane_openstack::CloudConfig::from_clouds_yaml(&text, &a.cloud, None).map_err(|e| e.to_string())?;
    let client = terrane_openstack::CloudClient::new(
        config,
        terrane_openstack::ClientOptions::default(),
        std::sync::Arc::new(terrane_provider::NoopObserver),
    )
    .map_err(|e| e.to_string())?;
    let objects = runtime()?.block_on(async {
        let project = match a.project {
            Some(p) => p,
            None => client.project_id().await.map_err(|e| e.to_string())?.unwrap_or_default(),
        };
        terrane::export::read(&client, &project).await.map_err(|e| e.to_string())
    })?;
    let objects = match &a.name_contains {
        Some(text) => terrane::export::select(objects, text),
        None => objects,
    };
    let options =
        terrane::tfstate::Options { provider_config: a.provider_config.clone(), namespace: a.namespace.clone() };
    let converted = terrane::tfstate::convert(&objects, &options).map_err(|e| e.to_string())?;
    let files = terrane::tfstate::write(&a.out, &converted).map_err(|e| e.to_string())?;
    let pc = a.out.join("provider-config.yaml");
    if !pc.exists() {
        let namespace = a.namespace.map(|n| format!(", namespace: {n}")).unwrap_or_default();
        let text = format!(
            "# Credentials: a Secret holding clouds.yaml (without a cluster: --clouds-yaml or OS_CLIENT_CONFIG_FILE).\napiVersion: terrane.dev/v1alpha1\nkind: ProviderConfig\nmetadata: {{name: {}{namespace}}}\nspec:\n  openstack:\n    cloud: {}\n    credentialsSecretRef: {{name: cloud-credentials, key: clouds.yaml}}\n",
            a.provider_config, a.cloud
        );
        std::fs::write(&pc, text).map_err(|e| format!("{}: {e}", pc.display()))?;
    }
    println!("wrote {} objects to {}: {}", converted.objects.len(), a.out.display(), files.join(", "));
    for s in &converted.skipped {
        println!("skipped {s}");
    }
    Ok(())
}

fn import_tfstate(
    file: &std::path::Path,
    out: &std::path::Path,
    provider_config: String,
    namespace: Option<String>,
) -> Result<(), terrane::tfstate::TfStateError> {
    let objects = terrane::tfstate::read(file)?;
    let converted = terrane::tfstate::convert(&objects, &terrane::tfstate::Options { provider_config, namespace })?;
    let files = terrane::tfstate::write(out, &converted)?;
    println!("wrote {} objects to {}: {}", converted.objects.len(), out.display(), files.join(", "));
    for s in &converted.skipped {
        println!("skipped {s}");
    }
    println!("next: add the ProviderConfig, then `terrane plan {}`: every object should be an import", out.display());
    Ok(())
}

fn init_tracing(format: &str, default: &str) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if format == "json" {
        builder.json().with_current_span(true).init();
    } else {
        builder.init();
    }
}

fn validate(source: &terrane::local::Source) -> Result<(), terrane::local::LocalError> {
    let access = terrane::local::access_from_env()?;
    let (objects, commit) = terrane::local::load(source, &access)?;
    match commit {
        Some(c) => println!("source: {} at commit {c}", source.describe()),
        None => println!("source: {}", source.describe()),
    }
    for (i, o) in objects.iter().enumerate() {
        println!("{:>4}. {}", i + 1, o.key);
    }
    println!("{} objects, in apply order; nothing was changed", objects.len());
    Ok(())
}

/// Success, a run that found something wrong (`Ok(false)`: exit 1, already
/// shown), or an error printed as one line (exit 1).
fn exit<E: std::fmt::Display>(result: Result<bool, E>) -> ExitCode {
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let _ = rustls::crypto::ring::default_provider().install_default();
    // The controller logs what it does; the commands print it instead.
    let level = match cli.command {
        Command::Controller { .. } => "info,kube_runtime=warn,kube_client=warn",
        _ => "warn",
    };
    init_tracing(&cli.log_format, level);
    match cli.command {
        Command::Crds { out } => exit(generate::write_crds(&out).map(|names| {
            println!("wrote {} CRDs to {}", names.len(), out.display());
            true
        })),
        Command::Rbac { out } => exit(generate::write_rbac(&out).map(|()| {
            println!("wrote {}", out.display());
            true
        })),
        Command::Validate { source } => exit(validate(&source.source()).map(|()| true)),
        Command::Plan { source, from, to, run } => exit(plan(&source, from, to, &run)),
        Command::Apply { source, run, timeout_seconds, concurrency } => {
            exit(apply(&source, &run, timeout_seconds, concurrency).map(|()| true))
        }
        Command::State { command } => exit(state(command).map(|()| true)),
        Command::Diff { context, namespace, run } => exit(diff(context, &namespace, &run)),
        Command::Export { cloud, project, out, provider_config, namespace, name_contains, clouds_yaml } => exit(
            export(ExportArgs { cloud, project, out, provider_config, namespace, name_contains, clouds_yaml })
                .map(|()| true),
        ),
        Command::ImportTfstate { file, out, provider_config, namespace } => {
            exit(import_tfstate(&file, &out, provider_config, namespace).map(|()| true))
        }
        Command::Controller {
            resync_seconds,
            cloud_timeout_seconds,
            drift_list_min_objects,
            metrics_addr,
            concurrency,
            leader_election_namespace,
            identity,
            namespace,
            git_cache,
        } => {
            let identity = identity
                .or_else(|| std::env::var("HOSTNAME").ok())
                .unwrap_or_else(|| format!("terrane-{}", std::process::id()));
            let options = controller::Options {
                resync: Duration::from_secs(resync_seconds.max(1)),
                cloud_timeout: Duration::from_secs(cloud_timeout_seconds.max(1)),
                list_min_objects: drift_list_min_objects,
                metrics_addr,
                concurrency,
                leader_election: leader_election_namespace.map(|ns| (ns, "terrane-controller".to_string())),
                identity,
                namespace,
                git_cache: git_cache.unwrap_or_else(|| std::env::temp_dir().join("terrane-git")),
            };
            let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("error: starting the runtime: {e}");
                    return ExitCode::FAILURE;
                }
            };
            match runtime.block_on(controller::run(options)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    tracing::error!(error = %e, "controller stopped");
                    ExitCode::FAILURE
                }
            }
        }
    }
}
