//! Terrane against its raw-API floor, on the test ground. Prints figures;
//! asserts nothing.
//!
//! ```text
//! cargo bench --bench ground                    # everything
//! cargo bench --bench ground -- converge 100    # one part (converge|rest|edit|memory), N
//! ```
//!
//! * converge / delete: N network+subnet+port chains declared as objects in
//!   one apply, against the same creates (and deletes) sent straight to
//!   Neutron by 8 workers. The ProviderConfig's rate limit is raised to
//!   1,000 requests/s so that both sides are limited only by the cloud.
//! * rest: N Ready networks; cloud requests over three drift-check periods
//!   of 20 s, scaled to the default 600 s period (requests × 20/600).
//! * edit: 100 description edits; from the PATCH to the `Updated` Event
//!   (written right after the cloud call returns), minus the mean duration
//!   of the cloud PUT.
//! * memory: controller RSS with 0, 1,000 and 5,000 (or 0 and N) Networks in its
//!   namespace that wait for a ProviderConfig that does not exist (no cloud
//!   load; the store, the queue and the status writes are what grows).

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use futures::StreamExt;
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use support::*;
use terrane_api::*;
use terrane_openstack::{CloudClient, Service};

const RAW_CONCURRENCY: usize = 8;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let part = args.first().cloned().unwrap_or_else(|| "all".into());
    let n: Option<usize> = args.get(1).and_then(|a| a.parse().ok());
    terrane_testground::init_crypto();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    runtime.block_on(async move {
        if part == "all" || part == "converge" {
            for n in n.map(|n| vec![n]).unwrap_or_else(|| vec![100, 300]) {
                converge_and_delete(n).await;
            }
        }
        if part == "all" || part == "rest" {
            at_rest(n.unwrap_or(1000)).await;
        }
        if part == "all" || part == "edit" {
            edit_to_cloud(n.unwrap_or(100)).await;
        }
        if part == "all" || part == "memory" {
            memory(n.map(|n| vec![n]).unwrap_or_else(|| vec![1000, 5000])).await;
        }
    });
}

async fn fast_provider(env: &Env) {
    let patch = json!({"spec": {"openstack": {"rateLimit": {"requestsPerSecond": 1000.0, "burst": 1000}}}});
    env.api::<ProviderConfig>()
        .patch(PROVIDER, &PatchParams::default(), &Patch::Merge(patch))
        .await
        .expect("raise the rate limit");
}

fn chain(i: usize, tag: &str) -> Vec<Value> {
    let n = format!("c{i}");
    vec![
        terrane_obj("Network", &n, json!({"resource": {"name": format!("{tag}-{n}")}})),
        terrane_obj(
            "Subnet",
            &n,
            json!({"resource": {"networkRef": {"name": n}, "cidr": format!("10.{}.{}.0/24", 100 + i / 250, i % 250)}}),
        ),
        terrane_obj(
            "Port",
            &n,
            json!({"resource": {"networkRef": {"name": n}, "fixedIps": [{"subnetRef": {"name": n}}]}}),
        ),
    ]
}

async fn count_ready(env: &Env) -> usize {
    let mut n = 0;
    for kind in ["Network", "Subnet", "Port"] {
        let list = terrane_api(&env.ns.client, &env.ns.name, kind).list(&ListParams::default()).await.expect("list");
        n += list
            .items
            .iter()
            .filter(|o| {
                o.data["status"]["conditions"]
                    .as_array()
                    .is_some_and(|c| c.iter().any(|c| c["type"] == "Ready" && c["status"] == "True"))
            })
            .count();
    }
    n
}

