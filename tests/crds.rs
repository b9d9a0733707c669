//! The CRD YAML in crds/yaml is what `terrane crds` writes, and the real
//! apiserver accepts every CRD (it rejects non-structural schemas and bad CEL).

use std::path::Path;

#[test]
fn checked_in_crds_are_up_to_date() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("crds/yaml");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_terrane"))
        .args(["crds", "--out"])
        .arg(std::env::temp_dir().join(format!("terrane-crds-{}", std::process::id())))
        .output()
        .expect("run terrane crds");
    assert!(out.status.success(), "terrane crds failed: {}", String::from_utf8_lossy(&out.stderr));
    let fresh = std::env::temp_dir().join(format!("terrane-crds-{}", std::process::id()));
    let mut names: Vec<_> =
        std::fs::read_dir(&fresh).expect("fresh dir").filter_map(|e| e.ok()).map(|e| e.file_name()).collect();
    names.sort();
    assert!(names.len() >= 9, "one file per kind plus kustomization.yaml: {names:?}");
    for name in names {
        let want = std::fs::read_to_string(fresh.join(&name)).expect("fresh");
        let have = std::fs::read_to_string(dir.join(&name)).unwrap_or_default();
        assert!(want == have, "crds/yaml/{} is stale: run `cargo run -- crds`", name.to_string_lossy());
    }
    let _ = std::fs::remove_dir_all(fresh);
}

#[test]
fn checked_in_rbac_is_up_to_date_and_covers_every_kind() {
    let have = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/base/rbac.yaml"))
        .expect("deploy/base/rbac.yaml");
    assert!(have == terrane::generate::rendered_rbac(), "deploy/base/rbac.yaml is stale: run `cargo run -- rbac`");
    for kind in terrane::kinds::all() {
        assert!(have.contains(&format!("{}/status", kind.plural)), "the controller may write {}/status", kind.plural);
    }
}

#[tokio::test]
async fn every_crd_is_accepted_by_the_real_apiserver() {
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
    use kube::api::{Api, Patch, PatchParams};
    terrane_testground::init_crypto();
    let cluster = terrane_testground::KubeCluster::shared().await.expect("ground kube-apiserver");
    let client = cluster.client().await.expect("client");
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    for crd in terrane::kinds::crds() {
        let name = crd.metadata.name.clone().unwrap_or_default();
        api.patch(&name, &PatchParams::apply("terrane-crd-test").force(), &Patch::Apply(&crd))
            .await
            .unwrap_or_else(|e| panic!("the apiserver refused {name}: {e}"));
        let got = api.get(&name).await.expect("get");
        let categories = got.spec.names.categories.unwrap_or_default();
        if name != "providerconfigs.terrane.dev" {
            assert!(
                got.spec.versions[0].subresources.as_ref().and_then(|s| s.status.as_ref()).is_some(),
                "{name} has a status subresource"
            );
        }
        assert!(categories.contains(&"terrane".to_string()), "{name} is in category terrane");
    }
}
