//! `terrane import-tfstate`: Terrane manifests from a Terraform state of the
//! OpenStack provider (format version 4, as Terraform 1.x writes it). Each
//! managed resource becomes one object with `import.id` set, its fields as
//! the state records them and references to the other objects by name, so
//! applying the manifests makes Terrane take over every cloud object and
//! change nothing. Cloud objects the state only refers to (an external
//! network, a flavor, an image) become ObserveOnly imports.

mod resources;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Deserialize;
use serde_json::{Value, json};

/// Why a Terraform state cannot be converted; one line naming the thing.
#[derive(Debug, thiserror::Error)]
pub enum TfStateError {
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{path} is not a Terraform state: {message}")]
    NotState { path: String, message: String },
    #[error("{path}: state format version {version}; only version 4 (Terraform 0.12 to 1.x) is read")]
    Version { path: String, version: u64 },
    #[error("{address}: {message}")]
    Resource { address: String, message: String },
    #[error("writing {path}: {message}")]
    Write { path: String, message: String },
}

#[derive(Debug, Deserialize)]
struct StateFile {
    version: u64,
    #[serde(default)]
    resources: Vec<Resource>,
}

#[derive(Debug, Deserialize)]
struct Resource {
    #[serde(default)]
    module: Option<String>,
    mode: String,
    #[serde(rename = "type")]
    type_: String,
    name: String,
    #[serde(default)]
    instances: Vec<Instance>,
}

#[derive(Debug, Deserialize)]
struct Instance {
    #[serde(default)]
    index_key: Option<Value>,
    #[serde(default)]
    attributes: Value,
}

/// One resource instance of the state: its address, Terraform type and
/// name (made a Kubernetes name), and attributes.
#[derive(Debug, Clone)]
pub struct TfObject {
    /// A data source (read by Terraform, not managed): never converted, but
    /// it names the cloud objects managed ones refer to.
    pub data: bool,
    pub address: String,
    pub type_: String,
    pub name: String,
    pub attributes: Value,
}

impl TfObject {
    fn attr(&self, key: &str) -> Option<&str> {
        self.attributes[key].as_str().filter(|s| !s.is_empty())
    }
}

/// The manifests made, and what was left out (with why).
#[derive(Debug, Default)]
pub struct Converted {
    /// Terrane objects, by kind in the kinds table's order.
    pub objects: Vec<Value>,
    /// `address: reason` of every resource not converted.
    pub skipped: Vec<String>,
}

/// A Kubernetes object name from a Terraform name and index (`web_1`, `0` → `web-1-0`).
pub fn object_name(name: &str, index: Option<&Value>) -> String {
    let mut text = name.to_string();
    match index {
        Some(Value::String(s)) => text = format!("{text}-{s}"),
        Some(Value::Number(n)) => text = format!("{text}-{n}"),
        _ => {}
    }
    let mut out: String = text
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '.' { c } else { '-' })
        .collect();
    out = out.trim_matches(|c| c == '-' || c == '.').to_string();
    if out.is_empty() || !out.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        out = format!("tf-{out}");
    }
    out.truncate(63);
    out
}

/// The resource instances and data sources of the state at `path`.
pub fn read(path: &Path) -> Result<Vec<TfObject>, TfStateError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| TfStateError::Io { path: shown.clone(), source })?;
    parse(&text, &shown)
}

pub fn parse(text: &str, shown: &str) -> Result<Vec<TfObject>, TfStateError> {
    let probe: Value = serde_json::from_str(text)
        .map_err(|e| TfStateError::NotState { path: shown.to_string(), message: e.to_string() })?;
    let version = probe["version"].as_u64().unwrap_or(0);
    if version != 4 {
        return Err(TfStateError::Version { path: shown.to_string(), version });
    }
    let state: StateFile = serde_json::from_value(probe)
        .map_err(|e| TfStateError::NotState { path: shown.to_string(), message: e.to_string() })?;
    debug_assert_eq!(state.version, 4);
    let mut out = Vec::new();
    for r in state.resources.into_iter().filter(|r| r.mode == "managed" || r.mode == "data") {
        let prefix = r.module.as_ref().map(|m| format!("{m}.")).unwrap_or_default();
        let module_name = r.module.as_deref().map(|m| m.trim_start_matches("module.").replace(['[', ']', '"'], ""));
        for i in r.instances {
            let index = i.index_key.as_ref().map(|k| match k {
                Value::String(s) => format!("[\"{s}\"]"),
                other => format!("[{other}]"),
            });
            let base = match &module_name {
                Some(m) => format!("{m}-{}", r.name),
                None => r.name.clone(),
            };
            let data = if r.mode == "data" { "data." } else { "" };
            out.push(TfObject {
                data: r.mode == "data",
                address: format!("{prefix}{data}{}.{}{}", r.type_, r.name, index.unwrap_or_default()),
                type_: r.type_.clone(),
                name: object_name(&base, i.index_key.as_ref()),
                attributes: i.attributes,
            });
        }
    }
    Ok(out)
}

