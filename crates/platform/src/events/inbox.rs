//! Idempotent consumers: the inbox pattern.
//!
//! Every broker worth using delivers at least once: a consumer can crash
//! after committing and before acknowledging, an ack can be lost, a relay
//! can publish twice. So a [`Consumer`] records the event id in
//! `vigie_inbox(consumer, event_id)` in the SAME transaction as the
//! handler's effects. Either both commit — and any redelivery finds the row
//! and is a harmless [`Outcome::Duplicate`] — or neither does, and the
//! redelivery applies the event normally. "Exactly once" holds for the
//! effects, which is what matters.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use async_trait::async_trait;
use futures::FutureExt;
use sqlx::{Any, Transaction};
use tracing::Instrument;

use super::envelope::{format_time, now};
use super::metrics::EventMetrics;
use super::{subject, trace, Envelope};
use crate::db::{Db, DbError};

/// Reacts to events, inside the consumer's database transaction.
#[async_trait]
pub trait EventHandler: Send + Sync + 'static {
    /// Durable name, e.g. `training-inventory` (`<consuming service>-<producer>`):
    /// the JetStream durable consumer and the inbox key. ASCII letters,
    /// digits, `-` and `_` only. Never rename a deployed consumer: it would
    /// receive every retained event again (harmlessly, but slowly).
    fn name(&self) -> &str;

    /// Event types (NATS subjects, wildcards allowed) the handler wants.
    fn event_types(&self) -> Vec<String>;

    /// Applies `envelope` using `tx` only; the inbox row is in the same
    /// transaction, committed after this returns `Ok`.
    ///
    /// # Errors
    /// [`HandlerError::Transient`] to retry later (the database was busy, a
    /// dependency is down…); [`HandlerError::Permanent`] when retrying cannot
    /// help (undecodable payload, invariant violated): the event goes to the
    /// dead letters.
    async fn handle(&self, tx: &mut Transaction<'_, Any>, envelope: &Envelope) -> Result<(), HandlerError>;

    /// Runs once `envelope`'s transaction is committed on `db` (never for a
    /// duplicate): work that cannot run inside it, such as the WAL
    /// checkpoint and file removals that complete an erasure. Best effort:
    /// failures are the handler's to log, the event stays applied.
    async fn after_commit(&self, db: &Db, envelope: &Envelope) {
        let _ = (db, envelope);
    }
}

/// Why a handler did not apply an event.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// May succeed later: retried with backoff, a bounded number of times.
    #[error("transient failure: {0:#}")]
    Transient(anyhow::Error),
    /// Will never succeed (poison): not retried, dead-lettered.
    #[error("permanent failure: {0:#}")]
    Permanent(anyhow::Error),
}

impl HandlerError {
    /// A [`HandlerError::Transient`] from any error.
    pub fn transient(error: impl Into<anyhow::Error>) -> HandlerError {
        HandlerError::Transient(error.into())
    }

    /// A [`HandlerError::Permanent`] from any error.
    pub fn permanent(error: impl Into<anyhow::Error>) -> HandlerError {
        HandlerError::Permanent(error.into())
    }

    /// Whether retrying may help.
    pub fn is_transient(&self) -> bool {
        matches!(self, HandlerError::Transient(_))
    }
}

/// Database errors are transient by default (locks, connections, restarts).
impl From<sqlx::Error> for HandlerError {
    fn from(error: sqlx::Error) -> Self {
        HandlerError::Transient(error.into())
    }
}

/// Database errors are transient by default (locks, connections, restarts).
impl From<DbError> for HandlerError {
    fn from(error: DbError) -> Self {
        HandlerError::Transient(error.into())
    }
}

/// What [`Consumer::process`] did with an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The handler ran and its effects committed with the inbox row.
    Applied,
    /// The event was already processed by this consumer: nothing done.
    Duplicate,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Applied => "applied",
            Outcome::Duplicate => "duplicate",
        }
    }
}

/// A handler bound to the consumer service's database; cheap to clone. The
/// transport adapters (JetStream, embedded) feed it envelopes.
#[derive(Clone)]
pub struct Consumer {
    db: Db,
    handler: Arc<dyn EventHandler>,
    metrics: EventMetrics,
}

impl std::fmt::Debug for Consumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Consumer")
            .field("name", &self.handler.name())
            .finish_non_exhaustive()
    }
}

impl Consumer {
    /// Binds `handler` to `db` (migrated with `events::MIGRATIONS`).
    pub fn new(db: Db, handler: Arc<dyn EventHandler>) -> Consumer {
        Consumer {
            db,
            handler,
            metrics: EventMetrics::new(),
        }
    }

