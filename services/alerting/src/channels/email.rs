//! Email over SMTP (lettre): one digest per message, text and HTML.
//!
//! Each message is `multipart/alternative` (a UTF-8 `text/plain` part, then a
//! UTF-8 `text/html` part) with:
//! - `Message-ID: <id>` chosen by the caller, derived from the send-log key,
//!   so that a resend after a crash carries the same id and the recipient's
//!   mail system can recognise the duplicate;
//! - `List-Unsubscribe: <url>` and `List-Unsubscribe-Post:
//!   List-Unsubscribe=One-Click` (RFC 8058: one-click unsubscribe from the
//!   mail client);
//! - `Auto-Submitted: auto-generated` (RFC 3834: no auto-replies expected).
//!
//! Connections are kept open and reused from one message to the next
//! ([`super::smtp_pool`], [`POOL_SIZE`] parked at most, with `TCP_NODELAY`):
//! a delivery pass sends its whole batch over one connection instead of
//! paying a TCP (and TLS, and AUTH) handshake per message. A parked
//! connection is reused without a check: when its first command fails (a
//! relay that restarted between two sends) the message starts again on a new
//! one. A connection that failed (any error reply, a broken socket, a
//! timeout) is closed, never reused, and the next message opens a new one:
//! one refused recipient costs a reconnection, not the other messages.
//!
//! Transport security ([`SmtpTls`]): STARTTLS (port 587) or implicit TLS
//! (port 465, "SMTPS"), with the Mozilla roots or a private CA
//! (`ca_cert`). A password is never sent over cleartext: a configuration
//! with credentials and without TLS is refused ([`SmtpConfig::validate`]).

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, CertificateStore, Tls, TlsParameters};
use lettre::{Address, Message};
use serde::{Deserialize, Serialize};

pub use super::smtp_pool::POOL_SIZE;
use super::smtp_pool::{Endpoint, PoolError, SmtpPool};
use super::SendError;

/// The SMTP relay the reminders go through.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    /// Host name of the relay (also the name its certificate must carry with STARTTLS).
    pub host: String,
    /// Port of the relay (587 for submission with STARTTLS, 25 for a local relay).
    pub port: u16,
    /// The sender, e.g. `Vigie <alertes@reseau.example>`.
    pub from: String,
    /// Require STARTTLS (rustls, Mozilla roots) before sending anything;
    /// kept for older files, `tls` says the same and more.
    #[serde(default)]
    pub starttls: bool,
    /// `"starttls"`, `"implicit"` (TLS from the first byte, port 465) or
    /// `"none"`. Unset: STARTTLS when `starttls = true`, implicit TLS on
    /// port 465, else none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<SmtpTls>,
    /// CA certificate (PEM) of a relay whose certificate a private authority
    /// signed; replaces the Mozilla roots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_cert: Option<PathBuf>,
    /// Login for SMTP authentication (PLAIN or LOGIN), if the relay requires it.
    #[serde(default)]
    pub username: Option<String>,
    /// Password for SMTP authentication; never serialised nor printed.
    #[serde(default, skip_serializing)]
    pub password: Option<String>,
    /// Bound on each network step (connecting, each command); a whole send is
    /// bounded by three times this. In seconds in configuration files;
    /// [`DEFAULT_SMTP_TIMEOUT`] when not given.
    #[serde(with = "seconds", default = "default_timeout")]
    pub timeout: Duration,
}

/// The bound on each SMTP step when the configuration gives none.
pub const DEFAULT_SMTP_TIMEOUT: Duration = Duration::from_secs(30);

fn default_timeout() -> Duration {
    DEFAULT_SMTP_TIMEOUT
}

impl Default for SmtpConfig {
    /// A relay on the local host, port 25, without TLS nor authentication.
    fn default() -> Self {
        SmtpConfig {
            host: "127.0.0.1".to_owned(),
            port: 25,
            from: "Vigie <alertes@localhost>".to_owned(),
            starttls: false,
            tls: None,
            ca_cert: None,
            username: None,
            password: None,
            timeout: DEFAULT_SMTP_TIMEOUT,
        }
    }
}

/// How the connection to the relay is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Cleartext (a relay on the same host, without authentication).
    None,
    /// Cleartext greeting, then `STARTTLS`, required before anything else.
    Starttls,
    /// TLS from the first byte (SMTPS, port 465).
    Implicit,
}

impl SmtpConfig {
    /// The effective TLS mode: `tls` when set, else STARTTLS when
    /// `starttls`, else implicit TLS on port 465, else none.
    pub fn tls_mode(&self) -> SmtpTls {
        match self.tls {
            Some(mode) => mode,
            None if self.starttls => SmtpTls::Starttls,
            None if self.port == 465 => SmtpTls::Implicit,
            None => SmtpTls::None,
        }
    }

