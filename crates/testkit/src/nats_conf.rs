//! A `nats-server` started from a SHIPPED configuration file (deploy/nats),
//! the way an operator runs it: `nats-server -c <file>` with its `$VARIABLES`
//! in the environment. Only what differs per instance is chosen here: free
//! loopback ports (`NATS_PORT`, `NATS_HTTP_PORT`, `NATS_LEAFNODE_PORT`) and a
//! private store directory (`NATS_STORE_DIR`); the test gives the rest
//! (server name, domain, passwords, the hub's URL).
//!
//! The ports and the store are kept across [`ConfiguredNats::stop`] and
//! [`ConfiguredNats::restart`], so a restarted server finds its streams and
//! its peers find it at the same address.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use anyhow::{Context, Result};
use tempfile::TempDir;
use tokio::process::{Child, Command};

use crate::nats::listens_for_clients_on;
use crate::server_process::{self, free_port, log_length, logged_since, start_on_free_port, wait_ready, Retry};

/// Launches tried with fresh ports when one was taken meanwhile.
const START_ATTEMPTS: usize = 5;

/// Default location of the server binary (Debian's `nats-server` package).
const DEFAULT_BINARY: &str = "/usr/sbin/nats-server";

/// A `nats-server -c <shipped file>` process owned by one test; killed on drop.
#[derive(Debug)]
pub struct ConfiguredNats {
    binary: PathBuf,
    config: PathBuf,
    env: Vec<(String, String)>,
    port: u16,
    leafnode_port: u16,
    child: Option<Child>,
    // Declared last: dropped after the process was killed.
    dir: TempDir,
}

impl ConfiguredNats {
    /// Starts `nats-server -c config` with `env` plus the ports and store
    /// directory it chooses, and waits until it greets clients.
    ///
    /// The file is read in place (its `include`s resolve next to it).
    ///
    /// # Errors
    /// No free port, the binary is missing, the server refuses the file or
    /// does not accept clients within 15 s (the error has its log's tail).
    pub async fn start(config: &Path, env: &[(&str, &str)]) -> Result<ConfiguredNats> {
        let binary = std::env::var_os("VIGIE_NATS_SERVER")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_BINARY));
        let dir = tempfile::Builder::new()
            .prefix("vigie-nats-conf-")
            .tempdir()
            .context("creating the store directory")?;
        let config = config
            .canonicalize()
            .with_context(|| format!("finding {}", config.display()))?;
        let given: Vec<(String, String)> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let mut server = ConfiguredNats {
            binary,
            config,
            env: Vec::new(),
            port: 0,
            leafnode_port: 0,
            child: None,
            dir,
        };
        let store = server.store_dir();
        // Every attempt takes new ports for the three listeners: any of them
        // may have been taken since it was found free.
        let (_, child) = start_on_free_port(START_ATTEMPTS, Retry::AddressInUse, async |port| {
            server.port = port;
            server.leafnode_port = free_port()?;
            let http_port = free_port()?;
            server.env.clone_from(&given);
            server.env.extend([
                ("NATS_PORT".to_owned(), server.port.to_string()),
                ("NATS_HTTP_PORT".to_owned(), http_port.to_string()),
                ("NATS_LEAFNODE_PORT".to_owned(), server.leafnode_port.to_string()),
                ("NATS_STORE_DIR".to_owned(), store.display().to_string()),
            ]);
            server.launch().await
        })
        .await?;
        server.child = Some(child);
        Ok(server)
    }

    /// The client URL, `nats://127.0.0.1:<port>` (credentials go in the
    /// client's options: async-nats ignores those of a URL).
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// The URL a region's `NATIONAL_HUB_URL` points to, logging in as `user`.
    pub fn leafnode_url_as(&self, user: &str, password: &str) -> String {
        format!("nats-leaf://{user}:{password}@127.0.0.1:{}", self.leafnode_port)
    }

    /// The client port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The JetStream store directory, kept across restarts.
    pub fn store_dir(&self) -> PathBuf {
        // nats-server keeps its files in `<store_dir>/jetstream`.
        self.dir.path().join("store")
    }

    /// The server's log file (stderr of every run), handy when a test fails.
    pub fn log_file(&self) -> PathBuf {
        self.dir.path().join("nats-server.log")
    }

    /// The whole log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_file()).unwrap_or_default()
    }

    /// Whether the process is running (it was not stopped).
    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    /// Kills the server (`SIGKILL`, like a crash or a lost site) and waits
    /// for the process to exit.
    pub async fn stop(&mut self) {
        server_process::stop(&mut self.child).await;
    }

    /// Restarts the server with the same file, environment, ports and store
    /// (stopping it first if needed) and waits until it accepts clients.
    ///
    /// # Errors
    /// As [`ConfiguredNats::start`].
    pub async fn restart(&mut self) -> Result<()> {
        self.stop().await;
        self.child = Some(self.launch().await?);
        Ok(())
    }

    async fn launch(&self) -> Result<Child> {
        let log_file = self.log_file();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_file)
            .context("opening the server log")?;
        let start = log_length(&log_file);
        let workdir = self.config.parent().unwrap_or(Path::new("."));
        let child = Command::new(&self.binary)
            .arg("-c")
            .arg(&self.config)
            .current_dir(workdir)
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("spawning {}", self.binary.display()))?;
        let bound = || logged_since(&log_file, start, |line| listens_for_clients_on(line, self.port));
        wait_ready(child, self.port, "INFO ", bound, "nats-server", "", &log_file).await
    }
}
