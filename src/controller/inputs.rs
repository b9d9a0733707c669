//! Values a spec takes from Secrets and ConfigMaps, and SSH key pairs
//! generated into Secrets.

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kube::ResourceExt;
use kube::api::{Api, PostParams};
use terrane_api::{InputSource, ManagedObject};

use crate::reconciler::EnvError;

pub use crate::ssh_keys::{PRIVATE_KEY, PUBLIC_KEY};

fn store(what: &str, e: kube::Error) -> EnvError {
    EnvError::Store(format!("{what}: {e}"))
}

/// The value of `source` for `owner`; `None` while it does not exist.
pub async fn value<O: ManagedObject>(
    client: &kube::Client,
    owner: &O,
    source: &InputSource,
) -> Result<Option<String>, EnvError> {
    let ns = owner.namespace().unwrap_or_default();
    match source {
        InputSource::SecretKey { name, key } => {
            let secret = Api::<Secret>::namespaced(client.clone(), &ns)
                .get_opt(name)
                .await
                .map_err(|e| store(&format!("reading Secret/{name}"), e))?;
            secret
                .and_then(|s| s.data.and_then(|mut d| d.remove(key)))
                .map(|b| text(b, &format!("Secret/{name} key {key:?}")))
                .transpose()
        }
        InputSource::ConfigMapKey { name, key } => {
            let cm = Api::<ConfigMap>::namespaced(client.clone(), &ns)
                .get_opt(name)
                .await
                .map_err(|e| store(&format!("reading ConfigMap/{name}"), e))?;
            Ok(cm.and_then(|c| c.data.and_then(|mut d| d.remove(key))))
        }
        InputSource::GeneratedSshKey { secret } => generated_public_key(client, owner, &ns, secret).await.map(Some),
    }
}

fn text(bytes: ByteString, what: &str) -> Result<String, EnvError> {
    String::from_utf8(bytes.0).map_err(|_| EnvError::Invalid(format!("{what} is not UTF-8 text")))
}

/// The public key kept in Secret `name`; when the Secret does not exist, a
/// new Ed25519 key pair is generated and stored there first (owned by
/// `owner`, so it goes when the owner goes). The Secret is written before
/// the public key is used, so a crash never leaves a cloud key pair whose
/// private half is lost.
async fn generated_public_key<O: ManagedObject>(
    client: &kube::Client,
    owner: &O,
    ns: &str,
    name: &str,
) -> Result<String, EnvError> {
    let api = Api::<Secret>::namespaced(client.clone(), ns);
    if let Some(existing) = api.get_opt(name).await.map_err(|e| store(&format!("reading Secret/{name}"), e))? {
        return public_key_of(existing, name);
    }
    let (private, public) = crate::ssh_keys::generate().map_err(EnvError::Store)?;
    let secret = Secret {
        metadata: ObjectMeta {
            name: Some(name.to_string()),
            namespace: Some(ns.to_string()),
            labels: Some(BTreeMap::from([("app.kubernetes.io/managed-by".to_string(), "terrane".to_string())])),
            owner_references: Some(vec![owner_reference(owner)]),
            ..Default::default()
        },
        type_: Some("kubernetes.io/ssh-auth".into()),
        data: Some(BTreeMap::from([
            (PRIVATE_KEY.to_string(), ByteString(private.as_bytes().to_vec())),
            (PUBLIC_KEY.to_string(), ByteString(public.clone().into_bytes())),
        ])),
        ..Default::default()
    };
    match api.create(&PostParams::default(), &secret).await {
        Ok(_) => Ok(public),
        // Someone (another replica, a retry) wrote it first: theirs counts.
        Err(kube::Error::Api(s)) if s.code == 409 => {
            let existing = api.get(name).await.map_err(|e| store(&format!("reading Secret/{name}"), e))?;
            public_key_of(existing, name)
        }
        // The name is refused (too long, not a DNS subdomain): only the spec can fix it.
        Err(kube::Error::Api(s)) if s.code == 422 => Err(EnvError::Invalid(format!(
            "cannot create Secret/{name} for the generated key pair: {}; set spec.resource.privateKeySecretName to a valid name",
            s.message
        ))),
        Err(e) => Err(store(&format!("creating Secret/{name}"), e)),
    }
}

fn public_key_of(secret: Secret, name: &str) -> Result<String, EnvError> {
    let bytes = secret.data.and_then(|mut d| d.remove(PUBLIC_KEY)).ok_or_else(|| {
        EnvError::Invalid(format!(
            "Secret/{name} exists but has no {PUBLIC_KEY:?} key; delete it to have a key pair generated, or give spec.resource.publicKey"
        ))
    })?;
    Ok(text(bytes, &format!("Secret/{name} key {PUBLIC_KEY:?}"))?.trim().to_string())
}

fn owner_reference<O: ManagedObject>(owner: &O) -> OwnerReference {
    OwnerReference {
        api_version: O::api_version(&()).into_owned(),
        kind: O::kind(&()).into_owned(),
        name: owner.name_any(),
        uid: owner.meta().uid.clone().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(false),
    }
}
