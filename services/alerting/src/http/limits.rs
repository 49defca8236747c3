//! How much the public HTTP endpoints let a client hold, and how the accept
//! loop backs off when the system refuses new sockets.
//!
//! These endpoints face the Internet (links in emails, calendar apps), so a
//! client must not be able to keep connections open for free: a request's
//! headers must arrive within [`HttpLimits::header_read_timeout`] (hyper
//! closes the connection otherwise, also between keep-alive requests), a body
//! within [`HttpLimits::body_timeout`], and no connection lives longer than
//! [`HttpLimits::max_connection_age`]. At most [`HttpLimits::max_connections`]
//! are served at once; beyond, new clients wait in the kernel's accept queue
//! until one closes, so the process never runs out of descriptors because of
//! them.
//!
//! [`AcceptBackoff`] is the pure part of the accept loop: after an accept
//! error (EMFILE, ENFILE, ENOBUFS…) the loop sleeps a growing delay instead of
//! spinning, and logs once per burst rather than once per failure.

use std::time::Duration;

/// Limits of the public HTTP endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpLimits {
    /// Time allowed to send a request's headers (and to start the next
    /// request on a kept-alive connection).
    pub header_read_timeout: Duration,
    /// Time allowed to send a request's body (a few bytes here).
    pub body_timeout: Duration,
    /// Longest life of one connection, whatever it does.
    pub max_connection_age: Duration,
    /// Connections served at once.
    pub max_connections: usize,
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits {
            header_read_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(10),
            max_connection_age: Duration::from_secs(120),
            max_connections: 256,
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
