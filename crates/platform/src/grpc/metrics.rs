//! `rpc.server.duration`: latency of every gRPC call, as an OpenTelemetry
//! histogram (seconds), exported with the other metrics when OTLP is on.
//!
//! Labels stay low-cardinality: the method is recorded only for the services
//! this server hosts and when the method exists (a client could otherwise
//! create one time series per invented path); everything else is `other`.

use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use futures::future::BoxFuture;
use opentelemetry::metrics::Histogram;
use opentelemetry::KeyValue;
use tower::{Layer, Service};

/// gRPC status code `UNIMPLEMENTED`.
const UNIMPLEMENTED: &str = "12";

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
            .f64_histogram("rpc.server.duration")
            .with_unit("s")
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
            histogram.record(started.elapsed().as_secs_f64(), &[KeyValue::new("rpc.method", method)]);
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
