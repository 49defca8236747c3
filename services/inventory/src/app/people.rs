//! Personal-data rights (docs/security.md, "Personal data"): erase a person
//! at their request, export what the inventory holds about them.

use vigie_fragility_model::explain::Lang;
use vigie_fragility_model::fragility::{assess, Band};
use vigie_fragility_model::model::{HoldingRecord, PersonRecord};
use vigie_platform::words;

use super::views::VersionedInventory;
use crate::convert::fragility_to_pb;
use crate::error::InventoryError;
use crate::events;
use crate::storage::{self, Scope};

use super::import::normalize;
use super::Inventory;

/// The result of an erasure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Erasure {
    /// The erased person.
    pub person_id: String,
    /// The structure they belonged to.
    pub structure_id: String,
    /// The person had already been erased: nothing changed, no event.
    pub already_erased: bool,
}

/// Everything the inventory holds about one person.
#[derive(Debug, Clone)]
pub struct PersonExport {
    /// The person.
    pub person: PersonRecord,
    /// Their structure.
    pub structure: VersionedInventory,
    /// Their holdings.
    pub holdings: Vec<HoldingRecord>,
}

/// Where a person is (or was, when erased): structure id and network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PersonLocation {
    /// A current member of this structure (id, network).
    Current(String, String),
    /// Erased; they belonged to this structure (id, network).
    Erased(String, String),
}

impl Inventory {
    /// Where `person_id` is or was: `None` for an id the inventory never knew
    /// (or whose structure is gone).
    ///
    /// # Errors
    /// Storage errors.
    pub async fn locate_person(&self, person_id: &str) -> Result<Option<PersonLocation>, InventoryError> {
        if let Some(stored) = self.structure_of_person(person_id).await? {
            let s = &stored.inventory.structure;
            return Ok(Some(PersonLocation::Current(s.id.clone(), s.network.clone())));
        }
        let mut conn = self.db.reader().acquire().await?;
        Ok(storage::erasure_of(&mut conn, person_id)
            .await?
            .map(|(structure, network)| PersonLocation::Erased(structure, network)))
    }

    /// Erases a person in ONE transaction: their holdings and people row are
    /// deleted, a tombstone (ids only) recorded, the structure's version bumped
    /// and its fragility recomputed (`structure.inventoried` and
    /// `structure.fragility_assessed` without them, the latter even when the
    /// result did not change), `person.erased` appended, and the structure's
    /// earlier snapshot and assessment rows of the outbox (published or not:
    /// they named the person) deleted. A second erasure of the same person
    /// changes nothing and reports `already_erased`. On SQLite the WAL is
    /// then checkpointed (truncated), so the raw files no longer hold them.
    ///
    /// # Errors
    /// [`InventoryError::NotFound`] for an id the inventory never knew.
    #[tracing::instrument(name = "inventory.erase_person", skip_all)]
    pub async fn erase_person(&self, person_id: &str) -> Result<Erasure, InventoryError> {
        let today = self.today();
        let not_found = || InventoryError::NotFound(words!("personne « {person_id} »", "person “{person_id}”"));
        let mut tx = self.db.begin().await?;
        let owners = storage::structures_of_people(&mut tx, &[person_id.to_owned()]).await?;
        let Some(structure_id) = owners.get(person_id).cloned() else {
            let erased = storage::erasure_of(&mut tx, person_id).await?;
            tx.rollback().await?;
            return match erased {
                Some((structure_id, _)) => Ok(Erasure {
                    person_id: person_id.to_owned(),
                    structure_id,
                    already_erased: true,
                }),
                None => Err(not_found()),
            };
        };
        let mut stored = storage::load(&mut tx, Scope::Structure(&structure_id))
            .await?
            .remove(&structure_id)
            .ok_or_else(not_found)?;
        let now = chrono::Utc::now().to_rfc3339();
        storage::erase_person(&mut tx, person_id, &stored.inventory.structure, &now).await?;
        // Earlier snapshots and assessments of this structure (published or
        // still pending) name the person: drop them; the state appended below
        // supersedes them (both events are state transfers).
        sqlx::query("DELETE FROM vigie_outbox WHERE subject = $1 AND event_type IN ($2, $3)")
            .bind(structure_id.clone())
            .bind(events::STRUCTURE_INVENTORIED)
            .bind(events::FRAGILITY_ASSESSED)
            .execute(&mut *tx)
            .await
            .map_err(|e| InventoryError::Events(e.to_string()))?;
        stored.inventory.people.retain(|p| p.id != person_id);
        stored.inventory.holdings.retain(|h| h.person_id != person_id);
        stored.version += 1;
        storage::bump_version(&mut tx, &structure_id, stored.version, &now).await?;
        stored.inventory = normalize(stored.inventory);
        let appended = self
            .record_changes(&mut tx, std::slice::from_ref(&stored), today)
            .await?;
        if appended.assessed == 0 {
            // The deleted assessment may not have reached every consumer yet:
            // publish the current one again (same result, without the person).
            let assessment = assess(&stored.inventory, today, &self.params);
            let previous = storage::load_assessments(&mut tx, std::slice::from_ref(&structure_id))
                .await?
                .remove(&structure_id)
                .map(|b| (b.band.parse::<Band>().unwrap_or(Band::Unknown), b.score));
            let fragility = fragility_to_pb(&stored.inventory, &assessment, Lang::Fr);
            events::append(&mut tx, vec![events::fragility_assessed(fragility, previous)]).await?;
        }
        events::append(&mut tx, vec![events::person_erased(person_id, &structure_id)]).await?;
        tx.commit().await?;
        self.events_committed();
        // This process keeps no copy naming the person (the cache would
        // only replace it at the structure's next read).
        self.cache.forget(&structure_id);
        // SQLite: the old pages that named the person leave the WAL (deleted
        // content is zeroed by `secure_delete`). Best effort: the erasure is
        // committed; a busy WAL is folded by the next checkpoint.
        if let Err(error) = self.db.checkpoint().await {
            tracing::warn!(error = %error, "wal checkpoint after an erasure failed");
        }
        Ok(Erasure {
            person_id: person_id.to_owned(),
            structure_id,
            already_erased: false,
        })
    }

    /// Everything the inventory holds about a current person.
    ///
    /// # Errors
    /// [`InventoryError::NotFound`] for an unknown (or erased) person.
    pub async fn export_person(&self, person_id: &str) -> Result<PersonExport, InventoryError> {
        let not_found = || InventoryError::NotFound(words!("personne « {person_id} »", "person “{person_id}”"));
        let structure = self.structure_of_person(person_id).await?.ok_or_else(not_found)?;
        let person = structure
            .inventory
            .people
            .iter()
            .find(|p| p.id == person_id)
            .cloned()
            .ok_or_else(not_found)?;
        let holdings = structure
            .inventory
            .holdings
            .iter()
            .filter(|h| h.person_id == person_id)
            .cloned()
            .collect();
        Ok(PersonExport {
            person,
            structure,
            holdings,
        })
    }
}
