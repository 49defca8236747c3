//! Bulk appends and pipelined relay batches: order, atomicity, marking of
//! exactly the confirmed prefix, deduplication of the rest on retry, and a
//! refused message never overtaken by the rest of its batch.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_nats::jetstream;
use async_trait::async_trait;
use sqlx::Row;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;
use vigie_platform::db::{Backend, Db, DbError};
use vigie_platform::events::{
    Consumer, Envelope, EventDraft, JetStreamPublisher, Outbox, PublishError, Publisher, Relay, RelayError,
};

use crate::support::{
    append_events, assert_exactly_once, count, fast_consumer_options, join, nats, on_sqlite_and_postgres,
    stream_messages, wait_outbox_empty, wait_received, TestDb, TestHandler, EVENT_TYPE, SOURCE, STREAM,
};

/// More than two full multi-row INSERTs (500 rows each) and a partial one.
const BULK: usize = 1_234;

fn drafts(count: usize, tag: &str) -> Vec<EventDraft> {
    (0..count)
        .map(|i| EventDraft::new(EVENT_TYPE, format!("{tag}-{i}"), format!("{tag}:{i}")))
        .collect()
}

/// One outbox row, in `seq` order.
#[derive(Debug, Clone, PartialEq, Eq)]
struct OutboxRow {
    id: Uuid,
    subject: String,
    payload: Vec<u8>,
    published: bool,
    attempts: i64,
    last_error: Option<String>,
}

async fn outbox_rows(db: &Db) -> Vec<OutboxRow> {
    sqlx::query(
        "SELECT id, subject, payload, published_at, attempts, last_error, source, event_type \
         FROM vigie_outbox ORDER BY seq",
    )
    .fetch_all(db.pool())
    .await
    .unwrap()
    .iter()
    .map(|row| {
        assert_eq!(row.get::<String, _>("source"), SOURCE);
        assert_eq!(row.get::<String, _>("event_type"), EVENT_TYPE);
        OutboxRow {
            id: Uuid::parse_str(&row.get::<String, _>("id")).unwrap(),
            subject: row.get("subject"),
            payload: row.get("payload"),
            published: row.get::<Option<String>, _>("published_at").is_some(),
            attempts: row.get("attempts"),
            last_error: row.get("last_error"),
        }
    })
    .collect()
}

on_sqlite_and_postgres! {
    append_many_keeps_the_order_and_the_transaction:
        append_many_keeps_the_order_and_the_transaction_on_sqlite,
        append_many_keeps_the_order_and_the_transaction_on_postgres
}

async fn append_many_keeps_the_order_and_the_transaction(backend: Backend) {
    let test_db = TestDb::producer(backend).await;
    let db = &test_db.db;
    let outbox = Outbox::new(SOURCE);

    // Rolled back: nothing stays, whatever the number of statements.
    let mut tx = db.begin().await.unwrap();
    let ids = outbox.append_many(&mut tx, drafts(BULK, "gone")).await.unwrap();
    assert_eq!(ids.len(), BULK);
    tx.rollback().await.unwrap();
    assert_eq!(Outbox::pending(db).await.unwrap(), 0, "{backend:?}: rolled back");

    // One invalid draft: rejected before anything is written.
    let mut tx = db.begin().await.unwrap();
    let mut invalid = drafts(10, "invalid");
    invalid[7].subject = "line\nbreak".to_owned();
    let result = outbox.append_many(&mut tx, invalid).await;
    assert!(matches!(result, Err(DbError::Invalid(_))), "{result:?}");
    let mut invalid = drafts(3, "invalid");
    invalid[2].event_type = "vigie.inventory.>".to_owned();
    let result = outbox.append_many(&mut tx, invalid).await;
    assert!(matches!(result, Err(DbError::Invalid(_))), "{result:?}");
    assert!(outbox.append_many(&mut tx, Vec::new()).await.unwrap().is_empty());
    tx.commit().await.unwrap();
    assert_eq!(count(db, "SELECT COUNT(*) FROM vigie_outbox").await, 0);

    // Committed, between two single appends of the same transaction: the
    // drafts' order is the `seq` order.
    let mut tx = db.begin().await.unwrap();
    let first = outbox
        .append(&mut tx, EventDraft::new(EVENT_TYPE, "first", b"first".to_vec()))
        .await
        .unwrap();
    let bulk = drafts(BULK, "bulk");
    let bulk_ids = outbox.append_many(&mut tx, bulk.clone()).await.unwrap();
    let last = outbox
        .append(&mut tx, EventDraft::new(EVENT_TYPE, "last", b"last".to_vec()))
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let rows = outbox_rows(db).await;
    assert_eq!(rows.len(), BULK + 2);
    let mut expected_ids = vec![first];
    expected_ids.extend(&bulk_ids);
    expected_ids.push(last);
    assert_eq!(
        rows.iter().map(|row| row.id).collect::<Vec<_>>(),
        expected_ids,
        "{backend:?}: seq order = append order, ids returned in that order"
    );
    for (row, draft) in rows[1..=BULK].iter().zip(&bulk) {
        assert_eq!(row.subject, draft.subject);
        assert_eq!(row.payload, draft.payload.as_ref());
        assert!(!row.published);
        assert_eq!(row.attempts, 0);
    }
    assert!(bulk_ids.iter().all(|id| id.get_version_num() == 7));
    assert_eq!(Outbox::pending(db).await.unwrap(), BULK as i64 + 2);
}

