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

use anyhow::{ensure, Context, Result};
use tokio::process::Command;
use vigie_e2e::{vigie_bin, VigieServer};

/// The whole browser run (self-test, then about a dozen pages each audited
/// four ways) takes ~25 s alone; the bound leaves room for a loaded machine.
const RUN_LIMIT: Duration = Duration::from_secs(600);

#[tokio::test]
async fn console_pages_pass_axe_html_keyboard_and_the_director_scenario_in_chromium() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    let dev = VigieServer::dev(&data, &["--demo", "--console-listen", "127.0.0.1:0"], &[]).await?;
    let console = dev.console.clone().context("vigie dev announced no console")?;
    let screenshots = match std::env::var_os("VIGIE_CONSOLE_SCREENSHOTS") {
        Some(kept) => PathBuf::from(kept),
        None => dir.path().join("screenshots"),
    };
    run_browser(
        &["--console", &console, "--grpc", &dev.endpoint],
        Some(&screenshots),
        40,
    )
    .await?;
    for home in [
        "connexion",
        "accueil-federation",
        "accueil-coordination-de-reseau",
        "accueil-direction-de-structure",
    ] {
        ensure!(
            screenshots.join(format!("{home}.png")).is_file(),
            "no screenshot {home}.png in {}",
            screenshots.display()
        );
    }
    Ok(())
}

/// Runs tests/browser/run.py with `args`, the `vigie` binary and, when
/// given, the folder to keep screenshots in; fails unless it succeeds having
/// passed at least `min_checks` checks (a run that checked nothing is no
/// pass: the report's last line counts them). Returns what it printed of
/// its progress.
pub(crate) async fn run_browser(args: &[&str], screenshots: Option<&Path>, min_checks: usize) -> Result<String> {
    let runner = Path::new(env!("CARGO_MANIFEST_DIR")).join("browser/run.py");
    let python = std::env::var_os("VIGIE_PYTHON").unwrap_or_else(|| "python3".into());
    let mut command = Command::new(&python);
    command.arg(&runner).args(args).arg("--vigie").arg(vigie_bin()?);
    if let Some(folder) = screenshots {
        command.arg("--screenshots").arg(folder);
    }
    let run = command.stdin(Stdio::null()).kill_on_drop(true).output();
    let output = tokio::time::timeout(RUN_LIMIT, run)
        .await
        .context("the browser run did not finish within 10 minutes")?
        .with_context(|| format!("running {python:?} {}", runner.display()))?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    if std::env::var_os("TEST_LOG").is_some() {
        eprintln!("{stderr}\n{stdout}");
    }
    ensure!(
        output.status.success(),
        "the browser run failed ({}):\n{stdout}\n--- progress ---\n{stderr}",
        output.status
    );
    let passed: usize = stdout
        .lines()
        .last()
        .and_then(|l| l.split(" passed").next())
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0);
    ensure!(
        passed >= min_checks,
        "too few checks ran ({passed}):\n{stdout}\n{stderr}"
    );
    Ok(stderr)
}
