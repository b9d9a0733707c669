//! `KeyPair`: an SSH key pair servers can be booted with.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::ResourceStatus;
use crate::managed::{Input, InputSource};

crate::managed_kind! {
    /// An SSH key pair in the compute service. Without `publicKey`, Terrane
    /// generates an Ed25519 key pair and keeps it in a Secret of the namespace.
    kind: KeyPair "KeyPair", spec: KeyPairSpec, short: "tkp",
    resource: KeyPairResource, filter: KeyPairFilter,
    columns: [r#"{"name":"Fingerprint","type":"string","jsonPath":".status.resource.fingerprint"}"#],
    references: |_k| Vec::new(),
    inputs: |k| k
        .spec
        .resource
        .iter()
        .filter(|r| r.public_key.is_none())
        .map(|r| Input {
            field: PUBLIC_KEY_INPUT.into(),
            source: InputSource::GeneratedSshKey { secret: r.secret_name(k.metadata.name.as_deref().unwrap_or_default()) },
        })
        .collect()
}

/// The input under which a generated public key reaches the provider.
pub const PUBLIC_KEY_INPUT: &str = "resource.publicKey";

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {"rule": "has(self.name) == has(oldSelf.name)", "message": "name is immutable: it cannot be added or removed once set (or left out)"},
    {"rule": "has(self.publicKey) == has(oldSelf.publicKey)", "message": "publicKey is immutable: it cannot be added or removed once set (or left out)"},
    {"rule": "has(self.privateKeySecretName) == has(oldSelf.privateKeySecretName)", "message": "privateKeySecretName is immutable: it cannot be added or removed once set (or left out)"}
]))]
pub struct KeyPairResource {
    /// The key pair's name in the cloud; defaults to the object's name. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 255))]
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "name is immutable"}]))]
    pub name: Option<String>,
    /// An OpenSSH public key (`ssh-ed25519 AAAA...`). Left out: Terrane
    /// generates a key pair and writes it to `privateKeySecretName`. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 16384))]
    #[schemars(extend("x-kubernetes-validations" = [
        {"rule": "self == oldSelf", "message": "publicKey is immutable"},
        {"rule": "self.startsWith('ssh-') || self.startsWith('ecdsa-')", "message": "publicKey must be an OpenSSH public key (ssh-ed25519, ssh-rsa, ecdsa-...)"}
    ]))]
    pub public_key: Option<String>,
    /// The Secret (type `kubernetes.io/ssh-auth`, keys `ssh-privatekey` and
    /// `ssh-publickey`) a generated key pair is kept in; defaults to
    /// `<object name>-ssh-key`. It is owned by this object and deleted with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253))]
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "privateKeySecretName is immutable"}]))]
    pub private_key_secret_name: Option<String>,
}

impl KeyPairResource {
    /// Where a generated key pair is kept.
    pub fn secret_name(&self, object_name: &str) -> String {
        self.private_key_secret_name.clone().unwrap_or_else(|| format!("{object_name}-ssh-key"))
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct KeyPairFilter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}
