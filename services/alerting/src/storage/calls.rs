//! Calls, their stages and revisions, and the raw payload of each import.

use chrono::{DateTime, NaiveTime, Utc};
use sqlx::{AnyConnection, Row};
use vigie_alerting_domain::call::{Scale, TerritoryCode};
use vigie_alerting_domain::model::{Recurrence, Stage, StageKind};
use vigie_proto::dates::rfc3339;

use crate::app::views::{CallRecord, StageRecord};

use super::{to_json, StorageError};
use vigie_platform::db::columns::Columns;

/// `scale:code`.
pub fn area_code(area: &TerritoryCode) -> String {
    area.to_string()
}

/// Parses `scale:code`.
pub fn parse_area(value: &str) -> Option<TerritoryCode> {
    let (scale, code) = value.split_once(':')?;
    Some(TerritoryCode {
        scale: Scale::from_code(scale)?,
        code: code.to_owned(),
    })
}

fn areas_to_json(areas: &[TerritoryCode]) -> String {
    to_json(&areas.iter().map(area_code).collect::<Vec<_>>())
}

fn areas_from_json(c: &Columns<'_>, column: &'static str) -> Result<Vec<TerritoryCode>, StorageError> {
    c.list(column)?
        .iter()
        .map(|a| parse_area(a).ok_or_else(|| StorageError::corrupt("al_calls", column, a)))
        .collect()
}

fn recurrence_from(code: &str) -> Option<Recurrence> {
    match code {
        "oneoff" => Some(Recurrence::Oneoff),
        "ongoing" => Some(Recurrence::Ongoing),
        "recurring" => Some(Recurrence::Recurring),
        _ => None,
    }
}