/// Delegates to a JetStream publisher and records what the relay asked.
struct Recording {
    inner: JetStreamPublisher,
    batches: Mutex<Vec<usize>>,
    single: AtomicUsize,
}

#[async_trait]
impl Publisher for Recording {
    async fn publish(&self, envelope: &Envelope) -> Result<(), PublishError> {
        self.single.fetch_add(1, Ordering::SeqCst);
        self.inner.publish(envelope).await
    }

    async fn publish_batch(&self, envelopes: &[Envelope]) -> Vec<Result<(), PublishError>> {
        self.batches.lock().unwrap().push(envelopes.len());
        self.inner.publish_batch(envelopes).await
    }
}

on_sqlite_and_postgres! {
    pipelined_relay_delivers_every_event_once_in_order:
        a_pipelined_relay_delivers_every_event_once_in_order_on_sqlite,
        a_pipelined_relay_delivers_every_event_once_in_order_on_postgres
}

async fn pipelined_relay_delivers_every_event_once_in_order(backend: Backend) {
    const EVENTS: usize = 500;
    let nats = nats().await;
    let producer = TestDb::producer(backend).await;
    let consumer_db = TestDb::consumer(backend).await;
    let handler = TestHandler::new("test-inventory");
    let shutdown = CancellationToken::new();

    let mut tx = producer.db.begin().await.unwrap();
    let ids = Outbox::new(SOURCE)
        .append_many(&mut tx, drafts(EVENTS, "structure"))
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let publisher = Arc::new(Recording {
        inner: JetStreamPublisher::new(nats.js.clone()),
        batches: Mutex::new(Vec::new()),
        single: AtomicUsize::new(0),
    });
    let relay_task = tokio::spawn(Relay::new(producer.db.clone(), publisher.clone()).run(shutdown.clone()));
    let consumer_task = nats.spawn_consumer(
        Consumer::new(consumer_db.db.clone(), handler.clone()),
        fast_consumer_options(),
        &shutdown,
    );

    wait_outbox_empty(&producer.db).await;
    wait_received(&consumer_db.db, EVENTS).await;
    assert_exactly_once(&consumer_db.db, "test-inventory", &ids).await;
    assert_eq!(handler.order(), ids, "applied in append order");
    assert_eq!(handler.invocations(), EVENTS, "no redelivery");
    assert_eq!(stream_messages(&nats.js, STREAM).await, EVENTS as u64);
    assert_eq!(
        *publisher.batches.lock().unwrap(),
        [256, EVENTS - 256],
        "batches of the default size"
    );
    assert_eq!(publisher.single.load(Ordering::SeqCst), 0);

    shutdown.cancel();
    join(relay_task).await;
    join(consumer_task).await.unwrap();
}

/// Publishes each batch for real, but reports event `fail_at` of the first
/// batch as failed (and nothing after it), as if its `PubAck` was lost: the
/// broker stored the whole batch.
struct FailOnce {
    inner: JetStreamPublisher,
    fail_at: Mutex<Option<usize>>,
}

#[async_trait]
impl Publisher for FailOnce {
    async fn publish(&self, envelope: &Envelope) -> Result<(), PublishError> {
        self.inner.publish(envelope).await
    }

    async fn publish_batch(&self, envelopes: &[Envelope]) -> Vec<Result<(), PublishError>> {
        let mut results = self.inner.publish_batch(envelopes).await;
        if let Some(k) = self.fail_at.lock().unwrap().take() {
            assert!(results.iter().all(Result::is_ok), "{results:?}");
            results.truncate(k);
            results.push(Err(PublishError::Other(anyhow::anyhow!("simulated lost ack"))));
        }
        results
    }
}

