//! KeyPair, Flavor, Image, Server and Volume against the real ground: Nova
//! with its fake driver (servers reach ACTIVE, resize and confirm), Glance
//! downloading an image from a loopback URL, and no Cinder at all.

mod support;

use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Secret;
use serde_json::{Value, json};
use support::*;
use terrane_api::*;
use terrane_openstack::CloudClient;
use terrane_openstack::rest::{GLANCE, NOVA};

fn obj(kind: &str, name: &str, spec: Value) -> Value {
    let mut spec = spec;
    if spec.get("providerConfigRef").is_none() {
        spec["providerConfigRef"] = json!({"name": PROVIDER});
    }
    json!({"apiVersion": "terrane.dev/v1alpha1", "kind": kind, "metadata": {"name": name}, "spec": spec})
}

async fn nova(cloud: &CloudClient, path: &str) -> Option<Value> {
    NOVA.get_opt(cloud, path).await.expect("Nova answers")
}

async fn glance(cloud: &CloudClient, path: &str) -> Option<Value> {
    GLANCE.get_opt(cloud, path).await.expect("Glance answers")
}

/// Polls `check` every half second until it holds.
async fn eventually<F, Fut>(secs: u64, what: &str, check: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !check().await {
        assert!(Instant::now() < deadline, "{what} (within {secs}s)");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Serves `body` to every GET on a loopback port; returns the URL.
async fn serve_image(body: Vec<u8>) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let body = body.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let _ = s.read(&mut buf).await;
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = s.write_all(head.as_bytes()).await;
                let _ = s.write_all(&body).await;
                let _ = s.shutdown().await;
            });
        }
    });
    format!("http://127.0.0.1:{port}/disk.raw")
}

async fn imported_flavor(env: &Env, name: &str, flavor: &str) {
    create(
        &env.api::<Flavor>(),
        obj("Flavor", name, json!({"managementPolicy": "ObserveOnly", "import": {"filter": {"name": flavor}}})),
    )
    .await;
}

#[tokio::test]
async fn key_pairs_generated_given_and_clashing() {
    let env = Env::new("keypair").await;
    let cloud_name = unique("kp");
    // 1. No public key: Terrane generates one, keeps it in a Secret it owns, and registers the public half.
    create(&env.api::<KeyPair>(), obj("KeyPair", "gen", json!({"resource": {"name": cloud_name}}))).await;
    let kp = wait_ready(&env.api::<KeyPair>(), "gen").await;
    assert_eq!(id_of(&kp), cloud_name, "a key pair's ID is its name");
    let secret = env.api::<Secret>().get("gen-ssh-key").await.expect("1. the Secret with the generated key exists");
    assert_eq!(secret.type_.as_deref(), Some("kubernetes.io/ssh-auth"));
    let owner = &secret.metadata.owner_references.clone().unwrap_or_default()[0];
    assert_eq!(
        (owner.kind.as_str(), Some(owner.uid.clone())),
        ("KeyPair", kp.metadata.uid.clone()),
        "owned by the KeyPair"
    );
    let data = secret.data.clone().unwrap_or_default();
    let private = String::from_utf8(data["ssh-privatekey"].0.clone()).expect("text");
    let public = String::from_utf8(data["ssh-publickey"].0.clone()).expect("text");
    assert!(private.starts_with("-----BEGIN OPENSSH PRIVATE KEY-----"), "an OpenSSH private key");
    assert!(public.starts_with("ssh-ed25519 "), "an Ed25519 public key");
    let in_nova = nova(&env.cloud, &format!("/os-keypairs/{cloud_name}")).await.expect("2. Nova has the key pair");
    assert_eq!(
        in_nova["keypair"]["public_key"].as_str().map(str::trim),
        Some(public.trim()),
        "Nova holds the generated public key"
    );
    let log = env.controller.as_ref().map(|c| c.log_text()).unwrap_or_default();
    let secret_line = private.lines().nth(1).unwrap_or_default();
    assert!(!log.contains(secret_line), "3. the private key never reaches the log");

    // 4. A given public key is registered as is.
    let given_name = unique("kp");
    create(
        &env.api::<KeyPair>(),
        obj("KeyPair", "given", json!({"resource": {"name": given_name, "publicKey": public.trim()}})),
    )
    .await;
    wait_ready(&env.api::<KeyPair>(), "given").await;
    let given = nova(&env.cloud, &format!("/os-keypairs/{given_name}")).await.expect("given key pair");
    assert_eq!(given["keypair"]["public_key"].as_str().map(str::trim), Some(public.trim()));

    // 5. The same name with another key is refused with a message that says what to do.
    create(&env.api::<KeyPair>(), obj("KeyPair", "clash", json!({"resource": {"name": cloud_name}}))).await;
    wait_reason(&env.api::<KeyPair>(), "clash", "InvalidConfiguration", "already exists").await;
    let msg =
        create_rejected(&env.api::<KeyPair>(), obj("KeyPair", "bad", json!({"resource": {"publicKey": "not a key"}})))
            .await;
    assert!(msg.contains("OpenSSH public key"), "6. admission checks the key's form: {msg}");

    // 7. Deleting removes the cloud key pair, and the Secret goes with its owner.
    env.api::<KeyPair>().delete("gen", &Default::default()).await.expect("delete");
    wait_gone(&env.api::<KeyPair>(), "gen", 60).await;
    assert!(nova(&env.cloud, &format!("/os-keypairs/{cloud_name}")).await.is_none(), "the key pair is gone from Nova");
    let secrets = env.api::<Secret>();
    eventually(60, "8. the generated Secret is garbage-collected with its KeyPair", || async {
        secrets.get_opt("gen-ssh-key").await.expect("get").is_none()
    })
    .await;
    env.teardown().await;
}

