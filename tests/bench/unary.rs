//! `vigie-bench unary`: what one gRPC answer of Vigie costs, beside the bare
//! part it is built on — tonic's own `grpc.health.v1/Check`, served by the
//! same process on the same connection, in the same run.
//!
//! Starts `vigie dev --demo` (SQLite, 60 structures) and measures, for
//! `--calls N` calls (default 2,000):
//!
//! - **one caller**: sequential calls on one connection, as the CLI or the
//!   console make them; this is where a missing `TCP_NODELAY` showed (each
//!   answer waited ~40 ms for the client's delayed ACK: 21 calls/s);
//! - **`--callers C` callers** (default 64) sharing the connection.
//!
//! ```sh
//! cargo build --release -p vigie -p vigie-e2e
//! target/release/vigie-bench unary --calls 2000 --callers 64
//! ```

use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use futures::future::try_join_all;
use tonic::transport::Channel;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;
use vigie_e2e::VigieServer;
use vigie_proto::inventory::v1::inventory_service_client::InventoryServiceClient;
use vigie_proto::inventory::v1::GetFragilityRequest;

/// A demo structure (the demo federation is generated with a fixed seed).
const STRUCTURE: &str = "S000004";

/// Runs the scenario with `args` (after `unary`).
///
/// # Errors
/// When the server cannot start or a call fails.
pub async fn run(args: &[String]) -> Result<()> {
    let flag = |name: &str, default: usize| -> Result<usize> {
        match args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)) {
            Some(value) => value.parse().with_context(|| format!("{name} takes a number")),
            None => Ok(default),
        }
    };
    let calls = flag("--calls", 2_000)?.max(1);
    let callers = flag("--callers", 64)?.max(1);
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    let data = data.to_str().context("non UTF-8 path")?;
    let server = VigieServer::start(&["dev", "--demo", "--listen", "127.0.0.1:0", "--data-dir", data], &[]).await?;
    let channel = Channel::from_shared(server.endpoint.clone())?.connect().await?;
    // Warm up both paths (connection, SQLite cache, lazy statics).
    measure(&channel, Path::Fragility, 50, 1).await?;
    measure(&channel, Path::Health, 50, 1).await?;

    println!("| callers | path | calls | seconds | calls/s | ratio to the health check |");
    println!("|---:|---|---:|---:|---:|---:|");
    for parallel in [1, callers] {
        let health = measure(&channel, Path::Health, calls, parallel).await?;
        let fragility = measure(&channel, Path::Fragility, calls, parallel).await?;
        let rate = |d: Duration| calls as f64 / d.as_secs_f64();
        println!(
            "| {parallel} | `grpc.health.v1/Check` (tonic alone) | {calls} | {:.2} | {:.0} | 1 |",
            health.as_secs_f64(),
            rate(health)
        );
        println!(
            "| {parallel} | `GetFragility` (SQLite) | {calls} | {:.2} | {:.0} | {:.2} |",
            fragility.as_secs_f64(),
            rate(fragility),
            rate(fragility) / rate(health)
        );
    }
    Ok(())
}

#[derive(Clone, Copy)]
enum Path {
    Health,
    Fragility,
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
                }
            }
            Ok::<_, anyhow::Error>(())
        }
    });
    try_join_all(callers).await?;
    Ok(started.elapsed())
}
