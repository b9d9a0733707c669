//! One authenticated, rate-limited, retrying HTTP client per cloud.
//!
//! What a caller may rely on:
//! * a token is fetched on first use, reused until 5 minutes before it
//!   expires, and fetched again once when a request gets 401;
//! * every request waits for the cloud's token bucket first;
//! * GET, PUT, PATCH and DELETE are retried (backoff with jitter, capped) on
//!   connection errors, 5xx and 429; POST (and a PUT that creates, see
//!   [`CloudClient::put_creating`]) is retried only on 429 and on errors that
//!   prove nothing was sent, so a create is never sent twice by this client
//!   (the reconciler adopts by ownership marker instead);
//! * 429's `Retry-After` is honoured;
//! * every attempt is reported to the [`RequestObserver`];
//! * credentials Keystone refused are not tried again for 30 s (a wrong
//!   password in a ProviderConfig used by many objects costs one request).

use std::sync::Arc;
use std::time::{Duration, Instant};

use backon::{BackoffBuilder, ExponentialBuilder};
use reqwest::Method;
use serde_json::Value;
use terrane_provider::{ProviderError, RequestObserver};
use tokio::sync::Mutex;

use crate::auth::{self, Session};
use crate::clouds::CloudConfig;
use crate::ratelimit::RateLimiter;

/// How long a refusal of the credentials (4xx from Keystone) is repeated
/// without asking Keystone again.
const REFUSAL_MEMORY: Duration = Duration::from_secs(30);

/// The OpenStack services Terrane talks to, by catalog type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    Identity,
    Compute,
    Network,
    Image,
    Dns,
    BlockStorage,
    ContainerInfra,
}

impl Service {
    /// The catalog types that name this service, preferred first.
    pub fn catalog_types(self) -> &'static [&'static str] {
        match self {
            Self::BlockStorage => &["block-storage", "volumev3", "volume"],
            Self::ContainerInfra => &["container-infra", "container"],
            _ => std::slice::from_ref(match self {
                Self::Identity => &"identity",
                Self::Compute => &"compute",
                Self::Network => &"network",
                Self::Image => &"image",
                _ => &"dns",
            }),
        }
    }

    /// The service's main catalog type, used in messages and metrics.
    pub fn catalog_type(self) -> &'static str {
        match self {
            Self::Identity => "identity",
            Self::Compute => "compute",
            Self::Network => "network",
            Self::Image => "image",
            Self::Dns => "dns",
            Self::BlockStorage => "block-storage",
            Self::ContainerInfra => "container-infra",
        }
    }
}

