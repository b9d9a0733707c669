//! `terrane plan` and `terrane apply` without a cluster, against the real
//! cloud, reading a real Git repository served on loopback: the web tier
//! planned, applied, planned empty, changed in a second revision (the
//! pull-request plan in markdown), applied again and destroyed; and an apply
//! killed right after each cloud create that resumes without duplicates.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

use serde_json::{Value, json};
use support::*;
use terrane_testground::GitServer;

/// Both tests compare the project's whole inventory before and after: one at a time.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A scratch directory with the state, the Git cache and the ground's clouds.yaml.
struct Scratch {
    dir: PathBuf,
}

impl Scratch {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("terrane-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch dir");
        std::fs::write(dir.join("clouds.yaml"), terrane_testground::clouds_yaml_text().expect("ground clouds.yaml"))
            .expect("clouds.yaml");
        Self { dir }
    }

    fn state(&self) -> PathBuf {
        self.dir.join("prod.state.json")
    }

    /// `terrane <args> --state S --clouds-yaml C` with `env` set.
    fn terrane(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_terrane"))
            .args(args)
            .arg("--state")
            .arg(self.state())
            .arg("--clouds-yaml")
            .arg(self.dir.join("clouds.yaml"))
            .env("TERRANE_GIT_CACHE", self.dir.join("git-cache"))
            .envs(env.iter().copied())
            .output()
            .expect("run terrane")
    }

    fn state_json(&self) -> Value {
        serde_json::from_str(&std::fs::read_to_string(self.state()).expect("state file")).expect("state is JSON")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn text(out: &Output) -> (String, String) {
    (String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

/// Runs and expects success; returns stdout.
fn ok(out: Output, what: &str) -> String {
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{what}: exit {:?}\n{stdout}\n{stderr}", out.status.code());
    stdout
}

fn summary(plan_json: &str) -> Value {
    let plan: Value = serde_json::from_str(plan_json).unwrap_or_else(|e| panic!("plan JSON: {e}\n{plan_json}"));
    plan["summary"].clone()
}

/// The documents of an example, each in namespace `ns` (the namespace keeps
/// this run's ownership markers apart from any other's), JSON being YAML.
fn example_docs(file: &str, ns: &str, edit: impl Fn(&str) -> String) -> Vec<Value> {
    let path = format!("{}/deploy/examples/{file}", env!("CARGO_MANIFEST_DIR"));
    let yaml = edit(&std::fs::read_to_string(path).expect("example"));
    let mut docs: Vec<Value> = serde_saphyr::from_multiple(&yaml).expect("example YAML");
    for d in &mut docs {
        d["metadata"]["namespace"] = json!(ns);
    }
    docs
}

fn write_docs(path: &Path, docs: &[Value]) {
    let text: Vec<String> = docs.iter().map(|d| serde_json::to_string_pretty(d).expect("JSON")).collect();
    std::fs::write(path, text.join("\n---\n")).expect("write manifests");
}

fn repo_docs(repo: &terrane_testground::GitRepo, file: &str, docs: &[Value]) {
    let text: Vec<String> = docs.iter().map(|d| serde_json::to_string_pretty(d).expect("JSON")).collect();
    repo.write(file, &text.join("\n---\n")).expect("write to the repository");
}

#[tokio::test]
async fn the_web_tier_is_planned_applied_changed_by_a_reviewed_revision_and_destroyed() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let (cloud, _) = terrane_testground::cloud_client("demo").expect("cloud");
    let before = inventory(&cloud).await;
    let scratch = Scratch::new("plan-web");
    let ns = unique("pa");
    let key_name = unique("ops");
    let zone = format!("{}.terrane.test.", unique("plan"));
    let web = example_docs("web-tier.yaml", &ns, |y| {
        y.replace("{name: ops}", &format!("{{name: {key_name}}}")).replace("web.example.org.", &zone)
    });
    let git = GitServer::start().expect("git server");
    let repo = git.create_repo("infra").expect("repo");
    repo_docs(&repo, "envs/prod/provider-config.yaml", &example_docs("provider-config.yaml", &ns, str::to_string));
    repo_docs(&repo, "envs/prod/web-tier.yaml", &web);
    let rev1 = repo.commit("the web tier").expect("commit");
    let source = format!("{}@main:envs/prod", git.git_url(&repo));

    // 1. The first plan: every object to create or import, nothing applied.
    let started = Instant::now();
    let first = ok(scratch.terrane(&["plan", &source, "-o", "json"], &[]), "1. plan");
    let plan_took = started.elapsed();
    let s = summary(&first);
    assert_eq!(
        (s["create"].as_u64(), s["import"].as_u64(), s["refused"].as_u64()),
        (Some(15), Some(3), Some(0)),
        "1. {s}"
    );
    assert_eq!(inventory(&cloud).await, before, "1. a plan changes nothing in the cloud");
    let shown = ok(scratch.terrane(&["plan", &source], &[]), "1. plan as text");
    assert!(shown.contains(&format!("at commit {rev1}")), "1. names the commit: {shown}");
    assert!(shown.contains("+ Subnet/web: create\n      cidr = \"10.0.2.0/24\""), "1. fields of a create: {shown}");
    assert!(shown.contains("< Network/public ("), "1. the imported network is found: {shown}");
    assert!(!shown.contains('\x1b'), "1. no colour when piped");

    // 2. Apply: everything Ready, in dependency order, with progress lines.
    let started = Instant::now();
    let applied = ok(scratch.terrane(&["apply", &source], &[]), "2. apply");
    let apply_took = started.elapsed();
    assert!(applied.contains("Apply complete: 18 objects Ready, 0 deleted"), "2. {applied}");
    let progress = &applied[applied.find("\n[").expect("2. progress lines after the plan")..];
    let at = |what: &str| progress.find(what).unwrap_or_else(|| panic!("2. {what:?} in {applied}"));
    // (A create whose answer is lost on this busy machine is adopted, so "created" may not show.)
    assert!(at("Network/web: Ready") < at("Subnet/web: "), "2. {applied}");
    assert!(at("Port/web-1: Ready") < at("Server/web-1: "), "2. {applied}");
    let during = inventory(&cloud).await;
    let made: Vec<&String> = during.difference(&before).collect();
    assert_eq!(made.iter().filter(|m| m.starts_with("servers/")).count(), 2, "2. two servers: {made:?}");
    let state = scratch.state_json();
    let www = state["objects"]["RecordSet/www"]["status"]["id"].as_str().expect("2. the state holds IDs").to_string();
    assert!(
        state["secrets"][format!("{key_name}-ssh-key")]["ssh-privatekey"].is_string(),
        "2. generated key kept: {state}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(scratch.state()).expect("state").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "2. the state holds a private key: owner only");
    }

    // 3. Planned again: nothing to do, for every kind of the tier.
    let again = summary(&ok(scratch.terrane(&["plan", &source, "-o", "json"], &[]), "3. plan"));
    assert_eq!(
        again,
        json!({"create": 0, "update": 0, "delete": 0, "import": 0, "adopt": 0, "unchanged": 18, "refused": 0})
    );

    // 4. A second revision, as a pull request would bring it: a field
    //    changed, a record dropped, a subnet pool and a volume added.
    let mut changed = web.clone();
    changed.retain(|d| !(d["kind"] == "RecordSet" && d["metadata"]["name"] == "web-1"));
    for d in &mut changed {
        if d["kind"] == "SecurityGroup" {
            d["spec"]["resource"]["description"] = json!("ssh and web in");
        }
    }
    let added = |kind: &str, name: &str, resource: Value| {
        json!({"apiVersion": "terrane.dev/v1alpha1", "kind": kind,
               "metadata": {"name": name, "namespace": ns},
               "spec": {"providerConfigRef": {"name": "cloud"}, "resource": resource}})
    };
    changed.push(added("SubnetPool", "web", json!({"prefixes": ["10.231.0.0/16"], "defaultPrefixLength": 24})));
    changed.push(added("Volume", "logs", json!({"size": 1, "description": "web logs"})));
    repo_docs(&repo, "envs/prod/web-tier.yaml", &changed);
    let rev2 = repo.commit("smaller security group description, no web-1 record, a pool and a volume").expect("commit");

    // 5. The pull-request plan, from the base to the head, without state: markdown.
    let url = git.git_url(&repo);
    let pr = ["plan", "--git", &url, "--from", &rev1, "--to", &rev2, "--path", "envs/prod", "-o", "markdown"];
    let out = Command::new(env!("CARGO_BIN_EXE_terrane"))
        .args(pr)
        .arg("--clouds-yaml")
        .arg(scratch.dir.join("clouds.yaml"))
        .env("TERRANE_GIT_CACHE", scratch.dir.join("git-cache"))
        .output()
        .expect("plan --from --to");
    let markdown = ok(out, "5. plan --from --to");
    println!("pull-request plan:\n{markdown}");
    assert!(
        markdown.starts_with("### Terrane plan: 2 to create, 1 to update, 1 to delete, 16 unchanged\n"),
        "5. {markdown}"
    );
    assert!(markdown.contains("| 🔴 | `RecordSet/web-1` | delete |"), "5. {markdown}");
    assert!(markdown.contains("| 🟢 | `Volume/logs` | create |"), "5. {markdown}");
    assert!(
        markdown.contains("| `description` | `\"ssh, http and https in, anything out\"` | `\"ssh and web in\"` |"),
        "5. the field, old and new: {markdown}"
    );
    assert!(markdown.contains("<details><summary><code>SecurityGroup/web</code>: update</summary>"), "5. {markdown}");

    // 6. Applied with the state: the record is deleted, the new objects made; then the plan is empty.
    let applied = ok(scratch.terrane(&["apply", &source], &[]), "6. apply");
    assert!(applied.contains("Apply complete: 19 objects Ready, 1 deleted"), "6. {applied}");
    let again = summary(&ok(scratch.terrane(&["plan", &source, "-o", "json"], &[]), "6. plan"));
    assert_eq!(again["unchanged"], 19, "6. {again}");
    assert_eq!(
        again["create"].as_u64().unwrap_or(9)
            + again["update"].as_u64().unwrap_or(9)
            + again["delete"].as_u64().unwrap_or(9),
        0,
        "6. {again}"
    );
    let record = scratch.state_json()["objects"]["RecordSet/web-1"].clone();
    assert!(record.is_null(), "6. the dropped object is gone from the state: {record}");
    assert!(
        scratch.state_json()["objects"]["RecordSet/www"]["status"]["id"] == www.as_str(),
        "6. kept objects keep their IDs"
    );

    // 7. Mistakes are one line each, and change nothing.
    let bad = scratch.terrane(&["plan", &format!("{url}@no-such-branch:envs/prod")], &[]);
    let (_, err) = text(&bad);
    assert!(!bad.status.success() && err.trim().lines().count() == 1 && err.contains("no-such-branch"), "7. {err}");
    let held = terrane::local::state::State::open(&scratch.state()).expect("7. the state's lock is free");
    let locked = scratch.terrane(&["apply", &source], &[]);
    let (_, err) = text(&locked);
    assert!(!locked.status.success() && err.contains("is in use by terrane (pid"), "7. who holds the lock: {err}");
    drop(held);

    // 8. Destroy: a revision that declares nothing but the credentials.
    repo.write("envs/prod/web-tier.yaml", "").expect("empty");
    repo.commit("decommission the web tier").expect("commit");
    let destroyed = ok(scratch.terrane(&["apply", &source], &[]), "8. apply nothing");
    assert!(destroyed.contains("0 objects Ready, 16 deleted, 3 left in the cloud"), "8. the imports stay: {destroyed}");
    let after = inventory(&cloud).await;
    assert_eq!(
        after,
        before,
        "8. the cloud is as before: left over {:?}",
        after.difference(&before).collect::<Vec<_>>()
    );
    println!(
        "web tier without a cluster: plan {:.1} s, apply {:.1} s (18 objects)",
        plan_took.as_secs_f64(),
        apply_took.as_secs_f64()
    );
}

/// The Neutron objects of `plural` whose description carries `uid`'s marker.
async fn carrying(cloud: &terrane_openstack::CloudClient, plural: &str, uid: &str) -> usize {
    let r = cloud.get(terrane_openstack::Service::Network, &format!("/v2.0/{plural}")).await.expect("list");
    r.body[plural.replace('-', "_")]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|o| o["description"].as_str().unwrap_or_default().contains(&format!("[terrane-uid:{uid}]")))
        .count()
}

#[tokio::test]
async fn an_apply_killed_after_each_cloud_create_resumes_without_duplicates() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let (cloud, _) = terrane_testground::cloud_client("demo").expect("cloud");
    let before = inventory(&cloud).await;
    let scratch = Scratch::new("plan-kill");
    let ns = unique("kill");
    let source = scratch.dir.join("source");
    std::fs::create_dir_all(&source).expect("source dir");
    let obj = |kind: &str, name: &str, resource: Value| {
        json!({"apiVersion": "terrane.dev/v1alpha1", "kind": kind, "metadata": {"name": name, "namespace": ns},
               "spec": {"providerConfigRef": {"name": "cloud"}, "resource": resource}})
    };
    write_docs(&source.join("provider-config.yaml"), &example_docs("provider-config.yaml", &ns, str::to_string));
    let objects = vec![
        obj("Network", "app", json!({})),
        obj("Subnet", "app", json!({"networkRef": {"name": "app"}, "cidr": "10.44.0.0/24"})),
        obj(
            "SecurityGroup",
            "app",
            json!({"rules": [{"protocol": "tcp", "portRangeMin": 5432, "portRangeMax": 5432}]}),
        ),
        obj(
            "Port",
            "db",
            json!({"networkRef": {"name": "app"}, "fixedIps": [{"subnetRef": {"name": "app"}}], "securityGroupRefs": [{"name": "app"}]}),
        ),
    ];
    write_docs(&source.join("app.yaml"), &objects);
    let dir = source.to_str().expect("path");

    // Every run exits right after its first cloud create, before the ID is stored.
    let mut kills = 0;
    let mut runs = 0;
    loop {
        runs += 1;
        assert!(runs <= 12, "apply finished within 12 runs ({kills} killed)");
        let out = scratch.terrane(
            &["apply", dir, "--concurrency", "1", "--cloud-timeout-seconds", "10"],
            &[("TERRANE_FAILPOINT", "after-create")],
        );
        match out.status.code() {
            Some(86) => {
                kills += 1;
                let state = scratch.state_json();
                let pending = state["objects"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .filter(|(_, e)| e["status"]["pendingCreate"].is_string())
                    .count();
                assert!(pending >= 1, "the create in doubt is on record before it is sent: {state}");
            }
            Some(0) => break,
            code => panic!("apply exit {code:?}: {:?}", text(&out)),
        }
    }
    assert_eq!(kills, 4, "one kill after each of the four creates");
    for (plural, key) in [
        ("networks", "Network/app"),
        ("subnets", "Subnet/app"),
        ("security-groups", "SecurityGroup/app"),
        ("ports", "Port/db"),
    ] {
        let uid = terrane::local::state::uid(&ns, key);
        assert_eq!(carrying(&cloud, plural, &uid).await, 1, "{key}: exactly one cloud object after {kills} kills");
    }
    let plan = summary(&ok(scratch.terrane(&["plan", dir, "-o", "json"], &[]), "plan"));
    assert_eq!(plan["unchanged"], 4, "the plan after the resumed apply is empty: {plan}");

    // The state lost: the plan finds every object by its marker, and apply adopts rather than duplicates.
    std::fs::remove_file(scratch.state()).expect("lose the state");
    let plan = summary(&ok(scratch.terrane(&["plan", dir, "-o", "json"], &[]), "plan without state"));
    assert_eq!(plan["adopt"], 4, "found by marker: {plan}");
    ok(scratch.terrane(&["apply", dir], &[]), "apply without state");
    for (plural, key) in [("networks", "Network/app"), ("ports", "Port/db")] {
        assert_eq!(
            carrying(&cloud, plural, &terrane::local::state::uid(&ns, key)).await,
            1,
            "{key} adopted, not made again"
        );
    }

    // A spec the cloud refuses stops apply at that object, named with the cloud's reason.
    let mut with_bad = objects.clone();
    with_bad.push(obj(
        "Port",
        "bad",
        json!({"networkRef": {"name": "app"}, "fixedIps": [{"subnetRef": {"name": "app"}, "ipAddress": "10.99.0.5"}]}),
    ));
    write_docs(&source.join("app.yaml"), &with_bad);
    let out = scratch.terrane(&["apply", dir], &[]);
    let (_, err) = text(&out);
    assert!(!out.status.success(), "the refused port fails the apply");
    let last = err.trim().lines().last().unwrap_or_default().to_string();
    assert!(
        last.starts_with("error: ") && last.contains("Port/bad") && last.contains("10.99.0.5"),
        "one line naming it: {err}"
    );

    write_docs(&source.join("app.yaml"), &[]);
    let out = ok(scratch.terrane(&["apply", dir], &[]), "destroy");
    assert!(out.contains("Apply complete: 0 objects Ready"), "{out}");
    assert_eq!(inventory(&cloud).await, before, "nothing left over");
    println!("killed apply: {kills} kills in {runs} runs, 0 duplicates");
}
