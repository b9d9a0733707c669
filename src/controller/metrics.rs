//! Prometheus metrics: reconciles, errors by reason, cloud requests.

use std::sync::Arc;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use terrane_provider::RequestObserver;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReconcileLabels {
    pub kind: String,
    pub reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabels {
    pub kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub service: String,
    pub method: String,
    pub status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LatencyLabels {
    pub service: String,
    pub method: String,
}

/// Every metric the controller exports.
pub struct Metrics {
    pub registry: Registry,
    /// `terrane_reconciles_total{kind, reason}`: reason is the Ready reason.
    pub reconciles: Family<ReconcileLabels, Counter>,
    /// `terrane_reconcile_errors_total{kind, reason}`.
    pub errors: Family<ReconcileLabels, Counter>,
    /// `terrane_reconcile_duration_seconds{kind}`.
    pub reconcile_duration: Family<KindLabels, Histogram>,
    /// `terrane_cloud_requests_total{service, method, status}`.
    pub cloud_requests: Family<RequestLabels, Counter>,
    /// `terrane_cloud_request_duration_seconds{service, method}`.
    pub cloud_latency: Family<LatencyLabels, Histogram>,
}

impl Metrics {
    pub fn new() -> Arc<Self> {
        let mut registry = Registry::with_prefix("terrane");
        let reconciles = Family::<ReconcileLabels, Counter>::default();
        let errors = Family::<ReconcileLabels, Counter>::default();
        let cloud_requests = Family::<RequestLabels, Counter>::default();
        let reconcile_duration = Family::<KindLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.001, 2.0, 16))
        });
        let cloud_latency = Family::<LatencyLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.01, 2.0, 12))
        });
        registry.register("reconciles", "Reconciles by kind and resulting Ready reason", reconciles.clone());
        registry.register("reconcile_errors", "Reconciles that ended in an error, by kind and reason", errors.clone());
        registry.register(
            "reconcile_duration_seconds",
            "Time one reconcile takes, by kind",
            reconcile_duration.clone(),
        );
        registry.register(
            "cloud_requests",
            "HTTP requests sent to the cloud, by service, method and status (0: no answer)",
            cloud_requests.clone(),
        );
        registry.register("cloud_request_duration_seconds", "Latency of cloud requests", cloud_latency.clone());
        Arc::new(Self { registry, reconciles, errors, reconcile_duration, cloud_requests, cloud_latency })
    }

    pub fn encode(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

impl RequestObserver for Metrics {
    fn observe(&self, service: &str, method: &str, status: u16, elapsed: Duration) {
        self.cloud_requests
            .get_or_create(&RequestLabels {
                service: service.into(),
                method: method.into(),
                status: status.to_string(),
            })
            .inc();
        self.cloud_latency
            .get_or_create(&LatencyLabels { service: service.into(), method: method.into() })
            .observe(elapsed.as_secs_f64());
    }
}
