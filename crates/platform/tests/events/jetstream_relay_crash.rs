//! The relay dies between the broker's confirmation and the outbox mark:
//! the next run republishes, JetStream deduplicates by `Nats-Msg-Id`, the
//! inbox keeps effects exactly once.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_nats::jetstream;
use async_trait::async_trait;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;
use vigie_platform::db::Backend;
use vigie_platform::events::{Consumer, Envelope, Outbox, PublishError, Publisher, Relay};

use crate::support::{
    append_events, assert_exactly_once, count, fast_consumer_options, join, nats, stream_messages, wait_received,
    TestDb, TestHandler, STREAM, WAIT,
};

/// Publishes for real and waits for the `PubAck`, then "crashes" for the
/// chosen events (the first time only): returns an error, or never returns.
struct CrashAfterPublish {
    js: jetstream::Context,
    crash_on: Mutex<HashSet<Uuid>>,
    hang: bool,
    hung: Notify,
    calls: AtomicUsize,
    duplicates: AtomicUsize,
}

impl CrashAfterPublish {
    fn new(js: jetstream::Context, crash_on: &[Uuid], hang: bool) -> Arc<CrashAfterPublish> {
        Arc::new(CrashAfterPublish {
            js,
            crash_on: Mutex::new(crash_on.iter().copied().collect()),
            hang,
            hung: Notify::new(),
            calls: AtomicUsize::new(0),
            duplicates: AtomicUsize::new(0),
        })
    }
}

#[async_trait]
impl Publisher for CrashAfterPublish {
    async fn publish(&self, envelope: &Envelope) -> Result<(), PublishError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let ack = self
            .js
            .publish_with_headers(
                envelope.event_type.clone(),
                envelope.to_headers(),
                envelope.payload.clone(),
            )
            .await
            .map_err(|e| PublishError::Broker(Box::new(e)))?
            .await
            .map_err(|e| PublishError::Broker(Box::new(e)))?;
        if ack.duplicate {
            self.duplicates.fetch_add(1, Ordering::SeqCst);
        }
        if self.crash_on.lock().unwrap().remove(&envelope.id) {
            if self.hang {
                self.hung.notify_one();
                std::future::pending::<()>().await;
            }
            return Err(PublishError::Other(anyhow::anyhow!("simulated crash before marking")));
        }
        Ok(())
    }
}

#[tokio::test]
async fn republished_events_are_deduplicated() {
    const EVENTS: usize = 20;
    let nats = nats().await;
    let producer = TestDb::producer(Backend::Postgres).await;
    let consumer_db = TestDb::consumer(Backend::Postgres).await;
    let handler = TestHandler::new("test-inventory");
    let shutdown = CancellationToken::new();
    let consumer_task = nats.spawn_consumer(
        Consumer::new(consumer_db.db.clone(), handler.clone()),
        fast_consumer_options(),
        &shutdown,
    );

    let ids = append_events(&producer.db, EVENTS, b"p").await;
    let crashes = [ids[0], ids[3], ids[7], ids[12], ids[19]];
    let publisher = CrashAfterPublish::new(nats.js.clone(), &crashes, false);
    // Each run is a fresh relay, as after a process restart.
    let mut failed_runs = 0;
    for _ in 0..=crashes.len() {
        match Relay::new(producer.db.clone(), publisher.clone()).drain().await {
            Ok(_) => break,
            Err(_) => failed_runs += 1,
        }
    }
    assert_eq!(failed_runs, crashes.len());
    assert_eq!(Outbox::pending(&producer.db).await.unwrap(), 0);
    assert_eq!(
        publisher.calls.load(Ordering::SeqCst),
        EVENTS + crashes.len(),
        "each crashed event republished"
    );
    assert_eq!(
        publisher.duplicates.load(Ordering::SeqCst),
        crashes.len(),
        "the broker recognised every republish"
    );
    assert_eq!(
        stream_messages(&nats.js, STREAM).await,
        EVENTS as u64,
        "the stream holds each event once"
    );
    let retried = count(&producer.db, "SELECT COUNT(*) FROM vigie_outbox WHERE attempts = 1").await;
    assert_eq!(retried, crashes.len() as i64);

    wait_received(&consumer_db.db, EVENTS).await;
    assert_exactly_once(&consumer_db.db, "test-inventory", &ids).await;
    assert_eq!(handler.order(), ids);

    shutdown.cancel();
    join(consumer_task).await.unwrap();
}

#[tokio::test]
async fn relay_task_killed_after_the_puback_republishes_on_restart() {
    const EVENTS: usize = 10;
    let nats = nats().await;
    let producer = TestDb::producer(Backend::Postgres).await;
    let ids = append_events(&producer.db, EVENTS, b"p").await;
    let publisher = CrashAfterPublish::new(nats.js.clone(), &[ids[4]], true);

    let first = tokio::spawn(Relay::new(producer.db.clone(), publisher.clone()).run(CancellationToken::new()));
    tokio::time::timeout(WAIT, publisher.hung.notified())
        .await
        .expect("relay reached the crash point");
    first.abort();
    assert!(first.await.unwrap_err().is_cancelled());
    assert_eq!(stream_messages(&nats.js, STREAM).await, 5, "events 0..=4 stored");
    // The relay marks a batch once it is published: events 0..=4 were
    // confirmed, but the task died before marking them.
    assert_eq!(
        Outbox::pending(&producer.db).await.unwrap(),
        EVENTS as i64,
        "events 0..=4 stored but not marked"
    );

    let published = Relay::new(producer.db.clone(), publisher.clone())
        .drain()
        .await
        .unwrap();
    assert_eq!(published, EVENTS);
    assert_eq!(
        publisher.duplicates.load(Ordering::SeqCst),
        5,
        "the broker recognised every republish"
    );
    assert_eq!(stream_messages(&nats.js, STREAM).await, EVENTS as u64);
}
