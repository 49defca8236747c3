//! `vigie-bench`: the benchmarks of docs/benchmarks.md.
//!
//! `vigie-bench [import] [--mode …] [--sizes …]` (the default scenario): for
//! each size, generates a set with `vigie inventory generate`, starts a fresh
//! server (embedded: `vigie dev` on SQLite; distributed: `vigie serve
//! inventory` on a fresh PostgreSQL database and a private nats-server), and
//! measures the import through the CLI, the time until every event is in
//! JetStream, the time to consume them all, and the server's peak memory;
//! then the fragility export (`vigie inventory fragility --format csv`) beside
//! the bare part, `scripts/bench/fragility_plain.py`, a plain single-threaded
//! script computing the same CSV from the same set (outputs compared).
//! `--relists N` lists every structure N more times once the export is done,
//! each timed on stderr: the listing alone, without the import's wake.
//!
//! ```sh
//! cargo build --release -p vigie -p vigie-e2e
//! target/release/vigie-bench --mode both --sizes 20000,100000
//! ```
//!
//! `vigie-bench alerting [--mode …]`: matching, planning and a backlog of
//! reminders in the alerting service (issue 3), see [`alerting`].
//!
//! `vigie-bench delivery [--mode …]`: claim writes and SMTP delivery beside
//! their bare parts (issue 14), see [`delivery`].
//!
//! `vigie-bench unary [--mode dev|serve|both] [--calls N] [--callers C]`:
//! `GetFragility` and `GetStructure` beside tonic's own health check on the
//! same server, see [`unary`].
//!
//! `vigie-bench federation [--regions 100] [--structures 2000] [--mode
//! dev|serve|both]`: regional snapshots under secrecy and their national
//! ingest and roll-ups beside a bare insert (issue 12), see [`federation`].
//!
//! `vigie-bench console [--structures 2000] [--requests 200]`: server time
//! per page of the web console and page weight for a network of that size,
//! beside its stylesheet and the bare gRPC reads (issue 11), see [`console`].
//!
//! `vigie-bench consumers [--mode embedded|distributed|both] [--events
//! 100000] [--batch 1000]`: events applied by alerting's read model through
//! the JetStream consumer loop beside bare JetStream consumption (issue 14),
//! see [`consumers`].
//!
//! `vigie-bench grants [--mode …] [--rows 5000] [--duty-structures 2000]`:
//! the grants import and the claim pass with reporting duties beside their
//! bare parts (issue 16), see [`grants`].

mod alerting;
mod args;
mod clock;
mod console;
mod consumers;
mod database;
mod delivery;
mod federation;
mod grants;
mod mode;
mod rng;
mod unary;

use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use futures::StreamExt;
use vigie_e2e::{generate_set, VigieServer};
use vigie_testkit::memory::{self, Process};
use vigie_testkit::{NatsServer, PgDatabase};

use crate::args::Args;

/// What `vigie-bench --help` prints.
const USAGE: &str = "vigie-bench: the benchmarks of docs/benchmarks.md

  vigie-bench [import] [--mode embedded|distributed|both] [--sizes 20000,100000] [--relists N]
  vigie-bench alerting [--mode …] [--structures N] [--calls N] [--backlog N] [--smtp-messages N] [--feed batch]
  vigie-bench delivery [--mode …] [--messages N] [--smtp-messages N]
  vigie-bench unary [--mode dev|serve|both] [--calls N] [--callers C]
  vigie-bench federation [--regions 100] [--structures 2000] [--mode dev|serve|both]
  vigie-bench console [--structures 2000] [--requests 200]
  vigie-bench consumers [--mode embedded|distributed|both] [--events 100000] [--batch 1000]
  vigie-bench grants [--mode …] [--rows 5000] [--duty-structures 2000]

Every option is described at the top of its scenario's file (tests/bench/*.rs)
and in docs/benchmarks.md. Runs the vigie binary beside this one (or VIGIE_BIN);
needs PostgreSQL on 127.0.0.1:5432 (or VIGIE_TEST_DATABASE_URL) and nats-server.";

