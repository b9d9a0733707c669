//! Network against the real ground: each test is one scenario of the core
//! issue's list, with a controller watching only the test's namespace.

mod support;

use serde_json::json;
use support::*;
use terrane_api::Network;
use terrane_openstack::Service;

fn network(name: &str, resource: serde_json::Value) -> serde_json::Value {
    json!({"apiVersion": "terrane.dev/v1alpha1", "kind": "Network", "metadata": {"name": name},
           "spec": {"providerConfigRef": {"name": PROVIDER}, "resource": resource}})
}

async fn cloud_network(env: &Env, id: &str) -> Option<serde_json::Value> {
    neutron_get(&env.cloud, "networks", "network", id).await
}

#[tokio::test]
async fn create_minimal_then_delete() {
    let env = Env::new("net-min").await;
    let api = env.api::<Network>();
    create(&api, network("web", json!({}))).await;
    let obj = wait_ready(&api, "web").await;
    let id = id_of(&obj);
    let cloud = cloud_network(&env, &id).await.expect("1. the network exists in the cloud");
    assert_eq!(cloud["name"], json!("web"), "2. the cloud name defaults to the object's name");
    let status = obj.status.as_ref().expect("status");
    assert_eq!(
        status.resource.as_ref().and_then(|r| r["id"].as_str()),
        Some(id.as_str()),
        "3. status.resource shows the observed object"
    );
    assert!(status.last_sync_time.is_some());
    assert!(env.events("web").await.iter().any(|e| e.starts_with("Created")), "4. a Created event");

    api.delete("web", &Default::default()).await.expect("delete");
    wait_gone(&api, "web", 60).await;
    assert!(cloud_network(&env, &id).await.is_none(), "5. deleting the object deletes the cloud network");
    env.teardown().await;
}

#[tokio::test]
async fn create_full_and_update_in_place() {
    let env = Env::new("net-full").await;
    let api = env.api::<Network>();
    let name = unique("full");
    create(&api, network("full", json!({"name": name, "description": "web tier", "adminStateUp": false, "mtu": 1400, "portSecurityEnabled": false}))).await;
    let id = id_of(&wait_ready(&api, "full").await);
    let n = cloud_network(&env, &id).await.expect("exists");
    assert_eq!(
        (n["name"].as_str(), n["admin_state_up"].as_bool(), n["mtu"].as_i64(), n["port_security_enabled"].as_bool()),
        (Some(name.as_str()), Some(false), Some(1400), Some(false))
    );
    assert!(
        n["description"].as_str().is_some_and(|d| d.starts_with("web tier")),
        "1. description as given, then the ownership marker: {}",
        n["description"]
    );

    merge(
        &api,
        "full",
        json!({"spec": {"resource": {"description": "web tier v2", "adminStateUp": true, "mtu": 1450}}}),
    )
    .await
    .expect("patch");
    let obj = wait_ready(&api, "full").await;
    assert_eq!(id_of(&obj), id, "2. updated in place: same cloud ID");
    let n = cloud_network(&env, &id).await.expect("exists");
    assert_eq!((n["admin_state_up"].as_bool(), n["mtu"].as_i64()), (Some(true), Some(1450)));
    assert!(
        n["description"].as_str().is_some_and(|d| d.starts_with("web tier v2 [terrane-uid:")),
        "3. the marker survives updates: {}",
        n["description"]
    );
    assert!(env.events("full").await.iter().any(|e| e.starts_with("Updated")), "4. an Updated event");
    env.teardown().await;
}