    /// The handler's durable name.
    pub fn name(&self) -> &str {
        self.handler.name()
    }

    /// The event types (patterns) the handler wants.
    pub fn event_types(&self) -> Vec<String> {
        self.handler.event_types()
    }

    /// Whether the handler wants events of `event_type`.
    pub fn wants(&self, event_type: &str) -> bool {
        self.handler
            .event_types()
            .iter()
            .any(|pattern| subject::subject_matches(pattern, event_type))
    }

    /// The consumer's database.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Applies `envelope` once: in one transaction on the consumer's
    /// database, inserts the inbox row `(consumer, event id)` and, if it was
    /// new, runs the handler; commits both together. A handler panic rolls
    /// back and counts as a transient failure.
    ///
    /// # Errors
    /// The handler's [`HandlerError`]; database failures are transient.
    /// Nothing is committed on error.
    pub async fn process(&self, envelope: &Envelope) -> Result<Outcome, HandlerError> {
        let span = tracing::info_span!(
            "consume event",
            otel.kind = "consumer",
            consumer = %self.name(),
            event_type = %envelope.event_type,
            event_id = %envelope.id,
        );
        trace::set_parent(&span, envelope.traceparent.as_deref());
        let result = self.process_in_transaction(envelope).instrument(span).await;
        match &result {
            Ok(outcome) => self
                .metrics
                .consumed(&envelope.event_type, self.name(), outcome.as_str()),
            Err(error) => {
                let reason = if error.is_transient() { "transient" } else { "permanent" };
                self.metrics.failed(&envelope.event_type, self.name(), reason);
            }
        }
        result
    }

    async fn process_in_transaction(&self, envelope: &Envelope) -> Result<Outcome, HandlerError> {
        let mut tx = self.db.begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO vigie_inbox (consumer, event_id, event_type, processed_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (consumer, event_id) DO NOTHING",
        )
        .bind(self.name())
        .bind(envelope.id.to_string())
        .bind(&envelope.event_type)
        .bind(format_time(&now()))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            tx.rollback().await?;
            tracing::debug!("event already processed, skipped");
            return Ok(Outcome::Duplicate);
        }
        let handled = AssertUnwindSafe(self.handler.handle(&mut tx, envelope))
            .catch_unwind()
            .await;
        match handled {
            Ok(Ok(())) => {}
            Ok(Err(error)) => return Err(error),
            Err(panic) => {
                return Err(HandlerError::Transient(anyhow::anyhow!(
                    "handler panicked: {}",
                    panic_message(&panic)
                )))
            }
        }
        tx.commit().await?;
        self.handler.after_commit(&self.db, envelope).await;
        Ok(Outcome::Applied)
    }

    /// Records `envelope` as a dead letter of this consumer in its database
    /// (`vigie_dead_letters`), together with its inbox row so that a
    /// redelivery is a duplicate. Used by the embedded bus; idempotent.
    ///
    /// # Errors
    /// [`DbError::Sqlx`] on a database error (nothing recorded).
    pub async fn dead_letter(&self, envelope: &Envelope, error: &str) -> Result<(), DbError> {
        let failed_at = format_time(&now());
        let mut tx = self.db.begin().await?;
        sqlx::query(
            "INSERT INTO vigie_inbox (consumer, event_id, event_type, processed_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (consumer, event_id) DO NOTHING",
        )
        .bind(self.name())
        .bind(envelope.id.to_string())
        .bind(&envelope.event_type)
        .bind(&failed_at)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO vigie_dead_letters \
             (consumer, event_id, source, event_type, subject, event_time, traceparent, payload, error, failed_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (consumer, event_id) DO NOTHING",
        )
        .bind(self.name())
        .bind(envelope.id.to_string())
        .bind(&envelope.source)
        .bind(&envelope.event_type)
        .bind(&envelope.subject)
        .bind(format_time(&envelope.time))
        .bind(envelope.traceparent.clone())
        .bind(envelope.payload.to_vec())
        .bind(error)
        .bind(&failed_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.metrics.failed(&envelope.event_type, self.name(), "dead_letter");
        Ok(())
    }

    pub(crate) fn metrics(&self) -> &EventMetrics {
        &self.metrics
    }
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(message) = panic.downcast_ref::<&str>() {
        (*message).to_owned()
    } else if let Some(message) = panic.downcast_ref::<String>() {
        message.clone()
    } else {
        "non-string panic payload".to_owned()
    }
}
