//! The embedded (in-process) bus: same guarantees as JetStream.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use sqlx::Row;
use vigie_platform::db::Backend;
use vigie_platform::events::{Consumer, EmbeddedBus, Outcome, Publisher, Relay, RelayError};

use crate::support::{append_events, assert_exactly_once, count, TestDb, TestHandler, EVENT_TYPE, FLAKY, POISON};

#[tokio::test]
async fn delivers_to_every_matching_consumer_once() {
    let producer = TestDb::producer(Backend::Sqlite).await;
    let db_a = TestDb::consumer(Backend::Sqlite).await;
    let db_b = TestDb::consumer(Backend::Sqlite).await;
    let exact = TestHandler::new("a-inventory");
    let wildcard = TestHandler::with_types("b-inventory", &["vigie.*.structure.>"]);
    let other = TestHandler::with_types("c-training", &["vigie.training.>"]);
    let bus = EmbeddedBus::new();
    bus.register(Consumer::new(db_a.db.clone(), exact.clone()));
    bus.register(Consumer::new(db_b.db.clone(), wildcard.clone()));
    bus.register(Consumer::new(db_b.db.clone(), other.clone()));
    assert_eq!(bus.consumers(), ["a-inventory", "b-inventory", "c-training"]);

    let ids = append_events(&producer.db, 5, b"p").await;
    let relay = Relay::new(producer.db.clone(), Arc::new(bus.publisher()));
    assert_eq!(relay.drain().await.unwrap(), 5);

    assert_exactly_once(&db_a.db, "a-inventory", &ids).await;
    assert_exactly_once(&db_b.db, "b-inventory", &ids).await;
    assert_eq!(exact.order(), ids, "delivered in commit order");
    assert_eq!(other.invocations(), 0, "non-matching consumer not called");

    // Redelivery (e.g. after a crash before marking) is a duplicate.
    let consumer = Consumer::new(db_a.db.clone(), exact.clone());
    let envelope = vigie_platform::events::Envelope {
        id: ids[0],
        ..vigie_platform::events::Envelope::new("/s", EVENT_TYPE, "x", Vec::new())
    };
    assert_eq!(consumer.process(&envelope).await.unwrap(), Outcome::Duplicate);
    bus.publisher().publish(&envelope).await.unwrap();
    assert_eq!(exact.invocations(), 5, "duplicates never reach the handler");
    assert_exactly_once(&db_a.db, "a-inventory", &ids).await;
}

#[tokio::test]
async fn a_transient_failure_holds_the_event_until_every_consumer_committed() {
    let producer = TestDb::producer(Backend::Sqlite).await;
    let db_a = TestDb::consumer(Backend::Sqlite).await;
    let db_b = TestDb::consumer(Backend::Postgres).await;
    let healthy = TestHandler::new("healthy");
    let struggling = TestHandler::new("struggling");
    struggling.fail_next.store(2, Ordering::SeqCst);
    let bus = EmbeddedBus::new();
    bus.register(Consumer::new(db_a.db.clone(), healthy.clone()));
    bus.register(Consumer::new(db_b.db.clone(), struggling.clone()));

    let ids = append_events(&producer.db, 3, b"p").await;
    let relay = Relay::new(producer.db.clone(), Arc::new(bus.publisher()));
    for _ in 0..2 {
        assert!(matches!(relay.drain().await, Err(RelayError::Publish { event_id, .. }) if event_id == ids[0]));
        assert_eq!(
            count(
                &producer.db,
                "SELECT COUNT(*) FROM vigie_outbox WHERE published_at IS NULL"
            )
            .await,
            3
        );
    }
    assert_eq!(relay.drain().await.unwrap(), 3);

    assert_exactly_once(&db_a.db, "healthy", &ids).await;
    assert_exactly_once(&db_b.db, "struggling", &ids).await;
    assert_eq!(
        healthy.invocations(),
        3,
        "the retries were duplicates for the healthy consumer"
    );
    assert_eq!(struggling.invocations(), 5, "2 failures, then 3 applications");
}

#[tokio::test]
async fn poison_events_are_dead_lettered_and_the_stream_goes_on() {
    let producer = TestDb::producer(Backend::Sqlite).await;
    let consumer_db = TestDb::consumer(Backend::Sqlite).await;
    let handler = TestHandler::new("poisoned");
    let bus = EmbeddedBus::with_max_deliver(3);
    bus.register(Consumer::new(consumer_db.db.clone(), handler.clone()));

    let mut good = append_events(&producer.db, 1, b"ok").await;
    let poison = append_events(&producer.db, 1, POISON).await[0];
    good.extend(append_events(&producer.db, 1, b"ok").await);
    let flaky = append_events(&producer.db, 1, FLAKY).await[0];
    good.extend(append_events(&producer.db, 1, b"ok").await);

    let relay = Relay::new(producer.db.clone(), Arc::new(bus.publisher()));
    // The flaky event fails twice, then is dead-lettered at the third attempt.
    assert!(relay.drain().await.is_err());
    assert!(relay.drain().await.is_err());
    assert_eq!(relay.drain().await.unwrap(), 2);
    assert_eq!(
        count(
            &producer.db,
            "SELECT COUNT(*) FROM vigie_outbox WHERE published_at IS NULL"
        )
        .await,
        0
    );

    let received = crate::support::received(&consumer_db.db).await.unwrap();
    assert_eq!(received.len(), 3);
    assert!(good.iter().all(|id| received.get(id) == Some(&1)));
    let rows =
        sqlx::query("SELECT event_id, error FROM vigie_dead_letters WHERE consumer = 'poisoned' ORDER BY event_id")
            .fetch_all(consumer_db.db.pool())
            .await
            .unwrap();
    let dead: Vec<(String, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(dead.len(), 2, "{dead:?}");
    assert_eq!(dead[0].0, poison.to_string());
    assert!(dead[0].1.contains("permanent failure: poison payload"), "{}", dead[0].1);
    assert_eq!(dead[1].0, flaky.to_string());
    assert!(dead[1].1.contains("gave up after 3 attempts"), "{}", dead[1].1);
    assert_eq!(handler.calls_for(poison), 1, "poison is not retried");
    assert_eq!(handler.calls_for(flaky), 3);
    // Dead letters also have their inbox row: a redelivery is a duplicate.
    assert_eq!(count(&consumer_db.db, "SELECT COUNT(*) FROM vigie_inbox").await, 5);
}
