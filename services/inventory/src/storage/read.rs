//! Reading inventories: ONE statement, FOUR rows whatever the scope.
//!
//! The structures of a scope, their people, functions and holdings come as
//! four JSON arrays of arrays (`json_group_array` on SQLite, `json_agg` on
//! PostgreSQL: the one place outside DDL where the two dialects differ, see
//! `docs/adr/0002-one-sql-dialect.md`). Reading rows one by one cost more
//! than the data: every row of `sqlx::Any` is copied into an `AnyRow` (a
//! value and a column vector each), and on SQLite handed from the
//! connection's worker thread to the caller. 500 structures were 14,000
//! such rows, then 500 rows with three correlated aggregates each (each
//! sorted in a temporary B-tree), and are now four rows read by three
//! index scans. One statement is also one snapshot on both engines, without
//! a transaction. JSON escapes whatever a name or an e-mail holds, which no
//! separator of our own would.

use std::collections::{BTreeMap, HashMap};

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

/// A part of the inventories in a scope, read as ONE JSON array of arrays:
/// its name, its table, its columns (in the order of the tuple decoded in
/// [`load`]; every part but the structures starts with `structure_id`).
/// The four parts of a scope come in one statement (`UNION ALL`): one
/// round trip, one snapshot on both engines, four rows whatever the
/// number of structures — each row of `sqlx::Any` costs a copy of its
/// values and, on SQLite, a hand-off between threads. Aggregated in no
/// particular order: the lists are sorted once decoded, where an `ORDER BY`
/// inside an aggregate always sorts in a temporary B-tree.
struct Part {
    name: &'static str,
    table: &'static str,
    columns: &'static str,
}

const STRUCTURES: Part = Part {
    name: "structures",
    table: "inv_structures",
    columns: "structure_id, name, network_id, legal_form, siret, rna, region_code, \
department_code, commune_insee, version",
};
const PEOPLE: Part = Part {
    name: "people",
    table: "inv_people",
    columns: "structure_id, person_id, display_name, role, end_date, email",
};
const FUNCTIONS: Part = Part {
    name: "functions",
    table: "inv_functions",
    columns: "structure_id, code, tools, criticality",
};
const HOLDINGS: Part = Part {
    name: "holdings",
    table: "inv_holdings",
    columns: "structure_id, person_id, function_code, last_practised, evidence, level",
};

/// A structure as aggregated: id, name, network, legal form, SIRET, RNA,
/// region, department, commune, version.
type StructureTuple = (
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    String,
    String,
    i64,
);
/// A person as aggregated: structure, id, display name, role, end date, e-mail.
type PersonTuple = (String, String, String, String, Option<String>, Option<String>);
/// A function as aggregated: structure, code, tools, criticality.
type FunctionTuple = (String, String, String, i64);
/// A holding as aggregated: structure, person, function, last practised, evidence, level.
type HoldingTuple = (String, String, String, Option<String>, String, i64);

impl Part {
    /// The aggregate of this part's columns over the rows in its `FROM`, in
    /// the dialect of `conn`. An empty part is `[]` on SQLite and `NULL` on
    /// PostgreSQL (both read as empty).
    fn aggregate(&self, conn: &AnyConnection) -> String {
        let columns = self.columns;
        if is_postgres(conn) {
            format!("CAST(json_agg(json_build_array({columns})) AS TEXT)")
        } else {
            format!("json_group_array(json_array({columns}))")
        }
    }
}

fn is_postgres(conn: &AnyConnection) -> bool {
    conn.backend_name() == "PostgreSQL"
}

/// The four parts of a scope, decoded, before they are assembled.
#[derive(Default)]
struct Parts {
    structures: Vec<StructureTuple>,
    people: Vec<PersonTuple>,
    functions: Vec<FunctionTuple>,
    holdings: Vec<HoldingTuple>,
}

/// SQLite: the four parts in one statement of four rows (`UNION ALL` of
/// one aggregate per table over the scope's condition, which every
/// inventory table can answer: each has `structure_id` and `network_id`).
async fn parts_in_four_rows(conn: &mut AnyConnection, scope: Scope<'_>) -> Result<Parts, StorageError> {
    let (clause, keys) = scope.clause();
    let sql = [STRUCTURES, PEOPLE, FUNCTIONS, HOLDINGS]
        .iter()
        .map(|part| {
            format!(
                "SELECT '{}' AS part, {} AS list FROM {}{clause}",
                part.name,
                part.aggregate(conn),
                part.table
            )
        })
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    let mut lists = HashMap::new();
    for row in bind_keys(&sql, &keys).fetch_all(&mut *conn).await? {
        let name: String = row.try_get("part")?;
        let list: Option<String> = row.try_get("list")?;
        lists.insert(name, list);
    }
    let mut take = |part: &Part| lists.remove(part.name).flatten();
    let mut parts = Parts::default();
    decode_into(&mut parts.structures, take(&STRUCTURES), &STRUCTURES)?;
    decode_into(&mut parts.people, take(&PEOPLE), &PEOPLE)?;
    decode_into(&mut parts.functions, take(&FUNCTIONS), &FUNCTIONS)?;
    decode_into(&mut parts.holdings, take(&HOLDINGS), &HOLDINGS)?;
    Ok(parts)
}

