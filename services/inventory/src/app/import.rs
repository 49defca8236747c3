//! Importing a CSV set: validate everything first, then apply it in one
//! transaction (all or nothing), touching only the structures that changed.
//!
//! The set is authoritative for the structures it lists: their people,
//! functions and holdings are replaced by the set's. Structures absent from
//! the set are left alone, except when one of their people now appears in a
//! listed structure (a move), in which case they lose that person.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use vigie_fragility_model::model::StructureInventory;
use vigie_inventory_set::scope::{lines_of, outside_scope, ImportScope, SetLines};
use vigie_inventory_set::{parse_set_owned, CsvSetFiles, ParsedSet};
use vigie_platform::words;
use vigie_tabular::RowError;

use super::changes::{assess_span, prepare_changes};
use super::views::VersionedInventory;
use crate::error::InventoryError;
use crate::storage::{self, Scope};

use super::Inventory;

/// Structures built, compared, written and assessed together: the
/// inventories and event payloads of one batch are in memory at once.
const APPLY_BATCH: usize = 1_000;
/// Structures read per query (one placeholder each).
const STRUCTURES_READ: usize = 500;
/// People looked up per round of [`movers`].
const PEOPLE_READ: usize = 4_000;

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
    inv.sort_parts();
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
            .map_err(|error| {
                InventoryError::Invalid(words!(
                    "validation interrompue : {error}",
                    "validation interrupted: {error}"
                ))
            })?
            .map_err(InventoryError::Rejected)?;
        progress(ImportPhase::Validating, 1, 1);
        let validated = started.elapsed();

        let (people, functions, holdings) = parsed.counts();
        let mut report = ImportReport {
            structures: parsed.len() as u64,
            people: people as u64,
            functions: functions as u64,
            holdings: holdings as u64,
            ..ImportReport::default()
        };
        let today = self.today();
        let now = chrono::Utc::now().to_rfc3339();
        let mut tx = self.db.begin().await?;
        let movers = movers(&mut tx, &parsed).await?;
        // Structures outside the set that lose people: bumped after the set.
        let mut left_behind: Vec<String> = movers
            .iter()
            .map(|m| m.from.clone())
            .filter(|from| !parsed.contains(from))
            .collect();
        left_behind.sort();
        left_behind.dedup();
        if let ImportScope::Networks(_) = scope {
            let refused = refused_rows(&mut tx, scope, &parsed, &movers, &left_behind, &lines).await?;
            if !refused.is_empty() {
                // Nothing was written: the transaction is dropped.
                return Err(InventoryError::Rejected(refused));
            }
        }
        // A structure of the set that loses a person to an earlier batch
        // looks unchanged once that batch has deleted the person's rows.
        let losing: HashSet<&str> = movers.iter().map(|m| m.from.as_str()).collect();

        // A batch of structures at a time, built from the compact set, read
        // back, compared, written, assessed and appended to the outbox: only
        // one batch of inventories and event payloads is in memory at once.
        // Each structure's `inventoried` still precedes its `fragility_assessed`.
        let total = parsed.len() as u64;
        progress(ImportPhase::Applying, 0, total);
        let mut written = std::time::Duration::ZERO;
        for start in (0..parsed.len()).step_by(APPLY_BATCH) {
            let end = (start + APPLY_BATCH).min(parsed.len());
            let batch_started = std::time::Instant::now();
            let incoming: Vec<StructureInventory> = (start..end).map(|i| parsed.inventory(i)).collect();
            let ids: Vec<String> = incoming.iter().map(|i| i.structure.id.clone()).collect();
            let existing = existing(&mut tx, &ids).await?;
            let mut changed = Vec::new();
            let mut existing_ids = Vec::new();
            for inventory in incoming {
                let id = inventory.structure.id.as_str();
                let version = match existing.get(id) {
                    Some(old) if !losing.contains(id) && normalize(old.inventory.clone()) == inventory => {
                        report.unchanged += 1;
                        continue;
                    }
                    Some(old) => {
                        report.updated += 1;
                        existing_ids.push(id.to_owned());
                        old.version + 1
                    }
                    None => {
                        report.created += 1;
                        1
                    }
                };
                changed.push(VersionedInventory { inventory, version });
            }
            // A mover's new structure always changes (it gains the person).
            let batch_ids: HashSet<&str> = ids.iter().map(String::as_str).collect();
            let batch_movers: Vec<String> = movers
                .iter()
                .filter(|m| batch_ids.contains(m.to))
                .map(|m| m.person.to_owned())
                .collect();
            let changed = Arc::new(changed);
            let rows: Vec<(&StructureInventory, i64)> = changed.iter().map(|s| (&s.inventory, s.version)).collect();
            // The batch's events and assessments are computed on another
            // core while its rows are written (by SQLite's worker thread, or
            // the PostgreSQL server): neither waits for the other.
            let previous = self.previous_assessments(&mut tx, &changed).await?;
            let preparing = {
                let (changed, params, span) = (Arc::clone(&changed), self.params().clone(), assess_span(changed.len()));
                tokio::task::spawn_blocking(move || {
                    span.in_scope(|| prepare_changes(&params, &changed, &previous, today))
                })
            };
            storage::replace(&mut tx, &rows, &existing_ids, &batch_movers, &now).await?;
            // A panic there is a bug: an internal error, the import rolled back.
            let prepared = preparing
                .await
                .map_err(|error| InventoryError::Events(format!("préparation des événements interrompue : {error}")))?;
            written += batch_started.elapsed();
            report.events += self.write_prepared(&mut tx, prepared).await?.total();
            progress(ImportPhase::Applying, end as u64, total);
        }
        let mut bumped = Vec::new();
        for id in &left_behind {
            if let Some(mut stored) = storage::load(&mut tx, Scope::Structure(id)).await?.remove(id) {
                stored.version += 1;
                storage::bump_version(&mut tx, id, stored.version, &now).await?;
                stored.inventory = normalize(stored.inventory);
                bumped.push(stored);
            }
        }
        for batch in bumped.chunks(APPLY_BATCH) {
            report.events += self.record_changes(&mut tx, batch, today).await?.total();
        }
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
            write_ms = written.as_millis() as u64,
            events_ms = (started.elapsed() - validated - written).as_millis() as u64,
            "inventory imported"
        );
        Ok(report)
    }
}