struct Row {
    mode: &'static str,
    structures: usize,
    import: Duration,
    /// `vigie inventory fragility --format csv` right after the import.
    export: Duration,
    /// The plain script computing the same CSV from the same set.
    plain: Duration,
    events: u64,
    in_stream: Option<Duration>,
    consumed: Option<Duration>,
    peak_rss_mib: f64,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        // The scenarios and their options are this file's documentation: a
        // `--help` must never start a benchmark of several minutes.
        println!("{USAGE}");
        return Ok(());
    }
    match args.get(1).map(String::as_str) {
        Some("alerting") => return alerting::run(&args[2..]).await,
        Some("unary") => return unary::run(&args[2..]).await,
        Some("delivery") => return delivery::run(&args[2..]).await,
        Some("federation") => return federation::run(&args[2..]).await,
        Some("console") => return console::run(&args[2..]).await,
        Some("consumers") => return consumers::run(&args[2..]).await,
        Some("grants") => return grants::run(&args[2..]).await,
        Some("import") | None => {}
        Some(flag) if flag.starts_with("--") => {}
        Some(other) => {
            bail!(
                "unknown scenario {other}: import (default), alerting, console, consumers, delivery, federation, grants or unary"
            )
        }
    }
    let flag = |name: &str| Args(&args).value(name).map(str::to_owned);
    let mode = flag("--mode").unwrap_or_else(|| "both".into());
    let sizes: Vec<usize> = flag("--sizes")
        .unwrap_or_else(|| "20000,100000".into())
        .split(',')
        .map(|s| s.trim().parse().context("--sizes takes numbers separated by commas"))
        .collect::<Result<_>>()?;
    // Listings again once the import's work is done: the export right after
    // an import shares the cores with it (the relay, the in-process bus).
    let relists: usize = flag("--relists")
        .map(|n| n.parse().context("--relists takes a number"))
        .transpose()?
        .unwrap_or(0);
    let mut rows = Vec::new();
    for &n in &sizes {
        let dir = tempfile::tempdir()?;
        let set = dir.path().join("set");
        let set_arg = set.to_str().context("non UTF-8 path")?;
        generate_set(&set, n, 1, Some("2026-11-28")).await?;
        if mode == "embedded" || mode == "both" {
            let mut row = embedded(n, set_arg, dir.path(), relists).await?;
            row.plain = plain_script(set_arg, dir.path()).await?;
            rows.push(row);
        }
        if mode == "distributed" || mode == "both" {
            let mut row = distributed(n, set_arg, dir.path(), relists).await?;
            row.plain = plain_script(set_arg, dir.path()).await?;
            rows.push(row);
        }
    }
    println!("| mode | structures | import (s) | structures/s | events | all events in JetStream (s) | events/s to JetStream | consume all (s) | events/s consumed | server peak RSS (MiB) | fragility CSV export (s) | import + export (s) | plain script, same CSV (s) | ratio |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in rows {
        let secs = |d: Option<Duration>| {
            d.map(|d| format!("{:.2}", d.as_secs_f64()))
                .unwrap_or_else(|| "—".into())
        };
        let rate = |d: Option<Duration>| {
            d.map(|d| format!("{:.0}", r.events as f64 / d.as_secs_f64()))
                .unwrap_or_else(|| "—".into())
        };
        let both = r.import + r.export;
        println!(
            "| {} | {} | {:.2} | {:.0} | {} | {} | {} | {} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} |",
            r.mode,
            r.structures,
            r.import.as_secs_f64(),
            r.structures as f64 / r.import.as_secs_f64(),
            r.events,
            secs(r.in_stream),
            rate(r.in_stream),
            secs(r.consumed),
            rate(r.consumed),
            r.peak_rss_mib,
            r.export.as_secs_f64(),
            both.as_secs_f64(),
            r.plain.as_secs_f64(),
            both.as_secs_f64() / r.plain.as_secs_f64()
        );
    }
    Ok(())
}

