//! Grants and reporting duties of the regional read model (issue 16): only
//! what the counts need — a grant's stage, amount and date; a duty's due date
//! and whether it was marked sent. No funder, no title, no person.

use std::collections::HashMap;

use chrono::NaiveDate;
use sqlx::{AnyConnection, Row};
use vigie_federation_domain::facts::StructureFacts;

use super::{parse_date, StorageError};

/// The status of a duty marked sent to the funder.
pub const SENT: &str = "sent";

/// A decision on a grant, from `GrantRecorded`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantDecision {
    /// The grant's stable id.
    pub grant_id: String,
    /// The structure it was granted to (or refused).
    pub structure_id: String,
    /// `true` when won, `false` when refused.
    pub won: bool,
    /// Amount granted in euro cents (0 when refused).
    pub amount_cents: u64,
    /// The date the decision was recorded.
    pub on: NaiveDate,
}

fn day(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

/// Keeps the decision of a grant: one row per grant id, so a changed decision
/// replaces the earlier one and nothing is counted twice. A decision dated
/// before the one held is older news and is ignored (same date: the later
/// event wins). Returns whether it was applied.
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn save_grant(conn: &mut AnyConnection, g: &GrantDecision) -> Result<bool, StorageError> {
    let on = day(g.on);
    let held: Option<String> = sqlx::query("SELECT decided_on FROM fe_grants WHERE grant_id = $1")
        .bind(g.grant_id.clone())
        .fetch_optional(&mut *conn)
        .await?
        .map(|row| row.try_get(0))
        .transpose()?;
    if held.is_some_and(|held| held > on) {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO fe_grants (grant_id, structure_id, stage, amount_cents, decided_on) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (grant_id) DO UPDATE SET structure_id = excluded.structure_id, stage = excluded.stage, \
         amount_cents = excluded.amount_cents, decided_on = excluded.decided_on",
    )
    .bind(g.grant_id.clone())
    .bind(g.structure_id.clone())
    .bind(if g.won { "won" } else { "refused" }.to_owned())
    .bind(i64::try_from(g.amount_cents).unwrap_or(i64::MAX))
    .bind(on)
    .execute(&mut *conn)
    .await?;
    Ok(true)
}

/// Learns a duty's due date, as of `learned_on` (the reminder's or the
/// acknowledgement's date): a due date learned earlier than the one held does
/// not replace it (a moved date arrives with the next reminder).
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn save_duty_due(
    conn: &mut AnyConnection,
    structure_id: &str,
    obligation_key: &str,
    due: NaiveDate,
    learned_on: NaiveDate,
) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO fe_duties (structure_id, obligation_key, due, due_learned_on) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (structure_id, obligation_key) DO UPDATE SET due = excluded.due, \
         due_learned_on = excluded.due_learned_on WHERE fe_duties.due_learned_on <= excluded.due_learned_on",
    )
    .bind(structure_id.to_owned())
    .bind(obligation_key.to_owned())
    .bind(day(due))
    .bind(day(learned_on))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Marks a known duty sent (`status` = [`SENT`]) or not (empty), as of `on`;
/// an older acknowledgement than the one held changes nothing. Call
/// [`save_duty_due`] first so the row exists.
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn save_duty_status(
    conn: &mut AnyConnection,
    structure_id: &str,
    obligation_key: &str,
    status: &str,
    on: NaiveDate,
) -> Result<(), StorageError> {
    sqlx::query(
        "UPDATE fe_duties SET status = $3, status_on = $4 WHERE structure_id = $1 AND obligation_key = $2 \
         AND (status_on IS NULL OR status_on <= $4)",
    )
    .bind(structure_id.to_owned())
    .bind(obligation_key.to_owned())
    .bind(status.to_owned())
    .bind(day(on))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Adds to `facts` (indexed by structure id) the grants decided in `year` and
/// the duties not marked sent that are due from `from` on.
pub(super) async fn add_grants_and_duties(
    conn: &mut AnyConnection,
    index: &HashMap<String, usize>,
    facts: &mut [StructureFacts],
    from: NaiveDate,
    year: i32,
) -> Result<(), StorageError> {
    let first = NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or(NaiveDate::MIN);
    let last = NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or(NaiveDate::MAX);
    let grants = sqlx::query(
        "SELECT structure_id, stage, amount_cents FROM fe_grants WHERE decided_on >= $1 AND decided_on <= $2 \
         ORDER BY structure_id, grant_id",
    )
    .bind(day(first))
    .bind(day(last))
    .fetch_all(&mut *conn)
    .await?;
    let mut cents: HashMap<usize, u64> = HashMap::new();
    for row in grants {
        let id: String = row.try_get(0)?;
        let stage: String = row.try_get(1)?;
        let amount = u64::try_from(row.try_get::<i64, _>(2)?).unwrap_or(0);
        let Some(&i) = index.get(&id) else { continue };
        let a = &mut facts[i].activity;
        match stage.as_str() {
            "won" => {
                a.grants_won += 1;
                let total = cents.entry(i).or_default();
                *total = total.saturating_add(amount);
            }
            "refused" => a.grants_refused += 1,
            other => return Err(StorageError::corrupt("fe_grants", "stage", other)),
        }
    }
    for (i, total) in cents {
        // Whole euros of the structure's total, half a euro rounded up.
        facts[i].activity.amount_granted_euros = total.saturating_add(50) / 100;
    }
    let duties = sqlx::query(
        "SELECT structure_id, due FROM fe_duties WHERE due >= $1 AND status <> $2 ORDER BY structure_id, due",
    )
    .bind(day(from))
    .bind(SENT.to_owned())
    .fetch_all(&mut *conn)
    .await?;
    for row in duties {
        let id: String = row.try_get(0)?;
        let text: String = row.try_get(1)?;
        if let Some(&i) = index.get(&id) {
            facts[i].open_duties.push(parse_date("fe_duties", "due", &text)?);
        }
    }
    Ok(())
}
