//! The generic scenarios for every networking kind and the DNS kinds, table-driven: create,
//! update, drift, orphan, import by id and by filter (0, 1, 2 matches),
//! delete, and adoption after a crash between the cloud create and the
//! status write. Kind-specific behaviour is in network.rs, subnet.rs and
//! networking.rs.

mod support;

use std::time::{Duration, Instant};

use kube::api::{Api, DeleteParams, DynamicObject, PostParams};
use serde_json::{Value, json};
use support::*;
use terrane_openstack::Service;
use terrane_openstack::rest::DESIGNATE;

/// Where a kind's cloud objects live.
#[derive(Clone, Copy)]
enum CloudApi {
    /// Neutron `/v2.0/<plural>`, answering `{<singular>: ...}`.
    Neutron { plural: &'static str, singular: &'static str },
    /// Designate: objects at `<path>/<id>`, lists under `<key>`.
    Designate { path: &'static str, key: &'static str },
}

impl CloudApi {
    async fn get(&self, env: &Env, id: &str) -> Option<Value> {
        match *self {
            CloudApi::Neutron { plural, singular } => neutron_get(&env.cloud, plural, singular, id).await,
            CloudApi::Designate { path, .. } => {
                DESIGNATE.get_opt(&env.cloud, &format!("{path}/{id}")).await.expect("Designate answers")
            }
        }
    }

    /// Changes the description behind Terrane's back.
    async fn set_description(&self, env: &Env, id: &str, text: &str) {
        match *self {
            CloudApi::Neutron { plural, singular } => {
                env.cloud
                    .put(Service::Network, &format!("/v2.0/{plural}/{id}"), &json!({singular: {"description": text}}))
                    .await
                    .expect("drift");
            }
            CloudApi::Designate { key: "zones", .. } => {
                DESIGNATE
                    .call(
                        &env.cloud,
                        reqwest::Method::PATCH,
                        &format!("/v2/zones/{id}"),
                        Some(&json!({"description": text})),
                        &[],
                    )
                    .await
                    .expect("drift");
            }
            CloudApi::Designate { .. } => {
                let rs = self.get(env, id).await.expect("record set");
                let zone = rs["zone_id"].as_str().unwrap_or_default();
                DESIGNATE
                    .put(&env.cloud, &format!("/v2/zones/{zone}/recordsets/{id}"), &json!({"description": text}))
                    .await
                    .expect("drift");
            }
        }
    }

    /// Every object of the project.
    async fn list(&self, env: &Env) -> Vec<Value> {
        match *self {
            CloudApi::Neutron { plural, .. } => {
                let project = env.cloud.project_id().await.expect("project").unwrap_or_default();
                let all = env
                    .cloud
                    .get(Service::Network, &format!("/v2.0/{plural}?project_id={project}"))
                    .await
                    .expect("list")
                    .body;
                all[plural.replace('-', "_")].as_array().cloned().unwrap_or_default()
            }
            CloudApi::Designate { path, key } => {
                // Page by page: the project may hold more than one page of them.
                DESIGNATE
                    .list_all(&env.cloud, path, key, "/id")
                    .await
                    .expect("list")
                    .into_iter()
                    .map(|(_, v)| v)
                    .collect()
            }
        }
    }

