//! Outbox atomicity, trace capture and the relay's ordering and retries,
//! with an in-memory publisher (no broker).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::layer::SubscriberExt;
use uuid::Uuid;
use vigie_platform::db::{Backend, DbError};
use vigie_platform::events::{Envelope, EventDraft, Outbox, PublishError, Publisher, Relay, RelayError, RelayOptions};

use crate::support::{append_events, count, join, TestDb, EVENT_TYPE, SOURCE, WAIT};

/// Records what it publishes; fails the next `fail_next` calls.
#[derive(Default)]
struct MemoryPublisher {
    published: Mutex<Vec<Envelope>>,
    fail_next: AtomicUsize,
    calls: AtomicUsize,
}

impl MemoryPublisher {
    fn ids(&self) -> Vec<Uuid> {
        self.published.lock().unwrap().iter().map(|e| e.id).collect()
    }
}

#[async_trait]
impl Publisher for MemoryPublisher {
    async fn publish(&self, envelope: &Envelope) -> Result<(), PublishError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self
            .fail_next
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return Err(PublishError::Other(anyhow::anyhow!("broker unavailable")));
        }
        self.published.lock().unwrap().push(envelope.clone());
        Ok(())
    }
}

#[tokio::test]
async fn events_commit_and_roll_back_with_the_transaction() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let test_db = TestDb::producer(backend).await;
        let db = &test_db.db;
        let outbox = Outbox::new(SOURCE);

        let mut tx = db.begin().await.unwrap();
        outbox
            .append(&mut tx, EventDraft::new(EVENT_TYPE, "s1", b"x".to_vec()))
            .await
            .unwrap();
        tx.rollback().await.unwrap();
        assert_eq!(
            Outbox::pending(db).await.unwrap(),
            0,
            "{backend:?}: rolled back event is gone"
        );

        let mut tx = db.begin().await.unwrap();
        let id = outbox
            .append(&mut tx, EventDraft::new(EVENT_TYPE, "s1", b"x".to_vec()))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(Outbox::pending(db).await.unwrap(), 1);
        assert_eq!(id.get_version_num(), 7, "UUIDv7 ids");

        let mut tx = db.begin().await.unwrap();
        for draft in [
            EventDraft::new("vigie.inventory.>", "s1", Vec::new()),
            EventDraft::new("vigie inventory", "s1", Vec::new()),
            EventDraft::new(EVENT_TYPE, "", Vec::new()),
            EventDraft::new(EVENT_TYPE, "line\nbreak", Vec::new()),
        ] {
            let result = outbox.append(&mut tx, draft.clone()).await;
            assert!(matches!(result, Err(DbError::Invalid(_))), "{draft:?} accepted");
        }
    }
}

#[tokio::test]
async fn relay_publishes_in_order_and_retries_without_skipping() {
    let test_db = TestDb::producer(Backend::Sqlite).await;
    let db = &test_db.db;
    let ids = append_events(db, 7, b"p").await;
    let publisher = Arc::new(MemoryPublisher::default());
    publisher.fail_next.store(2, Ordering::SeqCst);
    // A small batch size exercises several reads per pass.
    let options = RelayOptions {
        batch_size: 3,
        ..RelayOptions::default()
    };
    let relay = Relay::new(db.clone(), publisher.clone()).with_options(options);

    for _ in 0..2 {
        let failed = relay.drain().await;
        assert!(
            matches!(&failed, Err(RelayError::Publish { event_id, .. }) if *event_id == ids[0]),
            "{failed:?}"
        );
    }
    let row = sqlx::query("SELECT attempts, last_error FROM vigie_outbox WHERE id = $1")
        .bind(ids[0].to_string())
        .fetch_one(db.pool())
        .await
        .unwrap();
    use sqlx::Row;
    assert_eq!(row.get::<i64, _>(0), 2, "failed attempts are recorded");
    assert!(row.get::<Option<String>, _>(1).unwrap().contains("broker unavailable"));
    assert!(publisher.ids().is_empty(), "nothing after a failed event is published");

    assert_eq!(relay.drain().await.unwrap(), 7);
    assert_eq!(publisher.ids(), ids, "published in commit order");
    assert_eq!(Outbox::pending(db).await.unwrap(), 0);
    assert_eq!(relay.drain().await.unwrap(), 0, "nothing published twice");
    let last_error = count(db, "SELECT COUNT(*) FROM vigie_outbox WHERE last_error IS NOT NULL").await;
    assert_eq!(last_error, 0, "the error is cleared once published");

    let envelope = publisher.published.lock().unwrap()[0].clone();
    assert_eq!(envelope.source, SOURCE);
    assert_eq!(envelope.event_type, EVENT_TYPE);
    assert_eq!(envelope.subject, "structure-0");
    assert_eq!(envelope.payload.as_ref(), b"p");

    assert_eq!(
        Outbox::prune_published(db, chrono::Utc::now() + chrono::Duration::seconds(1))
            .await
            .unwrap(),
        7
    );
    assert_eq!(count(db, "SELECT COUNT(*) FROM vigie_outbox").await, 0);
}

