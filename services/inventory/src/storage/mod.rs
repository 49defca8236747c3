//! Persistence of the inventory on PostgreSQL or SQLite (one SQL dialect
//! subset through `sqlx::Any`, see `docs/adr/0002-one-sql-dialect.md`).
//!
//! Functions take an `&mut AnyConnection` so that the application layer
//! decides the transaction: a state change and its events always commit
//! together. Reads used for change detection run inside that same
//! transaction.

mod migrations;
mod read;

use std::collections::HashMap;

use chrono::NaiveDate;
use sqlx::{AnyConnection, Row};
use vigie_fragility_model::model::{HoldingRecord, StructureInventory, StructureRecord};

pub use migrations::MIGRATIONS;
pub use read::{load, load_keys, load_one, load_structures, version_of};
use vigie_platform::db::multi_row::{execute_for_keys, fetch_for_keys, insert_rows, Value};
use vigie_platform::db::text_array;

pub use vigie_platform::db::StorageError;

/// The last assessment recorded for a structure (used to publish an event only
/// when the result changes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAssessment {
    /// Band code.
    pub band: String,
    /// Score, absent for `unknown`.
    pub score: Option<i64>,
    /// Canonical text of the whole result.
    pub fingerprint: String,
    /// Date of evaluation.
    pub evaluated_on: NaiveDate,
}

