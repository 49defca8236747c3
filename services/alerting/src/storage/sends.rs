//! The send log (one row per reminder per recipient and channel: a second
//! send with the same key is impossible), the messages that carry them
//! (a daily digest per address), and escalations.
//!
//! Messages are *leased* before they are sent ([`lease_due_messages`]): a
//! lease names its owner (one random id per process) and an expiry, and only
//! the owner may record the outcome ([`mark_sent`], [`mark_failed_attempt`]).
//! Any number of replicas thus share one queue without sending a message
//! twice; the lease of a replica that died expires and the message returns
//! to the queue, with the same Message-ID.

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{AnyConnection, Row};

use vigie_platform::db::multi_row::{fetch_for_keys, Placeholders};
use vigie_platform::db::Backend;
use vigie_proto::dates::rfc3339;

use crate::app::views::{LogEntry, SendKeyTuple, SendLogRecord};

use super::{StorageError, MAX_PARAMS};
use vigie_platform::db::columns::Columns;

/// Offset of a notice that a deadline moved.
pub const NOTICE_MOVED: i64 = -1;
/// Offset of a notice that a call was cancelled.
pub const NOTICE_CANCELLED: i64 = -2;

/// Claims send-log rows. A key already present fails the statement (unique
/// key), so the caller's transaction, and the message with it, is rolled back.
///
/// # Errors
/// [`StorageError`] on a database error, including a key already claimed.
pub async fn claim(conn: &mut AnyConnection, rows: &[SendLogRecord]) -> Result<(), StorageError> {
    const COLUMNS: usize = 13;
    let style = Placeholders::of(conn);
    for chunk in rows.chunks(style.rows_per_statement(COLUMNS)) {
        let sql = format!(
            "INSERT INTO al_send_log (recipient, call_id, stage_kind, revision, offset_days, channel, person_id, \
             structure_id, due_at, late, escalation, message_id, claimed_at) VALUES {}",
            style.values_list(chunk.len(), COLUMNS, "")
        );
        let mut query = sqlx::query(&sql);
        for r in chunk {
            query = query
                .bind(r.recipient.clone())
                .bind(r.call_id.clone())
                .bind(r.stage_kind.clone())
                .bind(i64::from(r.revision))
                .bind(r.offset_days)
                .bind(r.channel.clone())
                .bind(r.person_id.clone())
                .bind(r.structure_id.clone())
                .bind(rfc3339(r.due_at))
                .bind(i64::from(r.late))
                .bind(r.escalation.clone())
                .bind(r.message_id.clone())
                .bind(rfc3339(r.claimed_at));
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// The keys already in the send log for these calls.
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn claimed_keys(
    conn: &mut AnyConnection,
    call_ids: &[String],
) -> Result<HashSet<SendKeyTuple>, StorageError> {
    let rows = fetch_for_keys(
        conn,
        "SELECT recipient, call_id, stage_kind, revision, offset_days, channel FROM al_send_log WHERE call_id IN",
        call_ids,
    )
    .await?;
    let mut out = HashSet::with_capacity(rows.len());
    for row in rows {
        out.insert((
            row.try_get("recipient")?,
            row.try_get("call_id")?,
            row.try_get("stage_kind")?,
            Columns::of(&row, "al_send_log").integer("revision")?,
            row.try_get("offset_days")?,
            row.try_get("channel")?,
        ));
    }
    Ok(out)
}

/// Send-log rows of reminders (offset ≥ 0) for these calls, to find who must
/// hear that a deadline moved or a call was cancelled.
///
/// # Errors
/// [`StorageError`] on a database error or an invalid stored value.
pub async fn reminders_sent_for(
    conn: &mut AnyConnection,
    call_ids: &[String],
) -> Result<Vec<SendLogRecord>, StorageError> {
    // Planned with its values each time (`fetch_for_keys`): a generic plan
    // made while the log was small scanned all of it, most of a claim pass.
    let rows = fetch_for_keys(
        conn,
        "SELECT recipient, call_id, stage_kind, revision, offset_days, channel, person_id, structure_id, due_at, \
         late, escalation, message_id, claimed_at FROM al_send_log WHERE offset_days >= 0 AND call_id IN",
        call_ids,
    )
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        out.push(log_row(row)?);
    }
    Ok(out)
}

fn log_row(row: &sqlx::any::AnyRow) -> Result<SendLogRecord, StorageError> {
    let c = Columns::of(row, "al_send_log");
    Ok(SendLogRecord {
        recipient: row.try_get("recipient")?,
        call_id: row.try_get("call_id")?,
        stage_kind: row.try_get("stage_kind")?,
        revision: c.integer("revision")?,
        offset_days: row.try_get("offset_days")?,
        channel: row.try_get("channel")?,
        person_id: row.try_get("person_id")?,
        structure_id: row.try_get("structure_id")?,
        due_at: c.instant("due_at")?,
        late: c.flag("late")?,
        escalation: row.try_get("escalation")?,
        message_id: row.try_get("message_id")?,
        claimed_at: c.instant("claimed_at")?,
    })
}

/// A message to deliver: one digest for one address on one local day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRow {
    /// Stable id (the email's Message-ID, the webhook's delivery id).
    pub message_id: String,
    /// The recipient id of its first reminder.
    pub recipient: String,
    /// The person, for people.
    pub person_id: Option<String>,
    /// `email` or `webhook`.
    pub channel: String,
    /// Email address or webhook URL.
    pub address: String,
    /// The network of its recipient (a webhook is signed with that
    /// network's secret); empty for messages stored before it was recorded.
    pub network: String,
    /// Local date of the digest.
    pub local_date: NaiveDate,
    /// Subject (email) or event type (webhook).
    pub subject: String,
    /// Text body (email) or JSON body (webhook).
    pub body_text: String,
    /// HTML body (email).
    pub body_html: String,
    /// `pending`, `sent` or `failed`.
    pub status: String,
    /// Delivery attempts so far.
    pub attempts: u32,
    /// Not before.
    pub next_attempt_at: DateTime<Utc>,
    /// Last failure.
    pub last_error: String,
    /// When it was sent.
    pub sent_at: Option<DateTime<Utc>>,
}

/// Status of a message waiting for delivery.
pub const PENDING: &str = "pending";
/// Status of a delivered message.
pub const SENT: &str = "sent";
/// Status of a message refused for good (5xx, invalid address).
pub const FAILED: &str = "failed";

/// Stores a new pending message.
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn insert_message(
    conn: &mut AnyConnection,
    m: &MessageRow,
    created_at: DateTime<Utc>,
) -> Result<(), StorageError> {
    insert_messages(conn, std::slice::from_ref(m), created_at).await
}

/// Stores new pending messages, as few statements as the parameter limit
/// allows (multi-row `VALUES` lists, the same SQL on both backends): a claim
/// of a backlog writes tens of thousands of them, and on PostgreSQL each
/// statement is a round trip.
///
/// # Errors
/// [`StorageError`] on a database error, including a message id already
/// stored (nothing of the statement is kept; the caller's transaction is to
/// be rolled back).
pub async fn insert_messages(
    conn: &mut AnyConnection,
    messages: &[MessageRow],
    created_at: DateTime<Utc>,
) -> Result<(), StorageError> {
    const COLUMNS: usize = 15;
    let created_at = rfc3339(created_at);
    let style = Placeholders::of(conn);
    for chunk in messages.chunks(style.rows_per_statement(COLUMNS)) {
        let sql = format!(
            "INSERT INTO al_messages (message_id, recipient, person_id, channel, address, local_date, subject, \
             body_text, body_html, status, attempts, next_attempt_at, last_error, created_at, network, sent_at) \
             VALUES {}",
            style.values_list(chunk.len(), COLUMNS, ", NULL")
        );
        let mut query = sqlx::query(&sql);
        for m in chunk {
            query = query
                .bind(m.message_id.clone())
                .bind(m.recipient.clone())
                .bind(m.person_id.clone())
                .bind(m.channel.clone())
                .bind(m.address.clone())
                .bind(m.local_date.to_string())
                .bind(m.subject.clone())
                .bind(m.body_text.clone())
                .bind(m.body_html.clone())
                .bind(m.status.clone())
                .bind(i64::from(m.attempts))
                .bind(rfc3339(m.next_attempt_at))
                .bind(m.last_error.clone())
                .bind(created_at.clone())
                .bind(m.network.clone());
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

const MESSAGE_COLUMNS: &str = "message_id, recipient, person_id, channel, address, network, local_date, subject, \
    body_text, body_html, status, attempts, next_attempt_at, last_error, sent_at";

fn message_row(row: &sqlx::any::AnyRow) -> Result<MessageRow, StorageError> {
    let c = Columns::of(row, "al_messages");
    Ok(MessageRow {
        message_id: row.try_get("message_id")?,
        recipient: row.try_get("recipient")?,
        person_id: row.try_get("person_id")?,
        channel: row.try_get("channel")?,
        address: row.try_get("address")?,
        network: row.try_get("network")?,
        local_date: c.date("local_date")?,
        subject: row.try_get("subject")?,
        body_text: row.try_get("body_text")?,
        body_html: row.try_get("body_html")?,
        status: row.try_get("status")?,
        attempts: c.integer("attempts")?,
        next_attempt_at: c.instant("next_attempt_at")?,
        last_error: row.try_get("last_error")?,
        sent_at: c.opt_instant("sent_at")?,
    })
}

/// Pending messages whose next attempt is due, oldest first (a read: to
/// send them, lease them with [`lease_due_messages`]).
///
/// # Errors
/// [`StorageError`] on a database error or an invalid stored value.
pub async fn due_messages(
    conn: &mut AnyConnection,
    now: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<MessageRow>, StorageError> {
    let rows = sqlx::query(&format!(
        "SELECT {MESSAGE_COLUMNS} FROM al_messages WHERE status = 'pending' AND next_attempt_at <= $1 \
         ORDER BY next_attempt_at, message_id LIMIT {limit}"
    ))
    .bind(rfc3339(now))
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(message_row).collect()
}

/// A lease on messages: who holds it, until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease<'a> {
    /// The holder (a random id per process).
    pub owner: &'a str,
    /// When it expires: the messages return to the queue.
    pub until: DateTime<Utc>,
}

/// Leases up to `limit` pending messages due at `now` whose lease is free or
/// expired, oldest first, and returns them. One statement: on PostgreSQL the
/// candidates are locked `FOR UPDATE SKIP LOCKED`, so concurrent replicas
/// lease disjoint batches without waiting for each other (a row another
/// transaction leased meanwhile is re-checked against the lease condition);
/// SQLite has a single writer, so its conditional `UPDATE` is atomic as is.
///
/// # Errors
/// [`StorageError`] on a database error or an invalid stored value.
pub async fn lease_due_messages(
    conn: &mut AnyConnection,
    backend: Backend,
    lease: &Lease<'_>,
    now: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<MessageRow>, StorageError> {
    // PostgreSQL may re-run a `LIMIT … FOR UPDATE SKIP LOCKED` subquery of
    // an `IN` for every row it checks (leasing more than `limit` rows): the
    // candidates are chosen once, in a materialised CTE.
    let (materialized, lock) = match backend {
        Backend::Postgres => (" MATERIALIZED", " FOR UPDATE SKIP LOCKED"),
        Backend::Sqlite => ("", ""),
    };
    let free = "status = 'pending' AND next_attempt_at <= $3 AND (lease_until IS NULL OR lease_until <= $4)";
    let rows = sqlx::query(&format!(
        "WITH candidates AS{materialized} (SELECT message_id FROM al_messages WHERE {free} \
         ORDER BY next_attempt_at, message_id LIMIT {limit}{lock}) \
         UPDATE al_messages SET lease_owner = $1, lease_until = $2 \
         WHERE message_id IN (SELECT message_id FROM candidates) AND {free} RETURNING {MESSAGE_COLUMNS}"
    ))
    .bind(lease.owner.to_owned())
    .bind(rfc3339(lease.until))
    .bind(rfc3339(now))
    .bind(rfc3339(now))
    .fetch_all(&mut *conn)
    .await?;
    let mut messages = rows.iter().map(message_row).collect::<Result<Vec<_>, _>>()?;
    // RETURNING has no order.
    messages.sort_by(|a, b| (a.next_attempt_at, &a.message_id).cmp(&(b.next_attempt_at, &b.message_id)));
    Ok(messages)
}

/// Gives back the leases `owner` holds on these messages (not sent in time):
/// they are due again at once for any replica.
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn release_leases(conn: &mut AnyConnection, owner: &str, message_ids: &[String]) -> Result<(), StorageError> {
    for chunk in message_ids.chunks(MAX_PARAMS - 1) {
        let placeholders = (2..=chunk.len() + 1)
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "UPDATE al_messages SET lease_owner = NULL, lease_until = NULL \
             WHERE lease_owner = $1 AND message_id IN ({placeholders})"
        );
        let mut query = sqlx::query(&sql).bind(owner.to_owned());
        for id in chunk {
            query = query.bind(id.clone());
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// The `(channel, address, network)` of the messages of this local day
/// (network empty for messages stored before it was recorded).
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn addresses_with_digest_on(
    conn: &mut AnyConnection,
    local_date: NaiveDate,
) -> Result<HashSet<(String, String, String)>, StorageError> {
    let rows = sqlx::query("SELECT DISTINCT channel, address, network FROM al_messages WHERE local_date = $1")
        .bind(local_date.to_string())
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("channel")?, r.try_get("address")?, r.try_get("network")?)))
        .collect()
}

/// Marks a message delivered, if `owner` still holds its lease; `false`
/// (nothing changed) when the lease was taken by another replica after it
/// expired, or the message is no longer pending.
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn mark_sent(
    conn: &mut AnyConnection,
    message_id: &str,
    owner: &str,
    at: DateTime<Utc>,
) -> Result<bool, StorageError> {
    let done = sqlx::query(
        "UPDATE al_messages SET status = 'sent', sent_at = $1, attempts = attempts + 1, lease_owner = NULL, \
         lease_until = NULL WHERE message_id = $2 AND lease_owner = $3 AND status = 'pending'",
    )
    .bind(rfc3339(at))
    .bind(message_id.to_owned())
    .bind(owner.to_owned())
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// When the message was created (claimed), and whether a reminder in it
/// was already late when claimed; `None` for an unknown message.
///
/// # Errors
/// [`StorageError`] on a database error or a corrupt time.
pub async fn message_lateness(
    conn: &mut AnyConnection,
    message_id: &str,
) -> Result<Option<(DateTime<Utc>, bool)>, StorageError> {
    let row = sqlx::query(
        "SELECT m.created_at, (SELECT COUNT(*) FROM al_send_log s WHERE s.message_id = m.message_id AND s.late <> 0) \
         AS late_rows FROM al_messages m WHERE m.message_id = $1",
    )
    .bind(message_id.to_owned())
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let c = Columns::of(&row, "al_messages");
    Ok(Some((c.instant("created_at")?, c.get::<i64>("late_rows")? > 0)))
}

/// Records a failed attempt: retried at `next` (transient) or given up
/// (`next` = None), if `owner` still holds the lease (`false` otherwise, as
/// for [`mark_sent`]). The lease is given back.
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn mark_failed_attempt(
    conn: &mut AnyConnection,
    message_id: &str,
    owner: &str,
    error: &str,
    next: Option<DateTime<Utc>>,
) -> Result<bool, StorageError> {
    let (status, next) = match next {
        Some(next) => (PENDING, Some(rfc3339(next))),
        None => (FAILED, None),
    };
    let done = sqlx::query(
        "UPDATE al_messages SET status = $1, attempts = attempts + 1, last_error = $2, \
         next_attempt_at = COALESCE($3, next_attempt_at), lease_owner = NULL, lease_until = NULL \
         WHERE message_id = $4 AND lease_owner = $5 AND status = 'pending'",
    )
    .bind(status.to_owned())
    .bind(error.to_owned())
    .bind(next)
    .bind(message_id.to_owned())
    .bind(owner.to_owned())
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The send log, newest first, optionally of some structures only (in the query).
///
/// # Errors
/// [`StorageError`] on a database error or an invalid stored value.
pub async fn send_log(
    conn: &mut AnyConnection,
    structures: Option<&[String]>,
    limit: u32,
) -> Result<Vec<LogEntry>, StorageError> {
    let filter = match structures {
        Some([]) => return Ok(Vec::new()),
        Some(ids) => format!("WHERE l.structure_id IN {}", Placeholders::Numbered.in_list(ids.len())),
        None => String::new(),
    };
    let sql = format!(
        "SELECT l.recipient, l.call_id, l.stage_kind, l.revision, l.offset_days, l.channel, l.person_id, \
         l.structure_id, l.due_at, l.late, l.escalation, l.message_id, l.claimed_at, \
         COALESCE(c.title, '') AS call_title, m.status, m.sent_at AS sent_at, m.attempts, m.last_error \
         FROM al_send_log l JOIN al_messages m ON m.message_id = l.message_id \
         LEFT JOIN al_calls c ON c.call_id = l.call_id {filter} \
         ORDER BY l.claimed_at DESC, l.recipient, l.call_id, l.offset_days LIMIT {limit}"
    );
    let mut query = sqlx::query(&sql);
    for s in structures.unwrap_or_default() {
        query = query.bind(s.clone());
    }
    let rows = query.fetch_all(&mut *conn).await?;
    rows.iter()
        .map(|row| {
            let message = Columns::of(row, "al_messages");
            Ok(LogEntry {
                row: log_row(row)?,
                call_title: row.try_get("call_title")?,
                status: row.try_get("status")?,
                sent_at: message.opt_instant("sent_at")?,
                attempts: message.integer("attempts")?,
                last_error: row.try_get("last_error")?,
            })
        })
        .collect()
}

/// Records an escalation; `false` when the structure and call were already escalated.
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn insert_escalation(
    conn: &mut AnyConnection,
    structure_id: &str,
    call_id: &str,
    stage_kind: &str,
    reason: &str,
    at: DateTime<Utc>,
) -> Result<bool, StorageError> {
    let done = sqlx::query(
        "INSERT INTO al_escalations (structure_id, call_id, stage_kind, reason, at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (structure_id, call_id) DO NOTHING",
    )
    .bind(structure_id.to_owned())
    .bind(call_id.to_owned())
    .bind(stage_kind.to_owned())
    .bind(reason.to_owned())
    .bind(rfc3339(at))
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
