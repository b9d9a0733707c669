//! Kubernetes manifests read from files: every YAML document of every
//! `.yaml`/`.yml` file, each with the file and document number it came
//! from, in the order they are applied (CustomResourceDefinitions, then
//! Namespaces, then the rest, each group in file order).

use serde_json::Value;

use crate::git::File;

/// A manifest that cannot be applied, named by file and document (from 1).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file} document {document}: {message}")]
pub struct ManifestError {
    pub file: String,
    pub document: usize,
    pub message: String,
}

/// One object to apply.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    pub file: String,
    pub document: usize,
    pub object: Value,
}

impl Manifest {
    pub fn api_version(&self) -> &str {
        self.object["apiVersion"].as_str().unwrap_or_default()
    }
    pub fn kind(&self) -> &str {
        self.object["kind"].as_str().unwrap_or_default()
    }
    pub fn name(&self) -> &str {
        self.object["metadata"]["name"].as_str().unwrap_or_default()
    }
    pub fn namespace(&self) -> Option<&str> {
        self.object["metadata"]["namespace"].as_str()
    }
    /// `file document n`, for messages.
    pub fn origin(&self) -> String {
        format!("{} document {}", self.file, self.document)
    }
    fn rank(&self) -> u8 {
        match (self.api_version(), self.kind()) {
            ("apiextensions.k8s.io/v1", "CustomResourceDefinition") => 0,
            ("v1", "Namespace") => 1,
            _ => 2,
        }
    }
}

fn is_manifest_file(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    (name.ends_with(".yaml") || name.ends_with(".yml")) && name != "kustomization.yaml" && name != "kustomization.yml"
}

/// The documents of one YAML stream, split at `---` lines (block scalars
/// are indented, so a `---` at the start of a line always separates).
fn documents(text: &str) -> Vec<String> {
    let mut docs = vec![String::new()];
    for line in text.lines() {
        if line.starts_with("---") && line[3..].trim().is_empty() {
            docs.push(String::new());
        } else if let Some(doc) = docs.last_mut() {
            doc.push_str(line);
            doc.push('\n');
        }
    }
    if docs.len() > 1 && docs.first().is_some_and(|d| is_blank(d)) {
        docs.remove(0);
    }
    docs
}

fn is_blank(doc: &str) -> bool {
    doc.lines().all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
}

/// Every object in `files`, in apply order. The first bad document stops
/// the read: nothing of a revision with an error is applied.
pub fn parse(files: &[File]) -> Result<Vec<Manifest>, ManifestError> {
    let mut out = Vec::new();
    for file in files.iter().filter(|f| is_manifest_file(&f.path)) {
        let err = |document: usize, message: String| ManifestError { file: file.path.clone(), document, message };
        let text = std::str::from_utf8(&file.data).map_err(|_| err(1, "not UTF-8 text".into()))?;
        for (i, doc) in documents(text).iter().enumerate() {
            let document = i + 1;
            if is_blank(doc) {
                continue;
            }
            let object: Value = serde_saphyr::from_str(doc).map_err(|e| err(document, e.to_string()))?;
            if object.is_null() {
                continue;
            }
            let manifest = Manifest { file: file.path.clone(), document, object };
            if !manifest.object.is_object() {
                return Err(err(document, "not a mapping".into()));
            }
            for (field, value) in
                [("apiVersion", manifest.api_version()), ("kind", manifest.kind()), ("metadata.name", manifest.name())]
            {
                if value.is_empty() {
                    return Err(err(document, format!("{field} is missing")));
                }
            }
            out.push(manifest);
        }
    }
    out.sort_by_key(Manifest::rank);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, text: &str) -> File {
        File { path: path.into(), data: text.as_bytes().to_vec() }
    }

    #[test]
    fn crds_and_namespaces_come_first_and_other_files_are_skipped() {
        let files = [
            file("apps/web.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: web}\n"),
            file(
                "crds.yaml",
                "# the CRD\n---\napiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: a.b.c}\n---\n",
            ),
            file("ns.yml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: web\n"),
            file("README.md", "not yaml: [\n"),
            file("kustomization.yaml", "resources: [x]\n"),
        ];
        let m = parse(&files).unwrap();
        let kinds: Vec<_> = m.iter().map(|m| (m.kind(), m.origin())).collect();
        assert_eq!(
            kinds,
            [
                ("CustomResourceDefinition", "crds.yaml document 1".to_string()),
                ("Namespace", "ns.yml document 1".to_string()),
                ("Deployment", "apps/web.yaml document 1".to_string())
            ]
        );
    }

    #[test]
    fn a_broken_document_is_named_by_file_and_number() {
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n---\nkind: [unclosed\n";
        let e = parse(&[file("apps/web.yaml", text)]).unwrap_err();
        assert_eq!((e.file.as_str(), e.document), ("apps/web.yaml", 3));
        assert!(e.to_string().starts_with("apps/web.yaml document 3: "), "{e}");
    }

    #[test]
    fn a_document_without_a_name_is_refused() {
        let e = parse(&[file("a.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n")]).unwrap_err();
        assert_eq!(e.to_string(), "a.yaml document 1: metadata.name is missing");
    }
}
