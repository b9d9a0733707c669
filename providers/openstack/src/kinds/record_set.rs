//! RecordSet ⇄ Designate `/v2/zones/{zone}/recordsets`; read by ID through
//! `/v2/recordsets/{id}`.

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use terrane_api::{RecordSetFilter, RecordSetResource, RecordType};
use terrane_provider::{Desired, Diff, ExternalKind, Freshness, ProviderError, ProviderResult, Readiness};

use super::{FloatingIpKind, ServerKind, ZoneKind};
use crate::CloudClient;
use crate::addr;
use crate::client::Service;
use crate::designate::{Collection, readiness};
use crate::marker::{self, strip_marker, with_marker};
use crate::query::{put_opt, put_pair, sorted};

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RemoteRecordSet {
    pub id: String,
    #[serde(alias = "zone_id")]
    pub zone_id: String,
    #[serde(default, alias = "zone_name")]
    pub zone_name: String,
    pub name: String,
    #[serde(rename = "type")]
    pub record_type: String,
    #[serde(default)]
    pub records: Vec<String>,
    #[serde(default)]
    pub ttl: Option<i32>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub action: String,
}

/// `www` in `example.org.` is `www.example.org.`; `@` is the apex.
fn fqdn(label: &str, zone: &str) -> String {
    if label == "@" { zone.to_string() } else { format!("{}.{zone}", label.trim_end_matches('.')) }
}

/// A and AAAA data as canonical addresses (Designate keeps what it was
/// given, a user may write IPv6 any way); other types unchanged.
fn canonical(t: RecordType, records: &[String]) -> Vec<String> {
    match t {
        RecordType::A | RecordType::AAAA => records.iter().map(|a| addr::ip(a)).collect(),
        _ => records.to_vec(),
    }
}

/// `records` plus the addresses of every `recordsFrom` object of the record's
/// family (a FloatingIP's address; a Server's fixed addresses), sorted and
/// without repeats.
/// Every `recordsFrom` object's observed state is readable: records are
/// never sent without an address their spec asks for.
fn sources_readable(d: &Desired<'_, RecordSetResource>) -> ProviderResult<()> {
    for source in &d.resource.records_from {
        if let Some(f) = &source.floating_ip_ref {
            d.refs.get::<FloatingIpKind>(&f.name)?;
        }
        if let Some(s) = &source.server_ref {
            d.refs.get::<ServerKind>(&s.name)?;
        }
    }
    Ok(())
}

fn records(d: &Desired<'_, RecordSetResource>) -> Vec<String> {
    let r = d.resource;
    let family = if r.record_type == RecordType::AAAA { 6 } else { 4 };
    let mut out = r.records.clone();
    for source in &r.records_from {
        if let Some(f) = &source.floating_ip_ref
            && let Ok(fip) = d.refs.get::<FloatingIpKind>(&f.name)
        {
            out.push(fip.floating_ip_address);
        }
        if let Some(s) = &source.server_ref
            && let Ok(server) = d.refs.get::<ServerKind>(&s.name)
        {
            let own = server.addresses.into_iter().filter(|a| a.version == family && a.kind == "fixed");
            out.extend(own.map(|a| a.addr));
        }
    }
    out.retain(|a| a.parse::<std::net::IpAddr>().map(|ip| ip.is_ipv6() == (family == 6)).unwrap_or(true));
    let mut out = sorted(&canonical(r.record_type, &out));
    out.dedup();
    out
}

const RECORDSETS: Collection = Collection { path: "/v2/recordsets", key: "recordsets" };

pub struct RecordSetKind;

#[async_trait]
impl ExternalKind for RecordSetKind {
    type Object = terrane_api::RecordSet;
    type Cloud = CloudClient;
    type Resource = RecordSetResource;
    type Filter = RecordSetFilter;
    type Remote = RemoteRecordSet;

    async fn get(&self, c: &CloudClient, id: &str, freshness: Freshness) -> ProviderResult<Option<RemoteRecordSet>> {
        RECORDSETS.get_with(c, id, freshness).await
    }

    async fn find(&self, c: &CloudClient, f: &RecordSetFilter) -> ProviderResult<Vec<RemoteRecordSet>> {
        let mut q = Vec::new();
        put_pair(&mut q, "name", f.name.as_deref());
        put_pair(&mut q, "type", f.record_type.map(|t| t.as_str()));
        RECORDSETS.list(c, &q).await
    }

    async fn find_owned(
        &self,
        c: &CloudClient,
        d: &Desired<'_, RecordSetResource>,
        freshness: Freshness,
    ) -> ProviderResult<Vec<RemoteRecordSet>> {
        RECORDSETS.find_owned(c, d.uid, freshness).await
    }

    fn id(&self, r: &RemoteRecordSet) -> String {
        r.id.clone()
    }

    fn diff(&self, d: &Desired<'_, RecordSetResource>, r: &RemoteRecordSet) -> Diff {
        let want = d.resource;
        let mut diff = Diff::default();
        if let Ok(zone) = d.refs.id::<ZoneKind>(&want.zone_ref.name) {
            diff.check_immutable("zoneRef", Some(&zone.to_string()), &r.zone_id);
        }
        if let Some(label) = d.name(want.name.as_ref()) {
            diff.check_immutable("name", Some(&fqdn(&label, &r.zone_name)), &r.name);
        }
        diff.check_immutable("type", Some(&want.record_type.as_str().to_string()), &r.record_type);
        diff.check("records", Some(&records(d)), &sorted(&canonical(want.record_type, &r.records)));
        diff.check("ttl", want.ttl.map(Some).as_ref(), &r.ttl);
        diff.check(
            "description",
            want.description.as_ref(),
            &strip_marker(r.description.as_deref().unwrap_or_default()).to_string(),
        );
        diff
    }

