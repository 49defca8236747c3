//! Personal-data rights: `vigie.inventory.person.erased.v1` (docs/security.md,
//! "Personal data"). On a person's erasure this service
//! deletes them from `fa_people`, rewrites the snapshots of `fa_structures`
//! without them (people and holdings) and replaces their id in
//! `fa_interventions` by a stable pseudonym (`erased-<hash>`: the activity
//! report keeps its minutes, nobody can be named).
//! Replays are absorbed by the inbox (`Duplicate`).

use async_trait::async_trait;
use prost::Message;
use sqlx::{Any, Row, Transaction};
use vigie_platform::events::{Envelope, EventHandler, HandlerError};
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

/// Applies `person.erased` to this service's tables.
pub struct PersonErasures;

fn transient(error: sqlx::Error) -> HandlerError {
    HandlerError::Transient(error.into())
}

#[async_trait]
impl EventHandler for PersonErasures {
    fn name(&self) -> &str {
        "facilitation-erasures"
    }

    fn event_types(&self) -> Vec<String> {
        vec![PERSON_ERASED.to_owned()]
    }

    async fn handle(&self, tx: &mut Transaction<'_, Any>, envelope: &Envelope) -> Result<(), HandlerError> {
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
        let known = sqlx::query("SELECT structure_id FROM fa_people WHERE person_id = $1")
            .bind(person.clone())
            .fetch_optional(&mut **tx)
            .await
            .map_err(transient)?;
        if let Some(row) = known {
            structures.push(row.try_get("structure_id").map_err(transient)?);
        }
        structures.dedup();
        for structure in &structures {
            let row = sqlx::query("SELECT snapshot FROM fa_structures WHERE structure_id = $1")
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
            sqlx::query("UPDATE fa_structures SET snapshot = $1 WHERE structure_id = $2")
                .bind(snapshot.encode_to_vec())
                .bind(structure.clone())
                .execute(&mut **tx)
                .await
                .map_err(transient)?;
        }
        sqlx::query("DELETE FROM fa_people WHERE person_id = $1")
            .bind(person.clone())
            .execute(&mut **tx)
            .await
            .map_err(transient)?;
        let pseudonym = pseudonym(&person);
        sqlx::query("UPDATE fa_interventions SET person_id = $1 WHERE person_id = $2")
            .bind(pseudonym.clone())
            .bind(person.clone())
            .execute(&mut **tx)
            .await
            .map_err(transient)?;
        Ok(())
    }
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
