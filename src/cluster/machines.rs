//! The Terrane objects a `backend: servers` Cluster is made of, built from
//! its spec without a client: one SecurityGroup for every node, and per
//! machine a Port, a Server and the Secret with its boot configuration; a
//! FloatingIP on the first control-plane machine when asked for. The
//! generic reconciler handles them like any other object.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::ResourceExt;
use terrane_api::{
    AddressSource, Cluster, CommonSpec, ControlPlane, Direction, EndpointRecord, FixedIp, FloatingIP,
    FloatingIPResource, FloatingIPSpec, KeySelector, LocalReference, Port, PortResource, PortSpec, RecordSet,
    RecordSetResource, RecordSetSpec, RecordType, SecurityGroup, SecurityGroupResource, SecurityGroupRule,
    SecurityGroupSpec, Server, ServerNetwork, ServerResource, ServerSpec, UserData, UserDataEncoding,
};

use super::boot_config::Role;
use super::secrets::{VALUE_KEY, owner};

/// On every object a Cluster creates: the Cluster's name.
pub const CLUSTER_LABEL: &str = "terrane.dev/cluster";
/// `control-plane` or `worker`.
pub const ROLE_LABEL: &str = "terrane.dev/machine-role";

/// One machine of the Cluster and what it is made from.
#[derive(Debug, Clone, PartialEq)]
pub struct Machine {
    pub name: String,
    pub role: Role,
    pub flavor: LocalReference,
    pub image: LocalReference,
    pub network: LocalReference,
    pub subnet: LocalReference,
    pub key_pair: Option<LocalReference>,
}

impl Machine {
    pub fn user_data_secret(&self) -> String {
        format!("{}-userdata", self.name)
    }
}

/// Every machine the spec asks for: `<cluster>-cp-<n>` (the first runs
/// `kubeadm init`) and `<cluster>-<pool>-<n>` for each worker pool.
pub fn desired(cluster: &Cluster) -> Vec<Machine> {
    let name = cluster.name_any();
    let Some(cp) = &cluster.spec.control_plane else { return Vec::new() };
    let mut machines: Vec<Machine> = (0..cp.replicas)
        .map(|i| Machine {
            name: format!("{name}-cp-{i}"),
            role: if i == 0 { Role::Init } else { Role::ControlPlane },
            flavor: cp.flavor_ref.clone(),
            image: cp.image_ref.clone(),
            network: cp.network_ref.clone(),
            subnet: cp.subnet_ref.clone(),
            key_pair: cp.key_pair_ref.clone(),
        })
        .collect();
    for pool in &cluster.spec.workers {
        machines.extend((0..pool.replicas).map(|i| Machine {
            name: format!("{name}-{}-{i}", pool.name),
            role: Role::Worker,
            flavor: pool.flavor_ref.clone().unwrap_or_else(|| cp.flavor_ref.clone()),
            image: pool.image_ref.clone().unwrap_or_else(|| cp.image_ref.clone()),
            network: pool.network_ref.clone().unwrap_or_else(|| cp.network_ref.clone()),
            subnet: pool.subnet_ref.clone().unwrap_or_else(|| cp.subnet_ref.clone()),
            key_pair: cp.key_pair_ref.clone(),
        }));
    }
    machines
}

pub fn security_group_name(cluster: &str) -> String {
    format!("{cluster}-nodes")
}

/// The name of the endpoint's RecordSet object.
pub fn record_set_name(cluster: &str) -> String {
    format!("{cluster}-api")
}

/// The name of the control plane's FloatingIP object.
pub fn floating_ip_name(cluster: &str) -> String {
    format!("{cluster}-cp-0")
}

fn meta(cluster: &Cluster, name: &str, role: Option<Role>) -> ObjectMeta {
    let mut labels = BTreeMap::from([(CLUSTER_LABEL.to_string(), cluster.name_any())]);
    if let Some(role) = role {
        let value = if role == Role::Worker { "worker" } else { "control-plane" };
        labels.insert(ROLE_LABEL.to_string(), value.to_string());
    }
    ObjectMeta {
        name: Some(name.to_string()),
        namespace: cluster.namespace(),
        labels: Some(labels),
        owner_references: Some(vec![owner(cluster)]),
        ..Default::default()
    }
}

