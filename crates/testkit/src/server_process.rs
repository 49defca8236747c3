//! What the harnesses of server processes (nats-server, the SMTP sink,
//! PostgreSQL) share: a free loopback port, and a new one when it was taken
//! before the server bound it; readiness by the server's greeting line and
//! a proof that the greeting came from THIS process (no sleeps for
//! readiness), and the tail of the server's log for failure messages.
//!
//! Why the proof: two tests may be handed the same free port. The second
//! server then fails to bind it, but until it exits its harness's probe
//! reaches the first server, which greets as well — and the two tests would
//! share one server (one SMTP sink received both tests' mail).

use std::net::TcpListener;
use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::Child;

/// How long a server may take to greet its first client.
const READY_TIMEOUT: Duration = Duration::from_secs(15);
/// How often readiness is probed.
const READY_POLL: Duration = Duration::from_millis(20);

/// A free TCP port on 127.0.0.1.
pub(crate) fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(listener.local_addr()?.port())
}

/// Which failed starts [`start_on_free_port`] tries again on another port.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Retry {
    /// Every failure.
    AnyFailure,
    /// Only a port taken meanwhile: « address already in use » in the error
    /// (whose context carries the server's log), any case.
    AddressInUse,
}

impl Retry {
    fn applies_to(self, error: &anyhow::Error) -> bool {
        match self {
            Retry::AnyFailure => true,
            Retry::AddressInUse => format!("{error:#}")
                .to_ascii_lowercase()
                .contains("address already in use"),
        }
    }
}

/// Calls `start` with a free port, up to `attempts` times, each time with
/// another port while the failure is one `retry` applies to: a port found
/// free may be taken by another test before the server binds it. Returns
/// the port with what `start` made, or the last failure.
pub(crate) async fn start_on_free_port<T>(
    attempts: usize,
    retry: Retry,
    mut start: impl AsyncFnMut(u16) -> Result<T>,
) -> Result<(u16, T)> {
    let mut last_error = None;
    for _ in 0..attempts {
        let port = free_port()?;
        match start(port).await {
            Ok(started) => return Ok((port, started)),
            Err(error) if retry.applies_to(&error) => last_error = Some(error),
            Err(error) => return Err(error),
        }
    }
    Err(last_error.unwrap_or_else(|| anyhow::anyhow!("no start attempt made")))
}

/// Stops the server process in `child`, if any, and waits for its end (a
/// restart then finds its port free). A server dropped without it is
/// killed all the same: every harness spawns with `kill_on_drop`.
pub(crate) async fn stop(child: &mut Option<tokio::process::Child>) {
    if let Some(mut child) = child.take() {
        // An error means the process already exited; nothing to do.
        let _ = child.kill().await;
    }
}

/// Waits until the server on `port` greets a TCP client with a line starting
/// with `greeting` and `bound` (read after the greeting) says this process
/// bound the port — e.g. its own log says so ([`logged_since`]); `name` and
/// `exit_hint` word the errors (the process exited, or was not ready in
/// time); the child is killed on failure, with the last lines of `log` in
/// the error.
pub(crate) async fn wait_ready(
    mut child: Child,
    port: u16,
    greeting: &str,
    bound: impl Fn() -> bool,
    name: &str,
    exit_hint: &str,
    log: &Path,
) -> Result<Child> {
    match poll_ready(&mut child, port, greeting, &bound, name, exit_hint).await {
        Ok(()) => Ok(child),
        Err(error) => {
            let _ = child.kill().await;
            Err(error.context(format!("server log:\n{}", tail(log))))
        }
    }
}

