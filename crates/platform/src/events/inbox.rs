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

mod batch;

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use async_trait::async_trait;
use futures::FutureExt;
use sqlx::{Any, Row, Transaction};
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

    /// Applies `envelopes`, in this order, using `tx` only: what
    /// [`Consumer::process_batch`] calls with the events of a batch that are
    /// new to this consumer, their inbox rows in the same transaction.
    ///
    /// The default calls [`EventHandler::handle`] for each; a handler whose
    /// per-event statements dominate overrides it with multi-row
    /// statements, with the same final effect as handling them one by one.
    ///
    /// # Errors
    /// As [`EventHandler::handle`], for the whole batch: a transient error
    /// retries the whole batch; a permanent one makes the consumer apply
    /// the events one by one, so that only the poison event is
    /// dead-lettered.
    async fn handle_batch(&self, tx: &mut Transaction<'_, Any>, envelopes: &[&Envelope]) -> Result<(), HandlerError> {
        for envelope in envelopes {
            self.handle(tx, envelope).await?;
        }
        Ok(())
    }

    /// Runs once `envelope`'s transaction is committed on `db` (never for a
    /// duplicate): work that cannot run inside it, such as the WAL
    /// checkpoint and file removals that complete an erasure. Best effort:
    /// failures are the handler's to log, the event stays applied.
    async fn after_commit(&self, db: &Db, envelope: &Envelope) {
        let _ = (db, envelope);
    }
}

/// Why a handler did not apply an event — the one classification both
/// transports act on.
///
/// | cause | class | what happens |
/// |---|---|---|
/// | database error (connection lost, lock, timeout, restart) | transient | retried forever, capped backoff |
/// | a dependency down, a handler panic | transient | retried forever |
/// | payload that does not decode, unknown schema, missing field | permanent | dead letter at once |
/// | a handler's own invariant violated | permanent | dead letter at once |
///
/// When in doubt, a handler answers transient: a stuck event shows in the
/// logs and `vigie.events.retries` and goes through once fixed, while a
/// dead letter needs an operator. Erasure handlers in particular only
/// answer permanent for a payload they cannot decode.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// May succeed later: retried with capped backoff, without limit.
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

/// A payload that does not decode will never decode: permanent.
impl From<prost::DecodeError> for HandlerError {
    fn from(error: prost::DecodeError) -> Self {
        HandlerError::Permanent(anyhow::Error::new(error).context("undecodable payload"))
    }
}

/// Database errors are transient by default (locks, connections, restarts).
impl From<DbError> for HandlerError {
    fn from(error: DbError) -> Self {
        HandlerError::Transient(error.into())
    }
}

/// What [`Consumer::replay_dead_letter`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplayOutcome {
    /// Applied (or found already applied): the dead letter is gone.
    Applied,
    /// The handler failed permanently again; the dead letter stays, with
    /// this reason.
    FailedAgain(String),
}

/// Why a replay did not complete (the request stays).
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// No dead letter of this consumer for this event.
    #[error("no such dead letter")]
    NotFound,
    /// The consumer's database failed.
    #[error("database error during the replay")]
    Db(#[from] DbError),
    /// The handler failed transiently; retried at the next pass.
    #[error("transient failure: {0:#}")]
    Transient(anyhow::Error),
}

impl From<sqlx::Error> for ReplayError {
    fn from(error: sqlx::Error) -> Self {
        ReplayError::Db(DbError::Sqlx(error))
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
        let metrics = EventMetrics::new();
        metrics.declare_consumer(handler.name());
        Consumer { db, handler, metrics }
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
            "consumer.process",
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
        let outcome = self.apply_in(&mut tx, envelope).await?;
        match outcome {
            Outcome::Applied => {
                tx.commit().await?;
                self.handler.after_commit(&self.db, envelope).await;
            }
            Outcome::Duplicate => {
                tx.rollback().await?;
                tracing::debug!("event already processed, skipped");
            }
        }
        Ok(outcome)
    }

    /// Inserts the inbox row and, if it was new, runs the handler, in `tx`
    /// (not committed).
    async fn apply_in(&self, tx: &mut Transaction<'static, Any>, envelope: &Envelope) -> Result<Outcome, HandlerError> {
        let inserted = sqlx::query(
            "INSERT INTO vigie_inbox (consumer, event_id, event_type, processed_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (consumer, event_id) DO NOTHING",
        )
        .bind(self.name())
        .bind(envelope.id.to_string())
        .bind(&envelope.event_type)
        .bind(format_time(&now()))
        .execute(&mut **tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            return Ok(Outcome::Duplicate);
        }
        guarded(self.handler.handle(tx, envelope)).await?;
        Ok(Outcome::Applied)
    }

