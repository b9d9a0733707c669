//! `terrane-ground kube up|down|status|kubeconfig`: the Kubernetes half of the
//! test ground (tests/ground/ground.sh drives both halves).

use std::process::ExitCode;

use terrane_testground::KubeCluster;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    terrane_testground::init_crypto();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["kube", "up"] => match KubeCluster::shared().await {
            Ok(c) => {
                println!(
                    "kube-apiserver {} ready; kubeconfig: {}",
                    terrane_testground::kube_version(),
                    c.kubeconfig_path().display()
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("kube up failed: {e}");
                ExitCode::FAILURE
            }
        },
        ["kube", "down"] => {
            KubeCluster::shared_handle().stop_processes();
            println!("kube-apiserver stopped");
            ExitCode::SUCCESS
        }
        ["kube", "status"] => {
            if KubeCluster::shared_handle().is_ready().await {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        ["kube", "kubeconfig"] => {
            println!("{}", KubeCluster::shared_handle().kubeconfig_path().display());
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("usage: terrane-ground kube up|down|status|kubeconfig");
            ExitCode::from(2)
        }
    }
}
