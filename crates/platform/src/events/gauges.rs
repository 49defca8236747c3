//! The backlog gauges of the backbone: `vigie.outbox.pending` and
//! `vigie.outbox.lag` (seconds) per outbox, `vigie.consumer.pending` and
//! `vigie.consumer.ack_pending` per JetStream consumer and stream.
//!
//! Their values need a query (the outbox table, the broker's consumer
//! info), which an observable gauge's callback cannot await: samplers run
//! at a low rate ([`OUTBOX_SAMPLE_INTERVAL`], [`CONSUMER_SAMPLE_INTERVAL`])
//! and store what they read on one process-wide board; the gauges, created
//! once with the board, read it when the metrics are collected. The lag is
//! computed at collection time from the oldest pending event's time, so it
//! keeps growing between samples while the relay is stuck.
//!
//! Attributes are fixed names only: the outbox's service, the consumer and
//! stream names.

use std::collections::BTreeMap;
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use opentelemetry::metrics::ObservableGauge;
use opentelemetry::KeyValue;
use sqlx::Row;
use tokio_util::sync::CancellationToken;

use crate::db::{Db, DbError};

/// How often each relay reads the size and age of its outbox backlog.
pub const OUTBOX_SAMPLE_INTERVAL: Duration = Duration::from_secs(5);
/// How often each JetStream consumer asks the broker for its backlog.
pub const CONSUMER_SAMPLE_INTERVAL: Duration = Duration::from_secs(10);

/// What the outbox of one service holds unpublished.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct OutboxBacklog {
    /// Committed, unpublished events.
    pub(crate) pending: i64,
    /// Time of the oldest of them.
    pub(crate) oldest: Option<DateTime<Utc>>,
}

impl OutboxBacklog {
    /// Age of the oldest pending event at `now`, in seconds (0 when none).
    pub(crate) fn lag_seconds(&self, now: DateTime<Utc>) -> f64 {
        self.oldest
            .map_or(0.0, |oldest| ((now - oldest).num_milliseconds().max(0) as f64) / 1000.0)
    }
}

/// A JetStream consumer's backlog as the broker reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct ConsumerBacklog {
    /// Messages of the stream not yet delivered to the consumer.
    pub(crate) pending: u64,
    /// Delivered, not acknowledged yet (in progress or waiting for a retry).
    pub(crate) ack_pending: u64,
}

struct Values {
    outboxes: BTreeMap<String, OutboxBacklog>,
    consumers: BTreeMap<(String, String), ConsumerBacklog>,
}

/// The latest samples, read by the gauges' callbacks.
static VALUES: Mutex<Values> = Mutex::new(Values {
    outboxes: BTreeMap::new(),
    consumers: BTreeMap::new(),
});

/// The figures (a poisoned lock still holds valid ones).
fn values() -> std::sync::MutexGuard<'static, Values> {
    VALUES.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The observable gauges, created once, from the global meter provider
/// installed at start-up; kept so their callbacks live as long as the process.
struct Gauges {
    _float: Vec<ObservableGauge<f64>>,
    _int: Vec<ObservableGauge<u64>>,
}

