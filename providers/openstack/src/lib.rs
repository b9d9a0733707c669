//! Terrane's OpenStack provider: `clouds.yaml`, Keystone v3 auth, one
//! rate-limited, retrying client per cloud, and one module per kind.

pub mod addr;
pub mod auth;
pub mod client;
pub mod clouds;
pub mod connector;
pub mod designate;
pub mod kinds;
pub mod list_cache;
pub mod marker;
pub mod neutron;
pub mod query;
pub mod ratelimit;
pub mod rest;

pub use client::{ApiResponse, ClientOptions, CloudClient, CloudError, Service};
pub use clouds::{CloudConfig, CloudsError};
pub use connector::OpenStackConnector;
