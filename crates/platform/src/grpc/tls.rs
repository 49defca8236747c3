//! TLS for gRPC, on both ends, from PEM files.
//!
//! A server gets its certificate chain and key (`--tls-cert`, `--tls-key`),
//! and optionally the CA that signs its clients' certificates
//! (`--tls-client-ca`: mutual TLS, a client without a valid certificate is
//! refused during the handshake). Everything is read and checked once, at
//! start, so a wrong file stops the process with a clear message instead of
//! failing every handshake later: unreadable file, no certificate, no key,
//! a key that does not belong to the certificate.
//!
//! A client trusts the system's roots and the webpki roots, or only the CA
//! given with `--ca-cert` (a private authority), and may present its own
//! certificate for mutual TLS.
//!
//! TLS is rustls with the *ring* provider, installed as the process default
//! so that a second provider compiled in by another crate cannot make rustls
//! refuse to choose.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::CertifiedKey;
use tonic::transport::{Certificate, ClientTlsConfig, Identity, ServerTlsConfig};

use crate::words::{words, Words};

/// A TLS file or setting that cannot be used. The messages name the file,
/// never its content.
#[derive(Debug)]
pub enum TlsError {
    /// A certificate was given without its key.
    CertWithoutKey {
        /// The certificate's option.
        cert_flag: &'static str,
        /// The key's option.
        key_flag: &'static str,
    },
    /// A key was given without its certificate.
    KeyWithoutCert {
        /// The certificate's option.
        cert_flag: &'static str,
        /// The key's option.
        key_flag: &'static str,
    },
    /// A client CA was given to a server without TLS.
    ClientCaWithoutTls,
    /// A file could not be read.
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        cause: std::io::Error,
    },
    /// A file holds no PEM certificate.
    NoCertificate {
        /// The file.
        path: PathBuf,
    },
    /// A file holds no PEM private key.
    NoKey {
        /// The file.
        path: PathBuf,
    },
    /// The key does not belong to the certificate.
    KeyMismatch {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
    },
    /// The key or the certificate cannot be used.
    Unusable {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
        /// What rustls said.
        reason: String,
    },
    /// A certificate of a CA file cannot be used as a trust anchor.
    BadCa {
        /// The file.
        path: PathBuf,
        /// What rustls said.
        reason: String,
    },
    /// tonic refused the configuration.
    Config(String),
}

impl std::fmt::Display for TlsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.words().fr)
    }
}

impl std::error::Error for TlsError {}

impl TlsError {
    /// The message in French (`Display`) and in English, for the CLI's
    /// `--lang`.
    pub fn words(&self) -> Words {
        match self {
            TlsError::CertWithoutKey { cert_flag, key_flag } => words!(
                "{cert_flag} est donné sans {key_flag} : il faut le certificat et sa clé privée",
                "{cert_flag} is given without {key_flag}: the certificate and its private key are both needed"
            ),
            TlsError::KeyWithoutCert { cert_flag, key_flag } => words!(
                "{key_flag} est donné sans {cert_flag} : il faut le certificat et sa clé privée",
                "{key_flag} is given without {cert_flag}: the certificate and its private key are both needed"
            ),
            TlsError::ClientCaWithoutTls => words!(
                "--tls-client-ca (TLS mutuel) exige aussi --tls-cert et --tls-key",
                "--tls-client-ca (mutual TLS) also needs --tls-cert and --tls-key"
            ),
            TlsError::Read { path, cause } => {
                let path = path.display();
                words!(
                    "fichier TLS illisible {path} : {cause}",
                    "unreadable TLS file {path}: {cause}"
                )
            }
            TlsError::NoCertificate { path } => {
                let path = path.display();
                words!(
                    "{path} ne contient aucun certificat PEM (-----BEGIN CERTIFICATE-----)",
                    "{path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)"
                )
            }
            TlsError::NoKey { path } => {
                let path = path.display();
                words!(
                    "{path} ne contient aucune clé privée PEM lisible (PKCS#8, RSA ou EC)",
                    "{path} holds no readable PEM private key (PKCS#8, RSA or EC)"
                )
            }
            TlsError::KeyMismatch { cert, key } => {
                let (cert, key) = (cert.display(), key.display());
                words!(
                    "la clé privée {key} ne correspond pas au certificat {cert} : leurs clés publiques diffèrent",
                    "the private key {key} does not match the certificate {cert}: their public keys differ"
                )
            }
            TlsError::Unusable { cert, key, reason } => {
                let (cert, key) = (cert.display(), key.display());
                words!(
                    "certificat {cert} ou clé privée {key} inutilisable : {reason}",
                    "unusable certificate {cert} or private key {key}: {reason}"
                )
            }
            TlsError::BadCa { path, reason } => {
                let path = path.display();
                words!(
                    "certificat d'autorité inutilisable dans {path} : {reason}",
                    "unusable certificate authority in {path}: {reason}"
                )
            }
            TlsError::Config(reason) => words!(
                "configuration TLS refusée : {reason}",
                "TLS configuration refused: {reason}"
            ),
        }
    }
}