#[tokio::test]
async fn drift_is_corrected() {
    let env = Env::new("net-drift").await;
    let api = env.api::<Network>();
    create(&api, network("drift", json!({"description": "keep me", "mtu": 1400}))).await;
    let id = id_of(&wait_ready(&api, "drift").await);
    env.cloud
        .put(
            Service::Network,
            &format!("/v2.0/networks/{id}"),
            &json!({"network": {"description": "changed by hand", "mtu": 1300}}),
        )
        .await
        .expect("change behind Terrane's back");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let n = cloud_network(&env, &id).await.expect("exists");
        if n["mtu"].as_i64() == Some(1400)
            && n["description"].as_str().is_some_and(|d| d.starts_with("keep me [terrane-uid:"))
        {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "1. drift was not corrected (ownership marker included) within 60s: {n}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    let events = env.events("drift").await;
    assert!(
        events.iter().any(|e| e.starts_with("DriftCorrected") && e.contains("mtu")),
        "2. a DriftCorrected event naming the field: {events:?}"
    );
    env.teardown().await;
}

#[tokio::test]
async fn import_by_id_observe_only_is_never_changed_or_deleted() {
    let env = Env::new("net-import-id").await;
    let api = env.api::<Network>();
    let name = unique("legacy");
    let made = env
        .cloud
        .post(Service::Network, "/v2.0/networks", &json!({"network": {"name": name, "description": "made by hand"}}))
        .await
        .expect("create by hand");
    let id = made.body["network"]["id"].as_str().expect("id").to_string();
    create(
        &api,
        json!({"apiVersion": "terrane.dev/v1alpha1", "kind": "Network", "metadata": {"name": "legacy"},
        "spec": {"providerConfigRef": {"name": PROVIDER}, "managementPolicy": "ObserveOnly", "import": {"id": id},
                 "resource": {"description": "something else"}}}),
    )
    .await;
    let obj = wait_ready(&api, "legacy").await;
    assert_eq!(id_of(&obj), id, "1. status.id is the imported network");
    assert_eq!(
        cloud_network(&env, &id).await.expect("exists")["description"],
        json!("made by hand"),
        "2. ObserveOnly changes nothing"
    );
    api.delete("legacy", &Default::default()).await.expect("delete");
    wait_gone(&api, "legacy", 30).await;
    assert!(cloud_network(&env, &id).await.is_some(), "3. ObserveOnly never deletes");
    env.cloud.delete(Service::Network, &format!("/v2.0/networks/{id}")).await.expect("clean up");
    env.teardown().await;
}

#[tokio::test]
async fn import_by_filter_needs_exactly_one_match() {
    let env = Env::new("net-import-filter").await;
    let api = env.api::<Network>();
    let name = unique("shared-name");
    let import = |obj: &str, filter: serde_json::Value| {
        json!({"apiVersion": "terrane.dev/v1alpha1", "kind": "Network", "metadata": {"name": obj},
        "spec": {"providerConfigRef": {"name": PROVIDER}, "managementPolicy": "ObserveOnly", "import": {"filter": filter}}})
    };

    // No match yet is progress: another pipeline may still be creating it.
    let later = unique("later");
    create(&api, import("none", json!({"name": later}))).await;
    wait_reason(&api, "none", "Waiting", "matches no Network yet").await;
    let r =
        env.cloud.post(Service::Network, "/v2.0/networks", &json!({"network": {"name": later}})).await.expect("create");
    let later_id = r.body["network"]["id"].as_str().expect("id").to_string();
    assert_eq!(
        id_of(&wait_ready(&api, "none").await),
        later_id,
        "0. the object imports the network as soon as it appears"
    );
    api.delete("none", &Default::default()).await.expect("delete");
    wait_gone(&api, "none", 30).await;
    env.cloud.delete(Service::Network, &format!("/v2.0/networks/{later_id}")).await.expect("clean up");

    let mut ids = Vec::new();
    for _ in 0..2 {
        let r = env
            .cloud
            .post(Service::Network, "/v2.0/networks", &json!({"network": {"name": name}}))
            .await
            .expect("create");
        ids.push(r.body["network"]["id"].as_str().expect("id").to_string());
    }
    create(&api, import("two", json!({"name": name}))).await;
    let two = wait_reason(&api, "two", "InvalidConfiguration", "matches 2 Networks").await;
    let message = two.status.as_ref().and_then(|s| s.condition("Ready")).map(|c| c.message.clone()).unwrap_or_default();
    assert!(ids.iter().all(|id| message.contains(id)), "1. the message lists both IDs: {message}");

    env.cloud.delete(Service::Network, &format!("/v2.0/networks/{}", ids[1])).await.expect("delete one");
    create(&api, import("one", json!({"name": name}))).await;
    assert_eq!(id_of(&wait_ready(&api, "one").await), ids[0], "2. exactly one match is imported");

    let external = import("public", json!({"name": "public", "external": true}));
    create(&api, external).await;
    assert!(
        wait_ready(&api, "public").await.status.and_then(|s| s.resource).is_some_and(|r| r["external"] == json!(true)),
        "3. another project's external network is importable"
    );
    env.cloud.delete(Service::Network, &format!("/v2.0/networks/{}", ids[0])).await.expect("clean up");
    env.teardown().await;
}

#[tokio::test]
async fn orphan_leaves_the_cloud_network() {
    let env = Env::new("net-orphan").await;
    let api = env.api::<Network>();
    create(
        &api,
        json!({"apiVersion": "terrane.dev/v1alpha1", "kind": "Network", "metadata": {"name": "keep"},
        "spec": {"providerConfigRef": {"name": PROVIDER}, "deletionPolicy": "Orphan", "resource": {}}}),
    )
    .await;
    let id = id_of(&wait_ready(&api, "keep").await);
    api.delete("keep", &Default::default()).await.expect("delete");
    wait_gone(&api, "keep", 30).await;
    assert!(cloud_network(&env, &id).await.is_some(), "1. Orphan leaves the network");
    env.cloud.delete(Service::Network, &format!("/v2.0/networks/{id}")).await.expect("clean up");
    env.teardown().await;
}

#[tokio::test]
async fn crash_between_create_and_status_write_adopts_instead_of_duplicating() {
    let mut env = Env::without_controller("net-crash").await;
    let api = env.api::<Network>();
    let name = unique("crash");
    env.start_controller(&[("TERRANE_FAILPOINT", "after-create")]);
    create(&api, network("crash", json!({"name": name}))).await;
    let code = env.controller.as_mut().and_then(|c| c.wait_exit(60));
    assert_eq!(code, Some(86), "1. the controller died at the failpoint");
    assert_eq!(neutron_named(&env.cloud, "networks", &name).await.len(), 1, "2. the cloud network was created");
    assert!(api.get("crash").await.expect("get").status.and_then(|s| s.id).is_none(), "3. its ID never reached status");

    env.start_controller(&[]);
    let obj = wait_ready(&api, "crash").await;
    let found = neutron_named(&env.cloud, "networks", &name).await;
    assert_eq!(found.len(), 1, "4. still exactly one network after the restart");
    assert_eq!(found[0]["id"].as_str(), Some(id_of(&obj).as_str()), "5. the restarted controller adopted it");
    assert!(env.events("crash").await.iter().any(|e| e.starts_with("Adopted")), "6. an Adopted event");
    env.teardown().await;
}

#[tokio::test]
async fn missing_credentials_and_wrong_password_are_clear_conditions() {
    let mut env = Env::without_controller("net-creds").await;
    // No resync within the test: what reacts to the late Secret is the wait itself.
    env.start_controller_with(&[], &["--resync-seconds", "600"]);
    let pcs = env.api::<terrane_api::ProviderConfig>();
    create(
        &pcs,
        json!({"apiVersion": "terrane.dev/v1alpha1", "kind": "ProviderConfig", "metadata": {"name": "nosecret"},
        "spec": {"openstack": {"cloud": "demo", "credentialsSecretRef": {"name": "does-not-exist"}}}}),
    )
    .await;
    let wrong = terrane_testground::clouds_yaml_text()
        .expect("clouds")
        .replace("password: ground-demo", "password: wrong-password");
    secret(&env.ns, "wrong", &wrong).await;
    create(
        &pcs,
        json!({"apiVersion": "terrane.dev/v1alpha1", "kind": "ProviderConfig", "metadata": {"name": "wrong"},
        "spec": {"openstack": {"cloud": "demo", "credentialsSecretRef": {"name": "wrong"}}}}),
    )
    .await;
    let api = env.api::<Network>();
    let with = |obj: &str, pc: &str| {
        json!({"apiVersion": "terrane.dev/v1alpha1", "kind": "Network", "metadata": {"name": obj},
        "spec": {"providerConfigRef": {"name": pc}, "resource": {}}})
    };
    create(&api, with("a", "nosecret")).await;
    create(&api, with("b", "wrong")).await;
    create(&api, with("c", "no-such-config")).await;
    wait_reason(&api, "a", "Waiting", "Secret/does-not-exist").await;
    let b = wait_reason(&api, "b", "InvalidConfiguration", "401").await;
    let message = b.status.and_then(|s| s.condition("Ready").map(|c| c.message.clone())).unwrap_or_default();
    assert!(!message.contains("wrong-password"), "1. no secret in the condition: {message}");
    wait_reason(&api, "c", "Waiting", "ProviderConfig/no-such-config").await;
    assert!(
        env.events("b").await.iter().any(|e| e.starts_with("InvalidConfiguration")),
        "2. an Event whose reason is the category"
    );
    let log = env.controller.as_ref().map(|c| c.log_text()).unwrap_or_default();
    assert!(!log.contains("wrong-password") && !log.contains("ground-demo"), "3. no password in the controller's log");
    // The Secret arriving late (SOPS, Sealed Secrets, External Secrets) is noticed within seconds.
    let arrived = std::time::Instant::now();
    secret(&env.ns, "does-not-exist", &terrane_testground::clouds_yaml_text().expect("clouds")).await;
    wait_ready(&api, "a").await;
    println!("Ready {:?} after the Secret arrived (resync period 600 s)", arrived.elapsed());
    env.teardown().await;
}

#[tokio::test]
async fn application_credentials_work_as_well_as_passwords() {
    let env = Env::new("net-appcred").await;
    let (admin, _) = terrane_testground::cloud_client("admin").expect("admin client");
    let users = admin.get(Service::Identity, "/users?name=terrane-demo").await.expect("find the demo user");
    let user_id = users.body["users"][0]["id"].as_str().expect("user id").to_string();
    let name = unique("terrane-test");
    let made = env
        .cloud
        .post(
            Service::Identity,
            &format!("/users/{user_id}/application_credentials"),
            &json!({"application_credential": {"name": name}}),
        )
        .await
        .expect("create an application credential");
    let (id, secret_value) = (
        made.body["application_credential"]["id"].as_str().expect("id").to_string(),
        made.body["application_credential"]["secret"].as_str().expect("secret").to_string(),
    );
    let clouds = format!(
        "clouds:\n  app:\n    auth_type: v3applicationcredential\n    auth:\n      auth_url: http://127.0.0.1:5000/v3\n      application_credential_id: {id}\n      application_credential_secret: {secret_value}\n    region_name: RegionOne\n"
    );
    secret(&env.ns, "appcred", &clouds).await;
    create(
        &env.api::<terrane_api::ProviderConfig>(),
        json!({"apiVersion": "terrane.dev/v1alpha1", "kind": "ProviderConfig", "metadata": {"name": "app"},
        "spec": {"openstack": {"cloud": "app", "credentialsSecretRef": {"name": "appcred"}}}}),
    )
    .await;
    let api = env.api::<Network>();
    create(
        &api,
        json!({"apiVersion": "terrane.dev/v1alpha1", "kind": "Network", "metadata": {"name": "via-app"},
        "spec": {"providerConfigRef": {"name": "app"}, "resource": {}}}),
    )
    .await;
    let id_made = id_of(&wait_ready(&api, "via-app").await);
    assert!(cloud_network(&env, &id_made).await.is_some(), "1. created with an application credential");
    let log = env.controller.as_ref().map(|c| c.log_text()).unwrap_or_default();
    assert!(!log.contains(&secret_value), "2. the secret is not logged");
    env.teardown().await;
    env_cleanup_appcred(&user_id, &id).await;
}

async fn env_cleanup_appcred(user_id: &str, id: &str) {
    let (admin, _) = terrane_testground::cloud_client("admin").expect("admin client");
    let _ = admin.delete(Service::Identity, &format!("/users/{user_id}/application_credentials/{id}")).await;
}
