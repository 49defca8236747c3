//! Logs and traces: `tracing` everywhere, exported over OTLP when asked.
//!
//! Configuration follows the OpenTelemetry standard variables, so operators
//! use what they already know: OTLP export is on when
//! `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is
//! set; `OTEL_SERVICE_NAME` overrides the service name. Log verbosity comes
//! from `RUST_LOG` (default `info`). The W3C trace-context propagator is
//! installed globally in every case, so `traceparent` travels across gRPC and
//! NATS even without an exporter.
//!
//! Metrics go to OTLP with the traces, and/or to a Prometheus scrape endpoint
//! when a server asks for one ([`Telemetry::enable_scrape`], `vigie serve
//! --metrics-listen`). Without either, no meter provider is installed and
//! every instrument is a no-op.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// Keeps the exporter alive; call [`Telemetry::shutdown`] last, after every
/// task has stopped, so the final spans are flushed.
#[must_use = "dropping the guard loses the last spans; call shutdown() at exit"]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
    meters: Option<SdkMeterProvider>,
    service_name: String,
    exporting: bool,
}

impl Telemetry {
    /// Whether metrics go anywhere (OTLP or a scrape endpoint): without
    /// that, samplers that only feed instruments can be left out.
    pub fn metrics_enabled(&self) -> bool {
        self.meters.is_some()
    }

    /// Installs the global meter provider again, with a reader for the
    /// Prometheus scrape endpoint besides the OTLP export (when that is on),
    /// and returns the reader's handle to serve.
    ///
    /// Call it before anything creates an instrument (relays, consumers,
    /// gRPC layers…): instruments keep the provider they were created from.
    /// The provider it replaces (OTLP only) had recorded nothing yet.
    pub fn enable_scrape(&mut self) -> crate::prometheus::Scrape {
        let scrape = crate::prometheus::Scrape::new();
        let mut builder = SdkMeterProvider::builder()
            .with_resource(resource(&self.service_name))
            .with_reader(scrape.reader());
        if self.exporting {
            if let Some(exporter) = otlp_metric_exporter() {
                builder = builder.with_periodic_exporter(exporter);
            }
        }
        let meters = builder.build();
        opentelemetry::global::set_meter_provider(meters.clone());
        if let Some(previous) = self.meters.replace(meters) {
            let _ = previous.shutdown();
        }
        scrape
    }

    /// Flushes and stops the exporters (no-op without one).
    pub fn shutdown(self) {
        if let Some(provider) = self.provider {
            if let Err(error) = provider.shutdown() {
                eprintln!("opentelemetry: flush of traces at exit failed: {error}");
            }
        }
        if let Some(meters) = self.meters {
            if let Err(error) = meters.shutdown() {
                eprintln!("opentelemetry: flush of metrics at exit failed: {error}");
            }
        }
    }
}

/// Installs the global subscriber: human-readable logs on stderr and, when
/// configured, OTLP trace export.
///
/// `default_filter` applies when `RUST_LOG` is unset (e.g. `info` for servers,
/// `warn` for CLI commands so their output stays clean). Calling it twice is
/// harmless (the second call keeps the first subscriber).
pub fn init(service_name: &str, default_filter: &str) -> Telemetry {
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_filter(filter);

    // A tracer provider is installed even without an exporter: spans then
    // carry a real trace context, so an incoming `traceparent` is still
    // propagated to the events a request causes.
    let exporting = ["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]
        .iter()
        .any(|var| std::env::var_os(var).is_some_and(|value| !value.is_empty()));
    let provider = tracer_provider(service_name, exporting);
    let meters = exporting.then(|| meter_provider(service_name)).flatten();
    if let Some(meters) = &meters {
        opentelemetry::global::set_meter_provider(meters.clone());
    }
    let otel = tracing_opentelemetry::layer()
        .with_tracer(provider.tracer("vigie"))
        .with_filter(EnvFilter::new("info"));
    opentelemetry::global::set_tracer_provider(provider.clone());
    // try_init: a test binary or an embedding program may already have one.
    let _ = tracing_subscriber::registry().with(fmt).with(otel).try_init();
    Telemetry {
        provider: Some(provider),
        meters,
        service_name: service_name.to_owned(),
        exporting,
    }
}

fn resource(service_name: &str) -> opentelemetry_sdk::Resource {
    let name = std::env::var("OTEL_SERVICE_NAME").unwrap_or_else(|_| service_name.to_owned());
    opentelemetry_sdk::Resource::builder().with_service_name(name).build()
}

/// Metrics (events published/consumed/failed, gRPC latency) are exported
/// with the traces, every 60 s (`OTEL_METRIC_EXPORT_INTERVAL` to change).
fn meter_provider(service_name: &str) -> Option<SdkMeterProvider> {
    otlp_metric_exporter().map(|exporter| {
        SdkMeterProvider::builder()
            .with_periodic_exporter(exporter)
            .with_resource(resource(service_name))
            .build()
    })
}

fn otlp_metric_exporter() -> Option<opentelemetry_otlp::MetricExporter> {
    match opentelemetry_otlp::MetricExporter::builder().with_tonic().build() {
        Ok(exporter) => Some(exporter),
        Err(error) => {
            eprintln!("opentelemetry: OTLP metrics exporter not started: {error}");
            None
        }
    }
}

fn tracer_provider(service_name: &str, exporting: bool) -> SdkTracerProvider {
    let builder = SdkTracerProvider::builder().with_resource(resource(service_name));
    if !exporting {
        return builder.build();
    }
    match opentelemetry_otlp::SpanExporter::builder().with_tonic().build() {
        Ok(exporter) => builder.with_batch_exporter(exporter).build(),
        Err(error) => {
            eprintln!("opentelemetry: OTLP exporter not started: {error}");
            builder.build()
        }
    }
}