    /// Checks the settings can be used safely.
    ///
    /// # Errors
    /// A French message when a password would travel in cleartext
    /// (authentication without TLS), or `starttls` contradicts `tls`.
    pub fn validate(&self) -> Result<(), String> {
        if self.starttls && self.tls.is_some_and(|mode| mode != SmtpTls::Starttls) {
            return Err(
                "smtp : starttls = true contredit tls ; gardez seulement tls = \"starttls\" ou \"implicit\"".to_owned(),
            );
        }
        let authenticates = self.username.is_some() || self.password.is_some();
        if authenticates && self.tls_mode() == SmtpTls::None {
            return Err(format!(
                "smtp : authentification sans TLS refusée (le mot de passe circulerait en clair vers {}:{}) ; \
                 choisissez tls = \"starttls\" (port 587) ou tls = \"implicit\" (port 465)",
                self.host, self.port
            ));
        }
        if self.ca_cert.is_some() && self.tls_mode() == SmtpTls::None {
            return Err("smtp : ca_cert n'a de sens qu'avec TLS (tls = \"starttls\" ou \"implicit\")".to_owned());
        }
        Ok(())
    }

    /// The TLS parameters for the relay's host name (and the private CA).
    fn tls_parameters(&self) -> anyhow::Result<TlsParameters> {
        let mut builder = TlsParameters::builder(self.host.clone());
        if let Some(path) = &self.ca_cert {
            let pem = std::fs::read(path)
                .map_err(|error| anyhow::anyhow!("lecture de smtp.ca_cert {} : {error}", path.display()))?;
            let certificate = Certificate::from_pem(&pem)
                .map_err(|error| anyhow::anyhow!("smtp.ca_cert {} illisible : {error}", path.display()))?;
            builder = builder
                .certificate_store(CertificateStore::None)
                .add_root_certificate(certificate);
        }
        builder
            .build()
            .map_err(|error| anyhow::anyhow!("paramètres TLS pour {} : {error}", self.host))
    }
}

impl fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("from", &self.from)
            .field("starttls", &self.starttls)
            .field("tls", &self.tls)
            .field("ca_cert", &self.ca_cert)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<masqué>"))
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// Durations as whole seconds in configuration.
mod seconds {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u64(duration.as_secs())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
        u64::deserialize(deserializer).map(Duration::from_secs)
    }
}

/// One message to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingEmail {
    /// The `Message-ID`, without angle brackets (`left@right`), stable across
    /// retries of the same send.
    pub message_id: String,
    /// The recipient's address.
    pub to: String,
    /// The recipient's display name (may be empty).
    pub to_name: String,
    /// The subject.
    pub subject: String,
    /// The plain-text body.
    pub text: String,
    /// The HTML body.
    pub html: String,
    /// The one-click unsubscribe URL (`https://…`).
    pub list_unsubscribe: String,
}

/// Sends [`OutgoingEmail`]s through the configured relay (clones share
/// their connections).
#[derive(Clone)]
pub struct SmtpMailer {
    pool: Arc<SmtpPool>,
    from: Mailbox,
    timeout: Duration,
}

impl fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpMailer")
            .field("from", &self.from.to_string())
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

const LIST_UNSUBSCRIBE: HeaderName = HeaderName::new_from_ascii_str("List-Unsubscribe");
const LIST_UNSUBSCRIBE_POST: HeaderName = HeaderName::new_from_ascii_str("List-Unsubscribe-Post");
const AUTO_SUBMITTED: HeaderName = HeaderName::new_from_ascii_str("Auto-Submitted");

impl SmtpMailer {
    /// Prepares the transport (nothing is connected until the first send).
    ///
    /// # Errors
    /// The configuration is refused ([`SmtpConfig::validate`]: no password
    /// over cleartext), the sender address is not valid, or the TLS
    /// parameters (CA file) cannot be built.
    pub fn new(config: SmtpConfig) -> anyhow::Result<SmtpMailer> {
        config.validate().map_err(anyhow::Error::msg)?;
        let from: Mailbox = config
            .from
            .parse()
            .map_err(|error| anyhow::anyhow!("adresse d'expédition {:?} invalide : {error}", config.from))?;
        let tls = match config.tls_mode() {
            SmtpTls::None => Tls::None,
            SmtpTls::Starttls => Tls::Required(config.tls_parameters()?),
            SmtpTls::Implicit => Tls::Wrapper(config.tls_parameters()?),
        };
        let credentials = config
            .username
            .as_ref()
            .map(|username| Credentials::new(username.clone(), config.password.clone().unwrap_or_default()));
        Ok(SmtpMailer {
            pool: Arc::new(SmtpPool::new(Endpoint {
                host: config.host.clone(),
                port: config.port,
                tls,
                credentials,
                connect_timeout: config.timeout,
            })),
            from,
            timeout: config.timeout,
        })
    }

