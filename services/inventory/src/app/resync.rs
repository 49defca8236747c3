//! Resync: restate the current state of structures as new events, so that a
//! consumer added later, or restored from an older backup, catches up.
//!
//! Inventory events are state transfers (ADR 0003): the latest
//! `structure.inventoried` and `fragility_assessed` of a structure are all a
//! consumer needs. The stream may no longer hold them (retention, a new
//! JetStream, a consumer created after the fact starts at the end of the
//! stream; in `vigie dev` a new consumer never sees rows already delivered),
//! so a resync appends NEW events (new ids, so no inbox or JetStream
//! deduplication swallows them) carrying the same state and the same
//! `version`. Applying them is idempotent: a consumer that already holds
//! that version keeps its copy, one that holds an older one (or none)
//! replaces it.
//!
//! After the inventory itself was restored from a dump, its consumers may
//! hold snapshots NEWER than the restored ones (changes made after the dump):
//! they would ignore a same-version restatement. [`Versions::Supersede`]
//! then gives each structure a version above anything issued before — the
//! current time in milliseconds, or the next version when that is larger —
//! so the restored state wins everywhere. Versions stay increasing: later
//! changes add one to it.

use std::collections::BTreeSet;

use vigie_platform::words;

use super::views::VersionedInventory;
use crate::error::InventoryError;
use crate::events;
use crate::storage;

use super::changes::{Appended, Publish};
use super::Inventory;

/// Which version the restated snapshots carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Versions {
    /// The stored one: consumers holding it keep their copy (the usual case:
    /// a consumer added later, or restored from an older backup).
    #[default]
    Keep,
    /// A new one, above every version issued so far (the inventory was
    /// restored from a dump older than its consumers). Run it while the
    /// inventory is stopped: a change committed concurrently could
    /// otherwise get a smaller version than the restatement.
    Supersede,
}

/// The version of a superseding restatement of a structure at `version`,
/// at `now_millis` (Unix time in milliseconds): larger than the stored one
/// and than any version a previous supersede issued earlier.
pub fn superseding_version(version: i64, now_millis: i64) -> i64 {
    version.saturating_add(1).max(now_millis)
}

/// Structures restated per transaction: bounds memory and transaction size
/// (a partial resync that failed is harmless: run it again).
const RESYNC_BATCH: usize = 500;

impl Inventory {
    /// Appends, for each structure of `structure_ids` (every structure when
    /// empty), its current `structure.inventoried` then its current
    /// `fragility_assessed` (assessed today; a result that changed since the
    /// last assessment is recorded, as the daily re-assessment would), then
    /// wakes the relay. Versions are kept, or superseded (see [`Versions`]).
    ///
    /// # Errors
    /// [`InventoryError::NotFound`] when a requested structure does not exist
    /// (nothing is appended); storage or outbox errors (batches already
    /// committed stay committed).
    #[tracing::instrument(name = "inventory.resync", skip_all, fields(requested = structure_ids.len()))]
    pub async fn resync(&self, structure_ids: &[String], versions: Versions) -> Result<Appended, InventoryError> {
        let today = self.today();
        let ids = self.resync_scope(structure_ids).await?;
        let mut total = Appended::default();
        for chunk in ids.chunks(RESYNC_BATCH) {
            let mut tx = self.db.begin().await?;
            let batch = super::queries::load_whole(&mut tx, chunk).await?;
            let batch = match versions {
                Versions::Keep => batch,
                Versions::Supersede => supersede(&mut tx, batch).await?,
            };
            let mut drafts: Vec<_> = batch
                .iter()
                .map(|stored| {
                    events::structure_inventoried(crate::convert::structure_to_pb(&stored.inventory, stored.version))
                })
                .collect();
            total.inventoried += drafts.len() as u64;
            total.assessed += self
                .assess_changes(&mut tx, &batch, today, Publish::All, &mut drafts)
                .await?;
            events::append(&mut tx, drafts).await?;
            tx.commit().await?;
            self.events_committed();
        }
        tracing::info!(
            inventoried = total.inventoried,
            assessed = total.assessed,
            "inventory resync appended"
        );
        Ok(total)
    }

    /// The sorted ids to restate: every structure, or the requested ones
    /// once each, all of which must exist.
    async fn resync_scope(&self, requested: &[String]) -> Result<Vec<String>, InventoryError> {
        let mut conn = self.db.pool().acquire().await?;
        let existing = storage::structure_ids(&mut conn).await?;
        if requested.is_empty() {
            return Ok(existing);
        }
        let existing: BTreeSet<String> = existing.into_iter().collect();
        let wanted: BTreeSet<String> = requested.iter().cloned().collect();
        let missing: Vec<&String> = wanted.difference(&existing).collect();
        if !missing.is_empty() {
            let names: Vec<&str> = missing.iter().map(|s| s.as_str()).collect();
            let names = names.join(", ");
            return Err(InventoryError::NotFound(words!(
                "structure {names}",
                "structure {names}"
            )));
        }
        Ok(wanted.into_iter().collect())
    }
}

/// Records a superseding version for each structure of `batch`.
async fn supersede(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    batch: Vec<VersionedInventory>,
) -> Result<Vec<VersionedInventory>, InventoryError> {
    let now = chrono::Utc::now();
    let updated_at = now.to_rfc3339();
    let mut superseded = Vec::with_capacity(batch.len());
    for mut stored in batch {
        stored.version = superseding_version(stored.version, now.timestamp_millis());
        storage::bump_version(tx, &stored.inventory.structure.id, stored.version, &updated_at).await?;
        superseded.push(stored);
    }
    Ok(superseded)
}

#[cfg(test)]
mod tests {
    use super::superseding_version;

    #[test]
    fn a_superseding_version_beats_the_stored_one_and_earlier_supersedes() {
        let now = 1_764_700_000_000;
        // Ordinary counters jump to the clock.
        assert_eq!(superseding_version(7, now), now);
        // A version already on the clock (an earlier supersede in the same
        // millisecond, or a clock set back) still grows.
        assert_eq!(superseding_version(now, now), now + 1);
        assert_eq!(superseding_version(now + 50, now), now + 51);
        // Later supersedes beat earlier ones.
        assert!(superseding_version(superseding_version(7, now), now + 1000) > superseding_version(7, now));
        assert_eq!(superseding_version(i64::MAX, now), i64::MAX);
    }
}