#[tokio::test]
async fn image_is_downloaded_by_the_cloud_updated_and_deleted() {
    let env = Env::new("image").await;
    let data: Vec<u8> = (0..256 * 1024).map(|i| (i % 251) as u8).collect();
    let url = serve_image(data.clone()).await;
    create(
        &env.api::<Image>(),
        obj(
            "Image",
            "disk",
            json!({"resource": {
        "source": {"url": url}, "diskFormat": "raw", "visibility": "private",
        "properties": {"os_distro": "cirros"}, "tags": ["base"]}}),
        ),
    )
    .await;
    let img = wait_ready(&env.api::<Image>(), "disk").await;
    let id = id_of(&img);
    let g = glance(&env.cloud, &format!("/v2/images/{id}")).await.expect("1. Glance has the image");
    assert_eq!(g["status"], json!("active"), "2. filled from the URL");
    assert_eq!(g["size"].as_u64(), Some(data.len() as u64), "3. with every byte served");
    assert_eq!(g["terrane_uid"].as_str(), img.metadata.uid.as_deref(), "4. carrying the ownership marker");
    assert_eq!(g["os_distro"], json!("cirros"));

    merge(&env.api::<Image>(), "disk", json!({"spec": {"resource": {"properties": {"os_distro": "debian", "hw_disk_bus": "virtio"}, "minRam": 64, "tags": ["base", "web"]}}})).await.expect("patch");
    let cloud = env.cloud.clone();
    let path = format!("/v2/images/{id}");
    eventually(60, "5. properties, minRam and tags change in place", || async {
        let g = glance(&cloud, &path).await.unwrap_or_default();
        g["os_distro"] == json!("debian")
            && g["hw_disk_bus"] == json!("virtio")
            && g["min_ram"] == json!(64)
            && g["tags"].as_array().map(Vec::len) == Some(2)
    })
    .await;
    assert_eq!(id_of(&wait_ready(&env.api::<Image>(), "disk").await), id, "same image");

    // 6. A URL the cloud cannot download ends in a condition that names it.
    create(
        &env.api::<Image>(),
        obj(
            "Image",
            "broken",
            json!({"resource": {"source": {"url": "http://127.0.0.1:9/none.raw"}, "diskFormat": "raw"}}),
        ),
    )
    .await;
    let broken = wait_reason(&env.api::<Image>(), "broken", "Unrecoverable", "could not import").await;
    assert!(format!("{:?}", broken.status).contains("127.0.0.1:9"), "the message names the URL");

    env.api::<Image>().delete("disk", &Default::default()).await.expect("delete");
    wait_gone(&env.api::<Image>(), "disk", 60).await;
    assert!(glance(&env.cloud, &format!("/v2/images/{id}")).await.is_none(), "7. deleted from Glance");
    env.teardown().await;
}

