//! Bulk path of the outbox and the relay: thousands of events appended in
//! one transaction and relayed in batches all arrive, on both backends. It
//! asserts counts, never durations; the figures it prints are the relay
//! benchmark of docs/benchmarks.md when run in release mode with more events:
//!
//! ```text
//! THROUGHPUT_EVENTS=20000 cargo test -p vigie-platform --release --test events \
//!     throughput -- --nocapture --test-threads=1
//! ```

use std::sync::Arc;
use std::time::Instant;

use vigie_platform::db::Backend;
use vigie_platform::events::{EmbeddedBus, EventDraft, JetStreamPublisher, Outbox, Relay};

use crate::support::{nats, stream_messages, TestDb, EVENT_TYPE, SOURCE, STREAM};

fn events() -> usize {
    std::env::var("THROUGHPUT_EVENTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2_000)
}

#[tokio::test]
async fn throughput() {
    let n = events();
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let nats = nats().await;
        let producer = TestDb::producer(backend).await;
        let db = &producer.db;
        let outbox = Outbox::new(SOURCE);
        let drafts: Vec<EventDraft> = (0..n)
            .map(|i| EventDraft::new(EVENT_TYPE, format!("structure-{i}"), vec![7_u8; 64]))
            .collect();

        let start = Instant::now();
        let mut tx = db.begin().await.unwrap();
        for draft in drafts.clone() {
            outbox.append(&mut tx, draft).await.unwrap();
        }
        tx.rollback().await.unwrap();
        report(backend, "append ×n (one tx)", n, start);

        let drafts_again = drafts.clone();
        let start = Instant::now();
        let mut tx = db.begin().await.unwrap();
        outbox.append_many(&mut tx, drafts).await.unwrap();
        tx.commit().await.unwrap();
        report(backend, "append_many (one tx)", n, start);

        let relay = Relay::new(db.clone(), Arc::new(JetStreamPublisher::new(nats.js.clone())));
        let start = Instant::now();
        assert_eq!(relay.drain().await.unwrap(), n);
        report(backend, "relay → JetStream", n, start);
        assert_eq!(stream_messages(&nats.js, STREAM).await, n as u64);

        // In process, without consumers: the outbox bookkeeping alone.
        let mut tx = db.begin().await.unwrap();
        outbox.append_many(&mut tx, drafts_again).await.unwrap();
        tx.commit().await.unwrap();
        let relay = Relay::new(db.clone(), Arc::new(EmbeddedBus::new().publisher()));
        let start = Instant::now();
        assert_eq!(relay.drain().await.unwrap(), n);
        report(backend, "relay → embedded bus (no consumer)", n, start);
    }
}

fn report(backend: Backend, what: &str, n: usize, start: Instant) {
    let elapsed = start.elapsed();
    println!(
        "THROUGHPUT {backend:?} {what}: {n} events in {:.2} s = {:.0} events/s",
        elapsed.as_secs_f64(),
        n as f64 / elapsed.as_secs_f64()
    );
}
