//! Applications and grants (`al_grants`, one row per application with its
//! stage and decision), the dates written in agreements
//! (`al_agreement_dates`) and each network's draft days (`al_policies`).

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{AnyConnection, Row};
use vigie_platform::db::multi_row::Placeholders;
use vigie_proto::dates::rfc3339;

use crate::app::views::GrantRecord;

use super::StorageError;
use vigie_platform::db::columns::Columns;

/// A query of the `Any` driver with its bound arguments.
type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

const COLUMNS: &str = "grant_id, structure_id, call_id, funder, title, stage, applied_on, amount_asked, decided_on, \
                       amount_granted, financial_year_end, agreement_start, agreement_end, reference, purpose, \
                       public_subsidy, idempotency_key";

fn from_row(row: &sqlx::any::AnyRow) -> Result<GrantRecord, StorageError> {
    let c = Columns::of(row, "al_grants");
    Ok(GrantRecord {
        grant_id: row.try_get("grant_id")?,
        structure_id: row.try_get("structure_id")?,
        call_id: row.try_get("call_id")?,
        funder: row.try_get("funder")?,
        title: row.try_get("title")?,
        stage: row.try_get("stage")?,
        applied_on: c.opt_date("applied_on")?,
        amount_asked: row.try_get("amount_asked")?,
        decided_on: c.opt_date("decided_on")?,
        amount_granted: row.try_get("amount_granted")?,
        financial_year_end: c.opt_date("financial_year_end")?,
        agreement_start: c.opt_date("agreement_start")?,
        agreement_end: c.opt_date("agreement_end")?,
        reference: row.try_get("reference")?,
        purpose: row.try_get("purpose")?,
        public_subsidy: c.flag("public_subsidy")?,
        idempotency_key: row.try_get("idempotency_key")?,
    })
}

fn text(date: Option<NaiveDate>) -> Option<String> {
    date.map(|d| d.to_string())
}

/// Inserts an application or grant; with a call, nothing happens when the
/// structure already has one for that call. Returns whether it was inserted.
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn insert_grant(conn: &mut AnyConnection, g: &GrantRecord, at: DateTime<Utc>) -> Result<bool, StorageError> {
    let sql = format!(
        "INSERT INTO al_grants ({COLUMNS}, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $18, $17, $17) \
         ON CONFLICT DO NOTHING"
    );
    let query = sqlx::query(&sql)
        .bind(g.grant_id.clone())
        .bind(g.structure_id.clone())
        .bind(g.call_id.clone());
    let done = bind_editable(query, g)
        .bind(rfc3339(at))
        .bind(g.idempotency_key.clone())
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Replaces the stored fields of an existing grant (same id and structure).
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn update_grant(conn: &mut AnyConnection, g: &GrantRecord, at: DateTime<Utc>) -> Result<(), StorageError> {
    let query = sqlx::query(
        "UPDATE al_grants SET funder = $1, title = $2, stage = $3, applied_on = $4, amount_asked = $5, \
         decided_on = $6, amount_granted = $7, financial_year_end = $8, agreement_start = $9, agreement_end = $10, \
         reference = $11, purpose = $12, public_subsidy = $13, updated_at = $14 \
         WHERE grant_id = $15 AND structure_id = $16",
    );
    bind_editable(query, g)
        .bind(rfc3339(at))
        .bind(g.grant_id.clone())
        .bind(g.structure_id.clone())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Binds the thirteen fields an update may change, `funder` to
/// `public_subsidy` in [`COLUMNS`] order: the insert and the update list
/// them once, here.
fn bind_editable<'q>(query: AnyQuery<'q>, g: &GrantRecord) -> AnyQuery<'q> {
    query
        .bind(g.funder.clone())
        .bind(g.title.clone())
        .bind(g.stage.clone())
        .bind(text(g.applied_on))
        .bind(g.amount_asked)
        .bind(text(g.decided_on))
        .bind(g.amount_granted)
        .bind(text(g.financial_year_end))
        .bind(text(g.agreement_start))
        .bind(text(g.agreement_end))
        .bind(g.reference.clone())
        .bind(g.purpose.clone())
        .bind(i64::from(g.public_subsidy))
}

/// One grant of a structure.
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn grant(
    conn: &mut AnyConnection,
    structure_id: &str,
    grant_id: &str,
) -> Result<Option<GrantRecord>, StorageError> {
    grant_where(conn, structure_id, "grant_id = $2", grant_id).await
}

/// A structure's grant recorded with an idempotency key (not empty).
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn grant_by_key(
    conn: &mut AnyConnection,
    structure_id: &str,
    key: &str,
) -> Result<Option<GrantRecord>, StorageError> {
    grant_where(
        conn,
        structure_id,
        "idempotency_key = $2 AND idempotency_key <> ''",
        key,
    )
    .await
}

/// A structure's application for a call.
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn grant_for_call(
    conn: &mut AnyConnection,
    structure_id: &str,
    call_id: &str,
) -> Result<Option<GrantRecord>, StorageError> {
    grant_where(conn, structure_id, "call_id = $2", call_id).await
}

