//! Proves the OpenStack half of the ground through the real APIs: a network
//! is created and deleted, a server reaches ACTIVE, a DNS zone reaches ACTIVE
//! and bind9 answers for it.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use terrane_openstack::{CloudClient, Service};
use terrane_testground::{cloud_client, random_suffix};

async fn wait_for<F, Fut>(what: &str, secs: u64, mut check: F) -> Value
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<Value>>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out after {secs}s waiting for {what}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

async fn id_by_name(c: &CloudClient, service: Service, path: &str, key: &str) -> String {
    let body = c.get(service, path).await.expect("list").body;
    body[key][0]["id"].as_str().unwrap_or_else(|| panic!("{path} found nothing: {body}")).to_string()
}

#[tokio::test]
async fn network_create_get_delete() {
    let (c, counter) = cloud_client("demo").expect("ground clouds.yaml");
    let name = format!("smoke-{}", random_suffix(6));
    let net =
        c.post(Service::Network, "/v2.0/networks", &json!({"network": {"name": name}})).await.expect("create network");
    let id = net.body["network"]["id"].as_str().expect("id").to_string();
    let got = c.get(Service::Network, &format!("/v2.0/networks/{id}")).await.expect("get network");
    assert_eq!(got.body["network"]["name"], json!(name));
    c.delete(Service::Network, &format!("/v2.0/networks/{id}")).await.expect("delete network");
    let gone = c.get(Service::Network, &format!("/v2.0/networks/{id}")).await.expect_err("network is gone");
    assert_eq!(gone.status(), Some(404));
    assert!(counter.total() >= 5, "token + 4 requests were counted: {:?}", counter.snapshot());
}

#[tokio::test]
async fn server_reaches_active() {
    let (c, _) = cloud_client("demo").expect("ground clouds.yaml");
    let name = format!("smoke-{}", random_suffix(6));
    let flavor = id_by_name(&c, Service::Compute, "/flavors?name=m1.tiny", "flavors").await;
    let image = id_by_name(&c, Service::Image, "/v2/images?name=tiny-raw", "images").await;
    let net = c.post(Service::Network, "/v2.0/networks", &json!({"network": {"name": name}})).await.expect("network");
    let net_id = net.body["network"]["id"].as_str().expect("id").to_string();
    c.post(
        Service::Network,
        "/v2.0/subnets",
        &json!({"subnet": {"network_id": net_id, "ip_version": 4, "cidr": "10.77.0.0/24"}}),
    )
    .await
    .expect("subnet");
    let server = c
        .post(
            Service::Compute,
            "/servers",
            &json!({"server": {"name": name, "flavorRef": flavor, "imageRef": image, "networks": [{"uuid": net_id}]}}),
        )
        .await
        .expect("create server");
    let server_id = server.body["server"]["id"].as_str().expect("server id").to_string();
    let active = wait_for("server ACTIVE", 120, || async {
        let s = c.get(Service::Compute, &format!("/servers/{server_id}")).await.ok()?.body;
        assert_ne!(s["server"]["status"], json!("ERROR"), "server went to ERROR: {}", s["server"]["fault"]);
        (s["server"]["status"] == json!("ACTIVE")).then_some(s)
    })
    .await;
    assert!(active["server"]["addresses"][&name].is_array(), "server has an address on its network: {active}");

    c.delete(Service::Compute, &format!("/servers/{server_id}")).await.expect("delete server");
    wait_for("server gone", 60, || async {
        match c.get(Service::Compute, &format!("/servers/{server_id}")).await {
            Err(e) if e.status() == Some(404) => Some(Value::Null),
            _ => None,
        }
    })
    .await;
    c.delete(Service::Network, &format!("/v2.0/networks/{net_id}")).await.expect("delete network");
}

#[tokio::test]
async fn dns_zone_reaches_active_and_answers() {
    let (c, _) = cloud_client("demo").expect("ground clouds.yaml");
    let zone_name = format!("smoke-{}.terrane.test.", random_suffix(6));
    let zone = c
        .post(Service::Dns, "/v2/zones", &json!({"name": zone_name, "email": "ops@terrane.test", "ttl": 300}))
        .await
        .expect("create zone");
    let id = zone.body["id"].as_str().expect("zone id").to_string();
    wait_for("zone ACTIVE", 60, || async {
        let z = c.get(Service::Dns, &format!("/v2/zones/{id}")).await.ok()?.body;
        assert_ne!(z["status"], json!("ERROR"), "zone went to ERROR");
        (z["status"] == json!("ACTIVE")).then_some(z)
    })
    .await;
    let dig =
        std::process::Command::new("dig").args(["+short", "@127.0.0.1", &zone_name, "SOA"]).output().expect("run dig");
    let answer = String::from_utf8_lossy(&dig.stdout);
    assert!(answer.contains("ops.terrane.test."), "bind9 serves the zone's SOA, got {answer:?}");
    c.delete(Service::Dns, &format!("/v2/zones/{id}")).await.expect("delete zone");
}
