//! The public HTTP endpoints under hostile clients, on real loopback sockets:
//! half-sent requests are closed after the header timeout while others are
//! served, the connection cap makes new clients wait (not fail) until a slot
//! frees, and pages carry their security headers. Every wait is bounded.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{ensure, Context as _, Result};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use vigie_alerting::app::{AlertingApp, AlertingSettings};
use vigie_alerting::channels::links::AckAction;
use vigie_alerting::http::{serve_with, HttpLimits};
use vigie_platform::db::Db;

/// Longest wait of any step: a failure shows as an error, never a hang.
const BOUND: Duration = Duration::from_secs(20);

/// An alerting service on a fresh SQLite file, its endpoints on a free loopback port.
struct Endpoints {
    addr: SocketAddr,
    app: AlertingApp,
    shutdown: CancellationToken,
    _dir: tempfile::TempDir,
}

impl Drop for Endpoints {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

async fn start(limits: HttpLimits) -> Result<Endpoints> {
    vigie_testkit::init_test_logging();
    let dir = tempfile::tempdir()?;
    let db = Db::connect(&vigie_testkit::sqlite_url(dir.path(), "alerting")).await?;
    vigie_alerting::service::migrate(&db).await?;
    let listener = vigie_alerting::http::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    let addr = listener.local_addr()?;
    let app = AlertingApp::new(
        db,
        AlertingSettings::local(
            format!("http://{addr}"),
            b"http-test-secret-of-32-bytes-or-more".to_vec(),
        ),
        Arc::new(Notify::new()),
    );
    let shutdown = CancellationToken::new();
    tokio::spawn(serve_with(listener, app.clone(), limits, shutdown.clone()));
    Ok(Endpoints {
        addr,
        app,
        shutdown,
        _dir: dir,
    })
}

/// Reads from `stream` until `done` says the bytes so far are a whole answer
/// (or the peer closes); returns them.
async fn read_until(stream: &mut TcpStream, done: impl Fn(&[u8]) -> bool) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    let mut buf = [0u8; 4096];
    while !done(&bytes) {
        let n = tokio::time::timeout(BOUND, stream.read(&mut buf))
            .await
            .context("no answer in time")??;
        if n == 0 {
            break;
        }
        bytes.extend_from_slice(&buf[..n]);
    }
    Ok(bytes)
}

/// One `GET path` on a new connection closed after the answer: the status
/// line and headers (lowercase names), and the body.
async fn get(addr: SocketAddr, path: &str) -> Result<(String, Vec<(String, String)>, String)> {
    let mut stream = tokio::time::timeout(BOUND, TcpStream::connect(addr)).await??;
    stream
        .write_all(format!("GET {path} HTTP/1.1\r\nHost: vigie.test\r\nConnection: close\r\n\r\n").as_bytes())
        .await?;
    let answer = String::from_utf8(read_until(&mut stream, |_| false).await?)?;
    let (head, body) = answer.split_once("\r\n\r\n").context("no header end")?;
    let mut lines = head.lines();
    let status = lines.next().unwrap_or_default().to_owned();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Ok((status, headers, body.to_owned()))
}

const HEALTH: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: vigie.test\r\n\r\n";

