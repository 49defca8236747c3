//! The transactional outbox: events are rows written in the producer's own
//! transaction.
//!
//! Publishing to a broker inside a database transaction cannot be atomic:
//! either the commit or the publish can fail after the other succeeded. So
//! the producer only INSERTs the event next to its state change — both
//! commit or neither does — and the [`Relay`](super::Relay) publishes
//! committed rows afterwards, at least once. The outbox is the system of
//! record: an event exists once its row is committed.

use bytes::Bytes;
use chrono::{DateTime, Utc};
use sqlx::{Any, Row, Transaction};
use uuid::Uuid;

use super::envelope::{format_time, now, Envelope};
use super::{subject, trace};
use crate::db::{Db, DbError};

/// Longest `last_error` kept on an outbox row.
const MAX_ERROR_LEN: usize = 1_000;

/// An event to append: what the producer knows. Id, time, source and trace
/// context are filled in by [`Outbox::append`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventDraft {
    /// Event type and NATS subject, e.g. `vigie.inventory.structure.inventoried.v1`.
    pub event_type: String,
    /// `ce-subject`: id of the entity concerned.
    pub subject: String,
    /// Protobuf-encoded event.
    pub payload: Bytes,
}

impl EventDraft {
    /// A draft from its parts.
    pub fn new(
        event_type: impl Into<String>,
        subject: impl Into<String>,
        payload: impl Into<Bytes>,
    ) -> EventDraft {
        EventDraft {
            event_type: event_type.into(),
            subject: subject.into(),
            payload: payload.into(),
        }
    }

    /// A draft whose payload is `message`, protobuf-encoded.
    pub fn protobuf(
        event_type: impl Into<String>,
        subject: impl Into<String>,
        message: &impl prost::Message,
    ) -> EventDraft {
        EventDraft::new(event_type, subject, message.encode_to_vec())
    }
}

/// Appends events of one producing service (its `ce-source`).
#[derive(Debug, Clone)]
pub struct Outbox {
    source: String,
}

impl Outbox {
    /// An outbox for events of `source`, e.g. `/vigie/inventory`.
    pub fn new(source: impl Into<String>) -> Outbox {
        Outbox {
            source: source.into(),
        }
    }

    /// The `ce-source` of the events appended.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Appends `draft` in the caller's transaction and returns the event id.
    ///
    /// The event is committed — and will be published — if and only if `tx`
    /// commits. The current span's W3C `traceparent` (when an OpenTelemetry
    /// layer is installed) is recorded so the trace continues in consumers.
    /// Call the relay's `notify()` after committing for prompt publication.
    ///
    /// # Errors
    /// [`DbError::Invalid`] when the event type is not a literal NATS subject
    /// or the source or subject is empty or holds control characters;
    /// [`DbError::Sqlx`] when the insert fails (e.g. missing migrations).
    pub async fn append(
        &self,
        tx: &mut Transaction<'_, Any>,
        draft: EventDraft,
    ) -> Result<Uuid, DbError> {
        subject::validate_event_type(&draft.event_type).map_err(DbError::Invalid)?;
        check_attribute("source", &self.source)?;
        check_attribute("subject", &draft.subject)?;
        let id = Uuid::now_v7();
        sqlx::query(
            "INSERT INTO vigie_outbox (id, source, event_type, subject, event_time, traceparent, payload) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id.to_string())
        .bind(&self.source)
        .bind(&draft.event_type)
        .bind(&draft.subject)
        .bind(format_time(&now()))
        .bind(trace::current_traceparent())
        .bind(draft.payload.to_vec())
        .execute(&mut **tx)
        .await?;
        Ok(id)
    }

    /// How many committed events are not published yet (the relay's lag).
    ///
    /// # Errors
    /// [`DbError::Sqlx`] on a database error.
    pub async fn pending(db: &Db) -> Result<i64, DbError> {
        let row = sqlx::query("SELECT COUNT(*) FROM vigie_outbox WHERE published_at IS NULL")
            .fetch_one(db.pool())
            .await?;
        Ok(row.try_get(0)?)
    }

    /// Deletes events published before `before` (housekeeping; the broker
    /// and the consumers' inboxes keep what they need) and returns how many
    /// rows went.
    ///
    /// # Errors
    /// [`DbError::Sqlx`] on a database error.
    pub async fn prune_published(db: &Db, before: DateTime<Utc>) -> Result<u64, DbError> {
        let result = sqlx::query(
            "DELETE FROM vigie_outbox WHERE published_at IS NOT NULL AND published_at < $1",
        )
        .bind(format_time(&before))
        .execute(db.pool())
        .await?;
        Ok(result.rows_affected())
    }
}

fn check_attribute(name: &str, value: &str) -> Result<(), DbError> {
    if value.trim().is_empty() {
        return Err(DbError::Invalid(format!("event {name} is empty")));
    }
    if value.chars().any(char::is_control) {
        return Err(DbError::Invalid(format!(
            "event {name} holds control characters"
        )));
    }
    Ok(())
}

/// A committed, unpublished outbox row.
#[derive(Debug, Clone)]
pub(crate) struct PendingEvent {
    pub(crate) seq: i64,
    pub(crate) attempts: i64,
    pub(crate) envelope: Envelope,
}

/// The oldest `limit` unpublished events, in `seq` order.
pub(crate) async fn fetch_pending(db: &Db, limit: i64) -> Result<Vec<PendingEvent>, DbError> {
    let rows = sqlx::query(
        "SELECT seq, id, source, event_type, subject, event_time, traceparent, payload, attempts \
         FROM vigie_outbox WHERE published_at IS NULL ORDER BY seq LIMIT $1",
    )
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(decode_pending).collect()
}

fn decode_pending(row: &sqlx::any::AnyRow) -> Result<PendingEvent, DbError> {
    let id: String = row.try_get("id")?;
    let time: String = row.try_get("event_time")?;
    let payload: Vec<u8> = row.try_get("payload")?;
    let envelope = Envelope {
        id: Uuid::parse_str(&id)
            .map_err(|error| DbError::Invalid(format!("outbox id {id:?}: {error}")))?,
        source: row.try_get("source")?,
        event_type: row.try_get("event_type")?,
        subject: row.try_get("subject")?,
        time: DateTime::parse_from_rfc3339(&time)
            .map_err(|error| DbError::Invalid(format!("outbox time {time:?}: {error}")))?
            .with_timezone(&Utc),
        traceparent: row.try_get("traceparent")?,
        payload: Bytes::from(payload),
    };
    Ok(PendingEvent {
        seq: row.try_get("seq")?,
        attempts: row.try_get("attempts")?,
        envelope,
    })
}

/// Marks an event published, after the broker confirmed it.
pub(crate) async fn mark_published(db: &Db, seq: i64) -> Result<(), DbError> {
    sqlx::query("UPDATE vigie_outbox SET published_at = $1, last_error = NULL WHERE seq = $2")
        .bind(format_time(&now()))
        .bind(seq)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// Records a failed publication attempt; the row stays pending.
pub(crate) async fn record_failure(db: &Db, seq: i64, error: &str) -> Result<(), DbError> {
    let error: String = error.chars().take(MAX_ERROR_LEN).collect();
    sqlx::query("UPDATE vigie_outbox SET attempts = attempts + 1, last_error = $1 WHERE seq = $2")
        .bind(error)
        .bind(seq)
        .execute(db.pool())
        .await?;
    Ok(())
}
