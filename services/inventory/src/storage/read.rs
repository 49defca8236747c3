//! Reading inventories: ONE statement, ONE row per structure.
//!
//! A structure's people, functions and holdings come aggregated beside it,
//! each list as one JSON array of arrays (`json_group_array` on SQLite,
//! `json_agg` on PostgreSQL: the one place outside DDL where the two
//! dialects differ, see `docs/adr/0002-one-sql-dialect.md`). Reading rows
//! one by one cost more than the data: every row of `sqlx::Any` is copied
//! into an `AnyRow` (a value and a column vector each), and on SQLite
//! handed from the connection's worker thread to the caller. 20,000
//! structures are 560,000 such rows, but 20,000 aggregated ones. One
//! statement is also one snapshot on both engines, without a transaction.
//! JSON escapes whatever a name or an e-mail holds, which no separator of
//! our own would.

use std::collections::BTreeMap;

use futures::TryStreamExt;
use serde::de::DeserializeOwned;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use vigie_fragility_model::model::{FunctionRecord, HoldingRecord, PersonRecord, StructureInventory, StructureRecord};

use super::{date_opt, parse, split_tools, Scope, StorageError};
use crate::app::views::{ListedStructure, VersionedInventory};

/// The columns of `inv_structures` every read decodes ([`structure`]).
const STRUCTURE_COLUMNS: &str = "s.structure_id, s.name, s.network_id, s.legal_form, s.siret, s.rna, \
s.region_code, s.department_code, s.commune_insee, s.version";

/// A list aggregated per structure: its table, its columns (in the order of
/// the tuple [`decode_list`] reads), its order.
struct List {
    table: &'static str,
    columns: &'static str,
    order: &'static str,
}

const PEOPLE: List = List {
    table: "inv_people",
    columns: "x.person_id, x.display_name, x.role, x.end_date, x.email",
    order: "x.person_id",
};
const FUNCTIONS: List = List {
    table: "inv_functions",
    columns: "x.code, x.tools, x.criticality",
    order: "x.code",
};
const HOLDINGS: List = List {
    table: "inv_holdings",
    columns: "x.person_id, x.function_code, x.last_practised, x.evidence, x.level",
    order: "x.person_id, x.function_code",
};

/// A person as aggregated: id, display name, role, end date, e-mail.
type PersonTuple = (String, String, String, Option<String>, Option<String>);
/// A function as aggregated: code, tools, criticality.
type FunctionTuple = (String, String, i64);
/// A holding as aggregated: person, function, last practised, evidence, level.
type HoldingTuple = (String, String, Option<String>, String, i64);

impl List {
    /// The scalar subquery aggregating this list for the structure `s`, in
    /// the dialect of `conn`. An empty list is `[]` on SQLite and `NULL` on
    /// PostgreSQL (both read as empty).
    fn subquery(&self, conn: &AnyConnection) -> String {
        let List { table, columns, order } = self;
        let aggregate = if conn.backend_name() == "PostgreSQL" {
            format!("CAST(json_agg(json_build_array({columns}) ORDER BY {order}) AS TEXT)")
        } else {
            format!("json_group_array(json_array({columns}) ORDER BY {order})")
        };
        format!("(SELECT {aggregate} FROM {table} x WHERE x.structure_id = s.structure_id)")
    }
}

/// Loads the inventories in `scope`, keyed by structure id (sorted), each
/// list ordered by its key (people by id, functions by code, holdings by
/// person then function): one statement, one row per structure.
///
/// # Errors
/// [`StorageError`] on a database error or an invalid stored value.
pub async fn load(
    conn: &mut AnyConnection,
    scope: Scope<'_>,
) -> Result<BTreeMap<String, VersionedInventory>, StorageError> {
    let (clause, keys) = scope.clause();
    let sql = format!(
        "SELECT {STRUCTURE_COLUMNS}, {} AS people, {} AS functions, {} AS holdings FROM inv_structures s{clause}",
        PEOPLE.subquery(conn),
        FUNCTIONS.subquery(conn),
        HOLDINGS.subquery(conn),
    );
    let mut result = BTreeMap::new();
    for row in bind_keys(&sql, &keys).fetch_all(&mut *conn).await? {
        let (structure, version) = structure(&row)?;
        let id = structure.id.clone();
        let inventory = StructureInventory {
            people: decode_list::<PersonTuple>(&row, "people", "inv_people")?
                .into_iter()
                .map(|(person_id, display_name, role, end_date, email)| {
                    Ok(PersonRecord {
                        id: person_id,
                        structure_id: id.clone(),
                        display_name,
                        role: parse("inv_people", "role", &role)?,
                        end_date: date_opt("inv_people", "end_date", end_date)?,
                        email,
                    })
                })
                .collect::<Result<_, StorageError>>()?,
            functions: decode_list::<FunctionTuple>(&row, "functions", "inv_functions")?
                .into_iter()
                .map(|(code, tools, criticality)| {
                    Ok(FunctionRecord {
                        structure_id: id.clone(),
                        code,
                        criticality: small("inv_functions", "criticality", criticality)?,
                        tools: split_tools(&tools),
                    })
                })
                .collect::<Result<_, StorageError>>()?,
            holdings: decode_list::<HoldingTuple>(&row, "holdings", "inv_holdings")?
                .into_iter()
                .map(|(person_id, function, last_practised, evidence, level)| {
                    Ok(HoldingRecord {
                        person_id,
                        function,
                        level: small("inv_holdings", "level", level)?,
                        last_practised: date_opt("inv_holdings", "last_practised", last_practised)?,
                        evidence: parse("inv_holdings", "evidence", &evidence)?,
                    })
                })
                .collect::<Result<_, StorageError>>()?,
            structure,
        };
        result.insert(id, VersionedInventory { inventory, version });
    }
    Ok(result)
}

