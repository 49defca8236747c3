//! A real OTLP/gRPC receiver on loopback: what an OpenTelemetry collector
//! sees of a process that exports its traces and metrics.
//!
//! Built from `opentelemetry-proto`'s generated tonic servers (`TraceService`,
//! `MetricsService`), so the exporters under test speak the real protocol
//! over a real HTTP/2 connection. Every export request is kept; tests read
//! them flattened into [`ReceivedSpan`]s and [`ReceivedMetric`]s (with the
//! `service.name` of the resource that sent them), or as the raw requests.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::{
    MetricsService, MetricsServiceServer,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{ExportMetricsServiceRequest, ExportMetricsServiceResponse};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{TraceService, TraceServiceServer};
use opentelemetry_proto::tonic::collector::trace::v1::{ExportTraceServiceRequest, ExportTraceServiceResponse};
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue};
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use opentelemetry_proto::tonic::resource::v1::Resource;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::{Request, Response, Status};

/// One span as received, with the service that exported it. Ids are
/// lower-case hex, as in a W3C `traceparent`; `parent_span_id` is empty for
/// a root span.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedSpan {
    /// `service.name` of the exporting resource.
    pub service: String,
    /// Span name.
    pub name: String,
    /// Trace id (32 hex digits).
    pub trace_id: String,
    /// Span id (16 hex digits).
    pub span_id: String,
    /// Parent span id (16 hex digits), empty for a root.
    pub parent_span_id: String,
    /// OTLP span kind (1 internal, 2 server, 3 client, 4 producer, 5 consumer).
    pub kind: i32,
    /// Attributes, values rendered as text.
    pub attributes: Vec<(String, String)>,
}

impl ReceivedSpan {
    /// The value of attribute `key`, rendered as text.
    pub fn attribute(&self, key: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(name, _)| name == key)
            .map(|(_, value)| value.as_str())
    }
}

/// One metric as received in one export, with the service that exported it.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedMetric {
    /// `service.name` of the exporting resource.
    pub service: String,
    /// Instrument name, e.g. `vigie.events.published`.
    pub name: String,
    /// Number of data points (one per attribute set).
    pub points: usize,
    /// Attribute sets of the data points, values rendered as text.
    pub attributes: Vec<Vec<(String, String)>>,
}

#[derive(Default)]
struct Received {
    traces: Vec<ExportTraceServiceRequest>,
    metrics: Vec<ExportMetricsServiceRequest>,
}

type Shared = Arc<Mutex<Received>>;

/// A running receiver; stops when dropped.
pub struct OtlpReceiver {
    endpoint: String,
    received: Shared,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl OtlpReceiver {
    /// Starts a receiver on a free loopback port.
    ///
    /// # Panics
    /// When no loopback port can be bound (a broken test machine).
    pub async fn start() -> OtlpReceiver {
        let (listener, addr) = match bind().await {
            Ok(bound) => bound,
            Err(error) => panic!("cannot start the OTLP receiver: {error}"),
        };
        let received = Shared::default();
        let (stop, stopped) = oneshot::channel::<()>();
        let routes = tonic::transport::Server::builder()
            .add_service(TraceServiceServer::new(Collector(received.clone())))
            .add_service(MetricsServiceServer::new(Collector(received.clone())));
        let task = tokio::spawn(async move {
            let incoming = TcpListenerStream::new(listener);
            let shutdown = async {
                let _ = stopped.await;
            };
            if let Err(error) = routes.serve_with_incoming_shutdown(incoming, shutdown).await {
                eprintln!("OTLP receiver stopped: {error}");
            }
        });
        OtlpReceiver {
            endpoint: format!("http://{addr}"),
            received,
            stop: Some(stop),
            task,
        }
    }

    /// The value for `OTEL_EXPORTER_OTLP_ENDPOINT`, e.g. `http://127.0.0.1:4317`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Every span received so far, in arrival order.
    pub fn spans(&self) -> Vec<ReceivedSpan> {
        let received = self.lock();
        let mut spans = Vec::new();
        for request in &received.traces {
            for resource_spans in &request.resource_spans {
                let service = service_name(resource_spans.resource.as_ref());
                for scope in &resource_spans.scope_spans {
                    spans.extend(scope.spans.iter().map(|span| ReceivedSpan {
                        service: service.clone(),
                        name: span.name.clone(),
                        trace_id: hex(&span.trace_id),
                        span_id: hex(&span.span_id),
                        parent_span_id: hex(&span.parent_span_id),
                        kind: span.kind,
                        attributes: texts(&span.attributes),
                    }));
                }
            }
        }
        spans
    }

    /// Every metric of every export received so far, in arrival order (a
    /// periodic exporter sends each instrument again at every interval).
    pub fn metrics(&self) -> Vec<ReceivedMetric> {
        let received = self.lock();
        let mut metrics = Vec::new();
        for request in &received.metrics {
            for resource_metrics in &request.resource_metrics {
                let service = service_name(resource_metrics.resource.as_ref());
                for scope in &resource_metrics.scope_metrics {
                    metrics.extend(scope.metrics.iter().map(|metric| {
                        let attributes = point_attributes(metric.data.as_ref());
                        ReceivedMetric {
                            service: service.clone(),
                            name: metric.name.clone(),
                            points: attributes.len(),
                            attributes,
                        }
                    }));
                }
            }
        }
        metrics
    }

    /// The raw trace export requests received so far.
    pub fn trace_requests(&self) -> Vec<ExportTraceServiceRequest> {
        self.lock().traces.clone()
    }

    /// The raw metrics export requests received so far.
    pub fn metrics_requests(&self) -> Vec<ExportMetricsServiceRequest> {
        self.lock().metrics.clone()
    }

    fn lock(&self) -> MutexGuard<'_, Received> {
        // A panicking test thread cannot leave the lists half-written (each
        // push is one step): the data stays usable.
        self.received.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Drop for OtlpReceiver {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.task.abort();
    }
}

async fn bind() -> std::io::Result<(TcpListener, SocketAddr)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    Ok((listener, addr))
}

