//! TEST HELPER — not part of Vigie. Used by the platform's integration test
//! `embedded_crash` to prove that the embedded event mode keeps its
//! guarantees across a `SIGKILL`.
//!
//! Usage: `vigie-crash-worker <DIR> <TOTAL> [PACE_MS] [PER_TX]`
//!
//! Opens (creating them) `<DIR>/producer.db` and `<DIR>/consumer.db` — two
//! SQLite files, as two embedded services would have — then:
//! - appends events until `<TOTAL>` exist, `PER_TX` (default 1) per
//!   transaction with their state change (a `produced` row each), pausing
//!   `PACE_MS` (default 2) between two transactions, so the test has time to
//!   kill it mid-stream; many per transaction make the relay's batches, and
//!   so the consumer's transactions, hold many events;
//! - meanwhile runs the outbox relay with the embedded bus, delivering to a
//!   consumer whose handler upserts `received(event_id, n = n + 1)` — so a
//!   double application would show as `n = 2`;
//! - prints `applied <event id>` for each handler call (progress the test
//!   waits for before killing it), and `done` once every event is appended
//!   and published; then exits 0.
//!
//! Run again after a kill, it resumes: appends the missing events and
//! relays everything still pending.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use async_trait::async_trait;
use sqlx::{Any, Row, Transaction};
use tokio_util::sync::CancellationToken;
use vigie_platform::db::{Db, Migration};
use vigie_platform::events::{
    self, Consumer, EmbeddedBus, Envelope, EventDraft, EventHandler, HandlerError, Outbox, Relay, RelayOptions,
};

/// Event type of the test events.
const EVENT_TYPE: &str = "vigie.crashtest.item.produced.v1";

const PRODUCER_SCHEMA: &[Migration] = &[Migration {
    version: 1,
    name: "produced",
    sqlite: "CREATE TABLE produced (n BIGINT PRIMARY KEY, event_id TEXT NOT NULL)",
    postgres: "CREATE TABLE produced (n BIGINT PRIMARY KEY, event_id TEXT NOT NULL)",
}];

const CONSUMER_SCHEMA: &[Migration] = &[Migration {
    version: 1,
    name: "received",
    sqlite: "CREATE TABLE received (event_id TEXT PRIMARY KEY, n BIGINT NOT NULL)",
    postgres: "CREATE TABLE received (event_id TEXT PRIMARY KEY, n BIGINT NOT NULL)",
}];

struct Recorder;

#[async_trait]
impl EventHandler for Recorder {
    fn name(&self) -> &str {
        "crash-test"
    }

    fn event_types(&self) -> Vec<String> {
        vec!["vigie.crashtest.>".to_owned()]
    }

    async fn handle(&self, tx: &mut Transaction<'_, Any>, envelope: &Envelope) -> Result<(), HandlerError> {
        sqlx::query(
            "INSERT INTO received (event_id, n) VALUES ($1, 1) \
             ON CONFLICT (event_id) DO UPDATE SET n = received.n + 1",
        )
        .bind(envelope.id.to_string())
        .execute(&mut **tx)
        .await?;
        println!("applied {}", envelope.id);
        Ok(())
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    if std::env::var("TEST_LOG").is_ok_and(|value| value == "1") {
        tracing_subscriber::fmt().with_writer(std::io::stderr).init();
    }
    let mut args = std::env::args().skip(1);
    let (Some(dir), Some(total)) = (args.next(), args.next()) else {
        bail!("usage: vigie-crash-worker <DIR> <TOTAL> [PACE_MS] [PER_TX]");
    };
    let dir = PathBuf::from(dir);
    let total: i64 = total.parse().context("TOTAL must be an integer")?;
    let pace = Duration::from_millis(args.next().map_or(Ok(2), |p| p.parse()).context("PACE_MS")?);
    let per_tx: i64 = args.next().map_or(Ok(1), |p| p.parse()).context("PER_TX")?;

    let producer = Db::connect(&format!("sqlite://{}", dir.join("producer.db").display())).await?;
    producer.migrate("events", events::MIGRATIONS).await?;
    producer.migrate("crash-producer", PRODUCER_SCHEMA).await?;
    let consumer_db = Db::connect(&format!("sqlite://{}", dir.join("consumer.db").display())).await?;
    consumer_db.migrate("events", events::MIGRATIONS).await?;
    consumer_db.migrate("crash-consumer", CONSUMER_SCHEMA).await?;

    let bus = EmbeddedBus::new();
    bus.register(Consumer::new(consumer_db, Arc::new(Recorder)));
    let relay = Relay::new(producer.clone(), Arc::new(bus.publisher())).with_options(RelayOptions {
        poll_interval: Duration::from_millis(50),
        ..RelayOptions::default()
    });
    let wake = relay.handle();
    let shutdown = CancellationToken::new();
    let relay_task = tokio::spawn(relay.run(shutdown.clone()));

    let outbox = Outbox::new("/vigie/crashtest");
    let produced: i64 = sqlx::query("SELECT COUNT(*) FROM produced")
        .fetch_one(producer.pool())
        .await?
        .try_get(0)?;
    let mut next = produced;
    while next < total {
        let upto = (next + per_tx.max(1)).min(total);
        let drafts = (next..upto)
            .map(|n| EventDraft::new(EVENT_TYPE, format!("item-{n}"), n.to_be_bytes().to_vec()))
            .collect();
        let mut tx = producer.begin().await?;
        let ids = outbox.append_many(&mut tx, drafts).await?;
        for (n, id) in (next..upto).zip(ids) {
            sqlx::query("INSERT INTO produced (n, event_id) VALUES ($1, $2)")
                .bind(n)
                .bind(id.to_string())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        next = upto;
        wake.notify();
        tokio::time::sleep(pace).await;
    }
    // Polling is fine here: this is the worker, not a test waiting for readiness.
    while Outbox::pending(&producer).await? > 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    shutdown.cancel();
    relay_task.await?;
    println!("done");
    std::io::stdout().flush()?;
    Ok(())
}
