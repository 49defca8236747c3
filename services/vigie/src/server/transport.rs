//! How the gRPC server of `vigie dev` and `vigie serve` is exposed: TLS from
//! `--tls-cert`/`--tls-key` (mutual with `--tls-client-ca`), the bounds of
//! the `[grpc]` configuration section, and a loud warning when a server
//! reachable from the network speaks in cleartext.
//!
//! Cleartext on a non-loopback address stays allowed: a service mesh or a
//! load balancer may terminate TLS in front of Vigie (docs/operations.md).
//! It is never silent.

use anyhow::Context;
use vigie_platform::grpc::tls::ServerTlsFiles;
use vigie_platform::grpc::{ServeOptions, ServerTls};

use crate::config::VigieConfig;
use crate::i18n::Lang;

/// Applies the configured message size limits to a generated service
/// server (they all have these two methods, but no common trait).
macro_rules! limited {
    ($server:expr, $limits:expr) => {
        $server
            .max_decoding_message_size($limits.max_request_bytes)
            .max_encoding_message_size($limits.max_response_bytes)
    };
}
pub(crate) use limited;

/// The TLS configuration (files read and checked) and bounds of the server.
///
/// # Errors
/// An unreadable TLS file, a certificate without key, a key that does not
/// match its certificate: the server does not start.
pub fn grpc_options(config: &VigieConfig, lang: Lang) -> anyhow::Result<ServeOptions> {
    let files = ServerTlsFiles::from_settings(
        config.tls_cert.as_deref(),
        config.tls_key.as_deref(),
        config.tls_client_ca.as_deref(),
    )?;
    let tls = files
        .map(|files| ServerTls::load(&files, config.grpc.tls_handshake_timeout()))
        .transpose()
        .context(lang.pick("TLS du serveur gRPC", "gRPC server TLS"))?;
    if tls.is_none() && !config.listen.ip().is_loopback() {
        tracing::warn!(
            listen = %config.listen,
            "grpc server reachable from the network without tls: tokens and data travel in cleartext unless a proxy or mesh terminates tls in front of it"
        );
        eprintln!(
            "{}",
            lang.pick(
                "ATTENTION : le serveur gRPC écoute sur le réseau SANS TLS — jetons et données circulent en clair.\n  Donnez --tls-cert et --tls-key, sauf si un proxy ou un maillage de services termine TLS devant Vigie.",
                "WARNING: the gRPC server listens on the network WITHOUT TLS — tokens and data travel in cleartext.\n  Give --tls-cert and --tls-key, unless a proxy or service mesh terminates TLS in front of Vigie."
            )
        );
    }
    Ok(ServeOptions {
        tls,
        limits: config.grpc.clone(),
    })
}

/// The endpoint clients use to reach a server listening on `addr`.
pub fn endpoint(addr: std::net::SocketAddr, options: &ServeOptions) -> String {
    let scheme = if options.tls.is_some() { "https" } else { "http" };
    format!("{scheme}://{addr}")
}
