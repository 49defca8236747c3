//! Reading inventories: one statement per read, so one snapshot on both
//! engines without a transaction.
//!
//! The lists come aggregated, each as one value (the one place outside DDL
//! where the two dialects differ, see `docs/adr/0002-one-sql-dialect.md`):
//! reading rows one by one cost more than the data, every row of
//! `sqlx::Any` being copied into an `AnyRow` (a value and a column vector
//! each) and on SQLite handed from the connection's worker thread to the
//! caller; 500 structures were 14,000 such rows. SQLite reads them in four
//! rows (one JSON aggregate per table), PostgreSQL in one row per structure
//! (its lists beside it as `text[]`): each engine's faster form, measured
//! in docs/benchmarks.md. Both forms quote whatever a name or an e-mail
//! holds, which no separator of our own would. Every value comes as text
//! and is parsed once ([`Fields`]).

use std::collections::{BTreeMap, HashMap};

use futures::TryStreamExt;
use serde::de::{DeserializeOwned, Deserializer, SeqAccess, Visitor};
use serde::Deserialize;
use sqlx::{AnyConnection, Row};
use vigie_fragility_model::model::{FunctionRecord, HoldingRecord, PersonRecord, StructureInventory, StructureRecord};

use vigie_platform::db::text_array;

use super::{date_opt, parse, split_tools, Scope, StorageError};
use crate::app::views::{ListedStructure, VersionedInventory};

/// A part of the inventories in a scope, aggregated as ONE value: its name,
/// its table, its columns as text (in the order [`structure_from`],
/// [`person_from`], [`function_from`] and [`holding_from`] take them). A
/// child part (people, functions, holdings) lists its columns without
/// `structure_id`: on PostgreSQL its rows belong to their structure's row
/// already; on SQLite each is `[structure_id, columns…]`. Aggregated in no
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
department_code, commune_insee, CAST(version AS TEXT)",
};
const PEOPLE: Part = Part {
    name: "people",
    table: "inv_people",
    columns: "person_id, display_name, role, end_date, email",
};
const FUNCTIONS: Part = Part {
    name: "functions",
    table: "inv_functions",
    columns: "code, tools, CAST(criticality AS TEXT)",
};
const HOLDINGS: Part = Part {
    name: "holdings",
    table: "inv_holdings",
    columns: "person_id, function_code, last_practised, evidence, CAST(level AS TEXT)",
};

/// Adds one row of a child part (its values after `structure_id`) to its
/// structure's inventory.
type Attach = fn(&mut StructureInventory, Fields) -> Result<(), StorageError>;

/// The child parts, each with how one of its rows joins its structure: the
/// one list both engines' reads follow.
const CHILDREN: [(&Part, Attach); 3] = [
    (&PEOPLE, |inventory, f| {
        let person = person_from(inventory.structure.id.clone(), f)?;
        inventory.people.push(person);
        Ok(())
    }),
    (&FUNCTIONS, |inventory, f| {
        let function = function_from(inventory.structure.id.clone(), f)?;
        inventory.functions.push(function);
        Ok(())
    }),
    (&HOLDINGS, |inventory, f| {
        inventory.holdings.push(holding_from(f)?);
        Ok(())
    }),
];

/// One aggregated row: its values as text, in its part's column order.
type Values = Vec<Option<String>>;

fn is_postgres(conn: &AnyConnection) -> bool {
    conn.backend_name() == "PostgreSQL"
}