/// Network, subnet, security group, key pair, flavors and image a server needs.
async fn server_dependencies(env: &Env) {
    imported_flavor(env, "tiny", "m1.tiny").await;
    imported_flavor(env, "small", "m1.small").await;
    create(&env.api::<Network>(), obj("Network", "app", json!({"resource": {}}))).await;
    create(
        &env.api::<Subnet>(),
        obj("Subnet", "app", json!({"resource": {"networkRef": {"name": "app"}, "cidr": "10.20.0.0/24"}})),
    )
    .await;
    create(&env.api::<SecurityGroup>(), obj("SecurityGroup", "web", json!({"resource": {"rules": [{"direction": "ingress", "protocol": "tcp", "portRangeMin": 80, "portRangeMax": 80}]}}))).await;
    create(&env.api::<KeyPair>(), obj("KeyPair", "ops", json!({"resource": {"name": unique("ops")}}))).await;
    let s: Secret =
        serde_json::from_value(json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "cloud-init"},
        "stringData": {"user-data": "#cloud-config\nhostname: web\n"}}))
        .expect("secret");
    env.api::<Secret>().create(&Default::default(), &s).await.expect("user data secret");
}

fn server_spec() -> Value {
    json!({"resource": {
        "flavorRef": {"name": "tiny"}, "imageRef": {"name": "os"},
        "networks": [{"networkRef": {"name": "app"}, "fixedIp": "10.20.0.10"}],
        "securityGroupRefs": [{"name": "web"}], "keyPairRef": {"name": "ops"},
        "userData": {"secretKeyRef": {"name": "cloud-init", "key": "user-data"}},
        "metadata": {"role": "web"}, "tags": ["frontend"]}})
}

