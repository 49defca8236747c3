//! A consumer's database unreachable for longer than the old retry budget
//! (10 deliveries): events wait and are applied once it is back, never
//! dead-lettered; a poison event still is. JetStream and the embedded bus,
//! with a real PostgreSQL database that refuses connections.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::consumer::pull;
use sqlx::Row;
use tokio_util::sync::CancellationToken;
use vigie_platform::db::Backend;
use vigie_platform::events::jetstream::DEAD_LETTER_STREAM;
use vigie_platform::events::{Consumer, EmbeddedBus, JetStreamPublisher, Relay, RelayOptions};

use crate::support::{
    append_events, assert_exactly_once, count, fast_consumer_options, join, nats, set_database_reachable,
    stream_messages, wait_outbox_empty, wait_received, TestDb, TestHandler, POISON, STREAM, WAIT,
};

/// Deliveries the old policy allowed before dead-lettering a transient failure.
const OLD_BUDGET: u64 = 10;

#[tokio::test]
async fn jetstream_consumer_waits_out_a_database_outage() {
    let nats = nats().await;
    let producer = TestDb::producer(Backend::Postgres).await;
    let consumer_db = TestDb::consumer(Backend::Postgres).await;
    let handler = TestHandler::new("test-inventory");
    let shutdown = CancellationToken::new();
    let task = nats.spawn_consumer(
        Consumer::new(consumer_db.db.clone(), handler.clone()),
        fast_consumer_options(),
        &shutdown,
    );
    let relay = Relay::new(producer.db.clone(), Arc::new(JetStreamPublisher::new(nats.js.clone())));
    let mut ids = append_events(&producer.db, 1, b"before").await;
    relay.drain().await.unwrap();
    wait_received(&consumer_db.db, 1).await;

    set_database_reachable(&consumer_db.pg_name(), false).await;
    ids.extend(append_events(&producer.db, 3, b"during").await);
    let poison = append_events(&producer.db, 1, POISON).await[0];
    relay.drain().await.unwrap();

    // Every delivery fails (the database refuses connections) and is
    // retried: far beyond the old budget, still no dead letter.
    let durable = nats
        .js
        .get_stream(STREAM)
        .await
        .unwrap()
        .get_consumer::<pull::Config>("test-inventory")
        .await
        .unwrap();
    assert_eq!(
        durable.cached_info().config.max_deliver,
        -1,
        "no server-side delivery limit"
    );
    let js = nats.js.clone();
    vigie_testkit::eventually("deliveries beyond the old budget", WAIT, || {
        let js = js.clone();
        async move {
            let mut durable = js
                .get_stream(STREAM)
                .await?
                .get_consumer::<pull::Config>("test-inventory")
                .await
                .map_err(|e| anyhow::anyhow!(e))?;
            // The consumer sequence counts every delivery, redeliveries included.
            Ok(durable.info().await?.delivered.consumer_sequence > 1 + OLD_BUDGET * 2)
        }
    })
    .await
    .unwrap();
    assert_eq!(stream_messages(&nats.js, DEAD_LETTER_STREAM).await, 0);
    assert_eq!(
        handler.invocations(),
        1,
        "the handler never ran while the database was down"
    );

    set_database_reachable(&consumer_db.pg_name(), true).await;
    wait_received(&consumer_db.db, 4).await;
    nats.wait_dead_letters("the poison dead-lettered", 1).await;
    assert_exactly_once(&consumer_db.db, "test-inventory", &ids).await;
    // Not retried: called once, or twice when it came in a batch (in the
    // batch, then alone when the batch is applied one by one).
    assert!(
        (1..=2).contains(&handler.calls_for(poison)),
        "{}",
        handler.calls_for(poison)
    );
    let letter = nats.first_dead_letter().await;
    assert_eq!(
        letter.headers.get("ce-id").map(|v| v.as_str().to_owned()),
        Some(poison.to_string())
    );

    shutdown.cancel();
    join(task).await.unwrap();
}

#[tokio::test]
async fn embedded_bus_waits_out_a_database_outage() {
    let producer = TestDb::producer(Backend::Sqlite).await;
    let consumer_db = TestDb::consumer(Backend::Postgres).await;
    let handler = TestHandler::new("test-inventory");
    let bus = EmbeddedBus::new();
    bus.register(Consumer::new(consumer_db.db.clone(), handler.clone()));
    let options = RelayOptions {
        poll_interval: Duration::from_millis(100),
        backoff_initial: Duration::from_millis(20),
        backoff_max: Duration::from_millis(100),
        ..RelayOptions::default()
    };
    let relay = Relay::new(producer.db.clone(), Arc::new(bus.publisher())).with_options(options);
    let wake = relay.handle();
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(relay.run(shutdown.clone()));
    let mut ids = append_events(&producer.db, 1, b"before").await;
    wake.notify();
    wait_received(&consumer_db.db, 1).await;

    set_database_reachable(&consumer_db.pg_name(), false).await;
    ids.extend(append_events(&producer.db, 3, b"during").await);
    let poison = append_events(&producer.db, 1, POISON).await[0];
    wake.notify();
    let outbox = producer.db.clone();
    vigie_testkit::eventually("attempts beyond the old budget", WAIT, || {
        let db = outbox.clone();
        async move {
            let attempts: i64 = sqlx::query("SELECT COALESCE(MAX(attempts), 0) FROM vigie_outbox")
                .fetch_one(db.pool())
                .await?
                .try_get(0)?;
            Ok(attempts > (OLD_BUDGET * 2) as i64)
        }
    })
    .await
    .unwrap();

    set_database_reachable(&consumer_db.pg_name(), true).await;
    wait_outbox_empty(&producer.db).await;
    let received = crate::support::received(&consumer_db.db).await.unwrap();
    assert_eq!(received.len(), 4);
    assert!(ids.iter().all(|id| received.get(id) == Some(&1)), "applied once each");
    let dead = count(&consumer_db.db, "SELECT COUNT(*) FROM vigie_dead_letters").await;
    assert_eq!(dead, 1, "only the poison is dead-lettered");
    let dead_id: String = sqlx::query("SELECT event_id FROM vigie_dead_letters")
        .fetch_one(consumer_db.db.pool())
        .await
        .unwrap()
        .get(0);
    assert_eq!(dead_id, poison.to_string());

    shutdown.cancel();
    join(task).await;
}
