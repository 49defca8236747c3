//! What counts as "this machine" in an address: the one rule behind every
//! "cleartext only on loopback" decision (the CLI's gRPC channel, the OIDC
//! fetcher, the PostgreSQL transport warning, the alerting public URL and
//! webhook checks), so they cannot drift apart.

use std::net::IpAddr;

/// `127.0.0.0/8`, `::1` (bracketed or not) or `localhost` (any case) — and
/// nothing else: not `0.0.0.0`, not `localhost.example.org`.
pub fn is_loopback_host(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost") || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
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
}
