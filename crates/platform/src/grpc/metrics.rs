//! `vigie.rpc.duration`: latency of every gRPC call, as an OpenTelemetry
//! histogram (seconds), exported with the other metrics (OTLP, and
//! `vigie_rpc_duration_seconds` on the Prometheus endpoint).
//!
//! Named in the `vigie.` namespace like every other Vigie instrument (one
//! prefix to find them all in Prometheus), rather than the semantic
//! convention's `rpc.server.duration`, whose unit changed across versions.
//! Buckets from 1 ms to 10 s: the SDK's default ones are made for
//! milliseconds and would put every call in the first bucket.
//!
//! Labels stay low-cardinality: the method is recorded only for the services
//! this server hosts and when the method exists (a client could otherwise
//! create one time series per invented path); everything else is `other`.
//! `rpc.grpc.status_code` is the gRPC status code (17 values).

use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use futures::future::BoxFuture;
use opentelemetry::metrics::Histogram;
use opentelemetry::KeyValue;
use tower::{Layer, Service};

/// gRPC status code `UNIMPLEMENTED`.
const UNIMPLEMENTED: &str = "12";
/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Adds latency measurement to a service.
#[derive(Clone)]
pub struct RpcMetricsLayer {
    histogram: Histogram<f64>,
    services: Arc<Vec<String>>,
}

impl RpcMetricsLayer {
    /// Measures calls, labelling those of `services` (fully qualified gRPC
    /// service names) with their method.
    pub fn new(services: &[&str]) -> Self {
        let histogram = opentelemetry::global::meter("vigie")
            .f64_histogram("vigie.rpc.duration")
            .with_unit("s")
            .with_boundaries(BUCKETS.to_vec())
            .with_description("Duration of gRPC calls handled by the server")
            .build();
        RpcMetricsLayer {
            histogram,
            services: Arc::new(services.iter().map(|s| (*s).to_owned()).collect()),
        }
    }
}

impl<S> Layer<S> for RpcMetricsLayer {
    type Service = RpcMetrics<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RpcMetrics {
            inner,
            layer: self.clone(),
        }
    }
}

/// The measuring service.
#[derive(Clone)]
pub struct RpcMetrics<S> {
    inner: S,
    layer: RpcMetricsLayer,
}

impl<S, B, R> Service<http::Request<B>> for RpcMetrics<S>
where
    S: Service<http::Request<B>, Response = http::Response<R>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let path = request.uri().path().to_owned();
        let known = self.layer.services.iter().any(|s| {
            path.strip_prefix('/')
                .and_then(|p| p.strip_prefix(s.as_str()))
                .is_some_and(|rest| rest.starts_with('/'))
        });
        let histogram = self.layer.histogram.clone();
        let started = Instant::now();
        let future = self.inner.call(request);
        Box::pin(async move {
            let result = future.await;
            let status = result
                .as_ref()
                .ok()
                .and_then(|response| response.headers().get("grpc-status"))
                .and_then(|value| value.to_str().ok())
                .unwrap_or("0")
                .to_owned();
            let method = if known && status != UNIMPLEMENTED {
                path
            } else {
                "other".to_owned()
            };
            // A status outside the 17 codes would be a broken server: folded, not a new series.
            let status = if status.len() <= 2 && status.bytes().all(|b| b.is_ascii_digit()) {
                status
            } else {
                "other".to_owned()
            };
            histogram.record(
                started.elapsed().as_secs_f64(),
                &[
                    KeyValue::new("rpc.method", method),
                    KeyValue::new("rpc.grpc.status_code", status),
                ],
            );
            result
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::convert::Infallible;

    #[tokio::test]
    async fn passes_requests_and_responses_through() {
        let inner = tower::service_fn(|request: http::Request<()>| async move {
            Ok::<_, Infallible>(http::Response::new(request.uri().path().to_owned()))
        });
        let mut service = RpcMetricsLayer::new(&["vigie.inventory.v1.InventoryService"]).layer(inner);
        let request = http::Request::builder()
            .uri("/vigie.inventory.v1.InventoryService/GetFragility")
            .body(())
            .unwrap_or_default();
        let response = service.call(request).await.unwrap_or_else(|never| match never {});
        assert_eq!(response.body(), "/vigie.inventory.v1.InventoryService/GetFragility");
    }
}
