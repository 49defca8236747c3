//! A private `nats-server` with JetStream for one test.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use anyhow::{Context, Result};
use tempfile::TempDir;
use tokio::process::{Child, Command};

use crate::server_process::{self, log_length, logged_since, start_on_free_port, wait_ready, Retry};

/// Default location of the server binary (Debian's `nats-server` package).
const DEFAULT_BINARY: &str = "/usr/sbin/nats-server";
/// How many free ports [`NatsServer::start`] tries before giving up (another
/// process may grab the port between our probe and the server's bind).
const START_ATTEMPTS: usize = 3;

/// Security of a [`NatsServer`] started with [`NatsServer::start_with`]
/// (default: cleartext, anonymous clients, as [`NatsServer::start`]).
#[derive(Debug, Clone, Default)]
pub struct NatsServerConfig {
    /// Serve TLS (clients must use it).
    pub tls: Option<NatsServerTls>,
    /// Public keys (`U…`) of the only users allowed in; empty: anyone.
    pub nkey_users: Vec<String>,
    /// Raw nats-server configuration appended to the generated file (e.g. an
    /// operator, a resolver and its preloaded accounts).
    pub extra: String,
}

/// The `tls { … }` block of a [`NatsServerConfig`].
#[derive(Debug, Clone)]
pub struct NatsServerTls {
    /// Server certificate (PEM).
    pub cert: PathBuf,
    /// Its private key (PEM).
    pub key: PathBuf,
    /// CA that client certificates must chain to (with `verify`).
    pub ca: Option<PathBuf>,
    /// Require a client certificate (mutual TLS).
    pub verify: bool,
}

impl NatsServerConfig {
    /// The configuration file text, or `None` when nothing is configured.
    fn render(&self) -> Option<String> {
        if self.tls.is_none() && self.nkey_users.is_empty() && self.extra.is_empty() {
            return None;
        }
        let mut text = String::new();
        if let Some(tls) = &self.tls {
            text.push_str("tls {\n");
            text.push_str(&format!("  cert_file: {:?}\n", tls.cert.display().to_string()));
            text.push_str(&format!("  key_file: {:?}\n", tls.key.display().to_string()));
            if let Some(ca) = &tls.ca {
                text.push_str(&format!("  ca_file: {:?}\n", ca.display().to_string()));
            }
            text.push_str(&format!("  verify: {}\n  timeout: 5\n}}\n", tls.verify));
        }
        if !self.nkey_users.is_empty() {
            text.push_str("authorization {\n  users = [\n");
            for user in &self.nkey_users {
                text.push_str(&format!("    {{ nkey: {user:?} }}\n"));
            }
            text.push_str("  ]\n}\n");
        }
        text.push_str(&self.extra);
        Some(text)
    }
}

/// A `nats-server -js` process owned by one test.
///
/// It listens on a free loopback port and keeps its JetStream store in a
/// private temporary directory, so tests never share streams. [`stop`] and
/// [`restart`] keep the port and the store: streams, messages and durable
/// consumers survive, exactly as they do when a production broker restarts.
/// The process is killed when the value is dropped.
///
/// [`stop`]: NatsServer::stop
/// [`restart`]: NatsServer::restart
#[derive(Debug)]
pub struct NatsServer {
    binary: PathBuf,
    port: u16,
    config: Option<PathBuf>,
    child: Option<Child>,
    // Declared last: dropped after the process was killed.
    dir: TempDir,
}

impl NatsServer {
    /// Starts a server and waits until it accepts clients.
    ///
    /// # Panics
    /// When the server cannot be started; see [`NatsServer::try_start`].
    pub async fn start() -> NatsServer {
        match Self::try_start().await {
            Ok(server) => server,
            Err(error) => panic!("cannot start nats-server: {error:#}"),
        }
    }

    /// Starts a server and waits until it accepts clients.
    ///
    /// # Errors
    /// The binary is missing, the process exits early, or it does not accept
    /// clients within 15 s.
    pub async fn try_start() -> Result<NatsServer> {
        Self::start_with(NatsServerConfig::default()).await
    }

    /// Starts a server with TLS and/or authentication (see
    /// [`NatsServerConfig`]) and waits until it greets clients.
    ///
    /// # Errors
    /// As [`NatsServer::try_start`], or the configuration cannot be written.
    pub async fn start_with(config: NatsServerConfig) -> Result<NatsServer> {
        let binary = std::env::var_os("VIGIE_NATS_SERVER")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_BINARY));
        let dir = tempfile::Builder::new()
            .prefix("vigie-nats-")
            .tempdir()
            .context("creating the store directory")?;
        let config = match config.render() {
            Some(text) => {
                let path = dir.path().join("nats-server.conf");
                std::fs::write(&path, text).context("writing the server configuration")?;
                Some(path)
            }
            None => None,
        };
        let (port, child) = start_on_free_port(START_ATTEMPTS, Retry::AnyFailure, async |port| {
            launch(&binary, port, dir.path(), config.as_deref()).await
        })
        .await?;
        Ok(NatsServer {
            binary,
            port,
            config,
            child: Some(child),
            dir,
        })
    }

    /// The client URL, `nats://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// The client port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The JetStream store directory, kept across restarts.
    pub fn store_dir(&self) -> PathBuf {
        store_dir(self.dir.path())
    }

    /// The server's log file (its stderr), handy when a test fails.
    pub fn log_file(&self) -> PathBuf {
        log_file(self.dir.path())
    }

    /// Whether the process is running (it was not stopped).
    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    /// Kills the server (`SIGKILL`, like a crash or a lost node) and waits
    /// for the process to exit. Clients see a connection loss.
    pub async fn stop(&mut self) {
        server_process::stop(&mut self.child).await;
    }

    /// Restarts the server on the same port with the same store directory
    /// (stopping it first if needed) and waits until it accepts clients.
    ///
    /// # Panics
    /// When the server does not come back.
    pub async fn restart(&mut self) {
        self.stop().await;
        match launch(&self.binary, self.port, self.dir.path(), self.config.as_deref()).await {
            Ok(child) => self.child = Some(child),
            Err(error) => panic!("cannot restart nats-server: {error:#}"),
        }
    }
}

fn store_dir(dir: &Path) -> PathBuf {
    dir.join("jetstream")
}

fn log_file(dir: &Path) -> PathBuf {
    dir.join("nats-server.log")
}

/// Spawns the server and waits until it accepts clients; kills it on failure.
async fn launch(binary: &Path, port: u16, dir: &Path, config: Option<&Path>) -> Result<Child> {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log_file(dir))
        .context("opening the server log")?;
    let start = log_length(&log_file(dir));
    let mut command = Command::new(binary);
    if let Some(config) = config {
        // Flags below override the file (port, address, store).
        command.arg("-c").arg(config);
    }
    let child = command
        .arg("-js")
        .args(["-a", "127.0.0.1"])
        .args(["-p", &port.to_string()])
        .arg("-sd")
        .arg(store_dir(dir))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("spawning {}", binary.display()))?;
    let bound = || logged_since(&log_file(dir), start, |line| listens_for_clients_on(line, port));
    wait_ready(child, port, "INFO ", bound, "nats-server", "", &log_file(dir)).await
}

/// Whether `line` of nats-server's log says that it bound its client port
/// `port` (« [INF] Listening for client connections on 127.0.0.1:4222 »).
pub(crate) fn listens_for_clients_on(line: &str, port: u16) -> bool {
    line.contains("Listening for client connections on ") && line.ends_with(&format!(":{port}"))
}
