//! A standard `clouds.yaml` (the file every OpenStack tool reads) and the one
//! cloud entry a ProviderConfig names.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;

/// Why a `clouds.yaml` could not be used. Messages name the field, never a value.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CloudsError {
    #[error("clouds.yaml is not valid YAML of the clouds.yaml format: {0}")]
    Parse(String),
    #[error("clouds.yaml has no cloud named {name:?} (it has: {available})")]
    NoSuchCloud { name: String, available: String },
    #[error("cloud {cloud:?}: {problem}")]
    Incomplete { cloud: String, problem: String },
}

#[derive(Deserialize)]
struct CloudsFile {
    #[serde(default)]
    clouds: BTreeMap<String, CloudEntry>,
}

#[derive(Deserialize, Clone, Default)]
struct CloudEntry {
    #[serde(default)]
    auth: AuthEntry,
    auth_type: Option<String>,
    region_name: Option<String>,
    interface: Option<String>,
    #[serde(default)]
    verify: Option<bool>,
}

#[derive(Deserialize, Clone, Default)]
struct AuthEntry {
    auth_url: Option<String>,
    username: Option<String>,
    user_id: Option<String>,
    password: Option<String>,
    project_name: Option<String>,
    project_id: Option<String>,
    user_domain_name: Option<String>,
    user_domain_id: Option<String>,
    project_domain_name: Option<String>,
    project_domain_id: Option<String>,
    domain_name: Option<String>,
    domain_id: Option<String>,
    application_credential_id: Option<String>,
    application_credential_name: Option<String>,
    application_credential_secret: Option<String>,
}

/// A name or an ID, as Keystone accepts either.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NameOrId {
    Name { name: String, domain: Option<Box<NameOrId>> },
    Id(String),
}

/// How to authenticate to Keystone v3.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    Password { user: NameOrId, password: String, project: Option<NameOrId> },
    ApplicationCredential { id: Option<String>, name: Option<String>, user: Option<NameOrId>, secret: String },
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Password { user, project, .. } => f
                .debug_struct("Password")
                .field("user", user)
                .field("password", &"<redacted>")
                .field("project", project)
                .finish(),
            Self::ApplicationCredential { id, name, .. } => f
                .debug_struct("ApplicationCredential")
                .field("id", id)
                .field("name", name)
                .field("secret", &"<redacted>")
                .finish(),
        }
    }
}

/// One cloud of a `clouds.yaml`: where Keystone is, how to authenticate,
/// which region and interface of the catalog to use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CloudConfig {
    pub name: String,
    pub auth_url: String,
    pub credentials: Credentials,
    pub region: Option<String>,
    pub interface: String,
    pub verify_tls: bool,
}

