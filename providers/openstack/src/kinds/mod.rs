//! One module per kind, each a short implementation of the provider contract.

pub mod floating_ip;
pub mod network;
pub mod port;
pub mod record_set;
pub mod router;
pub mod router_interface;
pub mod security_group;
pub mod subnet;
pub mod zone;

pub use floating_ip::FloatingIpKind;
pub use network::NetworkKind;
pub use port::PortKind;
pub use record_set::RecordSetKind;
pub use router::RouterKind;
pub use router_interface::RouterInterfaceKind;
pub use security_group::SecurityGroupKind;
pub use subnet::SubnetKind;
pub use zone::ZoneKind;