fn common(cluster: &Cluster) -> CommonSpec {
    CommonSpec {
        provider_config_ref: cluster.spec.provider_config_ref.clone().unwrap_or_default(),
        management_policy: Default::default(),
        deletion_policy: cluster.spec.deletion_policy,
    }
}

/// The nodes' group: the API port from anywhere, everything between nodes.
pub fn security_group(cluster: &Cluster, api_port: i32) -> SecurityGroup {
    let name = security_group_name(&cluster.name_any());
    let rules = vec![
        SecurityGroupRule {
            direction: Direction::Ingress,
            protocol: Some("tcp".into()),
            port_range_min: Some(api_port),
            port_range_max: Some(api_port),
            remote_ip_prefix: Some("0.0.0.0/0".into()),
            ..Default::default()
        },
        SecurityGroupRule {
            direction: Direction::Ingress,
            remote_group_ref: Some(LocalReference::new(&name)),
            ..Default::default()
        },
    ];
    SecurityGroup {
        metadata: meta(cluster, &name, None),
        spec: SecurityGroupSpec {
            common: common(cluster),
            import: None,
            resource: Some(SecurityGroupResource {
                description: Some(format!("Kubernetes nodes of Cluster {}", cluster.name_any())),
                rules: Some(rules),
                ..Default::default()
            }),
        },
        status: None,
    }
}

pub fn port(cluster: &Cluster, m: &Machine) -> Port {
    Port {
        metadata: meta(cluster, &m.name, Some(m.role)),
        spec: PortSpec {
            common: common(cluster),
            import: None,
            resource: Some(PortResource {
                network_ref: m.network.clone(),
                fixed_ips: Some(vec![FixedIp { subnet_ref: Some(m.subnet.clone()), ip_address: None }]),
                security_group_refs: Some(vec![LocalReference::new(security_group_name(&cluster.name_any()))]),
                ..Default::default()
            }),
        },
        status: None,
    }
}

pub fn server(cluster: &Cluster, m: &Machine) -> Server {
    Server {
        metadata: meta(cluster, &m.name, Some(m.role)),
        spec: ServerSpec {
            common: common(cluster),
            import: None,
            resource: Some(ServerResource {
                flavor_ref: m.flavor.clone(),
                image_ref: Some(m.image.clone()),
                networks: vec![ServerNetwork { port_ref: Some(LocalReference::new(&m.name)), ..Default::default() }],
                key_pair_ref: m.key_pair.clone(),
                user_data: Some(UserData {
                    secret_key_ref: Some(KeySelector { name: m.user_data_secret(), key: VALUE_KEY.into() }),
                    encoding: Some(UserDataEncoding::Base64),
                    ..Default::default()
                }),
                metadata: Some(BTreeMap::from([("terrane-cluster".to_string(), cluster.name_any())])),
                ..Default::default()
            }),
        },
        status: None,
    }
}

/// The FloatingIP of the first control-plane machine, when asked for.
pub fn floating_ip(cluster: &Cluster, cp: &ControlPlane) -> Option<FloatingIP> {
    let network = cp.floating_network_ref.clone()?;
    let name = floating_ip_name(&cluster.name_any());
    Some(FloatingIP {
        metadata: meta(cluster, &name, None),
        spec: FloatingIPSpec {
            common: common(cluster),
            import: None,
            resource: Some(FloatingIPResource {
                floating_network_ref: network,
                port_ref: Some(LocalReference::new(format!("{}-cp-0", cluster.name_any()))),
                ..Default::default()
            }),
        },
        status: None,
    })
}

