//! Server ⇄ Nova `/servers` (microversion 2.90).
//!
//! The ownership marker is the server tag `terrane-uid:<uid>`, set in the
//! create request and found with Nova's `tags` list filter. Name, metadata,
//! tags, security groups and extra volumes change in place; a new flavor is a resize, then
//! a confirmation; image or boot volume, networks, key pair, user data and availability
//! zone are fixed at create (user data is remembered as a SHA-256 in the
//! metadata key `terrane-user-data-sha256`, so a change is reported).

use std::collections::BTreeMap;

use async_trait::async_trait;
use base64::Engine;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use terrane_api::{ServerFilter, ServerResource, USER_DATA_INPUT, UserDataEncoding};
use terrane_provider::{Desired, Diff, ExternalKind, FieldDiff, Freshness, ProviderError, ProviderResult, Readiness};

use super::{FlavorKind, ImageKind, KeyPairKind, NetworkKind, PortKind, SecurityGroupKind, VolumeKind};
use crate::CloudClient;
use crate::list_cache::{cached_item, cached_items};
use crate::query::{encode, put_opt, sorted};
use crate::rest::NOVA;

const MARKER_TAG: &str = "terrane-uid:";
const PORTS: crate::neutron::Collection = crate::neutron::Collection { plural: "ports", singular: "port" };
/// Metadata key holding the SHA-256 of the user data a server was created with.
pub const USER_DATA_KEY: &str = "terrane-user-data-sha256";

/// One address of a server, flattened from Nova's `addresses` map.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
pub struct ServerAddress {
    pub network: String,
    pub addr: String,
    pub version: u8,
    /// `fixed` or `floating`.
    #[serde(rename = "type")]
    pub kind: String,
}

/// A server as Nova shows it, reduced to what Terrane compares and reports.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RemoteServer {
    pub id: String,
    pub name: String,
    pub status: String,
    pub task_state: Option<String>,
    /// The flavor's name (Nova shows the flavor by content, not ID).
    pub flavor: String,
    pub image_id: Option<String>,
    pub key_name: Option<String>,
    pub availability_zone: Option<String>,
    pub metadata: BTreeMap<String, String>,
    pub tags: Vec<String>,
    pub security_groups: Vec<String>,
    pub addresses: Vec<ServerAddress>,
    /// IDs of the attached volumes, the boot volume included.
    pub volumes: Vec<String>,
    pub fault: Option<String>,
}

fn parse_server(v: &Value) -> ProviderResult<RemoteServer> {
    let s = |k: &str| v[k].as_str().map(str::to_string);
    let id = s("id").ok_or_else(|| ProviderError::Transient("Nova returned a server without id".into()))?;
    let mut addresses = Vec::new();
    for (network, list) in v["addresses"].as_object().into_iter().flatten() {
        for a in list.as_array().into_iter().flatten() {
            addresses.push(ServerAddress {
                network: network.clone(),
                addr: a["addr"].as_str().unwrap_or_default().to_string(),
                version: a["version"].as_u64().unwrap_or(4) as u8,
                kind: a["OS-EXT-IPS:type"].as_str().unwrap_or("fixed").to_string(),
            });
        }
    }
    let mut groups: Vec<String> = v["security_groups"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|g| g["name"].as_str().map(str::to_string))
        .collect();
    groups.sort();
    groups.dedup();
    Ok(RemoteServer {
        id,
        name: s("name").unwrap_or_default(),
        status: s("status").unwrap_or_default(),
        task_state: s("OS-EXT-STS:task_state"),
        flavor: v["flavor"]["original_name"].as_str().unwrap_or_default().to_string(),
        image_id: v["image"]["id"].as_str().map(str::to_string),
        key_name: s("key_name"),
        availability_zone: s("OS-EXT-AZ:availability_zone"),
        metadata: serde_json::from_value(v["metadata"].clone()).unwrap_or_default(),
        tags: serde_json::from_value(v["tags"].clone()).unwrap_or_default(),
        security_groups: groups,
        addresses,
        volumes: sorted(
            &v["os-extended-volumes:volumes_attached"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|a| a["id"].as_str().map(str::to_string))
                .collect::<Vec<_>>(),
        ),
        fault: v["fault"]["message"].as_str().map(str::to_string),
    })
}

