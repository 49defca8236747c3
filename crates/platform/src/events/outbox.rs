//! The transactional outbox: events are rows written in the producer's own
//! transaction.
//!
//! Publishing to a broker inside a database transaction cannot be atomic:
//! either the commit or the publish can fail after the other succeeded. So
//! the producer only INSERTs the event next to its state change — both
//! commit or neither does — and the [`Relay`](super::Relay) publishes
//! committed rows afterwards, at least once. The outbox is the system of
//! record: an event exists once its row is committed.
//!
//! [`Outbox::append_many`] appends many events at once (an import) with
//! multi-row INSERTs, in the order given; the relay marks a whole batch of
//! confirmed rows with one UPDATE listing their `seq`s.

use bytes::Bytes;
use chrono::{DateTime, Utc};
use sqlx::{Any, Row, Transaction};
use tracing::Instrument;
use uuid::Uuid;

use super::envelope::{format_time, now, Envelope};
use super::{subject, trace};
use crate::db::multi_row::Placeholders;
use crate::db::{Db, DbError};

/// Longest `last_error` kept on an outbox row.
const MAX_ERROR_LEN: usize = 1_000;
/// Bound parameters of one statement: below SQLite's limit (32,766) and
/// PostgreSQL's (65,535).
pub(crate) const MAX_BOUND_PARAMETERS: usize = 30_000;
/// Rows of one multi-row INSERT.
const MAX_ROWS_PER_INSERT: usize = 500;
/// Columns bound per outbox row.
const INSERT_COLUMNS: usize = 7;
const INSERT_ROWS: usize = {
    let by_parameters = MAX_BOUND_PARAMETERS / INSERT_COLUMNS;
    if by_parameters < MAX_ROWS_PER_INSERT {
        by_parameters
    } else {
        MAX_ROWS_PER_INSERT
    }
};

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
    pub fn new(event_type: impl Into<String>, subject: impl Into<String>, payload: impl Into<Bytes>) -> EventDraft {
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
        Outbox { source: source.into() }
    }

    /// The `ce-source` of the events appended.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Appends `draft` in the caller's transaction and returns the event id.
    ///
    /// The event is committed — and will be published — if and only if `tx`
    /// commits. The insert runs in an `outbox.append` span, child of the
    /// current one, whose W3C `traceparent` (when an OpenTelemetry layer is
    /// installed) is recorded so the trace continues in consumers.
    /// Call the relay's `notify()` after committing for prompt publication.
    ///
    /// # Errors
    /// [`DbError::Invalid`] when the event type is not a literal NATS subject
    /// or the source or subject is empty or holds control characters;
    /// [`DbError::Sqlx`] when the insert fails (e.g. missing migrations).
    pub async fn append(&self, tx: &mut Transaction<'_, Any>, draft: EventDraft) -> Result<Uuid, DbError> {
        self.validate(&draft)?;
        let span = append_span(1, Some(&draft.event_type));
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
        .bind(trace::traceparent_of(&span))
        .bind(draft.payload.to_vec())
        .execute(&mut **tx)
        .instrument(span)
        .await?;
        Ok(id)
    }

    /// Appends `drafts` in the caller's transaction, in this order (their
    /// `seq`s increase along the list, hence so does their publication
    /// order), and returns their ids in the same order.
    ///
    /// Same contract as [`Outbox::append`], for many events at a time (an
    /// import): every draft is validated before anything is written, then
    /// they are inserted with multi-row INSERTs (at most 500 rows and 30,000
    /// bound parameters per statement, within the limits of both SQLite and
    /// PostgreSQL). One `outbox.append` span covers them all: its
    /// `traceparent` and the event time are taken once for all of them.
    ///
    /// # Errors
    /// [`DbError::Invalid`] when any draft is invalid (nothing is written);
    /// [`DbError::Sqlx`] when an insert fails — the transaction may then
    /// hold some of the events: roll it back.
    pub async fn append_many(
        &self,
        tx: &mut Transaction<'_, Any>,
        drafts: Vec<EventDraft>,
    ) -> Result<Vec<Uuid>, DbError> {
        for draft in &drafts {
            self.validate(draft)?;
        }
        if drafts.is_empty() {
            return Ok(Vec::new());
        }
        let event_type = drafts
            .iter()
            .all(|draft| draft.event_type == drafts[0].event_type)
            .then(|| drafts[0].event_type.as_str());
        let span = append_span(drafts.len(), event_type);
        let time = format_time(&now());
        let traceparent = trace::traceparent_of(&span);
        let ids: Vec<Uuid> = drafts.iter().map(|_| Uuid::now_v7()).collect();
        let id_texts: Vec<String> = ids.iter().map(Uuid::to_string).collect();
        let style = Placeholders::of(tx);
        let full_statement = insert_statement(style, INSERT_ROWS.min(drafts.len()));
        for (chunk, chunk_ids) in drafts.chunks(INSERT_ROWS).zip(id_texts.chunks(INSERT_ROWS)) {
            let partial_statement;
            let statement = if chunk.len() == INSERT_ROWS || chunk.len() == drafts.len() {
                &full_statement
            } else {
                partial_statement = insert_statement(style, chunk.len());
                &partial_statement
            };
            // Full statements recur (an import's every 500 rows): prepare once.
            let mut query = sqlx::query(statement).persistent(chunk.len() == INSERT_ROWS);
            for (draft, id) in chunk.iter().zip(chunk_ids) {
                query = query
                    .bind(id.as_str())
                    .bind(self.source.as_str())
                    .bind(draft.event_type.as_str())
                    .bind(draft.subject.as_str())
                    .bind(time.as_str())
                    .bind(traceparent.as_deref())
                    .bind(draft.payload.as_ref());
            }
            query.execute(&mut **tx).instrument(span.clone()).await?;
        }
        Ok(ids)
    }

    fn validate(&self, draft: &EventDraft) -> Result<(), DbError> {
        subject::validate_event_type(&draft.event_type).map_err(DbError::Invalid)?;
        check_attribute("source", &self.source)?;
        check_attribute("subject", &draft.subject)
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
        let result = sqlx::query("DELETE FROM vigie_outbox WHERE published_at IS NOT NULL AND published_at < $1")
            .bind(format_time(&before))
            .execute(db.pool())
            .await?;
        Ok(result.rows_affected())
    }
}

