//! In-process delivery for the embedded mode (`vigie dev`): no broker, same
//! guarantees.
//!
//! The relay publishes through an [`EmbeddedPublisher`], which hands each
//! envelope to every registered [`Consumer`] whose event types match and
//! awaits their transactions. It confirms an event only when every one of
//! them committed — exactly the contract of a JetStream `PubAck` followed
//! by durable consumers. A relay batch is delivered a small window of
//! events at a time ([`EMBEDDED_WINDOW`]), each consumer applying the window's events
//! it wants in one transaction ([`Consumer::process_batch`]; see
//! [`EmbeddedPublisher`] for why not whole batches); the confirmations stop
//! at the first event not confirmed, and
//! the relay marks the confirmed prefix of the batch with one UPDATE. A crash at
//! any point leaves the unmarked rows pending; the next run redelivers
//! them, and consumers that had already committed answer
//! [`Outcome::Duplicate`](super::Outcome).
//!
//! Failures mirror the JetStream adapter:
//! - transient: the publication fails and the relay retries with backoff
//!   (capped at 5 s), **forever**: a database that is down or locked for a
//!   while delays events, it never turns them into dead letters (an erasure
//!   would otherwise never be applied). Each retry counts in
//!   `vigie.events.retries` and logs a warning with the attempt count. The
//!   events after it wait (in-process delivery keeps the producer's order);
//! - permanent (poison): recorded at once in the consumer's
//!   `vigie_dead_letters` table (with its inbox row) and counted as
//!   delivered for that consumer.
//!
//! Dead letters are replayed on request (`vigie events dead-letters
//! replay` marks the row): [`EmbeddedBus::run_replays`] polls the
//! consumers' tables and runs [`Consumer::replay_dead_letter`].
//!
//! Register every consumer before starting the relay: unlike a JetStream
//! durable consumer, a consumer registered later does not see events that
//! were already marked published.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::dead_letters;
use super::relay::error_chain;
use super::{Consumer, Envelope, HandlerError, Outcome, PublishError, Publisher};

/// Events of a relay batch a consumer applies in one transaction, at most
/// ([`EmbeddedPublisher`]): a few milliseconds of a SQLite write connection
/// that people's requests share, where one transaction per event made the
/// 40,000 events of a 20,000-structure import take two minutes.
pub const EMBEDDED_WINDOW: usize = 32;

/// How often [`EmbeddedBus::run_replays`] looks for replay requests.
pub const REPLAY_POLL_INTERVAL: Duration = Duration::from_secs(1);

/// The set of in-process consumers; cheap to clone (shared).
#[derive(Debug, Clone)]
pub struct EmbeddedBus {
    inner: Arc<BusInner>,
}

#[derive(Debug)]
struct BusInner {
    consumers: RwLock<Vec<Consumer>>,
    /// Transient failures per (consumer, event) still pending (for logs).
    failures: Mutex<HashMap<(String, Uuid), u32>>,
}

impl Default for EmbeddedBus {
    fn default() -> Self {
        EmbeddedBus::new()
    }
}