/// A person of the set stored today under another structure.
struct Mover<'a> {
    person: &'a str,
    /// The structure that loses the person.
    from: String,
    /// The structure of the set that gains the person.
    to: &'a str,
}

/// The set's people stored today under another structure, read a few
/// thousand people at a time.
async fn movers<'a>(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    parsed: &'a ParsedSet,
) -> Result<Vec<Mover<'a>>, InventoryError> {
    let people: Vec<(&str, &str)> = parsed.people().collect();
    let mut movers = Vec::new();
    for chunk in people.chunks(PEOPLE_READ) {
        let ids: Vec<String> = chunk.iter().map(|(person, _)| (*person).to_owned()).collect();
        let mut stored = storage::structures_of_people(tx, &ids).await?;
        for &(person, to) in chunk {
            if let Some(from) = stored.remove(person).filter(|from| from != to) {
                movers.push(Mover { person, from, to });
            }
        }
    }
    Ok(movers)
}

/// The stored inventories of some of the set's structures (a batch).
async fn existing(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    ids: &[String],
) -> Result<BTreeMap<String, VersionedInventory>, InventoryError> {
    let mut found = BTreeMap::new();
    for chunk in ids.chunks(STRUCTURES_READ) {
        found.append(&mut storage::load(tx, Scope::Structures(chunk)).await?);
    }
    Ok(found)
}

/// For a coordinator's import: the rows naming a structure or a person
/// outside her networks, today or in the set (empty when all is hers).
async fn refused_rows(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    scope: &ImportScope,
    parsed: &ParsedSet,
    movers: &[Mover<'_>],
    left_behind: &[String],
    lines: &SetLines,
) -> Result<Vec<RowError>, InventoryError> {
    let declared: Vec<(String, String)> = parsed
        .structure_keys()
        .map(|(id, network)| (id.to_owned(), network.to_owned()))
        .collect();
    let ids: Vec<String> = declared.iter().map(|(id, _)| id.clone()).collect();
    let networks = |stored: BTreeMap<String, VersionedInventory>| -> BTreeMap<String, String> {
        stored
            .into_iter()
            .map(|(id, s)| (id, s.inventory.structure.network))
            .collect()
    };
    let mut existing_networks = BTreeMap::new();
    let mut left = BTreeMap::new();
    for chunk in ids.chunks(STRUCTURES_READ) {
        existing_networks.append(&mut networks(
            storage::load_structures(tx, Scope::Structures(chunk)).await?,
        ));
    }
    for chunk in left_behind.chunks(STRUCTURES_READ) {
        left.append(&mut networks(
            storage::load_structures(tx, Scope::Structures(chunk)).await?,
        ));
    }
    let moving: BTreeMap<String, String> = movers
        .iter()
        .filter_map(|m| Some((m.person.to_owned(), left.get(&m.from)?.clone())))
        .collect();
    Ok(outside_scope(scope, &declared, &existing_networks, &moving, lines))
}
