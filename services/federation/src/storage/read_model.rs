//! The regional read model: per structure only what the aggregates need.

use std::collections::HashMap;

use chrono::NaiveDate;
use sqlx::{AnyConnection, Row};
use vigie_federation_domain::facts::{Activity, Band, StructureFacts};

use super::{measure, parse_date, StorageError};

/// The vital function reporting to funders rests on (inventory catalogue).
const FUNDER_REPORTING: &str = "funder_reporting";

/// Where a structure belongs, from `structure.inventoried`; a newer version
/// only. Returns whether it was applied.
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn save_place(
    conn: &mut AnyConnection,
    structure_id: &str,
    network: &str,
    department: &str,
    version: i64,
) -> Result<bool, StorageError> {
    let held: Option<i64> = sqlx::query("SELECT version FROM fe_structures WHERE structure_id = $1")
        .bind(structure_id.to_owned())
        .fetch_optional(&mut *conn)
        .await?
        .map(|row| row.try_get(0))
        .transpose()?;
    if held.is_some_and(|held| held >= version) {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO fe_structures (structure_id, network_id, department_code, version) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (structure_id) DO UPDATE SET network_id = excluded.network_id, \
         department_code = excluded.department_code, version = excluded.version",
    )
    .bind(structure_id.to_owned())
    .bind(network.to_owned())
    .bind(department.to_owned())
    .bind(version)
    .execute(&mut *conn)
    .await?;
    Ok(true)
}

/// A structure's assessed fragility, reduced to counts and codes.
#[derive(Debug, Clone, PartialEq)]
pub struct Assessment {
    /// The structure.
    pub structure_id: String,
    /// Its network (the fragility event carries it).
    pub network: String,
    /// Band code: unknown, low, moderate, high, critical.
    pub band: Band,
    /// Score, absent for an unknown band.
    pub score: Option<u32>,
    /// Functions nobody holds.
    pub orphan_functions: Vec<String>,
    /// Functions one person holds.
    pub single_functions: Vec<String>,
    /// Σ key-person share of directors.
    pub director_dependency: f64,
    /// Holders of `funding_applications`.
    pub funding_holders: u32,
    /// Date of the assessment.
    pub assessed_on: NaiveDate,
}

/// Saves an assessment unless an assessment of a later date is held
/// (assessments of the same date replace each other: the later event wins).
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn save_assessment(conn: &mut AnyConnection, a: &Assessment) -> Result<bool, StorageError> {
    let held: Option<Option<String>> = sqlx::query("SELECT assessed_on FROM fe_structures WHERE structure_id = $1")
        .bind(a.structure_id.clone())
        .fetch_optional(&mut *conn)
        .await?
        .map(|row| row.try_get(0))
        .transpose()?;
    let on = a.assessed_on.format("%Y-%m-%d").to_string();
    if let Some(Some(held)) = &held {
        if held.as_str() > on.as_str() {
            return Ok(false);
        }
    }
    if held.is_none() {
        // Assessed before its inventory arrived: placed in its network, the
        // department follows with `structure.inventoried`.
        sqlx::query(
            "INSERT INTO fe_structures (structure_id, network_id, department_code, version) VALUES ($1, $2, '', 0)",
        )
        .bind(a.structure_id.clone())
        .bind(a.network.clone())
        .execute(&mut *conn)
        .await?;
    }
    sqlx::query(
        "UPDATE fe_structures SET band = $2, score = $3, orphan_functions = $4, single_functions = $5, \
         director_dependency = $6, funding_holders = $7, assessed_on = $8 WHERE structure_id = $1",
    )
    .bind(a.structure_id.clone())
    .bind(band_code(a.band).to_owned())
    .bind(a.score.map(i64::from))
    .bind(a.orphan_functions.join(","))
    .bind(a.single_functions.join(","))
    .bind(a.director_dependency)
    .bind(i64::from(a.funding_holders))
    .bind(on)
    .execute(&mut *conn)
    .await?;
    Ok(true)
}

/// Records a known deadline of a call's stage for a structure (idempotent).
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn save_deadline(
    conn: &mut AnyConnection,
    structure_id: &str,
    call_id: &str,
    stage_kind: &str,
    deadline: NaiveDate,
) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO fe_deadlines (structure_id, call_id, stage_kind, deadline) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (structure_id, call_id, stage_kind, deadline) DO NOTHING",
    )
    .bind(structure_id.to_owned())
    .bind(call_id.to_owned())
    .bind(stage_kind.to_owned())
    .bind(deadline.format("%Y-%m-%d").to_string())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The latest acknowledgement of a call by a structure.
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn save_ack(
    conn: &mut AnyConnection,
    structure_id: &str,
    call_id: &str,
    status: &str,
) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO fe_acks (structure_id, call_id, status) VALUES ($1, $2, $3) \
         ON CONFLICT (structure_id, call_id) DO UPDATE SET status = excluded.status",
    )
    .bind(structure_id.to_owned())
    .bind(call_id.to_owned())
    .bind(status.to_owned())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Adds `delta` to a structure's activity measure of a year (the consumer's