/// SQLite: the four parts in one statement of four rows (`UNION ALL` of
/// one JSON aggregate per table over the scope's condition, which every
/// inventory table can answer: each has `structure_id` and `network_id`).
/// 500 structures are four rows read by three index scans, where one row
/// per structure with three correlated aggregates sorted each in a
/// temporary B-tree.
async fn load_in_four_rows(
    conn: &mut AnyConnection,
    scope: Scope<'_>,
) -> Result<BTreeMap<String, VersionedInventory>, StorageError> {
    let (clause, keys) = scope.clause(false);
    let aggregate = |part: &Part| {
        if part.name == STRUCTURES.name {
            format!("json_group_array(json_array({}))", part.columns)
        } else {
            format!("json_group_array(json_array(structure_id, {}))", part.columns)
        }
    };
    let sql = [STRUCTURES, PEOPLE, FUNCTIONS, HOLDINGS]
        .iter()
        .map(|part| {
            format!(
                "SELECT '{}' AS part, {} AS list FROM {}{clause}",
                part.name,
                aggregate(part),
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
    // By id while the children find their structure: a hash lookup each,
    // where the sorted map compared ids along its tree.
    let mut found: HashMap<String, VersionedInventory> = HashMap::new();
    for JsonRow(values) in json(take(&STRUCTURES), &STRUCTURES)? {
        let stored = structure_from(values)?;
        found.insert(stored.inventory.structure.id.clone(), stored);
    }
    // Same snapshot: every row below belongs to a structure above. Each
    // starts with its structure's id.
    for (part, attach) in CHILDREN {
        for JsonRow(values) in json(take(part), part)? {
            let mut f = Fields::of(part, values);
            if let Some(stored) = found.get_mut(&f.text("structure_id")?) {
                attach(&mut stored.inventory, f)?;
            }
        }
    }
    Ok(found.into_iter().collect())
}

/// PostgreSQL: one row per structure, its lists aggregated beside it by
/// correlated subqueries (an index lookup each), each list a `text[]` of
/// rows ([`text_array`]: two thirds of the server time of `json_agg`), so
/// a structure is built from its row alone. The four-row statement measured
/// slower there (the planner scans the children for a list of 500 ids less
/// well than it follows each structure's index: docs/benchmarks.md, «
/// Fourth round »). A list of ids is one `text[]` parameter.
async fn load_per_structure(
    conn: &mut AnyConnection,
    scope: Scope<'_>,
) -> Result<BTreeMap<String, VersionedInventory>, StorageError> {
    let (clause, keys) = scope.clause(true);
    let of_structure = |part: &Part| {
        format!(
            "(SELECT CAST(array_agg(ARRAY[{}]) AS TEXT) FROM {} y WHERE y.structure_id = s.structure_id) AS {}",
            part.columns, part.table, part.name
        )
    };
    let sql = format!(
        "SELECT CAST(ARRAY[{}] AS TEXT) AS {}, {}, {}, {} FROM inv_structures s{clause}",
        STRUCTURES.columns,
        STRUCTURES.name,
        of_structure(&PEOPLE),
        of_structure(&FUNCTIONS),
        of_structure(&HOLDINGS),
    );
    let mut found = BTreeMap::new();
    for row in bind_keys(&sql, &keys).fetch_all(&mut *conn).await? {
        let values = rows(row.try_get(STRUCTURES.name)?, &STRUCTURES)?
            .pop()
            .ok_or_else(|| StorageError::corrupt(STRUCTURES.table, "ARRAY", "{}"))?;
        let mut stored = structure_from(values)?;
        for (part, attach) in CHILDREN {
            for values in rows(row.try_get(part.name)?, part)? {
                attach(&mut stored.inventory, Fields::of(part, values))?;
            }
        }
        found.insert(stored.inventory.structure.id.clone(), stored);
    }
    Ok(found)
}

/// Loads the inventories in `scope`, keyed by structure id (sorted), each
/// list ordered by its key (people by id, functions by code, holdings by
/// person then function): one statement, one snapshot on both engines.
///
/// # Errors
/// [`StorageError`] on a database error or an invalid stored value.
pub async fn load(
    conn: &mut AnyConnection,
    scope: Scope<'_>,
) -> Result<BTreeMap<String, VersionedInventory>, StorageError> {
    let mut found = if is_postgres(conn) {
        load_per_structure(conn, scope).await?
    } else {
        load_in_four_rows(conn, scope).await?
    };
    for stored in found.values_mut() {
        stored.inventory.sort_parts();
    }
    Ok(found)
}

/// The values of one aggregated row, taken in its part's column order.
struct Fields {
    table: &'static str,
    values: std::vec::IntoIter<Option<String>>,
}

impl Fields {
    fn of(part: &Part, values: Values) -> Fields {
        Fields {
            table: part.table,
            values: values.into_iter(),
        }
    }

    fn optional(&mut self, column: &'static str) -> Result<Option<String>, StorageError> {
        self.values
            .next()
            .ok_or_else(|| StorageError::corrupt(self.table, column, "absent"))
    }

    fn text(&mut self, column: &'static str) -> Result<String, StorageError> {
        self.optional(column)?
            .ok_or_else(|| StorageError::corrupt(self.table, column, "NULL"))
    }

    fn parsed<T: std::str::FromStr>(&mut self, column: &'static str) -> Result<T, StorageError> {
        let text = self.text(column)?;
        parse(self.table, column, &text)
    }

    fn date(&mut self, column: &'static str) -> Result<Option<chrono::NaiveDate>, StorageError> {
        let text = self.optional(column)?;
        date_opt(self.table, column, text)
    }
}

/// A structure without its lists yet.
fn structure_from(values: Values) -> Result<VersionedInventory, StorageError> {
    let mut f = Fields::of(&STRUCTURES, values);
    let structure = StructureRecord {
        id: f.text("structure_id")?,
        name: f.text("name")?,
        network: f.text("network_id")?,
        legal_form: f.parsed("legal_form")?,
        siret: f.optional("siret")?,
        rna: f.optional("rna")?,
        region_code: f.text("region_code")?,
        department_code: f.text("department_code")?,
        commune_insee: f.text("commune_insee")?,
    };
    let version = f.parsed("version")?;
    let inventory = StructureInventory {
        structure,
        people: vec![],
        functions: vec![],
        holdings: vec![],
    };
    Ok(VersionedInventory { inventory, version })
}

fn person_from(structure_id: String, mut f: Fields) -> Result<PersonRecord, StorageError> {
    Ok(PersonRecord {
        id: f.text("person_id")?,
        display_name: f.text("display_name")?,
        role: f.parsed("role")?,
        end_date: f.date("end_date")?,
        email: f.optional("email")?,
        structure_id,
    })
}

fn function_from(structure_id: String, mut f: Fields) -> Result<FunctionRecord, StorageError> {
    Ok(FunctionRecord {
        code: f.text("code")?,
        tools: split_tools(&f.text("tools")?),
        criticality: f.parsed("criticality")?,
        structure_id,
    })
}

fn holding_from(mut f: Fields) -> Result<HoldingRecord, StorageError> {
    Ok(HoldingRecord {
        person_id: f.text("person_id")?,
        function: f.text("function_code")?,
        last_practised: f.date("last_practised")?,
        evidence: f.parsed("evidence")?,
        level: f.parsed("level")?,
    })
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
    let (clause, keys) = scope.clause(is_postgres(conn));
    // The columns the aggregated reads take, as plain columns of text.
    let sql = format!("SELECT {} FROM inv_structures s{clause}", STRUCTURES.columns);
    let mut result = BTreeMap::new();
    for row in bind_keys(&sql, &keys).fetch_all(&mut *conn).await? {
        let values = (0..row.len()).map(|n| row.try_get(n)).collect::<Result<Values, _>>()?;
        let stored = structure_from(values)?;
        result.insert(stored.inventory.structure.id.clone(), stored);
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
    let (clause, keys) = scope.clause(is_postgres(conn));
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

/// One row of SQLite's JSON aggregate, read into a vector allocated once:
/// serde grows a vector from nothing (three allocations for a row of six),
/// and a listing of 20,000 structures reads half a million rows.
struct JsonRow(Values);

/// Elements a [`JsonRow`] is allocated for: the most columns of a part,
/// with the structure's id.
const ROW_CAPACITY: usize = 10;

impl<'de> Deserialize<'de> for JsonRow {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct RowVisitor;
        impl<'de> Visitor<'de> for RowVisitor {
            type Value = JsonRow;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an array of texts")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<JsonRow, A::Error> {
                let mut values = Vec::with_capacity(ROW_CAPACITY);
                while let Some(value) = seq.next_element()? {
                    values.push(value);
                }
                Ok(JsonRow(values))
            }
        }
        deserializer.deserialize_seq(RowVisitor)
    }
}

/// The rows of `part` in `json` (`NULL`: none), SQLite's aggregate.
fn json<T: DeserializeOwned>(json: Option<String>, part: &Part) -> Result<Vec<T>, StorageError> {
    match json {
        None => Ok(vec![]),
        Some(json) => serde_json::from_str(&json).map_err(|error| StorageError::corrupt(part.table, "json", error)),
    }
}

/// The rows of `part` in `text` (`NULL`: none), PostgreSQL's aggregate.
fn rows(text: Option<String>, part: &Part) -> Result<Vec<Values>, StorageError> {
    match text {
        None => Ok(vec![]),
        Some(text) => text_array::read_rows(&text).map_err(|error| StorageError::corrupt(part.table, "ARRAY", error)),
    }
}

fn bind_keys<'q>(sql: &'q str, keys: &[String]) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    keys.iter().fold(sqlx::query(sql), |query, key| query.bind(key.clone()))
}
