//! `vigie-bench consumers [--mode embedded|distributed|both] [--events
//! 100000] [--batch 1000] [--before-events 20000]`: how fast a consumer applies
//! events (issue 14), beside the bare part in the same run.
//!
//! `--events` `structure.inventoried` envelopes (one structure in two gets a
//! second, newer snapshot; three people each) are published into the
//! `VIGIE_INVENTORY` stream of a private nats-server, then consumed by:
//!
//! 1. the bare part: a durable pull consumer that takes what has arrived (up
//!    to `--batch`) and acks each message, as the consumer loop does (plain
//!    acks, flushed at the end) — JetStream consumption alone;
//! 2. the real consumer loop (`run_jetstream_consumer`) with alerting's read
//!    model `Consumer`, batches of up to `--batch` (one transaction each), on
//!    a fresh SQLite file (embedded) or PostgreSQL database (distributed);
//! 3. `Consumer::process` on the first `--before-events` envelopes, one
//!    transaction per event, without transport: the path measured before
//!    batches (`vigie-bench alerting --feed consumer`).
//!
//! Each durable starts from the beginning of the stream; a run ends when its
//! durable's acknowledgement floor reaches the last message.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use async_nats::jetstream::{self, consumer::pull};
use futures::StreamExt;
use tokio_util::sync::CancellationToken;
use vigie_alerting::handlers::{InventoryReadModel, STRUCTURE_INVENTORIED};
use vigie_platform::db::Db;
use vigie_platform::events::jetstream::{ensure_consumer, run_jetstream_consumer, ConsumerOptions};
use vigie_platform::events::{Consumer, Envelope, JetStreamPublisher, Publisher};
use vigie_proto::events::v1::StructureInventoried;
use vigie_proto::inventory::v1 as inv;
use vigie_testkit::{NatsServer, PgDatabase};

use crate::args::Args;
use crate::database::database_url;
use crate::mode::Mode;

const STREAM: &str = "VIGIE_INVENTORY";

struct Options {
    embedded: bool,
    distributed: bool,
    events: usize,
    batch: usize,
    before_events: usize,
}

impl Options {
    fn parse(args: &[String]) -> Result<Options> {
        let args = Args(args);
        let modes = Mode::parse(args)?;
        Ok(Options {
            embedded: modes.contains(&Mode::Embedded),
            distributed: modes.contains(&Mode::Distributed),
            events: args.number("--events", 100_000)?,
            batch: args.number("--batch", ConsumerOptions::default().batch)?.max(1),
            before_events: args.number("--before-events", 20_000)?,
        })
    }
}

/// The `i`-th envelope: structure `i / 2`'s version `i % 2 + 1`, in order.
fn envelope(i: usize) -> Envelope {
    let id = format!("S{:06}", i / 2);
    let structure = inv::Structure {
        structure_id: id.clone(),
        name: format!("Structure {id}"),
        network: format!("reseau-{}", i % 50),
        legal_form: "association".to_owned(),
        department_code: "35".to_owned(),
        commune_insee: "35238".to_owned(),
        region_code: "53".to_owned(),
        people: (0..3)
            .map(|p| inv::Person {
                person_id: format!("{id}-P{p}"),
                display_name: format!("Personne {p} de {id}"),
                role: "employee".to_owned(),
                email: format!("p{p}@{}.example.org", id.to_lowercase()),
                ..Default::default()
            })
            .collect(),
        version: (i % 2 + 1) as u64,
        ..Default::default()
    };
    Envelope::of(
        "/vigie/inventory",
        id,
        &StructureInventoried {
            structure: Some(structure),
        },
    )
}

