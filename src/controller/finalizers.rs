//! Adding and removing finalizers without clobbering anyone else's.

use kube::api::{Api, Patch, PatchParams};
use kube::{Resource, ResourceExt};
use serde_json::json;

/// Sets `name`'s finalizers to `change(current)` (no request when it returns
/// `None`), guarded by resourceVersion and retried on conflict with a fresh read.
pub async fn update<K>(
    api: &Api<K>,
    obj: &K,
    change: impl Fn(&[String]) -> Option<Vec<String>>,
) -> Result<(), kube::Error>
where
    K: Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let name = obj.name_any();
    let mut current = obj.clone();
    for attempt in 0..5 {
        let Some(finalizers) = change(current.finalizers()) else { return Ok(()) };
        let patch = json!({ "metadata": { "finalizers": finalizers, "resourceVersion": current.resource_version() } });
        match api.patch(&name, &PatchParams::default(), &Patch::Merge(patch)).await {
            Ok(_) => return Ok(()),
            Err(kube::Error::Api(e)) if e.code == 409 && attempt < 4 => match api.get_opt(&name).await? {
                Some(fresh) => current = fresh,
                None => return Ok(()),
            },
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// `Some(list with f)` when `f` is missing.
pub fn with(f: &str) -> impl Fn(&[String]) -> Option<Vec<String>> + '_ {
    move |current| (!current.iter().any(|x| x == f)).then(|| current.iter().cloned().chain([f.to_string()]).collect())
}

/// `Some(list without f)` when `f` is present.
pub fn without(f: &str) -> impl Fn(&[String]) -> Option<Vec<String>> + '_ {
    move |current| current.iter().any(|x| x == f).then(|| current.iter().filter(|x| *x != f).cloned().collect())
}
