//! Terrane: Git-driven cloud infrastructure.
//!
//! [`reconciler`] is the generic reconciler every kind runs through,
//! independent of Kubernetes; [`controller`] drives it from a cluster;
//! [`kinds`] is the one table of managed kinds; [`generate`] writes the CRD
//! and RBAC YAML derived from it.

pub mod cluster;
pub mod controller;
pub mod export;
pub mod generate;
pub mod git;
pub mod kinds;
pub mod local;
pub mod manifests;
pub mod reconciler;
pub mod ssh_keys;
pub mod tfstate;
