//! Outbox → relay → JetStream → durable consumer: every event applied
//! exactly once, in order.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use vigie_platform::db::Backend;
use vigie_platform::events::jetstream::ConsumerOptions;
use vigie_platform::events::{Consumer, JetStreamPublisher, Relay};

use crate::support::{
    append_events, assert_exactly_once, fast_consumer_options, join, nats, on_sqlite_and_postgres, stream_messages,
    wait_outbox_empty, wait_received, TestDb, TestHandler, STREAM,
};

const EVENTS: usize = 40;

on_sqlite_and_postgres! {
    delivers_exactly_once_in_order:
        delivers_exactly_once_in_order_on_sqlite,
        delivers_exactly_once_in_order_on_postgres
}

async fn delivers_exactly_once_in_order(backend: Backend) {
    let nats = nats().await;
    let producer = TestDb::producer(backend).await;
    let consumer_db = TestDb::consumer(backend).await;
    let handler = TestHandler::new("test-inventory");
    let shutdown = CancellationToken::new();

    let relay = Relay::new(producer.db.clone(), Arc::new(JetStreamPublisher::new(nats.js.clone())));
    let wake = relay.handle();
    let relay_task = tokio::spawn(relay.run(shutdown.clone()));
    let consumer = Consumer::new(consumer_db.db.clone(), handler.clone());
    // No redelivery within the test: only the consumer's own acks can
    // empty the pending list below.
    let options = ConsumerOptions {
        ack_wait: Duration::from_secs(120),
        ..fast_consumer_options()
    };
    let consumer_task = nats.spawn_consumer(consumer, options, &shutdown);

    let mut ids = Vec::new();
    for _ in 0..EVENTS / 10 {
        ids.extend(append_events(&producer.db, 10, b"payload").await);
        wake.notify();
    }
    wait_received(&consumer_db.db, EVENTS).await;
    wait_outbox_empty(&producer.db).await;

    assert_exactly_once(&consumer_db.db, "test-inventory", &ids).await;
    assert_eq!(handler.order(), ids, "applied in commit order");
    assert_eq!(handler.invocations(), EVENTS, "no redelivery in the happy path");
    assert_eq!(stream_messages(&nats.js, STREAM).await, EVENTS as u64);
    // The last batch's acks go out while the stream is idle (they are no
    // longer awaited before the next batch is taken: nothing else would
    // send them), well before `ack_wait` would redeliver.
    let durable = nats
        .js
        .get_stream(STREAM)
        .await
        .unwrap()
        .get_consumer::<async_nats::jetstream::consumer::pull::Config>("test-inventory")
        .await
        .unwrap();
    vigie_testkit::eventually("every message acknowledged", Duration::from_secs(20), || {
        let durable = durable.clone();
        async move {
            let info = durable.get_info().await?;
            Ok(info.num_ack_pending == 0 && info.ack_floor.stream_sequence == EVENTS as u64)
        }
    })
    .await
    .unwrap();

    shutdown.cancel();
    join(relay_task).await;
    join(consumer_task).await.unwrap();
}

/// Events waiting in the stream are applied in batches of up to
/// `ConsumerOptions::batch`: tokio's cooperative budget (128 polls a turn)
/// had cut every batch at 128 messages, whatever the option said.
#[tokio::test]
async fn a_batch_takes_more_than_128_waiting_events() {
    const WAITING: usize = 400;
    let nats = nats().await;
    let producer = TestDb::producer(Backend::Sqlite).await;
    let consumer_db = TestDb::consumer(Backend::Sqlite).await;
    let handler = TestHandler::new("test-inventory");
    // The first batch waits while the others arrive: the next one can
    // only be taken whole if nothing cuts it.
    *handler.hold_first_batch.lock().unwrap() = Some(Duration::from_millis(500));
    let shutdown = CancellationToken::new();
    let relay = Relay::new(producer.db.clone(), Arc::new(JetStreamPublisher::new(nats.js.clone())));
    let wake = relay.handle();
    let relay_task = tokio::spawn(relay.run(shutdown.clone()));
    let ids = append_events(&producer.db, WAITING, b"payload").await;
    wake.notify();
    wait_outbox_empty(&producer.db).await;

    let options = ConsumerOptions {
        ack_wait: Duration::from_secs(120),
        batch: 500,
        ..fast_consumer_options()
    };
    let consumer = Consumer::new(consumer_db.db.clone(), handler.clone());
    let consumer_task = nats.spawn_consumer(consumer, options, &shutdown);
    wait_received(&consumer_db.db, WAITING).await;

    assert_exactly_once(&consumer_db.db, "test-inventory", &ids).await;
    let largest = handler.largest_batch.load(std::sync::atomic::Ordering::SeqCst);
    assert!(largest > 128, "the largest batch held {largest} events");
    shutdown.cancel();
    join(relay_task).await;
    join(consumer_task).await.unwrap();
}
