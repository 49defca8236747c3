//! Harness of the end-to-end scenarios: runs the real `vigie` binary, as a
//! user would, against real SQLite files, PostgreSQL and nats-server.

pub mod console_client;

use std::fmt::Display;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// Path of the `vigie` binary built alongside this test binary
/// (`target/<profile>/vigie`; the test binary lives in `target/<profile>/deps`).
///
/// # Errors
/// When the binary was not built (run the tests through `cargo test
/// --workspace` or `./scripts/test.sh`, which build it).
pub fn vigie_bin() -> Result<PathBuf> {
    if let Ok(path) = std::env::var("VIGIE_BIN") {
        return Ok(PathBuf::from(path));
    }
    let exe = std::env::current_exe()?;
    // A binary target sits next to `vigie`; a test binary one level below, in deps/.
    let beside = exe.parent().context("binary has no parent directory")?;
    for dir in [Some(beside), beside.parent()].into_iter().flatten() {
        let bin = dir.join("vigie");
        if bin.exists() {
            return Ok(bin);
        }
    }
    bail!(
        "vigie is not built next to {}: run `cargo build -p vigie` or ./scripts/test.sh",
        exe.display()
    )
}

/// The arguments of `vigie serve SERVICE` on loopback port 0, on `database`
/// and the nats-server at `nats`, with `--auth none` (add more after them).
pub fn serve_args<'a>(service: &'a str, database: &'a str, nats: &'a str) -> Vec<&'a str> {
    vec![
        "serve",
        service,
        "--listen",
        "127.0.0.1:0",
        "--database-url",
        database,
        "--nats-url",
        nats,
        "--auth",
        "none",
    ]
}

/// A running `vigie` server process, killed on drop.
pub struct VigieServer {
    child: Child,
    /// The gRPC endpoint it announced (`http://127.0.0.1:PORT`, or
    /// `https://…` when it serves TLS).
    pub endpoint: String,
    /// The address of its Prometheus endpoint (`127.0.0.1:PORT`), when
    /// started with `--metrics-listen` (announced before the endpoint).
    pub metrics: Option<String>,
    /// The web console's address (`http://127.0.0.1:PORT`) that `vigie dev`
    /// announces first, when it serves one.
    pub console: Option<String>,
}

/// The pseudonym secret the servers of `vigie serve` get in the scenarios.
pub const E2E_PSEUDONYM_SECRET: &str = "e2e-pseudonym-secret-0123456789abcdef";

