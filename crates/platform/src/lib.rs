//! The platform kit every Vigie service is built on.
//!
//! - [`config`]: typed, layered configuration (defaults → file → `VIGIE_*` env → flags);
//! - [`telemetry`]: `tracing` logs and OpenTelemetry export;
//! - [`prometheus`]: the `/metrics` scrape endpoint (same instruments as the OTLP export);
//! - [`grpc`]: gRPC server bootstrap with health and reflection;
//! - [`http_listener`]: the bounded HTTP/1 listener of the plain HTTP endpoints (metrics, alerting links);
//! - [`db`]: one storage layer over PostgreSQL and SQLite;
//! - [`events`]: the event backbone (transactional outbox, relay, idempotent
//!   consumers, CloudEvents over NATS JetStream or in-process delivery);
//! - [`service`]: a service's description of itself (name, gRPC service,
//!   consumers), composed by `vigie dev`, `vigie serve` and the test harnesses;
//! - [`shutdown`]: graceful shutdown on signals;
//! - [`redact`]: passwords removed from URLs before they are shown;
//! - [`net`]: what counts as a loopback host (cleartext is only ever allowed there);
//! - [`words`]: words people read, in French and English, carried by gRPC statuses.
//! - `testing` (feature `testing`): helpers of the services' contract suites.

pub mod auth;
pub mod config;
pub mod db;
pub mod events;
pub mod grpc;
pub mod http_listener;
pub mod https;
pub mod net;
pub mod prometheus;
pub mod redact;
pub mod service;
pub mod shutdown;
pub mod telemetry;
#[cfg(feature = "testing")]
pub mod testing;
pub mod words;

/// `vigie_platform::words!`, as services have always written it.
pub use vigie_words::words;
