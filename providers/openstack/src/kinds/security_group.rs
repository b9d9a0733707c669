//! SecurityGroup ⇄ Neutron `/v2.0/security-groups` and its rules
//! (`/v2.0/security-group-rules`). The group is created alone; its rules
//! converge through `update`, so a create never fails half-way.

use std::collections::BTreeSet;

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use terrane_api::{Direction, Ethertype, SecurityGroupFilter, SecurityGroupResource};
use terrane_provider::{Desired, Diff, ExternalKind, FieldDiff, Freshness, ProviderError, ProviderResult};

use crate::CloudClient;
use crate::addr;
use crate::marker::{self, with_marker};
use crate::neutron::{Collection, UsedBy, check_name_and_description, delete_naming_users, put_opt, put_pair};

const GROUPS: Collection = Collection { plural: "security-groups", singular: "security_group" };
const RULES: Collection = Collection { plural: "security-group-rules", singular: "security_group_rule" };

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RemoteSecurityGroup {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub stateful: Option<bool>,
    #[serde(default, alias = "security_group_rules")]
    pub security_group_rules: Vec<RemoteRule>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RemoteRule {
    pub id: String,
    pub direction: String,
    pub ethertype: String,
    #[serde(default)]
    pub protocol: Option<String>,
    #[serde(default, alias = "port_range_min")]
    pub port_range_min: Option<i32>,
    #[serde(default, alias = "port_range_max")]
    pub port_range_max: Option<i32>,
    #[serde(default, alias = "remote_ip_prefix")]
    pub remote_ip_prefix: Option<String>,
    #[serde(default, alias = "remote_group_id")]
    pub remote_group_id: Option<String>,
}

/// A rule reduced to what identifies it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct RuleKey {
    direction: String,
    ethertype: String,
    protocol: Option<String>,
    port_range_min: Option<i32>,
    port_range_max: Option<i32>,
    remote_ip_prefix: Option<String>,
    remote_group_id: Option<String>,
}

fn normalize_protocol(p: Option<&str>) -> Option<String> {
    p.map(str::to_lowercase).filter(|p| p != "any" && !p.is_empty())
}

impl RuleKey {
    fn of_remote(r: &RemoteRule) -> Self {
        Self {
            direction: r.direction.clone(),
            ethertype: r.ethertype.clone(),
            protocol: normalize_protocol(r.protocol.as_deref()),
            port_range_min: r.port_range_min,
            port_range_max: r.port_range_max,
            remote_ip_prefix: r.remote_ip_prefix.as_deref().map(addr::cidr),
            remote_group_id: r.remote_group_id.clone(),
        }
    }

    fn body(&self, group: &str) -> Value {
        let mut v = json!({ "security_group_id": group, "direction": self.direction, "ethertype": self.ethertype });
        put_opt(&mut v, "protocol", self.protocol.clone());
        put_opt(&mut v, "port_range_min", self.port_range_min);
        put_opt(&mut v, "port_range_max", self.port_range_max);
        put_opt(&mut v, "remote_ip_prefix", self.remote_ip_prefix.clone());
        put_opt(&mut v, "remote_group_id", self.remote_group_id.clone());
        v
    }
}

/// The rules the spec asks for; `own_id` stands for a reference to this group itself.
fn wanted_rules(d: &Desired<'_, SecurityGroupResource>, own_id: &str) -> ProviderResult<Option<BTreeSet<RuleKey>>> {
    Ok(rule_list(d, own_id)?.map(|list| list.into_iter().collect()))
}

/// Pairs of positions in `rules` that describe the same rule once
/// normalised (protocol case, `any`, the form of a CIDR).
fn duplicate_rules(list: &[RuleKey]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for (i, a) in list.iter().enumerate() {
        if let Some(j) = list[..i].iter().position(|b| b == a) {
            out.push((j, i));
        }
    }
    out
}

/// The spec's rules in order, normalised.
fn rule_list(d: &Desired<'_, SecurityGroupResource>, own_id: &str) -> ProviderResult<Option<Vec<RuleKey>>> {
    let Some(rules) = &d.resource.rules else { return Ok(None) };
    rules
        .iter()
        .map(|r| {
            let remote_group_id = match &r.remote_group_ref {
                Some(g) if g.name == d.default_name => Some(own_id.to_string()),
                Some(g) => Some(d.refs.id::<SecurityGroupKind>(&g.name)?.to_string()),
                None => None,
            };
            Ok(RuleKey {
                direction: match r.direction {
                    Direction::Ingress => "ingress".into(),
                    Direction::Egress => "egress".into(),
                },
                ethertype: match r.ethertype {
                    Ethertype::IPv4 => "IPv4".into(),
                    Ethertype::IPv6 => "IPv6".into(),
                },
                protocol: normalize_protocol(r.protocol.as_deref()),
                port_range_min: r.port_range_min,
                port_range_max: r.port_range_max,
                remote_ip_prefix: r.remote_ip_prefix.as_deref().map(addr::cidr),
                remote_group_id,
            })
        })
        .collect::<ProviderResult<Vec<_>>>()
        .map(Some)
}

pub struct SecurityGroupKind;

