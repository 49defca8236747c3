//! A real SMTP server for one test: `smtp_sink.py` (Python, `aiosmtpd`) on a
//! free loopback port.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use anyhow::{Context, Result};
use serde_json::Value;
use tempfile::TempDir;
use tokio::process::{Child, Command};

use crate::server_process::{self, start_on_free_port, wait_ready_file, Retry};

/// The server script, written into the server's directory at start (so the
/// harness does not depend on where the sources are).
const SCRIPT: &str = include_str!("../smtp_sink.py");
/// How many free ports [`SmtpServer::start`] tries before giving up.
const START_ATTEMPTS: usize = 3;

/// A real SMTP server process owned by one test.
///
/// `python3 smtp_sink.py` (the `aiosmtpd` package, installed by
/// `scripts/test.sh`) listens on `127.0.0.1` on a free port, without TLS nor
/// authentication, and stores every accepted message in a private temporary
/// directory before answering `250`, so a client that got `250` finds it in
/// [`messages`](SmtpServer::messages). Faults are injected through files the
/// script reads at each transaction: [`refuse_next`](SmtpServer::refuse_next)
/// (`451`), [`reject_recipient`](SmtpServer::reject_recipient) (`550`) and
/// [`delay_data`](SmtpServer::delay_data) (a slow server).
/// [`stop`](SmtpServer::stop) kills the process (`SIGKILL`) and
/// [`restart`](SmtpServer::restart) brings it back on the same port with the
/// stored messages. The process is killed when the value is dropped.
///
/// The interpreter is `python3`, or the one named by `VIGIE_PYTHON`.
#[derive(Debug)]
pub struct SmtpServer {
    port: u16,
    options: SmtpServerOptions,
    child: Option<Child>,
    // Declared last: dropped after the process was killed.
    dir: TempDir,
}

/// How an [`SmtpServer`] protects its connections and who it accepts
/// (default: cleartext, no authentication).
#[derive(Debug, Clone, Default)]
pub struct SmtpServerOptions {
    /// Serve TLS with this certificate.
    pub tls: Option<SmtpServerTls>,
    /// Require `AUTH` with this user and password (only offered over TLS).
    pub auth: Option<(String, String)>,
    /// Do not offer `SMTPUTF8` (a relay that refuses non-ASCII addresses).
    pub without_smtputf8: bool,
}

/// The TLS of an [`SmtpServer`].
#[derive(Debug, Clone)]
pub struct SmtpServerTls {
    /// Server certificate chain (PEM).
    pub cert: PathBuf,
    /// Its private key (PEM).
    pub key: PathBuf,
    /// TLS from the first byte (SMTPS) instead of a required STARTTLS.
    pub implicit: bool,
}

/// A message accepted by an [`SmtpServer`].
#[derive(Debug, Clone)]
pub struct ReceivedMail {
    /// The message as received (RFC 5322; bytes that are not UTF-8 replaced).
    pub raw: String,
    /// The envelope sender (`MAIL FROM`).
    pub mail_from: String,
    /// The envelope recipients (`RCPT TO`), in order.
    pub to: Vec<String>,
    /// The `Message-ID` header, with its angle brackets.
    pub message_id: Option<String>,
    /// The `Subject` header, decoded (RFC 2047).
    pub subject: Option<String>,
    /// Every header, in order, decoded by Python's `email` package.
    pub headers: Vec<(String, String)>,
    /// The leaf MIME parts, in order.
    pub parts: Vec<MailPart>,
}

/// A leaf MIME part of a [`ReceivedMail`], its transfer encoding undone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailPart {
    /// `type/subtype`, lower case (`text/plain`, `text/html`…).
    pub content_type: String,
    /// The declared charset, lower case (empty when none).
    pub charset: String,
    /// The decoded text (empty for non-text parts).
    pub text: String,
}

impl ReceivedMail {
    /// The first header named `name` (case-insensitive), decoded.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(header, _)| header.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// Every header named `name` (case-insensitive), decoded, in order.
    pub fn headers_named(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(header, _)| header.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
            .collect()
    }

    /// The first leaf part of the given `type/subtype`.
    pub fn part(&self, content_type: &str) -> Option<&MailPart> {
        self.parts
            .iter()
            .find(|part| part.content_type.eq_ignore_ascii_case(content_type))
    }

    /// The decoded `text/plain` part.
    pub fn text(&self) -> Option<&str> {
        self.part("text/plain").map(|part| part.text.as_str())
    }

    /// The decoded `text/html` part.
    pub fn html(&self) -> Option<&str> {
        self.part("text/html").map(|part| part.text.as_str())
    }

