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

fn init_tracing(format: &str) {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,kube_runtime=warn,kube_client=warn"));
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    let _ = rustls::crypto::ring::default_provider().install_default();
    init_tracing(&cli.log_format);
    match cli.command {
        Command::Crds { out } => match generate::write_crds(&out) {
            Ok(names) => {
                println!("wrote {} CRDs to {}", names.len(), out.display());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        },
        Command::Rbac { out } => match generate::write_rbac(&out) {
            Ok(()) => {
                println!("wrote {}", out.display());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        },
        Command::Validate { source, git, reference, path } => {
            let source = match (source, git) {
                (Some(s), _) => terrane::local::Source::parse(&s),
                (None, Some(url)) => terrane::local::Source::Git { url, revision: reference, path },
                (None, None) => terrane::local::Source::Dir(".".into()),
            };
            match validate(&source) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::FAILURE
                }
            }
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
