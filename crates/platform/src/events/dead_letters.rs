//! Dead letters as an operator sees them, and replay requests in embedded
//! mode.
//!
//! A dead letter is an event a consumer gave up on because retrying cannot
//! help (undecodable payload, unknown schema, a handler answering
//! [`HandlerError::Permanent`](super::HandlerError)); transient failures are
//! retried forever and never end here. Once the cause is fixed (a new
//! version of the consumer, corrected data), the operator replays it:
//!
//! - embedded mode: dead letters live in each consumer's database
//!   (`vigie_dead_letters`). `vigie events dead-letters replay` sets
//!   `replay_requested_at` on the row ([`request_replay`]); the running
//!   server's [`EmbeddedBus::run_replays`](super::EmbeddedBus::run_replays)
//!   re-delivers it to that one consumer
//!   ([`Consumer::replay_dead_letter`](super::Consumer::replay_dead_letter)):
//!   applied → the row is deleted in the same transaction; failed
//!   permanently again → the row stays with the new error and `deliveries`
//!   plus one; failed transiently → the request stays and is retried. The
//!   request is a row in the database rather than a call into the server so
//!   that it survives a restart and needs no new network interface.
//! - distributed mode: see [`super::jetstream::dead_letters`].

use sqlx::Row;
use uuid::Uuid;

use super::envelope::{format_time, now};
use crate::db::{Db, DbError};

/// One dead letter, as listed to operators.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DeadLetter {
    /// Consumer that gave up.
    pub consumer: String,
    /// Event id (`ce-id`); `None` for a message that was not a CloudEvent.
    pub event_id: Option<String>,
    /// Event type (`ce-type`, also the NATS subject it was published on).
    pub event_type: String,
    /// CloudEvents subject: the aggregate the event is about.
    pub subject: String,
    /// Why the consumer gave up (`Vigie-Error`).
    pub error: String,
    /// When it was dead-lettered (RFC 3339).
    pub failed_at: String,
    /// How many times the consumer was handed the event before giving up
    /// (replays included).
    pub deliveries: i64,
    /// Where the dead letter is stored: the SQLite file or the
    /// `VIGIE_DEADLETTER` stream sequence.
    pub location: String,
    /// When a replay was requested and not yet done (embedded mode).
    pub replay_requested_at: Option<String>,
}

/// The dead letters stored in `db` (every consumer), oldest first.
///
/// # Errors
/// [`DbError`] when the database cannot be read.
pub async fn list(db: &Db, location: &str) -> Result<Vec<DeadLetter>, DbError> {
    let rows = sqlx::query(
        "SELECT consumer, event_id, event_type, subject, error, failed_at, deliveries, replay_requested_at \
         FROM vigie_dead_letters ORDER BY failed_at, consumer, event_id",
    )
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| {
            Ok(DeadLetter {
                consumer: row.try_get(0)?,
                event_id: Some(row.try_get(1)?),
                event_type: row.try_get(2)?,
                subject: row.try_get(3)?,
                error: row.try_get(4)?,
                failed_at: row.try_get(5)?,
                deliveries: row.try_get(6)?,
                location: location.to_owned(),
                replay_requested_at: row.try_get(7)?,
            })
        })
        .collect()
}

/// Asks the running server to replay the dead letter of `consumer` for
/// `event_id`; returns whether such a dead letter exists.
///
/// # Errors
/// [`DbError`] when the database cannot be written.
pub async fn request_replay(db: &Db, consumer: &str, event_id: Uuid) -> Result<bool, DbError> {
    let updated =
        sqlx::query("UPDATE vigie_dead_letters SET replay_requested_at = $1 WHERE consumer = $2 AND event_id = $3")
            .bind(format_time(&now()))
            .bind(consumer)
            .bind(event_id.to_string())
            .execute(db.pool())
            .await?
            .rows_affected();
    Ok(updated > 0)
}

/// The dead letter of `consumer` for `event_id`, if it is still stored.
///
/// # Errors
/// [`DbError`] when the database cannot be read.
pub async fn find(db: &Db, location: &str, consumer: &str, event_id: Uuid) -> Result<Option<DeadLetter>, DbError> {
    let id = event_id.to_string();
    Ok(list(db, location)
        .await?
        .into_iter()
        .find(|letter| letter.consumer == consumer && letter.event_id.as_deref() == Some(id.as_str())))
}

/// Event ids of `consumer`'s dead letters waiting for a replay.
pub(crate) async fn replay_requests(db: &Db, consumer: &str) -> Result<Vec<Uuid>, DbError> {
    let rows = sqlx::query(
        "SELECT event_id FROM vigie_dead_letters WHERE consumer = $1 AND replay_requested_at IS NOT NULL \
         ORDER BY failed_at",
    )
    .bind(consumer)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| {
            let id: String = row.try_get(0)?;
            Uuid::parse_str(&id).map_err(|error| DbError::Invalid(format!("dead letter id {id:?}: {error}")))
        })
        .collect()
}