#[tokio::test]
async fn running_relay_wakes_on_notify_and_backs_off_on_failure() {
    let test_db = TestDb::producer(Backend::Postgres).await;
    let db = test_db.db.clone();
    let publisher = Arc::new(MemoryPublisher::default());
    publisher.fail_next.store(3, Ordering::SeqCst);
    let options = RelayOptions {
        // Polling far away: only the notification can wake the relay quickly.
        poll_interval: Duration::from_secs(3600),
        backoff_initial: Duration::from_millis(10),
        backoff_max: Duration::from_millis(50),
        ..RelayOptions::default()
    };
    let relay = Relay::new(db.clone(), publisher.clone()).with_options(options);
    let handle = relay.handle();
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(relay.run(shutdown.clone()));

    let ids = append_events(&db, 5, b"p").await;
    handle.notify();
    let check = publisher.clone();
    vigie_testkit::eventually("5 events published", WAIT, || {
        let check = check.clone();
        async move { Ok(check.ids().len() == 5) }
    })
    .await
    .unwrap();
    assert_eq!(publisher.ids(), ids);
    assert_eq!(
        publisher.calls.load(Ordering::SeqCst),
        8,
        "3 failures retried, then 5 successes"
    );
    shutdown.cancel();
    join(task).await;
}

#[tokio::test]
async fn the_trace_context_travels_with_the_event() {
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
    let subscriber =
        tracing_subscriber::registry().with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
    let _guard = tracing::subscriber::set_default(subscriber);

    let test_db = TestDb::producer(Backend::Sqlite).await;
    let db = &test_db.db;
    let request = tracing::info_span!("grpc request");
    let trace_id = request.context().span().span_context().trace_id();
    let request_span_id = request.context().span().span_context().span_id();
    async {
        let mut tx = db.begin().await.unwrap();
        Outbox::new(SOURCE)
            .append(&mut tx, EventDraft::new(EVENT_TYPE, "s1", Vec::new()))
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    .instrument(request)
    .await;

    let stored: Option<String> = {
        use sqlx::Row;
        sqlx::query("SELECT traceparent FROM vigie_outbox")
            .fetch_one(db.pool())
            .await
            .unwrap()
            .get(0)
    };
    let stored = stored.expect("traceparent recorded");
    assert!(stored.starts_with(&format!("00-{trace_id}-")), "{stored}");
    assert!(
        !stored.contains(&request_span_id.to_string()),
        "recorded from the outbox.append child span, not the caller's: {stored}"
    );

    // Other test threads (without subscriber) may have registered the
    // relay's span callsite concurrently and cached "never interested" for
    // it, racing with `set_default`: recompute now that they are done.
    tracing::callsite::rebuild_interest_cache();
    let publisher = Arc::new(MemoryPublisher::default());
    Relay::new(db.clone(), publisher.clone()).drain().await.unwrap();
    let sent = publisher.published.lock().unwrap()[0].traceparent.clone().unwrap();
    assert!(sent.starts_with(&format!("00-{trace_id}-")), "same trace: {sent}");
    assert_ne!(sent, stored, "published from the relay's own child span");
}
