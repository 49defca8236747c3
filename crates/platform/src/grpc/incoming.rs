//! The accept loop of the gRPC servers: `TCP_NODELAY` on every accepted
//! socket, and a back-off when accepting fails.
//!
//! Why `TCP_NODELAY`: a unary answer is a few small HTTP/2 frames. Without it,
//! Nagle's algorithm holds the last frame until the client's delayed ACK,
//! about 40 ms later, so one caller looping on `GetStructure` got ~21 calls
//! per second instead of ~300. tonic's `Server::tcp_nodelay` does not apply
//! to `serve_with_incoming`, which Vigie uses (tests bind port 0 and read the
//! address before serving), hence this stream.
//!
//! Why the back-off: when the process runs out of file descriptors, `accept`
//! fails at once, again and again; retrying without a pause spins a core and
//! floods the log. Errors that concern one connection only (reset or aborted
//! before it was accepted) are skipped at once.

use std::io;
use std::time::Duration;

use futures::Stream;
use tokio::net::{TcpListener, TcpStream};

/// First pause after a failed `accept`.
const FIRST_BACKOFF: Duration = Duration::from_millis(5);
/// Longest pause between two failed `accept`s.
const MAX_BACKOFF: Duration = Duration::from_secs(1);

/// The accepted connections of `listener`, each with `TCP_NODELAY` set.
///
/// The stream never yields an error and never ends: a failed `accept` is
/// logged and retried after a pause that doubles up to one second, and reset
/// to nothing by the next accepted connection. Dropping the stream closes the
/// listening socket.
pub fn incoming(listener: TcpListener) -> impl Stream<Item = Result<TcpStream, io::Error>> + Send + 'static {
    futures::stream::unfold((listener, 0_u32), |(listener, mut failures)| async move {
        loop {
            match listener.accept().await {
                Ok((stream, _peer)) => {
                    if let Err(error) = stream.set_nodelay(true) {
                        // The peer may already be gone; the connection fails by itself then.
                        tracing::debug!(%error, "could not set tcp_nodelay on an accepted socket");
                    }
                    return Some((Ok(stream), (listener, 0)));
                }
                Err(error) if concerns_one_connection(&error) => {
                    tracing::debug!(%error, "accepted connection lost before use");
                }
                Err(error) => {
                    failures = failures.saturating_add(1);
                    let pause = backoff(failures);
                    tracing::warn!(%error, failures, pause_ms = pause.as_millis() as u64, "accept failed; pausing");
                    tokio::time::sleep(pause).await;
                }
            }
        }
    })
}

/// The pause after `failures` consecutive failed `accept`s: 5 ms, doubling,
/// at most one second.
pub(crate) fn backoff(failures: u32) -> Duration {
    let doublings = failures.saturating_sub(1).min(16);
    FIRST_BACKOFF.saturating_mul(1 << doublings).min(MAX_BACKOFF)
}

/// Errors about the connection being accepted, not about the listener.
fn concerns_one_connection(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionRefused
            | io::ErrorKind::Interrupted
            | io::ErrorKind::WouldBlock
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_then_caps() {
        assert_eq!(backoff(1), Duration::from_millis(5));
        assert_eq!(backoff(2), Duration::from_millis(10));
        assert_eq!(backoff(3), Duration::from_millis(20));
        assert_eq!(backoff(8), Duration::from_millis(640));
        assert_eq!(backoff(9), Duration::from_secs(1));
        assert_eq!(backoff(u32::MAX), Duration::from_secs(1));
    }

    #[test]
    fn only_per_connection_errors_are_skipped_at_once() {
        assert!(concerns_one_connection(&io::Error::from(
            io::ErrorKind::ConnectionAborted
        )));
        // EMFILE and the like: the listener is starved, pause.
        assert!(!concerns_one_connection(&io::Error::from_raw_os_error(24)));
    }
}
