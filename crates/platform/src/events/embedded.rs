//! In-process delivery for the embedded mode (`vigie dev`): no broker, same
//! guarantees.
//!
//! The relay publishes through an [`EmbeddedPublisher`], which hands each
//! envelope to every registered [`Consumer`] whose event types match and
//! awaits their transactions. It confirms an event only when every one of
//! them committed — exactly the contract of a JetStream `PubAck` followed
//! by durable consumers. A relay batch is delivered one event after the
//! other, in order, stopping at the first event not confirmed; the relay
//! then marks the confirmed events of the batch with one UPDATE. A crash at
//! any point leaves the unmarked rows pending; the next run redelivers
//! them, and consumers that had already committed answer
//! [`Outcome::Duplicate`](super::Outcome).
//!
//! Failures mirror the JetStream adapter:
//! - transient: the publication fails and the relay retries with backoff;
//!   after `max_deliver` failed attempts (per consumer and event, counted in
//!   memory) the event is dead-lettered for that consumer so one bad event
//!   cannot block the whole stream forever;
//! - permanent (poison): recorded at once in the consumer's
//!   `vigie_dead_letters` table (with its inbox row) and counted as
//!   delivered for that consumer.
//!
//! Register every consumer before starting the relay: unlike a JetStream
//! durable consumer, a consumer registered later does not see events that
//! were already marked published.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use async_trait::async_trait;
use uuid::Uuid;

use super::relay::error_chain;
use super::{Consumer, Envelope, HandlerError, PublishError, Publisher};

/// Default number of transient failures before dead-lettering.
pub const DEFAULT_MAX_DELIVER: u32 = 10;

/// The set of in-process consumers; cheap to clone (shared).
#[derive(Debug, Clone)]
pub struct EmbeddedBus {
    inner: Arc<BusInner>,
}

#[derive(Debug)]
struct BusInner {
    consumers: RwLock<Vec<Consumer>>,
    /// Transient failures per (consumer, event) still pending.
    failures: Mutex<HashMap<(String, Uuid), u32>>,
    max_deliver: u32,
}

impl Default for EmbeddedBus {
    fn default() -> Self {
        EmbeddedBus::new()
    }
}

impl EmbeddedBus {
    /// An empty bus that dead-letters after 10 transient failures.
    pub fn new() -> EmbeddedBus {
        EmbeddedBus::with_max_deliver(DEFAULT_MAX_DELIVER)
    }

    /// An empty bus that dead-letters after `max_deliver` transient failures
    /// (at least 1).
    pub fn with_max_deliver(max_deliver: u32) -> EmbeddedBus {
        EmbeddedBus {
            inner: Arc::new(BusInner {
                consumers: RwLock::new(Vec::new()),
                failures: Mutex::new(HashMap::new()),
                max_deliver: max_deliver.max(1),
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

    fn matching(&self, event_type: &str) -> Vec<Consumer> {
        let consumers = self.inner.consumers.read().unwrap_or_else(PoisonError::into_inner);
        consumers
            .iter()
            .filter(|consumer| consumer.wants(event_type))
            .cloned()
            .collect()
    }

    /// Counts a transient failure; returns the attempts so far.
    fn count_failure(&self, consumer: &str, event: Uuid) -> u32 {
        let mut failures = self.inner.failures.lock().unwrap_or_else(PoisonError::into_inner);
        let count = failures.entry((consumer.to_owned(), event)).or_insert(0);
        *count += 1;
        *count
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

/// [`Publisher::publish_batch`] keeps its default: the events of a batch are
/// delivered one after the other and delivery stops at the first failure.
#[async_trait]
impl Publisher for EmbeddedPublisher {
    /// Delivers to every matching consumer in registration order (each in
    /// its own transaction on its own database).
    ///
    /// # Errors
    /// [`PublishError::Consumers`] when a consumer failed transiently (and
    /// has not exhausted its attempts) or a dead letter could not be
    /// recorded.
    async fn publish(&self, envelope: &Envelope) -> Result<(), PublishError> {
        let mut failures = Vec::new();
        for consumer in self.bus.matching(&envelope.event_type) {
            let name = consumer.name().to_owned();
            let dead_letter_reason = match consumer.process(envelope).await {
                Ok(_) => {
                    self.bus.forget_failures(&name, envelope.id);
                    continue;
                }
                Err(HandlerError::Permanent(error)) => format!("permanent failure: {error:#}"),
                Err(HandlerError::Transient(error)) => {
                    let attempts = self.bus.count_failure(&name, envelope.id);
                    if attempts < self.bus.inner.max_deliver {
                        tracing::warn!(
                            consumer = %name,
                            event_id = %envelope.id,
                            event_type = %envelope.event_type,
                            attempts,
                            error = %format!("{error:#}"),
                            "in-process delivery failed, will retry"
                        );
                        failures.push(format!("{name}: {error:#}"));
                        continue;
                    }
                    format!("gave up after {attempts} attempts: {error:#}")
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
                Ok(()) => self.bus.forget_failures(&name, envelope.id),
                Err(error) => failures.push(format!("{name}: recording the dead letter: {}", error_chain(&error))),
            }
        }
        if failures.is_empty() {
            Ok(())
        } else {
            Err(PublishError::Consumers {
                failed: failures.len(),
                details: failures.join("; "),
            })
        }
    }
}
