//! A start never rewrites operator stream settings: missing streams are
//! created with the configured retention, existing ones are left alone —
//! across service restarts and a broker restart.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, stream};
use tokio_util::sync::CancellationToken;
use vigie_platform::db::Backend;
use vigie_platform::events::jetstream::{
    ensure_stream, ensure_stream_with, run_jetstream_consumer, StreamSettings, DEAD_LETTER_STREAM, DEFAULT_MAX_AGE,
};
use vigie_platform::events::{Consumer, JetStreamPublisher, Relay};

use crate::support::{append_events, fast_consumer_options, join, wait_received, TestDb, TestHandler, STREAM, WAIT};

const WEEK: Duration = Duration::from_secs(7 * 24 * 3600);

async fn config_of(js: &jetstream::Context, name: &str) -> stream::Config {
    js.get_stream(name).await.expect("stream").cached_info().config.clone()
}

/// One start of a service: streams ensured with `settings`, the relay
/// publishes, the consumer applies — then everything stops.
async fn start_service(
    js: &jetstream::Context,
    settings: &StreamSettings,
    producer: &TestDb,
    consumer_db: &TestDb,
    expected: usize,
) {
    ensure_stream_with(js, "inventory", settings).await.expect("streams");
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(run_jetstream_consumer(
        js.clone(),
        STREAM,
        Consumer::new(consumer_db.db.clone(), TestHandler::new("test-inventory")),
        fast_consumer_options(),
        shutdown.clone(),
    ));
    append_events(&producer.db, 1, b"ok").await;
    Relay::new(producer.db.clone(), Arc::new(JetStreamPublisher::new(js.clone())))
        .drain()
        .await
        .expect("published");
    wait_received(&consumer_db.db, expected).await;
    shutdown.cancel();
    join(task).await.expect("consumer stopped cleanly");
}

#[tokio::test]
async fn operator_retention_survives_service_and_broker_restarts() {
    vigie_testkit::init_test_logging();
    let mut server = vigie_testkit::NatsServer::start().await;
    let js = vigie_platform::events::jetstream::connect(&server.url(), "vigie-platform-tests")
        .await
        .expect("nats connection");
    let producer = TestDb::producer(Backend::Postgres).await;
    let consumer_db = TestDb::consumer(Backend::Postgres).await;

    // First start: the streams are missing, created with the configuration.
    let configured = StreamSettings {
        max_age: Duration::from_secs(3600),
        max_bytes: 50_000_000,
        replicas: 1,
    };
    start_service(&js, &configured, &producer, &consumer_db, 1).await;
    for name in [STREAM, DEAD_LETTER_STREAM] {
        let config = config_of(&js, name).await;
        assert_eq!(config.max_age, Duration::from_secs(3600), "{name}");
        assert_eq!(config.max_bytes, 50_000_000, "{name}");
        assert_eq!(config.num_replicas, 1, "{name}");
    }

    // The operator shortens the retention from outside.
    for name in [STREAM, DEAD_LETTER_STREAM] {
        let mut config = config_of(&js, name).await;
        config.max_age = WEEK;
        config.max_bytes = -1;
        js.update_stream(&config).await.expect("operator update");
    }

    // Services restart, with other settings (the defaults) in their configuration.
    start_service(&js, &StreamSettings::default(), &producer, &consumer_db, 2).await;
    ensure_stream(&js, "inventory").await.expect("streams");
    for name in [STREAM, DEAD_LETTER_STREAM] {
        let config = config_of(&js, name).await;
        assert_eq!(
            config.max_age, WEEK,
            "{name}: the operator's max_age survives a service start"
        );
        assert_eq!(config.max_bytes, -1, "{name}");
        assert_ne!(config.max_age, DEFAULT_MAX_AGE);
    }

    // The broker itself restarts.
    server.stop().await;
    server.restart().await;
    let restarted = js.clone();
    vigie_testkit::eventually("streams ensured after the broker restart", WAIT, || {
        let js = restarted.clone();
        async move { Ok(ensure_stream(&js, "inventory").await.is_ok()) }
    })
    .await
    .expect("broker back");
    start_service(&js, &configured, &producer, &consumer_db, 3).await;
    for name in [STREAM, DEAD_LETTER_STREAM] {
        assert_eq!(
            config_of(&js, name).await.max_age,
            WEEK,
            "{name}: survives a broker restart"
        );
    }
    let messages = js
        .get_stream(STREAM)
        .await
        .unwrap()
        .get_info()
        .await
        .unwrap()
        .state
        .messages;
    assert_eq!(messages, 3, "events kept across the restarts");
}

#[tokio::test]
async fn an_upgraded_durable_consumer_loses_its_delivery_limit_and_lets_out_four_batches() {
    let nats = crate::support::nats().await;
    let stream = nats.js.get_stream(STREAM).await.unwrap();
    let options = fast_consumer_options();
    let filter = "vigie.inventory.structure.inventoried.v1";
    // As created by previous versions: 10 + 5 deliveries, then the server
    // gives up; the server's default of unacknowledged messages (1,000 on
    // nats-server 2.9), which held the prefetch back behind a whole
    // batch's acks.
    let old = async_nats::jetstream::consumer::pull::Config {
        max_deliver: 15,
        max_ack_pending: 0,
        ..vigie_platform::events::jetstream::consumer_config("test-inventory", filter, &options)
    };
    let created = stream
        .create_consumer(old)
        .await
        .unwrap()
        .info()
        .await
        .unwrap()
        .config
        .clone();
    assert_ne!(created.max_ack_pending, 4 * options.batch as i64);
    let mut durable = vigie_platform::events::jetstream::ensure_consumer(&stream, "test-inventory", filter, &options)
        .await
        .unwrap();
    let config = durable.info().await.unwrap().config.clone();
    assert_eq!(config.max_deliver, -1);
    assert_eq!(config.max_ack_pending, 4 * options.batch as i64);
}
