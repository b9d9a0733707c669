//! How a provider reports each cloud request, so the controller can count them.

use std::time::Duration;

/// Called once per HTTP request a provider sends to the cloud (retries count
/// separately). `status` is the HTTP status, or 0 when no response came back.
pub trait RequestObserver: Send + Sync {
    fn observe(&self, service: &str, method: &str, status: u16, elapsed: Duration);
}

/// Observes nothing.
pub struct NoopObserver;

impl RequestObserver for NoopObserver {
    fn observe(&self, _: &str, _: &str, _: u16, _: Duration) {}
}
