//! Importing a CSV set: validate everything first, then apply it in one
//! transaction (all or nothing), touching only the structures that changed.
//!
//! The set is authoritative for the structures it lists: their people,
//! functions and holdings are replaced by the set's. Structures absent from
//! the set are left alone, except when one of their people now appears in a
//! listed structure (a move), in which case they lose that person.

use std::collections::{BTreeMap, HashSet};

use vigie_inventory_domain::csv_set::scope::{lines_of, outside_scope, ImportScope, SetLines};
use vigie_inventory_domain::csv_set::{parse_set_owned, CsvSetFiles};
use vigie_inventory_domain::model::StructureInventory;

use crate::error::InventoryError;
use crate::storage::{self, Scope, Stored};

use super::Inventory;

/// Below this many structures, existing inventories are read one by one;
/// above, the whole table is read once (fewer round trips).
const READ_ALL_THRESHOLD: usize = 200;
/// Structures written per batch between two progress reports.
const APPLY_BATCH: usize = 1_000;

/// Phases reported while an import runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportPhase {
    /// Parsing and checking every row of every file.
    Validating,
    /// Writing the changed structures (done/total in structures).
    Applying,
}

/// What an accepted import did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ImportReport {
    /// Structures in the set.
    pub structures: u64,
    /// New structures.
    pub created: u64,
    /// Existing structures whose inventory changed.
    pub updated: u64,
    /// Existing structures identical to the set.
    pub unchanged: u64,
    /// People in the set.
    pub people: u64,
    /// Functions in the set.
    pub functions: u64,
    /// Holdings in the set.
    pub holdings: u64,
    /// Events appended to the outbox.
    pub events: u64,
}

/// Sorts the parts of an inventory so that two equal inventories compare
/// equal whatever order their rows came in.
pub(crate) fn normalize(mut inv: StructureInventory) -> StructureInventory {
    inv.people.sort_by(|a, b| a.id.cmp(&b.id));
    inv.functions.sort_by(|a, b| a.code.cmp(&b.code));
    inv.holdings
        .sort_by(|a, b| (&a.person_id, &a.function).cmp(&(&b.person_id, &b.function)));
    inv
}

impl Inventory {
    /// Validates and applies a CSV set.
    ///
    /// # Errors
    /// [`InventoryError::Rejected`] with every row error when the set is not
    /// valid (nothing is changed); storage or outbox errors otherwise (the
    /// transaction is rolled back, nothing is changed either).
    pub async fn import(
        &self,
        files: CsvSetFiles,
        progress: impl Fn(ImportPhase, u64, u64) + Send + Sync,
    ) -> Result<ImportReport, InventoryError> {
        self.import_within(files, &ImportScope::Instance, progress).await
    }

