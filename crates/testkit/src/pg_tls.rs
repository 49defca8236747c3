//! A throw-away PostgreSQL cluster for one test, with or without TLS.
//!
//! The shared test server on port 5432 cannot prove anything about TLS (its
//! configuration is the machine's), so transport tests start their own
//! cluster: Debian's `initdb` into a private temporary directory, then
//! `postgres` on a free loopback port with `ssl=on` and the certificate the
//! test issued, or `ssl=off` for the "server without TLS" case. PostgreSQL
//! refuses to run as root, so when the tests run as root the processes run as
//! the `postgres` system user (set as the child's uid, no wrapper process, so
//! the harness signals the server itself). The server is shut down
//! (`SIGQUIT`, immediate) when the value is dropped.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use tempfile::TempDir;
use tokio::process::{Child, Command};

use crate::pki::IssuedCert;
use crate::server_process::{start_on_free_port, Retry};

/// How long the cluster may take to accept connections.
const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// Launches tried with fresh ports when one was taken meanwhile.
const START_ATTEMPTS: usize = 5;

/// A private PostgreSQL server (superuser `postgres`, trust authentication,
/// database `postgres`) on `127.0.0.1:<port>`.
#[derive(Debug)]
pub struct PgTls {
    port: u16,
    child: Option<Child>,
    // Declared last: removed after the server stopped.
    dir: TempDir,
}