/// Which structures to read.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    /// Every structure of the instance.
    All,
    /// The structures of one network.
    Network(&'a str),
    /// One structure.
    Structure(&'a str),
    /// Several structures (at most a few hundred: on SQLite one placeholder
    /// each; on PostgreSQL one array parameter).
    Structures(&'a [String]),
}

impl Scope<'_> {
    /// The `WHERE` of the scope (empty for the whole instance) and the
    /// values of its parameters, on PostgreSQL when `postgres`.
    fn clause(&self, postgres: bool) -> (String, Vec<String>) {
        match self {
            Scope::All => (String::new(), vec![]),
            Scope::Network(network) => (" WHERE network_id = $1".into(), vec![(*network).to_owned()]),
            Scope::Structure(id) => (" WHERE structure_id = $1".into(), vec![(*id).to_owned()]),
            Scope::Structures(ids) if postgres => (
                " WHERE structure_id = ANY($1::text[])".into(),
                vec![text_array::write(ids)],
            ),
            Scope::Structures(ids) => {
                let placeholders = (1..=ids.len()).map(|n| format!("${n}")).collect::<Vec<_>>().join(", ");
                (format!(" WHERE structure_id IN ({placeholders})"), ids.to_vec())
            }
        }
    }
}

/// The structures (id → structure id) that currently employ these people.
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn structures_of_people(
    conn: &mut AnyConnection,
    person_ids: &[String],
) -> Result<HashMap<String, String>, StorageError> {
    let rows = fetch_for_keys(
        conn,
        "SELECT person_id, structure_id FROM inv_people WHERE person_id IN",
        person_ids,
    )
    .await?;
    rows.iter()
        .map(|row| Ok((row.try_get("person_id")?, row.try_get("structure_id")?)))
        .collect()
}

/// Replaces the stored inventory of each given structure (structure row
/// upserted, its people, functions and holdings re-inserted), and makes sure
/// their networks exist. `now` is the RFC 3339 time of the change.
///
/// Only rows that can exist are deleted first: those of the structures in
/// `existing` (already stored) and of the people in `movers` (stored under
/// another structure, which loses them). Skipping the others keeps a first
/// import of 100,000 structures free of pointless deletes.
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn replace(
    conn: &mut AnyConnection,
    structures: &[(&StructureInventory, i64)],
    existing: &[String],
    movers: &[String],
    now: &str,
) -> Result<(), StorageError> {
    if structures.is_empty() {
        return Ok(());
    }
    execute_for_keys(conn, "DELETE FROM inv_holdings WHERE structure_id IN", existing).await?;
    execute_for_keys(conn, "DELETE FROM inv_holdings WHERE person_id IN", movers).await?;
    execute_for_keys(conn, "DELETE FROM inv_functions WHERE structure_id IN", existing).await?;
    execute_for_keys(conn, "DELETE FROM inv_people WHERE structure_id IN", existing).await?;
    execute_for_keys(conn, "DELETE FROM inv_people WHERE person_id IN", movers).await?;

    let mut networks: Vec<String> = structures
        .iter()
        .map(|(inv, _)| inv.structure.network.clone())
        .collect();
    networks.sort();
    networks.dedup();
    let network_rows = networks
        .into_iter()
        .map(|n| vec![Value::from(n), Value::from(now)])
        .collect();
    insert_rows(
        conn,
        "inv_networks",
        &["network_id", "created_at"],
        "ON CONFLICT (network_id) DO NOTHING",
        network_rows,
    )
    .await?;

    let structure_rows = structures
        .iter()
        .map(|(inv, version)| {
            let s = &inv.structure;
            vec![
                Value::from(s.id.as_str()),
                Value::from(s.network.as_str()),
                Value::from(s.name.as_str()),
                Value::from(s.legal_form.as_str()),
                Value::from(s.siret.clone()),
                Value::from(s.rna.clone()),
                Value::from(s.region_code.as_str()),
                Value::from(s.department_code.as_str()),
                Value::from(s.commune_insee.as_str()),
                Value::from(*version),
                Value::from(now),
            ]
        })
        .collect();
    insert_rows(
        conn,
        "inv_structures",
        &[
            "structure_id",
            "network_id",
            "name",
            "legal_form",
            "siret",
            "rna",
            "region_code",
            "department_code",
            "commune_insee",
            "version",
            "updated_at",
        ],
        "ON CONFLICT (structure_id) DO UPDATE SET network_id = excluded.network_id, name = excluded.name, \
         legal_form = excluded.legal_form, siret = excluded.siret, rna = excluded.rna, \
         region_code = excluded.region_code, department_code = excluded.department_code, \
         commune_insee = excluded.commune_insee, version = excluded.version, updated_at = excluded.updated_at",
        structure_rows,
    )
    .await?;

    let mut people = Vec::new();
    let mut functions = Vec::new();
    let mut holdings = Vec::new();
    for (inv, _) in structures {
        let network = inv.structure.network.as_str();
        for p in &inv.people {
            people.push(vec![
                Value::from(p.id.as_str()),
                Value::from(p.structure_id.as_str()),
                Value::from(network),
                Value::from(p.display_name.as_str()),
                Value::from(p.role.as_str()),
                Value::from(p.end_date.map(|d| d.to_string())),
                Value::from(p.email.clone()),
            ]);
        }
        for f in &inv.functions {
            functions.push(vec![
                Value::from(f.structure_id.as_str()),
                Value::from(f.code.as_str()),
                Value::from(network),
                Value::from(i64::from(f.criticality)),
                Value::from(f.tools.join(";")),
            ]);
        }
        for h in &inv.holdings {
            holdings.push(vec![
                Value::from(h.person_id.as_str()),
                Value::from(h.function.as_str()),
                Value::from(inv.structure.id.as_str()),
                Value::from(network),
                Value::from(i64::from(h.level)),
                Value::from(h.last_practised.map(|d| d.to_string())),
                Value::from(h.evidence.as_str()),
            ]);
        }
    }
    insert_rows(
        conn,
        "inv_people",
        &[
            "person_id",
            "structure_id",
            "network_id",
            "display_name",
            "role",
            "end_date",
            "email",
        ],
        "",
        people,
    )
    .await?;
    insert_rows(
        conn,
        "inv_functions",
        &["structure_id", "code", "network_id", "criticality", "tools"],
        "",
        functions,
    )
    .await?;
    insert_rows(
        conn,
        "inv_holdings",
        &[
            "person_id",
            "function_code",
            "structure_id",
            "network_id",
            "level",
            "last_practised",
            "evidence",
        ],
        "",
        holdings,
    )
    .await?;
    Ok(())
}

/// Bumps the version of a structure whose inventory changed indirectly (a
/// person moved away, a holding was set).
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn bump_version(
    conn: &mut AnyConnection,
    structure_id: &str,
    version: i64,
    now: &str,
) -> Result<(), StorageError> {
    sqlx::query("UPDATE inv_structures SET version = $1, updated_at = $2 WHERE structure_id = $3")
        .bind(version)
        .bind(now.to_owned())
        .bind(structure_id.to_owned())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The structure and network of an erased person, if they were erased.
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn erasure_of(conn: &mut AnyConnection, person_id: &str) -> Result<Option<(String, String)>, StorageError> {
    let row = sqlx::query("SELECT structure_id, network_id FROM inv_erasures WHERE person_id = $1")
        .bind(person_id.to_owned())
        .fetch_optional(&mut *conn)
        .await?;
    row.map(|row| Ok((row.try_get("structure_id")?, row.try_get("network_id")?)))
        .transpose()
}

/// Deletes a person (their holdings and people row) and records the
/// tombstone (ids only).
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn erase_person(
    conn: &mut AnyConnection,
    person_id: &str,
    structure: &StructureRecord,
    now: &str,
) -> Result<(), StorageError> {
    for sql in [
        "DELETE FROM inv_holdings WHERE person_id = $1",
        "DELETE FROM inv_people WHERE person_id = $1",
    ] {
        sqlx::query(sql).bind(person_id.to_owned()).execute(&mut *conn).await?;
    }
    sqlx::query(
        "INSERT INTO inv_erasures (person_id, structure_id, network_id, erased_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (person_id) DO UPDATE SET structure_id = excluded.structure_id, \
         network_id = excluded.network_id, erased_at = excluded.erased_at",
    )
    .bind(person_id.to_owned())
    .bind(structure.id.clone())
    .bind(structure.network.clone())
    .bind(now.to_owned())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Creates or replaces one holding.
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn upsert_holding(
    conn: &mut AnyConnection,
    structure: &StructureRecord,
    holding: &HoldingRecord,
) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO inv_holdings (person_id, function_code, structure_id, network_id, level, last_practised, evidence) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (person_id, function_code) DO UPDATE SET \
         level = excluded.level, last_practised = excluded.last_practised, evidence = excluded.evidence",
    )
    .bind(holding.person_id.clone())
    .bind(holding.function.clone())
    .bind(structure.id.clone())
    .bind(structure.network.clone())
    .bind(i64::from(holding.level))
    .bind(holding.last_practised.map(|d| d.to_string()))
    .bind(holding.evidence.as_str().to_owned())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The last recorded assessments of the given structures.
///
/// # Errors
/// [`StorageError`] on a database error or an invalid stored date.
pub async fn load_assessments(
    conn: &mut AnyConnection,
    structure_ids: &[String],
) -> Result<HashMap<String, StoredAssessment>, StorageError> {
    let mut found = HashMap::new();
    for chunk in structure_ids.chunks(500) {
        let placeholders = (1..=chunk.len())
            .map(|n| format!("${n}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT structure_id, band, score, fingerprint, evaluated_on FROM inv_assessments WHERE structure_id IN ({placeholders})"
        );
        let mut query = sqlx::query(&sql);
        for id in chunk {
            query = query.bind(id.clone());
        }
        for row in query.fetch_all(&mut *conn).await? {
            let evaluated_on: String = row.try_get("evaluated_on")?;
            found.insert(
                row.try_get("structure_id")?,
                StoredAssessment {
                    band: row.try_get("band")?,
                    score: row.try_get("score")?,
                    fingerprint: row.try_get("fingerprint")?,
                    evaluated_on: date("inv_assessments", "evaluated_on", &evaluated_on)?,
                },
            );
        }
    }
    Ok(found)
}

/// A new assessment to record.
#[derive(Debug, Clone)]
pub struct NewAssessment {
    /// The structure.
    pub structure_id: String,
    /// Its network.
    pub network: String,
    /// The assessment summary.
    pub stored: StoredAssessment,
}

/// Records assessments (insert or replace).
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn save_assessments(conn: &mut AnyConnection, assessments: &[NewAssessment]) -> Result<(), StorageError> {
    let rows = assessments
        .iter()
        .map(|a| {
            vec![
                Value::from(a.structure_id.as_str()),
                Value::from(a.network.as_str()),
                Value::from(a.stored.evaluated_on.to_string()),
                Value::from(a.stored.band.as_str()),
                Value::from(a.stored.score),
                Value::from(a.stored.fingerprint.as_str()),
            ]
        })
        .collect();
    insert_rows(
        conn,
        "inv_assessments",
        &["structure_id", "network_id", "evaluated_on", "band", "score", "fingerprint"],
        "ON CONFLICT (structure_id) DO UPDATE SET network_id = excluded.network_id, evaluated_on = excluded.evaluated_on, \
         band = excluded.band, score = excluded.score, fingerprint = excluded.fingerprint",
        rows,
    )
    .await?;
    Ok(())
}

/// Ids of every structure, sorted.
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn structure_ids(conn: &mut AnyConnection) -> Result<Vec<String>, StorageError> {
    let rows = sqlx::query("SELECT structure_id FROM inv_structures ORDER BY structure_id")
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|row| row.try_get("structure_id").map_err(StorageError::from))
        .collect()
}

fn split_tools(tools: &str) -> Vec<String> {
    tools
        .split(';')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

fn parse<T: std::str::FromStr>(table: &'static str, column: &'static str, value: &str) -> Result<T, StorageError> {
    value.parse().map_err(|_| StorageError::Corrupt {
        table,
        column,
        value: value.to_owned(),
    })
}

fn date(table: &'static str, column: &'static str, value: &str) -> Result<NaiveDate, StorageError> {
    parse(table, column, value)
}

fn date_opt(
    table: &'static str,
    column: &'static str,
    value: Option<String>,
) -> Result<Option<NaiveDate>, StorageError> {
    value.map(|v| date(table, column, &v)).transpose()
}