    /// Re-delivers this consumer's dead letter for `event_id` (embedded
    /// mode), once: in one transaction, removes the dead letter and its
    /// inbox row, then applies the event as [`Consumer::process`] does.
    ///
    /// - applied: committed, the dead letter is gone;
    /// - permanent failure again: rolled back; the dead letter stays with
    ///   the new error, one more delivery, and no replay request;
    /// - transient failure: rolled back, the request stays (the caller
    ///   retries later) and the error is returned.
    ///
    /// # Errors
    /// [`ReplayError`] on a database error or a transient failure;
    /// [`ReplayError::NotFound`] when there is no such dead letter.
    pub async fn replay_dead_letter(&self, event_id: uuid::Uuid) -> Result<ReplayOutcome, ReplayError> {
        let Some(envelope) = self.load_dead_letter(event_id).await? else {
            return Err(ReplayError::NotFound);
        };
        let mut tx = self.db.begin().await?;
        for table in ["vigie_dead_letters", "vigie_inbox"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE consumer = $1 AND event_id = $2"))
                .bind(self.name())
                .bind(event_id.to_string())
                .execute(&mut *tx)
                .await?;
        }
        match self.apply_in(&mut tx, &envelope).await {
            Ok(_) => {
                tx.commit().await?;
                self.handler.after_commit(&self.db, &envelope).await;
                self.metrics.consumed(&envelope.event_type, self.name(), "replayed");
                tracing::info!(consumer = %self.name(), event_id = %event_id, "dead letter replayed");
                Ok(ReplayOutcome::Applied)
            }
            Err(HandlerError::Permanent(error)) => {
                tx.rollback().await?;
                let reason = format!("permanent failure: {error:#}");
                sqlx::query(
                    "UPDATE vigie_dead_letters SET error = $1, failed_at = $2, deliveries = deliveries + 1, \
                     replay_requested_at = NULL WHERE consumer = $3 AND event_id = $4",
                )
                .bind(&reason)
                .bind(format_time(&now()))
                .bind(self.name())
                .bind(event_id.to_string())
                .execute(self.db.pool())
                .await?;
                tracing::error!(consumer = %self.name(), event_id = %event_id, reason = %reason, "replayed dead letter failed again");
                Ok(ReplayOutcome::FailedAgain(reason))
            }
            Err(HandlerError::Transient(error)) => {
                tx.rollback().await?;
                self.metrics.retried(&envelope.event_type, self.name());
                Err(ReplayError::Transient(error))
            }
        }
    }

    async fn load_dead_letter(&self, event_id: uuid::Uuid) -> Result<Option<Envelope>, DbError> {
        let row = sqlx::query(
            "SELECT source, event_type, subject, event_time, traceparent, payload FROM vigie_dead_letters \
             WHERE consumer = $1 AND event_id = $2",
        )
        .bind(self.name())
        .bind(event_id.to_string())
        .fetch_optional(self.db.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let time: String = row.try_get(3)?;
        let payload: Vec<u8> = row.try_get(5)?;
        Ok(Some(Envelope {
            id: event_id,
            source: row.try_get(0)?,
            event_type: row.try_get(1)?,
            subject: row.try_get(2)?,
            time: chrono::DateTime::parse_from_rfc3339(&time)
                .map_err(|error| DbError::Invalid(format!("dead letter time {time:?}: {error}")))?
                .with_timezone(&chrono::Utc),
            traceparent: row.try_get(4)?,
            payload: bytes::Bytes::from(payload),
        }))
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
        self.metrics.dead_lettered(self.name());
        Ok(())
    }

    pub(crate) fn metrics(&self) -> &EventMetrics {
        &self.metrics
    }
}

/// Runs a handler's future; a panic becomes a transient failure (the
/// transaction is rolled back by the caller).
async fn guarded(handling: impl std::future::Future<Output = Result<(), HandlerError>>) -> Result<(), HandlerError> {
    match AssertUnwindSafe(handling).catch_unwind().await {
        Ok(result) => result,
        Err(panic) => Err(HandlerError::Transient(anyhow::anyhow!(
            "handler panicked: {}",
            panic_message(&panic)
        ))),
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
