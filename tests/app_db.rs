//! deploy/examples/app-db.yaml as is, in one apply (the file lists the
//! objects backwards): servers on networks whose subnets come in the same
//! apply, a database server booted from an image with a data volume, and a
//! DNS name following its address. Then the namespace goes, and with it
//! every cloud object the example made.

mod support;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use serde_json::json;
use support::*;
use terrane_openstack::rest::{CINDER, DESIGNATE, NEUTRON, NOVA};

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
    let zone = format!("{}.terrane.test.", unique("app"));
    let (client, ns) = (env.ns.client.clone(), env.ns.name.clone());
    env.start_controller(&[]);
    let started = Instant::now();
    let objects = apply_example(&env, "app-db.yaml", Some(&zone)).await;
    assert_eq!(objects.len(), 13, "the example declares 13 objects");
    wait_all_ready(&env, &objects, 240).await;
    println!("app-db: {} objects Ready in {:.1}s", objects.len(), started.elapsed().as_secs_f64());

    let get = |kind: &'static str, name: &'static str| {
        let api = terrane_api(&client, &ns, kind);
        async move { api.get(name).await.expect("get") }
    };
    let db = get("Server", "db").await;
    let volume = get("Volume", "pgdata").await;
    let volume_id = volume.data["status"]["id"].as_str().expect("volume id").to_string();
    let db_id = db.data["status"]["id"].as_str().expect("server id").to_string();
    assert_eq!(
        db.data["status"]["resource"]["volumes"],
        json!([volume_id]),
        "3. the data volume is attached to the db server (status)"
    );
    let cinder = CINDER.get(&env.cloud, &format!("/volumes/{volume_id}")).await.expect("Cinder answers");
    assert_eq!(cinder["volume"]["status"], json!("in-use"), "4. Cinder shows the volume in use");
    assert_eq!(cinder["volume"]["attachments"][0]["server_id"], json!(db_id), "4. by the db server");
    let image = get("Image", "os").await.data["status"]["id"].as_str().expect("image id").to_string();
    assert_eq!(db.data["status"]["resource"]["imageId"], json!(image), "5. the db server booted from the image");

    let app = get("Server", "app").await;
    let networks: BTreeSet<String> = app.data["status"]["resource"]["addresses"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a["network"].as_str().map(str::to_string))
        .collect();
    assert_eq!(
        networks,
        BTreeSet::from(["backend".to_string(), "frontend".to_string()]),
        "6. the app server has an address on both networks"
    );

    let deadline = Instant::now() + Duration::from_secs(60);
    while dig(&format!("db.{zone}")) != BTreeSet::from(["10.0.4.10".to_string()]) {
        assert!(
            Instant::now() < deadline,
            "7. db.{zone} answers the db server's address: {:?}",
            dig(&format!("db.{zone}"))
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    let mut made = Vec::new();
    for (kind, name) in &objects {
        let o = terrane_api(&client, &ns, kind).get(name).await.expect("get");
        if let (Some(id), Some(_)) = (o.data["status"]["id"].as_str(), o.data["spec"].get("resource")) {
            made.push((kind.clone(), id.to_string()));
        }
    }
    println!("app-db: namespace deleted in {:.1}s", delete_namespace(&env, 240).await.as_secs_f64());
    for (kind, id) in &made {
        let Some((rest, path)) = cloud_path(kind, id) else { continue };
        let left = rest.get_opt(&env.cloud, &path).await.expect("the cloud answers");
        let gone = left.is_none() || left.as_ref().is_some_and(|v| v["server"]["status"] == "DELETED");
        assert!(gone, "9. {kind} {id} was deleted with the namespace: {left:?}");
    }
}

#[tokio::test]
async fn a_server_on_a_network_without_subnet_waits_for_it() {
    let env = Env::new("wait-subnet").await;
    create(
        &env.api::<terrane_api::Flavor>(),
        terrane_obj(
            "Flavor",
            "tiny",
            json!({"managementPolicy": "ObserveOnly", "import": {"filter": {"name": "m1.tiny"}}}),
        ),
    )
    .await;
    create(
        &env.api::<terrane_api::Image>(),
        terrane_obj(
            "Image",
            "os",
            json!({"managementPolicy": "ObserveOnly", "import": {"filter": {"name": "tiny-raw"}}}),
        ),
    )
    .await;
    create(&env.api::<terrane_api::Network>(), terrane_obj("Network", "n", json!({"resource": {}}))).await;
    let servers = env.api::<terrane_api::Server>();
    create(&servers, terrane_obj("Server", "vm", json!({"resource": {"flavorRef": {"name": "tiny"}, "imageRef": {"name": "os"}, "networks": [{"networkRef": {"name": "n"}}]}}))).await;
    // Nova refuses the create; when that answer is lost under load, the
    // controller looks for the server by its marker before asking again.
    wait_reason_within(&servers, "vm", "Waiting", "requires a subnet", 3 * CLOUD_TIMEOUT_SECS + 30).await;
    create(
        &env.api::<terrane_api::Subnet>(),
        terrane_obj("Subnet", "n", json!({"resource": {"networkRef": {"name": "n"}, "cidr": "10.44.0.0/24"}})),
    )
    .await;
    let vm = wait_ready(&servers, "vm").await;
    let uid = vm.metadata.uid.clone().expect("uid");
    let tagged = NOVA.get(&env.cloud, &format!("/servers/detail?tags=terrane-uid:{uid}")).await.expect("Nova answers");
    assert_eq!(tagged["servers"].as_array().map(Vec::len), Some(1), "1. one server, once the Subnet is there");
    env.teardown().await;
}
