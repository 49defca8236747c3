//! A private certificate authority made in the test, for TLS on loopback.
//!
//! TLS tests need certificates that no real authority signed: a client that
//! trusts the test CA must connect, one that trusts only the public roots
//! must not. [`TestCa`] generates a fresh CA (ECDSA P-256) per test and signs
//! server certificates for `127.0.0.1`, `::1` and `localhost`, and client
//! certificates for mutual TLS; [`TestCa::write`] puts everything in PEM files,
//! as an operator would hand them to `vigie serve --tls-cert … --tls-key …`.
//! [`TestCa::issue`] signs a certificate for any names into the CA's own
//! private directory (PostgreSQL, NATS and SMTP servers of the transport
//! tests). Each test makes its own CA: nothing in the repository is a trusted
//! key, and a second [`TestCa`] is the "wrong CA" of a negative test.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use tempfile::TempDir;

/// A certificate and its private key, in PEM.
#[derive(Debug, Clone)]
pub struct PemPair {
    /// The certificate (`-----BEGIN CERTIFICATE-----`).
    pub cert: String,
    /// The private key (`-----BEGIN PRIVATE KEY-----`, PKCS#8).
    pub key: String,
}

/// Paths of a certificate and its key written by [`TestCa::write`].
#[derive(Debug, Clone)]
pub struct PemFiles {
    /// The certificate file.
    pub cert: PathBuf,
    /// The private key file.
    pub key: PathBuf,
}

/// A certificate authority generated for one test; its `ca.pem` and the
/// certificates of [`TestCa::issue`] live in a private temporary directory
/// (removed on drop).
pub struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
    dir: TempDir,
    issued: usize,
}

/// A certificate signed by [`TestCa::issue`], as PEM files.
#[derive(Debug, Clone)]
pub struct IssuedCert {
    /// The certificate (PEM).
    pub cert: PathBuf,
    /// Its private key (PKCS#8 PEM).
    pub key: PathBuf,
}

impl std::fmt::Debug for TestCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TestCa")
    }
}

impl TestCa {
    /// A new self-signed CA named `name`.
    ///
    /// # Errors
    /// When key generation or signing fails.
    pub fn new(name: &str) -> Result<Self> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.distinguished_name = DistinguishedName::new();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate()?)?;
        let dir = tempfile::Builder::new()
            .prefix("vigie-ca-")
            .tempdir()
            .context("creating the CA directory")?;
        std::fs::write(dir.path().join("ca.pem"), issuer.pem()).context("writing ca.pem")?;
        Ok(TestCa { issuer, dir, issued: 0 })
    }

    /// The CA certificate (PEM file in the CA's directory), what clients trust.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// The directory holding the CA's files (tests may copy files elsewhere,
    /// e.g. for a server running as another user).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Issues a certificate for `names` (DNS names or IP addresses, e.g.
    /// `["localhost", "127.0.0.1"]`), usable by servers and clients, written
    /// in the CA's directory.
    ///
    /// # Errors
    /// Signing or writing the files fails.
    pub fn issue(&mut self, names: &[&str]) -> Result<IssuedCert> {
        let names: Vec<String> = names.iter().map(|name| (*name).to_owned()).collect();
        let mut params = CertificateParams::new(names.clone()).context("certificate parameters")?;
        params.distinguished_name = DistinguishedName::new();
        if let Some(first) = names.first() {
            params.distinguished_name.push(DnType::CommonName, first.as_str());
        }
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth, ExtendedKeyUsagePurpose::ClientAuth];
        params.use_authority_key_identifier_extension = true;
        let key = KeyPair::generate().context("certificate key")?;
        let cert = params
            .signed_by(&key, &self.issuer)
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

    /// The CA certificate in PEM (what `--ca-cert` / `--tls-client-ca` take).
    pub fn cert_pem(&self) -> String {
        self.issuer.pem()
    }

    /// A server certificate for the loopback names (`127.0.0.1`, `::1`,
    /// `localhost`), signed by this CA.
    ///
    /// # Errors
    /// When key generation or signing fails.
    pub fn server(&self) -> Result<PemPair> {
        self.leaf(
            "vigie test server",
            vec!["127.0.0.1".into(), "::1".into(), "localhost".into()],
            ExtendedKeyUsagePurpose::ServerAuth,
        )
    }

    /// A client certificate named `name` (mutual TLS), signed by this CA.
    ///
    /// # Errors
    /// When key generation or signing fails.
    pub fn client(&self, name: &str) -> Result<PemPair> {
        self.leaf(name, vec![name.to_owned()], ExtendedKeyUsagePurpose::ClientAuth)
    }

    fn leaf(&self, name: &str, subject_alt_names: Vec<String>, usage: ExtendedKeyUsagePurpose) -> Result<PemPair> {
        let mut params = CertificateParams::new(subject_alt_names)?;
        params.distinguished_name = DistinguishedName::new();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![usage];
        params.use_authority_key_identifier_extension = true;
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &self.issuer)?;
        Ok(PemPair {
            cert: cert.pem(),
            key: key.serialize_pem(),
        })
    }

    /// Writes the CA certificate (`ca.pem`), a server certificate and key
    /// (`server.pem`, `server-key.pem`) and a client certificate and key
    /// (`client.pem`, `client-key.pem`) into `dir`.
    ///
    /// # Errors
    /// When generation fails or a file cannot be written.
    pub fn write(&self, dir: &Path) -> Result<TestPki> {
        let ca = dir.join("ca.pem");
        std::fs::write(&ca, self.cert_pem())?;
        let server = write_pair(dir, "server", &self.server()?)?;
        let client = write_pair(dir, "client", &self.client("vigie-test-client")?)?;
        Ok(TestPki { ca, server, client })
    }
}

/// The files written by [`TestCa::write`].
#[derive(Debug, Clone)]
pub struct TestPki {
    /// The CA certificate.
    pub ca: PathBuf,
    /// The server certificate and key.
    pub server: PemFiles,
    /// The client certificate and key.
    pub client: PemFiles,
}

fn write_pair(dir: &Path, name: &str, pair: &PemPair) -> Result<PemFiles> {
    let files = PemFiles {
        cert: dir.join(format!("{name}.pem")),
        key: dir.join(format!("{name}-key.pem")),
    };
    std::fs::write(&files.cert, &pair.cert)?;
    std::fs::write(&files.key, &pair.key)?;
    Ok(files)
}
