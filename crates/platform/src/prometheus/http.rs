//! The HTTP side of the scrape endpoint: `GET /metrics`, nothing else.
//!
//! Bounded like every Vigie listener, since it may be bound to a pod address
//! for Prometheus to reach: a request's headers must arrive within
//! [`HEADER_TIMEOUT`], a connection lives at most [`MAX_CONNECTION_AGE`], at
//! most [`MAX_CONNECTIONS`] are served at once (the others wait in the
//! kernel's accept queue), request bodies are never read, and an accept
//! error pauses the loop: the listener of [`crate::http_listener`]. What it serves holds no
//! personal data (counts, durations, event types and consumer names:
//! docs/security.md), so it has no authentication; keep it off the public
//! network (NetworkPolicy, firewall).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::text::CONTENT_TYPE;
use super::Scrape;
use crate::http_listener::{self, HttpBounds};

/// Time allowed to send a request's headers (and to start the next one on a
/// kept-alive connection).
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest life of one connection (Prometheus reconnects at will).
pub const MAX_CONNECTION_AGE: Duration = Duration::from_secs(300);
/// Connections served at once: a few scrapers, and someone with curl.
pub const MAX_CONNECTIONS: usize = 16;
/// Largest request line and headers.
const MAX_BUF: usize = 8 * 1024;

/// Binds the scrape listener.
///
/// # Errors
/// The address cannot be bound (taken, not local…).
pub async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr).await
}

/// Serves `GET /metrics` from `scrape` on `listener` until `shutdown`.
pub async fn serve(listener: TcpListener, scrape: Scrape, shutdown: CancellationToken) {
    let bounds = HttpBounds {
        header_read_timeout: HEADER_TIMEOUT,
        max_connection_age: MAX_CONNECTION_AGE,
        max_connections: MAX_CONNECTIONS,
        max_buf: MAX_BUF,
    };
    http_listener::serve(listener, "metrics http", bounds, shutdown, move || {
        let scrape = scrape.clone();
        service_fn(move |request: Request<hyper::body::Incoming>| {
            let scrape = scrape.clone();
            async move { Ok::<_, Infallible>(answer(&scrape, request.method(), request.uri().path())) }
        })
    })
    .await;
}

/// The answer to one request.
fn answer(scrape: &Scrape, method: &Method, path: &str) -> Response<Full<Bytes>> {
    if path != "/metrics" {
        return plain(StatusCode::NOT_FOUND, "not found: the metrics are at /metrics\n");
    }
    if method != Method::GET {
        let mut response = plain(StatusCode::METHOD_NOT_ALLOWED, "only GET\n");
        response
            .headers_mut()
            .insert(hyper::header::ALLOW, hyper::header::HeaderValue::from_static("GET"));
        return response;
    }
    match scrape.render() {
        Ok(text) => Response::builder()
            .header("content-type", CONTENT_TYPE)
            .header("cache-control", "no-store")
            .body(Full::new(Bytes::from(text)))
            .unwrap_or_default(),
        Err(error) => {
            tracing::warn!(%error, "metrics could not be collected");
            plain(StatusCode::SERVICE_UNAVAILABLE, "metrics unavailable\n")
        }
    }
}

fn plain(status: StatusCode, text: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(text.as_bytes())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::metrics::MeterProvider as _;
    use opentelemetry_sdk::metrics::SdkMeterProvider;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    async fn request(addr: SocketAddr, raw: &str) -> String {
        let mut stream = TcpStream::connect(addr).await.unwrap_or_else(|e| panic!("{e}"));
        stream.write_all(raw.as_bytes()).await.unwrap_or_else(|e| panic!("{e}"));
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer).await;
        answer
    }

    #[tokio::test]
    async fn serves_metrics_and_nothing_else_over_real_http() {
        let scrape = Scrape::new();
        let provider = SdkMeterProvider::builder().with_reader(scrape.reader()).build();
        provider
            .meter("vigie")
            .u64_counter("vigie.test.hits")
            .build()
            .add(4, &[]);
        let listener = bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
        let stop = CancellationToken::new();
        let server = tokio::spawn(serve(listener, scrape, stop.clone()));

        let ok = request(addr, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await;
        assert!(ok.starts_with("HTTP/1.1 200 OK\r\n"), "{ok}");
        assert!(
            ok.contains("content-type: text/plain; version=0.0.4; charset=utf-8\r\n"),
            "{ok}"
        );
        assert!(
            ok.contains("\r\n\r\n# TYPE vigie_test_hits_total counter\nvigie_test_hits_total 4\n"),
            "{ok}"
        );

        let missing = request(addr, "GET /admin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await;
        assert!(missing.starts_with("HTTP/1.1 404"), "{missing}");
        let post = request(
            addr,
            "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc",
        )
        .await;
        assert!(post.starts_with("HTTP/1.1 405"), "{post}");
        assert!(post.contains("allow: GET\r\n"), "{post}");
        // Oversized headers are refused, not buffered.
        let huge = format!(
            "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
            "a".repeat(MAX_BUF * 2)
        );
        let refused = request(addr, &huge).await;
        assert!(!refused.starts_with("HTTP/1.1 200"), "{refused}");

        // The provider gone, the endpoint says so instead of serving nothing.
        let _ = provider.shutdown();
        let gone = request(addr, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await;
        assert!(gone.starts_with("HTTP/1.1 503"), "{gone}");

        stop.cancel();
        let _ = server.await;
    }
}
