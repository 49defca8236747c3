//! The console in a real browser: `vigie dev --demo` with its console, and
//! tests/browser/run.py driving Debian's headless Chromium through Playwright.
//! The run first proves each check fails on a page with its fault
//! (tests/browser/selftest.py), then audits every page it visits (axe-core,
//! HTML conformance, keyboard-only reach and visible focus, console errors)
//! while playing the people's scenarios; see docs/console.md "Browser tests".
//!
//! Never skipped: scripts/test.sh installs Chromium, Playwright, html5lib and
//! axe-core when missing. `VIGIE_CHROMIUM` names another Chromium binary,
//! `VIGIE_PYTHON` another interpreter, `VIGIE_CONSOLE_SCREENSHOTS` a folder
//! where the home pages' screenshots are kept (docs/console/ to refresh the
//! docs); otherwise they go to a temporary folder and are thrown away.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{bail, ensure, Context, Result};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use vigie_e2e::vigie_bin;

/// The whole browser run (self-test, then about a dozen pages each audited
/// four ways) takes ~25 s alone; the bound leaves room for a loaded machine.
const RUN_LIMIT: Duration = Duration::from_secs(600);

/// `vigie dev` with its console, and the two addresses its banner gives.
struct DevWithConsole {
    _child: Child,
    console: String,
    grpc: String,
}

/// Starts `vigie dev --demo` on loopback port 0 for both the services and the
/// console, and reads both addresses from the banner: "Console : http://…"
/// comes first, then "… prêt sur http://…". (The shared harness's
/// `VigieServer` takes the first address it sees, which is now the console's.)
async fn dev_with_console(data_dir: &Path) -> Result<DevWithConsole> {
    let mut child = Command::new(vigie_bin()?)
        .args([
            "dev",
            "--demo",
            "--listen",
            "127.0.0.1:0",
            "--console-listen",
            "127.0.0.1:0",
            "--data-dir",
        ])
        .arg(data_dir)
        .env("LANG", "fr_FR.UTF-8")
        .env("RUST_LOG", "warn")
        .env_remove("VIGIE_ENDPOINT")
        .env_remove("VIGIE_AUTH")
        .env_remove("VIGIE_OIDC_ISSUER")
        .env_remove("VIGIE_OIDC_AUDIENCE")
        .env_remove("VIGIE_PSEUDONYM_SECRET")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .context("spawning vigie dev")?;
    let mut lines = BufReader::new(child.stderr.take().context("no stderr")?).lines();
    let address = |line: &str| -> Option<String> {
        let start = line.find("http://127.0.0.1:")?;
        Some(line[start..].chars().take_while(|c| !c.is_whitespace()).collect())
    };
    let (console, grpc) = tokio::time::timeout(Duration::from_secs(60), async {
        let mut console = None;
        while let Some(line) = lines.next_line().await? {
            if std::env::var_os("TEST_LOG").is_some() {
                eprintln!("vigie: {line}");
            }
            if line.starts_with("Console :") {
                console = address(&line);
            } else if line.contains("prêt sur") {
                let grpc = address(&line).context("no address after « prêt sur »")?;
                return Ok::<_, anyhow::Error>((console.context("no « Console : » line before « prêt sur »")?, grpc));
            }
        }
        bail!("vigie dev exited before announcing its addresses")
    })
    .await
    .context("vigie dev did not announce its addresses within 60 s")??;
    // Keep draining stderr so the server never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok(DevWithConsole {
        _child: child,
        console,
        grpc,
    })
}

#[tokio::test]
async fn console_pages_pass_axe_html_keyboard_and_the_director_scenario_in_chromium() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let dev = dev_with_console(&dir.path().join("data")).await?;
    let screenshots = match std::env::var_os("VIGIE_CONSOLE_SCREENSHOTS") {
        Some(kept) => PathBuf::from(kept),
        None => dir.path().join("screenshots"),
    };
    let runner = Path::new(env!("CARGO_MANIFEST_DIR")).join("browser/run.py");
    let python = std::env::var_os("VIGIE_PYTHON").unwrap_or_else(|| "python3".into());
    let run = Command::new(&python)
        .arg(&runner)
        .args(["--console", &dev.console, "--grpc", &dev.grpc, "--vigie"])
        .arg(vigie_bin()?)
        .arg("--screenshots")
        .arg(&screenshots)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(RUN_LIMIT, run)
        .await
        .context("the browser run did not finish within 10 minutes")?
        .with_context(|| format!("running {python:?} {}", runner.display()))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    ensure!(
        output.status.success(),
        "the browser run failed ({}):\n{stdout}\n--- progress ---\n{stderr}",
        output.status
    );
    // A run that checked nothing is no pass: the report counts its checks.
    let passed: usize = stdout
        .lines()
        .last()
        .and_then(|l| l.split(" passed").next())
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0);
    ensure!(passed >= 40, "too few checks ran ({passed}):\n{stdout}\n{stderr}");
    for home in ["connexion", "accueil-federation", "accueil-direction-de-structure"] {
        ensure!(
            screenshots.join(format!("{home}.png")).is_file(),
            "no screenshot {home}.png in {}",
            screenshots.display()
        );
    }
    Ok(())
}
