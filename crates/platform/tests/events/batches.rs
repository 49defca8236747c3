//! `Consumer::process_batch`: many events in one transaction with their
//! inbox rows, the same guarantees as one by one, on both backends.

use std::sync::atomic::Ordering;

use sqlx::Row;
use vigie_platform::db::Backend;
use vigie_platform::events::{Consumer, EmbeddedBus, Envelope, HandlerError, Outcome, Publisher};

use crate::support::{assert_exactly_once, count, received, TestDb, TestHandler, EVENT_TYPE, FLAKY, POISON};

const BACKENDS: [Backend; 2] = [Backend::Sqlite, Backend::Postgres];

fn event(payload: &[u8]) -> Envelope {
    Envelope::new("/vigie/inventory", EVENT_TYPE, "structure-1", payload.to_vec())
}

fn outcomes(results: Vec<Result<Outcome, HandlerError>>) -> Vec<Outcome> {
    results.into_iter().map(|result| result.expect("applied")).collect()
}

#[tokio::test]
async fn duplicates_within_and_across_batches_are_applied_once() {
    for backend in BACKENDS {
        let consumer_db = TestDb::consumer(backend).await;
        let handler = TestHandler::new("batched");
        let consumer = Consumer::new(consumer_db.db.clone(), handler.clone());
        let events: Vec<Envelope> = (0..5).map(|_| event(b"p")).collect();
        let ids: Vec<_> = events.iter().map(|e| e.id).collect();

        let first = [&events[0], &events[1], &events[1], &events[2]].map(Clone::clone);
        assert_eq!(
            outcomes(consumer.process_batch(&first).await),
            [Outcome::Applied, Outcome::Applied, Outcome::Duplicate, Outcome::Applied],
            "{backend:?}"
        );
        let second = [&events[2], &events[3], &events[0], &events[4]].map(Clone::clone);
        assert_eq!(
            outcomes(consumer.process_batch(&second).await),
            [
                Outcome::Duplicate,
                Outcome::Applied,
                Outcome::Duplicate,
                Outcome::Applied
            ],
            "{backend:?}"
        );
        assert_eq!(
            outcomes(consumer.process_batch(&second).await),
            [Outcome::Duplicate; 4],
            "a redelivered batch: {backend:?}"
        );
        assert_exactly_once(&consumer_db.db, "batched", &ids).await;
        assert_eq!(handler.order(), ids, "applied in batch order: {backend:?}");
        assert_eq!(
            handler.invocations(),
            5,
            "duplicates never reach the handler: {backend:?}"
        );
    }
}

#[tokio::test]
async fn a_transient_failure_applies_nothing_and_the_retry_applies_all_once() {
    for backend in BACKENDS {
        let consumer_db = TestDb::consumer(backend).await;
        let handler = TestHandler::new("batched");
        let consumer = Consumer::new(consumer_db.db.clone(), handler.clone());
        let events: Vec<Envelope> = (0..4).map(|_| event(b"p")).collect();
        let ids: Vec<_> = events.iter().map(|e| e.id).collect();

        // The third event's statement fails: the first two were written in
        // the same transaction and must be rolled back with it.
        let mut with_flaky = events.clone();
        with_flaky.insert(2, event(FLAKY));
        let results = consumer.process_batch(&with_flaky).await;
        assert_eq!(results.len(), 5);
        assert!(
            results.iter().all(|r| matches!(r, Err(e) if e.is_transient())),
            "every event retried: {backend:?}"
        );
        assert!(received(&consumer_db.db).await.unwrap().is_empty(), "{backend:?}");
        assert_eq!(count(&consumer_db.db, "SELECT COUNT(*) FROM vigie_inbox").await, 0);

        handler.fail_next.store(1, Ordering::SeqCst);
        assert!(consumer.process_batch(&events).await.iter().all(Result::is_err));
        assert_eq!(
            outcomes(consumer.process_batch(&events).await),
            [Outcome::Applied; 4],
            "{backend:?}"
        );
        assert_exactly_once(&consumer_db.db, "batched", &ids).await;
    }
}

#[tokio::test]
async fn a_poison_event_in_a_batch_is_dead_lettered_alone() {
    for backend in BACKENDS {
        let consumer_db = TestDb::consumer(backend).await;
        let handler = TestHandler::new("batched");
        let bus = EmbeddedBus::new();
        bus.register(Consumer::new(consumer_db.db.clone(), handler.clone()));
        let batch = [event(b"a"), event(b"b"), event(POISON), event(b"c")];
        let good = [batch[0].id, batch[1].id, batch[3].id];

        let results = bus.publisher().publish_batch(&batch).await;
        assert_eq!(results.len(), 4);
        assert!(results.iter().all(Result::is_ok), "all settled: {backend:?}");
        let applied = received(&consumer_db.db).await.unwrap();
        assert_eq!(applied.len(), 3, "{backend:?}");
        assert!(good.iter().all(|id| applied.get(id) == Some(&1)), "{backend:?}");
        let dead: Vec<String> = sqlx::query("SELECT event_id FROM vigie_dead_letters")
            .fetch_all(consumer_db.db.pool())
            .await
            .unwrap()
            .iter()
            .map(|row| row.get(0))
            .collect();
        assert_eq!(dead, [batch[2].id.to_string()], "{backend:?}");
        // Every event has its inbox row: a redelivery of the batch is a duplicate.
        assert_eq!(count(&consumer_db.db, "SELECT COUNT(*) FROM vigie_inbox").await, 4);
        let invocations = handler.invocations();
        assert!(bus.publisher().publish_batch(&batch).await.iter().all(Result::is_ok));
        assert_eq!(handler.invocations(), invocations, "{backend:?}");
    }
}

#[tokio::test]
async fn after_a_transient_failure_one_by_one_the_later_events_wait() {
    let consumer_db = TestDb::consumer(Backend::Sqlite).await;
    let handler = TestHandler::new("batched");
    let consumer = Consumer::new(consumer_db.db.clone(), handler.clone());
    // The poison sends the batch one by one; the flaky event then stops it.
    let batch = [event(b"a"), event(POISON), event(FLAKY), event(b"b")];
    let results = consumer.process_batch(&batch).await;
    assert_eq!(results[0].as_ref().ok(), Some(&Outcome::Applied));
    assert!(matches!(&results[1], Err(HandlerError::Permanent(_))));
    assert!(matches!(&results[2], Err(e) if e.is_transient()));
    assert!(matches!(&results[3], Err(e) if e.is_transient()));
    assert_eq!(handler.calls_for(batch[3].id), 0, "not applied before the flaky one");
}