/// Structure `id` with its whole inventory, `None` when it does not exist.
///
/// # Errors
/// [`StorageError`] on a database error or an invalid stored value.
pub async fn load_one(conn: &mut AnyConnection, id: &str) -> Result<Option<VersionedInventory>, StorageError> {
    Ok(load(conn, Scope::Structure(id)).await?.remove(id))
}

/// The current version of structure `id`, `None` when it does not exist:
/// one indexed lookup, to check a copy read earlier.
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn version_of(conn: &mut AnyConnection, id: &str) -> Result<Option<i64>, StorageError> {
    let row = sqlx::query("SELECT version FROM inv_structures WHERE structure_id = $1")
        .bind(id.to_owned())
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.map(|row| row.try_get(0)).transpose()?)
}

/// The structures in `scope` alone (no people, functions nor holdings: their
/// parts are empty), keyed by id: for the lists that show only names and
/// networks.
///
/// # Errors
/// [`StorageError`] on a database error or an invalid stored value.
pub async fn load_structures(
    conn: &mut AnyConnection,
    scope: Scope<'_>,
) -> Result<BTreeMap<String, VersionedInventory>, StorageError> {
    let (clause, keys) = scope.clause();
    let sql = format!("SELECT {STRUCTURE_COLUMNS} FROM inv_structures s{clause}");
    let mut result = BTreeMap::new();
    for row in bind_keys(&sql, &keys).fetch_all(&mut *conn).await? {
        let (structure, version) = structure(&row)?;
        let inventory = StructureInventory {
            structure,
            people: vec![],
            functions: vec![],
            holdings: vec![],
        };
        result.insert(
            inventory.structure.id.clone(),
            VersionedInventory { inventory, version },
        );
    }
    Ok(result)
}

/// The id and network of each structure in `scope`, in id order: what a
/// listing needs to decide who sees what before it reads the structures a
/// chunk at a time. Decoded as the rows arrive: 100,000 structures are a
/// few megabytes of keys, where their rows fetched whole were 150.
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn load_keys(conn: &mut AnyConnection, scope: Scope<'_>) -> Result<Vec<ListedStructure>, StorageError> {
    let (clause, keys) = scope.clause();
    let sql = format!("SELECT s.structure_id, s.network_id FROM inv_structures s{clause} ORDER BY s.structure_id");
    let mut rows = bind_keys(&sql, &keys).fetch(&mut *conn);
    let mut listed = Vec::new();
    while let Some(row) = rows.try_next().await? {
        listed.push(ListedStructure {
            id: row.try_get(0)?,
            network: row.try_get(1)?,
        });
    }
    Ok(listed)
}

/// The structure and its version, from the [`STRUCTURE_COLUMNS`] of `row`.
fn structure(row: &AnyRow) -> Result<(StructureRecord, i64), StorageError> {
    let legal_form: String = row.try_get("legal_form")?;
    let structure = StructureRecord {
        id: row.try_get("structure_id")?,
        name: row.try_get("name")?,
        network: row.try_get("network_id")?,
        legal_form: parse("inv_structures", "legal_form", &legal_form)?,
        siret: row.try_get("siret")?,
        rna: row.try_get("rna")?,
        region_code: row.try_get("region_code")?,
        department_code: row.try_get("department_code")?,
        commune_insee: row.try_get("commune_insee")?,
    };
    Ok((structure, row.try_get("version")?))
}

/// The tuples of an aggregated list (`NULL`: none).
fn decode_list<T: DeserializeOwned>(
    row: &AnyRow,
    column: &'static str,
    table: &'static str,
) -> Result<Vec<T>, StorageError> {
    let json: Option<String> = row.try_get(column)?;
    json.map_or(Ok(Vec::new()), |json| {
        serde_json::from_str(&json).map_err(|error| StorageError::corrupt(table, column, error))
    })
}

/// A level or a criticality (0–4 in the domain, a byte here).
fn small(table: &'static str, column: &'static str, value: i64) -> Result<u8, StorageError> {
    u8::try_from(value).map_err(|_| StorageError::corrupt(table, column, value))
}

fn bind_keys<'q>(sql: &'q str, keys: &[String]) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    keys.iter().fold(sqlx::query(sql), |query, key| query.bind(key.clone()))
}