async fn import(server: &VigieServer, set: &str) -> Result<(Duration, u64)> {
    let started = Instant::now();
    let out = server.cli(&["inventory", "import", set]).await?;
    let elapsed = started.elapsed();
    if !out.success {
        bail!("import failed: {}", out.stderr);
    }
    let events = out
        .stdout
        .split(';')
        .nth(1)
        .and_then(|t| t.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .context("no event count in the import summary")?;
    Ok((elapsed, events))
}

/// The day the sets are generated for: exports and the plain script assess on it.
const SET_DAY: &str = "2026-11-28";

/// Times `vigie inventory fragility --format csv` (every structure, streamed
/// by `ListFragility`) and keeps its output as `vigie.csv` in `dir`.
async fn export(server: &VigieServer, dir: &std::path::Path) -> Result<Duration> {
    let started = Instant::now();
    let out = server
        .cli(&["inventory", "fragility", "--format", "csv", "--at", SET_DAY])
        .await?;
    let elapsed = started.elapsed();
    if !out.success {
        bail!("fragility export failed: {}", out.stderr);
    }
    std::fs::write(dir.join("vigie.csv"), &out.stdout)?;
    Ok(elapsed)
}

/// Lists every structure `times` more times, each timed on stderr.
async fn relist(server: &VigieServer, dir: &std::path::Path, times: usize) -> Result<()> {
    for _ in 0..times {
        eprintln!("listing again: {:.3}s", export(server, dir).await?.as_secs_f64());
    }
    Ok(())
}

/// Times the bare part: `scripts/bench/fragility_plain.py`, a plain
/// single-threaded Python script computing the same CSV from the same set,
/// and checks that its output equals Vigie's (`vigie.csv` in `dir`).
async fn plain_script(set: &str, dir: &std::path::Path) -> Result<Duration> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/bench/fragility_plain.py");
    let started = Instant::now();
    let out = tokio::process::Command::new("python3")
        .args([script, set, "--today", SET_DAY])
        .output()
        .await?;
    let elapsed = started.elapsed();
    if !out.status.success() {
        bail!("plain script failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let vigie = std::fs::read(dir.join("vigie.csv"))?;
    if vigie != out.stdout {
        bail!("the plain script and vigie disagree on the fragility CSV");
    }
    Ok(elapsed)
}

/// Peak resident memory (VmHWM) of a process, in MiB.
fn peak_rss_mib(pid: Option<u32>) -> Result<f64> {
    let pid = pid.context("server already exited")?;
    memory::peak_mib(Process::Pid(pid)).context("no VmHWM in /proc status")
}

async fn embedded(n: usize, set: &str, dir: &std::path::Path, relists: usize) -> Result<Row> {
    let data = dir.join("data");
    let data_arg = data.to_str().context("non UTF-8 path")?;
    let server = VigieServer::start(&["dev", "--listen", "127.0.0.1:0", "--data-dir", data_arg], &[]).await?;
    let (elapsed, events) = import(&server, set).await?;
    let export = export(&server, dir).await?;
    relist(&server, dir, relists).await?;
    let peak = peak_rss_mib(server.pid())?;
    eprintln!(
        "embedded {n}: import {:.2}s, export {:.2}s",
        elapsed.as_secs_f64(),
        export.as_secs_f64()
    );
    Ok(Row {
        mode: "embedded (SQLite)",
        structures: n,
        import: elapsed,
        export,
        plain: Duration::ZERO,
        events,
        in_stream: None,
        consumed: None,
        peak_rss_mib: peak,
    })
}

async fn distributed(n: usize, set: &str, dir: &std::path::Path, relists: usize) -> Result<Row> {
    let nats = NatsServer::start().await;
    let db = PgDatabase::create().await;
    let url = nats.url();
    let server = VigieServer::serve("inventory", db.url(), &url, &[]).await?;
    let started = Instant::now();
    let (elapsed, events) = import(&server, set).await?;
    let js = async_nats::jetstream::new(async_nats::connect(&url).await?);
    let mut stream = js.get_stream("VIGIE_INVENTORY").await?;
    // Wait (bounded) until the relay has published every event.
    let deadline = Instant::now() + Duration::from_secs(1800);
    while stream.info().await?.state.messages < events {
        if Instant::now() > deadline {
            bail!("events not all published after 30 minutes");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let in_stream = started.elapsed();
    let export = export(&server, dir).await?;
    relist(&server, dir, relists).await?;
    let peak = peak_rss_mib(server.pid())?;

    let consumer = stream
        .create_consumer(async_nats::jetstream::consumer::pull::Config {
            durable_name: Some("bench".into()),
            ack_policy: async_nats::jetstream::consumer::AckPolicy::Explicit,
            ..Default::default()
        })
        .await?;
    let consume_start = Instant::now();
    let mut messages = consumer.messages().await?;
    let mut seen = 0u64;
    while seen < events {
        let message = messages
            .next()
            .await
            .context("stream ended")?
            .map_err(|e| anyhow::anyhow!(e))?;
        message.ack().await.map_err(|e| anyhow::anyhow!(e))?;
        seen += 1;
    }
    let consumed = consume_start.elapsed();
    eprintln!(
        "distributed {n}: import {:.2}s, in stream after {:.2}s",
        elapsed.as_secs_f64(),
        in_stream.as_secs_f64()
    );
    Ok(Row {
        mode: "distributed (PostgreSQL + JetStream)",
        structures: n,
        import: elapsed,
        export,
        plain: Duration::ZERO,
        events,
        in_stream: Some(in_stream),
        consumed: Some(consumed),
        peak_rss_mib: peak,
    })
}