impl CloudConfig {
    /// Parses `yaml` and picks the cloud `name`. `region` overrides the file's `region_name`.
    pub fn from_clouds_yaml(yaml: &str, name: &str, region: Option<&str>) -> Result<Self, CloudsError> {
        let file: CloudsFile =
            serde_saphyr::from_str(yaml).map_err(|e| CloudsError::Parse(first_line(&e.to_string())))?;
        let Some(entry) = file.clouds.get(name).cloned() else {
            return Err(CloudsError::NoSuchCloud {
                name: name.into(),
                available: file.clouds.keys().cloned().collect::<Vec<_>>().join(", "),
            });
        };
        let incomplete = |problem: &str| CloudsError::Incomplete { cloud: name.into(), problem: problem.into() };
        let a = entry.auth;
        let auth_url = a.auth_url.clone().ok_or_else(|| incomplete("auth.auth_url is missing"))?;
        let default_domain = |id: &Option<String>, name: &Option<String>| -> Option<Box<NameOrId>> {
            match (id, name, &a.domain_id, &a.domain_name) {
                (Some(id), _, _, _) => Some(Box::new(NameOrId::Id(id.clone()))),
                (_, Some(n), _, _) => Some(Box::new(NameOrId::Name { name: n.clone(), domain: None })),
                (_, _, Some(id), _) => Some(Box::new(NameOrId::Id(id.clone()))),
                (_, _, _, Some(n)) => Some(Box::new(NameOrId::Name { name: n.clone(), domain: None })),
                _ => None,
            }
        };
        let user = match (&a.user_id, &a.username) {
            (Some(id), _) => Some(NameOrId::Id(id.clone())),
            (None, Some(n)) => {
                Some(NameOrId::Name { name: n.clone(), domain: default_domain(&a.user_domain_id, &a.user_domain_name) })
            }
            (None, None) => None,
        };
        let project = match (&a.project_id, &a.project_name) {
            (Some(id), _) => Some(NameOrId::Id(id.clone())),
            (None, Some(n)) => Some(NameOrId::Name {
                name: n.clone(),
                domain: default_domain(&a.project_domain_id, &a.project_domain_name),
            }),
            (None, None) => None,
        };
        let kind = entry.auth_type.as_deref().unwrap_or(if a.application_credential_secret.is_some() {
            "v3applicationcredential"
        } else {
            "password"
        });
        let credentials = match kind {
            "password" | "v3password" => Credentials::Password {
                user: user.ok_or_else(|| incomplete("auth.username or auth.user_id is missing"))?,
                password: a.password.clone().ok_or_else(|| incomplete("auth.password is missing"))?,
                project,
            },
            "v3applicationcredential" | "application_credential" => {
                let secret = a
                    .application_credential_secret
                    .clone()
                    .ok_or_else(|| incomplete("auth.application_credential_secret is missing"))?;
                if a.application_credential_id.is_none() && (a.application_credential_name.is_none() || user.is_none())
                {
                    return Err(incomplete(
                        "auth.application_credential_id, or auth.application_credential_name with a user, is missing",
                    ));
                }
                Credentials::ApplicationCredential {
                    id: a.application_credential_id.clone(),
                    name: a.application_credential_name.clone(),
                    user,
                    secret,
                }
            }
            other => {
                return Err(incomplete(&format!(
                    "auth_type {other:?} is not supported (use password or v3applicationcredential)"
                )));
            }
        };
        let interface = entry.interface.unwrap_or_else(|| "public".into());
        let interface = interface.trim_end_matches("URL").to_string();
        if !matches!(interface.as_str(), "public" | "internal" | "admin") {
            return Err(incomplete("interface must be public, internal or admin"));
        }
        Ok(Self {
            name: name.into(),
            auth_url: auth_url.trim_end_matches('/').to_string(),
            credentials,
            region: region.map(str::to_string).or(entry.region_name),
            interface,
            verify_tls: entry.verify.unwrap_or(true),
        })
    }
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or_default().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const YAML: &str = r#"
clouds:
  prod:
    auth:
      auth_url: https://keystone.example:5000/v3/
      username: alice
      password: s3cret
      project_name: web
      user_domain_name: Default
      project_domain_id: default
    region_name: RegionOne
  app:
    auth_type: v3applicationcredential
    auth:
      auth_url: https://keystone.example:5000/v3
      application_credential_id: abc
      application_credential_secret: shh
    interface: internalURL
"#;

    #[test]
    fn password_cloud_with_scopes() {
        let c = CloudConfig::from_clouds_yaml(YAML, "prod", None).unwrap();
        assert_eq!(c.auth_url, "https://keystone.example:5000/v3");
        assert_eq!(c.region.as_deref(), Some("RegionOne"));
        assert_eq!(c.interface, "public");
        let Credentials::Password { user, password, project } = c.credentials else { panic!("not password") };
        assert_eq!(password, "s3cret");
        assert_eq!(
            user,
            NameOrId::Name {
                name: "alice".into(),
                domain: Some(Box::new(NameOrId::Name { name: "Default".into(), domain: None }))
            }
        );
        assert_eq!(
            project,
            Some(NameOrId::Name { name: "web".into(), domain: Some(Box::new(NameOrId::Id("default".into()))) })
        );
    }

    #[test]
    fn application_credential_and_region_override() {
        let c = CloudConfig::from_clouds_yaml(YAML, "app", Some("Two")).unwrap();
        assert_eq!(c.region.as_deref(), Some("Two"));
        assert_eq!(c.interface, "internal");
        assert!(matches!(c.credentials, Credentials::ApplicationCredential { id: Some(ref id), .. } if id == "abc"));
    }

    #[test]
    fn unknown_cloud_lists_the_known_ones() {
        let e = CloudConfig::from_clouds_yaml(YAML, "nope", None).unwrap_err();
        assert_eq!(e, CloudsError::NoSuchCloud { name: "nope".into(), available: "app, prod".into() });
    }

    #[test]
    fn missing_password_names_the_field_not_a_value() {
        let yaml = "clouds:\n  x:\n    auth:\n      auth_url: http://k\n      username: bob\n";
        let e = CloudConfig::from_clouds_yaml(yaml, "x", None).unwrap_err();
        assert!(e.to_string().contains("auth.password is missing"), "{e}");
    }

    #[test]
    fn debug_output_redacts_secrets() {
        let c = CloudConfig::from_clouds_yaml(YAML, "prod", None).unwrap();
        assert!(!format!("{c:?}").contains("s3cret"));
        let c = CloudConfig::from_clouds_yaml(YAML, "app", None).unwrap();
        assert!(!format!("{c:?}").contains("shh"));
    }

    #[test]
    fn garbage_is_a_parse_error() {
        assert!(matches!(CloudConfig::from_clouds_yaml("clouds: [", "x", None), Err(CloudsError::Parse(_))));
    }
}
