//! `vigie-bench unary`: what one gRPC answer of Vigie costs, beside the bare
//! part it is built on — tonic's own `grpc.health.v1/Check`, served by the
//! same process on the same connection, in the same run.
//!
//! `--mode dev` (default) starts `vigie dev --demo` (SQLite, 60 structures);
//! `--mode serve` starts `vigie serve inventory` on a fresh PostgreSQL
//! database and a private nats-server, then imports the same 60 structures
//! (`vigie inventory generate --seed 2026`, as the demo) through the CLI;
//! `--mode both` runs one then the other. Each measures, for `--calls N`
//! calls (default 2,000), `GetFragility` and `GetStructure` of one structure
//! beside the health check:
//!
//! - **one caller**: sequential calls on one connection, as the CLI or the
//!   console make them; this is where a missing `TCP_NODELAY` showed (each
//!   answer waited ~40 ms for the client's delayed ACK: 21 calls/s);
//! - **`--callers C` callers** (default 64) sharing the connection.
//!
//! `--read-staleness-ms N` starts the `serve` server with
//! `inventory.read_staleness_ms = N` (0 by default: every read checks the
//! structure's version in PostgreSQL).
//!
//! ```sh
//! cargo build --release -p vigie -p vigie-e2e
//! target/release/vigie-bench unary --mode both --calls 2000 --callers 64
//! target/release/vigie-bench unary --mode serve --calls 60000 --read-staleness-ms 1000
//! ```

use std::time::{Duration, Instant};

use anyhow::{bail, Context as _, Result};
use futures::future::try_join_all;
use tonic::transport::Channel;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;
use vigie_e2e::{generate_set, VigieServer};
use vigie_proto::inventory::v1::inventory_service_client::InventoryServiceClient;
use vigie_proto::inventory::v1::{GetFragilityRequest, GetStructureRequest};
use vigie_testkit::{NatsServer, PgDatabase};

use crate::args::Args;

/// A demo structure (the demo federation is generated with a fixed seed).
const STRUCTURE: &str = "S000004";
/// The demo federation's size and seed (`vigie dev --demo`).
const DEMO_STRUCTURES: &str = "60";
const DEMO_SEED: &str = "2026";

/// Runs the scenario with `args` (after `unary`).
///
/// # Errors
/// When the server cannot start or a call fails.
pub async fn run(args: &[String]) -> Result<()> {
    let args = Args(args);
    let calls = args.number("--calls", 2_000_usize)?.max(1);
    let callers = args.number("--callers", 64_usize)?.max(1);
    let modes = args.modes("dev", ["dev", "serve"])?;
    let staleness = args.number("--read-staleness-ms", 0_u64)?;
    let inventory_settings = format!("{{read_staleness_ms={staleness}}}");
    println!("| mode | callers | path | calls | seconds | calls/s | ratio to the health check |");
    println!("|---|---:|---|---:|---:|---:|---:|");
    for mode in &modes {
        let dir = tempfile::tempdir()?;
        // The servers (and for `serve` the database and nats-server) live
        // until the end of this mode's measurements.
        let (_server, endpoint, _keep) = match *mode {
            "dev" => {
                let data = dir.path().join("data");
                let data = data.to_str().context("non UTF-8 path")?;
                let server =
                    VigieServer::start(&["dev", "--demo", "--listen", "127.0.0.1:0", "--data-dir", data], &[]).await?;
                let endpoint = server.endpoint.clone();
                (server, endpoint, None)
            }
            _ => {
                let nats = NatsServer::start().await;
                let db = PgDatabase::create().await;
                let server = VigieServer::serve(
                    "inventory",
                    db.url(),
                    &nats.url(),
                    &[("VIGIE_INVENTORY", &inventory_settings)],
                )
                .await?;
                load_demo_set(&server, dir.path()).await?;
                let endpoint = server.endpoint.clone();
                (server, endpoint, Some((nats, db)))
            }
        };
        let label = if *mode == "dev" {
            "dev (SQLite)".to_owned()
        } else {
            format!("serve (PostgreSQL, staleness {staleness} ms)")
        };
        measure_mode(&label, &endpoint, calls, callers).await?;
    }
    Ok(())
}

/// Imports the demo federation's set into a `vigie serve inventory` server.
async fn load_demo_set(server: &VigieServer, dir: &std::path::Path) -> Result<()> {
    let set = dir.join("set");
    generate_set(&set, DEMO_STRUCTURES, DEMO_SEED, None).await?;
    let set = set.to_str().context("non UTF-8 path")?;
    let imported = server.cli(&["inventory", "import", set]).await?;
    if !imported.success {
        bail!("import failed: {}", imported.stderr);
    }
    Ok(())
}

/// Prints the rows of one server: each path beside the health check, for
/// one caller then `callers`.
async fn measure_mode(mode: &str, endpoint: &str, calls: usize, callers: usize) -> Result<()> {
    let channel = Channel::from_shared(endpoint.to_owned())?.connect().await?;
    // Warm up every path (connection, database cache, lazy statics).
    for path in [Path::Health, Path::Fragility, Path::Structure] {
        measure(&channel, path, 50, 1).await?;
    }
    for parallel in [1, callers] {
        let health = measure(&channel, Path::Health, calls, parallel).await?;
        let rate = |d: Duration| calls as f64 / d.as_secs_f64();
        println!(
            "| {mode} | {parallel} | `grpc.health.v1/Check` (tonic alone) | {calls} | {:.2} | {:.0} | 1 |",
            health.as_secs_f64(),
            rate(health)
        );
        for (path, name) in [(Path::Fragility, "GetFragility"), (Path::Structure, "GetStructure")] {
            let took = measure(&channel, path, calls, parallel).await?;
            println!(
                "| {mode} | {parallel} | `{name}` | {calls} | {:.2} | {:.0} | {:.2} |",
                took.as_secs_f64(),
                rate(took),
                rate(took) / rate(health)
            );
        }
    }
    Ok(())
}

#[derive(Clone, Copy)]
enum Path {
    Health,
    Fragility,
    Structure,
}

/// Makes `calls` calls split among `parallel` callers on `channel`; the wall time.
async fn measure(channel: &Channel, path: Path, calls: usize, parallel: usize) -> Result<Duration> {
    let started = Instant::now();
    let per_caller = calls.div_ceil(parallel);
    let callers = (0..parallel).map(|i| {
        let channel = channel.clone();
        let mine = per_caller.min(calls.saturating_sub(i * per_caller));
        async move {
            let mut health = HealthClient::new(channel.clone());
            let mut inventory = InventoryServiceClient::new(channel);
            for _ in 0..mine {
                match path {
                    Path::Health => {
                        health.check(HealthCheckRequest { service: String::new() }).await?;
                    }
                    Path::Fragility => {
                        inventory
                            .get_fragility(GetFragilityRequest {
                                structure_id: STRUCTURE.into(),
                                ..GetFragilityRequest::default()
                            })
                            .await?;
                    }
                    Path::Structure => {
                        inventory
                            .get_structure(GetStructureRequest {
                                structure_id: STRUCTURE.into(),
                            })
                            .await?;
                    }
                }
            }
            Ok::<_, anyhow::Error>(())
        }
    });
    try_join_all(callers).await?;
    Ok(started.elapsed())
}
