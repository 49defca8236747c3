//! Event counters: `vigie.events.published`, `vigie.events.consumed`,
//! `vigie.events.failed`, `vigie.events.retries` (a transient failure that
//! will be retried: a steadily growing count means a stuck consumer),
//! `vigie.events.redelivered` (an event handed to a consumer again after a
//! failed or unacknowledged delivery: JetStream delivery count above 1, or an
//! in-process retry) and `vigie.events.dead_letters` (events a consumer gave
//! up on: alert on any increase). The backlog gauges are in `gauges.rs`.
//!
//! Instruments come from `opentelemetry::global::meter("vigie")` when a
//! relay or consumer is built, i.e. after telemetry was initialised at
//! start-up; they are no-ops when no meter provider is installed. Attributes
//! are low-cardinality only: event type (a fixed catalogue), consumer name,
//! outcome or failure reason — never ids.

use opentelemetry::metrics::Counter;
use opentelemetry::KeyValue;

/// Consumer name used for failures of the relay itself.
pub(crate) const RELAY: &str = "relay";
/// Event type attribute when a message could not be parsed.
pub(crate) const UNKNOWN_TYPE: &str = "unknown";

#[derive(Clone)]
pub(crate) struct EventMetrics {
    published: Counter<u64>,
    consumed: Counter<u64>,
    failed: Counter<u64>,
    retries: Counter<u64>,
    redelivered: Counter<u64>,
    dead_letters: Counter<u64>,
}

impl std::fmt::Debug for EventMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EventMetrics")
    }
}

impl EventMetrics {
    pub(crate) fn new() -> EventMetrics {
        let meter = opentelemetry::global::meter("vigie");
        EventMetrics {
            published: meter
                .u64_counter("vigie.events.published")
                .with_description("Events confirmed by the broker (or delivered in process) and marked published")
                .build(),
            consumed: meter
                .u64_counter("vigie.events.consumed")
                .with_description("Events processed by a consumer (outcome: applied or duplicate)")
                .build(),
            failed: meter
                .u64_counter("vigie.events.failed")
                .with_description(
                    "Failed publications and deliveries (reason: publish, transient, permanent, invalid, dead_letter)",
                )
                .build(),
            retries: meter
                .u64_counter("vigie.events.retries")
                .with_description(
                    "Deliveries that failed transiently and will be retried (forever, with capped backoff)",
                )
                .build(),
            redelivered: meter
                .u64_counter("vigie.events.redelivered")
                .with_description("Events delivered to a consumer again after a failed or unacknowledged delivery")
                .build(),
            dead_letters: meter
                .u64_counter("vigie.events.dead_letters")
                .with_description("Events stored as dead letters (permanent failures and unparseable messages)")
                .build(),
        }
    }

    pub(crate) fn retried(&self, event_type: &str, consumer: &str) {
        self.retries.add(
            1,
            &[
                KeyValue::new("event_type", event_type.to_owned()),
                KeyValue::new("consumer", consumer.to_owned()),
            ],
        );
    }

    pub(crate) fn redelivered(&self, event_type: &str, consumer: &str) {
        self.redelivered.add(
            1,
            &[
                KeyValue::new("event_type", event_type.to_owned()),
                KeyValue::new("consumer", consumer.to_owned()),
            ],
        );
    }

    /// Shows the consumer's dead-letter count at 0 from the start: an alert
    /// on `increase(…) > 0` cannot see a series that appears at 1.
    pub(crate) fn declare_consumer(&self, consumer: &str) {
        self.dead_letters
            .add(0, &[KeyValue::new("consumer", consumer.to_owned())]);
    }

    pub(crate) fn dead_lettered(&self, consumer: &str) {
        self.dead_letters
            .add(1, &[KeyValue::new("consumer", consumer.to_owned())]);
    }

    pub(crate) fn published(&self, event_type: &str) {
        self.published
            .add(1, &[KeyValue::new("event_type", event_type.to_owned())]);
    }

    pub(crate) fn consumed(&self, event_type: &str, consumer: &str, outcome: &'static str) {
        self.consumed.add(
            1,
            &[
                KeyValue::new("event_type", event_type.to_owned()),
                KeyValue::new("consumer", consumer.to_owned()),
                KeyValue::new("outcome", outcome),
            ],
        );
    }

    pub(crate) fn failed(&self, event_type: &str, consumer: &str, reason: &'static str) {
        self.failed.add(
            1,
            &[
                KeyValue::new("event_type", event_type.to_owned()),
                KeyValue::new("consumer", consumer.to_owned()),
                KeyValue::new("reason", reason),
            ],
        );
    }
}