/// The grant of `structure_id` that `condition` (SQL written here, never
/// input) selects with `value` bound as `$2`.
async fn grant_where(
    conn: &mut AnyConnection,
    structure_id: &str,
    condition: &'static str,
    value: &str,
) -> Result<Option<GrantRecord>, StorageError> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM al_grants WHERE structure_id = $1 AND {condition}"
    ))
    .bind(structure_id.to_owned())
    .bind(value.to_owned())
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// The grants of these structures (every structure with `None`), by
/// structure then id (ids are time-ordered).
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn grants_of(
    conn: &mut AnyConnection,
    structures: Option<&[String]>,
) -> Result<Vec<GrantRecord>, StorageError> {
    let mut all = Vec::new();
    match structures {
        None => {
            let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM al_grants"))
                .fetch_all(&mut *conn)
                .await?;
            for row in &rows {
                all.push(from_row(row)?);
            }
        }
        Some(structures) => {
            for chunk in structures.chunks(super::MAX_PARAMS) {
                let sql = format!(
                    "SELECT {COLUMNS} FROM al_grants WHERE structure_id IN {}",
                    Placeholders::Numbered.in_list(chunk.len())
                );
                let mut query = sqlx::query(&sql);
                for s in chunk {
                    query = query.bind(s.clone());
                }
                for row in &query.fetch_all(&mut *conn).await? {
                    all.push(from_row(row)?);
                }
            }
        }
    }
    all.sort_by(|a, b| {
        a.structure_id
            .cmp(&b.structure_id)
            .then_with(|| a.grant_id.cmp(&b.grant_id))
    });
    Ok(all)
}

/// A date written in an agreement as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgreementDateRow {
    /// The structure.
    pub structure_id: String,
    /// The obligation it moves, or the key of the one it adds.
    pub obligation_key: String,
    /// The grant whose agreement adds it (`None` for a move).
    pub grant_id: Option<String>,
    /// `moves` or `adds`.
    pub kind: String,
    /// The date.
    pub due: NaiveDate,
    /// What the agreement calls it.
    pub label: String,
}

/// Saves a date of an agreement (the latest wins); returns whether anything changed.
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn save_agreement_date(
    conn: &mut AnyConnection,
    d: &AgreementDateRow,
    at: DateTime<Utc>,
) -> Result<bool, StorageError> {
    let done = sqlx::query(
        "INSERT INTO al_agreement_dates (structure_id, obligation_key, grant_id, kind, due, label, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (structure_id, obligation_key) DO UPDATE SET due = excluded.due, label = excluded.label, \
         at = excluded.at WHERE al_agreement_dates.due <> excluded.due OR al_agreement_dates.label <> excluded.label",
    )
    .bind(d.structure_id.clone())
    .bind(d.obligation_key.clone())
    .bind(d.grant_id.clone())
    .bind(d.kind.clone())
    .bind(d.due.to_string())
    .bind(d.label.clone())
    .bind(rfc3339(at))
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// The agreement dates of these structures (every structure with `None`).
///
/// # Errors
/// [`StorageError`] on a database error or an invalid stored value.
pub async fn agreement_dates_of(
    conn: &mut AnyConnection,
    structures: Option<&[String]>,
) -> Result<Vec<AgreementDateRow>, StorageError> {
    let rows = sqlx::query(
        "SELECT structure_id, obligation_key, grant_id, kind, due, label FROM al_agreement_dates \
         ORDER BY structure_id, obligation_key",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut all = Vec::new();
    for row in &rows {
        let structure_id: String = row.try_get("structure_id")?;
        if structures.is_some_and(|only| !only.contains(&structure_id)) {
            continue;
        }
        all.push(AgreementDateRow {
            structure_id,
            obligation_key: row.try_get("obligation_key")?,
            grant_id: row.try_get("grant_id")?,
            kind: row.try_get("kind")?,
            due: Columns::of(row, "al_agreement_dates").date("due")?,
            label: row.try_get("label")?,
        });
    }
    Ok(all)
}

/// Each network's draft days, when set.
///
/// # Errors
/// [`StorageError`] on a database error or an invalid stored value.
pub async fn draft_days(conn: &mut AnyConnection) -> Result<Vec<(String, u32)>, StorageError> {
    let rows = sqlx::query("SELECT network_id, draft_days FROM al_policies WHERE draft_days IS NOT NULL")
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|row| {
            let days: i64 = row.try_get("draft_days")?;
            let days = u32::try_from(days).map_err(|_| StorageError::corrupt("al_policies", "draft_days", days))?;
            Ok((row.try_get("network_id")?, days))
        })
        .collect()
}

/// Sets a network's draft days (its policy row must exist).
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn set_draft_days(conn: &mut AnyConnection, network: &str, days: u32) -> Result<(), StorageError> {
    sqlx::query("UPDATE al_policies SET draft_days = $1 WHERE network_id = $2")
        .bind(i64::from(days))
        .bind(network.to_owned())
        .execute(&mut *conn)
        .await?;
    Ok(())
}
