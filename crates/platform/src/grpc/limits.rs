//! Explicit bounds of a gRPC server: message sizes, requests in flight, time
//! per request.
//!
//! tonic's defaults are either too small (4 MiB per message, so a
//! `calls export` of a few thousand calls failed with "decoded message length
//! too large") or unbounded (any number of requests in flight, no time limit).
//! Every server states its bounds here instead, with defaults that fit a
//! federation and can be changed in the `[grpc]` section of the configuration
//! (docs/operations.md).

use std::time::Duration;

use serde::{Deserialize, Serialize};

const MIB: usize = 1024 * 1024;

/// Largest response a Vigie CLI accepts. Equal to the servers' default
/// [`GrpcLimits::max_response_bytes`], so what a server sends by default the
/// CLI reads.
pub const CLIENT_MAX_RESPONSE_BYTES: usize = 64 * MIB;

/// Largest request a Vigie CLI sends: the servers' default
/// [`GrpcLimits::max_request_bytes`] (a larger one would be refused anyway;
/// imports stream their files in small chunks).
pub const CLIENT_MAX_REQUEST_BYTES: usize = 16 * MIB;

/// The bounds of a gRPC server (configuration section `[grpc]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GrpcLimits {
    /// Largest request message the server decodes, in bytes (default 16 MiB).
    pub max_request_bytes: usize,
    /// Largest response message the server encodes, in bytes (default 64 MiB;
    /// a larger answer fails with `OUT_OF_RANGE` instead of being sent).
    pub max_response_bytes: usize,
    /// Requests handled at once by the whole server (default 256); above it a
    /// request is refused at once with `RESOURCE_EXHAUSTED`.
    pub max_concurrent_requests: usize,
    /// Requests handled at once on one connection (default 64), so one
    /// client cannot take the whole server.
    pub max_concurrent_requests_per_connection: usize,
    /// Time a request may take until its answer starts, in seconds (default
    /// 300: the import of 100,000 structures takes about 40 s). A client's
    /// shorter `grpc-timeout` wins.
    pub request_timeout_seconds: u64,
    /// Time a TLS handshake may take, in seconds (default 10).
    pub tls_handshake_timeout_seconds: u64,
}

impl Default for GrpcLimits {
    fn default() -> Self {
        GrpcLimits {
            max_request_bytes: CLIENT_MAX_REQUEST_BYTES,
            max_response_bytes: CLIENT_MAX_RESPONSE_BYTES,
            max_concurrent_requests: 256,
            max_concurrent_requests_per_connection: 64,
            request_timeout_seconds: 300,
            tls_handshake_timeout_seconds: 10,
        }
    }
}

impl GrpcLimits {
    /// The request timeout.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_seconds)
    }

    /// The TLS handshake timeout.
    pub fn tls_handshake_timeout(&self) -> Duration {
        Duration::from_secs(self.tls_handshake_timeout_seconds)
    }

    /// Checks that every bound is usable.
    ///
    /// # Errors
    /// A French message naming the first key out of range.
    pub fn validate(&self) -> Result<(), String> {
        // The gRPC length prefix is 32 bits; below 64 KiB not even a small
        // list fits.
        let bytes = 64 * 1024..=u32::MAX as usize;
        for (key, value) in [
            ("grpc.max_request_bytes", self.max_request_bytes),
            ("grpc.max_response_bytes", self.max_response_bytes),
        ] {
            if !bytes.contains(&value) {
                return Err(format!("{key} doit être entre 65536 (64 Kio) et 4294967295 (4 Gio)"));
            }
        }
        for (key, value) in [
            ("grpc.max_concurrent_requests", self.max_concurrent_requests),
            (
                "grpc.max_concurrent_requests_per_connection",
                self.max_concurrent_requests_per_connection,
            ),
        ] {
            if value == 0 {
                return Err(format!("{key} doit être positif"));
            }
        }
        if self.request_timeout_seconds == 0 || self.tls_handshake_timeout_seconds == 0 {
            return Err(
                "grpc.request_timeout_seconds et grpc.tls_handshake_timeout_seconds doivent être positifs".to_owned(),
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_read_what_they_send() {
        let limits = GrpcLimits::default();
        assert_eq!(limits.validate(), Ok(()));
        assert!(limits.max_response_bytes > 4 * MIB, "above tonic's 4 MiB default");
        assert_eq!(limits.max_response_bytes, CLIENT_MAX_RESPONSE_BYTES);
        assert_eq!(limits.max_request_bytes, CLIENT_MAX_REQUEST_BYTES);
        assert_eq!(limits.request_timeout(), Duration::from_secs(300));
    }

    #[test]
    fn out_of_range_bounds_are_named() {
        let zero_concurrency = GrpcLimits {
            max_concurrent_requests: 0,
            ..GrpcLimits::default()
        };
        assert!(zero_concurrency
            .validate()
            .is_err_and(|e| e.contains("grpc.max_concurrent_requests ")));
        let tiny = GrpcLimits {
            max_request_bytes: 10,
            ..GrpcLimits::default()
        };
        assert!(tiny.validate().is_err_and(|e| e.contains("grpc.max_request_bytes")));
        let huge = GrpcLimits {
            max_response_bytes: u32::MAX as usize + 1,
            ..GrpcLimits::default()
        };
        assert!(huge.validate().is_err_and(|e| e.contains("grpc.max_response_bytes")));
        let no_time = GrpcLimits {
            request_timeout_seconds: 0,
            ..GrpcLimits::default()
        };
        assert!(no_time.validate().is_err());
    }
}
