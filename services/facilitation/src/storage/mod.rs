//! Persistence of the facilitation service (PostgreSQL or SQLite through
//! `sqlx::Any`, see docs/adr/0002-one-sql-dialect.md). Functions take a
//! connection so the application decides the transaction.

mod migrations;

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{AnyConnection, Row};
use vigie_facilitation_domain::matching::{FacilitatorLoad, StructurePlace};
use vigie_facilitation_domain::model::{Beneficiary, Facilitator};
use vigie_facilitation_domain::report::{FragileStructure, Intervention, RequestTiming};
use vigie_inventory_readmodel::{write_batch, BatchChanges, SnapshotTables};
use vigie_platform::db::columns::Columns;
use vigie_platform::db::multi_row::Value;
use vigie_proto::dates::rfc3339;

use crate::app::views::{CallRef, HelpRequest};

pub use migrations::MIGRATIONS;

/// Separator of the list columns (as in the CSV file).
const LIST: char = ';';

pub use vigie_platform::db::StorageError;

fn join(values: &[String]) -> String {
    values.join(&LIST.to_string())
}

fn split(value: &str) -> Vec<String> {
    value
        .split(LIST)
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .collect()
}

// ----- facilitators and their weekly capacity -----

/// Inserts or replaces facilitators; the capacity of their current and
/// future weeks follows their new internal time (minutes already committed
/// stay committed).
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn save_facilitators(
    conn: &mut AnyConnection,
    facilitators: &[Facilitator],
    from_week: NaiveDate,
) -> Result<(), StorageError> {
    for f in facilitators {
        sqlx::query(
            "INSERT INTO fa_facilitators (facilitator_id, display_name, kind, employer_structure_id, served_structures, \
             territory_codes, functions, weekly_minutes, internal_share, funding_programme, funding_end) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (facilitator_id) DO UPDATE SET \
             display_name = excluded.display_name, kind = excluded.kind, \
             employer_structure_id = excluded.employer_structure_id, served_structures = excluded.served_structures, \
             territory_codes = excluded.territory_codes, functions = excluded.functions, \
             weekly_minutes = excluded.weekly_minutes, internal_share = excluded.internal_share, \
             funding_programme = excluded.funding_programme, funding_end = excluded.funding_end",
        )
        .bind(f.id.clone())
        .bind(f.display_name.clone())
        .bind(f.kind.as_str().to_owned())
        .bind(f.employer_structure_id.clone())
        .bind(join(&f.served_structures))
        .bind(join(&f.territory_codes))
        .bind(join(&f.functions))
        .bind(i64::from(f.weekly_minutes))
        .bind(f.internal_share)
        .bind(f.funding_programme.clone())
        .bind(f.funding_end.map(|d| d.to_string()))
        .execute(&mut *conn)
        .await?;
        sqlx::query("UPDATE fa_capacity SET capacity = $1 WHERE facilitator_id = $2 AND week_start >= $3")
            .bind(i64::from(f.internal_minutes_per_week()))
            .bind(f.id.clone())
            .bind(from_week.to_string())
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Every facilitator, by id.
///
/// # Errors
/// [`StorageError`] on a database error or an invalid stored value.
pub async fn facilitators(conn: &mut AnyConnection) -> Result<Vec<Facilitator>, StorageError> {
    let rows = sqlx::query(
        "SELECT facilitator_id, display_name, kind, employer_structure_id, served_structures, territory_codes, \
         functions, weekly_minutes, internal_share, funding_programme, funding_end FROM fa_facilitators \
         ORDER BY facilitator_id",
    )
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|row| {
            let c = Columns::of(row, "fa_facilitators");
            Ok(Facilitator {
                id: c.get("facilitator_id")?,
                display_name: c.get("display_name")?,
                kind: c.parsed("kind")?,
                employer_structure_id: c.get("employer_structure_id")?,
                served_structures: split(&c.get::<String>("served_structures")?),
                territory_codes: split(&c.get::<String>("territory_codes")?),
                functions: split(&c.get::<String>("functions")?),
                weekly_minutes: c.integer("weekly_minutes")?,
                internal_share: c.get("internal_share")?,
                funding_programme: c.get("funding_programme")?,
                funding_end: c.opt_parsed("funding_end")?,
            })
        })
        .collect()
}

/// Creates the capacity row of a facilitator's week if it does not exist.
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn ensure_capacity(
    conn: &mut AnyConnection,
    facilitator: &str,
    week: NaiveDate,
    capacity: u32,
) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO fa_capacity (facilitator_id, week_start, capacity, committed) VALUES ($1, $2, $3, 0) \
         ON CONFLICT (facilitator_id, week_start) DO NOTHING",
    )
    .bind(facilitator.to_owned())
    .bind(week.to_string())
    .bind(i64::from(capacity))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Reserves `minutes` of a facilitator's internal time of `week` if they fit
