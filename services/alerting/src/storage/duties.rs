//! What the reminders of reporting duties need beyond the grants: the
//! duties marked « envoyé » (`al_obligation_acks`), and since when each
//! grant's and agreement date's values are known (a reminder due before is
//! caught up, not marked late; a change since the last pass is planned).

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{AnyConnection, Row};
use vigie_proto::dates::rfc3339;

use super::StorageError;
use vigie_platform::db::columns::Columns;

/// Status of a duty sent to its funder.
pub const DUTY_SENT: &str = "sent";

/// A duty's acknowledgement as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObligationAckRow {
    /// The structure.
    pub structure_id: String,
    /// The obligation key.
    pub obligation_key: String,
    /// `sent`, or "" once taken back.
    pub status: String,
    /// When it was marked sent (local date).
    pub sent_on: Option<NaiveDate>,
}

/// Records a duty's status; returns whether it changed (the same status
/// again changes nothing, not even its date).
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn save_obligation_ack(
    conn: &mut AnyConnection,
    ack: &ObligationAckRow,
    at: DateTime<Utc>,
) -> Result<bool, StorageError> {
    let done = sqlx::query(
        "INSERT INTO al_obligation_acks (structure_id, obligation_key, status, sent_on, at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (structure_id, obligation_key) DO UPDATE SET status = excluded.status, \
         sent_on = excluded.sent_on, at = excluded.at WHERE al_obligation_acks.status <> excluded.status",
    )
    .bind(ack.structure_id.clone())
    .bind(ack.obligation_key.clone())
    .bind(ack.status.clone())
    .bind(ack.sent_on.map(|d| d.to_string()))
    .bind(rfc3339(at))
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// The acknowledgements of these structures (every structure with `None`),
/// by `(structure, obligation key)`.
///
/// # Errors
/// [`StorageError`] on a database error or an invalid stored value.
pub async fn obligation_acks(
    conn: &mut AnyConnection,
    structures: Option<&[String]>,
) -> Result<HashMap<(String, String), ObligationAckRow>, StorageError> {
    let rows = sqlx::query("SELECT structure_id, obligation_key, status, sent_on FROM al_obligation_acks")
        .fetch_all(&mut *conn)
        .await?;
    let mut out = HashMap::new();
    for row in &rows {
        let structure_id: String = row.try_get("structure_id")?;
        if structures.is_some_and(|only| !only.contains(&structure_id)) {
            continue;
        }
        let ack = ObligationAckRow {
            structure_id,
            obligation_key: row.try_get("obligation_key")?,
            status: row.try_get("status")?,
            sent_on: Columns::of(row, "al_obligation_acks").opt_date("sent_on")?,
        };
        out.insert((ack.structure_id.clone(), ack.obligation_key.clone()), ack);
    }
    Ok(out)
}

/// Since when each grant's values are known (`updated_at`), by grant id, and
/// each agreement date's (`at`), by `(structure, obligation key)`.
///
/// # Errors
/// [`StorageError`] on a database error or an invalid stored value.
pub async fn duty_times(
    conn: &mut AnyConnection,
) -> Result<(HashMap<String, DateTime<Utc>>, HashMap<(String, String), DateTime<Utc>>), StorageError> {
    let mut grants = HashMap::new();
    for row in sqlx::query("SELECT grant_id, updated_at FROM al_grants")
        .fetch_all(&mut *conn)
        .await?
    {
        grants.insert(
            row.try_get("grant_id")?,
            Columns::of(&row, "al_grants").instant("updated_at")?,
        );
    }
    let mut dates = HashMap::new();
    for row in sqlx::query("SELECT structure_id, obligation_key, at FROM al_agreement_dates")
        .fetch_all(&mut *conn)
        .await?
    {
        dates.insert(
            (row.try_get("structure_id")?, row.try_get("obligation_key")?),
            Columns::of(&row, "al_agreement_dates").instant("at")?,
        );
    }
    Ok((grants, dates))
}

/// Whether a grant, an agreement date or a duty's acknowledgement changed at
/// or after `after` (the next dispatch pass then plans every duty).
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn duties_changed_since(conn: &mut AnyConnection, after: DateTime<Utc>) -> Result<bool, StorageError> {
    let at = rfc3339(after);
    let row = sqlx::query(
        "SELECT (SELECT COUNT(*) FROM al_grants WHERE updated_at >= $1) \
         + (SELECT COUNT(*) FROM al_agreement_dates WHERE at >= $2) \
         + (SELECT COUNT(*) FROM al_obligation_acks WHERE at >= $3) AS n",
    )
    .bind(at.clone())
    .bind(at.clone())
    .bind(at)
    .fetch_one(&mut *conn)
    .await?;
    Ok(row.try_get::<i64, _>("n")? > 0)
}

/// Each structure's network, without the snapshots (a dispatch pass reads
/// it every minute).
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn structure_networks(conn: &mut AnyConnection) -> Result<HashMap<String, String>, StorageError> {
    let rows = sqlx::query("SELECT structure_id, network_id FROM al_structures")
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|row| Ok((row.try_get("structure_id")?, row.try_get("network_id")?)))
        .collect()
}
