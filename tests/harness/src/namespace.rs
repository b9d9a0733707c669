//! A fresh namespace per test on the shared apiserver.

use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, DeleteParams, PostParams};

use crate::{KubeCluster, Result};

/// A namespace named `<prefix>-<random>`, created on the shared apiserver.
/// Call [`TestNamespace::delete`] at the end of the test; the ground's
/// kube-controller-manager then removes everything in it.
pub struct TestNamespace {
    pub name: String,
    pub client: kube::Client,
}

impl TestNamespace {
    pub async fn new(prefix: &str) -> Result<Self> {
        crate::init_crypto();
        let cluster = KubeCluster::shared().await?;
        let client = cluster.client().await?;
        let name = format!("{prefix}-{}", crate::random_suffix(6));
        let ns = Namespace {
            metadata: kube::api::ObjectMeta { name: Some(name.clone()), ..Default::default() },
            ..Default::default()
        };
        Api::<Namespace>::all(client.clone()).create(&PostParams::default(), &ns).await?;
        Ok(Self { name, client })
    }

    /// An API handle for namespaced objects of kind `K` in this namespace.
    pub fn api<K>(&self) -> Api<K>
    where
        K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>,
        <K as kube::Resource>::DynamicType: Default,
    {
        Api::namespaced(self.client.clone(), &self.name)
    }

    pub async fn delete(self) -> Result<()> {
        Api::<Namespace>::all(self.client.clone()).delete(&self.name, &DeleteParams::default()).await?;
        Ok(())
    }
}