fn ensure_gauges() {
    static GAUGES: OnceLock<Gauges> = OnceLock::new();
    GAUGES.get_or_init(|| {
        let meter = opentelemetry::global::meter("vigie");
        let pending = meter
            .u64_observable_gauge("vigie.outbox.pending")
            .with_description("Committed events not yet published by the relay (per outbox: the producing service)")
            .with_callback(|observer| {
                for (outbox, backlog) in &values().outboxes {
                    observer.observe(
                        u64::try_from(backlog.pending).unwrap_or(0),
                        &[KeyValue::new("outbox", outbox.clone())],
                    );
                }
            })
            .build();
        let lag = meter
            .f64_observable_gauge("vigie.outbox.lag")
            .with_unit("s")
            .with_description("Age of the oldest event not yet published (0 when the outbox is drained)")
            .with_callback(|observer| {
                let now = Utc::now();
                for (outbox, backlog) in &values().outboxes {
                    observer.observe(backlog.lag_seconds(now), &[KeyValue::new("outbox", outbox.clone())]);
                }
            })
            .build();
        let consumer_pending = meter
            .u64_observable_gauge("vigie.consumer.pending")
            .with_description("Messages of the stream not yet delivered to the JetStream consumer")
            .with_callback(|observer| {
                for ((consumer, stream), backlog) in &values().consumers {
                    observer.observe(backlog.pending, &consumer_attributes(consumer, stream));
                }
            })
            .build();
        let ack_pending = meter
            .u64_observable_gauge("vigie.consumer.ack_pending")
            .with_description(
                "Messages delivered to the JetStream consumer and not acknowledged yet (in progress or retried)",
            )
            .with_callback(|observer| {
                for ((consumer, stream), backlog) in &values().consumers {
                    observer.observe(backlog.ack_pending, &consumer_attributes(consumer, stream));
                }
            })
            .build();
        Gauges {
            _float: vec![lag],
            _int: vec![pending, consumer_pending, ack_pending],
        }
    });
}

fn consumer_attributes(consumer: &str, stream: &str) -> [KeyValue; 2] {
    [
        KeyValue::new("consumer", consumer.to_owned()),
        KeyValue::new("stream", stream.to_owned()),
    ]
}

/// Records the backlog of the outbox of `outbox` (a service name).
pub(crate) fn set_outbox(outbox: &str, backlog: OutboxBacklog) {
    ensure_gauges();
    values().outboxes.insert(outbox.to_owned(), backlog);
}

/// Records the backlog of JetStream consumer `consumer` on `stream`.
pub(crate) fn set_consumer(consumer: &str, stream: &str, backlog: ConsumerBacklog) {
    ensure_gauges();
    values()
        .consumers
        .insert((consumer.to_owned(), stream.to_owned()), backlog);
}

/// Size and oldest time of the unpublished part of the outbox in `db`:
/// two reads of the partial index on pending rows.
///
/// # Errors
/// [`DbError`] on a database error.
pub(crate) async fn read_outbox_backlog(db: &Db) -> Result<OutboxBacklog, DbError> {
    let row = sqlx::query(
        "SELECT (SELECT COUNT(*) FROM vigie_outbox WHERE published_at IS NULL), \
         (SELECT event_time FROM vigie_outbox WHERE published_at IS NULL ORDER BY seq LIMIT 1)",
    )
    .fetch_one(db.pool())
    .await?;
    let pending: i64 = row.try_get(0)?;
    let oldest: Option<String> = row.try_get(1)?;
    let oldest = oldest
        .map(|time| {
            DateTime::parse_from_rfc3339(&time)
                .map(|time| time.with_timezone(&Utc))
                .map_err(|error| DbError::Invalid(format!("outbox time {time:?}: {error}")))
        })
        .transpose()?;
    Ok(OutboxBacklog { pending, oldest })
}

/// Samples the outbox of `db` for the gauges every
/// [`OUTBOX_SAMPLE_INTERVAL`] until `shutdown`.
pub(crate) async fn sample_outbox(db: Db, outbox: String, shutdown: CancellationToken) {
    loop {
        match read_outbox_backlog(&db).await {
            Ok(backlog) => set_outbox(&outbox, backlog),
            Err(error) => tracing::debug!(%error, "outbox backlog not sampled"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(OUTBOX_SAMPLE_INTERVAL) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lag_is_the_age_of_the_oldest_pending_event() {
        let now = Utc::now();
        assert_eq!(OutboxBacklog::default().lag_seconds(now), 0.0);
        let backlog = OutboxBacklog {
            pending: 3,
            oldest: Some(now - chrono::TimeDelta::milliseconds(2_500)),
        };
        assert_eq!(backlog.lag_seconds(now), 2.5);
        // A clock step backwards never shows a negative lag.
        let future = OutboxBacklog {
            pending: 1,
            oldest: Some(now + chrono::TimeDelta::seconds(5)),
        };
        assert_eq!(future.lag_seconds(now), 0.0);
    }
}