/// Installs *ring* as rustls' process-wide provider (once; later calls and a
/// provider installed elsewhere are kept).
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The TLS files of a server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerTlsFiles {
    /// Certificate chain, leaf first (PEM).
    pub cert: PathBuf,
    /// Private key of the leaf (PEM).
    pub key: PathBuf,
    /// CA of the clients' certificates: mutual TLS when set.
    pub client_ca: Option<PathBuf>,
}

impl ServerTlsFiles {
    /// The server's files from its settings: none at all means no TLS.
    ///
    /// # Errors
    /// A certificate without key or the reverse, a client CA without TLS.
    pub fn from_settings(
        cert: Option<&Path>,
        key: Option<&Path>,
        client_ca: Option<&Path>,
    ) -> Result<Option<Self>, TlsError> {
        const CERT: &str = "--tls-cert (tls_cert, VIGIE_TLS_CERT)";
        const KEY: &str = "--tls-key (tls_key, VIGIE_TLS_KEY)";
        match (cert, key) {
            (Some(cert), Some(key)) => Ok(Some(ServerTlsFiles {
                cert: cert.to_owned(),
                key: key.to_owned(),
                client_ca: client_ca.map(Path::to_owned),
            })),
            (Some(_), None) => Err(TlsError::CertWithoutKey {
                cert_flag: CERT,
                key_flag: KEY,
            }),
            (None, Some(_)) => Err(TlsError::KeyWithoutCert {
                cert_flag: CERT,
                key_flag: KEY,
            }),
            (None, None) if client_ca.is_some() => Err(TlsError::ClientCaWithoutTls),
            (None, None) => Ok(None),
        }
    }
}

/// A server's TLS configuration, checked.
#[derive(Debug, Clone)]
pub struct ServerTls {
    config: ServerTlsConfig,
    mutual: bool,
}

impl ServerTls {
    /// Reads and checks the files; `handshake_timeout` bounds each handshake
    /// (a client that connects and says nothing holds no task for long).
    ///
    /// # Errors
    /// [`TlsError`] naming the file at fault.
    pub fn load(files: &ServerTlsFiles, handshake_timeout: Duration) -> Result<Self, TlsError> {
        install_crypto_provider();
        let cert_pem = read(&files.cert)?;
        let key_pem = read(&files.key)?;
        check_identity(&files.cert, &cert_pem, &files.key, &key_pem)?;
        let mut config = ServerTlsConfig::new()
            .identity(Identity::from_pem(cert_pem, key_pem))
            .timeout(handshake_timeout);
        if let Some(ca) = &files.client_ca {
            let ca_pem = read(ca)?;
            check_ca(ca, &ca_pem)?;
            config = config.client_ca_root(Certificate::from_pem(ca_pem));
        }
        // tonic builds its acceptor here: what it would refuse at serve time
        // is refused now.
        tonic::transport::Server::builder()
            .tls_config(config.clone())
            .map_err(|error| TlsError::Config(error.to_string()))?;
        Ok(ServerTls {
            config,
            mutual: files.client_ca.is_some(),
        })
    }

    /// Whether clients must present a certificate.
    pub fn is_mutual(&self) -> bool {
        self.mutual
    }

    /// The configuration for tonic.
    pub(crate) fn config(&self) -> ServerTlsConfig {
        self.config.clone()
    }
}

/// The TLS files of a client; all optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientTlsFiles {
    /// The only CA to trust (a private authority); the system and webpki
    /// roots otherwise.
    pub ca_cert: Option<PathBuf>,
    /// The client's certificate, for mutual TLS.
    pub client_cert: Option<PathBuf>,
    /// The client certificate's key.
    pub client_key: Option<PathBuf>,
}

impl ClientTlsFiles {
    /// Whether any file is set.
    pub fn is_empty(&self) -> bool {
        self.ca_cert.is_none() && self.client_cert.is_none() && self.client_key.is_none()
    }

    /// Reads and checks the files into a tonic configuration.
    ///
    /// # Errors
    /// [`TlsError`] naming the file at fault.
    pub fn load(&self, handshake_timeout: Duration) -> Result<ClientTlsConfig, TlsError> {
        install_crypto_provider();
        let mut config = ClientTlsConfig::new().timeout(handshake_timeout);
        config = match &self.ca_cert {
            Some(path) => {
                let pem = read(path)?;
                check_ca(path, &pem)?;
                config.ca_certificate(Certificate::from_pem(pem))
            }
            None => config.with_enabled_roots(),
        };
        const CERT: &str = "--client-cert (VIGIE_CLIENT_CERT)";
        const KEY: &str = "--client-key (VIGIE_CLIENT_KEY)";
        match (&self.client_cert, &self.client_key) {
            (Some(cert), Some(key)) => {
                let cert_pem = read(cert)?;
                let key_pem = read(key)?;
                check_identity(cert, &cert_pem, key, &key_pem)?;
                config = config.identity(Identity::from_pem(cert_pem, key_pem));
            }
            (Some(_), None) => {
                return Err(TlsError::CertWithoutKey {
                    cert_flag: CERT,
                    key_flag: KEY,
                })
            }
            (None, Some(_)) => {
                return Err(TlsError::KeyWithoutCert {
                    cert_flag: CERT,
                    key_flag: KEY,
                })
            }
            (None, None) => {}
        }
        Ok(config)
    }
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|cause| TlsError::Read {
        path: path.to_owned(),
        cause,
    })
}

