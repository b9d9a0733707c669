//! Terrane's API: the custom resource types of `terrane.dev/v1alpha1`.
//!
//! Every managed kind has the same shape: `spec` = [`CommonSpec`] (flattened:
//! `providerConfigRef`, `managementPolicy`, `deletionPolicy`) + `import` +
//! `resource`; `status` = [`ResourceStatus`].

pub mod cluster;
pub mod common;
pub mod flavor;
pub mod floating_ip;
pub mod image;
pub mod key_pair;
pub mod managed;
pub mod network;
pub mod port;
pub mod provider_config;
pub mod record_set;
pub mod router;
pub mod router_interface;
mod schema;
pub mod security_group;
pub mod server;
pub mod subnet;
pub mod subnet_pool;
pub mod volume;
pub mod zone;

pub use cluster::*;
pub use common::*;
pub use flavor::*;
pub use floating_ip::*;
pub use image::*;
pub use key_pair::*;
pub use managed::{Input, InputSource, ManagedObject, Reference};
pub use network::*;
pub use port::*;
pub use provider_config::*;
pub use record_set::*;
pub use router::*;
pub use router_interface::*;
pub use security_group::*;
pub use server::*;
pub use subnet::*;
pub use subnet_pool::*;
pub use volume::*;
pub use zone::*;

pub const GROUP: &str = "terrane.dev";
pub const VERSION: &str = "v1alpha1";