/// — one conditional statement, so concurrent reservations can never exceed
/// the capacity (the row lock serialises them on PostgreSQL and the
/// condition is evaluated again after the wait; SQLite has a single writer).
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn reserve(
    conn: &mut AnyConnection,
    facilitator: &str,
    week: NaiveDate,
    minutes: u32,
) -> Result<bool, StorageError> {
    let changed = change_committed(
        conn,
        "UPDATE fa_capacity SET committed = committed + $1 \
         WHERE facilitator_id = $2 AND week_start = $3 AND committed + $1 <= capacity",
        facilitator,
        week,
        minutes,
    )
    .await?;
    Ok(changed == 1)
}

/// Gives reserved minutes back.
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn release(
    conn: &mut AnyConnection,
    facilitator: &str,
    week: NaiveDate,
    minutes: u32,
) -> Result<(), StorageError> {
    change_committed(
        conn,
        "UPDATE fa_capacity SET committed = CASE WHEN committed >= $1 THEN committed - $1 ELSE 0 END \
         WHERE facilitator_id = $2 AND week_start = $3",
        facilitator,
        week,
        minutes,
    )
    .await?;
    Ok(())
}

/// Runs `update`, a change of a facilitator's committed minutes of a week
/// (`$1` the minutes, `$2` the facilitator, `$3` the week), and returns how
/// many rows it changed: [`reserve`] and [`release`] bind the same values
/// and differ only in their arithmetic.
async fn change_committed(
    conn: &mut AnyConnection,
    update: &str,
    facilitator: &str,
    week: NaiveDate,
    minutes: u32,
) -> Result<u64, StorageError> {
    let result = sqlx::query(update)
        .bind(i64::from(minutes))
        .bind(facilitator.to_owned())
        .bind(week.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(result.rows_affected())
}

/// `(capacity, committed)` of a facilitator's week, when the row exists.
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn capacity(
    conn: &mut AnyConnection,
    facilitator: &str,
    week: NaiveDate,
) -> Result<Option<(u32, u32)>, StorageError> {
    let row = sqlx::query("SELECT capacity, committed FROM fa_capacity WHERE facilitator_id = $1 AND week_start = $2")
        .bind(facilitator.to_owned())
        .bind(week.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    row.map(|r| {
        let capacity: i64 = r.try_get("capacity")?;
        let committed: i64 = r.try_get("committed")?;
        Ok((
            u32::try_from(capacity).unwrap_or(0),
            u32::try_from(committed).unwrap_or(0),
        ))
    })
    .transpose()
}

/// The automatic proposals (not a structure's own request) offered to
/// `facilitator` in `week` and not answered yet, newest offer first: what a
/// structure's own request may take back when nobody has time left.
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn offered_proposals(
    conn: &mut AnyConnection,
    facilitator: &str,
    week: NaiveDate,
    help_kind: &str,
) -> Result<Vec<String>, StorageError> {
    let rows = sqlx::query(
        "SELECT request_id FROM fa_requests WHERE facilitator_id = $1 AND week_start = $2 \
         AND status = 'offered' AND kind <> $3 ORDER BY offered_at DESC, request_id",
    )
    .bind(facilitator.to_owned())
    .bind(week.to_string())
    .bind(help_kind.to_owned())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(|r| Ok(r.try_get("request_id")?)).collect()
}

/// The load of every facilitator: minutes committed in `week`, and past
/// interventions with `structure`.
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn loads(
    conn: &mut AnyConnection,
    week: NaiveDate,
    structure: &str,
) -> Result<BTreeMap<String, FacilitatorLoad>, StorageError> {
    let mut loads: BTreeMap<String, FacilitatorLoad> = BTreeMap::new();
    for row in sqlx::query("SELECT facilitator_id, committed FROM fa_capacity WHERE week_start = $1")
        .bind(week.to_string())
        .fetch_all(&mut *conn)
        .await?
    {
        let committed: i64 = row.try_get("committed")?;
        loads
            .entry(row.try_get("facilitator_id")?)
            .or_insert_with(empty_load)
            .committed_internal_minutes = u32::try_from(committed).unwrap_or(u32::MAX);
    }
    for row in sqlx::query(
        "SELECT facilitator_id, COUNT(*) AS n FROM fa_interventions WHERE structure_id = $1 GROUP BY facilitator_id",
    )
    .bind(structure.to_owned())
    .fetch_all(&mut *conn)
    .await?
    {
        let n: i64 = row.try_get("n")?;
        loads
            .entry(row.try_get("facilitator_id")?)
            .or_insert_with(empty_load)
            .past_interventions_with_structure = u32::try_from(n).unwrap_or(u32::MAX);
    }
    Ok(loads)
}

fn empty_load() -> FacilitatorLoad {
    FacilitatorLoad {
        committed_internal_minutes: 0,
        past_interventions_with_structure: 0,
    }
}

// ----- help requests and proactive proposals -----

const REQUEST_COLUMNS: &str = "r.request_id, r.origin, r.structure_id, r.network_id, r.function_code, r.description, \
     r.urgency, r.modality, r.due_on, r.estimated_minutes, r.status, r.facilitator_id, f.display_name, r.week_start, \
     r.reasons, r.declined_by, r.created_on, r.open_key, r.created_at, r.offered_at, r.accepted_at, r.closed_at, \
     r.escalated_at, r.overdue_at, r.kind, r.call_id, r.call_title, r.call_deadline, r.call_url";

fn decode_request(row: &sqlx::any::AnyRow) -> Result<HelpRequest, StorageError> {
    let c = Columns::of(row, "fa_requests");
    let reasons: String = c.get("reasons")?;
    Ok(HelpRequest {
        request_id: c.get("request_id")?,
        origin: c.get("origin")?,
        structure_id: c.get("structure_id")?,
        network_id: c.get("network_id")?,
        function: c.get("function_code")?,
        description: c.get("description")?,
        urgency: c.get("urgency")?,
        modality: c.get("modality")?,
        due_on: c.opt_parsed("due_on")?,
        estimated_minutes: c.integer("estimated_minutes")?,
        status: c.get("status")?,
        facilitator_id: c.get("facilitator_id")?,
        facilitator_name: c.get("display_name")?,
        week_start: c.opt_parsed("week_start")?,
        reasons: reasons.lines().filter(|l| !l.is_empty()).map(str::to_owned).collect(),
        declined_by: split(&c.get::<String>("declined_by")?),
        created_on: c.parsed("created_on")?,
        open_key: c.get("open_key")?,
        created_at: c.opt_instant("created_at")?,
        offered_at: c.opt_instant("offered_at")?,
        accepted_at: c.opt_instant("accepted_at")?,
        closed_at: c.opt_instant("closed_at")?,
        escalated_at: c.opt_instant("escalated_at")?,
        overdue_at: c.opt_instant("overdue_at")?,
        kind: c.get("kind")?,
        call: decode_call(c)?,
    })
}

fn decode_call(c: Columns<'_>) -> Result<Option<CallRef>, StorageError> {
    let Some(call_id) = c.get::<Option<String>>("call_id")? else {
        return Ok(None);
    };
    let deadline = c
        .opt_parsed("call_deadline")?
        .ok_or_else(|| StorageError::corrupt("fa_requests", "call_deadline", "NULL"))?;
    Ok(Some(CallRef {
        call_id,
        title: c.get::<Option<String>>("call_title")?.unwrap_or_default(),
        deadline,
        url: c.get::<Option<String>>("call_url")?.unwrap_or_default(),
    }))
}

/// Inserts a request; `false` when its `open_key` is already taken by an
/// open proposal (nothing inserted).
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn insert_request(conn: &mut AnyConnection, row: &HelpRequest) -> Result<bool, StorageError> {
    let result = sqlx::query(
        "INSERT INTO fa_requests (request_id, origin, structure_id, network_id, function_code, description, urgency, \
         modality, due_on, estimated_minutes, status, facilitator_id, week_start, reasons, declined_by, created_on, \
         open_key, created_at, offered_at, kind, call_id, call_title, call_deadline, call_url) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, \
         $22, $23, $24) ON CONFLICT DO NOTHING",
    )
    .bind(row.request_id.clone())
    .bind(row.origin.clone())
    .bind(row.structure_id.clone())
    .bind(row.network_id.clone())
    .bind(row.function.clone())
    .bind(row.description.clone())
    .bind(row.urgency.clone())
    .bind(row.modality.clone())
    .bind(row.due_on.map(|d| d.to_string()))
    .bind(i64::from(row.estimated_minutes))
    .bind(row.status.clone())
    .bind(row.facilitator_id.clone())
    .bind(row.week_start.map(|d| d.to_string()))
    .bind(row.reasons.join("\n"))
    .bind(join(&row.declined_by))
    .bind(row.created_on.to_string())
    .bind(row.open_key.clone())
    .bind(row.created_at.map(rfc3339))
    .bind(row.offered_at.map(rfc3339))
    .bind(row.kind.clone())
    .bind(row.call.as_ref().map(|c| c.call_id.clone()))
    .bind(row.call.as_ref().map(|c| c.title.clone()))
    .bind(row.call.as_ref().map(|c| c.deadline.to_string()))
    .bind(row.call.as_ref().map(|c| c.url.clone()))
    .execute(&mut *conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Saves the mutable state of a request.
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn update_request(conn: &mut AnyConnection, row: &HelpRequest) -> Result<(), StorageError> {
    sqlx::query(
        "UPDATE fa_requests SET status = $1, facilitator_id = $2, week_start = $3, reasons = $4, declined_by = $5, \
         open_key = $6, offered_at = $7, accepted_at = $8, closed_at = $9, escalated_at = $10, overdue_at = $11 \
         WHERE request_id = $12",
    )
    .bind(row.status.clone())
    .bind(row.facilitator_id.clone())
    .bind(row.week_start.map(|d| d.to_string()))
    .bind(row.reasons.join("\n"))
    .bind(join(&row.declined_by))
    .bind(row.open_key.clone())
    .bind(row.offered_at.map(rfc3339))
    .bind(row.accepted_at.map(rfc3339))
    .bind(row.closed_at.map(rfc3339))
    .bind(row.escalated_at.map(rfc3339))
    .bind(row.overdue_at.map(rfc3339))
    .bind(row.request_id.clone())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Locks a request's row until the end of the transaction, so answers and
/// interventions on one request are serialised on PostgreSQL. Returns
/// whether it exists.
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn lock_request(conn: &mut AnyConnection, id: &str) -> Result<bool, StorageError> {
    let result = sqlx::query("UPDATE fa_requests SET status = status WHERE request_id = $1")
        .bind(id.to_owned())
        .execute(&mut *conn)
        .await?;
    Ok(result.rows_affected() == 1)
}

/// One request.
///
/// # Errors
/// [`StorageError`] on a database error or an invalid stored value.
pub async fn request(conn: &mut AnyConnection, id: &str) -> Result<Option<HelpRequest>, StorageError> {
    let row = sqlx::query(&format!(
        "SELECT {REQUEST_COLUMNS} FROM fa_requests r LEFT JOIN fa_facilitators f \
         ON f.facilitator_id = r.facilitator_id WHERE r.request_id = $1"
    ))
    .bind(id.to_owned())
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(decode_request).transpose()
}

/// Requests and proposals that are not closed (of one structure, or all),
/// oldest first.
///
/// # Errors
/// [`StorageError`] on a database error or an invalid stored value.
pub async fn open_requests(
    conn: &mut AnyConnection,
    structure: Option<&str>,
) -> Result<Vec<HelpRequest>, StorageError> {
    let sql = format!(
        "SELECT {REQUEST_COLUMNS} FROM fa_requests r LEFT JOIN fa_facilitators f \
         ON f.facilitator_id = r.facilitator_id WHERE r.status <> 'closed'"
    );
    let rows = match structure {
        Some(id) => {
            sqlx::query(&format!("{sql} AND r.structure_id = $1 ORDER BY r.request_id"))
                .bind(id.to_owned())
                .fetch_all(&mut *conn)
                .await?
        }
        None => {
            sqlx::query(&format!("{sql} ORDER BY r.request_id"))
                .fetch_all(&mut *conn)
                .await?
        }
    };
    rows.iter().map(decode_request).collect()
}

/// Open requests and proposals of one network, or of one structure of it,
/// oldest first (what a scoped caller may list).
///
/// # Errors
/// [`StorageError`] on a database error or an invalid stored value.
pub async fn open_requests_in(
    conn: &mut AnyConnection,
    network: &str,
    structure: Option<&str>,
) -> Result<Vec<HelpRequest>, StorageError> {
    let sql = format!(
        "SELECT {REQUEST_COLUMNS} FROM fa_requests r LEFT JOIN fa_facilitators f \
         ON f.facilitator_id = r.facilitator_id WHERE r.status <> 'closed' AND r.network_id = $1"
    );
    let rows = match structure {
        Some(id) => {
            sqlx::query(&format!("{sql} AND r.structure_id = $2 ORDER BY r.request_id"))
                .bind(network.to_owned())
                .bind(id.to_owned())
                .fetch_all(&mut *conn)
                .await?
        }
        None => {
            sqlx::query(&format!("{sql} ORDER BY r.request_id"))
                .bind(network.to_owned())
                .fetch_all(&mut *conn)
                .await?
        }
    };
    rows.iter().map(decode_request).collect()
}

/// Ids of the requests still `offered` whose last offer is at or before
/// `cutoff`, oldest first.
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn overdue_offers(conn: &mut AnyConnection, cutoff: DateTime<Utc>) -> Result<Vec<String>, StorageError> {
    let rows = sqlx::query(
        "SELECT request_id FROM fa_requests WHERE status = 'offered' AND offered_at IS NOT NULL \
         AND offered_at <= $1 ORDER BY request_id",
    )
    .bind(rfc3339(cutoff))
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| r.try_get("request_id").map_err(StorageError::from))
        .collect()
}

/// The timestamps of a network's requests that were accepted or closed.
///
/// # Errors
/// [`StorageError`] on a database error or an invalid stored value.
pub async fn timings(conn: &mut AnyConnection, network: &str) -> Result<Vec<RequestTiming>, StorageError> {
    let rows = sqlx::query(
        "SELECT facilitator_id, network_id, created_at, offered_at, accepted_at, closed_at FROM fa_requests \
         WHERE network_id = $1 AND facilitator_id IS NOT NULL AND created_at IS NOT NULL \
         AND (accepted_at IS NOT NULL OR closed_at IS NOT NULL) ORDER BY request_id",
    )
    .bind(network.to_owned())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|row| {
            let c = Columns::of(row, "fa_requests");
            Ok(RequestTiming {
                facilitator_id: c.get("facilitator_id")?,
                network: c.get("network_id")?,
                created_at: c
                    .opt_instant("created_at")?
                    .ok_or_else(|| StorageError::corrupt("fa_requests", "created_at", "NULL"))?,
                offered_at: c.opt_instant("offered_at")?,
                accepted_at: c.opt_instant("accepted_at")?,
                closed_at: c.opt_instant("closed_at")?,
            })
        })
        .collect()
}

// ----- interventions -----

/// A recorded intervention.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterventionRow {
    /// Idempotency key.
    pub key: String,
    /// The request it answers.
    pub request_id: String,
    /// Who intervened.
    pub facilitator_id: String,
    /// The structure.
    pub structure_id: String,
    /// Its network.
    pub network_id: String,
    /// The request's function.
    pub function: String,
    /// Duration.
    pub minutes: u32,
    /// internal or external.
    pub beneficiary: String,
    /// Date.
    pub on: NaiveDate,
    /// The member of the structure helped.
    pub person_id: Option<String>,
    /// Their autonomy afterwards (0–4).
    pub autonomy_after: Option<u8>,
    /// Their autonomy before (0–4).
    pub autonomy_before: Option<u8>,
    /// CRA `TypeActivite` code.
    pub activity_type: String,
    /// CRA `TypeLieu` code.
    pub place: String,
    /// CRA `Thematique` codes.
    pub themes: Vec<String>,
}

/// Inserts an intervention; `false` when its key was already recorded.
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn insert_intervention(conn: &mut AnyConnection, row: &InterventionRow) -> Result<bool, StorageError> {
    let result = sqlx::query(
        "INSERT INTO fa_interventions (intervention_key, request_id, facilitator_id, structure_id, network_id, \
         function_code, minutes, beneficiary, on_date, person_id, autonomy_after, autonomy_before, activity_type, \
         place, themes) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
         ON CONFLICT (intervention_key) DO NOTHING",
    )
    .bind(row.key.clone())
    .bind(row.request_id.clone())
    .bind(row.facilitator_id.clone())
    .bind(row.structure_id.clone())
    .bind(row.network_id.clone())
    .bind(row.function.clone())
    .bind(i64::from(row.minutes))
    .bind(row.beneficiary.clone())
    .bind(row.on.to_string())
    .bind(row.person_id.clone())
    .bind(row.autonomy_after.map(i64::from))
    .bind(row.autonomy_before.map(i64::from))
    .bind(row.activity_type.clone())
    .bind(row.place.clone())
    .bind(join(&row.themes))
    .execute(&mut *conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Whether an intervention key is recorded.
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn intervention_exists(conn: &mut AnyConnection, key: &str) -> Result<bool, StorageError> {
    let row = sqlx::query("SELECT 1 AS one FROM fa_interventions WHERE intervention_key = $1")
        .bind(key.to_owned())
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.is_some())
}

/// Interventions dated from `from` to `to` (inclusive), in the domain's terms.
///
/// # Errors
/// [`StorageError`] on a database error or an invalid stored value.
pub async fn interventions(
    conn: &mut AnyConnection,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<Intervention>, StorageError> {
    let rows = sqlx::query(
        "SELECT facilitator_id, structure_id, network_id, function_code, minutes, beneficiary, on_date, \
         activity_type, place, themes FROM fa_interventions WHERE on_date >= $1 AND on_date <= $2 ORDER BY on_date, intervention_key",
    )
    .bind(from.to_string())
    .bind(to.to_string())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|row| {
            let c = Columns::of(row, "fa_interventions");
            Ok(Intervention {
                facilitator_id: c.get("facilitator_id")?,
                structure_id: c.get("structure_id")?,
                network: c.get("network_id")?,
                function: c.get("function_code")?,
                activity_type: c.parsed("activity_type")?,
                place: c.parsed("place")?,
                themes: split(&c.get::<String>("themes")?),
                minutes: c.integer("minutes")?,
                beneficiary: c.parsed::<Beneficiary>("beneficiary")?,
                on: c.parsed("on_date")?,
            })
        })
        .collect()
}

// ----- read model of the inventory -----

/// A structure snapshot to keep.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// Where the structure is.
    pub place: StructurePlace,
    /// The inventory's version.
    pub version: i64,
    /// The encoded `vigie.inventory.v1.Structure`.
    pub bytes: Vec<u8>,
}

/// Stores `snapshots` (one per structure), deletes the people of `removed`
/// and places each of `placed` (`(person_id, structure_id)`, each person
/// once) — with multi-row statements.
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn save_snapshots(
    conn: &mut AnyConnection,
    snapshots: &[Snapshot],
    changes: &BatchChanges,
) -> Result<(), StorageError> {
    let structures: Vec<Vec<Value>> = snapshots
        .iter()
        .map(|s| {
            vec![
                Value::from(s.place.structure_id.as_str()),
                Value::from(s.place.network.as_str()),
                Value::from(s.place.commune_insee.as_str()),
                Value::from(s.place.department_code.as_str()),
                Value::from(s.version),
                Value::Bytes(s.bytes.clone()),
            ]
        })
        .collect();
    write_batch(conn, &SNAPSHOTS, structures, changes).await?;
    Ok(())
}

/// The read model of inventory snapshots, for [`write_batch`].
const SNAPSHOTS: SnapshotTables = SnapshotTables {
    structures: "fa_structures",
    structure_columns: &[
        "structure_id",
        "network_id",
        "commune_insee",
        "department_code",
        "version",
        "snapshot",
    ],
    people: "fa_people",
    people_network: false,
};

/// Where a structure is, from the read model.
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn structure_place(
    conn: &mut AnyConnection,
    structure: &str,
) -> Result<Option<StructurePlace>, StorageError> {
    let row = sqlx::query(
        "SELECT structure_id, network_id, commune_insee, department_code FROM fa_structures WHERE structure_id = $1",
    )
    .bind(structure.to_owned())
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|r| {
        Ok(StructurePlace {
            structure_id: r.try_get("structure_id")?,
            network: r.try_get("network_id")?,
            commune_insee: r.try_get("commune_insee")?,
            department_code: r.try_get("department_code")?,
        })
    })
    .transpose()
}

/// The structure of a person, from the read model.
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn person_structure(conn: &mut AnyConnection, person: &str) -> Result<Option<String>, StorageError> {
    let row = sqlx::query("SELECT structure_id FROM fa_people WHERE person_id = $1")
        .bind(person.to_owned())
        .fetch_optional(&mut *conn)
        .await?;
    row.map(|r| r.try_get("structure_id").map_err(StorageError::from))
        .transpose()
}

/// Every structure of a network in the read model.
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn network_places(conn: &mut AnyConnection, network: &str) -> Result<Vec<StructurePlace>, StorageError> {
    let rows = sqlx::query(
        "SELECT structure_id, network_id, commune_insee, department_code FROM fa_structures WHERE network_id = $1 \
         ORDER BY structure_id",
    )
    .bind(network.to_owned())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(StructurePlace {
                structure_id: r.try_get("structure_id")?,
                network: r.try_get("network_id")?,
                commune_insee: r.try_get("commune_insee")?,
                department_code: r.try_get("department_code")?,
            })
        })
        .collect()
}

/// Replaces a structure's last fragility assessment in the read model.
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn save_fragility(conn: &mut AnyConnection, fragile: &FragileStructure) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO fa_fragility (structure_id, network_id, band, exposed_functions) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (structure_id) DO UPDATE SET network_id = excluded.network_id, band = excluded.band, \
         exposed_functions = excluded.exposed_functions",
    )
    .bind(fragile.structure_id.clone())
    .bind(fragile.network.clone())
    .bind(fragile.band.clone())
    .bind(join(&fragile.exposed_functions))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The last fragility assessment of a network's structures.
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn fragility(conn: &mut AnyConnection, network: &str) -> Result<Vec<FragileStructure>, StorageError> {
    let rows = sqlx::query(
        "SELECT structure_id, network_id, band, exposed_functions FROM fa_fragility WHERE network_id = $1 \
         ORDER BY structure_id",
    )
    .bind(network.to_owned())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            let functions: String = r.try_get("exposed_functions")?;
            Ok(FragileStructure {
                structure_id: r.try_get("structure_id")?,
                network: r.try_get("network_id")?,
                band: r.try_get("band")?,
                exposed_functions: split(&functions),
            })
        })
        .collect()
}
