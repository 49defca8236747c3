//! Is the PostgreSQL connection protected? A pure reading of the URL.
//!
//! sqlx encrypts with rustls when the URL asks for it (`sslmode=require`,
//! `verify-ca`, `verify-full`; `sslrootcert=FILE` for a private CA). Only
//! `verify-full` protects against an active attacker: `require` encrypts
//! without checking who answers, `verify-ca` accepts any certificate of the
//! CA whatever host it names, and the default (`prefer`) silently falls back
//! to cleartext. A database on the same machine (loopback address or Unix
//! socket) is not exposed on a network, so only a remote host without
//! `verify-full` is reported; [`super::Db::connect`] logs it and
//! `vigie serve` says it on stderr, loudly, without refusing to start.

/// The `sslmode` of a PostgreSQL URL (libpq's names; default `prefer`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    /// `disable`: never encrypt.
    Disable,
    /// `allow`: cleartext first, TLS if the server insists.
    Allow,
    /// `prefer` (the default): TLS if the server offers it, else cleartext.
    Prefer,
    /// `require`: TLS, certificate not checked.
    Require,
    /// `verify-ca`: TLS, certificate signed by a trusted CA, name not checked.
    VerifyCa,
    /// `verify-full`: TLS, trusted certificate naming the host.
    VerifyFull,
}

impl SslMode {
    fn parse(value: &str) -> Option<SslMode> {
        Some(match value.to_ascii_lowercase().as_str() {
            "disable" => SslMode::Disable,
            "allow" => SslMode::Allow,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            _ => return None,
        })
    }

    /// The libpq name.
    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Allow => "allow",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

/// A remote database reached without `verify-full`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeakTransport {
    /// The database host as written in the URL.
    pub host: String,
    /// The effective `sslmode`.
    pub sslmode: SslMode,
}

impl WeakTransport {
    /// The warning for the operator, in French.
    pub fn french(&self) -> String {
        let risk = match self.sslmode {
            SslMode::Disable | SslMode::Allow | SslMode::Prefer => "peut circuler en clair",
            SslMode::Require => "est chiffrée sans vérifier le certificat du serveur",
            SslMode::VerifyCa | SslMode::VerifyFull => "ne vérifie pas que le certificat nomme le serveur",
        };
        format!(
            "ATTENTION : la connexion à PostgreSQL sur {} (sslmode={}) {risk} ; \
             ajoutez ?sslmode=verify-full (et sslrootcert=FICHIER pour une autorité privée) à --database-url",
            self.host,
            self.sslmode.as_str()
        )
    }
}

/// The weakness of the connection that `url` describes, if any:
/// `None` for a loopback host or a Unix socket, or with `sslmode=verify-full`.
/// `env_sslmode` is `PGSSLMODE`, which sqlx reads when the URL has no
/// `sslmode`. Not a PostgreSQL URL: `None`.
pub fn weakness(url: &str, env_sslmode: Option<&str>) -> Option<WeakTransport> {
    let rest = url
        .strip_prefix("postgres://")
        .or_else(|| url.strip_prefix("postgresql://"))?;
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    let mut host = strip_port(host_port).to_owned();
    let mut sslmode = None;
    if let Some((_, query)) = rest.split_once('?') {
        let query = query.split('#').next().unwrap_or_default();
        for pair in query.split('&') {
            match pair.split_once('=') {
                Some(("host", value)) if !value.is_empty() => host = value.to_owned(),
                Some(("sslmode", value)) => sslmode = SslMode::parse(value),
                _ => {}
            }
        }
    }
    let sslmode = sslmode
        .or_else(|| env_sslmode.and_then(SslMode::parse))
        .unwrap_or(SslMode::Prefer);
    if sslmode == SslMode::VerifyFull || is_local(&host) {
        return None;
    }
    Some(WeakTransport { host, sslmode })
}

fn strip_port(host_port: &str) -> &str {
    if let Some(bracketed) = host_port.strip_prefix('[') {
        return bracketed.split(']').next().unwrap_or_default();
    }
    host_port.split(':').next().unwrap_or_default()
}

/// Loopback names and addresses, and Unix socket directories (empty host:
/// sqlx's default socket or `localhost`).
fn is_local(host: &str) -> bool {
    if host.is_empty() || host.starts_with('/') || host.to_ascii_lowercase().starts_with("%2f") {
        return true;
    }
    crate::net::is_loopback_host(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(url: &str) -> Option<(String, SslMode)> {
        weakness(url, None).map(|weak| (weak.host, weak.sslmode))
    }

    #[test]
    fn remote_hosts_need_verify_full() {
        assert_eq!(
            check("postgres://vigie:pw@db.example/inventory"),
            Some(("db.example".to_owned(), SslMode::Prefer))
        );
        assert_eq!(
            check("postgres://db.example:5433/inv?sslmode=require"),
            Some(("db.example".to_owned(), SslMode::Require))
        );
        assert_eq!(
            check("postgresql://10.0.0.4/inv?sslmode=verify-ca&sslrootcert=/ca.pem"),
            Some(("10.0.0.4".to_owned(), SslMode::VerifyCa))
        );
        assert_eq!(
            check("postgres://[2001:db8::5]:5432/inv?sslmode=disable"),
            Some(("2001:db8::5".to_owned(), SslMode::Disable))
        );
        assert_eq!(check("postgres://vigie:pw@db.example/inv?sslmode=verify-full"), None);
    }

    #[test]
    fn local_databases_are_not_reported() {
        for url in [
            "postgres://postgres@127.0.0.1:5432/x",
            "postgres://localhost/x",
            "postgres://u:p@[::1]:5432/x",
            "postgres:///x",
            "postgres:///x?host=/var/run/postgresql",
            "postgres://%2Fvar%2Frun%2Fpostgresql/x",
        ] {
            assert_eq!(check(url), None, "{url}");
        }
        // A `host=` parameter wins over the authority.
        assert_eq!(
            check("postgres://localhost/x?host=db.example"),
            Some(("db.example".to_owned(), SslMode::Prefer))
        );
    }

    #[test]
    fn pgsslmode_applies_when_the_url_has_none() {
        assert_eq!(weakness("postgres://db.example/x", Some("verify-full")), None);
        assert!(weakness("postgres://db.example/x?sslmode=require", Some("verify-full")).is_some());
        assert_eq!(check("sqlite:///tmp/x.db"), None);
    }

    #[test]
    fn the_warning_names_the_host_and_the_remedy_without_secrets() {
        let text = weakness("postgres://vigie:hunter2@db.example/x?sslmode=require", None)
            .map(|weak| weak.french())
            .unwrap_or_default();
        assert!(text.contains("db.example") && text.contains("verify-full") && text.contains("sslmode=require"));
        assert!(!text.contains("hunter2"));
    }
}
