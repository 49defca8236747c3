//! Poison and unparseable messages go to `vigie.deadletter.<consumer>`;
//! transient failures are retried without limit and never dead-lettered;
//! the consumer keeps processing the next messages.

use std::sync::Arc;

use bytes::Bytes;
use tokio_util::sync::CancellationToken;
use vigie_platform::db::Backend;
use vigie_platform::events::jetstream::DEAD_LETTER_STREAM;
use vigie_platform::events::{header, JetStreamPublisher, Relay};

use crate::support::{
    append_events, fast_consumer_options, join, nats, received, stream_messages, wait_received, TestDb, TestHandler,
    EVENT_TYPE, FLAKY, POISON, WAIT,
};

#[tokio::test]
async fn poison_messages_are_dead_lettered_and_the_consumer_goes_on() {
    let nats = nats().await;
    let producer = TestDb::producer(Backend::Postgres).await;
    let consumer_db = TestDb::consumer(Backend::Postgres).await;
    let handler = TestHandler::new("test-inventory");
    let options = fast_consumer_options();
    // The old bounded policy dead-lettered at the 10th delivery.
    let beyond_old_budget = 12;

    let mut good = append_events(&producer.db, 1, b"ok").await;
    let poison = append_events(&producer.db, 1, POISON).await[0];
    good.extend(append_events(&producer.db, 1, b"ok").await);
    let flaky = append_events(&producer.db, 1, FLAKY).await[0];
    Relay::new(producer.db.clone(), Arc::new(JetStreamPublisher::new(nats.js.clone())))
        .drain()
        .await
        .unwrap();
    // Not a CloudEvent at all, published by something else on the subject.
    nats.js
        .publish(EVENT_TYPE, Bytes::from_static(b"garbage"))
        .await
        .unwrap()
        .await
        .unwrap();
    good.extend(append_events(&producer.db, 1, b"ok").await);
    Relay::new(producer.db.clone(), Arc::new(JetStreamPublisher::new(nats.js.clone())))
        .drain()
        .await
        .unwrap();

    let shutdown = CancellationToken::new();
    let task = nats.spawn_consumer(
        vigie_platform::events::Consumer::new(consumer_db.db.clone(), handler.clone()),
        options,
        &shutdown,
    );
    wait_received(&consumer_db.db, good.len()).await;
    nats.wait_dead_letters("two dead letters", 2).await;
    let flaky_handler = handler.clone();
    vigie_testkit::eventually("the flaky event retried beyond the old budget", WAIT, || {
        let handler = flaky_handler.clone();
        async move { Ok(handler.calls_for(flaky) >= beyond_old_budget) }
    })
    .await
    .unwrap();
    assert_eq!(
        stream_messages(&nats.js, DEAD_LETTER_STREAM).await,
        2,
        "a transient failure is never dead-lettered"
    );

    let applied = received(&consumer_db.db).await.unwrap();
    assert_eq!(applied.len(), good.len());
    assert!(good.iter().all(|id| applied.get(id) == Some(&1)));
    assert!(
        handler.calls_for(poison) <= 2,
        "a permanent failure is not retried (called in its batch, then alone)"
    );

    let stream = nats.js.get_stream(DEAD_LETTER_STREAM).await.unwrap();
    let mut reasons = Vec::new();
    for sequence in 1..=2 {
        let message = stream.get_raw_message(sequence).await.unwrap();
        assert_eq!(message.subject.as_str(), "vigie.deadletter.test-inventory");
        let headers = &message.headers;
        let get = |name: &str| headers.get(name).map(|v| v.as_str().to_owned());
        assert_eq!(get("Vigie-Consumer").as_deref(), Some("test-inventory"));
        assert_eq!(get("Vigie-Original-Subject").as_deref(), Some(EVENT_TYPE));
        assert!(get("Vigie-Failed-At").is_some());
        reasons.push((
            get(header::ID),
            get("Vigie-Error").unwrap_or_default(),
            message.payload.clone(),
        ));
    }
    let find = |id: Option<String>| reasons.iter().find(|(rid, _, _)| *rid == id).cloned().unwrap();
    let (_, reason, payload) = find(Some(poison.to_string()));
    assert!(reason.contains("permanent failure: poison payload"), "{reason}");
    assert_eq!(payload.as_ref(), POISON, "the original payload is kept");
    assert!(reasons.iter().all(|(id, _, _)| *id != Some(flaky.to_string())));
    let (_, reason, payload) = find(None);
    assert!(reason.contains("invalid envelope"), "{reason}");
    assert_eq!(payload.as_ref(), b"garbage");

    shutdown.cancel();
    join(task).await.unwrap();
}