#[tokio::test]
async fn a_failure_mid_batch_marks_exactly_the_prefix_and_the_retry_is_deduplicated() {
    const EVENTS: usize = 500;
    const FAIL_AT: usize = 100;
    let nats = nats().await;
    let producer = TestDb::producer(Backend::Postgres).await;
    let consumer_db = TestDb::consumer(Backend::Postgres).await;
    let handler = TestHandler::new("test-inventory");
    let ids = append_events(&producer.db, EVENTS, b"p").await;
    let publisher = Arc::new(FailOnce {
        inner: JetStreamPublisher::new(nats.js.clone()),
        fail_at: Mutex::new(Some(FAIL_AT)),
    });
    let relay = Relay::new(producer.db.clone(), publisher.clone());

    let failed = relay.drain().await;
    assert!(
        matches!(&failed, Err(RelayError::Publish { event_id, .. }) if *event_id == ids[FAIL_AT]),
        "{failed:?}"
    );
    assert_eq!(
        stream_messages(&nats.js, STREAM).await,
        256,
        "the whole first batch reached the broker"
    );
    let rows = outbox_rows(&producer.db).await;
    assert_eq!(rows.iter().map(|row| row.id).collect::<Vec<_>>(), ids);
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row.published, i < FAIL_AT, "row {i}: only the prefix is marked");
        assert_eq!(row.attempts, i64::from(i == FAIL_AT), "row {i}: attempts");
        assert_eq!(row.last_error.is_some(), i == FAIL_AT, "row {i}: {:?}", row.last_error);
    }
    assert!(rows[FAIL_AT]
        .last_error
        .as_deref()
        .unwrap()
        .contains("simulated lost ack"));

    assert_eq!(relay.drain().await.unwrap(), EVENTS - FAIL_AT);
    assert!(outbox_rows(&producer.db)
        .await
        .iter()
        .all(|row| row.published && row.last_error.is_none()));
    assert_eq!(
        stream_messages(&nats.js, STREAM).await,
        EVENTS as u64,
        "the republished events were deduplicated"
    );

    let shutdown = CancellationToken::new();
    let consumer_task = nats.spawn_consumer(
        Consumer::new(consumer_db.db.clone(), handler.clone()),
        fast_consumer_options(),
        &shutdown,
    );
    wait_received(&consumer_db.db, EVENTS).await;
    assert_exactly_once(&consumer_db.db, "test-inventory", &ids).await;
    assert_eq!(handler.order(), ids, "stream order = commit order");
    shutdown.cancel();
    join(consumer_task).await.unwrap();
}

/// Ids of the events stored in `stream`, in stream order.
async fn stored_ids(js: &jetstream::Context, stream: &str) -> Vec<Uuid> {
    let stream = js.get_stream(stream).await.unwrap();
    let last = stream.get_info().await.unwrap().state.last_sequence;
    let mut ids = Vec::new();
    for sequence in 1..=last {
        let message = stream.get_raw_message(sequence).await.unwrap();
        let envelope = Envelope::from_headers(Some(&message.headers), message.payload).unwrap();
        ids.push(envelope.id);
    }
    ids
}

async fn set_max_message_size(js: &jetstream::Context, size: i32) {
    let mut config = js.get_stream(STREAM).await.unwrap().get_info().await.unwrap().config;
    config.max_message_size = size;
    js.update_stream(config).await.unwrap();
}

#[tokio::test]
async fn a_refused_event_is_not_overtaken_by_the_rest_of_its_batch() {
    let nats = nats().await;
    let producer = TestDb::producer(Backend::Sqlite).await;
    // The broker refuses event 1 (too large), then accepts the others: were
    // they stored, they would precede event 1 in the stream.
    set_max_message_size(&nats.js, 2_048).await;
    let mut ids = append_events(&producer.db, 1, b"small").await;
    ids.extend(append_events(&producer.db, 1, &[b'x'; 4_096]).await);
    ids.extend(append_events(&producer.db, 3, b"small").await);
    let relay = Relay::new(producer.db.clone(), Arc::new(JetStreamPublisher::new(nats.js.clone())));

    let failed = relay.drain().await;
    assert!(
        matches!(&failed, Err(RelayError::Publish { event_id, .. }) if *event_id == ids[1]),
        "{failed:?}"
    );
    assert_eq!(
        stored_ids(&nats.js, STREAM).await,
        ids[..1],
        "nothing after the refused event was stored"
    );
    let rows = outbox_rows(&producer.db).await;
    assert_eq!(
        rows.iter().map(|row| row.published).collect::<Vec<_>>(),
        [true, false, false, false, false]
    );

    set_max_message_size(&nats.js, -1).await;
    assert_eq!(relay.drain().await.unwrap(), 4);
    assert_eq!(stored_ids(&nats.js, STREAM).await, ids, "stream order = commit order");
    assert_eq!(Outbox::pending(&producer.db).await.unwrap(), 0);
}