/// A failed cloud request.
#[derive(Debug, thiserror::Error)]
pub enum CloudError {
    /// `code` is the service's machine-readable error type where it gives
    /// one (Neutron's `NeutronError.type`, e.g. `IpAddressAlreadyAllocated`).
    #[error("{service} API {method} {path}: HTTP {status}: {message}")]
    Http {
        service: &'static str,
        method: String,
        path: String,
        status: u16,
        message: String,
        code: Option<String>,
        creates: bool,
    },
    /// No answer. `maybe_sent` is false only when the connection was never
    /// made, so the service cannot have acted on the request; `creates` says
    /// the request makes something (a POST, or an action such as
    /// `add_router_interface`).
    #[error("cannot reach the {service} API: {message}")]
    Transport { service: &'static str, method: String, maybe_sent: bool, creates: bool, message: String },
    #[error("authentication to Keystone failed: HTTP {status}: {message}")]
    Auth { status: u16, message: String },
    #[error("cannot reach Keystone: {0}")]
    AuthTransport(String),
    #[error("the cloud's catalog has no {service} service for interface {interface}{}", region.as_ref().map(|r| format!(" in region {r}")).unwrap_or_default())]
    ServiceMissing { service: &'static str, interface: String, region: Option<String> },
    #[error("unexpected answer from the {service} API: {message}")]
    InvalidResponse { service: &'static str, message: String },
}

impl CloudError {
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Http { status, .. } | Self::Auth { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The service's error type (`IpAddressAlreadyAllocated`), when it gave one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Http { code, .. } => code.as_deref(),
            _ => None,
        }
    }

    /// True when a POST may have taken effect although no success came back:
    /// it timed out or lost its connection after being sent, or got a 5xx.
    pub fn outcome_unknown(&self) -> bool {
        match self {
            Self::Transport { maybe_sent, creates, .. } => *maybe_sent && *creates,
            Self::Http { creates, status, .. } => *creates && *status >= 500,
            _ => false,
        }
    }
}

impl From<CloudError> for ProviderError {
    fn from(e: CloudError) -> Self {
        let message = e.to_string();
        if e.outcome_unknown() {
            return ProviderError::OutcomeUnknown(format!("{message} (the request may still take effect)"));
        }
        match e.code() {
            // The spec asks for something another object holds: a user must change it.
            Some("IpAddressAlreadyAllocated" | "MacAddressInUse" | "IpAddressInUse") => {
                return ProviderError::invalid(format!("{message} (choose another address, or free it)"));
            }
            // The port's subnet is not attached to a router on the external network yet.
            Some("ExternalGatewayForFloatingIPNotFound") => return ProviderError::waiting(message),
            _ => {}
        }
        match &e {
            CloudError::Http { status: 404, .. } => ProviderError::NotFound(message),
            CloudError::Http { status: 409, .. } => ProviderError::Conflict(message),
            CloudError::Http { status: 400 | 403 | 413 | 422, .. } => ProviderError::invalid(message),
            CloudError::Http { .. } | CloudError::Transport { .. } | CloudError::AuthTransport(_) => {
                ProviderError::Transient(message)
            }
            CloudError::Auth { status: 400 | 401 | 403 | 404, .. } => ProviderError::invalid(message),
            CloudError::Auth { .. } => ProviderError::Transient(message),
            CloudError::ServiceMissing { .. } => ProviderError::unrecoverable(message),
            CloudError::InvalidResponse { .. } => ProviderError::Transient(message),
        }
    }
}

/// A successful answer.
#[derive(Debug, Clone)]
pub struct ApiResponse {
    pub status: u16,
    pub body: Value,
}

/// Tuning of a [`CloudClient`].
#[derive(Debug, Clone)]
pub struct ClientOptions {
    pub requests_per_second: f64,
    pub burst: u32,
    pub timeout: Duration,
    pub max_retries: usize,
    pub min_backoff: Duration,
    pub max_backoff: Duration,
    /// Drift checks are served from one list of a collection once this many
    /// of its objects are checked (see [`crate::list_cache`]).
    pub list_min_objects: usize,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            requests_per_second: 10.0,
            burst: 20,
            timeout: Duration::from_secs(30),
            max_retries: 4,
            min_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(10),
            list_min_objects: crate::list_cache::DEFAULT_MIN_OBJECTS,
        }
    }
}

/// The client of one cloud. Cheap to share (`Arc`).
pub struct CloudClient {
    http: reqwest::Client,
    cloud: CloudConfig,
    session: Mutex<Option<Session>>,
    /// The last refusal of the credentials: repeated for a while instead of
    /// asking Keystone again for every object that uses them.
    refused: Mutex<Option<(Instant, u16, String)>>,
    limiter: RateLimiter,
    observer: Arc<dyn RequestObserver>,
    options: ClientOptions,
    lists: crate::list_cache::ListCache,
}

impl std::fmt::Debug for CloudClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CloudClient").field("cloud", &self.cloud.name).finish_non_exhaustive()
    }
}