/// The A record of the API endpoint: the FloatingIP's address, else the
/// first control-plane machine's.
pub fn record_set(cluster: &Cluster, cp: &ControlPlane, record: &EndpointRecord) -> RecordSet {
    let name = cluster.name_any();
    let source = if cp.floating_network_ref.is_some() {
        AddressSource { floating_ip_ref: Some(LocalReference::new(floating_ip_name(&name))), server_ref: None }
    } else {
        AddressSource { floating_ip_ref: None, server_ref: Some(LocalReference::new(format!("{name}-cp-0"))) }
    };
    RecordSet {
        metadata: meta(cluster, &record_set_name(&name), None),
        spec: RecordSetSpec {
            common: common(cluster),
            import: None,
            resource: Some(RecordSetResource {
                zone_ref: record.zone_ref.clone(),
                name: Some(record.name.clone()),
                record_type: RecordType::A,
                records: Vec::new(),
                records_from: vec![source],
                ttl: Some(300),
                description: Some(format!("API of Cluster {name}")),
            }),
        },
        status: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use terrane_api::{ClusterBackend, ClusterSpec, WorkerPool};

    pub fn cluster(workers: &[(&str, i32)]) -> Cluster {
        let r = LocalReference::new;
        let mut c = Cluster::new(
            "prod",
            ClusterSpec {
                backend: ClusterBackend::Servers,
                provider_config_ref: Some(r("cloud")),
                kubernetes_version: None,
                control_plane_endpoint: None,
                control_plane: Some(ControlPlane {
                    replicas: 3,
                    flavor_ref: r("m1"),
                    image_ref: r("ubuntu"),
                    network_ref: r("net"),
                    subnet_ref: r("subnet"),
                    key_pair_ref: None,
                    floating_network_ref: Some(r("public")),
                }),
                workers: workers
                    .iter()
                    .map(|(n, replicas)| WorkerPool {
                        name: n.to_string(),
                        replicas: *replicas,
                        flavor_ref: Some(r("m2")),
                        image_ref: None,
                        network_ref: None,
                        subnet_ref: None,
                    })
                    .collect(),
                existing: None,
                record_set: None,
                argo_cd: None,
                bootstrap: None,
                deletion_policy: Default::default(),
            },
        );
        c.metadata.namespace = Some("team".into());
        c.metadata.uid = Some("uid-1".into());
        c
    }

    #[test]
    fn one_machine_runs_init_the_others_join_and_pools_inherit_the_control_planes_fields() {
        let machines = desired(&cluster(&[("general", 2)]));
        let names: Vec<_> = machines.iter().map(|m| (m.name.as_str(), m.role)).collect();
        assert_eq!(
            names,
            [
                ("prod-cp-0", Role::Init),
                ("prod-cp-1", Role::ControlPlane),
                ("prod-cp-2", Role::ControlPlane),
                ("prod-general-0", Role::Worker),
                ("prod-general-1", Role::Worker),
            ]
        );
        let w = &machines[3];
        assert_eq!((w.flavor.name.as_str(), w.image.name.as_str(), w.subnet.name.as_str()), ("m2", "ubuntu", "subnet"));
    }

    #[test]
    fn a_server_boots_from_its_own_secret_through_its_port_and_is_owned_by_the_cluster() {
        let c = cluster(&[]);
        let m = &desired(&c)[0];
        let s = server(&c, m);
        let r = s.spec.resource.as_ref().unwrap();
        let u = r.user_data.as_ref().unwrap();
        assert_eq!(u.secret_key_ref.as_ref().unwrap().name, "prod-cp-0-userdata");
        assert_eq!(u.encoding, Some(UserDataEncoding::Base64));
        assert_eq!(r.networks[0].port_ref.as_ref().unwrap().name, "prod-cp-0");
        let owner = &s.metadata.owner_references.as_ref().unwrap()[0];
        assert_eq!((owner.kind.as_str(), owner.uid.as_str(), owner.controller), ("Cluster", "uid-1", Some(true)));
        let p = port(&c, m);
        assert_eq!(p.spec.resource.unwrap().security_group_refs.unwrap()[0].name, "prod-nodes");
    }

    #[test]
    fn the_node_group_opens_the_api_port_and_lets_nodes_talk() {
        let g = security_group(&cluster(&[]), 6443);
        let rules = g.spec.resource.unwrap().rules.unwrap();
        assert_eq!((rules[0].port_range_min, rules[0].protocol.as_deref()), (Some(6443), Some("tcp")));
        assert_eq!(rules[1].remote_group_ref.as_ref().unwrap().name, "prod-nodes");
    }
}