impl EmbeddedBus {
    /// An empty bus.
    pub fn new() -> EmbeddedBus {
        EmbeddedBus {
            inner: Arc::new(BusInner {
                consumers: RwLock::new(Vec::new()),
                failures: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// Registers `consumer`; a consumer with the same name is replaced.
    pub fn register(&self, consumer: Consumer) {
        let mut consumers = self.inner.consumers.write().unwrap_or_else(PoisonError::into_inner);
        consumers.retain(|existing| existing.name() != consumer.name());
        tracing::info!(consumer = %consumer.name(), "in-process consumer registered");
        consumers.push(consumer);
    }

    /// Names of the registered consumers.
    pub fn consumers(&self) -> Vec<String> {
        let consumers = self.inner.consumers.read().unwrap_or_else(PoisonError::into_inner);
        consumers.iter().map(|consumer| consumer.name().to_owned()).collect()
    }

    /// A publisher delivering to this bus, for a [`Relay`](super::Relay).
    pub fn publisher(&self) -> EmbeddedPublisher {
        EmbeddedPublisher { bus: self.clone() }
    }

    /// Replays the dead letters of the registered consumers whose replay was
    /// requested, every `interval`, until `shutdown` is cancelled.
    pub async fn run_replays(self, interval: Duration, shutdown: CancellationToken) {
        loop {
            self.replay_requested().await;
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(interval) => {}
            }
        }
    }

    /// One pass of [`EmbeddedBus::run_replays`]; returns how many replays
    /// were attempted. Errors are logged: the request stays and the next
    /// pass tries again.
    pub async fn replay_requested(&self) -> usize {
        let mut attempted = 0;
        for consumer in self.registered() {
            let requested = match dead_letters::replay_requests(consumer.db(), consumer.name()).await {
                Ok(requested) => requested,
                Err(error) => {
                    tracing::warn!(consumer = %consumer.name(), error = %error_chain(&error), "could not read replay requests");
                    continue;
                }
            };
            for event_id in requested {
                attempted += 1;
                if let Err(error) = consumer.replay_dead_letter(event_id).await {
                    tracing::warn!(
                        consumer = %consumer.name(),
                        event_id = %event_id,
                        error = %error_chain(&error),
                        "dead letter replay failed, will retry"
                    );
                }
            }
        }
        attempted
    }

    fn registered(&self) -> Vec<Consumer> {
        let consumers = self.inner.consumers.read().unwrap_or_else(PoisonError::into_inner);
        consumers.clone()
    }

    /// Counts a transient failure; returns the attempts so far.
    fn count_failure(&self, consumer: &str, event: Uuid) -> u32 {
        let mut failures = self.inner.failures.lock().unwrap_or_else(PoisonError::into_inner);
        let count = failures.entry((consumer.to_owned(), event)).or_insert(0);
        *count += 1;
        *count
    }

    /// Whether delivering `event` to `consumer` failed before (this is a redelivery).
    fn failed_before(&self, consumer: &str, event: Uuid) -> bool {
        let failures = self.inner.failures.lock().unwrap_or_else(PoisonError::into_inner);
        failures.contains_key(&(consumer.to_owned(), event))
    }

    fn forget_failures(&self, consumer: &str, event: Uuid) {
        let mut failures = self.inner.failures.lock().unwrap_or_else(PoisonError::into_inner);
        failures.remove(&(consumer.to_owned(), event));
    }
}

/// Delivers envelopes to the consumers of an [`EmbeddedBus`].
#[derive(Debug, Clone)]
pub struct EmbeddedPublisher {
    bus: EmbeddedBus,
}

#[async_trait]
impl Publisher for EmbeddedPublisher {
    /// Delivers to every matching consumer, as [`Publisher::publish_batch`].
    ///
    /// # Errors
    /// [`PublishError::Consumers`] when a consumer failed transiently (the
    /// relay retries it, forever) or a dead letter could not be recorded.
    async fn publish(&self, envelope: &Envelope) -> Result<(), PublishError> {
        self.publish_batch(std::slice::from_ref(envelope))
            .await
            .pop()
            .unwrap_or(Ok(()))
    }

    /// Delivers the batch a window of [`EMBEDDED_WINDOW`] events at a time: each
    /// consumer, in registration order, applies the window's events it
    /// wants in one transaction ([`Consumer::process_batch`], on its own
    /// database), then the next consumer; every consumer has the window
    /// before any gets the next one. An event is confirmed when every
    /// consumer applied it or recorded it as a dead letter; the results stop
    /// at the first event not confirmed (the events after it wait, as the
    /// producer's order requires; a consumer that already applied them
    /// finds them duplicates when they come again).
    ///
    /// Small windows, not the relay's whole batch: on a SQLite file a
    /// consumer shares its service's one write connection with the requests
    /// people make (console, CLI), which must not wait behind hundreds of
    /// events; and each service learns of an event after the others applied
    /// at most a window, not a whole batch (alerting's next pass already
    /// sees the structures imported before the calls).
    async fn publish_batch(&self, envelopes: &[Envelope]) -> Vec<Result<(), PublishError>> {
        let consumers = self.bus.registered();
        let mut results = Vec::with_capacity(envelopes.len());
        for window in envelopes.chunks(EMBEDDED_WINDOW) {
            // The window's first event some consumer did not settle.
            let mut unsettled = window.len();
            let mut failures = Vec::new();
            for consumer in &consumers {
                let wanted: Vec<Envelope> = window
                    .iter()
                    .filter(|envelope| consumer.wants(&envelope.event_type))
                    .cloned()
                    .collect();
                if wanted.is_empty() {
                    continue;
                }
                for envelope in &wanted {
                    if self.bus.failed_before(consumer.name(), envelope.id) {
                        consumer.metrics().redelivered(&envelope.event_type, consumer.name());
                    }
                }
                let outcomes = consumer.process_batch(&wanted).await;
                for (envelope, result) in wanted.iter().zip(outcomes) {
                    if let Err(failure) = self.settle(consumer, envelope, result).await {
                        // The consumer's later events failed too, or were not
                        // attempted: its first failure is where it stopped.
                        let at = window.iter().position(|e| e.id == envelope.id).unwrap_or(0);
                        unsettled = unsettled.min(at);
                        failures.push(failure);
                        break;
                    }
                }
            }
            results.extend(window[..unsettled].iter().map(|_| Ok(())));
            if unsettled < window.len() {
                results.push(Err(PublishError::Consumers {
                    failed: failures.len(),
                    details: failures.join("; "),
                }));
                break;
            }
        }
        results
    }
}

impl EmbeddedPublisher {
    /// Acts on `consumer`'s result for `envelope`: forgets past failures
    /// once applied, records a dead letter on a permanent failure, counts a
    /// transient one. `Err` (`name: reason`) when the event is not settled
    /// for this consumer.
    async fn settle(
        &self,
        consumer: &Consumer,
        envelope: &Envelope,
        result: Result<Outcome, HandlerError>,
    ) -> Result<(), String> {
        let name = consumer.name();
        let dead_letter_reason = match result {
            Ok(_) => {
                self.bus.forget_failures(name, envelope.id);
                return Ok(());
            }
            Err(HandlerError::Permanent(error)) => format!("permanent failure: {error:#}"),
            Err(HandlerError::Transient(error)) => {
                let attempts = self.bus.count_failure(name, envelope.id);
                consumer.metrics().retried(&envelope.event_type, name);
                tracing::warn!(
                    consumer = %name,
                    event_id = %envelope.id,
                    event_type = %envelope.event_type,
                    attempts,
                    error = %format!("{error:#}"),
                    "in-process delivery failed, will retry"
                );
                return Err(format!("{name}: {error:#}"));
            }
        };
        tracing::error!(
            consumer = %name,
            event_id = %envelope.id,
            event_type = %envelope.event_type,
            reason = %dead_letter_reason,
            "event dead-lettered"
        );
        match consumer.dead_letter(envelope, &dead_letter_reason).await {
            Ok(()) => {
                self.bus.forget_failures(name, envelope.id);
                Ok(())
            }
            Err(error) => Err(format!("{name}: recording the dead letter: {}", error_chain(&error))),
        }
    }
}
