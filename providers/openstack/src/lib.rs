//! Terrane's OpenStack provider.

pub mod auth;
pub mod client;
pub mod clouds;
pub mod ratelimit;

pub use client::{ApiResponse, ClientOptions, CloudClient, CloudError, Service};
pub use clouds::{CloudConfig, CloudsError};
