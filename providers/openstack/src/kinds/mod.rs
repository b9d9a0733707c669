//! One module per kind, each a short implementation of the provider contract.

pub mod network;
pub mod subnet;

pub use network::NetworkKind;
pub use subnet::SubnetKind;