async fn converge_and_delete(n: usize) {
    let mut env = Env::without_controller("bench-converge").await;
    fast_provider(&env).await;
    env.start_controller_with(&[], &["--resync-seconds", "600"]);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = env.controller_metrics().await.map(|m| (m.requests, m.reconciles)).unwrap_or_default();
    let t0 = Instant::now();
    for i in 0..n {
        for obj in chain(i, &env.ns.name) {
            let kind = obj["kind"].as_str().unwrap_or_default().to_string();
            let dynamic: kube::api::DynamicObject = serde_json::from_value(obj).expect("object");
            terrane_api(&env.ns.client, &env.ns.name, &kind)
                .create(&PostParams::default(), &dynamic)
                .await
                .expect("create");
        }
    }
    while count_ready(&env).await < 3 * n {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let terrane = t0.elapsed();
    let after = env.controller_metrics().await.map(|m| (m.requests, m.reconciles)).unwrap_or_default();
    let (requests, reconciles) = (after.0 - before.0, after.1 - before.1);

    let t1 = Instant::now();
    delete_namespace_objects(&env).await;
    let terrane_delete = t1.elapsed();
    env.stop_controller();

    let (raw, raw_delete) = raw_chains(&env.cloud, n, &format!("{}-raw", env.ns.name)).await;
    let objects = 3 * n;
    println!(
        "converge N={n}: terrane {:.1} s, raw Neutron {:.1} s, ratio {:.2}; cloud requests/object {:.2}, reconciles/object {:.2}",
        terrane.as_secs_f64(),
        raw.as_secs_f64(),
        terrane.as_secs_f64() / raw.as_secs_f64(),
        requests as f64 / objects as f64,
        reconciles as f64 / objects as f64,
    );
    println!(
        "delete   N={n}: terrane {:.1} s, raw Neutron {:.1} s, ratio {:.2}",
        terrane_delete.as_secs_f64(),
        raw_delete.as_secs_f64(),
        terrane_delete.as_secs_f64() / raw_delete.as_secs_f64()
    );
    env.teardown().await;
}

/// Deletes every Network, Subnet and Port of the namespace at once and waits
/// until they are gone (their cloud objects with them).
async fn delete_namespace_objects(env: &Env) {
    for kind in ["Port", "Subnet", "Network"] {
        let _ = terrane_api(&env.ns.client, &env.ns.name, kind)
            .delete_collection(&Default::default(), &ListParams::default())
            .await;
    }
    loop {
        let mut left = 0;
        for kind in ["Port", "Subnet", "Network"] {
            left += terrane_api(&env.ns.client, &env.ns.name, kind)
                .list(&ListParams::default())
                .await
                .map(|l| l.items.len())
                .unwrap_or(0);
        }
        if left == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn post(cloud: &CloudClient, path: &str, body: Value, key: &str) -> String {
    let r = cloud.post(Service::Network, path, &body).await.expect("raw create");
    r.body[key]["id"].as_str().unwrap_or_default().to_string()
}

/// The same chains straight to Neutron, `RAW_CONCURRENCY` at a time; then
/// their deletion the same way.
async fn raw_chains(cloud: &CloudClient, n: usize, tag: &str) -> (Duration, Duration) {
    let t0 = Instant::now();
    let made: Vec<(String, String, String)> = futures::stream::iter(0..n)
        .map(|i| async move {
            let net =
                post(cloud, "/v2.0/networks", json!({"network": {"name": format!("{tag}-c{i}")}}), "network").await;
            let cidr = format!("10.{}.{}.0/24", 150 + i / 250, i % 250);
            let subnet = post(
                cloud,
                "/v2.0/subnets",
                json!({"subnet": {"network_id": net, "ip_version": 4, "cidr": cidr}}),
                "subnet",
            )
            .await;
            let port = post(
                cloud,
                "/v2.0/ports",
                json!({"port": {"network_id": net, "fixed_ips": [{"subnet_id": subnet}]}}),
                "port",
            )
            .await;
            (net, subnet, port)
        })
        .buffer_unordered(RAW_CONCURRENCY)
        .collect()
        .await;
    let created = t0.elapsed();
    let t1 = Instant::now();
    futures::stream::iter(made)
        .map(|(net, subnet, port)| async move {
            for path in
                [format!("/v2.0/ports/{port}"), format!("/v2.0/subnets/{subnet}"), format!("/v2.0/networks/{net}")]
            {
                cloud.delete(Service::Network, &path).await.expect("raw delete");
            }
        })
        .buffer_unordered(RAW_CONCURRENCY)
        .collect::<Vec<_>>()
        .await;
    (created, t1.elapsed())
}

async fn create_networks(env: &Env, n: usize, spec: impl Fn(usize) -> Value) {
    let api = env.api::<Network>();
    futures::stream::iter(0..n)
        .map(|i| {
            let api = api.clone();
            let obj: Network =
                serde_json::from_value(terrane_obj("Network", &format!("n{i}"), spec(i))).expect("network");
            async move { api.create(&PostParams::default(), &obj).await.expect("create network") }
        })
        .buffer_unordered(16)
        .collect::<Vec<_>>()
        .await;
}

async fn wait_networks_ready(env: &Env, n: usize) {
    loop {
        let list = env.api::<Network>().list(&ListParams::default()).await.expect("list");
        if list.items.iter().filter(|o| o.status.as_ref().is_some_and(|s| s.is_ready())).count() >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

async fn at_rest(n: usize) {
    const PERIOD: u64 = 20;
    let mut env = Env::without_controller("bench-rest").await;
    fast_provider(&env).await;
    env.start_controller_with(&[], &["--resync-seconds", &PERIOD.to_string()]);
    let t0 = Instant::now();
    create_networks(&env, n, |_| json!({"resource": {}})).await;
    wait_networks_ready(&env, n).await;
    println!("rest: {n} networks Ready in {:.1} s", t0.elapsed().as_secs_f64());
    // Settle one period, then count over three.
    tokio::time::sleep(Duration::from_secs(PERIOD)).await;
    let before = env.controller_metrics().await.map(|m| m.requests).unwrap_or_default();
    let window = Duration::from_secs(3 * PERIOD);
    tokio::time::sleep(window).await;
    let requests = env.controller_metrics().await.map(|m| m.requests).unwrap_or_default() - before;
    let per_object_hour = requests as f64 / n as f64 / (window.as_secs_f64() / 3600.0);
    println!(
        "rest N={n}: {requests} cloud requests in {} s at a {PERIOD} s period = {:.1} per object per hour; at the default 600 s period: {:.3}",
        window.as_secs(),
        per_object_hour,
        per_object_hour * PERIOD as f64 / 600.0
    );

    env.stop_controller();
    env.start_controller_with(&[], &["--resync-seconds", "600"]);
    let t1 = Instant::now();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let fresh: Network =
        serde_json::from_value(terrane_obj("Network", "after-restart", json!({"resource": {}}))).expect("network");
    env.api::<Network>().create(&PostParams::default(), &fresh).await.expect("create");
    let created = t1.elapsed();
    wait_ready(&env.api::<Network>(), "after-restart").await;
    let ready_after = t1.elapsed();
    tokio::time::sleep(Duration::from_secs(30)).await;
    let restart_requests = env.controller_metrics().await.map(|m| m.requests).unwrap_or_default();
    println!(
        "restart with {n} Ready: a network applied {:.1} s after the start was Ready {:.1} s after the start; {restart_requests} cloud requests in the first 30 s",
        created.as_secs_f64(),
        ready_after.as_secs_f64()
    );
    env.teardown().await;
}

async fn edit_to_cloud(edits: usize) {
    let mut env = Env::without_controller("bench-edit").await;
    fast_provider(&env).await;
    env.start_controller_with(&[], &["--resync-seconds", "600"]);
    let api = env.api::<Network>();
    create(&api, terrane_obj("Network", "e", json!({"resource": {"description": "v0"}}))).await;
    wait_ready(&api, "e").await;
    let events: Api<k8s_openapi::api::events::v1::Event> = env.api();
    let mut lags = Vec::new();
    for i in 1..=edits {
        let started = k8s_openapi::jiff::Timestamp::now();
        merge(&api, "e", json!({"spec": {"resource": {"description": format!("v{i}")}}})).await.expect("edit");
        let want = format!("v{i}");
        let at = loop {
            let list = events.list(&ListParams::default()).await.expect("events");
            let hit = list.items.iter().find(|e| {
                e.reason.as_deref() == Some("Updated")
                    && e.event_time.as_ref().is_some_and(|t| t.0 > started)
                    && e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some("e")
            });
            if let Some(t) = hit.and_then(|e| e.event_time.clone()) {
                break t.0;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        wait_for(&api, "e", 30, "updated", |n| {
            n.status
                .as_ref()
                .and_then(|s| s.resource.as_ref())
                .is_some_and(|r| r["description"].as_str().unwrap_or("").starts_with(&want))
        })
        .await;
        lags.push(at.duration_since(started).as_secs_f64());
    }
    let metrics = env.controller_metrics().await.map(|m| m.text).unwrap_or_default();
    let put = mean_latency(&metrics, "PUT");
    let mut net: Vec<f64> = lags.iter().map(|l| (l - put).max(0.0)).collect();
    net.sort_by(|a, b| a.total_cmp(b));
    let pct = |p: f64| net[((net.len() as f64 * p).ceil() as usize).clamp(1, net.len()) - 1];
    println!(
        "edit → cloud over {edits} edits: p50 {:.3} s, p99 {:.3} s (PATCH to the Updated Event, minus the mean PUT of {:.3} s)",
        pct(0.5),
        pct(0.99),
        put
    );
    env.teardown().await;
}

/// The mean of `terrane_cloud_request_duration_seconds` for `method`.
fn mean_latency(metrics: &str, method: &str) -> f64 {
    let total = |suffix: &str| -> f64 {
        metrics
            .lines()
            .filter(|l| l.starts_with(&format!("terrane_cloud_request_duration_seconds_{suffix}")))
            .filter(|l| l.contains(&format!("method=\"{method}\"")))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    };
    let count = total("count");
    if count == 0.0 { 0.0 } else { total("sum") / count }
}

fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kib: f64 = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}

async fn memory(steps: Vec<usize>) {
    let mut env = Env::without_controller("bench-memory").await;
    env.start_controller_with(&[], &["--resync-seconds", "600"]);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let pid = env.controller.as_ref().map(|c| c.pid()).unwrap_or_default();
    let mut points = vec![(0usize, rss_mib(pid))];
    let mut made = 0;
    for target in steps {
        let api = env.api::<Network>();
        futures::stream::iter(made..target)
            .map(|i| {
                let api = api.clone();
                let spec = json!({"providerConfigRef": {"name": "absent"}, "resource": {}});
                let obj: Network =
                    serde_json::from_value(terrane_obj("Network", &format!("m{i}"), spec)).expect("network");
                async move { api.create(&PostParams::default(), &obj).await.expect("create") }
            })
            .buffer_unordered(16)
            .collect::<Vec<_>>()
            .await;
        made = target;
        // Every object reconciled once (finalizer, Waiting status), then settled.
        loop {
            let list = api.list(&ListParams::default()).await.expect("list");
            if list.items.iter().filter(|o| o.status.is_some()).count() >= target {
                break;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        tokio::time::sleep(Duration::from_secs(5)).await;
        points.push((target, rss_mib(pid)));
    }
    let (n0, r0) = points[0];
    let (n1, r1) = points[points.len() - 1];
    let slope = (r1 - r0) / (n1 - n0) as f64;
    let shown: Vec<String> = points.iter().map(|(n, r)| format!("{n}: {r:.1} MiB")).collect();
    println!(
        "memory: RSS {}; {:.1} KiB per object; 10,000 objects ≈ {:.0} MiB",
        shown.join(", "),
        slope * 1024.0,
        r0 + slope * 10_000.0
    );
    env.teardown().await;
}
