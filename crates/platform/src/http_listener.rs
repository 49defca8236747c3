//! The bounded HTTP/1 listener of Vigie's plain HTTP endpoints (the
//! `/metrics` scrape, the alerting service's public links): one accept loop
//! and one connection life for both, so their bounds cannot drift apart.
//!
//! At most [`HttpBounds::max_connections`] connections are served at once:
//! a slot is taken before each accept, so beyond the cap new clients wait in
//! the kernel's accept queue until a connection ends. A request's headers
//! must arrive within [`HttpBounds::header_read_timeout`] (hyper closes the
//! connection otherwise, also between keep-alive requests), and a connection
//! lives at most [`HttpBounds::max_connection_age`], then ends after the
//! request in flight. An accept error pauses the loop
//! ([`crate::net::AcceptBackoff`]), except one that concerns the connection
//! being accepted only ([`crate::net::concerns_one_connection`]).

use std::error::Error as StdError;
use std::sync::Arc;
use std::time::Duration;

use hyper::body::{Body, Incoming};
use hyper::server::conn::http1;
use hyper::service::HttpService;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::net::{concerns_one_connection, AcceptBackoff};

/// Time left to a connection past its age limit to finish the request in flight.
const GRACE: Duration = Duration::from_secs(5);

/// The bounds of one HTTP/1 listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpBounds {
    /// Time allowed to send a request's headers (and to start the next one
    /// on a kept-alive connection).
    pub header_read_timeout: Duration,
    /// Longest life of one connection, whatever it does.
    pub max_connection_age: Duration,
    /// Connections served at once (at least one).
    pub max_connections: usize,
    /// Largest buffer of a connection (request line and headers).
    pub max_buf: usize,
}

/// Serves the connections of `listener` within `bounds` until `shutdown`,
/// each with the service `service_for` makes for it. `name` starts the log
/// lines of the accept loop (`metrics http`, `alerting http`).
pub async fn serve<F, S>(
    listener: TcpListener,
    name: &'static str,
    bounds: HttpBounds,
    shutdown: CancellationToken,
    mut service_for: F,
) where
    F: FnMut() -> S,
    S: HttpService<Incoming> + Send + 'static,
    S::Future: Send,
    S::ResBody: Send + 'static,
    <S::ResBody as Body>::Data: Send,
    <S::ResBody as Body>::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    let slots = Arc::new(Semaphore::new(bounds.max_connections.max(1)));
    let mut backoff = AcceptBackoff::default();
    let mut connections = JoinSet::new();
    loop {
        let slot = tokio::select! {
            _ = shutdown.cancelled() => break,
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
        };
        let stream = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let errors = backoff.succeeded();
                    if errors > 0 {
                        tracing::info!(errors, "{name}: accepting again after accept errors");
                    }
                    stream
                }
                Err(error) => {
                    if concerns_one_connection(&error) {
                        continue;
                    }
                    let pause = backoff.failed();
                    if pause.first_of_burst {
                        tracing::warn!(%error, "{name}: accept failed, backing off");
                    }
                    tokio::select! {
                        _ = shutdown.cancelled() => break,
                        _ = tokio::time::sleep(pause.delay) => continue,
                    }
                }
            },
        };
        let service = service_for();
        connections.spawn(async move {
            serve_connection(stream, service, bounds).await;
            drop(slot);
        });
        while connections.try_join_next().is_some() {}
    }
}

/// Serves one connection until the client closes it, the header timeout
/// fires, or it reaches its age limit (then it ends after the request in flight).
async fn serve_connection<S>(stream: TcpStream, service: S, bounds: HttpBounds)
where
    S: HttpService<Incoming>,
    S::ResBody: 'static,
    <S::ResBody as Body>::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(bounds.header_read_timeout)
        .max_buf_size(bounds.max_buf);
    let connection = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(connection);
    tokio::select! {
        _ = connection.as_mut() => {}
        _ = tokio::time::sleep(bounds.max_connection_age) => {
            connection.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(GRACE, connection).await;
        }
    }
}
