//! The Prometheus scrape endpoint (`--metrics-listen ADDR`, `GET /metrics`),
//! for clusters that scrape rather than run an OpenTelemetry collector.
//!
//! Same instruments as the OTLP export — every `vigie.*` meter reading goes
//! to both when both are on: the meter provider gets one more reader, a
//! [`ManualReader`] that is read only when Prometheus asks ([`Scrape`]). It
//! costs nothing between scrapes, and nothing at all when the option is off
//! (no reader is installed). The exposition is the text format 0.0.4,
//! written here ([`text`]) rather than through the `opentelemetry-prometheus`
//! crate, which is discontinued and pulls the `prometheus` crate and its
//! protobuf runtime for a format of a hundred lines.
//!
//! Cumulative temporality (what Prometheus expects): counters count since the
//! process started.

mod collect;
pub mod http;
pub mod text;

use std::sync::{Arc, Weak};
use std::time::Duration;

use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::reader::MetricReader;
use opentelemetry_sdk::metrics::{InstrumentKind, ManualReader, Pipeline, Temporality};

/// Reads the meter provider on demand; cheap to clone (shared).
#[derive(Debug, Clone, Default)]
pub struct Scrape {
    reader: Arc<ManualReader>,
}

impl Scrape {
    /// A reader not attached yet: hand [`Scrape::reader`] to the meter
    /// provider builder.
    pub fn new() -> Scrape {
        Scrape::default()
    }

    /// The reader to install in the meter provider (`with_reader`).
    pub fn reader(&self) -> SharedReader {
        SharedReader(self.reader.clone())
    }

    /// The current value of every instrument, in the Prometheus text format.
    ///
    /// # Errors
    /// When the reader is not installed in a provider, or the provider was
    /// shut down.
    pub fn render(&self) -> Result<String, OTelSdkError> {
        let mut metrics = ResourceMetrics::default();
        self.reader.collect(&mut metrics)?;
        Ok(text::render(&collect::families(&metrics)))
    }
}

/// The [`MetricReader`] half of a [`Scrape`]: the provider owns this handle,
/// the scrape endpoint keeps the other.
#[derive(Debug, Clone)]
pub struct SharedReader(Arc<ManualReader>);

impl MetricReader for SharedReader {
    fn register_pipeline(&self, pipeline: Weak<Pipeline>) {
        self.0.register_pipeline(pipeline);
    }

    fn collect(&self, metrics: &mut ResourceMetrics) -> OTelSdkResult {
        self.0.collect(metrics)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.0.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.0.shutdown_with_timeout(timeout)
    }

    fn temporality(&self, kind: InstrumentKind) -> Temporality {
        self.0.temporality(kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::metrics::MeterProvider as _;
    use opentelemetry::KeyValue;
    use opentelemetry_sdk::metrics::SdkMeterProvider;

    #[test]
    fn renders_what_the_sdk_recorded() {
        let scrape = Scrape::new();
        let provider = SdkMeterProvider::builder().with_reader(scrape.reader()).build();
        let meter = provider.meter("vigie");
        let counter = meter
            .u64_counter("vigie.events.dead_letters")
            .with_description("Dead letters")
            .build();
        counter.add(2, &[KeyValue::new("consumer", "inventory-training")]);
        let histogram = meter
            .f64_histogram("vigie.rpc.duration")
            .with_unit("s")
            .with_boundaries(vec![0.01, 0.1])
            .build();
        histogram.record(0.05, &[KeyValue::new("rpc.method", "/a.B/C")]);
        histogram.record(0.5, &[KeyValue::new("rpc.method", "/a.B/C")]);
        let _gauge = meter
            .i64_observable_gauge("vigie.outbox.pending")
            .with_callback(|observer| observer.observe(7, &[KeyValue::new("outbox", "inventory")]))
            .build();
        let up_down = meter.i64_up_down_counter("vigie.in_flight").build();
        up_down.add(-1, &[]);

        let text = scrape.render().unwrap_or_default();
        for expected in [
            "# HELP vigie_events_dead_letters_total Dead letters\n",
            "# TYPE vigie_events_dead_letters_total counter\n",
            "vigie_events_dead_letters_total{consumer=\"inventory-training\"} 2\n",
            "# TYPE vigie_rpc_duration_seconds histogram\n",
            "vigie_rpc_duration_seconds_bucket{rpc_method=\"/a.B/C\",le=\"0.01\"} 0\n",
            "vigie_rpc_duration_seconds_bucket{rpc_method=\"/a.B/C\",le=\"0.1\"} 1\n",
            "vigie_rpc_duration_seconds_bucket{rpc_method=\"/a.B/C\",le=\"+Inf\"} 2\n",
            "vigie_rpc_duration_seconds_sum{rpc_method=\"/a.B/C\"} 0.55\n",
            "vigie_rpc_duration_seconds_count{rpc_method=\"/a.B/C\"} 2\n",
            "# TYPE vigie_outbox_pending gauge\n",
            "vigie_outbox_pending{outbox=\"inventory\"} 7\n",
            "# TYPE vigie_in_flight gauge\n",
            "vigie_in_flight -1\n",
        ] {
            assert!(text.contains(expected), "missing {expected:?} in\n{text}");
        }

        // Cumulative: a second scrape keeps counting from the first.
        counter.add(1, &[KeyValue::new("consumer", "inventory-training")]);
        let text = scrape.render().unwrap_or_default();
        assert!(
            text.contains("vigie_events_dead_letters_total{consumer=\"inventory-training\"} 3\n"),
            "{text}"
        );

        // After shutdown the scrape fails instead of showing stale figures.
        let _ = provider.shutdown();
        assert!(scrape.render().is_err());
    }

    #[test]
    fn a_reader_outside_any_provider_cannot_render() {
        assert!(Scrape::new().render().is_err());
    }
}