/// `INSERT INTO vigie_outbox … VALUES ($1, …, $7), ($8, …)` for `rows` rows.
fn insert_statement(style: Placeholders, rows: usize) -> String {
    format!(
        "INSERT INTO vigie_outbox (id, source, event_type, subject, event_time, traceparent, payload) VALUES {}",
        style.values_list(rows, INSERT_COLUMNS, "")
    )
}

fn check_attribute(name: &str, value: &str) -> Result<(), DbError> {
    if value.trim().is_empty() {
        return Err(DbError::Invalid(format!("event {name} is empty")));
    }
    if value.chars().any(char::is_control) {
        return Err(DbError::Invalid(format!("event {name} holds control characters")));
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
        id: Uuid::parse_str(&id).map_err(|error| DbError::Invalid(format!("outbox id {id:?}: {error}")))?,
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

/// Marks events published, after the transport confirmed them: one UPDATE
/// listing their `seq`s (one statement per [`MAX_BOUND_PARAMETERS`] - 1
/// events; the relay's batches are smaller).
///
/// An explicit list, never a `seq` range: on PostgreSQL a row with a lower
/// `seq` can commit after the confirmed ones were read, and a range would
/// mark it without it ever being published.
pub(crate) async fn mark_published(db: &Db, seqs: &[i64]) -> Result<(), DbError> {
    let published_at = format_time(&now());
    for chunk in seqs.chunks(MAX_BOUND_PARAMETERS - 1) {
        let mut sql = String::from("UPDATE vigie_outbox SET published_at = $1, last_error = NULL WHERE seq IN (");
        for position in 0..chunk.len() {
            if position > 0 {
                sql.push_str(", ");
            }
            sql.push('$');
            sql.push_str(&(position + 2).to_string());
        }
        sql.push(')');
        // One shape per batch size: not worth a prepared-statement slot.
        let mut query = sqlx::query(&sql).persistent(false).bind(published_at.clone());
        for seq in chunk {
            query = query.bind(*seq);
        }
        query.execute(db.pool()).await?;
    }
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

/// The `outbox.append` span, child of the caller's (a gRPC request, a
/// consumer…): its `traceparent` is stored with the rows, so the relay's
/// publication continues the trace from here. `event_type` is named when
/// every event appended has the same one; no ids (span attributes stay
/// low-cardinality and free of personal data).
fn append_span(events: usize, event_type: Option<&str>) -> tracing::Span {
    tracing::info_span!(
        "outbox.append",
        otel.kind = "internal",
        events,
        event_type = event_type.unwrap_or("mixed"),
    )
}