impl VigieServer {
    /// Starts `vigie <args…>` (which must listen on port 0) and waits until it
    /// announces its endpoint on standard error.
    ///
    /// # Errors
    /// When the process exits or says nothing within 60 s.
    pub async fn start(args: &[&str], envs: &[(&str, &str)]) -> Result<VigieServer> {
        let mut command = Command::new(vigie_bin()?);
        command
            .args(args)
            .env("LANG", "fr_FR.UTF-8")
            .env_remove("VIGIE_ENDPOINT")
            .env_remove("VIGIE_AUTH")
            .env_remove("VIGIE_OIDC_ISSUER")
            .env_remove("VIGIE_OIDC_AUDIENCE")
            // Scenarios run side by side: each `vigie dev` console on a free
            // port rather than all on 8080 (a scenario may set another).
            .env("VIGIE_CONSOLE_LISTEN", "127.0.0.1:0")
            .env(
                "RUST_LOG",
                if std::env::var_os("TEST_LOG").is_some() {
                    "info"
                } else {
                    "warn"
                },
            )
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        // `vigie serve` needs the deployment's pseudonym secret (training,
        // facilitation, alerting); `vigie dev` generates its own.
        if args.first() == Some(&"serve") {
            command.env("VIGIE_PSEUDONYM_SECRET", E2E_PSEUDONYM_SECRET);
        } else {
            command.env_remove("VIGIE_PSEUDONYM_SECRET");
        }
        for (key, value) in envs {
            command.env(key, value);
        }
        let mut child = command.spawn().context("spawning vigie")?;
        let stderr = child.stderr.take().context("no stderr")?;
        let mut lines = BufReader::new(stderr).lines();
        let mut metrics = None;
        let mut console = None;
        let endpoint = tokio::time::timeout(Duration::from_secs(60), async {
            while let Some(line) = lines.next_line().await? {
                if std::env::var_os("TEST_LOG").is_some() {
                    eprintln!("vigie: {line}");
                }
                if let Some((_, rest)) = line.split_once("métriques Prometheus sur ") {
                    metrics = rest.split_whitespace().next().map(str::to_owned);
                }
                if let Some(rest) = line.strip_prefix("Console : ") {
                    // Announced before the gRPC endpoint, which it is not.
                    console = rest
                        .split_whitespace()
                        .next()
                        .filter(|a| a.starts_with("http://"))
                        .map(str::to_owned);
                    continue;
                }
                let announced = line
                    .find("https://127.0.0.1:")
                    .or_else(|| line.find("http://127.0.0.1:"));
                if let Some(start) = announced {
                    let endpoint: String = line[start..].chars().take_while(|c| !c.is_whitespace()).collect();
                    return Ok::<_, anyhow::Error>(endpoint);
                }
            }
            bail!("vigie exited before announcing its endpoint")
        })
        .await
        .context("vigie did not announce its endpoint within 60 s")??;
        // Keep draining stderr so the server never blocks on a full pipe.
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                if std::env::var_os("TEST_LOG").is_some() {
                    eprintln!("vigie: {line}");
                }
            }
        });
        Ok(VigieServer {
            child,
            endpoint,
            metrics,
            console,
        })
    }

    /// Starts `vigie dev` on loopback port 0 with its data in `data`, then
    /// the `more` arguments (`--demo`, OIDC settings…), with `envs`: the
    /// embedded platform of the scenarios.
    ///
    /// # Errors
    /// As [`VigieServer::start`], or when `data` is not UTF-8.
    pub async fn dev(data: impl AsRef<Path>, more: &[&str], envs: &[(&str, &str)]) -> Result<VigieServer> {
        let data = data.as_ref().to_str().context("the data directory is not UTF-8")?;
        let mut args = vec!["dev", "--listen", "127.0.0.1:0", "--data-dir", data];
        args.extend_from_slice(more);
        VigieServer::start(&args, envs).await
    }

    /// Starts `vigie serve SERVICE` on loopback port 0, on `database` and the
    /// nats-server at `nats`, trusting every caller (`--auth none`), with
    /// `envs`: the distributed deployment of the scenarios.
    ///
    /// # Errors
    /// As [`VigieServer::start`].
    pub async fn serve(service: &str, database: &str, nats: &str, envs: &[(&str, &str)]) -> Result<VigieServer> {
        VigieServer::start(&serve_args(service, database, nats), envs).await
    }

    /// Runs a client command against this server.
    ///
    /// # Errors
    /// When the binary cannot be run.
    pub async fn cli(&self, args: &[&str]) -> Result<CliOutput> {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--endpoint", &self.endpoint]);
        run_cli(&all).await
    }

    /// The server's process id.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Kills the process (SIGKILL) and waits for it.
    ///
    /// # Errors
    /// When it cannot be killed.
    pub async fn kill(mut self) -> Result<()> {
        self.child.kill().await?;
        Ok(())
    }

    /// Stops the process as an operator would (`SIGTERM`: the server finishes
    /// its work — the relay publishes what is committed — then exits), and
    /// waits for it (at most 30 s, then `SIGKILL`).
    ///
    /// # Errors
    /// The signal could not be sent.
    pub async fn stop(mut self) -> Result<()> {
        if let Some(pid) = self.child.id() {
            let sent = Command::new("kill").args(["-TERM", &pid.to_string()]).status().await?;
            if sent.success()
                && tokio::time::timeout(Duration::from_secs(30), self.child.wait())
                    .await
                    .is_ok()
            {
                return Ok(());
            }
        }
        self.child.kill().await?;
        Ok(())
    }
}

/// Output of one CLI run.
#[derive(Debug)]
pub struct CliOutput {
    /// Exit success.
    pub success: bool,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

/// Generates an inventory set into the folder `set` with `vigie inventory
/// generate`: `structures` structures drawn from `seed`, their dates as of
/// `today` (`YYYY-MM-DD`) when given, else as of the real date.
///
/// # Errors
/// When the binary cannot be run or the generation fails (its error output).
pub async fn generate_set(set: &Path, structures: impl Display, seed: impl Display, today: Option<&str>) -> Result<()> {
    let (structures, seed) = (structures.to_string(), seed.to_string());
    let set = set.to_str().context("non UTF-8 path")?;
    let mut args = vec!["inventory", "generate", "--structures", &structures, "--seed", &seed];
    if let Some(today) = today {
        args.extend(["--today", today]);
    }
    args.push(set);
    let generated = run_cli(&args).await?;
    if !generated.success {
        bail!("inventory generate failed: {}", generated.stderr);
    }
    Ok(())
}

/// Runs `vigie <args…>` to completion (no server needed for offline commands).
///
/// # Errors
/// When the binary cannot be run.
pub async fn run_cli(args: &[&str]) -> Result<CliOutput> {
    let output = Command::new(vigie_bin()?)
        .args(args)
        .env("LANG", "fr_FR.UTF-8")
        .env_remove("VIGIE_ENDPOINT")
        .env_remove("VIGIE_TOKEN")
        .env_remove("VIGIE_AUTH")
        .env_remove("VIGIE_OIDC_ISSUER")
        .env_remove("VIGIE_OIDC_AUDIENCE")
        .env_remove("VIGIE_PSEUDONYM_SECRET")
        .stdin(Stdio::null())
        .output()
        .await?;
    Ok(CliOutput {
        success: output.status.success(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    })
}
