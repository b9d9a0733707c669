//! One module per kind, each a short implementation of the provider contract.

pub mod flavor;
pub mod floating_ip;
pub mod image;
pub mod key_pair;
pub mod network;
pub mod port;
pub mod record_set;
pub mod router;
pub mod router_interface;
pub mod security_group;
pub mod server;
pub mod subnet;
pub mod subnet_pool;
pub mod volume;
pub mod zone;

pub use flavor::FlavorKind;
pub use floating_ip::FloatingIpKind;
pub use image::ImageKind;
pub use key_pair::KeyPairKind;
pub use network::NetworkKind;
pub use port::PortKind;
pub use record_set::RecordSetKind;
pub use router::RouterKind;
pub use router_interface::RouterInterfaceKind;
pub use security_group::SecurityGroupKind;
pub use server::ServerKind;
pub use subnet::SubnetKind;
pub use subnet_pool::SubnetPoolKind;
pub use volume::VolumeKind;
pub use zone::ZoneKind;