#[tokio::test]
async fn server_waits_boots_updates_in_place_resizes_and_deletes() {
    let mut env = Env::new("server").await;
    server_dependencies(&env).await;
    // 1. The server waits for the image it references.
    create(&env.api::<Server>(), obj("Server", "web", server_spec())).await;
    wait_reason(&env.api::<Server>(), "web", "Waiting", "Image/os").await;
    create(
        &env.api::<Image>(),
        obj("Image", "os", json!({"managementPolicy": "ObserveOnly", "import": {"filter": {"name": "tiny-raw"}}})),
    )
    .await;
    let server = wait_ready(&env.api::<Server>(), "web").await;
    let id = id_of(&server);
    let uid = server.metadata.uid.clone().unwrap_or_default();
    let s = nova(&env.cloud, &format!("/servers/{id}")).await.expect("2. Nova has the server")["server"].clone();
    assert_eq!(s["status"], json!("ACTIVE"));
    let kp = env.api::<KeyPair>().get("ops").await.expect("key pair");
    assert_eq!(s["key_name"].as_str(), Some(id_of(&kp).as_str()), "3. booted with the key pair");
    assert_eq!(s["flavor"]["original_name"], json!("m1.tiny"));
    assert_eq!(s["metadata"]["role"], json!("web"));
    assert!(
        s["metadata"]["terrane-user-data-sha256"].as_str().is_some_and(|h| h.len() == 64),
        "4. the user data is remembered by hash"
    );
    let tags: Vec<String> = serde_json::from_value(s["tags"].clone()).unwrap_or_default();
    assert!(
        tags.contains(&"frontend".to_string()) && tags.contains(&format!("terrane-uid:{uid}")),
        "5. user tag and ownership tag: {tags:?}"
    );
    let sg_name = env
        .api::<SecurityGroup>()
        .get("web")
        .await
        .expect("sg")
        .status
        .and_then(|s| s.resource)
        .map(|r| r["name"].clone())
        .unwrap_or_default();
    assert!(
        s["security_groups"].as_array().is_some_and(|g| g.iter().any(|g| g["name"] == sg_name)),
        "6. in the security group"
    );
    assert!(s["addresses"].to_string().contains("10.20.0.10"), "7. on the subnet with the asked address");

    // 8. Deleting a key pair a server uses waits for the server.
    env.api::<KeyPair>().delete("ops", &Default::default()).await.expect("delete key pair");
    wait_reason(&env.api::<KeyPair>(), "ops", "Waiting", "Server/web").await;
    assert!(nova(&env.cloud, &format!("/os-keypairs/{}", id_of(&kp))).await.is_some(), "the key pair stays while used");

    // 9. Name, metadata and tags change in place.
    merge(&env.api::<Server>(), "web", json!({"spec": {"resource": {"name": "web-renamed", "metadata": {"role": "api"}, "tags": ["frontend", "blue"]}}})).await.expect("patch");
    let cloud = env.cloud.clone();
    let path = format!("/servers/{id}");
    eventually(60, "name, metadata, tags updated", || async {
        let s = nova(&cloud, &path).await.unwrap_or_default()["server"].clone();
        s["name"] == json!("web-renamed")
            && s["metadata"]["role"] == json!("api")
            && s["tags"].as_array().map(Vec::len) == Some(3)
    })
    .await;

    // 9b. Security groups change in place.
    create(
        &env.api::<SecurityGroup>(),
        obj(
            "SecurityGroup",
            "ssh",
            json!({"resource": {"rules": [{"protocol": "tcp", "portRangeMin": 22, "portRangeMax": 22}]}}),
        ),
    )
    .await;
    let ssh_name = wait_ready(&env.api::<SecurityGroup>(), "ssh")
        .await
        .status
        .and_then(|s| s.resource)
        .map(|r| r["name"].clone())
        .unwrap_or_default();
    merge(&env.api::<Server>(), "web", json!({"spec": {"resource": {"securityGroupRefs": [{"name": "ssh"}]}}}))
        .await
        .expect("patch");
    eventually(60, "9b. the server is in ssh instead of web", || async {
        let groups = nova(&cloud, &path).await.unwrap_or_default()["server"]["security_groups"].clone();
        let names: Vec<Value> =
            groups.as_array().cloned().unwrap_or_default().into_iter().map(|g| g["name"].clone()).collect();
        names.contains(&ssh_name) && !names.contains(&sg_name)
    })
    .await;

    // 10. A new flavor resizes the server and confirms the resize; same server.
    merge(&env.api::<Server>(), "web", json!({"spec": {"resource": {"flavorRef": {"name": "small"}}}}))
        .await
        .expect("patch");
    eventually(180, "resized to m1.small and confirmed", || async {
        let s = nova(&cloud, &path).await.unwrap_or_default()["server"].clone();
        s["flavor"]["original_name"] == json!("m1.small") && s["status"] == json!("ACTIVE")
    })
    .await;
    let resized = wait_ready(&env.api::<Server>(), "web").await;
    assert_eq!(id_of(&resized), id, "a resize keeps the server");
    assert!(env.events("web").await.iter().any(|e| e.contains("flavorRef")), "11. the resize is an event");

    // 12. The image cannot change: admission says so.
    let refused =
        merge(&env.api::<Server>(), "web", json!({"spec": {"resource": {"imageRef": {"name": "other"}}}})).await;
    assert!(format!("{refused:?}").contains("imageRef is immutable"), "{refused:?}");

    // 13. Metadata changed behind Terrane's back is restored.
    NOVA.post(&env.cloud, &format!("/servers/{id}/metadata"), &json!({"metadata": {"role": "tampered"}}))
        .await
        .expect("tamper");
    eventually(60, "drift repaired", || async {
        nova(&cloud, &path).await.unwrap_or_default()["server"]["metadata"]["role"] == json!("api")
    })
    .await;

    // 14. A crash between create and status write: the restarted controller adopts by tag.
    env.stop_controller();
    env.start_controller(&[("TERRANE_FAILPOINT", "after-create")]);
    let mut spec = server_spec();
    spec["resource"]["networks"][0] = json!({"networkRef": {"name": "app"}});
    // Not the key pair being deleted: a new server would wait for it (only existing users keep it).
    spec["resource"].as_object_mut().map(|r| r.remove("keyPairRef"));
    // User data from a ConfigMap this time.
    let cm: k8s_openapi::api::core::v1::ConfigMap =
        serde_json::from_value(json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "init"}, "data": {"user-data": "#cloud-config\nhostname: second\n"}}))
        .expect("config map");
    env.api::<k8s_openapi::api::core::v1::ConfigMap>()
        .create(&Default::default(), &cm)
        .await
        .expect("create config map");
    spec["resource"]["userData"] = json!({"configMapKeyRef": {"name": "init", "key": "user-data"}});
    create(&env.api::<Server>(), obj("Server", "second", spec)).await;
    let code = env.controller.as_mut().and_then(|c| c.wait_exit(120));
    assert_eq!(code, Some(86), "the controller stopped right after the create");
    env.start_controller(&[]);
    let second = wait_ready(&env.api::<Server>(), "second").await;
    let marker = format!("terrane-uid:{}", second.metadata.uid.clone().unwrap_or_default());
    let tagged = nova(&env.cloud, &format!("/servers/detail?tags={marker}")).await.unwrap_or_default();
    assert_eq!(tagged["servers"].as_array().map(Vec::len), Some(1), "exactly one server for the object");
    assert!(env.events("second").await.iter().any(|e| e.starts_with("Adopted")), "adopted, not created twice");
    let second_meta =
        nova(&env.cloud, &format!("/servers/{}", id_of(&second))).await.unwrap_or_default()["server"]["metadata"]
            .clone();
    let expected = "#cloud-config\nhostname: second\n";
    assert_eq!(
        second_meta["terrane-user-data-sha256"].as_str().map(str::len),
        Some(64),
        "booted with the ConfigMap's user data"
    );
    assert_ne!(
        second_meta["terrane-user-data-sha256"], s["metadata"]["terrane-user-data-sha256"],
        "the ConfigMap's text, not the Secret's"
    );
    assert!(!format!("{second_meta}").contains(expected), "only its hash is kept");

    // 15. Deleting the servers removes them, then the key pair follows.
    env.api::<Server>().delete_collection(&Default::default(), &Default::default()).await.expect("delete servers");
    wait_gone(&env.api::<Server>(), "web", 120).await;
    wait_gone(&env.api::<KeyPair>(), "ops", 60).await;
    // Nova may still show the record as DELETED for a moment after it is gone.
    let left = nova(&env.cloud, &path).await;
    assert!(left.as_ref().is_none_or(|s| s["server"]["status"] == "DELETED"), "server gone from Nova: {left:?}");
    assert!(nova(&env.cloud, &format!("/os-keypairs/{}", id_of(&kp))).await.is_none(), "key pair gone from Nova");
    env.teardown().await;
}