/// What the conversion is told.
#[derive(Debug, Clone)]
pub struct Options {
    /// The ProviderConfig every object names.
    pub provider_config: String,
    /// `metadata.namespace` of every object (none when `None`).
    pub namespace: Option<String>,
}

/// Cloud IDs of the objects made so far, by kind, and names taken.
#[derive(Default)]
pub(crate) struct Names {
    by_id: BTreeMap<(&'static str, String), String>,
    taken: BTreeSet<(&'static str, String)>,
    /// ObserveOnly imports of objects the state only refers to.
    external: Vec<(&'static str, String, Value)>,
}

impl Names {
    /// A free name of `kind` from `wanted`.
    fn claim(&mut self, kind: &'static str, wanted: &str) -> String {
        let mut name = wanted.to_string();
        let mut n = 2;
        while self.taken.contains(&(kind, name.clone())) {
            name = format!("{wanted}-{n}");
            n += 1;
        }
        self.taken.insert((kind, name.clone()));
        name
    }

    fn record(&mut self, kind: &'static str, id: &str, name: &str) {
        self.by_id.insert((kind, id.to_string()), name.to_string());
    }

    /// The object of `kind` with cloud ID `id`; one imported ObserveOnly
    /// (named `prefix-<id start>`) when the state holds none.
    pub(crate) fn reference(&mut self, kind: &'static str, id: &str, prefix: &str) -> Value {
        self.reference_named(kind, id, prefix, None)
    }

    /// Like [`Names::reference`]; an external object is named `name` when
    /// the state gives one (a server's `flavor_name`).
    pub(crate) fn reference_named(&mut self, kind: &'static str, id: &str, prefix: &str, name: Option<&str>) -> Value {
        if let Some(name) = self.by_id.get(&(kind, id.to_string())) {
            return json!({"name": name});
        }
        let short: String =
            id.chars().filter(|c| c.is_ascii_alphanumeric()).take(8).collect::<String>().to_ascii_lowercase();
        let wanted = name.map(|n| object_name(n, None)).unwrap_or_else(|| format!("{prefix}-{short}"));
        let name = self.claim(kind, &wanted);
        self.record(kind, id, &name);
        self.external.push((kind, name.clone(), json!({"id": id})));
        json!({"name": name})
    }

    /// Like [`Names::reference`] for an object known by an import filter.
    pub(crate) fn reference_by_filter(&mut self, kind: &'static str, key: &str, filter: Value, name: &str) -> Value {
        if let Some(existing) = self.by_id.get(&(kind, key.to_string())) {
            return json!({"name": existing});
        }
        let name = self.claim(kind, name);
        self.record(kind, key, &name);
        self.external.push((kind, name.clone(), json!({"filter": filter})));
        json!({"name": name})
    }

    pub(crate) fn name_of(&self, kind: &'static str, id: &str) -> Option<&str> {
        self.by_id.get(&(kind, id.to_string())).map(String::as_str)
    }
}

fn manifest(kind: &str, name: &str, options: &Options, spec: Value) -> Value {
    let mut metadata = json!({"name": name});
    if let Some(ns) = &options.namespace {
        metadata["namespace"] = json!(ns);
    }
    let mut spec = spec;
    spec["providerConfigRef"] = json!({"name": options.provider_config});
    json!({"apiVersion": "terrane.dev/v1alpha1", "kind": kind, "metadata": metadata, "spec": spec})
}

/// Converts `objects` (as [`read`] returns them).
pub fn convert(objects: &[TfObject], options: &Options) -> Result<Converted, TfStateError> {
    let mut names = Names::default();
    let mut out = Converted::default();
    // First every object's name, so references resolve whatever the order;
    // a data source names an external object (imported ObserveOnly by ID).
    let mut kinds = Vec::new();
    for o in objects {
        let kind = resources::kind_of(&o.type_);
        if o.data {
            if let (Some(kind), Some(id)) = (kind, o.attr("id")) {
                let name = names.claim(kind, &o.name);
                names.record(kind, id, &name);
                if let Some(n) = o.attr("name") {
                    names.record(kind, &format!("pool:{n}"), &name);
                }
                names.external.push((kind, name, json!({"id": id})));
            }
            kinds.push(None);
            continue;
        }
        match kind {
            Some(kind) => {
                let id = resources::cloud_id(o).ok_or_else(|| TfStateError::Resource {
                    address: o.address.clone(),
                    message: "has no id attribute".into(),
                })?;
                let name = names.claim(kind, &resources::object_name(o));
                names.record(kind, &id, &name);
                if let Some(n) = o.attr("name") {
                    names.record(kind, &format!("name:{n}"), &name);
                }
                kinds.push(Some((kind, id, name)));
            }
            None => {
                if !resources::folded(&o.type_) {
                    out.skipped.push(format!("{}: {} is not a resource type Terrane converts", o.address, o.type_));
                }
                kinds.push(None);
            }
        }
    }
    let mut made = Vec::new();
    for (o, k) in objects.iter().zip(kinds) {
        let Some((kind, id, name)) = k else { continue };
        match resources::resource(o, objects, &mut names) {
            Ok(resource) => {
                // A router interface is found by its router and subnet, not imported by ID.
                let spec = if resources::importable(kind) {
                    json!({"import": {"id": id}, "resource": resource})
                } else {
                    json!({"resource": resource})
                };
                made.push((kind, manifest(kind, &name, options, spec)))
            }
            Err(message) => out.skipped.push(format!("{}: {message}", o.address)),
        }
    }
    for (kind, name, import) in std::mem::take(&mut names.external) {
        made.push((kind, manifest(kind, &name, options, json!({"managementPolicy": "ObserveOnly", "import": import}))));
    }
    made.sort_by_key(|(kind, _)| crate::kinds::all().iter().position(|k| k.kind == *kind).unwrap_or(usize::MAX));
    out.objects = made.into_iter().map(|(_, m)| m).collect();
    Ok(out)
}

/// Writes one file per kind (`networks.yaml`, ...) into `dir`; returns the files written.
pub fn write(dir: &Path, converted: &Converted) -> Result<Vec<String>, TfStateError> {
    let fail = |path: &Path, message: String| TfStateError::Write { path: path.display().to_string(), message };
    std::fs::create_dir_all(dir).map_err(|e| fail(dir, e.to_string()))?;
    let mut by_file: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
    for o in &converted.objects {
        let kind = o["kind"].as_str().unwrap_or_default();
        let plural = crate::kinds::all().into_iter().find(|k| k.kind == kind).map(|k| k.plural).unwrap_or_default();
        by_file.entry(format!("{plural}.yaml")).or_default().push(o);
    }
    let mut written = Vec::new();
    for (file, docs) in by_file {
        let path = dir.join(&file);
        let text = serde_saphyr::to_string_multiple(&docs).map_err(|e| fail(&path, e.to_string()))?;
        std::fs::write(&path, text).map_err(|e| fail(&path, e.to_string()))?;
        written.push(file);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: &str = "provider[\"registry.terraform.io/terraform-provider-openstack/openstack\"]";

    fn state(resources: Value) -> String {
        json!({"version": 4, "terraform_version": "1.9.8", "serial": 3, "lineage": "x", "outputs": {}, "resources": resources})
            .to_string()
    }

    fn res(type_: &str, name: &str, attributes: Value) -> Value {
        json!({"mode": "managed", "type": type_, "name": name, "provider": P, "instances": [{"attributes": attributes}]})
    }

    fn options() -> Options {
        Options { provider_config: "cloud".into(), namespace: Some("prod".into()) }
    }

    #[test]
    fn references_become_names_rules_and_associations_fold_in_and_unknown_types_are_listed() {
        let text = state(json!([
            res("openstack_networking_subnet_v2", "app_subnet", json!({"id": "s1", "network_id": "n1", "cidr": "10.0.0.0/24", "name": "app"})),
            res("openstack_networking_network_v2", "app", json!({"id": "n1", "name": "app", "admin_state_up": true})),
            res("openstack_networking_secgroup_v2", "web", json!({"id": "g1", "name": "web", "description": "web", "delete_default_rules": true})),
            res("openstack_networking_secgroup_rule_v2", "http", json!({"id": "r1", "security_group_id": "g1", "direction": "ingress", "ethertype": "IPv4", "protocol": "tcp", "port_range_min": 80, "port_range_max": 80, "remote_group_id": "g1"})),
            res("openstack_networking_floatingip_v2", "web", json!({"id": "f1", "address": "172.24.4.9", "pool": "public", "port_id": ""})),
            res("openstack_networking_floatingip_associate_v2", "web", json!({"id": "f1", "floating_ip": "172.24.4.9", "port_id": "p-outside"})),
            res("openstack_objectstorage_container_v1", "logs", json!({"id": "logs"})),
            {"mode": "data", "type": "openstack_images_image_v2", "name": "os", "instances": [{"attributes": {"id": "i1"}}]},
        ]));
        let objects = parse(&text, "t.tfstate").unwrap();
        assert_eq!(objects.iter().filter(|o| !o.data).count(), 7, "data sources are not resources");
        let out = convert(&objects, &options()).unwrap();
        let find = |kind: &str, name: &str| {
            out.objects
                .iter()
                .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
                .unwrap_or_else(|| panic!("{kind}/{name} in {:#?}", out.objects))
                .clone()
        };
        let subnet = find("Subnet", "app-subnet");
        assert_eq!(subnet["spec"]["resource"]["networkRef"], json!({"name": "app"}), "by name, whatever the order");
        assert_eq!(subnet["spec"]["import"], json!({"id": "s1"}));
        assert_eq!(subnet["spec"]["providerConfigRef"], json!({"name": "cloud"}));
        assert_eq!(subnet["metadata"]["namespace"], "prod");
        let rules = &find("SecurityGroup", "web")["spec"]["resource"]["rules"];
        assert_eq!(rules.as_array().map(Vec::len), Some(1), "its one rule, no default egress rules: {rules}");
        assert_eq!(rules[0]["remoteGroupRef"], json!({"name": "web"}));
        let fip = find("FloatingIP", "web");
        assert_eq!(fip["spec"]["resource"]["floatingNetworkRef"], json!({"name": "public"}));
        let public = find("Network", "public");
        assert_eq!(public["spec"]["managementPolicy"], "ObserveOnly");
        assert_eq!(public["spec"]["import"], json!({"filter": {"name": "public", "external": true}}));
        let outside = fip["spec"]["resource"]["portRef"]["name"].as_str().unwrap().to_string();
        assert_eq!(
            find("Port", &outside)["spec"]["import"],
            json!({"id": "p-outside"}),
            "a port outside the state is imported ObserveOnly"
        );
        assert_eq!(
            out.skipped,
            vec![
                "openstack_objectstorage_container_v1.logs: openstack_objectstorage_container_v1 is not a resource type Terrane converts"
            ]
        );
        let order: Vec<&str> = out.objects.iter().map(|o| o["kind"].as_str().unwrap()).collect();
        assert!(order.iter().position(|k| *k == "Network") < order.iter().position(|k| *k == "Subnet"), "{order:?}");
    }

    #[test]
    fn counts_and_for_each_make_distinct_names_and_bad_files_are_named() {
        let text = json!({"version": 4, "resources": [{"mode": "managed", "type": "openstack_networking_network_v2", "name": "tier_net", "module": "module.web",
            "instances": [{"index_key": 0, "attributes": {"id": "a"}}, {"index_key": "Blue_1", "attributes": {"id": "b"}}]}]}).to_string();
        let objects = parse(&text, "t").unwrap();
        let names: Vec<&str> = objects.iter().map(|o| o.name.as_str()).collect();
        assert_eq!(names, ["web-tier-net-0", "web-tier-net-blue-1"]);
        assert_eq!(objects[1].address, "module.web.openstack_networking_network_v2.tier_net[\"Blue_1\"]");
        assert!(matches!(parse("{\"version\": 3}", "old"), Err(TfStateError::Version { version: 3, .. })));
        let e = parse("not json", "x.tfstate").unwrap_err().to_string();
        assert!(e.starts_with("x.tfstate is not a Terraform state: "), "{e}");
        let e = convert(
            &parse(&state(json!([res("openstack_networking_network_v2", "n", json!({}))])), "t").unwrap(),
            &options(),
        )
        .unwrap_err();
        assert_eq!(e.to_string(), "openstack_networking_network_v2.n: has no id attribute");
    }
}
