//! Terrane without a cluster: manifests read from a directory or a Git
//! revision, checked and ordered by their references (`terrane validate`),
//! planned and applied by the generic reconciler (`terrane plan`, `terrane
//! apply`) with each object's status in a locked state file.

pub mod apply;
pub mod commands;
pub mod drivers;
pub mod env;
pub mod graph;
pub mod handover;
pub mod live;
pub mod objects;
pub mod plan;
pub mod render;
pub mod source;
pub mod state;

use std::path::PathBuf;

pub use objects::{Object, ObjectsError};
pub use source::{Source, SourceError};

use crate::git::{Access, Credentials};

/// Why a source cannot be used: one line naming the thing.
#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    #[error("{0}")]
    Source(#[from] SourceError),
    #[error("{0}")]
    Objects(#[from] ObjectsError),
    #[error("{path}: {message}")]
    CaFile { path: String, message: String },
    #[error("{0}")]
    State(#[from] state::StateError),
    #[error("{0}")]
    Credentials(#[from] env::CredentialsError),
    #[error("{0}")]
    Apply(#[from] apply::ApplyError),
    #[error("{0}")]
    Handover(#[from] handover::HandoverError),
    #[error(
        "{path} was handed over to {to}; a cluster's controller drives its objects now (terrane state pull takes them back)"
    )]
    HandedOver { path: String, to: String },
}

/// HTTPS access from the environment: `TERRANE_GIT_TOKEN` (with
/// `TERRANE_GIT_USERNAME`, default `git`) and `TERRANE_GIT_CA_FILE`.
pub fn access_from_env() -> Result<Access, LocalError> {
    let credentials = std::env::var("TERRANE_GIT_TOKEN").ok().filter(|t| !t.is_empty()).map(|password| Credentials {
        username: std::env::var("TERRANE_GIT_USERNAME").unwrap_or_else(|_| "git".into()),
        password,
    });
    let ca_pem = match std::env::var("TERRANE_GIT_CA_FILE") {
        Ok(path) => {
            Some(std::fs::read_to_string(&path).map_err(|e| LocalError::CaFile { path, message: e.to_string() })?)
        }
        Err(_) => None,
    };
    Ok(Access { credentials, ca_pem })
}

/// Where fetched repositories are cached: `$TERRANE_GIT_CACHE`, else
/// `$HOME/.cache/terrane/git`.
pub fn git_cache() -> PathBuf {
    if let Some(dir) = std::env::var_os("TERRANE_GIT_CACHE") {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(std::env::temp_dir);
    home.join(".cache/terrane/git")
}

/// The objects of `source` in apply order, and the commit read (for Git).
pub fn load(source: &Source, access: &Access) -> Result<(Vec<Object>, Option<String>), LocalError> {
    let (files, commit) = source::read(source, &git_cache(), access)?;
    let manifests = crate::manifests::parse(&files).map_err(ObjectsError::from)?;
    Ok((objects::load(manifests)?, commit))
}