/// inbox makes each event count once).
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn add_activity(
    conn: &mut AnyConnection,
    structure_id: &str,
    year: i32,
    measure: &str,
    delta: u64,
) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO fe_activity (structure_id, year, measure, value) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (structure_id, year, measure) DO UPDATE SET value = fe_activity.value + excluded.value",
    )
    .bind(structure_id.to_owned())
    .bind(i64::from(year))
    .bind(measure.to_owned())
    .bind(i64::try_from(delta).unwrap_or(i64::MAX))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The facts of every structure of the region: its place and fragility, its
/// open deadlines from `from` on (calls it has not acknowledged as submitted
/// or not concerned), its reporting duties due from `from` on and not marked
/// sent, and its activity and grant decisions of `year`.
///
/// # Errors
/// [`StorageError`] on a database error or a corrupt row.
pub async fn facts(conn: &mut AnyConnection, from: NaiveDate, year: i32) -> Result<Vec<StructureFacts>, StorageError> {
    let rows = sqlx::query(
        "SELECT structure_id, network_id, department_code, band, score, orphan_functions, single_functions, \
         director_dependency, funding_holders, assessed_on FROM fe_structures ORDER BY structure_id",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut index = HashMap::with_capacity(rows.len());
    let mut facts = Vec::with_capacity(rows.len());
    for row in rows {
        let id: String = row.try_get(0)?;
        let band: String = row.try_get(3)?;
        let score: Option<i64> = row.try_get(4)?;
        let orphans: String = row.try_get(5)?;
        let singles: String = row.try_get(6)?;
        let holders: i64 = row.try_get(8)?;
        let assessed_on: Option<String> = row.try_get(9)?;
        let orphan_functions = split(&orphans);
        let single_holder_functions = split(&singles);
        // Reporting rests on nobody or one person when the assessment says so;
        // a structure never assessed has nobody known to hold it (as its
        // funding holders count 0).
        let reporting_fragile = assessed_on.is_none()
            || orphan_functions
                .iter()
                .chain(&single_holder_functions)
                .any(|code| code == FUNDER_REPORTING);
        index.insert(id, facts.len());
        facts.push(StructureFacts {
            network: row.try_get(1)?,
            department: row.try_get(2)?,
            band: parse_band(&band).ok_or_else(|| StorageError::corrupt("fe_structures", "band", &band))?,
            score: score.and_then(|s| u32::try_from(s).ok()),
            orphan_functions,
            single_holder_functions,
            director_dependency: row.try_get(7)?,
            funding_holders: u32::try_from(holders).unwrap_or(0),
            open_deadlines: Vec::new(),
            reporting_fragile,
            open_duties: Vec::new(),
            activity: Activity::default(),
        });
    }
    let deadlines = sqlx::query(
        "SELECT d.structure_id, d.deadline FROM fe_deadlines d LEFT JOIN fe_acks a \
         ON a.structure_id = d.structure_id AND a.call_id = d.call_id \
         WHERE d.deadline >= $1 AND (a.status IS NULL OR a.status = 'in_progress') \
         ORDER BY d.structure_id, d.deadline",
    )
    .bind(from.format("%Y-%m-%d").to_string())
    .fetch_all(&mut *conn)
    .await?;
    for row in deadlines {
        let id: String = row.try_get(0)?;
        let text: String = row.try_get(1)?;
        if let Some(&i) = index.get(&id) {
            facts[i]
                .open_deadlines
                .push(parse_date("fe_deadlines", "deadline", &text)?);
        }
    }
    let activity = sqlx::query("SELECT structure_id, measure, value FROM fe_activity WHERE year = $1")
        .bind(i64::from(year))
        .fetch_all(&mut *conn)
        .await?;
    for row in activity {
        let id: String = row.try_get(0)?;
        let name: String = row.try_get(1)?;
        let value = u64::try_from(row.try_get::<i64, _>(2)?).unwrap_or(0);
        let Some(&i) = index.get(&id) else { continue };
        let a = &mut facts[i].activity;
        match name.as_str() {
            measure::REMINDERS_SENT => a.reminders_sent = value,
            measure::REMINDERS_ACKNOWLEDGED => a.reminders_acknowledged = value,
            measure::MINUTES_INTERNAL => a.minutes_internal = value,
            measure::MINUTES_EXTERNAL => a.minutes_external = value,
            measure::TRAINING_COMPLETIONS => a.training_completions = value,
            other => return Err(StorageError::corrupt("fe_activity", "measure", other)),
        }
    }
    super::grants::add_grants_and_duties(conn, &index, &mut facts, from, year).await?;
    Ok(facts)
}

fn split(list: &str) -> Vec<String> {
    list.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

/// The stored code of a band.
pub fn band_code(band: Band) -> &'static str {
    match band {
        Band::Unknown => "unknown",
        Band::Low => "low",
        Band::Moderate => "moderate",
        Band::High => "high",
        Band::Critical => "critical",
    }
}

fn parse_band(code: &str) -> Option<Band> {
    Some(match code {
        "unknown" => Band::Unknown,
        "low" => Band::Low,
        "moderate" => Band::Moderate,
        "high" => Band::High,
        "critical" => Band::Critical,
        _ => return None,
    })
}
