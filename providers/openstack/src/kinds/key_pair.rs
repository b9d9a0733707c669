//! KeyPair ⇄ Nova `/os-keypairs`. A key pair's ID is its name; it has no
//! description, so the ownership marker is the public key itself: the key
//! is fixed before the create (given in the spec, or generated and stored in
//! a Secret first), and a key pair of that name with that key is ours.

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use terrane_api::{KeyPairFilter, KeyPairResource, PUBLIC_KEY_INPUT};
use terrane_provider::{Desired, Diff, ExternalKind, Freshness, ProviderError, ProviderResult};

use crate::CloudClient;
use crate::query::encode;
use crate::rest::NOVA;

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RemoteKeyPair {
    pub name: String,
    #[serde(alias = "public_key")]
    pub public_key: String,
    #[serde(default)]
    pub fingerprint: String,
    #[serde(default, alias = "type")]
    pub key_type: String,
}

/// `ssh-ed25519 AAAA... comment` → `ssh-ed25519 AAAA...`: the comment is not part of the key.
fn key_material(key: &str) -> String {
    key.split_whitespace().take(2).collect::<Vec<_>>().join(" ")
}

fn public_key<'a>(d: &'a Desired<'_, KeyPairResource>) -> ProviderResult<&'a str> {
    d.resource.public_key.as_deref().or_else(|| d.refs.input(PUBLIC_KEY_INPUT)).ok_or_else(|| {
        ProviderError::invalid("no public key: give spec.resource.publicKey or let Terrane generate one")
    })
}

pub struct KeyPairKind;

#[async_trait]
impl ExternalKind for KeyPairKind {
    type Object = terrane_api::KeyPair;
    type Cloud = CloudClient;
    type Resource = KeyPairResource;
    type Filter = KeyPairFilter;
    type Remote = RemoteKeyPair;

    async fn get(&self, c: &CloudClient, id: &str, _: Freshness) -> ProviderResult<Option<RemoteKeyPair>> {
        NOVA.get_opt(c, &format!("/os-keypairs/{}", encode(id)))
            .await?
            .map(|v| NOVA.parse(v["keypair"].clone(), "key pair"))
            .transpose()
    }

    async fn find(&self, c: &CloudClient, f: &KeyPairFilter) -> ProviderResult<Vec<RemoteKeyPair>> {
        let all = NOVA.get(c, "/os-keypairs").await?;
        let pairs: Vec<RemoteKeyPair> = all["keypairs"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|k| NOVA.parse(k["keypair"].clone(), "key pair"))
            .collect::<ProviderResult<_>>()?;
        Ok(pairs.into_iter().filter(|k| f.name.as_ref().is_none_or(|n| *n == k.name)).collect())
    }

    async fn find_owned(
        &self,
        c: &CloudClient,
        d: &Desired<'_, KeyPairResource>,
        _: Freshness,
    ) -> ProviderResult<Vec<RemoteKeyPair>> {
        let (Some(name), Ok(key)) = (d.name(d.resource.name.as_ref()), public_key(d)) else { return Ok(Vec::new()) };
        let found = self.get(c, &name, Freshness::Fresh).await?;
        Ok(found.into_iter().filter(|k| key_material(&k.public_key) == key_material(key)).collect())
    }

    fn id(&self, r: &RemoteKeyPair) -> String {
        r.name.clone()
    }

    fn diff(&self, d: &Desired<'_, KeyPairResource>, r: &RemoteKeyPair) -> Diff {
        let mut diff = Diff::default();
        diff.check_immutable("name", d.name(d.resource.name.as_ref()).as_ref(), &r.name);
        if let Ok(key) = public_key(d) {
            diff.check_immutable("publicKey", Some(&key_material(key)), &key_material(&r.public_key));
        }
        diff
    }

    async fn create(&self, c: &CloudClient, d: &Desired<'_, KeyPairResource>) -> ProviderResult<String> {
        let name = d.name(d.resource.name.as_ref()).unwrap_or_else(|| d.default_name.to_string());
        let body = json!({ "keypair": { "name": name, "public_key": public_key(d)?, "type": "ssh" } });
        match NOVA.post(c, "/os-keypairs", &body).await {
            Ok(answer) => NOVA.id_in(&answer, "/keypair/name", "key pair"),
            Err(ProviderError::Conflict(_)) => Err(ProviderError::invalid(format!(
                "a key pair named {name:?} with another key already exists; import it (spec.import.filter.name) or choose another spec.resource.name"
            ))),
            Err(e) => Err(e),
        }
    }

    async fn update(
        &self,
        _: &CloudClient,
        _: &Desired<'_, KeyPairResource>,
        _: &RemoteKeyPair,
        _: &Diff,
    ) -> ProviderResult<()> {
        Ok(())
    }

    async fn delete(&self, c: &CloudClient, id: &str) -> ProviderResult<()> {
        NOVA.delete(c, &format!("/os-keypairs/{}", encode(id))).await
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn comments_are_not_part_of_the_key() {
        assert_eq!(super::key_material("ssh-ed25519 AAAAC3 someone@host\n"), "ssh-ed25519 AAAAC3");
    }
}