struct Collector(Shared);

impl Collector {
    fn lock(&self) -> MutexGuard<'_, Received> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[tonic::async_trait]
impl TraceService for Collector {
    async fn export(
        &self,
        request: Request<ExportTraceServiceRequest>,
    ) -> Result<Response<ExportTraceServiceResponse>, Status> {
        self.lock().traces.push(request.into_inner());
        Ok(Response::new(ExportTraceServiceResponse { partial_success: None }))
    }
}

#[tonic::async_trait]
impl MetricsService for Collector {
    async fn export(
        &self,
        request: Request<ExportMetricsServiceRequest>,
    ) -> Result<Response<ExportMetricsServiceResponse>, Status> {
        self.lock().metrics.push(request.into_inner());
        Ok(Response::new(ExportMetricsServiceResponse { partial_success: None }))
    }
}

fn service_name(resource: Option<&Resource>) -> String {
    resource
        .and_then(|resource| {
            resource
                .attributes
                .iter()
                .find(|attribute| attribute.key == "service.name")
        })
        .map(|attribute| text(attribute.value.as_ref()))
        .unwrap_or_default()
}

fn point_attributes(data: Option<&Data>) -> Vec<Vec<(String, String)>> {
    match data {
        Some(Data::Gauge(gauge)) => gauge.data_points.iter().map(|p| texts(&p.attributes)).collect(),
        Some(Data::Sum(sum)) => sum.data_points.iter().map(|p| texts(&p.attributes)).collect(),
        Some(Data::Histogram(histogram)) => histogram.data_points.iter().map(|p| texts(&p.attributes)).collect(),
        Some(Data::ExponentialHistogram(histogram)) => {
            histogram.data_points.iter().map(|p| texts(&p.attributes)).collect()
        }
        Some(Data::Summary(summary)) => summary.data_points.iter().map(|p| texts(&p.attributes)).collect(),
        None => Vec::new(),
    }
}

fn texts(attributes: &[KeyValue]) -> Vec<(String, String)> {
    attributes
        .iter()
        .map(|attribute| (attribute.key.clone(), text(attribute.value.as_ref())))
        .collect()
}

fn text(value: Option<&AnyValue>) -> String {
    match value.and_then(|value| value.value.as_ref()) {
        Some(Value::StringValue(s)) => s.clone(),
        Some(Value::BoolValue(b)) => b.to_string(),
        Some(Value::IntValue(i)) => i.to_string(),
        Some(Value::DoubleValue(d)) => d.to_string(),
        Some(other) => format!("{other:?}"),
        None => String::new(),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
    use opentelemetry_proto::tonic::resource::v1::Resource;
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};

    fn string(key: &str, value: &str) -> KeyValue {
        KeyValue {
            key: key.to_owned(),
            value: Some(AnyValue {
                value: Some(Value::StringValue(value.to_owned())),
            }),
        }
    }

    #[tokio::test]
    async fn keeps_the_spans_a_client_exports() {
        let receiver = OtlpReceiver::start().await;
        let mut client = TraceServiceClient::connect(receiver.endpoint().to_owned())
            .await
            .unwrap();
        let span = Span {
            trace_id: vec![0xab; 16],
            span_id: vec![0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08],
            parent_span_id: Vec::new(),
            name: "grpc.request".to_owned(),
            kind: 2,
            attributes: vec![string("rpc.method", "/x.v1.X/Y")],
            ..Default::default()
        };
        client
            .export(ExportTraceServiceRequest {
                resource_spans: vec![ResourceSpans {
                    resource: Some(Resource {
                        attributes: vec![string("service.name", "vigie-training")],
                        ..Default::default()
                    }),
                    scope_spans: vec![ScopeSpans {
                        spans: vec![span],
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
            })
            .await
            .unwrap();

        let spans = receiver.spans();
        assert_eq!(spans.len(), 1);
        assert_eq!(spans[0].service, "vigie-training");
        assert_eq!(spans[0].name, "grpc.request");
        assert_eq!(spans[0].trace_id, "ab".repeat(16));
        assert_eq!(spans[0].span_id, "0102030405060708");
        assert_eq!(spans[0].parent_span_id, "");
        assert_eq!(spans[0].attribute("rpc.method"), Some("/x.v1.X/Y"));
        assert_eq!(receiver.trace_requests().len(), 1);
        assert!(receiver.metrics().is_empty());
    }
}
