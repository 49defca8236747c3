//! `vigie events dead-letters list|replay` in distributed mode: a dead
//! letter is listed with its attributes, replayed to its consumer only,
//! applied once, and removed.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;
use vigie_platform::db::Backend;
use vigie_platform::events::jetstream::{dead_letters, DEAD_LETTER_STREAM};
use vigie_platform::events::{Consumer, JetStreamPublisher, Relay};

use crate::support::{
    append_events, assert_exactly_once, fast_consumer_options, join, nats, stream_messages, wait_received, TestDb,
    TestHandler, EVENT_TYPE, POISON, STREAM,
};

#[tokio::test]
async fn a_replayed_dead_letter_reaches_its_consumer_once_and_is_removed() {
    let nats = nats().await;
    let producer = TestDb::producer(Backend::Postgres).await;
    let poisoned_db = TestDb::consumer(Backend::Postgres).await;
    let bystander_db = TestDb::consumer(Backend::Postgres).await;
    let poisoned = TestHandler::new("poisoned-inventory");
    let bystander = TestHandler::new("bystander-inventory");
    // The bystander copes with the payload the other consumer chokes on.
    bystander.cured.store(true, Ordering::SeqCst);
    let shutdown = CancellationToken::new();
    let mut tasks = Vec::new();
    for (db, handler) in [(&poisoned_db, &poisoned), (&bystander_db, &bystander)] {
        tasks.push(nats.spawn_consumer(
            Consumer::new(db.db.clone(), handler.clone()),
            fast_consumer_options(),
            &shutdown,
        ));
    }
    let relay = Relay::new(producer.db.clone(), Arc::new(JetStreamPublisher::new(nats.js.clone())));
    let mut ids = append_events(&producer.db, 1, b"ok").await;
    let poison = append_events(&producer.db, 1, POISON).await[0];
    relay.drain().await.unwrap();
    wait_received(&bystander_db.db, 2).await;
    wait_received(&poisoned_db.db, 1).await;
    nats.wait_dead_letters("one dead letter", 1).await;

    let listed = dead_letters::list(&nats.js).await.unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    let letter = &listed[0];
    assert_eq!(letter.consumer, "poisoned-inventory");
    assert_eq!(letter.event_id, Some(poison.to_string()));
    assert_eq!(letter.event_type, EVENT_TYPE);
    assert_eq!(letter.subject, "structure-0");
    assert!(letter.error.contains("poison payload"), "{}", letter.error);
    assert_eq!(letter.deliveries, 1);
    assert_eq!(letter.location, format!("{DEAD_LETTER_STREAM}#1"));

    let unknown = dead_letters::replay(&nats.js, "bystander-inventory", &poison.to_string()).await;
    assert!(
        matches!(unknown, Err(dead_letters::DeadLetterError::NotFound { .. })),
        "{unknown:?}"
    );

    poisoned.cured.store(true, Ordering::SeqCst);
    let replayed = dead_letters::replay(&nats.js, "poisoned-inventory", &poison.to_string())
        .await
        .unwrap();
    assert_eq!(replayed.event_id, Some(poison.to_string()));
    ids.push(poison);
    wait_received(&poisoned_db.db, 2).await;
    assert!(
        dead_letters::list(&nats.js).await.unwrap().is_empty(),
        "removed once replayed"
    );
    assert_exactly_once(&poisoned_db.db, "poisoned-inventory", &ids).await;
    assert_exactly_once(&bystander_db.db, "bystander-inventory", &ids).await;
    // One failed delivery (the poison fails in its batch, then alone when
    // the batch is applied one by one, if it came with the other event) and
    // one replay.
    assert!(
        (2..=3).contains(&poisoned.calls_for(poison)),
        "one failure, one replay: {}",
        poisoned.calls_for(poison)
    );
    assert_eq!(bystander.calls_for(poison), 1, "the replay was not for the bystander");
    assert_eq!(
        stream_messages(&nats.js, STREAM).await,
        3,
        "the replay is a new message of the stream"
    );

    shutdown.cancel();
    for task in tasks {
        join(task).await.unwrap();
    }
}