const SERVERS: &str = "nova:servers";

/// Every server of the project, page by page, for drift checks.
async fn listing(c: &CloudClient) -> ProviderResult<Vec<(String, Value)>> {
    NOVA.list_all(c, "/servers/detail", "servers", "/id").await
}

/// The servers a `/servers/detail` query answers.
async fn list(c: &CloudClient, path: &str) -> ProviderResult<Vec<RemoteServer>> {
    let all = NOVA.get(c, path).await?;
    all["servers"].as_array().into_iter().flatten().map(parse_server).collect()
}

fn user_data(d: &Desired<'_, ServerResource>) -> Option<String> {
    let u = d.resource.user_data.as_ref()?;
    u.inline.clone().or_else(|| d.refs.input(USER_DATA_INPUT).map(str::to_string))
}

fn sha256(text: &str) -> String {
    Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// The observed name of the Flavor `name`.
fn flavor_name(d: &Desired<'_, ServerResource>, name: &str) -> Option<String> {
    d.refs.get::<FlavorKind>(name).ok().map(|f| f.name)
}

/// The observed name of the SecurityGroup `name`.
fn group_name(d: &Desired<'_, ServerResource>, name: &str) -> Option<String> {
    d.refs.get::<SecurityGroupKind>(name).ok().map(|g| g.name)
}

fn user_tags(tags: &[String]) -> Vec<String> {
    sorted(&tags.iter().filter(|t| !t.starts_with(MARKER_TAG)).cloned().collect::<Vec<_>>())
}

/// Security-group names the spec asks for, when it lists them and every one is known.
fn wanted_groups(d: &Desired<'_, ServerResource>) -> Option<Vec<String>> {
    let refs = d.resource.security_group_refs.as_ref()?;
    let mut names = refs.iter().map(|r| group_name(d, &r.name)).collect::<Option<Vec<_>>>()?;
    names.sort();
    names.dedup();
    Some(names)
}

/// Every volume the server should have attached (boot volume included),
/// when the spec lists extra volumes and every one is resolved.
fn wanted_volumes(d: &Desired<'_, ServerResource>) -> Option<Vec<String>> {
    let extra = d.resource.volume_refs.as_ref()?;
    let mut ids = extra
        .iter()
        .chain(d.resource.boot_volume_ref.iter())
        .map(|v| d.refs.id::<VolumeKind>(&v.name).ok().map(str::to_string))
        .collect::<Option<Vec<_>>>()?;
    ids.sort();
    ids.dedup();
    Some(ids)
}

async fn action(c: &CloudClient, id: &str, body: Value) -> ProviderResult<()> {
    NOVA.post(c, &format!("/servers/{id}/action"), &body).await.map(|_| ())
}

/// Statuses in which Nova is still working on the server.
fn busy(r: &RemoteServer) -> bool {
    r.task_state.is_some()
        || !matches!(r.status.as_str(), "ACTIVE" | "SHUTOFF" | "VERIFY_RESIZE" | "ERROR" | "PAUSED" | "SUSPENDED")
}

pub struct ServerKind;

#[async_trait]
impl ExternalKind for ServerKind {
    type Object = terrane_api::Server;
    type Cloud = CloudClient;
    type Resource = ServerResource;
    type Filter = ServerFilter;
    type Remote = RemoteServer;

    async fn get(&self, c: &CloudClient, id: &str, f: Freshness) -> ProviderResult<Option<RemoteServer>> {
        if let Some(v) = cached_item(c, f, SERVERS, id, || listing(c)).await? {
            return parse_server(&v).map(Some);
        }
        match NOVA.get_opt(c, &format!("/servers/{id}")).await? {
            Some(v) if v["server"]["status"] != "DELETED" => Ok(Some(parse_server(&v["server"])?)),
            _ => Ok(None),
        }
    }

    async fn find(&self, c: &CloudClient, f: &ServerFilter) -> ProviderResult<Vec<RemoteServer>> {
        // Nova's name filter is a regular expression: anchor it, then compare exactly.
        let path = match &f.name {
            Some(n) => format!("/servers/detail?name={}", encode(&format!("^{}$", regex_escape(n)))),
            None => "/servers/detail".into(),
        };
        Ok(list(c, &path).await?.into_iter().filter(|s| f.name.as_ref().is_none_or(|n| *n == s.name)).collect())
    }

    async fn find_owned(
        &self,
        c: &CloudClient,
        d: &Desired<'_, ServerResource>,
        f: Freshness,
    ) -> ProviderResult<Vec<RemoteServer>> {
        let tag = format!("{MARKER_TAG}{}", d.uid);
        let tagged = match cached_items(c, f, SERVERS, || listing(c)).await? {
            Some(all) => all.values().map(parse_server).collect::<ProviderResult<Vec<_>>>()?,
            None => list(c, &format!("/servers/detail?tags={}", encode(&tag))).await?,
        };
        Ok(tagged.into_iter().filter(|s| !d.uid.is_empty() && s.tags.contains(&tag)).collect())
    }

    fn id(&self, r: &RemoteServer) -> String {
        r.id.clone()
    }

    fn diff(&self, d: &Desired<'_, ServerResource>, r: &RemoteServer) -> Diff {
        let w = d.resource;
        let mut diff = Diff::default();
        if let Some(i) = &w.image_ref
            && let Ok(image) = d.refs.id::<ImageKind>(&i.name)
        {
            diff.check_immutable("imageRef", Some(&Some(image.to_string())), &r.image_id);
        }
        if let Some(k) = &w.key_pair_ref
            && let Ok(name) = d.refs.id::<KeyPairKind>(&k.name)
        {
            diff.check_immutable("keyPairRef", Some(&Some(name.to_string())), &r.key_name);
        }
        diff.check_immutable("availabilityZone", w.availability_zone.clone().map(Some).as_ref(), &r.availability_zone);
        if let Some(data) = user_data(d) {
            diff.check_immutable("userData", Some(&Some(sha256(&data))), &r.metadata.get(USER_DATA_KEY).cloned());
        }
        if busy(r) || r.status == "ERROR" {
            return diff;
        }
        if r.status == "VERIFY_RESIZE" {
            diff.mutable.push(FieldDiff {
                field: "resize".into(),
                cloud: "awaiting confirmation".into(),
                desired: "confirmed".into(),
            });
            return diff;
        }
        diff.check("name", d.name(w.name.as_ref()).as_ref(), &r.name);
        if let Some(flavor) = flavor_name(d, &w.flavor_ref.name) {
            diff.check("flavorRef", Some(&flavor), &r.flavor);
        }
        for (k, v) in w.metadata.iter().flatten() {
            diff.check(&format!("metadata.{k}"), Some(&Some(v.clone())), &r.metadata.get(k).cloned());
        }
        diff.check("tags", w.tags.as_deref().map(sorted).as_ref(), &user_tags(&r.tags));
        diff.check("securityGroupRefs", wanted_groups(d).as_ref(), &r.security_groups);
        if let Some(want) = wanted_volumes(d) {
            diff.check("volumeRefs", Some(&want), &r.volumes);
        }
        diff
    }

    fn readiness(&self, r: &RemoteServer) -> Readiness {
        match r.status.as_str() {
            "ERROR" => Readiness::Failed(format!(
                "server {} went to ERROR: {}",
                r.name,
                r.fault.as_deref().unwrap_or("Nova gave no fault message")
            )),
            "DELETED" | "SOFT_DELETED" | "SHELVED_OFFLOADED" => {
                Readiness::Failed(format!("server {} is {}", r.name, r.status))
            }
            _ if busy(r) || r.status == "VERIFY_RESIZE" => Readiness::Pending(format!(
                "server {} is {}{}",
                r.name,
                r.status,
                r.task_state.as_deref().map(|t| format!(" ({t})")).unwrap_or_default()
            )),
            _ => Readiness::Ready,
        }
    }

    async fn create(&self, c: &CloudClient, d: &Desired<'_, ServerResource>) -> ProviderResult<String> {
        let w = d.resource;
        let mut networks = Vec::new();
        for n in &w.networks {
            if let Some(p) = &n.port_ref {
                networks.push(json!({ "port": d.refs.id::<PortKind>(&p.name)? }));
            } else if let Some(net) = &n.network_ref {
                let mut entry = json!({ "uuid": d.refs.id::<NetworkKind>(&net.name)? });
                put_opt(&mut entry, "fixed_ip", n.fixed_ip.as_deref());
                networks.push(entry);
            }
        }
        let mut metadata: BTreeMap<String, String> = w.metadata.clone().unwrap_or_default();
        let data = user_data(d);
        if let Some(text) = &data {
            metadata.insert(USER_DATA_KEY.into(), sha256(text));
        }
        let mut tags = w.tags.clone().unwrap_or_default();
        tags.push(format!("{MARKER_TAG}{}", d.uid));
        let mut body = json!({
            "name": d.name(w.name.as_ref()).unwrap_or_else(|| d.default_name.to_string()),
            "flavorRef": d.refs.id::<FlavorKind>(&w.flavor_ref.name)?,
            "networks": networks,
            "metadata": metadata,
            "tags": tags,
        });
        let mut devices = Vec::new();
        if let Some(i) = &w.image_ref {
            let image = d.refs.id::<ImageKind>(&i.name)?;
            body["imageRef"] = json!(image);
            if w.volume_refs.as_ref().is_some_and(|v| !v.is_empty()) {
                // With data volumes Nova needs the image as boot device 0 too.
                devices.push(json!({ "boot_index": 0, "uuid": image, "source_type": "image", "destination_type": "local", "delete_on_termination": true }));
            }
        }
        if let Some(v) = &w.boot_volume_ref {
            let id = d.refs.id::<VolumeKind>(&v.name)?;
            devices.push(json!({ "boot_index": 0, "uuid": id, "source_type": "volume", "destination_type": "volume", "delete_on_termination": false }));
        }
        for v in w.volume_refs.iter().flatten() {
            let id = d.refs.id::<VolumeKind>(&v.name)?;
            devices.push(json!({ "boot_index": -1, "uuid": id, "source_type": "volume", "destination_type": "volume", "delete_on_termination": false }));
        }
        if !devices.is_empty() {
            body["block_device_mapping_v2"] = json!(devices);
        }
        if let Some(groups) = &w.security_group_refs {
            let ids = groups
                .iter()
                .map(|g| d.refs.id::<SecurityGroupKind>(&g.name).map(|id| json!({ "name": id })))
                .collect::<ProviderResult<Vec<_>>>()?;
            body["security_groups"] = json!(ids);
        }
        if let Some(k) = &w.key_pair_ref {
            body["key_name"] = json!(d.refs.id::<KeyPairKind>(&k.name)?);
        }
        put_opt(&mut body, "availability_zone", w.availability_zone.as_deref());
        let encoded = d.resource.user_data.as_ref().and_then(|u| u.encoding) == Some(UserDataEncoding::Base64);
        put_opt(
            &mut body,
            "user_data",
            data.map(
                |t| if encoded { t.trim().to_string() } else { base64::engine::general_purpose::STANDARD.encode(t) },
            ),
        );
        let answer = NOVA.post(c, "/servers", &json!({ "server": body })).await.map_err(prerequisite_missing)?;
        NOVA.id_in(&answer, "/server/id", "server")
    }

    async fn update(
        &self,
        c: &CloudClient,
        d: &Desired<'_, ServerResource>,
        r: &RemoteServer,
        diff: &Diff,
    ) -> ProviderResult<()> {
        let w = d.resource;
        let changed = |f: &str| diff.mutable.iter().any(|x| x.field == f || x.field.starts_with(&format!("{f}.")));
        if changed("resize") {
            return action(c, &r.id, json!({ "confirmResize": null })).await;
        }
        if changed("name") {
            NOVA.put(c, &format!("/servers/{}", r.id), &json!({ "server": { "name": d.name(w.name.as_ref()) } }))
                .await?;
        }
        if changed("metadata") {
            NOVA.post(c, &format!("/servers/{}/metadata", r.id), &json!({ "metadata": w.metadata })).await?;
        }
        if changed("tags") {
            let mut tags = w.tags.clone().unwrap_or_default();
            tags.extend(r.tags.iter().filter(|t| t.starts_with(MARKER_TAG)).cloned());
            NOVA.put(c, &format!("/servers/{}/tags", r.id), &json!({ "tags": tags })).await?;
        }
        if changed("securityGroupRefs") {
            // By ID: names may repeat, and Nova refuses an ambiguous name.
            let want: Vec<String> = w
                .security_group_refs
                .iter()
                .flatten()
                .map(|g| d.refs.id::<SecurityGroupKind>(&g.name).map(str::to_string))
                .collect::<ProviderResult<_>>()?;
            let ports: Vec<Value> = PORTS.list_visible(c, &[("device_id", r.id.as_str())]).await?;
            let mut current: Vec<String> = ports
                .iter()
                .flat_map(|p| p["security_groups"].as_array().cloned().unwrap_or_default())
                .filter_map(|g| g.as_str().map(str::to_string))
                .collect();
            current.sort();
            current.dedup();
            for id in want.iter().filter(|g| !current.contains(g)) {
                action(c, &r.id, json!({ "addSecurityGroup": { "name": id } })).await?;
            }
            for id in current.iter().filter(|g| !want.contains(g)) {
                action(c, &r.id, json!({ "removeSecurityGroup": { "name": id } })).await?;
            }
        }
        if changed("volumeRefs") {
            let want = wanted_volumes(d).unwrap_or_default();
            for id in want.iter().filter(|v| !r.volumes.contains(v)) {
                NOVA.post(
                    c,
                    &format!("/servers/{}/os-volume_attachments", r.id),
                    &json!({ "volumeAttachment": { "volumeId": id } }),
                )
                .await?;
            }
            for id in r.volumes.iter().filter(|v| !want.contains(v)) {
                NOVA.delete(c, &format!("/servers/{}/os-volume_attachments/{id}", r.id)).await?;
            }
        }
        if changed("flavorRef") {
            action(c, &r.id, json!({ "resize": { "flavorRef": d.refs.id::<FlavorKind>(&w.flavor_ref.name)? } }))
                .await?;
        }
        Ok(())
    }

    async fn delete(&self, c: &CloudClient, id: &str) -> ProviderResult<()> {
        NOVA.delete(c, &format!("/servers/{id}")).await
    }
}

/// Nova's refusal of a network that has no subnet yet (its
/// `NetworkRequiresSubnet`) is a prerequisite still missing: the Subnet may
/// be created in the same apply.
fn prerequisite_missing(e: ProviderError) -> ProviderError {
    match e {
        ProviderError::Terminal { message, .. }
            if message.contains("requires a subnet in order to boot instances on") =>
        {
            ProviderError::waiting(format!("{message} (waiting for the network's Subnet)"))
        }
        e => e,
    }
}

fn regex_escape(s: &str) -> String {
    s.chars().fold(String::new(), |mut out, ch| {
        if "\\.+*?()|[]{}^$".contains(ch) {
            out.push('\\');
        }
        out.push(ch);
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_nova_server() {
        let v = json!({"id": "s1", "name": "web", "status": "ERROR", "OS-EXT-STS:task_state": null,
            "flavor": {"original_name": "m1.tiny", "vcpus": 1}, "image": {"id": "i1"}, "key_name": null,
            "metadata": {"a": "b"}, "tags": ["x", "terrane-uid:u1"], "security_groups": [{"name": "default"}, {"name": "default"}],
            "addresses": {"net": [{"addr": "10.0.0.5", "version": 4, "OS-EXT-IPS:type": "fixed"}]},
            "fault": {"message": "No valid host was found.", "code": 500}});
        let s = parse_server(&v).unwrap();
        assert_eq!(s.flavor, "m1.tiny");
        assert_eq!(s.security_groups, vec!["default"]);
        assert_eq!(s.addresses[0].addr, "10.0.0.5");
        assert_eq!(user_tags(&s.tags), vec!["x"]);
        assert_eq!(
            ServerKind.readiness(&s),
            Readiness::Failed("server web went to ERROR: No valid host was found.".into())
        );
        assert_eq!(regex_escape("a.b"), "a\\.b");
    }
}
