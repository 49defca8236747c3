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
//! After an accept error the loop pauses as every Vigie server does
//! ([`vigie_platform::net::AcceptBackoff`]).

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