/// Saves a call's own columns (insert or update in place).
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn save_call(conn: &mut AnyConnection, call: &CallRecord) -> Result<(), StorageError> {
    let next_deadline = call
        .stages
        .iter()
        .filter(|s| !s.withdrawn)
        .map(|s| s.stage.date)
        .max()
        .map(|d| d.to_string());
    sqlx::query(
        "INSERT INTO al_calls (call_id, source, source_ref, title, funders, programmes, info_url, application_url, \
         themes, audiences, perimeter_name, perimeter_scale, areas, exclusions, unresolved, recurrence, cancelled, \
         revision, next_deadline, raw, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21) \
         ON CONFLICT (call_id) DO UPDATE SET title = excluded.title, funders = excluded.funders, \
         programmes = excluded.programmes, info_url = excluded.info_url, application_url = excluded.application_url, \
         themes = excluded.themes, audiences = excluded.audiences, perimeter_name = excluded.perimeter_name, \
         perimeter_scale = excluded.perimeter_scale, areas = excluded.areas, exclusions = excluded.exclusions, \
         unresolved = excluded.unresolved, recurrence = excluded.recurrence, cancelled = excluded.cancelled, \
         revision = excluded.revision, next_deadline = excluded.next_deadline, raw = excluded.raw, \
         updated_at = excluded.updated_at",
    )
    .bind(call.call_id.clone())
    .bind(call.source.clone())
    .bind(call.source_ref.clone())
    .bind(call.title.clone())
    .bind(to_json(&call.funders))
    .bind(to_json(&call.programmes))
    .bind(call.info_url.clone())
    .bind(call.application_url.clone())
    .bind(to_json(&call.themes))
    .bind(to_json(&call.audiences))
    .bind(call.perimeter_name.clone())
    .bind(call.perimeter_scale.clone())
    .bind(areas_to_json(&call.areas))
    .bind(areas_to_json(&call.exclusions))
    .bind(call.unresolved.clone())
    .bind(call.recurrence.map(|r| r.code()).unwrap_or("").to_owned())
    .bind(i64::from(call.cancelled))
    .bind(i64::from(call.revision))
    .bind(next_deadline)
    .bind(call.raw.clone())
    .bind(rfc3339(call.updated_at))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Saves the current version of a stage, and records it in the revisions
/// history when `import_id` is given (a new revision).
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn save_stage(
    conn: &mut AnyConnection,
    call_id: &str,
    stage: &StageRecord,
    new_revision: Option<(&str, DateTime<Utc>)>,
) -> Result<(), StorageError> {
    let time = stage.stage.time.map(|t| t.format("%H:%M").to_string());
    sqlx::query(
        "INSERT INTO al_stages (call_id, kind, revision, deadline, deadline_time, timezone, wording, withdrawn, \
         known_since) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (call_id, kind) DO UPDATE SET \
         revision = excluded.revision, deadline = excluded.deadline, deadline_time = excluded.deadline_time, \
         timezone = excluded.timezone, wording = excluded.wording, withdrawn = excluded.withdrawn, \
         known_since = excluded.known_since",
    )
    .bind(call_id.to_owned())
    .bind(stage.stage.kind.code().to_owned())
    .bind(i64::from(stage.revision))
    .bind(stage.stage.date.to_string())
    .bind(time.clone())
    .bind(stage.stage.timezone.name().to_owned())
    .bind(stage.stage.wording.clone())
    .bind(i64::from(stage.withdrawn))
    .bind(stage.known_since.map(rfc3339))
    .execute(&mut *conn)
    .await?;
    if let Some((import_id, at)) = new_revision {
        sqlx::query(
            "INSERT INTO al_stage_revisions (call_id, kind, revision, deadline, deadline_time, timezone, wording, \
             recorded_at, import_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING",
        )
        .bind(call_id.to_owned())
        .bind(stage.stage.kind.code().to_owned())
        .bind(i64::from(stage.revision))
        .bind(stage.stage.date.to_string())
        .bind(time)
        .bind(stage.stage.timezone.name().to_owned())
        .bind(stage.stage.wording.clone())
        .bind(rfc3339(at))
        .bind(import_id.to_owned())
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

const CALL_COLUMNS: &str = "call_id, source, source_ref, title, funders, programmes, info_url, application_url, \
    themes, audiences, perimeter_name, perimeter_scale, areas, exclusions, unresolved, recurrence, cancelled, \
    revision, raw, updated_at";

fn call_from_row(row: &sqlx::any::AnyRow) -> Result<CallRecord, StorageError> {
    let c = Columns::of(row, "al_calls");
    let get = |column: &'static str| c.get::<String>(column);
    Ok(CallRecord {
        call_id: get("call_id")?,
        source: get("source")?,
        source_ref: get("source_ref")?,
        title: get("title")?,
        funders: c.list("funders")?,
        programmes: c.list("programmes")?,
        info_url: get("info_url")?,
        application_url: get("application_url")?,
        themes: c.list("themes")?,
        audiences: c.list("audiences")?,
        perimeter_name: get("perimeter_name")?,
        perimeter_scale: get("perimeter_scale")?,
        areas: areas_from_json(&c, "areas")?,
        exclusions: areas_from_json(&c, "exclusions")?,
        unresolved: get("unresolved")?,
        recurrence: recurrence_from(&get("recurrence")?),
        cancelled: c.flag("cancelled")?,
        revision: c.integer("revision")?,
        raw: get("raw")?,
        updated_at: c.instant("updated_at")?,
        stages: Vec::new(),
    })
}

fn stage_from_row(row: &sqlx::any::AnyRow) -> Result<(String, StageRecord), StorageError> {
    let c = Columns::of(row, "al_stages");
    let kind: String = c.get("kind")?;
    let time: Option<String> = c.get("deadline_time")?;
    let stage = Stage {
        kind: StageKind::from_code(&kind).map_err(|_| StorageError::corrupt("al_stages", "kind", &kind))?,
        date: c.date("deadline")?,
        time: time
            .map(|t| {
                NaiveTime::parse_from_str(&t, "%H:%M")
                    .map_err(|_| StorageError::corrupt("al_stages", "deadline_time", &t))
            })
            .transpose()?,
        timezone: c.parsed("timezone")?,
        wording: c.get("wording")?,
    };
    Ok((
        row.try_get("call_id")?,
        StageRecord {
            stage,
            revision: c.integer("revision")?,
            withdrawn: c.flag("withdrawn")?,
            known_since: c.opt_instant("known_since")?,
        },
    ))
}

async fn attach_stages(conn: &mut AnyConnection, calls: &mut [CallRecord], filter: &str) -> Result<(), StorageError> {
    let rows = sqlx::query(&format!(
        "SELECT call_id, kind, revision, deadline, deadline_time, timezone, wording, withdrawn, known_since FROM al_stages {filter} \
         ORDER BY call_id, deadline, kind"
    ))
    .fetch_all(&mut *conn)
    .await?;
    let index: std::collections::HashMap<String, usize> =
        calls.iter().enumerate().map(|(i, c)| (c.call_id.clone(), i)).collect();
    for row in &rows {
        let (call_id, stage) = stage_from_row(row)?;
        if let Some(&i) = index.get(&call_id) {
            calls[i].stages.push(stage);
        }
    }
    Ok(())
}

/// One call by its source identity, with its stages.
///
/// # Errors
/// [`StorageError`] on a database error or an invalid stored value.
pub async fn call_by_source(
    conn: &mut AnyConnection,
    source: &str,
    source_ref: &str,
) -> Result<Option<CallRecord>, StorageError> {
    let row = sqlx::query(&format!(
        "SELECT {CALL_COLUMNS} FROM al_calls WHERE source = $1 AND source_ref = $2"
    ))
    .bind(source.to_owned())
    .bind(source_ref.to_owned())
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let mut call = vec![call_from_row(&row)?];
    let rows = sqlx::query(
        "SELECT call_id, kind, revision, deadline, deadline_time, timezone, wording, withdrawn, known_since \
         FROM al_stages WHERE call_id = $1 ORDER BY deadline, kind",
    )
    .bind(call[0].call_id.clone())
    .fetch_all(&mut *conn)
    .await?;
    for row in &rows {
        call[0].stages.push(stage_from_row(row)?.1);
    }
    Ok(call.pop())
}

/// One call by id, with its stages.
///
/// # Errors
/// [`StorageError`] on a database error or an invalid stored value.
pub async fn call(conn: &mut AnyConnection, call_id: &str) -> Result<Option<CallRecord>, StorageError> {
    let row = sqlx::query("SELECT source, source_ref FROM al_calls WHERE call_id = $1")
        .bind(call_id.to_owned())
        .fetch_optional(&mut *conn)
        .await?;
    match row {
        Some(row) => {
            let source: String = row.try_get("source")?;
            let source_ref: String = row.try_get("source_ref")?;
            call_by_source(conn, &source, &source_ref).await
        }
        None => Ok(None),
    }
}

/// Calls with stages, ordered by id: every call, or only those with a stage
/// on or after `from` (as `YYYY-MM-DD`).
///
/// # Errors
/// [`StorageError`] on a database error or an invalid stored value.
pub async fn calls(
    conn: &mut AnyConnection,
    deadline_from: Option<chrono::NaiveDate>,
) -> Result<Vec<CallRecord>, StorageError> {
    let (call_filter, stage_filter) = match deadline_from {
        Some(from) => (
            // Permanent calls (no deadline) stay open.
            format!("WHERE next_deadline IS NULL OR next_deadline >= '{from}'"),
            format!(
                "WHERE call_id IN (SELECT call_id FROM al_calls WHERE next_deadline IS NULL OR next_deadline >= '{from}')"
            ),
        ),
        None => (String::new(), String::new()),
    };
    let rows = sqlx::query(&format!(
        "SELECT {CALL_COLUMNS} FROM al_calls {call_filter} ORDER BY call_id"
    ))
    .fetch_all(&mut *conn)
    .await?;
    let mut out = rows.iter().map(call_from_row).collect::<Result<Vec<_>, _>>()?;
    attach_stages(conn, &mut out, &stage_filter).await?;
    Ok(out)
}

/// Records the raw payload of an import.
///
/// # Errors
/// [`StorageError`] on a database error.
#[allow(clippy::too_many_arguments)]
pub async fn save_import(
    conn: &mut AnyConnection,
    import_id: &str,
    source: &str,
    file_name: &str,
    at: DateTime<Utc>,
    payload: &[u8],
    calls: usize,
    problems: &[String],
) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO al_imports (import_id, source, file_name, received_at, payload, calls, problems) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(import_id.to_owned())
    .bind(source.to_owned())
    .bind(file_name.to_owned())
    .bind(rfc3339(at))
    .bind(payload.to_vec())
    .bind(i64::try_from(calls).unwrap_or(i64::MAX))
    .bind(to_json(problems))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Number of imports recorded (raw payloads kept).
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn import_count(conn: &mut AnyConnection) -> Result<i64, StorageError> {
    Ok(sqlx::query("SELECT COUNT(*) AS n FROM al_imports")
        .fetch_one(&mut *conn)
        .await?
        .try_get("n")?)
}
