//! The embedded (in-process) bus: same guarantees as JetStream.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use sqlx::Row;
use vigie_platform::db::Backend;
use vigie_platform::events::{
    dead_letters, Consumer, EmbeddedBus, Outcome, Publisher, Relay, RelayError, EMBEDDED_WINDOW,
};

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
async fn poison_is_dead_lettered_transient_failures_are_retried_forever() {
    let producer = TestDb::producer(Backend::Sqlite).await;
    let consumer_db = TestDb::consumer(Backend::Sqlite).await;
    let handler = TestHandler::new("poisoned");
    let bus = EmbeddedBus::new();
    bus.register(Consumer::new(consumer_db.db.clone(), handler.clone()));

    let mut good = append_events(&producer.db, 1, b"ok").await;
    let poison = append_events(&producer.db, 1, POISON).await[0];
    good.extend(append_events(&producer.db, 1, b"ok").await);
    let flaky = append_events(&producer.db, 1, FLAKY).await[0];
    let after = append_events(&producer.db, 1, b"ok").await[0];

    let relay = Relay::new(producer.db.clone(), Arc::new(bus.publisher()));
    // The old bounded policy dead-lettered the flaky event at the 10th attempt.
    for _ in 0..12 {
        assert!(matches!(relay.drain().await, Err(RelayError::Publish { event_id, .. }) if event_id == flaky));
    }
    assert_eq!(handler.calls_for(flaky), 12, "retried at every pass, never given up");
    assert_eq!(
        count(
            &producer.db,
            "SELECT COUNT(*) FROM vigie_outbox WHERE published_at IS NULL"
        )
        .await,
        2,
        "the flaky event and the one after it wait, in order"
    );

    let received = crate::support::received(&consumer_db.db).await.unwrap();
    assert_eq!(received.len(), 2);
    assert!(good.iter().all(|id| received.get(id) == Some(&1)));
    assert!(!received.contains_key(&after));
    let rows = sqlx::query("SELECT event_id, error, deliveries FROM vigie_dead_letters WHERE consumer = 'poisoned'")
        .fetch_all(consumer_db.db.pool())
        .await
        .unwrap();
    let dead: Vec<(String, String, i64)> = rows.iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect();
    assert_eq!(dead.len(), 1, "only the poison is a dead letter: {dead:?}");
    assert_eq!(dead[0].0, poison.to_string());
    assert!(dead[0].1.contains("permanent failure: poison payload"), "{}", dead[0].1);
    assert_eq!(dead[0].2, 1);
    // Called in its window's transaction, then alone (so that only it is a
    // dead letter), as by the JetStream consumers; never after.
    assert_eq!(handler.calls_for(poison), 2, "poison is not retried");
    // The dead letter has its inbox row: a redelivery is a duplicate.
    assert_eq!(count(&consumer_db.db, "SELECT COUNT(*) FROM vigie_inbox").await, 3);
}

