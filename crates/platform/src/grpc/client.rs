//! Client channels to a Vigie server: TLS for `https://`, never a silent
//! downgrade, and no credentials in cleartext over a network.
//!
//! - `https://…` is TLS (system and webpki roots, or a private CA) or an
//!   error: the TLS connector refuses to fall back to HTTP/2 in cleartext.
//! - `http://…` is HTTP/2 in cleartext, fine on the loopback interface; to any
//!   other host, a call that carries credentials (a bearer token) is refused
//!   before anything is sent, since anyone on the path could read and replay
//!   the token.
//! - TLS files given with an `http://` endpoint are an error too: the user
//!   visibly expected TLS.

use std::time::Duration;

use http::Uri;
use tonic::transport::{Channel, Endpoint};

use super::tls::{ClientTlsFiles, TlsError};
use crate::words::{words, Words};

/// Time to establish a TCP connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Time for the TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// How a client connects.
#[derive(Debug, Clone, Default)]
pub struct ClientOptions {
    /// TLS files (`--ca-cert`, `--client-cert`, `--client-key`).
    pub tls: ClientTlsFiles,
    /// Whether calls will carry credentials (an `authorization` header).
    pub credentials: bool,
}

/// Why a channel could not be opened.
#[derive(Debug)]
pub enum ClientError {
    /// The endpoint is not a URL.
    InvalidEndpoint(String),
    /// The scheme is neither `http` nor `https`.
    UnsupportedScheme(String),
    /// Credentials would travel in cleartext to another machine.
    CleartextCredentials {
        /// The host.
        host: String,
    },
    /// TLS files were given for a cleartext endpoint.
    TlsOptionsWithoutHttps(String),
    /// A TLS file is unusable.
    Tls(TlsError),
    /// The server could not be reached or the handshake failed.
    Connect {
        /// The endpoint.
        endpoint: String,
        /// The cause (see [`tls_failure`]).
        source: tonic::transport::Error,
    },
}

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.words().fr)
    }
}

impl std::error::Error for ClientError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ClientError::Connect { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl From<TlsError> for ClientError {
    fn from(error: TlsError) -> Self {
        ClientError::Tls(error)
    }
}

impl ClientError {
    /// The message in French (`Display`) and in English, for the CLI's
    /// `--lang`.
    pub fn words(&self) -> Words {
        match self {
            ClientError::InvalidEndpoint(address) => words!(
                "adresse de serveur invalide « {address} » (attendu : https://HÔTE:PORT, ou http://127.0.0.1:PORT en local)",
                "invalid server address “{address}” (expected: https://HOST:PORT, or http://127.0.0.1:PORT locally)"
            ),
            ClientError::UnsupportedScheme(address) => words!(
                "adresse de serveur « {address} » : le schéma doit être https:// (TLS) ou http:// (boucle locale)",
                "server address “{address}”: the scheme must be https:// (TLS) or http:// (loopback)"
            ),
            ClientError::CleartextCredentials { host } => words!(
                "refus d'envoyer le jeton d'accès en clair à {host} : utilisez https:// (TLS) pour un serveur distant ; http:// n'est accepté avec un jeton que sur la boucle locale (127.0.0.1, ::1, localhost)",
                "refusing to send the access token in cleartext to {host}: use https:// (TLS) for a remote server; http:// is accepted with a token on the loopback only (127.0.0.1, ::1, localhost)"
            ),
            ClientError::TlsOptionsWithoutHttps(address) => words!(
                "--ca-cert, --client-cert et --client-key ne servent qu'avec une adresse https:// ; « {address} » est en clair",
                "--ca-cert, --client-cert and --client-key only serve with an https:// address; “{address}” is cleartext"
            ),
            ClientError::Tls(tls) => tls.words(),
            ClientError::Connect { endpoint, .. } => {
                words!("connexion à {endpoint} impossible", "cannot connect to {endpoint}")
            }
        }
    }
}

/// The endpoint for `address`, with TLS configured for `https://`; checks
/// the rules of the module docs, connects nothing.
///
/// # Errors
/// [`ClientError`] for an invalid address, an unusable TLS file or
/// credentials that would go in cleartext.
pub fn endpoint(address: &str, options: &ClientOptions) -> Result<Endpoint, ClientError> {
    let uri: Uri = address
        .parse()
        .map_err(|_| ClientError::InvalidEndpoint(address.to_owned()))?;
    let host = uri
        .host()
        .ok_or_else(|| ClientError::InvalidEndpoint(address.to_owned()))?;
    let tls = match uri.scheme_str() {
        Some("https") => true,
        Some("http") => false,
        _ => return Err(ClientError::UnsupportedScheme(address.to_owned())),
    };
    if !tls {
        if !options.tls.is_empty() {
            return Err(ClientError::TlsOptionsWithoutHttps(address.to_owned()));
        }
        if options.credentials && !is_loopback_host(host) {
            return Err(ClientError::CleartextCredentials { host: host.to_owned() });
        }
    }
    let mut endpoint = Endpoint::from_shared(address.to_owned())
        .map_err(|_| ClientError::InvalidEndpoint(address.to_owned()))?
        .connect_timeout(CONNECT_TIMEOUT);
    if tls {
        let config = options.tls.load(HANDSHAKE_TIMEOUT)?;
        endpoint = endpoint
            .tls_config(config)
            .map_err(|error| TlsError::Config(error.to_string()))?;
    }
    Ok(endpoint)
}

/// Opens a channel to `address` (see [`endpoint`]).
///
/// # Errors
/// [`ClientError`]; [`ClientError::Connect`] when the server is unreachable
/// or the TLS handshake fails ([`tls_failure`] tells which).
pub async fn connect(address: &str, options: &ClientOptions) -> Result<Channel, ClientError> {
    endpoint(address, options)?
        .connect()
        .await
        .map_err(|source| ClientError::Connect {
            endpoint: address.to_owned(),
            source,
        })
}

pub use crate::net::is_loopback_host;

/// Why a TLS connection failed, in French, when `error` comes from TLS (the
/// server's certificate, the handshake, the protocol); `None` for other
/// failures (refused connection, unknown host…).
pub fn tls_failure(error: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut cause = Some(error);
    while let Some(current) = cause {
        if let Some(tls) = current.downcast_ref::<rustls::Error>() {
            return Some(describe(tls));
        }
        if let Some(io) = current.downcast_ref::<std::io::Error>() {
            // An I/O error's `source` skips the error it wraps: look inside.
            if let Some(tls) = io.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()) {
                return Some(describe(tls));
            }
        }
        let text = current.to_string();
        if text.contains("HTTP/2 was not negotiated") {
            return Some(
                "le serveur TLS ne propose pas HTTP/2 (ALPN h2) : est-ce bien un serveur gRPC Vigie ?".to_owned(),
            );
        }
        if text.contains("TLS handshake timeout") {
            return Some("la négociation TLS n'a pas abouti à temps : le serveur parle-t-il TLS ?".to_owned());
        }
        cause = current.source();
    }
    None
}

