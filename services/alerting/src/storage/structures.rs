//! The read model of structures, fed by `structure.inventoried`: one row per
//! structure with its encoded snapshot, one row per person.

use futures::TryStreamExt;
use sqlx::{AnyConnection, Row};
use vigie_inventory_readmodel::{write_batch, BatchChanges, SnapshotTables};
use vigie_platform::db::multi_row::Value;

use super::StorageError;

/// A structure as the alerting service knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StructureRow {
    /// Its id.
    pub structure_id: String,
    /// Its network.
    pub network_id: String,
    /// association, scop…
    pub legal_form: String,
    /// INSEE commune ("" when unknown).
    pub commune_insee: String,
    /// INSEE department.
    pub department_code: String,
    /// INSEE region.
    pub region_code: String,
    /// The inventory's version of the snapshot.
    pub version: i64,
    /// Encoded `vigie.inventory.v1.Structure`.
    pub snapshot: Vec<u8>,
}

/// The version of the snapshot held for a structure.
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn structure_version(conn: &mut AnyConnection, structure_id: &str) -> Result<Option<i64>, StorageError> {
    let row = sqlx::query("SELECT version FROM al_structures WHERE structure_id = $1")
        .bind(structure_id.to_owned())
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.map(|r| r.try_get("version")).transpose()?)
}

/// Stores the snapshots of `rows` (one per structure), deletes the people
/// of `removed` and places each of `placed` (`(person_id, structure_id)`,
/// each person once) — with multi-row statements.
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn save_structures(
    conn: &mut AnyConnection,
    rows: &[StructureRow],
    changes: &BatchChanges,
) -> Result<(), StorageError> {
    let structures: Vec<Vec<Value>> = rows
        .iter()
        .map(|row| {
            vec![
                Value::from(row.structure_id.as_str()),
                Value::from(row.network_id.as_str()),
                Value::from(row.legal_form.as_str()),
                Value::from(row.commune_insee.as_str()),
                Value::from(row.department_code.as_str()),
                Value::from(row.region_code.as_str()),
                Value::from(row.version),
                Value::Bytes(row.snapshot.clone()),
            ]
        })
        .collect();
    write_batch(conn, &SNAPSHOTS, structures, changes).await?;
    Ok(())
}

/// The read model of inventory snapshots, for [`write_batch`].
const SNAPSHOTS: SnapshotTables = SnapshotTables {
    structures: "al_structures",
    structure_columns: &[
        "structure_id",
        "network_id",
        "legal_form",
        "commune_insee",
        "department_code",
        "region_code",
        "version",
        "snapshot",
    ],
    people: "al_people",
    people_network: false,
};

const COLUMNS: &str =
    "structure_id, network_id, legal_form, commune_insee, department_code, region_code, version, snapshot";

fn from_row(row: &sqlx::any::AnyRow) -> Result<StructureRow, StorageError> {
    Ok(StructureRow {
        structure_id: row.try_get("structure_id")?,
        network_id: row.try_get("network_id")?,
        legal_form: row.try_get("legal_form")?,
        commune_insee: row.try_get("commune_insee")?,
        department_code: row.try_get("department_code")?,
        region_code: row.try_get("region_code")?,
        version: row.try_get("version")?,
        snapshot: row.try_get("snapshot")?,
    })
}

/// Every structure, by id.
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn structures(conn: &mut AnyConnection) -> Result<Vec<StructureRow>, StorageError> {
    let mut out = Vec::new();
    for_each_structure(conn, |row| {
        out.push(row);
        Ok::<_, StorageError>(())
    })
    .await?;
    Ok(out)
}

/// How many structures the read model holds (a capacity hint: a whole
/// instance's views are then held without a vector's doubling slack).
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn structure_count(conn: &mut AnyConnection) -> Result<usize, StorageError> {
    let count: i64 = sqlx::query("SELECT COUNT(*) AS n FROM al_structures")
        .fetch_one(&mut *conn)
        .await?
        .try_get("n")?;
    Ok(usize::try_from(count).unwrap_or(0))
}

/// Hands every structure, by id, to `f` as it is read: a whole instance's
/// snapshots (hundreds of MB at 200,000 structures) are never all held at
/// once when `f` keeps only what it needs of each.
///
/// # Errors
/// [`StorageError`] on a database error; the first error of `f`.
pub async fn for_each_structure<E: From<StorageError>>(
    conn: &mut AnyConnection,
    mut f: impl FnMut(StructureRow) -> Result<(), E>,
) -> Result<(), E> {
    let sql = format!("SELECT {COLUMNS} FROM al_structures ORDER BY structure_id");
    let mut rows = sqlx::query(&sql).fetch(&mut *conn);
    while let Some(row) = rows.try_next().await.map_err(StorageError::from)? {
        f(from_row(&row)?)?;
    }
    Ok(())
}

/// One structure.
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn structure(conn: &mut AnyConnection, structure_id: &str) -> Result<Option<StructureRow>, StorageError> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM al_structures WHERE structure_id = $1"))
        .bind(structure_id.to_owned())
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// The structures of one network, by id.
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn structures_of_network(conn: &mut AnyConnection, network: &str) -> Result<Vec<StructureRow>, StorageError> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM al_structures WHERE network_id = $1 ORDER BY structure_id"
    ))
    .bind(network.to_owned())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(from_row).collect()
}

/// Structures whose snapshot changed since reminders were last planned for
/// them, with the version to mark once planned.
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn unplanned_structures(conn: &mut AnyConnection) -> Result<Vec<(String, i64)>, StorageError> {
    let rows = sqlx::query(
        "SELECT structure_id, version FROM al_structures WHERE planned_version IS NULL OR planned_version <> version",
    )
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("structure_id")?, r.try_get("version")?)))
        .collect()
}

/// Marks these snapshot versions as planned (a newer version stays unplanned).
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn mark_planned(conn: &mut AnyConnection, planned: &[(String, i64)]) -> Result<(), StorageError> {
    for (structure_id, version) in planned {
        sqlx::query("UPDATE al_structures SET planned_version = $1 WHERE structure_id = $2 AND version = $1")
            .bind(*version)
            .bind(structure_id.clone())
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}