    /// How many connections are parked for reuse.
    pub fn parked_connections(&self) -> usize {
        self.pool.parked()
    }

    /// Builds the message (see the module's documentation for its headers).
    ///
    /// # Errors
    /// [`SendError::Permanent`] when the recipient, the message id or the
    /// unsubscribe URL is not valid.
    pub fn build(&self, mail: &OutgoingEmail) -> Result<Message, SendError> {
        let address: Address = mail
            .to
            .trim()
            .parse()
            .map_err(|error| SendError::Permanent(format!("adresse {:?} invalide : {error}", mail.to)))?;
        let name = mail.to_name.trim();
        let to = Mailbox::new((!name.is_empty()).then(|| name.to_owned()), address);
        if !is_header_token(&mail.message_id) {
            return Err(SendError::Permanent(format!(
                "identifiant de message {:?} invalide",
                mail.message_id
            )));
        }
        if !is_header_token(&mail.list_unsubscribe) {
            return Err(SendError::Permanent(format!(
                "lien de désabonnement {:?} invalide",
                mail.list_unsubscribe
            )));
        }
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.as_str())
            .message_id(Some(format!("<{}>", mail.message_id)))
            .raw_header(HeaderValue::new(
                LIST_UNSUBSCRIBE,
                format!("<{}>", mail.list_unsubscribe),
            ))
            .raw_header(HeaderValue::new(
                LIST_UNSUBSCRIBE_POST,
                "List-Unsubscribe=One-Click".to_owned(),
            ))
            .raw_header(HeaderValue::new(AUTO_SUBMITTED, "auto-generated".to_owned()))
            .multipart(
                MultiPart::alternative()
                    .singlepart(SinglePart::plain(mail.text.clone()))
                    .singlepart(SinglePart::html(mail.html.clone())),
            )
            .map_err(|error| SendError::Permanent(format!("message invalide : {error}")))
    }

    /// Sends one message.
    ///
    /// # Errors
    /// [`SendError::Transient`] when the relay cannot be reached, times out,
    /// or answers 4xx; [`SendError::Permanent`] when it answers 5xx (for the
    /// recipient or the message) or the message cannot be built.
    pub async fn send(&self, mail: &OutgoingEmail) -> Result<(), SendError> {
        let message = self.build(mail)?;
        let bound = self.timeout.saturating_mul(3);
        // A send cut by this timeout drops its connection (never parked again).
        let outcome = tokio::time::timeout(bound, self.pool.send(message.envelope(), &message.formatted())).await;
        match outcome {
            Err(_) => Err(SendError::Transient(format!(
                "le serveur SMTP n'a pas répondu en {bound:?}"
            ))),
            Ok(Ok(())) => Ok(()),
            Ok(Err(PoolError::Smtp(error))) => Err(classify(&error)),
            Ok(Err(PoolError::Connect(error))) => Err(SendError::Transient(format!(
                "connexion au serveur SMTP impossible : {error}"
            ))),
            Ok(Err(PoolError::Unsupported(reason))) => Err(SendError::Permanent(reason.to_owned())),
        }
    }
}

/// 5xx replies are permanent; everything else (4xx, connection, TLS, timeouts) is transient.
fn classify(error: &lettre::transport::smtp::Error) -> SendError {
    let text = describe(error);
    if error.is_permanent() {
        SendError::Permanent(text)
    } else {
        SendError::Transient(text)
    }
}

