//! A consumer dies before acknowledging: the message is redelivered after
//! `ack_wait`, and the inbox makes the redelivery harmless.

use std::sync::Arc;

use futures::StreamExt;
use tokio_util::sync::CancellationToken;
use vigie_platform::db::Backend;
use vigie_platform::events::jetstream::ensure_consumer;
use vigie_platform::events::{Consumer, Envelope, JetStreamPublisher, Outcome, Relay};

use crate::support::{
    append_events, assert_exactly_once, fast_consumer_options, join, nats, wait_received, TestDb, TestHandler,
    EVENT_TYPE, STREAM, WAIT,
};

#[tokio::test]
async fn committed_but_unacked_message_is_redelivered_as_a_duplicate() {
    let nats = nats().await;
    let producer = TestDb::producer(Backend::Postgres).await;
    let consumer_db = TestDb::consumer(Backend::Postgres).await;
    let handler = TestHandler::new("test-inventory");
    let options = fast_consumer_options();
    let ids = append_events(&producer.db, 3, b"p").await;
    Relay::new(producer.db.clone(), Arc::new(JetStreamPublisher::new(nats.js.clone())))
        .drain()
        .await
        .unwrap();

    // The "crashing" instance: processes (commits) the first message, never acks.
    let consumer = Consumer::new(consumer_db.db.clone(), handler.clone());
    {
        let stream = nats.js.get_stream(STREAM).await.unwrap();
        let durable = ensure_consumer(&stream, consumer.name(), EVENT_TYPE, &options)
            .await
            .unwrap();
        let mut batch = durable.fetch().max_messages(1).messages().await.unwrap();
        let message = batch.next().await.unwrap().unwrap();
        let envelope = Envelope::from_headers(message.headers.as_ref(), message.payload.clone()).unwrap();
        assert_eq!(envelope.id, ids[0]);
        assert_eq!(consumer.process(&envelope).await.unwrap(), Outcome::Applied);
        // Dropped here without an ack: the process died.
    }

    let shutdown = CancellationToken::new();
    let task = nats.spawn_consumer(consumer, options, &shutdown);
    wait_received(&consumer_db.db, 3).await;
    let stream = nats.js.get_stream(STREAM).await.unwrap();
    let durable = stream
        .get_consumer::<async_nats::jetstream::consumer::pull::Config>("test-inventory")
        .await
        .unwrap();
    vigie_testkit::eventually("every message acknowledged", WAIT, || {
        let durable = durable.clone();
        async move { Ok(durable.get_info().await?.num_ack_pending == 0) }
    })
    .await
    .unwrap();
    let info = durable.get_info().await.unwrap();
    assert!(
        info.delivered.consumer_sequence > info.delivered.stream_sequence,
        "the first message was delivered twice: {:?}",
        info.delivered
    );
    assert_exactly_once(&consumer_db.db, "test-inventory", &ids).await;
    assert_eq!(
        handler.invocations(),
        3,
        "the redelivery was recognised before calling the handler"
    );

    shutdown.cancel();
    join(task).await.unwrap();
}

#[tokio::test]
async fn consumer_killed_mid_transaction_applies_on_redelivery() {
    let nats = nats().await;
    let producer = TestDb::producer(Backend::Postgres).await;
    let consumer_db = TestDb::consumer(Backend::Postgres).await;
    let handler = TestHandler::new("test-inventory");
    let ids = append_events(&producer.db, 5, b"p").await;
    handler.block_once_on(ids[2]);
    Relay::new(producer.db.clone(), Arc::new(JetStreamPublisher::new(nats.js.clone())))
        .drain()
        .await
        .unwrap();

    let consumer = Consumer::new(consumer_db.db.clone(), handler.clone());
    let first = nats.spawn_consumer(consumer.clone(), fast_consumer_options(), &CancellationToken::new());
    tokio::time::timeout(WAIT, handler.entered.notified())
        .await
        .expect("handler reached the blocking event");
    first.abort();
    assert!(first.await.unwrap_err().is_cancelled());

    let shutdown = CancellationToken::new();
    let second = nats.spawn_consumer(consumer, fast_consumer_options(), &shutdown);
    wait_received(&consumer_db.db, 5).await;
    assert_exactly_once(&consumer_db.db, "test-inventory", &ids).await;
    assert_eq!(
        handler.calls_for(ids[2]),
        2,
        "the killed delivery was rolled back and redelivered"
    );
    assert_eq!(handler.order(), ids);

    shutdown.cancel();
    join(second).await.unwrap();
}
