//! Network rules every Vigie server and client shares, so they cannot drift
//! apart:
//!
//! - [`is_loopback_host`]: what counts as "this machine" in an address, the
//!   rule behind every "cleartext only on loopback" decision (the CLI's gRPC
//!   channel, the OIDC fetcher, the PostgreSQL transport warning, the
//!   alerting public URL and webhook checks);
//! - [`AcceptBackoff`]: how an accept loop (gRPC servers, the alerting HTTP
//!   endpoints) waits after an accept error. When the process runs out of file
//!   descriptors (EMFILE, ENFILE, ENOBUFS…) `accept` fails at once, again and
//!   again: without a pause the loop spins a core and floods the log (the
//!   review saw 5 M lines in 40 s). The loop sleeps a growing delay instead,
//!   and logs once per burst rather than once per failure;
//! - [`concerns_one_connection`]: the accept errors that are about the
//!   connection being accepted, not the listener (skipped at once).

use std::io;
use std::net::IpAddr;
use std::time::Duration;

/// `127.0.0.0/8`, `::1` (bracketed or not) or `localhost` (any case) — and
/// nothing else: not `0.0.0.0`, not `localhost.example.org`.
pub fn is_loopback_host(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost") || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Shortest pause after an accept error.
const FIRST_DELAY: Duration = Duration::from_millis(10);
/// Longest pause after accept errors.
const MAX_DELAY: Duration = Duration::from_secs(1);

/// The state of the accept loop between errors: the delay grows from 10 ms,
/// doubling up to 1 s, while accepts keep failing; a success ends the burst.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct AcceptBackoff {
    failures: u64,
    delay: Duration,
}

/// What to do after one accept error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pause {
    /// How long to wait before the next accept.
    pub delay: Duration,
    /// Whether this error opens a burst (log it; the others are counted).
    pub first_of_burst: bool,
}

impl AcceptBackoff {
    /// Records one accept error.
    pub fn failed(&mut self) -> Pause {
        self.failures += 1;
        self.delay = if self.delay.is_zero() {
            FIRST_DELAY
        } else {
            (self.delay * 2).min(MAX_DELAY)
        };
        Pause {
            delay: self.delay,
            first_of_burst: self.failures == 1,
        }
    }

    /// Records a successful accept; returns how many errors the burst that
    /// just ended counted (0 when there was none), for one closing log line.
    pub fn succeeded(&mut self) -> u64 {
        std::mem::take(self).failures
    }
}

/// Errors about the connection being accepted (reset or aborted before it
/// was accepted…), not about the listener: skipped without a pause.
pub fn concerns_one_connection(error: &io::Error) -> bool {
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
    fn loopback_hosts_and_only_them() {
        for host in ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost", "LOCALHOST"] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in [
            "10.0.0.1",
            "vigie.example.org",
            "0.0.0.0",
            "[::]",
            "localhost.example.org",
            "",
            "::ffff:10.0.0.1",
        ] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }

    #[test]
    fn delays_double_up_to_one_second_and_only_the_first_error_is_logged() {
        let mut backoff = AcceptBackoff::default();
        let pauses: Vec<Pause> = (0..10).map(|_| backoff.failed()).collect();
        let delays: Vec<u64> = pauses.iter().map(|p| p.delay.as_millis() as u64).collect();
        assert_eq!(delays, [10, 20, 40, 80, 160, 320, 640, 1000, 1000, 1000]);
        assert!(pauses[0].first_of_burst);
        assert!(pauses[1..].iter().all(|p| !p.first_of_burst));
    }

    #[test]
    fn a_success_ends_the_burst_and_reports_its_size() {
        let mut backoff = AcceptBackoff::default();
        assert_eq!(backoff.succeeded(), 0);
        for _ in 0..5 {
            backoff.failed();
        }
        assert_eq!(backoff.succeeded(), 5);
        assert_eq!(backoff.succeeded(), 0);
        let pause = backoff.failed();
        assert!(pause.first_of_burst);
        assert_eq!(pause.delay, FIRST_DELAY);
    }

    #[test]
    fn a_million_errors_in_a_row_sleep_at_least_a_second_each_after_the_eighth() {
        // The review saw 5 M log lines in 40 s: the loop spun. With the
        // back-off, 40 s of failures are at most ~47 accepts and one log line.
        let mut backoff = AcceptBackoff::default();
        let mut slept = Duration::ZERO;
        let mut attempts = 0;
        let mut logged = 0;
        while slept < Duration::from_secs(40) {
            let pause = backoff.failed();
            slept += pause.delay;
            attempts += 1;
            logged += u32::from(pause.first_of_burst);
        }
        assert!(attempts < 50, "{attempts}");
        assert_eq!(logged, 1);
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
