//! `terrane validate`: a directory or a Git revision (a real repository on
//! loopback, read with gix) checked without a cluster or a cloud: the apply
//! order, and one line naming what is wrong, with a non-zero exit.

use std::process::Command;

use terrane_testground::GitServer;

fn validate(args: &[&str], cache: &std::path::Path) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_terrane"))
        .arg("validate")
        .args(args)
        .env("TERRANE_GIT_CACHE", cache)
        .output()
        .expect("run terrane validate");
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

fn example(file: &str) -> String {
    std::fs::read_to_string(format!("{}/deploy/examples/{file}", env!("CARGO_MANIFEST_DIR"))).expect("example")
}

#[test]
fn a_git_revision_is_validated_in_dependency_order_and_mistakes_are_named() {
    let git = GitServer::start().expect("git server");
    let repo = git.create_repo("infra").unwrap();
    repo.write("envs/prod/provider-config.yaml", &example("provider-config.yaml")).unwrap();
    repo.write("envs/prod/web-tier.yaml", &example("web-tier.yaml")).unwrap();
    let good = repo.commit("the web tier").unwrap();
    let cache = std::env::temp_dir().join(format!("terrane-validate-{}", std::process::id()));
    let url = git.git_url(&repo);

    // 1. URL@REV:PATH: every object, in an order where references come first.
    let (ok, out, err) = validate(&[&format!("{url}@main:envs/prod")], &cache);
    assert!(ok, "1. {err}");
    assert!(out.contains(&format!("at commit {good}")), "1. names the commit: {out}");
    let at = |k: &str| out.find(&format!(" {k}\n")).unwrap_or_else(|| panic!("1. {k} listed: {out}"));
    assert!(at("Network/web") < at("Subnet/web") && at("Subnet/web") < at("Port/web-1"), "{out}");
    assert!(at("Port/web-1") < at("Server/web-1") && at("Zone/web") < at("RecordSet/www"), "{out}");
    assert!(out.contains("19 objects"), "1. the provider config and 18 objects: {out}");

    // 2. The same with --git/--ref/--path, at a pinned commit, after a commit that breaks a reference.
    let broken =
        example("web-tier.yaml").replace("networkRef: {name: web}\n    cidr", "networkRef: {name: webb}\n    cidr");
    repo.write("envs/prod/web-tier.yaml", &broken).unwrap();
    repo.commit("a typo").unwrap();
    let (ok, _, err) = validate(&["--git", &url, "--ref", &good, "--path", "envs/prod"], &cache);
    assert!(ok, "2. the pinned commit is still valid: {err}");
    let (ok, _, err) = validate(&["--git", &url, "--ref", "main", "--path", "envs/prod"], &cache);
    assert!(!ok, "2. the branch head is not");
    assert_eq!(
        err.trim(),
        "error: Subnet/web: resource.networkRef names Network/webb, which is not in the source",
        "2. one line naming the reference"
    );

    // 3. A revision or path that does not exist, and a YAML error, are named.
    let (ok, _, err) = validate(&[&format!("{url}@nope:envs/prod")], &cache);
    assert!(!ok && err.contains("tag \"nope\" not found"), "3. {err}");
    let (ok, _, err) = validate(&[&format!("{url}@main:envs/staging")], &cache);
    assert!(!ok && err.contains("path \"envs/staging\" not found at commit"), "3. {err}");
    repo.write("envs/prod/web-tier.yaml", &format!("{}---\nkind: [\n", example("web-tier.yaml"))).unwrap();
    repo.commit("broken YAML").unwrap();
    let (ok, _, err) = validate(&[&format!("{url}@main:envs/prod")], &cache);
    assert!(!ok && err.starts_with("error: envs/prod/web-tier.yaml document 19: "), "3. {err}");
    let _ = std::fs::remove_dir_all(cache);
}

#[test]
fn a_directory_with_a_cycle_or_an_unknown_kind_is_refused() {
    let dir = std::env::temp_dir().join(format!("terrane-validate-dir-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let group = |name: &str, other: &str| {
        format!(
            "apiVersion: terrane.dev/v1alpha1\nkind: SecurityGroup\nmetadata: {{name: {name}}}\nspec:\n  providerConfigRef: {{name: cloud}}\n  resource:\n    rules: [{{protocol: tcp, remoteGroupRef: {{name: {other}}}}}]\n"
        )
    };
    std::fs::write(dir.join("groups.yaml"), format!("{}---\n{}", group("a", "b"), group("b", "a"))).unwrap();
    let cache = dir.join("cache");
    let (ok, _, err) = validate(&[dir.to_str().unwrap()], &cache);
    assert!(!ok, "a cycle is refused");
    assert_eq!(err.trim(), "error: a reference cycle: SecurityGroup/a -> SecurityGroup/b -> SecurityGroup/a");
    std::fs::write(dir.join("groups.yaml"), "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n").unwrap();
    let (ok, _, err) = validate(&[dir.to_str().unwrap()], &cache);
    assert!(!ok && err.contains("groups.yaml document 1: apps/v1 Deployment is not a kind"), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}