fn describe(error: &rustls::Error) -> String {
    use rustls::{AlertDescription, CertificateError, Error};
    match error {
        Error::InvalidCertificate(CertificateError::UnknownIssuer) => {
            "le certificat du serveur est signé par une autorité inconnue : donnez le certificat de cette autorité avec --ca-cert FICHIER (ou VIGIE_CA_CERT)".to_owned()
        }
        Error::InvalidCertificate(CertificateError::NotValidForName)
        | Error::InvalidCertificate(CertificateError::NotValidForNameContext { .. }) => {
            "le certificat du serveur ne porte pas le nom de l'adresse demandée : utilisez dans --endpoint le nom (ou l'IP) inscrit dans le certificat".to_owned()
        }
        Error::InvalidCertificate(CertificateError::Expired)
        | Error::InvalidCertificate(CertificateError::ExpiredContext { .. }) => {
            "le certificat du serveur a expiré".to_owned()
        }
        Error::InvalidCertificate(other) => format!("certificat du serveur refusé ({other:?})"),
        Error::AlertReceived(AlertDescription::CertificateRequired)
        | Error::AlertReceived(AlertDescription::BadCertificate)
        | Error::AlertReceived(AlertDescription::UnknownCA) => {
            "le serveur exige un certificat client valide (TLS mutuel) : donnez-le avec --client-cert et --client-key".to_owned()
        }
        Error::InvalidMessage(_) | Error::InappropriateMessage { .. } | Error::InappropriateHandshakeMessage { .. } => {
            "le serveur ne répond pas en TLS : utilise-t-il bien --tls-cert ? (en clair, l'adresse est http://, et seulement sur la boucle locale)".to_owned()
        }
        other => format!("échec TLS : {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_say_in_french_what_display_says_and_have_english() {
        let errors = [
            ClientError::InvalidEndpoint("::".to_owned()),
            ClientError::UnsupportedScheme("ftp://x".to_owned()),
            ClientError::CleartextCredentials {
                host: "vigie.example".to_owned(),
            },
            ClientError::TlsOptionsWithoutHttps("http://x".to_owned()),
            ClientError::Tls(TlsError::ClientCaWithoutTls),
        ];
        for error in errors {
            let words = error.words();
            assert_eq!(words.fr, error.to_string());
            assert_ne!(words.en, words.fr, "{error}");
        }
    }

    fn with_token() -> ClientOptions {
        ClientOptions {
            credentials: true,
            ..ClientOptions::default()
        }
    }

    #[test]
    fn a_token_never_goes_in_cleartext_to_another_host() {
        let refused = endpoint("http://vigie.example.org:50051", &with_token());
        assert!(matches!(refused, Err(ClientError::CleartextCredentials { .. })));
        let message = refused.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(message.contains("https://"), "{message}");
        // Without a token (a trusted network, `--auth none`), or on loopback, it is allowed.
        assert!(endpoint("http://vigie.example.org:50051", &ClientOptions::default()).is_ok());
        assert!(endpoint("http://127.0.0.1:50051", &with_token()).is_ok());
        assert!(endpoint("http://[::1]:50051", &with_token()).is_ok());
        // https is always allowed.
        assert!(endpoint("https://vigie.example.org", &with_token()).is_ok());
    }

    #[test]
    fn other_schemes_and_garbage_are_refused() {
        assert!(matches!(
            endpoint("grpc://vigie:50051", &ClientOptions::default()),
            Err(ClientError::UnsupportedScheme(_))
        ));
        assert!(matches!(
            endpoint("vigie:50051", &ClientOptions::default()),
            Err(ClientError::UnsupportedScheme(_) | ClientError::InvalidEndpoint(_))
        ));
        assert!(matches!(
            endpoint("http://", &ClientOptions::default()),
            Err(ClientError::InvalidEndpoint(_))
        ));
    }

    #[test]
    fn tls_files_with_a_cleartext_endpoint_are_refused() {
        let options = ClientOptions {
            tls: ClientTlsFiles {
                ca_cert: Some("ca.pem".into()),
                ..ClientTlsFiles::default()
            },
            credentials: false,
        };
        assert!(matches!(
            endpoint("http://127.0.0.1:50051", &options),
            Err(ClientError::TlsOptionsWithoutHttps(_))
        ));
    }
}