    fn load(json_path: &Path) -> Result<ReceivedMail> {
        let record: Value = serde_json::from_slice(
            &std::fs::read(json_path).with_context(|| format!("reading {}", json_path.display()))?,
        )
        .with_context(|| format!("parsing {}", json_path.display()))?;
        let raw = std::fs::read(json_path.with_extension("eml"))
            .with_context(|| format!("reading the message beside {}", json_path.display()))?;
        let text = |key: &str| record.get(key).and_then(Value::as_str).map(str::to_owned);
        let headers = record
            .get("headers")
            .and_then(Value::as_array)
            .map(|headers| {
                headers
                    .iter()
                    .filter_map(|pair| {
                        let name = pair.get(0)?.as_str()?;
                        let value = pair.get(1)?.as_str()?;
                        Some((name.to_owned(), value.to_owned()))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let parts = record
            .get("parts")
            .and_then(Value::as_array)
            .map(|parts| {
                parts
                    .iter()
                    .map(|part| {
                        let field = |key: &str| part.get(key).and_then(Value::as_str).unwrap_or_default().to_owned();
                        MailPart {
                            content_type: field("content_type"),
                            charset: field("charset"),
                            text: field("text"),
                        }
                    })
                    .collect()
            })
            .unwrap_or_default();
        let to = record
            .get("rcpt_tos")
            .and_then(Value::as_array)
            .map(|to| to.iter().filter_map(Value::as_str).map(str::to_owned).collect())
            .unwrap_or_default();
        Ok(ReceivedMail {
            raw: String::from_utf8_lossy(&raw).into_owned(),
            mail_from: text("mail_from").unwrap_or_default(),
            to,
            message_id: text("message_id"),
            subject: text("subject"),
            headers,
            parts,
        })
    }
}

impl SmtpServer {
    /// Starts a server on a free loopback port and waits until it greets
    /// clients with `220`.
    ///
    /// # Errors
    /// `python3` or `aiosmtpd` is missing, the process exits early, or it does
    /// not greet within 15 s (the error carries the end of its log).
    pub async fn start() -> Result<SmtpServer> {
        Self::start_with(SmtpServerOptions::default()).await
    }

    /// Starts a server with TLS and/or authentication (see
    /// [`SmtpServerOptions`]) and waits until it listens.
    ///
    /// # Errors
    /// As [`start`](SmtpServer::start).
    pub async fn start_with(options: SmtpServerOptions) -> Result<SmtpServer> {
        let dir = tempfile::Builder::new()
            .prefix("vigie-smtp-")
            .tempdir()
            .context("creating the server directory")?;
        std::fs::write(script_path(dir.path()), SCRIPT).context("writing smtp_sink.py")?;
        std::fs::create_dir_all(control_dir(dir.path())).context("creating the control directory")?;
        std::fs::create_dir_all(mail_dir(dir.path())).context("creating the mail directory")?;
        let (port, child) = start_on_free_port(START_ATTEMPTS, Retry::AnyFailure, async |port| {
            launch(port, dir.path(), &options).await
        })
        .await?;
        Ok(SmtpServer {
            port,
            options,
            child: Some(child),
            dir,
        })
    }

    /// The port, on `127.0.0.1`.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The host to connect to: `127.0.0.1`.
    pub fn host(&self) -> &'static str {
        "127.0.0.1"
    }

    /// The server's log file (its stdout and stderr), handy when a test fails.
    pub fn log_file(&self) -> PathBuf {
        log_file(self.dir.path())
    }

    /// Whether the process is running (it was not stopped).
    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    /// Every accepted message, oldest first (across restarts).
    ///
    /// # Errors
    /// A stored message cannot be read or parsed.
    pub fn messages(&self) -> Result<Vec<ReceivedMail>> {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(mail_dir(self.dir.path()))
            .context("listing the stored messages")?
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .filter(|path| path.extension().is_some_and(|extension| extension == "json"))
            .collect();
        paths.sort();
        paths.iter().map(|path| ReceivedMail::load(path)).collect()
    }

    /// The accepted messages whose envelope names `recipient` (case-insensitive).
    ///
    /// # Errors
    /// As [`messages`](SmtpServer::messages).
    pub fn messages_to(&self, recipient: &str) -> Result<Vec<ReceivedMail>> {
        Ok(self
            .messages()?
            .into_iter()
            .filter(|mail| mail.to.iter().any(|to| to.eq_ignore_ascii_case(recipient)))
            .collect())
    }

    /// How many connections the server accepted since it was first started
    /// (restarts included, and the harness's own readiness probes: compare
    /// counts taken before and after): a client that reuses its connection
    /// opens one for many messages.
    ///
    /// # Errors
    /// The count cannot be read.
    pub fn connections(&self) -> Result<u64> {
        self.count("connections")
    }

    /// How many `NOOP` commands the server has answered since it was first
    /// started: round trips a client spent checking its connections.
    ///
    /// # Errors
    /// The count cannot be read.
    pub fn noops(&self) -> Result<u64> {
        self.count("noops")
    }

    fn count(&self, name: &str) -> Result<u64> {
        match std::fs::read_to_string(self.dir.path().join(name)) {
            Ok(text) => Ok(text.trim().parse().unwrap_or(0)),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(0),
            Err(error) => Err(error).with_context(|| format!("reading the count of {name}")),
        }
    }

    /// The next `n` DATA transactions are answered `451 4.3.0 try again later`
    /// and not stored (replaces any refusals still pending; 0 cancels them).
    ///
    /// # Errors
    /// The control file cannot be written.
    pub fn refuse_next(&self, n: u32) -> Result<()> {
        write_atomically(
            &control_dir(self.dir.path()).join("refuse_next"),
            n.to_string().as_bytes(),
        )
    }

    /// How many of the refusals asked by [`refuse_next`](SmtpServer::refuse_next) are still to come.
    ///
    /// # Errors
    /// The control file cannot be read.
    pub fn pending_refusals(&self) -> Result<u32> {
        let path = control_dir(self.dir.path()).join("refuse_next");
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok(text.trim().parse().unwrap_or(0)),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(0),
            Err(error) => Err(error).context("reading refuse_next"),
        }
    }

    /// Every DATA transaction from now on waits `delay` before the message is
    /// stored and answered (a slow server; zero removes the delay).
    ///
    /// # Errors
    /// The control file cannot be written.
    pub fn delay_data(&self, delay: std::time::Duration) -> Result<()> {
        write_atomically(
            &control_dir(self.dir.path()).join("delay_ms"),
            delay.as_millis().to_string().as_bytes(),
        )
    }

    /// `RCPT TO` this address is refused with a permanent `550 5.1.1` from now on.
    ///
    /// # Errors
    /// The control file cannot be written.
    pub fn reject_recipient(&self, address: &str) -> Result<()> {
        let path = control_dir(self.dir.path()).join("reject");
        let mut list = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(error) => return Err(error).context("reading the rejected recipients"),
        };
        list.push_str(address.trim());
        list.push('\n');
        write_atomically(&path, list.as_bytes())
    }

    /// Kills the server (`SIGKILL`, like a crash) and waits for the process to
    /// exit. Clients see connections refused.
    pub async fn stop(&mut self) {
        server_process::stop(&mut self.child).await;
    }

    /// Restarts the server on the same port with the same stored messages and
    /// fault settings (stopping it first if needed), and waits until it greets.
    ///
    /// # Errors
    /// The server does not come back (the port was taken meanwhile, …).
    pub async fn restart(&mut self) -> Result<()> {
        self.stop().await;
        self.child = Some(launch(self.port, self.dir.path(), &self.options).await?);
        Ok(())
    }
}

fn script_path(dir: &Path) -> PathBuf {
    dir.join("smtp_sink.py")
}

fn control_dir(dir: &Path) -> PathBuf {
    dir.join("control")
}

fn mail_dir(dir: &Path) -> PathBuf {
    dir.join("mail")
}

fn log_file(dir: &Path) -> PathBuf {
    dir.join("smtp-server.log")
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("renaming to {}", path.display()))
}