impl CloudClient {
    pub fn new(
        cloud: CloudConfig,
        options: ClientOptions,
        observer: Arc<dyn RequestObserver>,
    ) -> Result<Self, CloudError> {
        let http = reqwest::Client::builder()
            .timeout(options.timeout)
            .connect_timeout(Duration::from_secs(10))
            .danger_accept_invalid_certs(!cloud.verify_tls)
            .build()
            .map_err(|e| CloudError::AuthTransport(format!("building the HTTP client: {e}")))?;
        Ok(Self {
            http,
            limiter: RateLimiter::new(options.requests_per_second, options.burst),
            cloud,
            session: Mutex::new(None),
            refused: Mutex::new(None),
            observer,
            lists: crate::list_cache::ListCache::new(options.list_min_objects),
            options,
        })
    }

    /// The lists drift checks read (see [`crate::list_cache`]).
    pub fn lists(&self) -> &crate::list_cache::ListCache {
        &self.lists
    }

    pub fn cloud(&self) -> &CloudConfig {
        &self.cloud
    }

    /// The project the token is scoped to.
    pub async fn project_id(&self) -> Result<Option<String>, CloudError> {
        Ok(self.session().await?.project_id)
    }

    /// True when the catalog has `service` for this cloud's interface and region.
    pub async fn has_service(&self, service: Service) -> Result<bool, CloudError> {
        let s = self.session().await?;
        Ok(auth::endpoint(&s.catalog, service.catalog_type(), &self.cloud.interface, self.cloud.region.as_deref())
            .is_some())
    }

    async fn session(&self) -> Result<Session, CloudError> {
        let mut guard = self.session.lock().await;
        if let Some(s) = guard.as_ref().filter(|s| !s.expires_within(chrono::Duration::minutes(5))) {
            return Ok(s.clone());
        }
        let mut refused = self.refused.lock().await;
        if let Some((at, status, message)) = refused.as_ref()
            && at.elapsed() < REFUSAL_MEMORY
        {
            return Err(CloudError::Auth { status: *status, message: message.clone() });
        }
        match self.authenticate().await {
            Ok(session) => {
                *refused = None;
                *guard = Some(session.clone());
                Ok(session)
            }
            Err(CloudError::Auth { status, message }) if (400..500).contains(&status) => {
                *refused = Some((Instant::now(), status, message.clone()));
                Err(CloudError::Auth { status, message })
            }
            Err(e) => Err(e),
        }
    }

    async fn authenticate(&self) -> Result<Session, CloudError> {
        let base = self.cloud.auth_url.trim_end_matches('/');
        let url = if base.ends_with("/v3") { format!("{base}/auth/tokens") } else { format!("{base}/v3/auth/tokens") };
        self.limiter.acquire().await;
        let started = Instant::now();
        let result = self.http.post(&url).json(&auth::token_request(&self.cloud)).send().await;
        let response = match result {
            Ok(r) => r,
            Err(e) => {
                self.observer.observe("identity", "POST", 0, started.elapsed());
                return Err(CloudError::AuthTransport(transport_message(&e)));
            }
        };
        let status = response.status().as_u16();
        self.observer.observe("identity", "POST", status, started.elapsed());
        let token = response.headers().get("x-subject-token").and_then(|v| v.to_str().ok()).map(str::to_string);
        let body = read_json(response).await;
        match (status, token) {
            (201, Some(token)) => {
                auth::session_from_response(token, &body).map_err(|message| CloudError::Auth { status, message })
            }
            (201, None) => Err(CloudError::Auth { status, message: "no X-Subject-Token in the answer".into() }),
            _ => Err(CloudError::Auth { status, message: error_message(&body) }),
        }
    }

    async fn invalidate(&self) {
        *self.session.lock().await = None;
    }

    pub async fn get(&self, service: Service, path: &str) -> Result<ApiResponse, CloudError> {
        self.request(service, Method::GET, path, None, &[]).await
    }

    pub async fn post(&self, service: Service, path: &str, body: &Value) -> Result<ApiResponse, CloudError> {
        self.request(service, Method::POST, path, Some(body), &[]).await
    }