/// The length of the file at `path` (0 when absent): where a log stands
/// before a server is started, for [`logged_since`].
pub(crate) fn log_length(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

/// Whether the file at `path` holds a line that `wanted` accepts after its
/// first `from` bytes (what an earlier run of the server wrote there does
/// not count).
pub(crate) fn logged_since(path: &Path, from: u64, wanted: impl Fn(&str) -> bool) -> bool {
    let text = std::fs::read(path).unwrap_or_default();
    let from = usize::try_from(from).unwrap_or(usize::MAX).min(text.len());
    String::from_utf8_lossy(&text[from..])
        .lines()
        .any(|line| wanted(line.trim_end()))
}

/// Like [`wait_ready`], for a server that creates `ready_file` once it has
/// bound its port (the SMTP sink): the file is the proof, and the only sign
/// when the greeting is inside TLS from the first byte.
pub(crate) async fn wait_ready_file(
    mut child: Child,
    ready_file: &Path,
    name: &str,
    exit_hint: &str,
    log: &Path,
) -> Result<Child> {
    let deadline = tokio::time::Instant::now() + READY_TIMEOUT;
    let outcome = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Err(anyhow::anyhow!("{name} exited early with {status}{exit_hint}")),
            Err(error) => break Err(error.into()),
            Ok(None) => {}
        }
        if ready_file.exists() {
            break Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            break Err(anyhow::anyhow!("{name} not ready after {READY_TIMEOUT:?}"));
        }
        tokio::time::sleep(READY_POLL).await;
    };
    match outcome {
        Ok(()) => Ok(child),
        Err(error) => {
            let _ = child.kill().await;
            Err(error.context(format!("server log:\n{}", tail(log))))
        }
    }
}

async fn poll_ready(
    child: &mut Child,
    port: u16,
    greeting: &str,
    bound: &impl Fn() -> bool,
    name: &str,
    exit_hint: &str,
) -> Result<()> {
    let deadline = tokio::time::Instant::now() + READY_TIMEOUT;
    loop {
        if let Some(status) = child.try_wait()? {
            bail!("{name} exited early with {status}{exit_hint}");
        }
        if greets(port, greeting).await && bound() {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            bail!("{name} not ready on port {port} after {READY_TIMEOUT:?}");
        }
        tokio::time::sleep(READY_POLL).await;
    }
}

async fn greets(port: u16, greeting: &str) -> bool {
    let probe = async {
        let stream = TcpStream::connect(("127.0.0.1", port)).await.ok()?;
        let mut line = String::new();
        BufReader::new(stream).read_line(&mut line).await.ok()?;
        Some(line.starts_with(greeting))
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(1), probe).await,
        Ok(Some(true))
    )
}

/// The last ten lines of a log file.
fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(10)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_what_a_log_says_after_its_start_counts() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("server.log");
        assert_eq!(log_length(&log), 0);
        let port_4222 = |line: &str| line.ends_with(":4222");
        assert!(!logged_since(&log, 0, port_4222));
        std::fs::write(&log, "[1] Listening for client connections on 127.0.0.1:4222\n").unwrap();
        let before_restart = log_length(&log);
        assert!(logged_since(&log, 0, port_4222));
        assert!(!logged_since(&log, before_restart, port_4222));
        assert!(!logged_since(&log, 0, |line: &str| line.ends_with(":422")));
    }

    #[tokio::test]
    async fn a_taken_port_is_tried_again_on_another() {
        let mut ports = Vec::new();
        let (port, attempt) = start_on_free_port(3, Retry::AddressInUse, async |port| {
            ports.push(port);
            match ports.len() {
                1 => Err(anyhow::anyhow!("exited early").context("log: bind: Address already in use")),
                n => Ok(n),
            }
        })
        .await
        .unwrap();
        assert_eq!((attempt, ports.last()), (2, Some(&port)));
    }

    #[tokio::test]
    async fn only_the_chosen_failures_are_tried_again() {
        // A failure that is not a taken port: given up at once, or tried
        // again on every attempt, as the caller chose.
        for (retry, expected) in [(Retry::AddressInUse, 1), (Retry::AnyFailure, 3)] {
            let mut attempts = 0;
            let error = start_on_free_port(3, retry, async |_| -> Result<()> {
                attempts += 1;
                bail!("attempt {attempts}")
            })
            .await
            .unwrap_err();
            assert_eq!((attempts, error.to_string()), (expected, format!("attempt {expected}")));
        }
    }
}
