//! Delivery counters of the reminders: `vigie.reminders.sent`,
//! `vigie.reminders.failed` and `vigie.reminders.late`, by `channel`
//! (`email`, `webhook`).
//!
//! They count messages — a message is the digest of one address's reminders
//! of the day, or a notice — as the dispatcher hands them over:
//! - sent: the channel accepted it (SMTP relay, webhook 2xx, or the `.eml`
//!   file of `vigie dev`);
//! - failed: given up for good (a permanent refusal, or
//!   [`MAX_ATTEMPTS`](super::dispatch::MAX_ATTEMPTS) transient ones): alert
//!   on any increase, someone did not get their reminder;
//! - late: sent, but later than planned by more than [`LATE_GRACE`] (one
//!   hour) — a reminder in it was claimed late (the service was down when it
//!   fell due), or the message waited that long for its channel (retries).
//!   Reminders due before their call was even imported are caught up, not
//!   late (same rule as the `late` flag of the send log).

use chrono::{DateTime, Utc};
use opentelemetry::metrics::Counter;
use opentelemetry::KeyValue;
use vigie_alerting_domain::reminders::LATE_GRACE;

/// Whether a message created (claimed) at `created_at`, holding a reminder
/// already flagged late at claim time when `claimed_late`, is late when sent
/// at `sent_at`.
pub fn sent_late(created_at: DateTime<Utc>, claimed_late: bool, sent_at: DateTime<Utc>) -> bool {
    claimed_late || sent_at - created_at > LATE_GRACE
}

/// The three counters; cheap to clone.
#[derive(Clone)]
pub(crate) struct DeliveryMetrics {
    sent: Counter<u64>,
    failed: Counter<u64>,
    late: Counter<u64>,
}

impl DeliveryMetrics {
    /// Instruments of the global meter provider (no-ops without one).
    pub(crate) fn new() -> DeliveryMetrics {
        let meter = opentelemetry::global::meter("vigie");
        let metrics = DeliveryMetrics {
            sent: meter
                .u64_counter("vigie.reminders.sent")
                .with_description("Reminder messages (digests, notices) accepted by their channel")
                .build(),
            failed: meter
                .u64_counter("vigie.reminders.failed")
                .with_description("Reminder messages given up (permanent refusal or attempts exhausted)")
                .build(),
            late: meter
                .u64_counter("vigie.reminders.late")
                .with_description("Reminder messages sent more than an hour after they were due")
                .build(),
        };
        // Every series at 0 from the start: an alert on `increase(…) > 0`
        // cannot see a series that appears at 1.
        for channel in ["email", "webhook"] {
            let attributes = [KeyValue::new("channel", channel)];
            metrics.sent.add(0, &attributes);
            metrics.failed.add(0, &attributes);
            metrics.late.add(0, &attributes);
        }
        metrics
    }

    pub(crate) fn sent(&self, channel: &str, late: bool) {
        let attributes = [KeyValue::new("channel", channel_label(channel))];
        self.sent.add(1, &attributes);
        if late {
            self.late.add(1, &attributes);
        }
    }

    pub(crate) fn failed(&self, channel: &str) {
        self.failed.add(1, &[KeyValue::new("channel", channel_label(channel))]);
    }
}

/// The channel as a label: the two known ones, `other` for anything else
/// (a stored value is never trusted to stay low-cardinality).
fn channel_label(channel: &str) -> &'static str {
    match channel {
        "email" => "email",
        "webhook" => "webhook",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn late_past_one_hour_or_when_claimed_late() {
        let created = DateTime::parse_from_rfc3339("2026-03-01T08:00:00Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default();
        let minutes = |m| created + chrono::TimeDelta::minutes(m);
        assert!(!sent_late(created, false, minutes(0)));
        assert!(!sent_late(created, false, minutes(60)));
        assert!(sent_late(created, false, minutes(61)));
        assert!(sent_late(created, true, minutes(0)));
    }

    #[test]
    fn channel_labels_stay_few() {
        assert_eq!(channel_label("email"), "email");
        assert_eq!(channel_label("webhook"), "webhook");
        assert_eq!(channel_label("sms:+33…"), "other");
    }
}
