//! The event backbone: transactional outbox, relay, idempotent consumers,
//! CloudEvents over NATS JetStream or in-process delivery.
//!
//! # Guarantees, and why
//!
//! Services never call each other; state another service needs travels as
//! events. An event must therefore never be lost, nor applied twice, even
//! when processes crash at the worst moment or the broker restarts:
//!
//! 1. **Written with the state change.** A producer appends the event with
//!    [`Outbox::append`] in the same database transaction as the change it
//!    describes. Both commit or neither does: there is no window where the
//!    state changed but the event was lost, or the event exists for a change
//!    that rolled back. The outbox is the system of record. A bulk
//!    operation appends its events with [`Outbox::append_many`] (multi-row
//!    INSERTs, same transaction, same order).
//! 2. **Published at least once, in order.** The [`Relay`] publishes
//!    committed rows in insertion order, by batches, and marks a row only
//!    after the transport confirmed it (JetStream `PubAck`, or every
//!    in-process consumer committed) — and every row before it in the
//!    batch. JetStream batches are pipelined (all messages sent, then the
//!    acks awaited in order); each message is conditioned on its
//!    predecessor in the stream (`Nats-Expected-Last-Msg-Id`), so a lost or
//!    refused message is never overtaken by the rest of its batch. A
//!    failure is retried forever with backoff, never skipped. A crash
//!    between confirmation and marking, or a failure in the middle of a
//!    batch, causes republishes — the only source of duplicates on the
//!    producer side, neutralised by `Nats-Msg-Id` deduplication on the
//!    broker.
//! 3. **Applied exactly once in effect.** A [`Consumer`] commits the
//!    handler's effects together with an inbox row keyed by the event id;
//!    any redelivery (lost ack, consumer crash, republish after the
//!    duplicate window) finds the row and does nothing.
//! 4. **Transient failures wait, poison goes aside, nothing is dropped.**
//!    Transient handler failures ([`HandlerError::Transient`]: a database
//!    down, a lock…) are retried forever with delays growing to a cap, and
//!    counted in `vigie.events.retries`; an event such as `person.erased`
//!    is never given up for a transient cause. Permanent failures and
//!    unparseable messages go to a dead letter at once (the
//!    `vigie.deadletter.<consumer>` subject, or the `vigie_dead_letters`
//!    table in embedded mode, counted in `vigie.events.dead_letters`) so one
//!    poison event cannot block a stream; `vigie events dead-letters
//!    list|replay` shows them and re-delivers one to its consumer once the
//!    cause is fixed ([`dead_letters`]).
//!
//! Events are CloudEvents 1.0 in binary content mode ([`Envelope`]): the
//! protobuf payload is the message body and the attributes are headers,
//! with a W3C `traceparent` so one trace spans gRPC → outbox → NATS →
//! consumer.
//!
//! # Wiring
//!
//! ```text
//! db.migrate("events", events::MIGRATIONS)           // once, at start-up
//! Outbox::new("/vigie/inventory").append(&mut tx, draft)  // in the use case's transaction
//!                          // or .append_many(&mut tx, drafts) for a bulk operation
//! tx.commit(); relay_handle.notify();
//!
//! // distributed: JetStream
//! let js = jetstream::connect(url, "vigie-inventory").await?;
//! jetstream::ensure_stream(&js, "inventory").await?;
//! Relay::new(db, Arc::new(JetStreamPublisher::new(js.clone()))).run(shutdown)
//! jetstream::run_jetstream_consumers(js, Consumer::new(db, handler), opts, shutdown)
//!
//! // embedded: in-process
//! let bus = EmbeddedBus::new();
//! bus.register(Consumer::new(training_db, handler));     // before the relay starts
//! Relay::new(inventory_db, Arc::new(bus.publisher())).run(shutdown)
//! ```
//!
//! The services do not wire their consumers by hand: each lists them once in
//! a [`ServiceDescription`](crate::service::ServiceDescription), which
//! `vigie dev` ([`EmbeddedBuses`](crate::service::EmbeddedBuses)), `vigie
//! serve` and the test harnesses compose. Payloads are typed ([`Event`]):
//! `EventDraft::of(subject, &message)`, `event_types![…]`,
//! `envelope.decode::<E>()`.

mod backoff;
pub mod dead_letters;
mod embedded;
mod envelope;
pub mod gauges;
mod inbox;
pub mod jetstream;
mod metrics;
mod outbox;
mod publisher;
mod relay;
mod schema;
mod subject;
mod trace;
mod typed;

pub use dead_letters::DeadLetter;
pub use embedded::{EmbeddedBus, EmbeddedPublisher, EMBEDDED_WINDOW, REPLAY_POLL_INTERVAL};
pub use envelope::{header, Envelope, EnvelopeError, CONTENT_TYPE, SPEC_VERSION};
pub use inbox::{Consumer, EventHandler, HandlerError, Outcome, ReplayError, ReplayOutcome};
pub use jetstream::JetStreamPublisher;
pub use outbox::{EventDraft, Outbox};
pub use publisher::{BoxError, PublishError, Publisher};
pub use relay::{Relay, RelayError, RelayHandle, RelayOptions};
pub use schema::MIGRATIONS;
pub use subject::subject_matches;
pub use vigie_proto::Event;

use crate::db::Migration;

/// The migrations of the platform's event tables (outbox, inbox, dead
/// letters); apply with `db.migrate("events", events::migrations())`.
pub fn migrations() -> &'static [Migration] {
    MIGRATIONS
}