    fn readiness(&self, r: &RemoteRecordSet) -> Readiness {
        readiness("record set", &r.name, &r.status, &r.action)
    }

    async fn create(&self, c: &CloudClient, d: &Desired<'_, RecordSetResource>) -> ProviderResult<String> {
        let r = d.resource;
        sources_readable(d)?;
        let zone_id = d.refs.id::<ZoneKind>(&r.zone_ref.name)?;
        // The Zone as its reconciler last saw it: no second look-up.
        let zone_name = d.refs.get::<ZoneKind>(&r.zone_ref.name)?.name;
        let label = d.name(r.name.as_ref()).unwrap_or_else(|| "@".into());
        let mut body = json!({
            "name": fqdn(&label, &zone_name),
            "type": r.record_type.as_str(),
            "records": records(d),
            "description": with_marker(r.description.as_deref(), d.uid),
        });
        put_opt(&mut body, "ttl", r.ttl);
        let answer = c.post(Service::Dns, &format!("/v2/zones/{zone_id}/recordsets"), &body).await?;
        answer.body["id"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| ProviderError::Transient("Designate created a record set but returned no id".into()))
    }

    async fn update(
        &self,
        c: &CloudClient,
        d: &Desired<'_, RecordSetResource>,
        r: &RemoteRecordSet,
        _: &Diff,
    ) -> ProviderResult<()> {
        sources_readable(d)?;
        let mut body = json!({ "records": records(d) });
        put_opt(&mut body, "ttl", d.resource.ttl);
        let current = r.description.as_deref().unwrap_or_default();
        put_opt(
            &mut body,
            "description",
            d.resource.description.as_deref().map(|want| marker::for_update(want, current, d.uid, d.imported)),
        );
        c.put(Service::Dns, &format!("/v2/zones/{}/recordsets/{}", r.zone_id, r.id), &body).await?;
        Ok(())
    }

    async fn delete(&self, c: &CloudClient, id: &str) -> ProviderResult<()> {
        let Some(current) = self.get(c, id, Freshness::Fresh).await? else { return Ok(()) };
        if current.action == "DELETE" {
            return Ok(());
        }
        Ok(c.delete(Service::Dns, &format!("/v2/zones/{}/recordsets/{id}", current.zone_id)).await?)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use terrane_api::{AddressSource, LocalReference, RecordSetResource, RecordType};
    use terrane_provider::{Desired, ResolvedRefs};

    use super::super::server::{RemoteServer, ServerAddress};

    fn from(fip: Option<&str>, server: Option<&str>) -> AddressSource {
        AddressSource { floating_ip_ref: fip.map(LocalReference::new), server_ref: server.map(LocalReference::new) }
    }

    #[test]
    fn records_from_floating_ips_and_servers_fixed_addresses_of_the_family() {
        let mut refs = ResolvedRefs::default();
        refs.insert("Zone", "z", "zone-id", json!({}));
        let fip = json!({"id": "fip-id", "floatingIpAddress": "172.24.4.9", "floatingNetworkId": "ext", "portId": null,
            "fixedIpAddress": null, "routerId": null, "status": "ACTIVE", "description": ""});
        refs.insert("FloatingIP", "f", "fip-id", fip);
        let address = |addr: &str, version: u8, kind: &str| ServerAddress {
            network: "n".into(),
            addr: addr.into(),
            version,
            kind: kind.into(),
        };
        let server = RemoteServer {
            id: "server-id".into(),
            name: "s".into(),
            status: "ACTIVE".into(),
            task_state: None,
            flavor: "m1.tiny".into(),
            image_id: None,
            key_name: None,
            availability_zone: None,
            metadata: Default::default(),
            tags: Vec::new(),
            security_groups: Vec::new(),
            addresses: vec![
                address("10.0.0.5", 4, "fixed"),
                address("172.24.4.9", 4, "floating"),
                address("fd00::5", 6, "fixed"),
            ],
            volumes: Vec::new(),
            fault: None,
        };
        refs.insert("Server", "s", "server-id", serde_json::to_value(&server).expect("serializes"));
        let mut want = RecordSetResource {
            zone_ref: LocalReference::new("z"),
            name: None,
            record_type: RecordType::A,
            records: vec!["192.0.2.1".into(), "172.24.4.9".into()],
            records_from: vec![from(Some("f"), None), from(None, Some("s"))],
            ttl: None,
            description: None,
        };
        let d = |r: &RecordSetResource| {
            super::records(&Desired { uid: "u", default_name: "www", imported: false, resource: r, refs: &refs })
        };
        assert_eq!(
            d(&want),
            vec!["10.0.0.5", "172.24.4.9", "192.0.2.1"],
            "sorted, repeats once, the server's fixed address taken, its floating one not"
        );
        want.record_type = RecordType::AAAA;
        want.records = Vec::new();
        assert_eq!(d(&want), vec!["fd00::5"], "AAAA: IPv6 only");
    }
}