/// The error and its causes on one line.
fn describe(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(" : ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// Visible ASCII without spaces nor angle brackets: safe between `<` and `>` in a header.
fn is_header_token(value: &str) -> bool {
    !value.is_empty() && value.len() <= 900 && value.bytes().all(|b| b.is_ascii_graphic() && b != b'<' && b != b'>')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail() -> OutgoingEmail {
        OutgoingEmail {
            message_id: "r-1@vigie.example".into(),
            to: "marie@example.org".into(),
            to_name: "Marie Dupont".into(),
            subject: "Vigie — 1 échéance de financement à venir".into(),
            text: "Bonjour".into(),
            html: "<p>Bonjour</p>".into(),
            list_unsubscribe: "https://vigie.example/u/T".into(),
        }
    }

    fn mailer() -> SmtpMailer {
        SmtpMailer::new(SmtpConfig::default()).unwrap()
    }

    #[test]
    fn the_tls_mode_follows_tls_then_starttls_then_port_465() {
        let base = SmtpConfig::default();
        assert_eq!(base.tls_mode(), SmtpTls::None);
        let starttls = SmtpConfig {
            starttls: true,
            port: 587,
            ..SmtpConfig::default()
        };
        assert_eq!(starttls.tls_mode(), SmtpTls::Starttls);
        let smtps = SmtpConfig {
            port: 465,
            ..SmtpConfig::default()
        };
        assert_eq!(smtps.tls_mode(), SmtpTls::Implicit);
        let explicit = SmtpConfig {
            port: 2465,
            tls: Some(SmtpTls::Implicit),
            ..SmtpConfig::default()
        };
        assert_eq!(explicit.tls_mode(), SmtpTls::Implicit);
        let forced_plain = SmtpConfig {
            port: 465,
            tls: Some(SmtpTls::None),
            ..SmtpConfig::default()
        };
        assert_eq!(forced_plain.tls_mode(), SmtpTls::None);
    }

    #[test]
    fn authentication_without_tls_is_refused_with_a_clear_message() {
        let config = SmtpConfig {
            port: 587,
            username: Some("vigie".into()),
            password: Some("hunter2".into()),
            ..SmtpConfig::default()
        };
        let error = config.validate().unwrap_err();
        assert!(error.contains("authentification sans TLS refusée"), "{error}");
        assert!(!error.contains("hunter2"));
        assert!(SmtpMailer::new(config.clone()).is_err());
        for tls in [SmtpTls::Starttls, SmtpTls::Implicit] {
            let config = SmtpConfig {
                tls: Some(tls),
                ..config.clone()
            };
            assert_eq!(config.validate(), Ok(()));
        }
        let contradiction = SmtpConfig {
            starttls: true,
            tls: Some(SmtpTls::Implicit),
            ..SmtpConfig::default()
        };
        assert!(contradiction.validate().is_err());
    }

    #[test]
    fn tls_settings_deserialise() {
        let config: SmtpConfig =
            from_json(r#"{"host":"smtp.example","port":465,"from":"a@b.example","tls":"implicit","timeout":10}"#);
        assert_eq!(config.tls_mode(), SmtpTls::Implicit);
        assert!(!config.starttls);
    }

    #[test]
    fn the_timeout_defaults_to_thirty_seconds() {
        let config = from_json(r#"{"host":"smtp.example","port":587,"from":"a@b.example"}"#);
        assert_eq!(config.timeout, DEFAULT_SMTP_TIMEOUT);
        assert_eq!(DEFAULT_SMTP_TIMEOUT, Duration::from_secs(30));
        assert_eq!(
            from_json(r#"{"host":"h","port":25,"from":"a@b.example","timeout":5}"#).timeout,
            Duration::from_secs(5)
        );
    }

    fn from_json(json: &str) -> SmtpConfig {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn the_password_is_never_printed_nor_serialised() {
        let config = SmtpConfig {
            username: Some("vigie".into()),
            password: Some("hunter2".into()),
            ..SmtpConfig::default()
        };
        let debug = format!("{config:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(debug.contains("<masqué>"), "{debug}");
        let json = serde_json::to_string(&config).unwrap();
        assert!(!json.contains("hunter2"), "{json}");
        let back: SmtpConfig =
            serde_json::from_str(r#"{"host":"smtp.example","port":587,"from":"Vigie <a@b.example>","starttls":true,"password":"p","timeout":10}"#)
                .unwrap();
        assert_eq!(back.timeout, Duration::from_secs(10));
        assert_eq!(back.password.as_deref(), Some("p"));
    }

    #[test]
    fn invalid_inputs_are_permanent() {
        let mailer = mailer();
        for bad in [
            OutgoingEmail {
                to: "not an address".into(),
                ..mail()
            },
            OutgoingEmail {
                message_id: "a b@c".into(),
                ..mail()
            },
            OutgoingEmail {
                message_id: "x>\r\nBcc: evil@example.org".into(),
                ..mail()
            },
            OutgoingEmail {
                list_unsubscribe: "https://x.example/\r\nBcc: evil@example.org".into(),
                ..mail()
            },
        ] {
            assert!(matches!(mailer.build(&bad), Err(SendError::Permanent(_))), "{bad:?}");
        }
        assert!(SmtpMailer::new(SmtpConfig {
            from: "nobody".into(),
            ..SmtpConfig::default()
        })
        .is_err());
    }

    #[test]
    fn headers_of_a_built_message() {
        let formatted = String::from_utf8(mailer().build(&mail()).unwrap().formatted()).unwrap();
        assert!(formatted.contains("Message-ID: <r-1@vigie.example>\r\n"), "{formatted}");
        assert!(
            formatted.contains("List-Unsubscribe: <https://vigie.example/u/T>\r\n"),
            "{formatted}"
        );
        assert!(
            formatted.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"),
            "{formatted}"
        );
        assert!(formatted.contains("Auto-Submitted: auto-generated\r\n"), "{formatted}");
        assert!(formatted.contains("multipart/alternative"), "{formatted}");
    }
}