#[tokio::test]
async fn nova_fault_flavor_needs_admin_and_missing_block_storage() {
    let env = Env::new("fault").await;
    create(
        &env.ns.api::<ProviderConfig>(),
        json!({"apiVersion": "terrane.dev/v1alpha1", "kind": "ProviderConfig", "metadata": {"name": "admin"},
        "spec": {"openstack": {"cloud": "admin", "credentialsSecretRef": {"name": "ground-clouds"}}}}),
    )
    .await;
    // 1. With admin credentials a flavor is created; no host is big enough for it.
    let huge = unique("huge");
    create(
        &env.api::<Flavor>(),
        obj(
            "Flavor",
            "huge",
            json!({"providerConfigRef": {"name": "admin"},
        "resource": {"name": huge, "vcpus": 1, "ram": 2000000, "disk": 1, "description": "too big to schedule"}}),
        ),
    )
    .await;
    let flavor = wait_ready(&env.api::<Flavor>(), "huge").await;
    let f = nova(&env.cloud, &format!("/flavors/{}", id_of(&flavor))).await.expect("2. Nova has the flavor")["flavor"]
        .clone();
    assert_eq!(f["ram"], json!(2000000));
    // 3. Without admin credentials the condition says what is needed.
    create(&env.api::<Flavor>(), obj("Flavor", "mine", json!({"resource": {"vcpus": 1, "ram": 64}}))).await;
    wait_reason(&env.api::<Flavor>(), "mine", "InvalidConfiguration", "needs admin credentials").await;

    // 4. A server Nova cannot place reports Nova's fault message.
    create(&env.api::<Network>(), obj("Network", "n", json!({"resource": {}}))).await;
    create(
        &env.api::<Subnet>(),
        obj("Subnet", "n", json!({"resource": {"networkRef": {"name": "n"}, "cidr": "10.21.0.0/24"}})),
    )
    .await;
    create(
        &env.api::<Image>(),
        obj("Image", "os", json!({"managementPolicy": "ObserveOnly", "import": {"filter": {"name": "tiny-raw"}}})),
    )
    .await;
    create(&env.api::<Server>(), obj("Server", "big", json!({"resource": {"flavorRef": {"name": "huge"}, "imageRef": {"name": "os"}, "networks": [{"networkRef": {"name": "n"}}]}}))).await;
    let big = wait_reason(&env.api::<Server>(), "big", "Unrecoverable", "No valid host").await;
    assert!(
        big.status.is_some_and(|s| s.id.is_some()),
        "the failed server is recorded, so deleting the object deletes it"
    );
    assert!(env.events("big").await.iter().any(|e| e.contains("No valid host")), "5. and as a warning event");

    // 6. A cloud without block storage: the Volume says so, without a crash loop.
    // (A region of the ground's catalog with no services stands for such a cloud.)
    create(&env.ns.api::<ProviderConfig>(), json!({"apiVersion": "terrane.dev/v1alpha1", "kind": "ProviderConfig", "metadata": {"name": "no-volumes"},
        "spec": {"openstack": {"cloud": "demo", "region": "EmptyRegion", "credentialsSecretRef": {"name": "ground-clouds"}}}})).await;
    create(
        &env.api::<Volume>(),
        obj("Volume", "data", json!({"providerConfigRef": {"name": "no-volumes"}, "resource": {"size": 1}})),
    )
    .await;
    let vol = wait_reason(&env.api::<Volume>(), "data", "Unrecoverable", "block-storage").await;
    assert!(vol.status.is_some_and(|s| s.id.is_none()), "nothing was created");
    // A retry records its create as pending just before the cloud refuses it again.
    wait_for(&env.api::<Volume>(), "data", 30, "refused with no create pending", |v| {
        v.status.as_ref().is_some_and(|s| s.id.is_none() && s.pending_create.is_none())
    })
    .await;
    env.api::<Volume>().delete("data", &Default::default()).await.expect("delete volume");
    wait_gone(&env.api::<Volume>(), "data", 30).await;

    // 7. Deleting the failed server and the flavor cleans the cloud.
    let big_id = id_of(&env.api::<Server>().get("big").await.expect("big"));
    env.api::<Server>().delete("big", &Default::default()).await.expect("delete");
    wait_gone(&env.api::<Server>(), "big", 120).await;
    assert!(nova(&env.cloud, &format!("/servers/{big_id}")).await.is_none(), "server gone");
    env.api::<Flavor>().delete("huge", &Default::default()).await.expect("delete flavor");
    wait_gone(&env.api::<Flavor>(), "huge", 60).await;
    assert!(nova(&env.cloud, &format!("/flavors/{}", id_of(&flavor))).await.is_none(), "flavor gone");
    env.teardown().await;
}