/// PostgreSQL: one row per structure, its lists aggregated by correlated
/// subqueries. The four-row statement measured slower there (the planner
/// scans the children for a list of 500 ids less well than it follows
/// each structure's index: docs/benchmarks.md, "Listing").
async fn parts_per_structure(conn: &mut AnyConnection, scope: Scope<'_>) -> Result<Parts, StorageError> {
    let (clause, keys) = scope.clause();
    // Built before the first await: the borrow of `conn` ends here.
    let sql = {
        let of_structure = |part: &Part| {
            format!(
                "(SELECT {} FROM {} y WHERE y.structure_id = s.structure_id) AS {}",
                part.aggregate(conn),
                part.table,
                part.name
            )
        };
        format!(
            "SELECT CAST(json_build_array({}) AS TEXT) AS structures, {}, {}, {} FROM inv_structures s{clause}",
            STRUCTURES.columns,
            of_structure(&PEOPLE),
            of_structure(&FUNCTIONS),
            of_structure(&HOLDINGS),
        )
    };
    let mut parts = Parts::default();
    for row in bind_keys(&sql, &keys).fetch_all(&mut *conn).await? {
        let structure: Option<String> = row.try_get("structures")?;
        if let Some(json) = structure {
            parts
                .structures
                .push(serde_json::from_str(&json).map_err(|e| StorageError::corrupt(STRUCTURES.table, "json", e))?);
        }
        decode_into(&mut parts.people, row.try_get(PEOPLE.name)?, &PEOPLE)?;
        decode_into(&mut parts.functions, row.try_get(FUNCTIONS.name)?, &FUNCTIONS)?;
        decode_into(&mut parts.holdings, row.try_get(HOLDINGS.name)?, &HOLDINGS)?;
    }
    Ok(parts)
}

/// Loads the inventories in `scope`, keyed by structure id (sorted), each
/// list ordered by its key (people by id, functions by code, holdings by
/// person then function): one statement of four rows.
///
/// # Errors
/// [`StorageError`] on a database error or an invalid stored value.
pub async fn load(
    conn: &mut AnyConnection,
    scope: Scope<'_>,
) -> Result<BTreeMap<String, VersionedInventory>, StorageError> {
    let parts = if is_postgres(conn) {
        parts_per_structure(conn, scope).await?
    } else {
        parts_in_four_rows(conn, scope).await?
    };
    let mut result = BTreeMap::new();
    for (id, name, network, legal_form, siret, rna, region_code, department_code, commune_insee, version) in
        parts.structures
    {
        let structure = StructureRecord {
            id: id.clone(),
            name,
            network,
            legal_form: parse("inv_structures", "legal_form", &legal_form)?,
            siret,
            rna,
            region_code,
            department_code,
            commune_insee,
        };
        let inventory = StructureInventory {
            structure,
            people: vec![],
            functions: vec![],
            holdings: vec![],
        };
        result.insert(id, VersionedInventory { inventory, version });
    }
    // Same snapshot: every row below belongs to a structure above.
    for (structure_id, person_id, display_name, role, end_date, email) in parts.people {
        let person = PersonRecord {
            id: person_id,
            display_name,
            role: parse("inv_people", "role", &role)?,
            end_date: date_opt("inv_people", "end_date", end_date)?,
            email,
            structure_id,
        };
        if let Some(stored) = result.get_mut(&person.structure_id) {
            stored.inventory.people.push(person);
        }
    }
    for (structure_id, code, tools, criticality) in parts.functions {
        let function = FunctionRecord {
            code,
            criticality: small("inv_functions", "criticality", criticality)?,
            tools: split_tools(&tools),
            structure_id,
        };
        if let Some(stored) = result.get_mut(&function.structure_id) {
            stored.inventory.functions.push(function);
        }
    }
    for (structure_id, person_id, function, last_practised, evidence, level) in parts.holdings {
        let holding = HoldingRecord {
            person_id,
            function,
            level: small("inv_holdings", "level", level)?,
            last_practised: date_opt("inv_holdings", "last_practised", last_practised)?,
            evidence: parse("inv_holdings", "evidence", &evidence)?,
        };
        if let Some(stored) = result.get_mut(&structure_id) {
            stored.inventory.holdings.push(holding);
        }
    }
    for stored in result.values_mut() {
        stored.inventory.sort_parts();
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

/// Appends the tuples of `part` in `json` (`NULL`: none) to `list`.
fn decode_into<T: DeserializeOwned>(list: &mut Vec<T>, json: Option<String>, part: &Part) -> Result<(), StorageError> {
    if let Some(json) = json {
        let tuples: Vec<T> =
            serde_json::from_str(&json).map_err(|error| StorageError::corrupt(part.table, "json", error))?;
        list.extend(tuples);
    }
    Ok(())
}

/// A level or a criticality (0–4 in the domain, a byte here).
fn small(table: &'static str, column: &'static str, value: i64) -> Result<u8, StorageError> {
    u8::try_from(value).map_err(|_| StorageError::corrupt(table, column, value))
}

fn bind_keys<'q>(sql: &'q str, keys: &[String]) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    keys.iter().fold(sqlx::query(sql), |query, key| query.bind(key.clone()))
}