/// Waits until durable `name` has delivered and had acknowledged every
/// message of the stream up to `last` (stream sequence).
async fn wait_consumed(js: &jetstream::Context, name: &str, last: u64) -> Result<()> {
    let stream = js.get_stream(STREAM).await?;
    let created_by = Instant::now() + Duration::from_secs(30);
    loop {
        // The consumer loop creates its durable when it starts: until then
        // it is not found (for 30 s at most).
        let mut durable = match stream.get_consumer::<pull::Config>(name).await {
            Ok(durable) => durable,
            Err(_) if Instant::now() < created_by => {
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
            Err(error) => anyhow::bail!("durable {name}: {error}"),
        };
        let info = durable.info().await?;
        if info.ack_floor.stream_sequence >= last {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// JetStream consumption alone: take what has arrived, ack it all.
async fn bare(js: &jetstream::Context, batch: usize, last: u64) -> Result<Duration> {
    let stream = js.get_stream(STREAM).await?;
    let options = ConsumerOptions {
        batch,
        ..ConsumerOptions::default()
    };
    let started = Instant::now();
    let durable = ensure_consumer(&stream, "bench-bare", STRUCTURE_INVENTORIED, &options).await?;
    let mut chunks = durable
        .stream()
        .max_messages_per_batch(batch)
        .messages()
        .await?
        .ready_chunks(batch);
    let mut acked = 0;
    // Unconstrained, as in the consumer loop: tokio's cooperative budget
    // would end every chunk at 128 messages.
    while let Some(chunk) = tokio::task::unconstrained(chunks.next()).await {
        let messages: Vec<jetstream::Message> = chunk
            .into_iter()
            .collect::<Result<_, _>>()
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        for message in &messages {
            message.ack().await.map_err(|e| anyhow::anyhow!("{e}"))?;
        }
        acked += messages.len() as u64;
        if acked >= last {
            break;
        }
    }
    js.client().flush().await?;
    Ok(started.elapsed())
}

/// Alerting's read model on a fresh database of `mode`.
async fn read_model(mode: &str, dir: &std::path::Path, name: &str) -> Result<(Consumer, Option<PgDatabase>)> {
    let (url, pg) = database_url(mode == "embedded", dir, name, None).await?;
    let db = Db::connect(&url).await?;
    vigie_alerting::service::migrate(&db).await?;
    Ok((Consumer::new(db, Arc::new(InventoryReadModel::default())), pg))
}

/// The real consumer loop, batches of up to `batch`; returns the time to
/// consume the stream up to `last`. Its durable is deleted afterwards.
async fn real(js: &jetstream::Context, consumer: Consumer, batch: usize, last: u64) -> Result<Duration> {
    let name = consumer.name().to_owned();
    let db = consumer.db().clone();
    let options = ConsumerOptions {
        batch,
        ..ConsumerOptions::default()
    };
    let shutdown = CancellationToken::new();
    let started = Instant::now();
    let task = tokio::spawn(run_jetstream_consumer(
        js.clone(),
        STREAM,
        consumer,
        options,
        shutdown.clone(),
    ));
    wait_consumed(js, &name, last).await?;
    let elapsed = started.elapsed();
    shutdown.cancel();
    task.await??;
    js.get_stream(STREAM).await?.delete_consumer(&name).await?;
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM al_structures")
        .fetch_one(db.pool())
        .await?;
    eprintln!("{name}: {stored} structures stored in {:.1}s", elapsed.as_secs_f64());
    Ok(elapsed)
}

/// `Consumer::process` on each envelope: one transaction per event, the
/// path measured before batches (no transport).
async fn one_by_one(consumer: &Consumer, envelopes: &[Envelope]) -> Result<Duration> {
    let started = Instant::now();
    for envelope in envelopes {
        consumer.process(envelope).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    Ok(started.elapsed())
}

fn rate(events: usize, elapsed: Duration) -> f64 {
    events as f64 / elapsed.as_secs_f64()
}

pub async fn run(args: &[String]) -> Result<()> {
    let o = Options::parse(args)?;
    let nats = NatsServer::try_start().await?;
    let js = vigie_platform::events::jetstream::connect(&nats.url(), "vigie-bench").await?;
    vigie_platform::events::jetstream::ensure_stream(&js, "inventory").await?;
    let publisher = JetStreamPublisher::new(js.clone());
    let envelopes: Vec<Envelope> = (0..o.events).map(envelope).collect();
    let started = Instant::now();
    for chunk in envelopes.chunks(1_000) {
        for result in publisher.publish_batch(chunk).await {
            result?;
        }
    }
    eprintln!(
        "published {} events in {:.1}s",
        o.events,
        started.elapsed().as_secs_f64()
    );
    let last = o.events as u64;

    println!(
        "## Consumers (alerting read model, {} events, batch {})\n",
        o.events, o.batch
    );
    println!(
        "| backend | bare: JetStream consumption, acks | JetStream consumer loop, batches | ratio | \
         `Consumer::process`, one transaction per event ({} events) |",
        o.before_events
    );
    println!("|---|---|---|---|---|");
    let modes = [("embedded", o.embedded), ("distributed", o.distributed)];
    for (mode, _) in modes.iter().filter(|(_, wanted)| *wanted) {
        let dir = tempfile::tempdir()?;
        let bare_rate = rate(o.events, bare(&js, o.batch, last).await?);
        js.get_stream(STREAM).await?.delete_consumer("bench-bare").await?;
        let (consumer, _batched_pg) = read_model(mode, dir.path(), "batched").await?;
        let batched = rate(o.events, real(&js, consumer, o.batch, last).await?);
        let before = &envelopes[..o.before_events.min(o.events)];
        let (consumer, _single_pg) = read_model(mode, dir.path(), "single").await?;
        let single = rate(before.len(), one_by_one(&consumer, before).await?);
        println!(
            "| {} | {bare_rate:.0} events/s | {batched:.0} events/s | {:.2} | {single:.0} events/s |",
            if *mode == "embedded" { "SQLite" } else { "PostgreSQL" },
            batched / bare_rate
        );
    }
    Ok(())
}
