//! `vigie-bench console`: server time per page of the web console and page
//! weight, for a network of `--structures N` structures (default 2,000),
//! beside the bare parts the pages are built on, in the same run: the
//! console's own stylesheet (axum and the session layer alone, no service
//! call) and the gRPC reads a network's pages rest on (`ListStructures`,
//! `ListFragility` of the whole network, tonic alone).
//!
//! It starts `vigie dev --demo` (SQLite; calls, facilitators and trainings of
//! the demo), imports a generated set of N structures all moved into one
//! network (`reseau-mesure`; the generator's ids overlap the demo's, so its
//! 60 structures join that network), then, signed in through the dev page
//! as each profile, requests every page `--requests R` times (default 200)
//! one after the other, as one person browsing: p50 and p95 of the time to
//! the last byte, over loopback.
//!
//! ```sh
//! cargo build --release -p vigie -p vigie-e2e
//! target/release/vigie-bench console --structures 2000 --requests 200
//! ```

use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context as _, Result};
use futures::StreamExt;
use http::StatusCode;
use tonic::transport::Channel;
use vigie_e2e::console_client::Browser;
use vigie_e2e::{generate_set, VigieServer};
use vigie_proto::inventory::v1::inventory_service_client::InventoryServiceClient;
use vigie_proto::inventory::v1::{ListFragilityRequest, ListStructuresRequest};

use crate::args::Args;

/// The one network every generated structure is moved into.
const NETWORK: &str = "reseau-mesure";

/// Runs the scenario with `args` (after `console`).
///
/// # Errors
/// When the server cannot start, the import fails or a page is not served.
pub async fn run(args: &[String]) -> Result<()> {
    let args = Args(args);
    let structures = args.number("--structures", 2_000_usize)?.max(1);
    let requests = args.number("--requests", 200_usize)?.max(1);

    let dir = tempfile::tempdir()?;
    let set = dir.path().join("set");
    let set_arg = set.to_str().context("non UTF-8 path")?;
    generate_set(&set, structures, 11, None).await?;
    one_network(&set.join("structures.csv"))?;

    let data = dir.path().join("data");
    let data = data.to_str().context("non UTF-8 path")?;
    let server = VigieServer::start(&["dev", "--demo", "--listen", "127.0.0.1:0", "--data-dir", data], &[]).await?;
    let imported = server.cli(&["inventory", "import", set_arg]).await?;
    ensure!(imported.success, "import failed: {}", imported.stderr);
    let console = server.console.clone().context("vigie dev announced no console")?;
    // Let the consumers (alerting, training, facilitation read models) take
    // the import in before measuring.
    tokio::time::sleep(Duration::from_secs(5)).await;

    println!("Network `{NETWORK}`: {structures} structures; {requests} requests per page, one after the other.\n");
    println!("| page | profile | p50 (ms) | p95 (ms) | HTML (kB) | ratio of p50 to the stylesheet |");
    println!("|---|---|---:|---:|---:|---:|");

    let mut anonymous = Browser::new(&console);
    let floor = measure(&mut anonymous, "/static/console.css", requests).await?;
    row("/static/console.css (no service call)", "—", &floor, &floor);
    let signin = measure(&mut anonymous, "/connexion", requests).await?;
    row("/connexion (dev sign-in, every profile)", "anonymous", &signin, &floor);

    let director = "S000004";
    for (profile, label) in [
        (format!("coordinator:{NETWORK}"), "coordination"),
        (format!("director:{director}"), "direction"),
        ("federation".to_owned(), "federation"),
    ] {
        let mut browser = Browser::new(&console);
        let home = browser.sign_in(&profile).await?;
        let page = measure(&mut browser, &home, requests).await?;
        row(&home, label, &page, &floor);
        if label == "coordination" {
            let structure = format!("/structures/{director}");
            let page = measure(&mut browser, &structure, requests).await?;
            row(&structure, label, &page, &floor);
        }
    }

    let channel = Channel::from_shared(server.endpoint.clone())?.connect().await?;
    let bare = bare_reads(&channel, requests.min(50)).await?;
    println!("\n| bare gRPC read, same run (tonic alone, the dev identity) | p50 (ms) | p95 (ms) |");
    println!("|---|---:|---:|");
    for (name, times) in bare {
        println!(
            "| {name} | {:.2} | {:.2} |",
            ms(percentile(&times, 50)),
            ms(percentile(&times, 95))
        );
    }
    Ok(())
}

/// Moves every structure of a generated `structures.csv` into [`NETWORK`].
fn one_network(path: &std::path::Path) -> Result<()> {
    let mut reader = csv::Reader::from_path(path)?;
    let headers = reader.headers()?.clone();
    let column = headers
        .iter()
        .position(|h| h == "network")
        .context("structures.csv has no network column")?;
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record?;
        rows.push(
            record
                .iter()
                .enumerate()
                .map(|(i, v)| if i == column { NETWORK.to_owned() } else { v.to_owned() })
                .collect::<Vec<_>>(),
        );
    }
    let mut writer = csv::Writer::from_path(path)?;
    writer.write_record(&headers)?;
    for row in rows {
        writer.write_record(&row)?;
    }
    writer.flush()?;
    Ok(())
}

/// Times of `requests` GETs of `path` (after 5 not counted), with the HTML size.
struct Measured {
    times: Vec<Duration>,
    bytes: usize,
}

async fn measure(browser: &mut Browser, path: &str, requests: usize) -> Result<Measured> {
    let mut bytes = 0;
    for _ in 0..5 {
        let page = browser.get(path).await?;
        if page.status != StatusCode::OK {
            bail!("{path}: {} {}", page.status, page.location());
        }
        bytes = page.body.len();
    }
    let mut times = Vec::with_capacity(requests);
    for _ in 0..requests {
        let start = Instant::now();
        let page = browser.get(path).await?;
        times.push(start.elapsed());
        ensure!(page.status == StatusCode::OK, "{path}: {}", page.status);
    }
    times.sort();
    Ok(Measured { times, bytes })
}

fn row(page: &str, profile: &str, measured: &Measured, floor: &Measured) {
    let p50 = percentile(&measured.times, 50);
    println!(
        "| `{page}` | {profile} | {:.2} | {:.2} | {:.1} | {:.1} |",
        ms(p50),
        ms(percentile(&measured.times, 95)),
        measured.bytes as f64 / 1000.0,
        p50.as_secs_f64() / percentile(&floor.times, 50).as_secs_f64()
    );
}

/// The reads a network's pages rest on, straight over gRPC.
async fn bare_reads(channel: &Channel, calls: usize) -> Result<Vec<(&'static str, Vec<Duration>)>> {
    let mut inventory = InventoryServiceClient::new(channel.clone());
    let mut structures = Vec::new();
    let mut fragility = Vec::new();
    for _ in 0..calls {
        let start = Instant::now();
        inventory.list_structures(ListStructuresRequest::default()).await?;
        structures.push(start.elapsed());
        let start = Instant::now();
        let mut stream = inventory
            .list_fragility(ListFragilityRequest::default())
            .await?
            .into_inner();
        while let Some(item) = stream.next().await {
            item?;
        }
        fragility.push(start.elapsed());
    }
    structures.sort();
    fragility.sort();
    Ok(vec![
        ("`ListStructures`, every structure", structures),
        ("`ListFragility`, every structure, streamed", fragility),
    ])
}

fn percentile(sorted: &[Duration], p: usize) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) * p) / 100]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