fn certificates(path: &Path, pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs: Vec<_> = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<_, _>>()
        .map_err(|_| TlsError::NoCertificate { path: path.to_owned() })?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate { path: path.to_owned() });
    }
    Ok(certs)
}

/// The certificate chain parses, the key parses, and the key is the leaf's.
fn check_identity(cert_path: &Path, cert_pem: &[u8], key_path: &Path, key_pem: &[u8]) -> Result<(), TlsError> {
    let certs = certificates(cert_path, cert_pem)?;
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|_| TlsError::NoKey {
        path: key_path.to_owned(),
    })?;
    let unusable = |reason: String| TlsError::Unusable {
        cert: cert_path.to_owned(),
        key: key_path.to_owned(),
        reason,
    };
    let signing_key = rustls::crypto::ring::default_provider()
        .key_provider
        .load_private_key(key)
        .map_err(|error| unusable(error.to_string()))?;
    match CertifiedKey::new(certs, signing_key).keys_match() {
        // ring knows the public key of every key type it loads; "unknown" is
        // rustls' answer for providers that do not, and proves nothing.
        Ok(()) | Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::Unknown)) => Ok(()),
        Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch)) => Err(TlsError::KeyMismatch {
            cert: cert_path.to_owned(),
            key: key_path.to_owned(),
        }),
        Err(error) => Err(unusable(error.to_string())),
    }
}

/// Every certificate of a CA file is a usable trust anchor.
fn check_ca(path: &Path, pem: &[u8]) -> Result<(), TlsError> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in certificates(path, pem)? {
        roots.add(cert).map_err(|error| TlsError::BadCa {
            path: path.to_owned(),
            reason: error.to_string(),
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_say_in_french_what_display_says_and_have_english() {
        let (cert, key) = (PathBuf::from("cert.pem"), PathBuf::from("key.pem"));
        let errors = [
            TlsError::CertWithoutKey {
                cert_flag: "--tls-cert",
                key_flag: "--tls-key",
            },
            TlsError::KeyWithoutCert {
                cert_flag: "--tls-cert",
                key_flag: "--tls-key",
            },
            TlsError::ClientCaWithoutTls,
            TlsError::Read {
                path: cert.clone(),
                cause: std::io::Error::other("introuvable"),
            },
            TlsError::NoCertificate { path: cert.clone() },
            TlsError::NoKey { path: key.clone() },
            TlsError::KeyMismatch {
                cert: cert.clone(),
                key: key.clone(),
            },
            TlsError::Unusable {
                cert: cert.clone(),
                key,
                reason: "bad".to_owned(),
            },
            TlsError::BadCa {
                path: cert,
                reason: "bad".to_owned(),
            },
            TlsError::Config("bad".to_owned()),
        ];
        for error in errors {
            let words = error.words();
            assert_eq!(words.fr, error.to_string());
            assert_ne!(words.en, words.fr, "{error}");
        }
    }

    #[test]
    fn settings_come_in_pairs() {
        let cert = Path::new("cert.pem");
        let key = Path::new("key.pem");
        let ca = Path::new("ca.pem");
        assert_eq!(ServerTlsFiles::from_settings(None, None, None).ok(), Some(None));
        assert!(matches!(
            ServerTlsFiles::from_settings(Some(cert), None, None),
            Err(TlsError::CertWithoutKey { .. })
        ));
        assert!(matches!(
            ServerTlsFiles::from_settings(None, Some(key), None),
            Err(TlsError::KeyWithoutCert { .. })
        ));
        assert!(matches!(
            ServerTlsFiles::from_settings(None, None, Some(ca)),
            Err(TlsError::ClientCaWithoutTls)
        ));
        let files = ServerTlsFiles::from_settings(Some(cert), Some(key), Some(ca))
            .ok()
            .flatten();
        assert_eq!(files.and_then(|f| f.client_ca), Some(ca.to_owned()));
    }

    #[test]
    fn messages_name_the_missing_half() {
        let error = ServerTlsFiles::from_settings(Some(Path::new("c.pem")), None, None).err();
        let message = error.map(|e| e.to_string()).unwrap_or_default();
        assert!(message.contains("--tls-cert"), "{message}");
        assert!(message.contains("sans --tls-key"), "{message}");
    }
}