#[async_trait]
impl ExternalKind for SecurityGroupKind {
    type Object = terrane_api::SecurityGroup;
    type Cloud = CloudClient;
    type Resource = SecurityGroupResource;
    type Filter = SecurityGroupFilter;
    type Remote = RemoteSecurityGroup;

    async fn get(
        &self,
        c: &CloudClient,
        id: &str,
        freshness: Freshness,
    ) -> ProviderResult<Option<RemoteSecurityGroup>> {
        GROUPS.get_with(c, id, freshness).await
    }

    async fn find(&self, c: &CloudClient, f: &SecurityGroupFilter) -> ProviderResult<Vec<RemoteSecurityGroup>> {
        let mut q = Vec::new();
        put_pair(&mut q, "name", f.name.as_deref());
        GROUPS.list(c, &q).await
    }

    async fn find_owned(
        &self,
        c: &CloudClient,
        d: &Desired<'_, SecurityGroupResource>,
        freshness: Freshness,
    ) -> ProviderResult<Vec<RemoteSecurityGroup>> {
        GROUPS.find_owned(c, d.uid, freshness).await
    }

    fn validate(&self, d: &Desired<'_, SecurityGroupResource>) -> ProviderResult<()> {
        let list = rule_list(d, "this group")?.unwrap_or_default();
        let pairs = duplicate_rules(&list);
        if pairs.is_empty() {
            return Ok(());
        }
        let said = pairs.iter().map(|(a, b)| format!("rules[{b}] repeats rules[{a}]")).collect::<Vec<_>>().join(", ");
        Err(ProviderError::invalid(format!(
            "{said}: the cloud keeps a rule once; remove the repeats from spec.resource.rules"
        )))
    }

    fn id(&self, r: &RemoteSecurityGroup) -> String {
        r.id.clone()
    }

    fn diff(&self, d: &Desired<'_, SecurityGroupResource>, r: &RemoteSecurityGroup) -> Diff {
        let want = d.resource;
        let mut diff = Diff::default();
        check_name_and_description(
            &mut diff,
            d,
            want.name.as_ref(),
            want.description.as_ref(),
            &r.name,
            &r.description,
        );
        diff.check_immutable("stateful", want.stateful.map(Some).as_ref(), &r.stateful);
        if let Ok(Some(rules)) = wanted_rules(d, &r.id) {
            let cloud: BTreeSet<RuleKey> = r.security_group_rules.iter().map(RuleKey::of_remote).collect();
            if rules != cloud {
                diff.mutable.push(FieldDiff {
                    field: "rules".into(),
                    cloud: format!("{} rules", cloud.len()),
                    desired: format!("{} rules", rules.len()),
                });
            }
        }
        diff
    }

    async fn create(&self, c: &CloudClient, d: &Desired<'_, SecurityGroupResource>) -> ProviderResult<String> {
        let mut body = json!({ "description": with_marker(d.resource.description.as_deref(), d.uid) });
        put_opt(&mut body, "name", d.name(d.resource.name.as_ref()));
        put_opt(&mut body, "stateful", d.resource.stateful);
        GROUPS.create(c, body).await
    }

    async fn update(
        &self,
        c: &CloudClient,
        d: &Desired<'_, SecurityGroupResource>,
        r: &RemoteSecurityGroup,
        diff: &Diff,
    ) -> ProviderResult<()> {
        if diff.mutable.iter().any(|f| f.field == "name" || f.field == "description") {
            let mut body = json!({});
            put_opt(&mut body, "name", d.name(d.resource.name.as_ref()));
            put_opt(
                &mut body,
                "description",
                d.resource
                    .description
                    .as_deref()
                    .map(|want| marker::for_update(want, &r.description, d.uid, d.imported)),
            );
            GROUPS.update(c, &r.id, body).await?;
        }
        if let Some(rules) = wanted_rules(d, &r.id)? {
            for existing in &r.security_group_rules {
                if !rules.contains(&RuleKey::of_remote(existing)) {
                    RULES.delete(c, &existing.id).await?;
                }
            }
            let cloud: BTreeSet<RuleKey> = r.security_group_rules.iter().map(RuleKey::of_remote).collect();
            for rule in rules.difference(&cloud) {
                RULES.create(c, rule.body(&r.id)).await?;
            }
        }
        Ok(())
    }

    async fn delete(&self, c: &CloudClient, id: &str) -> ProviderResult<()> {
        delete_naming_users(c, &GROUPS, id, UsedBy::SecurityGroup(id)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(protocol: &str, prefix: &str) -> RuleKey {
        RuleKey {
            direction: "ingress".into(),
            ethertype: "IPv4".into(),
            protocol: normalize_protocol(Some(protocol)),
            port_range_min: Some(22),
            port_range_max: Some(22),
            remote_ip_prefix: Some(addr::cidr(prefix)),
            remote_group_id: None,
        }
    }

    #[test]
    fn rules_that_differ_only_in_form_are_repeats() {
        let list = [key("tcp", "10.0.0.0/8"), key("udp", "10.0.0.0/8"), key("TCP", "10.1.2.3/8")];
        assert_eq!(duplicate_rules(&list), vec![(0, 2)]);
        assert!(duplicate_rules(&list[..2]).is_empty());
    }
}
