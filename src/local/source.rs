//! Where manifests come from without a cluster: a directory, or a path of a
//! Git repository at a revision (`URL@REV:PATH`, or `--git URL --ref REV
//! --path DIR`), read with gix at that commit without a work tree.

use std::path::{Path, PathBuf};

use crate::git::{self, Access, File, GitError, Revision};

/// A source of manifests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Dir(PathBuf),
    Git { url: String, revision: String, path: String },
}

/// Why a source could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{0}")]
    Git(#[from] GitError),
}

impl Source {
    /// `DIR`, or `URL@REV:PATH` (`REV` a branch, tag or commit; `:PATH`
    /// optional). A URL is anything with `://` in it.
    pub fn parse(text: &str) -> Self {
        let Some(scheme_end) = text.find("://") else { return Source::Dir(PathBuf::from(text)) };
        let host_start = scheme_end + 3;
        let Some(at) = text[host_start..].rfind('@').map(|i| i + host_start) else {
            return Source::Git { url: text.to_string(), revision: "main".into(), path: String::new() };
        };
        // `user@host` before the first `/` of the path is credentials, not a revision.
        if text[host_start..at].find('/').is_none() {
            return Source::Git { url: text.to_string(), revision: "main".into(), path: String::new() };
        }
        let (revision, path) = match text[at + 1..].split_once(':') {
            Some((r, p)) => (r.to_string(), p.to_string()),
            None => (text[at + 1..].to_string(), String::new()),
        };
        Source::Git { url: text[..at].to_string(), revision, path }
    }

    /// How this source is named in messages (never with credentials).
    pub fn describe(&self) -> String {
        match self {
            Source::Dir(d) => d.display().to_string(),
            Source::Git { url, revision, path } => format!("{}@{revision}:{path}", git::redact_url(url)),
        }
    }
}

/// A branch, else a tag; a 40-digit hex string is a commit.
fn revisions(text: &str) -> Vec<Revision> {
    if text.len() == 40 && text.chars().all(|c| c.is_ascii_hexdigit()) {
        vec![Revision::Commit(text.to_ascii_lowercase())]
    } else {
        vec![Revision::Branch(text.into()), Revision::Tag(text.into())]
    }
}

/// The files of `source` and, for Git, the commit they were read at.
pub fn read(source: &Source, cache: &Path, access: &Access) -> Result<(Vec<File>, Option<String>), SourceError> {
    match source {
        Source::Dir(dir) => Ok((read_dir(dir)?, None)),
        Source::Git { url, revision, path } => {
            let dir = git::cache_dir(cache, url);
            let mut last = None;
            for candidate in revisions(revision) {
                match git::fetch(&dir, url, &candidate, access) {
                    Ok(commit) => return Ok((git::files_at(&dir, commit, path)?, Some(commit.to_string()))),
                    Err(e @ GitError::NoSuchRevision { .. }) => last = Some(e),
                    Err(e) => return Err(e.into()),
                }
            }
            Err(last
                .unwrap_or_else(|| GitError::NoSuchRevision { what: revision.clone(), url: git::redact_url(url) })
                .into())
        }
    }
}

/// Every file under `dir`, paths relative to it, in path order.
fn read_dir(dir: &Path) -> Result<Vec<File>, SourceError> {
    let io = |p: &Path| {
        let path = p.display().to_string();
        move |source| SourceError::Io { path, source }
    };
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d).map_err(io(&d))? {
            let entry = entry.map_err(io(&d))?;
            let p = entry.path();
            if entry.file_type().map_err(io(&p))?.is_dir() {
                if entry.file_name() != ".git" {
                    pending.push(p);
                }
            } else {
                let data = std::fs::read(&p).map_err(io(&p))?;
                let rel = p.strip_prefix(dir).unwrap_or(&p).display().to_string();
                files.push(File { path: rel, data });
            }
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_are_read_as_directories_or_url_at_revision_colon_path() {
        assert_eq!(Source::parse("infra/prod"), Source::Dir("infra/prod".into()));
        assert_eq!(
            Source::parse("https://git.example.org/infra.git@v1.2:envs/prod"),
            Source::Git {
                url: "https://git.example.org/infra.git".into(),
                revision: "v1.2".into(),
                path: "envs/prod".into()
            }
        );
        assert_eq!(
            Source::parse("https://bob@git.example.org/infra.git"),
            Source::Git {
                url: "https://bob@git.example.org/infra.git".into(),
                revision: "main".into(),
                path: String::new()
            }
        );
        assert_eq!(
            Source::parse("git://127.0.0.1:9418/r.git@0123456789abcdef0123456789abcdef01234567"),
            Source::Git {
                url: "git://127.0.0.1:9418/r.git".into(),
                revision: "0123456789abcdef0123456789abcdef01234567".into(),
                path: String::new()
            }
        );
    }

    #[test]
    fn a_directory_is_read_in_path_order_without_dot_git() {
        let dir = std::env::temp_dir().join(format!("terrane-source-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("b/.git")).unwrap();
        std::fs::write(dir.join("b/x.yaml"), "x").unwrap();
        std::fs::write(dir.join("b/.git/HEAD"), "h").unwrap();
        std::fs::write(dir.join("a.yaml"), "a").unwrap();
        let paths: Vec<String> = read_dir(&dir).unwrap().into_iter().map(|f| f.path).collect();
        assert_eq!(paths, ["a.yaml", "b/x.yaml"]);
        let _ = std::fs::remove_dir_all(dir);
    }
}
