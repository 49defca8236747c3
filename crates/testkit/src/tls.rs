//! A certificate authority made for one test (rcgen), and the certificates
//! it signs, written as PEM files.
//!
//! Transport tests must prove two things: the right CA lets a client in, and
//! anything else (another CA, a certificate for another name, no TLS at all)
//! keeps it out. So each test makes its own CA rather than sharing a fixed
//! one: nothing in the repository is a trusted key, and a second [`TestCa`]
//! is the "wrong CA" of a negative test.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};
use tempfile::TempDir;

/// A CA whose certificate and issued certificates live in a private
/// temporary directory (removed on drop).
pub struct TestCa {
    cert: rcgen::Certificate,
    key: KeyPair,
    dir: TempDir,
    issued: usize,
}

impl std::fmt::Debug for TestCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestCa")
            .field("dir", &self.dir.path())
            .field("issued", &self.issued)
            .finish_non_exhaustive()
    }
}

/// A certificate signed by a [`TestCa`], as PEM files.
#[derive(Debug, Clone)]
pub struct IssuedCert {
    /// The certificate (PEM).
    pub cert: PathBuf,
    /// Its private key (PKCS#8 PEM).
    pub key: PathBuf,
}

impl TestCa {
    /// Creates a CA named `name` (its common name) and writes `ca.pem`.
    ///
    /// # Errors
    /// Key generation or writing the file fails.
    pub fn new(name: &str) -> Result<TestCa> {
        let mut params = CertificateParams::new(Vec::<String>::new()).context("CA parameters")?;
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().context("CA key")?;
        let cert = params.self_signed(&key).context("self-signing the CA")?;
        let dir = tempfile::Builder::new()
            .prefix("vigie-ca-")
            .tempdir()
            .context("creating the CA directory")?;
        std::fs::write(dir.path().join("ca.pem"), cert.pem()).context("writing ca.pem")?;
        Ok(TestCa {
            cert,
            key,
            dir,
            issued: 0,
        })
    }

    /// The CA certificate (PEM file), what clients trust.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// The directory holding the files (readable by the caller; tests may
    /// copy files elsewhere, e.g. for a server running as another user).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Issues a certificate for `names` (DNS names or IP addresses, e.g.
    /// `["localhost", "127.0.0.1"]`), usable by servers and clients.
    ///
    /// # Errors
    /// Signing or writing the files fails.
    pub fn issue(&mut self, names: &[&str]) -> Result<IssuedCert> {
        let names: Vec<String> = names.iter().map(|name| (*name).to_owned()).collect();
        let mut params = CertificateParams::new(names.clone()).context("certificate parameters")?;
        if let Some(first) = names.first() {
            params.distinguished_name.push(DnType::CommonName, first.as_str());
        }
        params.extended_key_usages = vec![
            rcgen::ExtendedKeyUsagePurpose::ServerAuth,
            rcgen::ExtendedKeyUsagePurpose::ClientAuth,
        ];
        let key = KeyPair::generate().context("certificate key")?;
        let cert = params
            .signed_by(&key, &self.cert, &self.key)
            .context("signing the certificate")?;
        self.issued += 1;
        let issued = IssuedCert {
            cert: self.dir.path().join(format!("cert-{}.pem", self.issued)),
            key: self.dir.path().join(format!("key-{}.pem", self.issued)),
        };
        std::fs::write(&issued.cert, cert.pem()).context("writing the certificate")?;
        std::fs::write(&issued.key, key.serialize_pem()).context("writing the key")?;
        Ok(issued)
    }
}
