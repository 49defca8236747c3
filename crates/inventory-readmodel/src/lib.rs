//! What every service keeping a read model of the inventory shares.
//!
//! Training and facilitation keep the same two tables fed by
//! `structure.inventoried`: one row per structure with its encoded snapshot,
//! and one row per person. On `vigie.inventory.person.erased.v1`
//! (docs/security.md, "Personal data") each must delete the person, rewrite
//! the snapshots without them (people and holdings) and replace their id by
//! a stable pseudonym (`erased-<hash>`) in its own history tables, so counts
//! stay right and nobody can be named. This crate does that once, for any
//! service's table names; replays are absorbed by the consumer's inbox.

use prost::Message;
use sqlx::{Any, Row, Transaction};
use vigie_platform::events::{Envelope, HandlerError};
use vigie_proto::events::v1::PersonErased;
use vigie_proto::inventory::v1 as pb;

/// Type (and subject) of the erasure event.
pub const PERSON_ERASED: &str = "vigie.inventory.person.erased.v1";

/// The stable pseudonym that replaces an erased person's id (FNV-1a 64: the
/// same on every node and release; ids are opaque, never names or emails).
pub fn pseudonym(person_id: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in person_id.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("erased-{hash:016x}")
}

/// A service's read-model tables (compile-time names, never user input).
#[derive(Debug, Clone, Copy)]
pub struct ReadModelTables {
    /// `(person_id, structure_id, …)` table.
    pub people: &'static str,
    /// `(structure_id, snapshot, …)` table; `snapshot` is an encoded `vigie.inventory.v1.Structure`.
    pub structures: &'static str,
    /// `(table, column)` pairs whose person ids become the pseudonym.
    pub pseudonymised: &'static [(&'static str, &'static str)],
}

fn transient(error: sqlx::Error) -> HandlerError {
    HandlerError::Transient(error.into())
}

/// Applies a `person.erased` envelope to `tables`, in the consumer's transaction.
///
/// # Errors
/// [`HandlerError::Permanent`] for an undecodable event or snapshot;
/// [`HandlerError::Transient`] on a database error.
pub async fn apply_person_erased(
    tx: &mut Transaction<'_, Any>,
    envelope: &Envelope,
    tables: &ReadModelTables,
) -> Result<(), HandlerError> {
    let event = PersonErased::decode(envelope.payload.clone())
        .map_err(|error| HandlerError::Permanent(anyhow::anyhow!("undecodable PersonErased: {error}")))?;
    let person = event.person_id;
    if person.trim().is_empty() {
        return Err(HandlerError::Permanent(anyhow::anyhow!(
            "PersonErased without a person"
        )));
    }
    // The structure of the event and the one the read model knows (they
    // differ when the person moved and a snapshot is late).
    let mut structures = vec![event.structure_id];
    let known = sqlx::query(&format!(
        "SELECT structure_id FROM {} WHERE person_id = $1",
        tables.people
    ))
    .bind(person.clone())
    .fetch_optional(&mut **tx)
    .await
    .map_err(transient)?;
    if let Some(row) = known {
        structures.push(row.try_get("structure_id").map_err(transient)?);
    }
    structures.dedup();
    for structure in &structures {
        let row = sqlx::query(&format!(
            "SELECT snapshot FROM {} WHERE structure_id = $1",
            tables.structures
        ))
        .bind(structure.clone())
        .fetch_optional(&mut **tx)
        .await
        .map_err(transient)?;
        let Some(row) = row else { continue };
        let bytes: Vec<u8> = row.try_get("snapshot").map_err(transient)?;
        let mut snapshot = pb::Structure::decode(bytes.as_slice())
            .map_err(|error| HandlerError::Permanent(anyhow::anyhow!("undecodable snapshot: {error}")))?;
        snapshot.people.retain(|p| p.person_id != person);
        snapshot.holdings.retain(|h| h.person_id != person);
        sqlx::query(&format!(
            "UPDATE {} SET snapshot = $1 WHERE structure_id = $2",
            tables.structures
        ))
        .bind(snapshot.encode_to_vec())
        .bind(structure.clone())
        .execute(&mut **tx)
        .await
        .map_err(transient)?;
    }
    sqlx::query(&format!("DELETE FROM {} WHERE person_id = $1", tables.people))
        .bind(person.clone())
        .execute(&mut **tx)
        .await
        .map_err(transient)?;
    let pseudonym = pseudonym(&person);
    for (table, column) in tables.pseudonymised {
        sqlx::query(&format!("UPDATE {table} SET {column} = $1 WHERE {column} = $2"))
            .bind(pseudonym.clone())
            .bind(person.clone())
            .execute(&mut **tx)
            .await
            .map_err(transient)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::pseudonym;

    #[test]
    fn pseudonyms_are_stable_and_distinct() {
        assert_eq!(pseudonym("p1"), pseudonym("p1"));
        assert_ne!(pseudonym("p1"), pseudonym("p2"));
        assert!(pseudonym("p1").starts_with("erased-"));
    }
}