    pub async fn put(&self, service: Service, path: &str, body: &Value) -> Result<ApiResponse, CloudError> {
        self.request(service, Method::PUT, path, Some(body), &[]).await
    }

    /// DELETE; 404 counts as success (the object is gone either way).
    pub async fn delete(&self, service: Service, path: &str) -> Result<(), CloudError> {
        match self.request(service, Method::DELETE, path, None, &[]).await {
            Ok(_) => Ok(()),
            Err(e) if e.status() == Some(404) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// One request with the retry rules of this module.
    pub async fn request(
        &self,
        service: Service,
        method: Method,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Result<ApiResponse, CloudError> {
        let creates = method == Method::POST;
        self.send(service, method, path, body, headers, creates).await
    }

    /// A PUT that makes something (`add_router_interface`): not resent after
    /// it may have been sent, like a POST, and its lost answer is an unknown
    /// outcome, not a failure.
    pub async fn put_creating(&self, service: Service, path: &str, body: &Value) -> Result<ApiResponse, CloudError> {
        self.send(service, Method::PUT, path, Some(body), &[], true).await
    }

    async fn send(
        &self,
        service: Service,
        method: Method,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
        creates: bool,
    ) -> Result<ApiResponse, CloudError> {
        let name = service.catalog_type();
        let mut delays = ExponentialBuilder::default()
            .with_min_delay(self.options.min_backoff)
            .with_max_delay(self.options.max_backoff)
            .with_max_times(self.options.max_retries)
            .with_jitter()
            .build();
        let mut reauthenticated = false;
        loop {
            let session = self.session().await?;
            let base = service
                .catalog_types()
                .iter()
                .find_map(|t| auth::endpoint(&session.catalog, t, &self.cloud.interface, self.cloud.region.as_deref()))
                .ok_or_else(|| CloudError::ServiceMissing {
                    service: name,
                    interface: self.cloud.interface.clone(),
                    region: self.cloud.region.clone(),
                })?;
            let mut request = self
                .http
                .request(method.clone(), format!("{base}{path}"))
                .header("X-Auth-Token", &session.token)
                .header("Accept", "application/json");
            for (k, v) in headers {
                request = request.header(*k, *v);
            }
            if let Some(b) = body {
                request = request.json(b);
            }
            self.limiter.acquire().await;
            let started = Instant::now();
            let response = match request.send().await {
                Ok(r) => r,
                Err(e) => {
                    self.observer.observe(name, method.as_str(), 0, started.elapsed());
                    let nothing_sent = e.is_connect();
                    if (!creates || nothing_sent)
                        && let Some(delay) = delays.next()
                    {
                        tokio::time::sleep(delay).await;
                        continue;
                    }
                    return Err(CloudError::Transport {
                        service: name,
                        method: method.to_string(),
                        maybe_sent: !nothing_sent,
                        creates,
                        message: transport_message(&e),
                    });
                }
            };
            let status = response.status().as_u16();
            self.observer.observe(name, method.as_str(), status, started.elapsed());
            let retry_after = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            let body = read_json(response).await;
            if (200..300).contains(&status) {
                return Ok(ApiResponse { status, body });
            }
            if status == 401 && !reauthenticated {
                reauthenticated = true;
                self.invalidate().await;
                continue;
            }
            let retryable = status == 429 || (status >= 500 && !creates);
            if retryable && let Some(delay) = delays.next() {
                tokio::time::sleep(retry_after.map(|r| r.min(Duration::from_secs(60))).unwrap_or(delay)).await;
                continue;
            }
            return Err(CloudError::Http {
                service: name,
                method: method.to_string(),
                path: path.split('?').next().unwrap_or(path).to_string(),
                status,
                message: error_message(&body),
                code: body.pointer("/NeutronError/type").and_then(Value::as_str).map(str::to_string),
                creates,
            });
        }
    }
}

async fn read_json(response: reqwest::Response) -> Value {
    let text = response.text().await.unwrap_or_default();
    if text.trim().is_empty() {
        return Value::Null;
    }
    serde_json::from_str(&text).unwrap_or(Value::String(text))
}

fn transport_message(e: &reqwest::Error) -> String {
    let mut message = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        message = format!("{message}: {s}");
        source = s.source();
    }
    message
}

/// The human part of an OpenStack error body, whatever the service's shape:
/// `{"NeutronError": {"message"}}`, `{"badRequest": {"message"}}`,
/// `{"error": {"message"}}`, `{"message"}` or plain text.
pub fn error_message(body: &Value) -> String {
    fn from(v: &Value) -> Option<String> {
        match v {
            Value::Object(map) => map
                .get("message")
                .and_then(Value::as_str)
                .map(str::to_string)
                .or_else(|| map.values().find_map(|inner| if inner.is_object() { from(inner) } else { None })),
            Value::String(s) => Some(s.chars().take(300).collect()),
            _ => None,
        }
    }
    from(body).map(|m| tidy(&m)).filter(|m| !m.is_empty()).unwrap_or_else(|| "no error message".into())
}

/// One line of text: HTML line breaks (webob's error pages) and runs of
/// whitespace become single spaces.
fn tidy(message: &str) -> String {
    message.replace("<br />", " ").split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn error_messages_of_each_service_shape() {
        assert_eq!(
            error_message(&json!({"NeutronError": {"type": "X", "message": "bad cidr", "detail": ""}})),
            "bad cidr"
        );
        assert_eq!(
            error_message(&json!({"message": "URI does not pass filtering: http://x<br /><br />\n\n\n"})),
            "URI does not pass filtering: http://x"
        );
        assert_eq!(error_message(&json!({"badRequest": {"message": "flavor", "code": 400}})), "flavor");
        assert_eq!(error_message(&json!({"message": "zone exists", "code": 409})), "zone exists");
        assert_eq!(error_message(&json!("<html>oops</html>")), "<html>oops</html>");
        assert_eq!(error_message(&Value::Null), "no error message");
    }

    #[test]
    fn http_statuses_map_to_categories() {
        let http = |status| CloudError::Http {
            service: "network",
            method: "GET".into(),
            path: "/x".into(),
            status,
            message: "m".into(),
            code: None,
            creates: false,
        };
        assert!(matches!(ProviderError::from(http(404)), ProviderError::NotFound(_)));
        assert!(matches!(ProviderError::from(http(409)), ProviderError::Conflict(_)));
        assert!(matches!(ProviderError::from(http(400)), ProviderError::Terminal { .. }));
        assert!(matches!(ProviderError::from(http(503)), ProviderError::Transient(_)));
        assert!(matches!(
            ProviderError::from(CloudError::Auth { status: 401, message: "m".into() }),
            ProviderError::Terminal { .. }
        ));
    }

    #[test]
    fn a_create_without_answer_is_of_unknown_outcome() {
        let post = |status| CloudError::Http {
            service: "compute",
            method: "POST".into(),
            path: "/servers".into(),
            status,
            message: "m".into(),
            code: None,
            creates: true,
        };
        let lost = |creates, maybe_sent| CloudError::Transport {
            service: "compute",
            method: "POST".into(),
            maybe_sent,
            creates,
            message: "timed out".into(),
        };
        assert!(matches!(ProviderError::from(post(500)), ProviderError::OutcomeUnknown(_)));
        assert!(matches!(ProviderError::from(post(400)), ProviderError::Terminal { .. }));
        assert!(matches!(ProviderError::from(lost(true, true)), ProviderError::OutcomeUnknown(_)));
        assert!(matches!(ProviderError::from(lost(true, false)), ProviderError::Transient(_)));
        assert!(matches!(ProviderError::from(lost(false, true)), ProviderError::Transient(_)));
    }
}
