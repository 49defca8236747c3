//! One structure's inventory in ONE statement: the read path of
//! `GetStructure` and `GetFragility`.
//!
//! [`super::load`] runs four queries (structures, people, functions,
//! holdings), which suits lists; for one structure their fixed cost
//! dominates — four round trips to PostgreSQL, four hand-offs to the SQLite
//! worker thread — and four statements only see one state inside a
//! transaction (two more statements). A `UNION ALL` of the four reads, on
//! columns of one shape, is one round trip and one snapshot on both engines
//! (a single statement never sees a half-committed change).

use sqlx::any::AnyRow;
use sqlx::{Executor, Row};
use vigie_inventory_domain::model::{
    Evidence, FunctionRecord, HoldingRecord, PersonRecord, StructureInventory, StructureRecord,
};

use super::{date_opt, parse, split_tools, StorageError, Stored};

/// Row kinds of [`ONE_STRUCTURE`], in column `kind`.
const STRUCTURE: i64 = 0;
const PERSON: i64 = 1;
const FUNCTION: i64 = 2;
const HOLDING: i64 = 3;

/// The four reads as one: text columns `t1`…`t8` and an integer `n`, their
/// meaning depending on `kind` (see [`decode`]). Every branch names its
/// columns so that PostgreSQL types the union from the first one.
const ONE_STRUCTURE: &str = "\
SELECT CAST(0 AS BIGINT) AS kind, name AS t1, network_id AS t2, legal_form AS t3, siret AS t4, rna AS t5, \
region_code AS t6, department_code AS t7, commune_insee AS t8, version AS n \
FROM inv_structures WHERE structure_id = $1 \
UNION ALL SELECT 1, person_id, display_name, role, end_date, email, NULL, NULL, NULL, 0 \
FROM inv_people WHERE structure_id = $1 \
UNION ALL SELECT 2, code, tools, NULL, NULL, NULL, NULL, NULL, NULL, criticality \
FROM inv_functions WHERE structure_id = $1 \
UNION ALL SELECT 3, person_id, function_code, last_practised, evidence, NULL, NULL, NULL, NULL, level \
FROM inv_holdings WHERE structure_id = $1";

/// Loads structure `id` with its people, functions and holdings (in no
/// particular order: callers normalise), `None` when it does not exist.
///
/// # Errors
/// [`StorageError`] on a database error or an invalid stored value.
pub async fn load_one<'c, E>(executor: E, id: &str) -> Result<Option<Stored>, StorageError>
where
    E: Executor<'c, Database = sqlx::Any>,
{
    let rows = sqlx::query(ONE_STRUCTURE)
        .bind(id.to_owned())
        .fetch_all(executor)
        .await?;
    decode(id, &rows)
}

fn text(row: &AnyRow, column: &str) -> Result<String, StorageError> {
    Ok(row.try_get(column)?)
}

fn text_opt(row: &AnyRow, column: &str) -> Result<Option<String>, StorageError> {
    Ok(row.try_get(column)?)
}

fn small(row: &AnyRow, table: &'static str, column: &'static str) -> Result<u8, StorageError> {
    let value: i64 = row.try_get("n")?;
    u8::try_from(value).map_err(|_| StorageError::Corrupt {
        table,
        column,
        value: value.to_string(),
    })
}

/// Builds the structure from the rows of [`ONE_STRUCTURE`].
fn decode(id: &str, rows: &[AnyRow]) -> Result<Option<Stored>, StorageError> {
    let mut header = None;
    let (mut people, mut functions, mut holdings) = (Vec::new(), Vec::new(), Vec::new());
    for row in rows {
        let kind: i64 = row.try_get("kind")?;
        match kind {
            STRUCTURE => {
                let legal_form = text(row, "t3")?;
                let structure = StructureRecord {
                    id: id.to_owned(),
                    name: text(row, "t1")?,
                    network: text(row, "t2")?,
                    legal_form: parse("inv_structures", "legal_form", &legal_form)?,
                    siret: text_opt(row, "t4")?,
                    rna: text_opt(row, "t5")?,
                    region_code: text(row, "t6")?,
                    department_code: text(row, "t7")?,
                    commune_insee: text(row, "t8")?,
                };
                header = Some((structure, row.try_get::<i64, _>("n")?));
            }
            PERSON => {
                let role = text(row, "t3")?;
                people.push(PersonRecord {
                    id: text(row, "t1")?,
                    structure_id: id.to_owned(),
                    display_name: text(row, "t2")?,
                    role: parse("inv_people", "role", &role)?,
                    end_date: date_opt("inv_people", "end_date", text_opt(row, "t4")?)?,
                    email: text_opt(row, "t5")?,
                });
            }
            FUNCTION => functions.push(FunctionRecord {
                structure_id: id.to_owned(),
                code: text(row, "t1")?,
                criticality: small(row, "inv_functions", "criticality")?,
                tools: split_tools(&text(row, "t2")?),
            }),
            HOLDING => {
                let evidence = text(row, "t4")?;
                holdings.push(HoldingRecord {
                    person_id: text(row, "t1")?,
                    function: text(row, "t2")?,
                    level: small(row, "inv_holdings", "level")?,
                    last_practised: date_opt("inv_holdings", "last_practised", text_opt(row, "t3")?)?,
                    evidence: parse::<Evidence>("inv_holdings", "evidence", &evidence)?,
                });
            }
            other => {
                return Err(StorageError::Corrupt {
                    table: "inv_structures",
                    column: "kind",
                    value: other.to_string(),
                })
            }
        }
    }
    // People, functions and holdings without their structure row cannot be
    // (foreign keys); a missing structure is `None` whatever else came.
    Ok(header.map(|(structure, version)| Stored {
        inventory: StructureInventory {
            structure,
            people,
            functions,
            holdings,
        },
        version,
    }))
}
