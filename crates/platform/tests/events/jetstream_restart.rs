//! The broker is killed mid-stream and restarted on the same store: events
//! committed during the outage are relayed afterwards, the durable consumer
//! resumes, effects stay exactly once.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use vigie_platform::db::Backend;
use vigie_platform::events::{Consumer, JetStreamPublisher, Outbox, Relay, RelayOptions};

use crate::support::{
    append_events, assert_exactly_once, fast_consumer_options, join, nats, stream_messages, wait_outbox_empty,
    wait_received, TestDb, TestHandler, STREAM,
};

#[tokio::test]
async fn survives_a_broker_restart() {
    let mut nats = nats().await;
    let producer = TestDb::producer(Backend::Postgres).await;
    let consumer_db = TestDb::consumer(Backend::Postgres).await;
    let handler = TestHandler::new("test-inventory");
    let shutdown = CancellationToken::new();

    let publisher = JetStreamPublisher::new(nats.js.clone()).with_timeout(Duration::from_secs(1));
    let options = RelayOptions {
        poll_interval: Duration::from_millis(200),
        backoff_max: Duration::from_millis(500),
        ..RelayOptions::default()
    };
    let relay = Relay::new(producer.db.clone(), Arc::new(publisher)).with_options(options);
    let wake = relay.handle();
    let relay_task = tokio::spawn(relay.run(shutdown.clone()));
    let consumer_task = nats.spawn_consumer(
        Consumer::new(consumer_db.db.clone(), handler.clone()),
        fast_consumer_options(),
        &shutdown,
    );

    let mut ids = append_events(&producer.db, 10, b"before").await;
    wake.notify();
    wait_received(&consumer_db.db, 10).await;

    nats.server.stop().await;
    let during = append_events(&producer.db, 10, b"during").await;
    wake.notify();
    ids.extend(&during);
    // Committed while the broker is down: kept in the outbox meanwhile.
    assert!(Outbox::pending(&producer.db).await.unwrap() > 0);

    nats.server.restart().await;
    ids.extend(append_events(&producer.db, 10, b"after").await);
    wake.notify();

    wait_received(&consumer_db.db, 30).await;
    wait_outbox_empty(&producer.db).await;
    assert_exactly_once(&consumer_db.db, "test-inventory", &ids).await;
    assert_eq!(handler.order(), ids, "order kept across the outage");
    assert_eq!(stream_messages(&nats.js, STREAM).await, 30);

    shutdown.cancel();
    join(relay_task).await;
    join(consumer_task).await.unwrap();
}
