//! deploy/examples/app-db.yaml as is, in one apply (the file lists the
//! objects backwards): servers on networks whose subnets come in the same
//! apply, a database server booted from an image with a data volume, and a
//! DNS name following its address. Then the namespace goes, and with it
//! every cloud object the example made.

mod support;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use kube::api::{Api, DynamicObject, PostParams};
use serde_json::{Value, json};
use support::*;
use terrane_openstack::rest::{CINDER, DESIGNATE, NEUTRON, NOVA};

fn ready(o: &DynamicObject) -> bool {
    o.data["status"]["conditions"].as_array().into_iter().flatten().any(|c| c["type"] == "Ready" && c["status"] == "True")
}

fn dig(name: &str) -> BTreeSet<String> {
    let out = std::process::Command::new("dig").args(["+short", "@127.0.0.1", name, "A"]).output().expect("run dig");
    String::from_utf8_lossy(&out.stdout).lines().filter(|l| !l.is_empty()).map(str::to_string).collect()
}

/// The cloud path of a created object of `kind` with `id`.
fn cloud_path(kind: &str, id: &str) -> Option<(terrane_openstack::rest::Rest, String)> {
    Some(match kind {
        "Network" => (NEUTRON, format!("/v2.0/networks/{id}")),
        "Subnet" => (NEUTRON, format!("/v2.0/subnets/{id}")),
        "SecurityGroup" => (NEUTRON, format!("/v2.0/security-groups/{id}")),
        "Server" => (NOVA, format!("/servers/{id}")),
        "Volume" => (CINDER, format!("/volumes/{id}")),
        "Zone" => (DESIGNATE, format!("/v2/zones/{id}")),
        "RecordSet" => (DESIGNATE, format!("/v2/recordsets/{id}")),
        _ => return None,
    })
}

#[tokio::test]
async fn app_and_db_tiers_converge_in_one_apply_and_leave_no_trace() {
    let mut env = Env::without_controller("appdb").await;
    let yaml = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/examples/app-db.yaml")).expect("example");
    let docs: Vec<Value> = serde_saphyr::from_multiple(&yaml).expect("example YAML");
    let zone = format!("{}.terrane.test.", unique("app"));
    let (client, ns) = (env.ns.client.clone(), env.ns.name.clone());
    env.start_controller(&[]);
    let mut objects = Vec::new();
    for mut doc in docs {
        doc["spec"]["providerConfigRef"]["name"] = json!(PROVIDER);
        if doc["kind"] == "Zone" {
            doc["spec"]["resource"]["name"] = json!(zone);
        }
        let kind = doc["kind"].as_str().expect("kind").to_string();
        let obj: DynamicObject = serde_json::from_value(doc).expect("object");
        let name = obj.metadata.name.clone().expect("name");
        terrane_api(&client, &ns, &kind).create(&PostParams::default(), &obj).await.unwrap_or_else(|e| panic!("1. the API accepts {kind}/{name}: {e}"));
        objects.push((kind, name));
    }
    assert_eq!(objects.len(), 13, "the example declares 13 objects");

    let started = Instant::now();
    let deadline = started + Duration::from_secs(240);
    loop {
        let mut waiting = Vec::new();
        for (kind, name) in &objects {
            let o = terrane_api(&client, &ns, kind).get(name).await.expect("get");
            if !ready(&o) {
                let message = o.data["status"]["conditions"][0]["message"].as_str().unwrap_or("no status yet").to_string();
                waiting.push(format!("{kind}/{name}: {message}"));
            }
        }
        if waiting.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "2. everything Ready within 240s; still waiting: {waiting:#?}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    println!("app-db: {} objects Ready in {:.1}s", objects.len(), started.elapsed().as_secs_f64());

    let get = |kind: &'static str, name: &'static str| {
        let api = terrane_api(&client, &ns, kind);
        async move { api.get(name).await.expect("get") }
    };
    let db = get("Server", "db").await;
    let volume = get("Volume", "pgdata").await;
    let volume_id = volume.data["status"]["id"].as_str().expect("volume id").to_string();
    let db_id = db.data["status"]["id"].as_str().expect("server id").to_string();
    assert_eq!(db.data["status"]["resource"]["volumes"], json!([volume_id]), "3. the data volume is attached to the db server (status)");
    let cinder = CINDER.get(&env.cloud, &format!("/volumes/{volume_id}")).await.expect("Cinder answers");
    assert_eq!(cinder["volume"]["status"], json!("in-use"), "4. Cinder shows the volume in use");
    assert_eq!(cinder["volume"]["attachments"][0]["server_id"], json!(db_id), "4. by the db server");
    let image = get("Image", "os").await.data["status"]["id"].as_str().expect("image id").to_string();
    assert_eq!(db.data["status"]["resource"]["imageId"], json!(image), "5. the db server booted from the image");

    let app = get("Server", "app").await;
    let networks: BTreeSet<String> = app.data["status"]["resource"]["addresses"].as_array().into_iter().flatten().filter_map(|a| a["network"].as_str().map(str::to_string)).collect();
    assert_eq!(networks, BTreeSet::from(["backend".to_string(), "frontend".to_string()]), "6. the app server has an address on both networks");

    let deadline = Instant::now() + Duration::from_secs(60);
    while dig(&format!("db.{zone}")) != BTreeSet::from(["10.0.4.10".to_string()]) {
        assert!(Instant::now() < deadline, "7. db.{zone} answers the db server's address: {:?}", dig(&format!("db.{zone}")));
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    let mut made = Vec::new();
    for (kind, name) in &objects {
        let o = terrane_api(&client, &ns, kind).get(name).await.expect("get");
        if let (Some(id), Some(_)) = (o.data["status"]["id"].as_str(), o.data["spec"].get("resource")) {
            made.push((kind.clone(), id.to_string()));
        }
    }
    let namespaces: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client.clone());
    let deleting = Instant::now();
    namespaces.delete(&ns, &Default::default()).await.expect("delete namespace");
    let deadline = Instant::now() + Duration::from_secs(240);
    while namespaces.get_opt(&ns).await.expect("get ns").is_some() {
        assert!(Instant::now() < deadline, "8. the namespace is gone within 240s");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    println!("app-db: namespace deleted in {:.1}s", deleting.elapsed().as_secs_f64());
    for (kind, id) in &made {
        let Some((rest, path)) = cloud_path(kind, id) else { continue };
        let left = rest.get_opt(&env.cloud, &path).await.expect("the cloud answers");
        let gone = left.is_none() || left.as_ref().is_some_and(|v| v["server"]["status"] == "DELETED");
        assert!(gone, "9. {kind} {id} was deleted with the namespace: {left:?}");
    }
}