#[tokio::test]
async fn a_replayed_dead_letter_is_applied_once_and_removed() {
    let producer = TestDb::producer(Backend::Sqlite).await;
    let consumer_db = TestDb::consumer(Backend::Sqlite).await;
    let handler = TestHandler::new("poisoned");
    let bystander = TestHandler::new("bystander");
    let bystander_db = TestDb::consumer(Backend::Sqlite).await;
    let bus = EmbeddedBus::new();
    bus.register(Consumer::new(consumer_db.db.clone(), handler.clone()));
    bus.register(Consumer::new(bystander_db.db.clone(), bystander.clone()));
    let poison = append_events(&producer.db, 1, POISON).await[0];
    Relay::new(producer.db.clone(), Arc::new(bus.publisher()))
        .drain()
        .await
        .unwrap();
    let listed = dead_letters::list(&consumer_db.db, "here").await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].event_id, Some(poison.to_string()));
    assert_eq!(listed[0].event_type, EVENT_TYPE);
    assert_eq!(listed[0].consumer, "poisoned");
    assert_eq!(listed[0].deliveries, 1);
    assert_eq!(listed[0].replay_requested_at, None);

    // Nothing happens without a request.
    assert_eq!(bus.replay_requested().await, 0);
    // Replayed before the fix: fails again, stays, counted.
    assert!(dead_letters::request_replay(&consumer_db.db, "poisoned", poison)
        .await
        .unwrap());
    assert!(!dead_letters::request_replay(&consumer_db.db, "bystander", poison)
        .await
        .unwrap());
    assert_eq!(bus.replay_requested().await, 1);
    let again = dead_letters::find(&consumer_db.db, "here", "poisoned", poison)
        .await
        .unwrap()
        .expect("still a dead letter");
    assert_eq!(again.deliveries, 2);
    assert_eq!(
        again.replay_requested_at, None,
        "a failed replay is not retried by itself"
    );
    assert!(again.error.contains("poison payload"), "{}", again.error);
    assert_eq!(bus.replay_requested().await, 0);

    // Fixed, replayed: applied once, gone.
    handler.cured.store(true, Ordering::SeqCst);
    assert!(dead_letters::request_replay(&consumer_db.db, "poisoned", poison)
        .await
        .unwrap());
    assert_eq!(bus.replay_requested().await, 1);
    assert!(dead_letters::list(&consumer_db.db, "here").await.unwrap().is_empty());
    assert_exactly_once(&consumer_db.db, "poisoned", &[poison]).await;
    assert_eq!(handler.calls_for(poison), 3);
    assert_eq!(
        bystander.calls_for(poison),
        1,
        "only the dead letter's consumer gets the replay"
    );
    assert_eq!(bus.replay_requested().await, 0);
}

/// Records, across consumers, which consumer applied which event, in order.
struct Journal {
    name: &'static str,
    log: Arc<std::sync::Mutex<Vec<(&'static str, uuid::Uuid)>>>,
}

#[async_trait::async_trait]
impl vigie_platform::events::EventHandler for Journal {
    fn name(&self) -> &str {
        self.name
    }

    fn event_types(&self) -> Vec<String> {
        vec![EVENT_TYPE.to_owned()]
    }

    async fn handle(
        &self,
        _tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        envelope: &vigie_platform::events::Envelope,
    ) -> Result<(), vigie_platform::events::HandlerError> {
        self.log.lock().unwrap().push((self.name, envelope.id));
        Ok(())
    }
}

/// In `vigie dev` a relay batch is delivered a window at a time: every
/// consumer has applied a window before any applies the next, so no service
/// learns of a batch only after another has worked through all of it
/// (alerting's read model used to fill only after facilitation had applied a
/// whole import, and the demo's first dispatch pass found no structure).
#[tokio::test]
async fn each_window_reaches_every_consumer_before_the_next_one() {
    let producer = TestDb::producer(Backend::Sqlite).await;
    let db_a = TestDb::consumer(Backend::Sqlite).await;
    let db_b = TestDb::consumer(Backend::Sqlite).await;
    let log = Arc::new(std::sync::Mutex::new(Vec::new()));
    let bus = EmbeddedBus::new();
    for (name, db) in [("first", &db_a), ("second", &db_b)] {
        bus.register(Consumer::new(
            db.db.clone(),
            Arc::new(Journal { name, log: log.clone() }),
        ));
    }
    let count = 2 * EMBEDDED_WINDOW + 3;
    let ids = append_events(&producer.db, count, b"p").await;
    let relay = Relay::new(producer.db.clone(), Arc::new(bus.publisher()));
    let mut relayed = 0;
    while relayed < count {
        let published = relay.drain().await.unwrap();
        assert!(published > 0, "the relay stalled after {relayed} events");
        relayed += published;
    }
    let expected: Vec<(&str, uuid::Uuid)> = ids
        .chunks(EMBEDDED_WINDOW)
        .flat_map(|window| {
            let first = window.iter().map(|id| ("first", *id));
            let second = window.iter().map(|id| ("second", *id));
            first.chain(second).collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(*log.lock().unwrap(), expected);
}
