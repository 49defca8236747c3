//! How a Vigie process proves who it is to NATS and protects the link.
//!
//! A production broker asks its clients to authenticate (a credentials file
//! of the operator/JWT model, or an nkey) and serves TLS. The rule here is
//! "never a silent downgrade": as soon as a CA, a client certificate or
//! `require_tls` is configured, or the URL says `tls://`, the client refuses
//! a server that does not speak TLS instead of falling back to cleartext.

use std::path::{Path, PathBuf};

use async_nats::ConnectOptions;
use serde::{Deserialize, Serialize};

/// Authentication and TLS settings of the NATS connection (all optional:
/// the default is an anonymous cleartext connection, for development).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NatsSecurity {
    /// Credentials file (`.creds`: user JWT and nkey seed, as `nsc` writes it).
    pub creds: Option<PathBuf>,
    /// File holding an nkey user seed (`SU…`), for servers that list nkey users.
    pub nkey: Option<PathBuf>,
    /// CA certificate(s) (PEM) that the server's certificate must chain to;
    /// implies TLS. Without it, TLS uses the system's roots.
    pub tls_ca: Option<PathBuf>,
    /// Client certificate (PEM) for servers that verify clients; needs `tls_key`.
    pub tls_cert: Option<PathBuf>,
    /// Private key (PEM) of `tls_cert`.
    pub tls_key: Option<PathBuf>,
    /// Refuse a server that does not offer TLS.
    pub require_tls: bool,
}

/// A security setting that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum NatsSecurityError {
    /// Both a credentials file and an nkey seed were given.
    #[error("choose one of a credentials file and an nkey seed, not both")]
    CredsAndNkey,
    /// A client certificate without its key, or the reverse.
    #[error("a client certificate needs its key, and a key its certificate")]
    CertWithoutKey,
    /// A file cannot be read.
    #[error("cannot read {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The nkey file holds no seed.
    #[error("{path} holds no nkey user seed (a line starting with SU)")]
    NoSeed {
        /// The file.
        path: PathBuf,
    },
}

impl NatsSecurity {
    /// Whether the connection must be TLS: `require_tls`, a CA or a client
    /// certificate (the URL's `tls://` scheme is honoured by the client too).
    pub fn tls_required(&self) -> bool {
        self.require_tls || self.tls_ca.is_some() || self.tls_cert.is_some()
    }

    /// Adds these settings to `options`; reads the credential files now, so a
    /// missing file is reported before any connection attempt.
    ///
    /// # Errors
    /// [`NatsSecurityError`] for contradictory settings or unreadable files.
    pub async fn apply(&self, mut options: ConnectOptions) -> Result<ConnectOptions, NatsSecurityError> {
        if self.creds.is_some() && self.nkey.is_some() {
            return Err(NatsSecurityError::CredsAndNkey);
        }
        if self.tls_cert.is_some() != self.tls_key.is_some() {
            return Err(NatsSecurityError::CertWithoutKey);
        }
        if let Some(path) = &self.creds {
            options = options
                .credentials_file(path)
                .await
                .map_err(|source| NatsSecurityError::Read {
                    path: path.clone(),
                    source,
                })?;
        }
        if let Some(path) = &self.nkey {
            options = options.nkey(read_seed(path)?);
        }
        for path in [&self.tls_ca, &self.tls_cert, &self.tls_key].into_iter().flatten() {
            // Read once here for a clear error; the client reads them again.
            std::fs::metadata(path).map_err(|source| NatsSecurityError::Read {
                path: path.clone(),
                source,
            })?;
        }
        if let Some(ca) = &self.tls_ca {
            options = options.add_root_certificates(ca.clone());
        }
        if let (Some(cert), Some(key)) = (&self.tls_cert, &self.tls_key) {
            options = options.add_client_certificate(cert.clone(), key.clone());
        }
        if self.tls_required() {
            options = options.require_tls(true);
        }
        Ok(options)
    }
}

/// The first `SU…` line of an nkey seed file (comments and blank lines, as
/// `nk` and `nsc` write around it, are skipped).
fn read_seed(path: &Path) -> Result<String, NatsSecurityError> {
    let text = std::fs::read_to_string(path).map_err(|source| NatsSecurityError::Read {
        path: path.to_owned(),
        source,
    })?;
    seed_in(&text).ok_or_else(|| NatsSecurityError::NoSeed { path: path.to_owned() })
}

fn seed_in(text: &str) -> Option<String> {
    text.lines()
        .map(str::trim)
        .find(|line| line.starts_with("SU"))
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_is_required_as_soon_as_something_tls_is_configured() {
        assert!(!NatsSecurity::default().tls_required());
        for security in [
            NatsSecurity {
                require_tls: true,
                ..NatsSecurity::default()
            },
            NatsSecurity {
                tls_ca: Some("ca.pem".into()),
                ..NatsSecurity::default()
            },
            NatsSecurity {
                tls_cert: Some("c.pem".into()),
                tls_key: Some("k.pem".into()),
                ..NatsSecurity::default()
            },
        ] {
            assert!(security.tls_required(), "{security:?}");
        }
    }

    #[test]
    fn finds_the_seed_among_comments() {
        let text = "-----BEGIN USER NKEY SEED-----\n  SUAKEY123\n------END USER NKEY SEED------\n";
        assert_eq!(seed_in(text).as_deref(), Some("SUAKEY123"));
        assert_eq!(seed_in("# nothing here\n"), None);
    }
}
