//! Keystone v3: the token request and the service catalog of its answer.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::clouds::{CloudConfig, Credentials, NameOrId};

/// A token and what came with it.
#[derive(Clone)]
pub struct Session {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub project_id: Option<String>,
    pub catalog: Vec<CatalogService>,
}

impl Session {
    /// True when the token has less than `margin` left.
    pub fn expires_within(&self, margin: chrono::Duration) -> bool {
        self.expires_at - Utc::now() < margin
    }
}

#[derive(Clone, Debug, Deserialize)]
pub struct CatalogService {
    #[serde(rename = "type")]
    pub service_type: String,
    #[serde(default)]
    pub endpoints: Vec<CatalogEndpoint>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct CatalogEndpoint {
    pub interface: String,
    #[serde(default)]
    pub region_id: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
    pub url: String,
}

/// A user or project: by ID, or by name within a domain ("default" when none is given).
fn name_or_id(v: &NameOrId) -> Value {
    match v {
        NameOrId::Id(id) => json!({ "id": id }),
        NameOrId::Name { name, domain: Some(d) } => json!({ "name": name, "domain": domain(d) }),
        NameOrId::Name { name, domain: None } => json!({ "name": name, "domain": { "id": "default" } }),
    }
}

fn domain(v: &NameOrId) -> Value {
    match v {
        NameOrId::Id(id) => json!({ "id": id }),
        NameOrId::Name { name, .. } => json!({ "name": name }),
    }
}

/// The body of `POST /v3/auth/tokens` for `cloud`.
pub fn token_request(cloud: &CloudConfig) -> Value {
    match &cloud.credentials {
        Credentials::Password { user, password, project } => {
            let mut user = name_or_id(user);
            user["password"] = json!(password);
            let mut auth = json!({ "identity": { "methods": ["password"], "password": { "user": user } } });
            if let Some(p) = project {
                auth["scope"] = json!({ "project": name_or_id(p) });
            }
            json!({ "auth": auth })
        }
        Credentials::ApplicationCredential { id, name, user, secret } => {
            let mut cred = json!({ "secret": secret });
            if let Some(id) = id {
                cred["id"] = json!(id);
            } else {
                cred["name"] = json!(name);
                if let Some(u) = user {
                    cred["user"] = name_or_id(u);
                }
            }
            json!({ "auth": { "identity": { "methods": ["application_credential"], "application_credential": cred } } })
        }
    }
}

#[derive(Deserialize)]
struct TokenBody {
    token: TokenInfo,
}

#[derive(Deserialize)]
struct TokenInfo {
    expires_at: DateTime<Utc>,
    #[serde(default)]
    project: Option<ProjectInfo>,
    #[serde(default)]
    catalog: Vec<CatalogService>,
}

#[derive(Deserialize)]
struct ProjectInfo {
    id: String,
}

/// Builds a session from the `X-Subject-Token` header and the JSON body.
pub fn session_from_response(token: String, body: &Value) -> Result<Session, String> {
    let parsed: TokenBody =
        serde_json::from_value(body.clone()).map_err(|e| format!("unexpected token response: {e}"))?;
    Ok(Session {
        token,
        expires_at: parsed.token.expires_at,
        project_id: parsed.token.project.map(|p| p.id),
        catalog: parsed.token.catalog,
    })
}

/// The URL of `service_type` for `interface` in `region` (any region when None),
/// without a trailing slash.
pub fn endpoint(
    catalog: &[CatalogService],
    service_type: &str,
    interface: &str,
    region: Option<&str>,
) -> Option<String> {
    catalog
        .iter()
        .filter(|s| s.service_type == service_type)
        .flat_map(|s| s.endpoints.iter())
        .find(|e| {
            e.interface == interface
                && region.is_none_or(|r| e.region_id.as_deref() == Some(r) || e.region.as_deref() == Some(r))
        })
        .map(|e| e.url.trim_end_matches('/').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cloud(yaml: &str) -> CloudConfig {
        CloudConfig::from_clouds_yaml(yaml, "c", None).unwrap()
    }

    #[test]
    fn password_request_scopes_to_the_project() {
        let c = cloud(
            "clouds:\n  c:\n    auth:\n      auth_url: http://k/v3\n      username: u\n      password: p\n      project_name: pr\n      user_domain_name: D\n",
        );
        let body = token_request(&c);
        assert_eq!(
            body["auth"]["identity"]["password"]["user"],
            json!({"name": "u", "domain": {"name": "D"}, "password": "p"})
        );
        assert_eq!(body["auth"]["scope"]["project"], json!({"name": "pr", "domain": {"id": "default"}}));
    }

    #[test]
    fn application_credential_request_has_no_scope() {
        let c = cloud(
            "clouds:\n  c:\n    auth:\n      auth_url: http://k/v3\n      application_credential_id: i\n      application_credential_secret: s\n",
        );
        let body = token_request(&c);
        assert_eq!(body["auth"]["identity"]["application_credential"], json!({"id": "i", "secret": "s"}));
        assert!(body["auth"].get("scope").is_none());
    }

    #[test]
    fn endpoint_by_type_interface_region() {
        let body = json!({"token": {"expires_at": "2030-01-01T00:00:00.000000Z", "project": {"id": "p1"}, "catalog": [
            {"type": "network", "endpoints": [
                {"interface": "public", "region_id": "A", "url": "http://a:9696/"},
                {"interface": "public", "region_id": "B", "url": "http://b:9696"},
                {"interface": "internal", "region_id": "B", "url": "http://ib:9696"}]}]}});
        let s = session_from_response("t".into(), &body).unwrap();
        assert_eq!(s.project_id.as_deref(), Some("p1"));
        assert_eq!(endpoint(&s.catalog, "network", "public", Some("B")).as_deref(), Some("http://b:9696"));
        assert_eq!(endpoint(&s.catalog, "network", "public", None).as_deref(), Some("http://a:9696"));
        assert_eq!(endpoint(&s.catalog, "network", "internal", Some("A")), None);
        assert_eq!(endpoint(&s.catalog, "dns", "public", None), None);
    }
}