    /// Validates and applies a CSV set whose structures must all lie within
    /// `scope` (a coordinator's networks): a row outside it is refused like
    /// an invalid one, naming its `FILE:LINE`, and nothing changes.
    ///
    /// # Errors
    /// As [`Inventory::import`].
    #[tracing::instrument(name = "inventory.import", skip_all)]
    pub async fn import_within(
        &self,
        files: CsvSetFiles,
        scope: &ImportScope,
        progress: impl Fn(ImportPhase, u64, u64) + Send + Sync,
    ) -> Result<ImportReport, InventoryError> {
        let started = std::time::Instant::now();
        // Where each structure and person is, to name a refused row.
        let lines = match scope {
            ImportScope::Instance => SetLines::default(),
            ImportScope::Networks(_) => SetLines {
                structures: lines_of(&files.structures, "structure_id"),
                people: lines_of(&files.people, "person_id"),
            },
        };
        progress(ImportPhase::Validating, 0, 1);
        // Parsing 100,000 structures takes CPU seconds: keep it off the
        // async workers so the server keeps answering meanwhile.
        let parsed = tokio::task::spawn_blocking(move || parse_set_owned(files))
            .await
            .map_err(|error| InventoryError::Invalid(format!("validation interrompue : {error}")))?
            .map_err(InventoryError::Rejected)?;
        progress(ImportPhase::Validating, 1, 1);
        let validated = started.elapsed();

        let incoming: Vec<StructureInventory> = parsed.inventories.into_iter().map(normalize).collect();
        let declared: Vec<(String, String)> = match scope {
            ImportScope::Instance => Vec::new(),
            ImportScope::Networks(_) => incoming
                .iter()
                .map(|i| (i.structure.id.clone(), i.structure.network.clone()))
                .collect(),
        };
        let mut report = ImportReport {
            structures: incoming.len() as u64,
            people: incoming.iter().map(|i| i.people.len() as u64).sum(),
            functions: incoming.iter().map(|i| i.functions.len() as u64).sum(),
            holdings: incoming.iter().map(|i| i.holdings.len() as u64).sum(),
            ..ImportReport::default()
        };

        let today = self.today();
        let now = chrono::Utc::now().to_rfc3339();
        let mut tx = self.db.begin().await?;
        let existing = self.existing(&mut tx, &incoming).await?;

        let mut changed: Vec<Stored> = Vec::new();
        for inv in incoming {
            match existing.get(&inv.structure.id) {
                Some(old) if normalize(old.inventory.clone()) == inv => report.unchanged += 1,
                Some(old) => {
                    report.updated += 1;
                    changed.push(Stored {
                        inventory: inv,
                        version: old.version + 1,
                    });
                }
                None => {
                    report.created += 1;
                    changed.push(Stored {
                        inventory: inv,
                        version: 1,
                    });
                }
            }
        }

        // People who move in from a structure outside the set leave it.
        let listed: HashSet<&str> = changed.iter().map(|s| s.inventory.structure.id.as_str()).collect();
        let people: Vec<String> = changed
            .iter()
            .flat_map(|s| s.inventory.people.iter().map(|p| p.id.clone()))
            .collect();
        let mut movers = Vec::new();
        let mut left_behind = Vec::new();
        for (person, old) in storage::structures_of_people(&mut tx, &people).await? {
            if !listed.contains(old.as_str()) {
                movers.push(person);
                left_behind.push(old);
            }
        }
        left_behind.sort();
        left_behind.dedup();
        if let ImportScope::Networks(_) = scope {
            let existing_networks: BTreeMap<String, String> = existing
                .iter()
                .map(|(id, old)| (id.clone(), old.inventory.structure.network.clone()))
                .collect();
            let left = if left_behind.is_empty() {
                BTreeMap::new()
            } else {
                storage::load(&mut tx, Scope::Structures(&left_behind)).await?
            };
            let mut moving: BTreeMap<String, String> = BTreeMap::new();
            for (person, old) in storage::structures_of_people(&mut tx, &movers).await? {
                if let Some(stored) = left.get(&old) {
                    moving.insert(person, stored.inventory.structure.network.clone());
                }
            }
            let refused = outside_scope(scope, &declared, &existing_networks, &moving, &lines);
            if !refused.is_empty() {
                // Nothing was written: the transaction is dropped.
                return Err(InventoryError::Rejected(refused));
            }
        }
        let existing_changed: HashSet<&str> = changed
            .iter()
            .filter(|s| existing.contains_key(&s.inventory.structure.id))
            .map(|s| s.inventory.structure.id.as_str())
            .collect();

        let total = changed.len() as u64;
        progress(ImportPhase::Applying, 0, total);
        for (n, batch) in changed.chunks(APPLY_BATCH).enumerate() {
            let rows: Vec<(&StructureInventory, i64)> = batch.iter().map(|s| (&s.inventory, s.version)).collect();
            let existing_ids: Vec<String> = batch
                .iter()
                .map(|s| s.inventory.structure.id.clone())
                .filter(|id| existing_changed.contains(id.as_str()))
                .collect();
            let batch_people: HashSet<&str> = batch
                .iter()
                .flat_map(|s| s.inventory.people.iter().map(|p| p.id.as_str()))
                .collect();
            let batch_movers: Vec<String> = movers
                .iter()
                .filter(|m| batch_people.contains(m.as_str()))
                .cloned()
                .collect();
            storage::replace(&mut tx, &rows, &existing_ids, &batch_movers, &now).await?;
            progress(
                ImportPhase::Applying,
                ((n * APPLY_BATCH + batch.len()) as u64).min(total),
                total,
            );
        }
        for id in &left_behind {
            if let Some(mut stored) = storage::load(&mut tx, Scope::Structure(id)).await?.remove(id) {
                stored.version += 1;
                storage::bump_version(&mut tx, id, stored.version, &now).await?;
                stored.inventory = normalize(stored.inventory);
                changed.push(stored);
            }
        }
        let written = started.elapsed();
        // The events of a batch of structures at a time: their payloads (a
        // snapshot and an assessment per structure, kilobytes each) never
        // all sit in memory together. Each structure's `inventoried` still
        // precedes its `fragility_assessed`.
        for batch in changed.chunks(APPLY_BATCH) {
            report.events += self.record_changes(&mut tx, batch, today).await?.total();
        }
        drop(changed);
        tx.commit().await?;
        if report.events > 0 {
            self.events_committed();
        }
        tracing::info!(
            structures = report.structures,
            created = report.created,
            updated = report.updated,
            unchanged = report.unchanged,
            events = report.events,
            validate_ms = validated.as_millis() as u64,
            write_ms = (written - validated).as_millis() as u64,
            events_ms = (started.elapsed() - written).as_millis() as u64,
            "inventory imported"
        );
        Ok(report)
    }

    async fn existing(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        incoming: &[StructureInventory],
    ) -> Result<BTreeMap<String, Stored>, InventoryError> {
        if incoming.len() > READ_ALL_THRESHOLD {
            let wanted: HashSet<&str> = incoming.iter().map(|i| i.structure.id.as_str()).collect();
            let mut all = storage::load(tx, Scope::All).await?;
            all.retain(|id, _| wanted.contains(id.as_str()));
            return Ok(all);
        }
        let ids: Vec<String> = incoming.iter().map(|i| i.structure.id.clone()).collect();
        Ok(storage::load(tx, Scope::Structures(&ids)).await?)
    }
}