async fn cinder(cloud: &CloudClient, id: &str) -> Option<Value> {
    terrane_openstack::rest::CINDER
        .get_opt(cloud, &format!("/volumes/{id}"))
        .await
        .expect("Cinder answers")
        .map(|v| v["volume"].clone())
}

#[tokio::test]
async fn volumes_extend_attach_boot_a_server_and_detach() {
    let env = Env::new("volume").await;
    // 1. A volume is created, carrying the ownership marker in its metadata.
    create(&env.api::<Volume>(), obj("Volume", "data", json!({"resource": {"size": 2, "description": "logs"}}))).await;
    let data = wait_ready(&env.api::<Volume>(), "data").await;
    let data_id = id_of(&data);
    let v = cinder(&env.cloud, &data_id).await.expect("1. Cinder has the volume");
    assert_eq!((v["status"].as_str(), v["size"].as_i64()), (Some("available"), Some(2)));
    assert_eq!(v["metadata"]["terrane-uid"].as_str(), data.metadata.uid.as_deref());

    // 2. The name changes in place; shrinking is refused at admission.
    merge(&env.api::<Volume>(), "data", json!({"spec": {"resource": {"name": "logs"}}})).await.expect("patch");
    let cloud = env.cloud.clone();
    eventually(60, "2. renamed", || async {
        cinder(&cloud, &data_id).await.unwrap_or_default()["name"] == json!("logs")
    })
    .await;
    let refused = merge(&env.api::<Volume>(), "data", json!({"spec": {"resource": {"size": 1}}})).await;
    assert!(format!("{refused:?}").contains("size cannot shrink"), "{refused:?}");

    // 2b. A larger size asks Cinder to extend. The ground's fake volume driver cannot
    // extend, so Cinder marks the volume error_extending: that failure reaches the condition.
    create(&env.api::<Volume>(), obj("Volume", "grow", json!({"resource": {"size": 1}}))).await;
    wait_ready(&env.api::<Volume>(), "grow").await;
    merge(&env.api::<Volume>(), "grow", json!({"spec": {"resource": {"size": 2}}})).await.expect("patch");
    wait_reason(&env.api::<Volume>(), "grow", "Unrecoverable", "error_extending").await;
    env.api::<Volume>().delete("grow", &Default::default()).await.expect("delete");
    wait_gone(&env.api::<Volume>(), "grow", 60).await;

    // 3. A server boots from one volume and has the other attached.
    imported_flavor(&env, "tiny", "m1.tiny").await;
    create(&env.api::<Network>(), obj("Network", "n", json!({"resource": {}}))).await;
    create(
        &env.api::<Subnet>(),
        obj("Subnet", "n", json!({"resource": {"networkRef": {"name": "n"}, "cidr": "10.22.0.0/24"}})),
    )
    .await;
    create(&env.api::<Volume>(), obj("Volume", "root", json!({"resource": {"size": 1, "bootable": true}}))).await;
    create(
        &env.api::<Server>(),
        obj(
            "Server",
            "vm",
            json!({"resource": {"flavorRef": {"name": "tiny"}, "bootVolumeRef": {"name": "root"},
        "volumeRefs": [{"name": "data"}], "networks": [{"networkRef": {"name": "n"}}]}}),
        ),
    )
    .await;
    let vm = wait_ready(&env.api::<Server>(), "vm").await;
    let root_id = id_of(&env.api::<Volume>().get("root").await.expect("root"));
    let attached = |s: &Value| -> Vec<String> {
        let mut ids: Vec<String> = s["os-extended-volumes:volumes_attached"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|a| a["id"].as_str().map(str::to_string))
            .collect();
        ids.sort();
        ids
    };
    let s = nova(&env.cloud, &format!("/servers/{}", id_of(&vm))).await.expect("server")["server"].clone();
    let mut both = vec![root_id.clone(), data_id.clone()];
    both.sort();
    assert_eq!(attached(&s), both, "3. booted from root with data attached");
    eventually(60, "both volumes in-use", || async {
        cinder(&cloud, &data_id).await.unwrap_or_default()["status"] == json!("in-use")
            && cinder(&cloud, &root_id).await.unwrap_or_default()["status"] == json!("in-use")
    })
    .await;

    // 4. Deleting an attached volume waits for the server to let it go; dropping it from the server detaches it.
    env.api::<Volume>().delete("data", &Default::default()).await.expect("delete");
    wait_reason(&env.api::<Volume>(), "data", "Waiting", "Server/vm").await;
    merge(&env.api::<Server>(), "vm", json!({"spec": {"resource": {"volumeRefs": []}}})).await.expect("patch");
    let path = format!("/servers/{}", id_of(&vm));
    eventually(120, "4. detached", || async {
        attached(&nova(&cloud, &path).await.unwrap_or_default()["server"]) == vec![root_id.clone()]
    })
    .await;
    wait_gone(&env.api::<Volume>(), "data", 120).await;
    assert!(cinder(&env.cloud, &data_id).await.is_none(), "5. then deleted from Cinder");

    // 6. Deleting the server leaves its boot volume, which is deleted on its own.
    env.api::<Server>().delete("vm", &Default::default()).await.expect("delete");
    wait_gone(&env.api::<Server>(), "vm", 120).await;
    eventually(60, "the boot volume is available again", || async {
        cinder(&cloud, &root_id).await.unwrap_or_default()["status"] == json!("available")
    })
    .await;
    env.api::<Volume>().delete("root", &Default::default()).await.expect("delete");
    wait_gone(&env.api::<Volume>(), "root", 120).await;
    assert!(cinder(&env.cloud, &root_id).await.is_none(), "7. boot volume deleted");
    env.teardown().await;
}
