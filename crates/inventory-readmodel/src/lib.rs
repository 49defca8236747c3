//! What every service keeping a read model of the inventory shares.
//!
//! Training and facilitation keep the same two tables fed by
//! `structure.inventoried`: one row per structure with its encoded snapshot,
//! and one row per person. On `vigie.inventory.person.erased.v1`
//! (docs/security.md, "Personal data") each must delete the person, rewrite
//! the snapshots without them (people and holdings) and replace their id by
//! a stable pseudonym (`erased-<hash>`) in its own history tables, so counts
//! stay right and nobody can be named. This crate does that once, for any
//! service's table names ([`PersonErasures`] is the whole consumer); replays
//! are absorbed by the consumer's inbox.
//!
//! The pseudonym is keyed ([`PseudonymKey`], HMAC-SHA256 with the
//! deployment's `pseudonym_secret`): person ids are short and enumerable, so
//! an unkeyed hash could be reversed by hashing every candidate id. Every
//! service of one deployment uses the same secret, so the same person has
//! the same pseudonym everywhere.

mod consumer;
mod erasures;
mod snapshots;

pub use consumer::{SnapshotReadModel, StructureStore};
pub use erasures::PersonErasures;
pub use snapshots::{
    batch_changes, decode_inventoried, write_batch, BatchChanges, NewSnapshot, Placement, SnapshotTables,
    STRUCTURE_INVENTORIED,
};

use prost::Message;
use sqlx::{Any, Row, Transaction};
use vigie_platform::events::{Envelope, Event, HandlerError};
use vigie_proto::events::v1::PersonErased;
use vigie_proto::inventory::v1 as pb;

/// Type (and subject) of the erasure event: [`PersonErased`]'s [`Event::TYPE`], named here
/// for the callers that match on strings.
pub const PERSON_ERASED: &str = PersonErased::TYPE;

/// The key of the pseudonyms, derived from the deployment secret; cheap to
/// clone, never printed.
#[derive(Clone)]
pub struct PseudonymKey(ring::hmac::Key);

impl PseudonymKey {
    /// The key for `secret` (the configured `pseudonym_secret`, at least 32
    /// random bytes in production).
    pub fn new(secret: &[u8]) -> Self {
        PseudonymKey(ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret))
    }

    /// The stable pseudonym that replaces an erased person's id:
    /// `erased-` and the first 128 bits of HMAC-SHA256(secret, id) in hex —
    /// the same on every node and release of one deployment, not computable
    /// without the secret.
    pub fn pseudonym(&self, person_id: &str) -> String {
        let tag = ring::hmac::sign(&self.0, person_id.as_bytes());
        let hex: String = tag.as_ref()[..16].iter().map(|b| format!("{b:02x}")).collect();
        format!("erased-{hex}")
    }
}

impl std::fmt::Debug for PseudonymKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PseudonymKey(…)")
    }
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

/// Completes an erasure once its transaction is committed: folds the WAL
/// into the main file and truncates it (SQLite; nothing on PostgreSQL), so
/// the pages that named the person are gone from the raw files. A failure
/// (a reader kept the WAL busy) is logged; the next checkpoint finishes it.
pub async fn checkpoint_after_erasure(db: &vigie_platform::db::Db, consumer: &str) {
    if let Err(error) = db.checkpoint().await {
        tracing::warn!(consumer, error = %error, "wal checkpoint after an erasure failed");
    }
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
    key: &PseudonymKey,
) -> Result<(), HandlerError> {
    let event = envelope.decode::<PersonErased>()?;
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
    let pseudonym = key.pseudonym(&person);
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
    use super::PseudonymKey;

    #[test]
    fn pseudonyms_are_stable_distinct_and_keyed() {
        let key = PseudonymKey::new(b"0123456789abcdef0123456789abcdef");
        assert_eq!(key.pseudonym("p1"), key.pseudonym("p1"));
        assert_ne!(key.pseudonym("p1"), key.pseudonym("p2"));
        assert!(key.pseudonym("p1").starts_with("erased-"));
        assert_eq!(key.pseudonym("p1").len(), "erased-".len() + 32);
        // Another deployment's secret gives another pseudonym.
        let other = PseudonymKey::new(b"another secret, 32 bytes or more!");
        assert_ne!(key.pseudonym("p1"), other.pseudonym("p1"));
        // RFC 4231 test case 2 (HMAC-SHA256, key "Jefe"): the keyed hash is HMAC-SHA256.
        let jefe = PseudonymKey::new(b"Jefe");
        assert_eq!(
            jefe.pseudonym("what do ya want for nothing?"),
            "erased-5bdcc146bf60754e6a042426089575c7"
        );
        assert_eq!(format!("{key:?}"), "PseudonymKey(…)");
    }
}
