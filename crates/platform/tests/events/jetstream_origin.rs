//! `ConsumerOptions::origin`: where the producer cannot be trusted to say who
//! it is (the national stream), the handler sees the origin the transport
//! vouches for as the envelope's subject, and a message without a known
//! origin is dead-lettered, never handled.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use sqlx::{Any, Transaction};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;
use vigie_platform::db::Backend;
use vigie_platform::events::jetstream::OriginCheck;
use vigie_platform::events::{Consumer, Envelope, EventHandler, HandlerError};

use crate::support::{fast_consumer_options, join, nats, TestDb, EVENT_TYPE, SOURCE, WAIT};

/// The header a trusted hop would have written.
const ORIGIN: &str = "Test-Origin";

#[derive(Default)]
struct Seen(Mutex<Vec<(Uuid, String)>>);

#[async_trait]
impl EventHandler for Seen {
    fn name(&self) -> &str {
        "origin-test"
    }

    fn event_types(&self) -> Vec<String> {
        vec![EVENT_TYPE.to_owned()]
    }

    async fn handle(&self, _tx: &mut Transaction<'_, Any>, envelope: &Envelope) -> Result<(), HandlerError> {
        self.0
            .lock()
            .map_err(|_| HandlerError::permanent(anyhow::anyhow!("poisoned lock")))?
            .push((envelope.id, envelope.subject.clone()));
        Ok(())
    }
}

#[tokio::test]
async fn the_handler_sees_the_vouched_origin_and_unknown_origins_are_dead_lettered() {
    let nats = nats().await;
    let consumer_db = TestDb::consumer(Backend::Postgres).await;
    let vouched = Envelope::new(SOURCE, EVENT_TYPE, "claims-to-be-bretagne", b"a".to_vec());
    let unvouched = Envelope::new(SOURCE, EVENT_TYPE, "claims-to-be-bretagne", b"b".to_vec());
    let mut headers = vouched.to_headers();
    headers.insert(ORIGIN, "occitanie");
    nats.js
        .publish_with_headers(EVENT_TYPE, headers, vouched.payload.clone())
        .await
        .unwrap()
        .await
        .unwrap();
    nats.js
        .publish_with_headers(EVENT_TYPE, unvouched.to_headers(), unvouched.payload.clone())
        .await
        .unwrap()
        .await
        .unwrap();

    let seen = Arc::new(Seen::default());
    let options = vigie_platform::events::jetstream::ConsumerOptions {
        origin: Some(OriginCheck(Arc::new(|headers| {
            headers.and_then(|h| h.get(ORIGIN)).map(|v| v.as_str().to_owned())
        }))),
        ..fast_consumer_options()
    };
    let shutdown = CancellationToken::new();
    let task = nats.spawn_consumer(Consumer::new(consumer_db.db.clone(), seen.clone()), options, &shutdown);
    nats.wait_dead_letters("the unvouched message dead-lettered", 1).await;
    let probe = seen.clone();
    vigie_testkit::eventually("the vouched message handled", WAIT, || {
        let seen = probe.clone();
        async move { Ok(seen.0.lock().map(|s| s.len() == 1).unwrap_or(false)) }
    })
    .await
    .unwrap();
    let handled = seen.0.lock().unwrap().clone();
    assert_eq!(
        handled,
        vec![(vouched.id, "occitanie".to_owned())],
        "the payload's claim is replaced"
    );
    let dead = nats.first_dead_letter().await;
    assert_eq!(
        dead.headers
            .get("Vigie-Error")
            .map(|v| v.as_str().to_owned())
            .as_deref(),
        Some("unknown origin")
    );
    shutdown.cancel();
    join(task).await.unwrap();
}