fn ready_file(dir: &Path) -> PathBuf {
    dir.join("ready")
}

/// Spawns the script and waits until it greets (or, for implicit TLS, until
/// it says it listens); kills it on failure.
async fn launch(port: u16, dir: &Path, options: &SmtpServerOptions) -> Result<Child> {
    match std::fs::remove_file(ready_file(dir)) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
            return Err(error).context("removing the ready file")
        }
        _ => {}
    }
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log_file(dir))
        .context("opening the server log")?;
    let python = std::env::var_os("VIGIE_PYTHON").unwrap_or_else(|| "python3".into());
    let mut command = Command::new(&python);
    command
        .arg(script_path(dir))
        .args(["--port", &port.to_string()])
        .arg("--dir")
        .arg(dir);
    if let Some(tls) = &options.tls {
        command.arg("--tls-cert").arg(&tls.cert).arg("--tls-key").arg(&tls.key);
        if tls.implicit {
            command.arg("--implicit-tls");
        }
    }
    if let Some((user, password)) = &options.auth {
        command.args(["--auth-user", user, "--auth-password", password]);
    }
    if options.without_smtputf8 {
        command.arg("--without-smtputf8");
    }
    let child = command
        .stdin(Stdio::null())
        .stdout(log.try_clone().context("sharing the server log")?)
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("spawning {}", python.to_string_lossy()))?;
    let hint = " (is aiosmtpd installed? scripts/test.sh installs it)";
    // The script creates its ready file once it has bound the port: proof
    // that a greeting on this port would be its own, which a probe of the
    // port is not (another test's sink may hold it), and the only sign when
    // the greeting is inside TLS.
    wait_ready_file(child, &ready_file(dir), "smtp_sink.py", hint, &log_file(dir)).await
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    use tokio::net::TcpStream;

    use super::*;

    /// A minimal SMTP client: sends each command, returns each reply's first line.
    async fn converse(port: u16, commands: &[&str]) -> Vec<String> {
        let stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let (read, mut write) = stream.into_split();
        let mut read = BufReader::new(read);
        let mut replies = vec![read_reply(&mut read).await];
        for command in commands {
            write.write_all(command.as_bytes()).await.unwrap();
            write.write_all(b"\r\n").await.unwrap();
            replies.push(read_reply(&mut read).await);
        }
        replies
    }

    async fn read_reply(read: &mut BufReader<tokio::net::tcp::OwnedReadHalf>) -> String {
        let mut first = None;
        loop {
            let mut line = String::new();
            read.read_line(&mut line).await.unwrap();
            let line = line.trim_end().to_owned();
            first.get_or_insert_with(|| line.clone());
            // Multi-line replies are "250-…" until the last "250 …".
            if line.as_bytes().get(3) != Some(&b'-') {
                return first.unwrap_or_default();
            }
        }
    }

    fn transaction(to: &str, data: &'static str) -> Vec<String> {
        vec![
            "EHLO test".into(),
            "MAIL FROM:<vigie@example.org>".into(),
            format!("RCPT TO:<{to}>"),
            "DATA".into(),
            data.into(),
            "QUIT".into(),
        ]
    }

    const DATA: &str = "Subject: =?utf-8?q?=C3=89ch=C3=A9ance?=\r\nMessage-ID: <m1@example.org>\r\n\
        Content-Type: text/plain; charset=utf-8\r\n\r\nBonjour\r\n.";

    fn codes(replies: &[String]) -> Vec<&str> {
        replies.iter().map(|reply| reply.get(..3).unwrap_or_default()).collect()
    }

    #[tokio::test]
    async fn stores_an_accepted_message_with_its_envelope() {
        let server = SmtpServer::start().await.unwrap();
        let commands = transaction("Marie@example.org", DATA);
        let commands: Vec<&str> = commands.iter().map(String::as_str).collect();
        let replies = converse(server.port(), &commands).await;
        assert_eq!(codes(&replies), ["220", "250", "250", "250", "354", "250", "221"]);
        let mails = server.messages().unwrap();
        assert_eq!(mails.len(), 1);
        let mail = &mails[0];
        assert_eq!(mail.to, ["Marie@example.org"]);
        assert_eq!(mail.mail_from, "vigie@example.org");
        assert_eq!(mail.subject.as_deref(), Some("Échéance"));
        assert_eq!(mail.message_id.as_deref(), Some("<m1@example.org>"));
        assert_eq!(mail.header("message-id"), Some("<m1@example.org>"));
        assert_eq!(mail.text().map(str::trim_end), Some("Bonjour"));
        assert!(mail.raw.contains("Subject: =?utf-8?q?=C3=89ch=C3=A9ance?="));
        assert_eq!(server.messages_to("marie@example.org").unwrap().len(), 1);
    }

    #[tokio::test]
    async fn refuses_then_accepts_and_rejects_recipients() {
        let server = SmtpServer::start().await.unwrap();
        server.refuse_next(2).unwrap();
        let commands = transaction("a@example.org", DATA);
        let commands: Vec<&str> = commands.iter().map(String::as_str).collect();
        for _ in 0..2 {
            let replies = converse(server.port(), &commands).await;
            assert_eq!(replies[5], "451 4.3.0 try again later");
        }
        assert_eq!(server.pending_refusals().unwrap(), 0);
        assert!(server.messages().unwrap().is_empty());
        let replies = converse(server.port(), &commands).await;
        assert_eq!(codes(&replies)[5], "250");
        assert_eq!(server.messages().unwrap().len(), 1);

        server.reject_recipient("gone@example.org").unwrap();
        let replies = converse(
            server.port(),
            &["EHLO test", "MAIL FROM:<v@example.org>", "RCPT TO:<gone@example.org>"],
        )
        .await;
        assert!(replies[3].starts_with("550 5.1.1"), "{replies:?}");
    }

    #[tokio::test]
    async fn restarts_on_the_same_port_keeping_messages() {
        let mut server = SmtpServer::start().await.unwrap();
        let commands = transaction("a@example.org", DATA);
        let commands: Vec<&str> = commands.iter().map(String::as_str).collect();
        converse(server.port(), &commands).await;
        let port = server.port();
        server.stop().await;
        assert!(!server.is_running());
        assert!(TcpStream::connect(("127.0.0.1", port)).await.is_err());
        server.restart().await.unwrap();
        assert_eq!(server.port(), port);
        converse(server.port(), &commands).await;
        assert_eq!(server.messages().unwrap().len(), 2);
    }
}