    /// Waits until an asynchronous change (Designate's PENDING) is done.
    async fn settled(&self, env: &Env, id: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while let CloudApi::Designate { .. } = self {
            let v = self.get(env, id).await.unwrap_or_default();
            if v["status"] != "PENDING" {
                break;
            }
            assert!(Instant::now() < deadline, "{id} still PENDING after 60s");
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
}

struct Case {
    kind: &'static str,
    api: CloudApi,
    /// Objects to create first: (kind, name, resource).
    prereqs: Vec<(&'static str, &'static str, Value)>,
    /// The minimal resource; `name` is the cloud name to use when the kind
    /// has one, `n` tells apart objects that may not overlap (subnet CIDRs).
    resource: fn(name: &str, n: u8) -> Value,
    /// An import filter matching the cloud object (by name, or address).
    filter: fn(cloud: &Value) -> Value,
    has_name: bool,
}

fn dyn_api(env: &Env, kind: &str) -> Api<DynamicObject> {
    terrane_api(&env.ns.client, &env.ns.name, kind)
}

async fn create_obj(env: &Env, kind: &str, name: &str, spec: Value) {
    let mut spec = spec;
    spec["providerConfigRef"] = json!({"name": PROVIDER});
    let obj: DynamicObject = serde_json::from_value(
        json!({"apiVersion": "terrane.dev/v1alpha1", "kind": kind, "metadata": {"name": name}, "spec": spec}),
    )
    .expect("object");
    dyn_api(env, kind)
        .create(&PostParams::default(), &obj)
        .await
        .unwrap_or_else(|e| panic!("create {kind}/{name}: {e}"));
}

fn ready_condition(o: &DynamicObject) -> Option<(String, String, String)> {
    let conditions = o.data.pointer("/status/conditions")?.as_array()?;
    let c = conditions.iter().find(|c| c["type"] == "Ready")?;
    Some((c["status"].as_str()?.into(), c["reason"].as_str()?.into(), c["message"].as_str()?.into()))
}

async fn wait_dyn(
    env: &Env,
    kind: &str,
    name: &str,
    what: &str,
    check: impl Fn(&DynamicObject) -> bool,
) -> DynamicObject {
    let api = dyn_api(env, kind);
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut last = None;
    loop {
        if let Ok(Some(o)) = api.get_opt(name).await {
            if check(&o) {
                return o;
            }
            last = ready_condition(&o);
        }
        assert!(Instant::now() < deadline, "{kind}/{name}: not {what} after 90s; Ready: {last:?}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn ready(env: &Env, kind: &str, name: &str) -> String {
    let o = wait_dyn(env, kind, name, "Ready", |o| {
        ready_condition(o).is_some_and(|(s, _, _)| s == "True")
            && o.data.pointer("/status/observedGeneration") == o.metadata.generation.map(Value::from).as_ref()
    })
    .await;
    o.data.pointer("/status/id").and_then(Value::as_str).expect("status.id").to_string()
}

async fn reason(env: &Env, kind: &str, name: &str, reason: &str, text: &str) {
    wait_dyn(env, kind, name, &format!("{reason} ({text})"), |o| {
        ready_condition(o).is_some_and(|(_, r, m)| r == reason && m.contains(text))
    })
    .await;
}

async fn delete_and_wait(env: &Env, kind: &str, name: &str) {
    let api = dyn_api(env, kind);
    api.delete(name, &DeleteParams::default()).await.expect("delete");
    let deadline = Instant::now() + Duration::from_secs(60);
    while api.get_opt(name).await.expect("get").is_some() {
        assert!(Instant::now() < deadline, "{kind}/{name} not gone after 60s");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn cloud_get(env: &Env, case: &Case, id: &str) -> Option<Value> {
    case.api.get(env, id).await
}

async fn wait_cloud(env: &Env, case: &Case, id: &str, what: &str, check: impl Fn(&Value) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let v = cloud_get(env, case, id).await.unwrap_or(Value::Null);
        if check(&v) {
            return;
        }
        assert!(Instant::now() < deadline, "{} {id}: {what} not seen within 60s: {v}", case.kind);
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

async fn run(case: Case) {
    let mut env = Env::new(&format!("matrix-{}", case.kind.to_lowercase())).await;
    for (kind, name, resource) in &case.prereqs {
        let spec = if resource.get("import").is_some() { resource.clone() } else { json!({"resource": resource}) };
        create_obj(&env, kind, name, spec).await;
    }
    for (kind, name, _) in &case.prereqs {
        ready(&env, kind, name).await;
    }
    let cloud_name = unique("m");
    let k = case.kind;

    // 1. create, orphan policy so the object outlives the Kubernetes object
    create_obj(&env, k, "a", json!({"deletionPolicy": "Orphan", "resource": (case.resource)(&cloud_name, 0)})).await;
    let id = ready(&env, k, "a").await;
    let cloud = cloud_get(&env, &case, &id).await.unwrap_or_else(|| panic!("1. {k} {id} exists in the cloud"));
    if case.has_name {
        assert_eq!(cloud["name"].as_str(), Some(cloud_name.as_str()), "1. {k} has the spec's name");
    }

    // 2. update a mutable field, 3. drift behind Terrane's back is repaired
    let mut resource = (case.resource)(&cloud_name, 0);
    resource["description"] = json!("v2");
    merge(&dyn_api(&env, k), "a", json!({"spec": {"resource": resource}})).await.expect("patch");
    ready(&env, k, "a").await;
    wait_cloud(&env, &case, &id, "2. description v2", |v| {
        v["description"].as_str().is_some_and(|d| d.starts_with("v2 [terrane-uid:"))
    })
    .await;
    case.api.settled(&env, &id).await;
    case.api.set_description(&env, &id, "by hand").await;
    wait_cloud(&env, &case, &id, "3. drift repaired", |v| {
        v["description"].as_str().is_some_and(|d| d.starts_with("v2 [terrane-uid:"))
    })
    .await;

    // 4. orphan: the Kubernetes object goes, the cloud object stays
    delete_and_wait(&env, k, "a").await;
    assert!(cloud_get(&env, &case, &id).await.is_some(), "4. {k}: Orphan leaves the cloud object");

    // 5. import by id, ObserveOnly: Ready on the same object, never deleted
    create_obj(&env, k, "by-id", json!({"managementPolicy": "ObserveOnly", "import": {"id": id}})).await;
    assert_eq!(ready(&env, k, "by-id").await, id, "5. {k}: imported by id");
    delete_and_wait(&env, k, "by-id").await;
    assert!(cloud_get(&env, &case, &id).await.is_some(), "5. {k}: ObserveOnly does not delete");

    // 6. import by filter: no match, one match, two matches
    let cloud = cloud_get(&env, &case, &id).await.expect("exists");
    let mut none = (case.filter)(&cloud);
    for v in none.as_object_mut().into_iter().flat_map(|m| m.values_mut()) {
        *v = json!(if v.as_str().is_some_and(|s| s.contains('.')) {
            "198.51.100.7".to_string()
        } else {
            unique("nothing")
        });
    }
    create_obj(&env, k, "none", json!({"managementPolicy": "ObserveOnly", "import": {"filter": none}})).await;
    reason(&env, k, "none", "Waiting", "matches no").await;
    create_obj(&env, k, "one", json!({"managementPolicy": "ObserveOnly", "import": {"filter": (case.filter)(&cloud)}}))
        .await;
    assert_eq!(ready(&env, k, "one").await, id, "6. {k}: a filter with one match imports it");
    let mut second = None;
    if case.has_name {
        create_obj(&env, k, "twin", json!({"deletionPolicy": "Orphan", "resource": (case.resource)(&cloud_name, 1)}))
            .await;
        second = Some(ready(&env, k, "twin").await);
        delete_and_wait(&env, k, "twin").await;
        create_obj(
            &env,
            k,
            "two",
            json!({"managementPolicy": "ObserveOnly", "import": {"filter": (case.filter)(&cloud)}}),
        )
        .await;
        reason(&env, k, "two", "InvalidConfiguration", "matches 2").await;
    }

    // 7. delete: a Managed import with policy Delete deletes the cloud object
    for (i, target) in std::iter::once(id.clone()).chain(second).enumerate() {
        let name = format!("del-{i}");
        create_obj(&env, k, &name, json!({"import": {"id": target}})).await;
        ready(&env, k, &name).await;
        delete_and_wait(&env, k, &name).await;
        assert!(cloud_get(&env, &case, &target).await.is_none(), "7. {k}: deleted in the cloud");
    }

    // 8. a crash between create and status write: adopted, not duplicated
    env.stop_controller();
    env.start_controller(&[("TERRANE_FAILPOINT", "after-create")]);
    let crash_name = unique("crash");
    create_obj(&env, k, "crash", json!({"resource": (case.resource)(&crash_name, 2)})).await;
    assert_eq!(
        env.controller.as_mut().and_then(|c| c.wait_exit(60)),
        Some(86),
        "8. the controller died at the failpoint"
    );
    env.start_controller(&[]);
    let adopted = ready(&env, k, "crash").await;
    let all = case.api.list(&env).await;
    let uid = dyn_api(&env, k).get("crash").await.expect("get").metadata.uid.unwrap_or_default();
    let marked: Vec<&Value> =
        all.iter().filter(|v| v["description"].as_str().is_some_and(|d| d.contains(&uid))).collect();
    assert_eq!(marked.len(), 1, "8. {k}: exactly one cloud object carries the marker");
    assert_eq!(marked[0]["id"].as_str(), Some(adopted.as_str()), "8. {k}: and it was adopted");
    env.teardown().await;
}

fn name_filter(cloud: &Value) -> Value {
    json!({"name": cloud["name"]})
}

#[tokio::test]
async fn network() {
    run(Case {
        kind: "Network",
        api: CloudApi::Neutron { plural: "networks", singular: "network" },
        prereqs: vec![],
        has_name: true,
        resource: |n, _| json!({"name": n}),
        filter: name_filter,
    })
    .await;
}

#[tokio::test]
async fn subnet_pool() {
    run(Case {
        kind: "SubnetPool",
        api: CloudApi::Neutron { plural: "subnetpools", singular: "subnetpool" },
        prereqs: vec![],
        has_name: true,
        resource: |n, k| json!({"name": n, "prefixes": [format!("10.{}.0.0/16", 230 + k)], "defaultPrefixLength": 24}),
        filter: name_filter,
    })
    .await;
}

#[tokio::test]
async fn subnet() {
    run(Case {
        kind: "Subnet",
        api: CloudApi::Neutron { plural: "subnets", singular: "subnet" },
        has_name: true,
        prereqs: vec![("Network", "n", json!({}))],
        resource: |n, i| json!({"name": n, "networkRef": {"name": "n"}, "cidr": format!("10.6{i}.0.0/24")}),
        filter: name_filter,
    })
    .await;
}

#[tokio::test]
async fn router() {
    run(Case {
        kind: "Router",
        api: CloudApi::Neutron { plural: "routers", singular: "router" },
        prereqs: vec![],
        has_name: true,
        resource: |n, _| json!({"name": n}),
        filter: name_filter,
    })
    .await;
}

#[tokio::test]
async fn security_group() {
    run(Case {
        kind: "SecurityGroup",
        api: CloudApi::Neutron { plural: "security-groups", singular: "security_group" },
        prereqs: vec![],
        has_name: true,
        resource: |n, _| json!({"name": n}),
        filter: name_filter,
    })
    .await;
}

#[tokio::test]
async fn port() {
    run(Case {
        kind: "Port",
        api: CloudApi::Neutron { plural: "ports", singular: "port" },
        has_name: true,
        prereqs: vec![("Network", "n", json!({}))],
        resource: |n, _| json!({"name": n, "networkRef": {"name": "n"}}),
        filter: name_filter,
    })
    .await;
}

#[tokio::test]
async fn floating_ip() {
    run(Case {
        kind: "FloatingIP",
        api: CloudApi::Neutron { plural: "floatingips", singular: "floatingip" },
        has_name: false,
        prereqs: vec![(
            "Network",
            "public",
            json!({"managementPolicy": "ObserveOnly", "import": {"filter": {"name": "public", "external": true}}}),
        )],
        resource: |_, _| json!({"floatingNetworkRef": {"name": "public"}}),
        filter: |c| json!({"floatingIpAddress": c["floating_ip_address"]}),
    })
    .await;
}

/// A zone name under the ground's test domain; `n` tells apart zones made at once.
fn zone_name(name: &str, n: u8) -> String {
    format!("{name}{n}.terrane.test.")
}

#[tokio::test]
async fn zone() {
    run(Case {
        kind: "Zone",
        api: CloudApi::Designate { path: "/v2/zones", key: "zones" },
        prereqs: vec![],
        has_name: false,
        resource: |n, i| json!({"name": zone_name(n, i), "email": "ops@terrane.test"}),
        filter: name_filter,
    })
    .await;
}

#[tokio::test]
async fn record_set() {
    run(Case {
        kind: "RecordSet",
        api: CloudApi::Designate { path: "/v2/recordsets", key: "recordsets" },
        has_name: false,
        prereqs: vec![(
            "Zone",
            "z",
            json!({"name": format!("{}.terrane.test.", unique("mz")), "email": "ops@terrane.test"}),
        )],
        resource: |n, _| json!({"zoneRef": {"name": "z"}, "name": n, "type": "A", "records": ["192.0.2.1"]}),
        filter: name_filter,
    })
    .await;
}