impl PgTls {
    /// Creates a cluster and starts it, serving TLS with `cert` (a
    /// certificate for `localhost`/`127.0.0.1` from a test CA), or without
    /// TLS when `cert` is `None`.
    ///
    /// # Errors
    /// The PostgreSQL binaries are missing (`VIGIE_PG_BIN` names their
    /// directory, default the newest `/usr/lib/postgresql/*/bin`), `initdb`
    /// fails, or the server is not ready within 30 s.
    pub async fn start(cert: Option<&IssuedCert>) -> Result<PgTls> {
        let bin = bin_dir()?;
        let dir = tempfile::Builder::new()
            .prefix("vigie-pgtls-")
            .tempdir()
            .context("creating the cluster directory")?;
        let owner = server_user()?;
        let data = dir.path().join("data");
        if let Some((uid, gid)) = owner {
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid)).context("giving the directory to postgres")?;
        }
        let mut initdb = command(&bin.join("initdb"), owner);
        initdb
            .arg("-D")
            .arg(&data)
            .args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]);
        let output = initdb.output().await.context("running initdb")?;
        if !output.status.success() {
            bail!("initdb failed: {}", String::from_utf8_lossy(&output.stderr));
        }
        let mut settings = vec![
            "listen_addresses=127.0.0.1".to_owned(),
            format!("unix_socket_directories={}", dir.path().display()),
            "fsync=off".to_owned(),
        ];
        match cert {
            Some(cert) => {
                let cert_file = dir.path().join("server.crt");
                let key_file = dir.path().join("server.key");
                std::fs::copy(&cert.cert, &cert_file).context("copying the certificate")?;
                std::fs::copy(&cert.key, &key_file).context("copying the key")?;
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600))
                    .context("protecting the key")?;
                for file in [&cert_file, &key_file] {
                    if let Some((uid, gid)) = owner {
                        std::os::unix::fs::chown(file, Some(uid), Some(gid))
                            .context("giving the TLS files to postgres")?;
                    }
                }
                settings.push("ssl=on".to_owned());
                settings.push(format!("ssl_cert_file={}", cert_file.display()));
                settings.push(format!("ssl_key_file={}", key_file.display()));
            }
            None => settings.push("ssl=off".to_owned()),
        }
        let mut server = PgTls {
            port: 0,
            child: None,
            dir,
        };
        start_on_free_port(START_ATTEMPTS, Retry::AddressInUse, async |port| {
            // One cluster directory: the server of a failed attempt must be
            // gone before the next one starts on it.
            server.shut_down();
            server.port = port;
            // A new log each attempt: the errors quote the whole log, and an
            // earlier attempt's « address already in use » must not make a
            // later failure look like one.
            let log_file = server.dir.path().join("postgres.log");
            let log = std::fs::File::create(&log_file).context("creating the server log")?;
            if let Some((uid, gid)) = owner {
                std::os::unix::fs::chown(&log_file, Some(uid), Some(gid)).context("giving the log to postgres")?;
            }
            let mut postgres = command(&bin.join("postgres"), owner);
            postgres.arg("-D").arg(&data).args(["-p", &port.to_string()]);
            for setting in &settings {
                postgres.arg("-c").arg(setting);
            }
            let child = postgres
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .context("spawning postgres")?;
            server.child = Some(child);
            server.wait_ready(&bin).await
        })
        .await?;
        Ok(server)
    }

    /// The port on `127.0.0.1`.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A URL to the `postgres` database through `host` (`localhost` or
    /// `127.0.0.1`, the names the test certificates carry), with `params`
    /// appended as the query (e.g. `sslmode=verify-full&sslrootcert=…`).
    pub fn url(&self, host: &str, params: &str) -> String {
        let query = if params.is_empty() {
            String::new()
        } else {
            format!("?{params}")
        };
        format!("postgres://postgres@{host}:{}/postgres{query}", self.port)
    }

    /// The server's log, handy when a test fails.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("postgres.log")).unwrap_or_default()
    }

    async fn wait_ready(&mut self, bin: &Path) -> Result<()> {
        let deadline = tokio::time::Instant::now() + READY_TIMEOUT;
        loop {
            if let Some(child) = self.child.as_mut() {
                if let Some(status) = child.try_wait()? {
                    bail!("postgres exited early with {status}:\n{}", self.log());
                }
            }
            let ready = Command::new(bin.join("pg_isready"))
                .args(["-q", "-h", "127.0.0.1", "-p", &self.port.to_string()])
                .status()
                .await
                .context("running pg_isready")?;
            if ready.success() {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                bail!(
                    "postgres not ready on port {} after {READY_TIMEOUT:?}:\n{}",
                    self.port,
                    self.log()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stops the server, if one runs, and waits (bounded) until it exited.
    fn shut_down(&mut self) {
        let Some(mut child) = self.child.take() else { return };
        // SIGQUIT: immediate shutdown that still releases shared memory,
        // unlike SIGKILL; then wait (bounded) so the directory can go.
        if let Some(pid) = child.id() {
            let _ = std::process::Command::new("kill")
                .args(["-QUIT", &pid.to_string()])
                .status();
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            while std::time::Instant::now() < deadline {
                if !matches!(child.try_wait(), Ok(None)) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        let _ = child.start_kill();
    }
}

impl Drop for PgTls {
    fn drop(&mut self) {
        self.shut_down();
    }
}

/// A command run as `owner` when given (root running the tests).
fn command(program: &Path, owner: Option<(u32, u32)>) -> Command {
    let mut command = Command::new(program);
    if let Some((uid, gid)) = owner {
        command.uid(uid).gid(gid);
    }
    command.env_remove("PGDATA");
    command
}

/// The newest `/usr/lib/postgresql/<version>/bin`, or `VIGIE_PG_BIN`.
fn bin_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("VIGIE_PG_BIN") {
        return Ok(PathBuf::from(dir));
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .context("listing /usr/lib/postgresql (is PostgreSQL installed?)")?
        .filter_map(|entry| entry.ok())
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions
        .pop()
        .map(|(_, bin)| bin)
        .context("no /usr/lib/postgresql/*/bin/initdb")
}

/// `Some((uid, gid))` of the `postgres` user when running as root (the
/// server refuses root), `None` otherwise.
fn server_user() -> Result<Option<(u32, u32)>> {
    let status = std::fs::read_to_string("/proc/self/status").context("reading /proc/self/status")?;
    let euid = status
        .lines()
        .find_map(|line| line.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1))
        .and_then(|id| id.parse::<u32>().ok());
    if euid != Some(0) {
        return Ok(None);
    }
    let passwd = std::fs::read_to_string("/etc/passwd").context("reading /etc/passwd")?;
    let entry = passwd
        .lines()
        .find(|line| line.starts_with("postgres:"))
        .context("no postgres user to run the server as")?;
    let fields: Vec<&str> = entry.split(':').collect();
    match (
        fields.get(2).and_then(|f| f.parse().ok()),
        fields.get(3).and_then(|f| f.parse().ok()),
    ) {
        (Some(uid), Some(gid)) => Ok(Some((uid, gid))),
        _ => bail!("unreadable /etc/passwd entry for postgres"),
    }
}