fn is_health_answer(bytes: &[u8]) -> bool {
    bytes.ends_with(b"\r\n\r\nok")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_sent_requests_are_closed_after_the_header_timeout_while_others_are_served() -> Result<()> {
    ensure!(HttpLimits::default().header_read_timeout <= Duration::from_secs(10));
    let timeout = Duration::from_secs(2);
    let endpoints = start(HttpLimits {
        header_read_timeout: timeout,
        ..HttpLimits::default()
    })
    .await?;
    // 200 clients send part of their headers, then stall.
    let started = Instant::now();
    let mut stalled = Vec::new();
    for _ in 0..200 {
        let mut stream = TcpStream::connect(endpoints.addr).await?;
        stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: vig").await?;
        stalled.push(stream);
    }
    // Meanwhile a normal request is answered, well before the timeout.
    let (status, _, body) = get(endpoints.addr, "/healthz").await?;
    ensure!(status.contains(" 200 ") && body == "ok", "{status} {body}");
    ensure!(
        started.elapsed() < timeout,
        "answered only after {:?}",
        started.elapsed()
    );
    // Every stalled connection is closed by the server after the timeout.
    for (index, stream) in stalled.iter_mut().enumerate() {
        let mut buf = [0u8; 1024];
        loop {
            match tokio::time::timeout(BOUND, stream.read(&mut buf)).await {
                Err(_) => anyhow::bail!("stalled connection {index} still open after {BOUND:?}"),
                Ok(Ok(0)) | Ok(Err(_)) => break,
                // An error page before the close is fine.
                Ok(Ok(_)) => continue,
            }
        }
    }
    let elapsed = started.elapsed();
    ensure!(elapsed >= timeout, "closed before the timeout: {elapsed:?}");
    ensure!(elapsed < timeout + Duration::from_secs(10), "closed late: {elapsed:?}");
    // And the service still answers.
    let (status, _, _) = get(endpoints.addr, "/healthz").await?;
    ensure!(status.contains(" 200 "), "{status}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_the_connection_cap_a_new_client_waits_and_is_served_once_another_closes() -> Result<()> {
    let endpoints = start(HttpLimits {
        max_connections: 4,
        header_read_timeout: Duration::from_secs(60),
        ..HttpLimits::default()
    })
    .await?;
    // Four kept-alive connections, each answered once: they hold the four slots.
    let mut held = Vec::new();
    for _ in 0..4 {
        let mut stream = TcpStream::connect(endpoints.addr).await?;
        stream.write_all(HEALTH).await?;
        let answer = read_until(&mut stream, is_health_answer).await?;
        ensure!(is_health_answer(&answer), "{}", String::from_utf8_lossy(&answer));
        held.push(stream);
    }
    // A fifth client connects (the kernel queues it) and asks: no answer while the slots are held.
    let mut fifth = TcpStream::connect(endpoints.addr).await?;
    fifth.write_all(HEALTH).await?;
    let mut buf = [0u8; 64];
    let early = tokio::time::timeout(Duration::from_millis(500), fifth.read(&mut buf)).await;
    ensure!(early.is_err(), "served beyond the cap: {early:?}");
    // One held connection closes: the fifth client is served, long before any timeout.
    let closed = Instant::now();
    drop(held.pop());
    let answer = read_until(&mut fifth, is_health_answer).await?;
    ensure!(is_health_answer(&answer), "{}", String::from_utf8_lossy(&answer));
    ensure!(closed.elapsed() < Duration::from_secs(10), "{:?}", closed.elapsed());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_forbid_framing_scripts_and_sniffing() -> Result<()> {
    let endpoints = start(HttpLimits::default()).await?;
    let token = endpoints.app.links().ack_token("S1", "C1", AckAction::Submitted);
    for (path, want) in [(format!("/ack/{token}"), " 200 "), ("/ack/forged".to_owned(), " 404 ")] {
        let (status, headers, body) = get(endpoints.addr, &path).await?;
        ensure!(status.contains(want), "{path}: {status}");
        ensure!(body.contains("<!doctype html>"), "{body}");
        let header = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let csp = header("content-security-policy");
        for directive in [
            "default-src 'none'",
            "frame-ancestors 'none'",
            "form-action 'self'",
            "style-src 'unsafe-inline'",
        ] {
            ensure!(csp.contains(directive), "{path}: {directive} missing from {csp:?}");
        }
        ensure!(!csp.contains("script-src"), "{csp}");
        ensure!(header("x-content-type-options") == "nosniff", "{headers:?}");
        ensure!(header("referrer-policy") == "no-referrer", "{headers:?}");
        ensure!(header("x-frame-options") == "DENY", "{headers:?}");
    }
    Ok(())
}
