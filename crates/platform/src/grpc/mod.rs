//! gRPC server bootstrap shared by every service.
//!
//! Every Vigie server exposes `grpc.health.v1` (with one status per service it
//! hosts, so a load balancer or a test can wait on readiness) and server
//! reflection (so `grpcurl` works without the .proto files). Incoming W3C
//! `traceparent` metadata becomes the parent of the request span, so one trace
//! spans gRPC → outbox → NATS → consumer. Every call's latency is recorded
//! in the `vigie.rpc.duration` histogram. Every call but health and
//! reflection goes through the [`AuthLayer`] given to [`serve`] (OIDC tokens,
//! or the local development identity of `vigie dev`).
//!
//! Transport: TLS (optionally mutual) when [`ServeOptions::tls`] is set
//! ([`tls`]), `TCP_NODELAY` on every accepted socket ([`incoming`]), and the
//! explicit bounds of [`GrpcLimits`] (requests in flight, per connection and
//! in all, and time per request). Message size limits belong to each
//! generated service server: apply [`GrpcLimits::max_request_bytes`] and
//! [`GrpcLimits::max_response_bytes`] where the routes are built. Clients
//! connect through [`client`]; adapters read request fields with [`fields`].

pub mod client;
pub mod encoded;
pub mod fields;
mod incoming;
mod limits;
mod metrics;
pub mod tls;

use std::net::SocketAddr;

use opentelemetry::propagation::Extractor;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::service::Routes;
use tonic_health::ServingStatus;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::auth::AuthLayer;

pub use incoming::incoming;
pub use limits::{GrpcLimits, CLIENT_MAX_REQUEST_BYTES, CLIENT_MAX_RESPONSE_BYTES};
pub use tls::{ServerTls, TlsError};

/// How a server is exposed, beyond its routes.
#[derive(Debug, Clone, Default)]
pub struct ServeOptions {
    /// TLS; `None` serves HTTP/2 in cleartext (loopback, or behind a mesh
    /// that terminates TLS).
    pub tls: Option<ServerTls>,
    /// Concurrency and time bounds.
    pub limits: GrpcLimits,
}

/// Errors of the gRPC bootstrap.
#[derive(Debug, thiserror::Error)]
pub enum GrpcError {
    /// The listen address could not be bound.
    #[error("impossible d'écouter sur {addr} : {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// Reflection could not be built from the descriptor set.
    #[error("réflexion gRPC : {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
    /// The server failed while serving.
    #[error("serveur gRPC : {0}")]
    Transport(#[from] tonic::transport::Error),
}

/// Binds `addr` (port 0 picks a free port: tests use it).
///
/// # Errors
/// [`GrpcError::Bind`] when the address is taken or not local.
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, GrpcError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| GrpcError::Bind { addr, source })
}

/// Serves `routes` plus health and reflection on `listener` until `shutdown`
/// is cancelled, then drains in-flight requests.
///
/// `served` names the fully qualified gRPC services hosted (e.g.
/// `vigie.inventory.v1.InventoryService`); each is reported `SERVING`.
/// `auth` authenticates every call (health and reflection stay open); it
/// sits inside the metrics layer, so refused calls are measured too.
/// `options` adds TLS and the bounds; requests above a concurrency bound are
/// refused at once with `RESOURCE_EXHAUSTED` rather than queued, and a
/// request past its time gets `CANCELLED`.
///
/// # Errors
/// [`GrpcError`] when reflection cannot be built or the transport fails.
pub async fn serve(
    listener: TcpListener,
    routes: Routes,
    served: &[&str],
    auth: AuthLayer,
    options: ServeOptions,
    shutdown: CancellationToken,
) -> Result<(), GrpcError> {
    let (reporter, health) = tonic_health::server::health_reporter();
    for name in served {
        reporter.set_service_status(*name, ServingStatus::Serving).await;
    }
    // Both reflection versions: Python's grpcio reflection client, older
    // grpcurl and GUI clients speak only `v1alpha`.
    let reflection = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(vigie_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
    };
    let routes = routes
        .add_service(health)
        .add_service(reflection().build_v1()?)
        .add_service(reflection().build_v1alpha()?);
    let local = listener.local_addr().ok();
    let limits = &options.limits;
    tracing::info!(
        addr = ?local,
        tls = options.tls.is_some(),
        mutual_tls = options.tls.as_ref().is_some_and(ServerTls::is_mutual),
        "grpc server listening"
    );
    let mut server = tonic::transport::Server::builder();
    if let Some(tls) = &options.tls {
        server = server.tls_config(tls.config())?;
    }
    server
        .timeout(limits.request_timeout())
        .concurrency_limit_per_connection(limits.max_concurrent_requests_per_connection)
        // Refuse above a bound (RESOURCE_EXHAUSTED) instead of queueing
        // without end; applies to both concurrency limits.
        .load_shed(true)
        .trace_fn(request_span)
        // One semaphore shared by every connection: the process-wide bound.
        .layer(tower::limit::ConcurrencyLimitLayer::new(limits.max_concurrent_requests))
        .layer(metrics::RpcMetricsLayer::new(served))
        .layer(auth)
        .add_routes(routes)
        .serve_with_incoming_shutdown(incoming(listener), shutdown.cancelled_owned())
        .await?;
    tracing::info!("grpc server stopped");
    Ok(())
}

/// One span per request, named after the gRPC method (low cardinality),
/// continuing the caller's trace when it sent a `traceparent`.
fn request_span(request: &http::Request<()>) -> tracing::Span {
    let span = tracing::info_span!(
        "grpc.request",
        otel.kind = "server",
        rpc.method = %request.uri().path(),
    );
    let parent = opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.extract(&HeaderExtractor(request.headers()))
    });
    let _ = span.set_parent(parent);
    span
}

struct HeaderExtractor<'a>(&'a http::HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|value| value.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}
