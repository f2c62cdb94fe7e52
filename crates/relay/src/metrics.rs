//! The Prometheus metrics (`GET /metrics`, OpenMetrics text).

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MessageLabels {
    kind: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabel {
    kind: &'static str,
}

pub struct Metrics {
    registry: Registry,
    messages: Family<MessageLabels, Counter>,
    latency: Family<KindLabel, Histogram>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let messages = Family::<MessageLabels, Counter>::default();
        registry.register(
            "twofold_relay_messages",
            "Requests to /privacyidea/push by device token kind and outcome",
            messages.clone(),
        );
        // 1 ms to about 33 s.
        let latency = Family::<KindLabel, Histogram>::new_with_constructor(
            (|| Histogram::new(exponential_buckets(0.001, 2.0, 16))) as fn() -> Histogram,
        );
        registry.register(
            "twofold_relay_delivery_seconds",
            "Time from a request's arrival to the push service's final answer",
            latency.clone(),
        );
        Self {
            registry,
            messages,
            latency,
        }
    }

    /// Counts one request; `delivery` is the time a delivery attempt took, if one was made.
    pub fn record(&self, kind: &'static str, outcome: &'static str, delivery: Option<Duration>) {
        self.messages
            .get_or_create(&MessageLabels { kind, outcome })
            .inc();
        if let Some(d) = delivery {
            self.latency
                .get_or_create(&KindLabel { kind })
                .observe(d.as_secs_f64());
        }
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}
