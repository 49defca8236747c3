//! Read-side use cases: structures, fragility on any date, roll-ups, holding
//! changes, and the daily re-assessment.

use std::sync::Arc;

use chrono::NaiveDate;
use sqlx::{Any, Transaction};
use vigie_fragility_model::fragility::{assess, Assessment};
use vigie_fragility_model::model::HoldingRecord;
use vigie_inventory_domain::rollup::{Rollup, RollupGroup};
use vigie_platform::words;

use vigie_platform::auth::Visibility;
use vigie_platform::db::clock::WriteClock;

use std::collections::BTreeMap;

use super::views::{ListedStructure, VersionedInventory};
use crate::error::InventoryError;
use crate::storage::{self, Scope, StorageError};

use super::cache::Cached;
use super::import::normalize;
use super::Inventory;

/// Structures a listing reads per statement ([`Inventory::fragility_of`]):
/// one placeholder each.
pub const LIST_CHUNK: usize = 500;

/// Structures re-assessed per transaction by [`Inventory::reassess_all`].
const REASSESS_BATCH: usize = 500;

/// How to group a roll-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RollupBy {
    /// One group for the whole instance (key `*`).
    Instance,
    /// Per network.
    Network,
    /// Per region (INSEE code).
    Region,
    /// Per department (INSEE code).
    Department,
}

/// A holding to set through the API.
#[derive(Debug, Clone)]
pub struct HoldingChange {
    /// The holding.
    pub holding: HoldingRecord,
    /// Ignore a level lower than the current one (trainings never lower).
    pub raise_only: bool,
}

impl Inventory {
    /// One structure with its whole inventory.
    ///
    /// # Errors
    /// [`InventoryError::NotFound`] when it does not exist.
    pub async fn structure(&self, id: &str) -> Result<VersionedInventory, InventoryError> {
        Ok(VersionedInventory::clone(&*self.structure_shared(id).await?))
    }

    /// [`Inventory::structure`], shared: served from the answer cache when
    /// its copy is still the database's state (`cache.rs`), read otherwise.
    ///
    /// # Errors
    /// [`InventoryError::NotFound`] when it does not exist.
    pub async fn structure_shared(&self, id: &str) -> Result<Arc<VersionedInventory>, InventoryError> {
        match self.db.write_clock() {
            Some(clock) => self.structure_by_clock(clock, id).await,
            None => self.structure_by_version(id).await,
        }
    }

    /// The only writer is this process: a copy is current while the write
    /// connection has not been handed out since it was stamped.
    async fn structure_by_clock(
        &self,
        clock: &WriteClock,
        id: &str,
    ) -> Result<Arc<VersionedInventory>, InventoryError> {
        let cached = self.cache.get(id);
        if let Some(cached) = cached.filter(|c| c.stamp.is_some_and(|s| clock.still(s))) {
            return Ok(cached.stored);
        }
        // Stamped before the read: a write that lands during it keeps what
        // was read out of the cache.
        let stamp = clock.stamp();
        let stored = self.read_one(&mut *self.db.reader().acquire().await?, id).await?;
        if let Some(stamp) = stamp.filter(|s| clock.still(*s)) {
            let stamp = Some(stamp);
            self.cache.put(
                id,
                Cached {
                    stored: stored.clone(),
                    stamp,
                    checked: None,
                },
            );
        }
        Ok(stored)
    }

    /// Other processes write too: a copy is current while the structure's
    /// version is still the copy's (one indexed lookup) — or, when the
    /// operator allowed some staleness, while it was checked less than that
    /// long ago and this process has committed nothing since (`cache.rs`).
    async fn structure_by_version(&self, id: &str) -> Result<Arc<VersionedInventory>, InventoryError> {
        let cached = self.cache.get(id);
        if let Some(cached) = &cached {
            if cached.fresh(self.read_staleness, self.cache.local_writes()) {
                return Ok(cached.stored.clone());
            }
        }
        // Taken before the check or the read: a change committed here
        // during either makes the copy checked again.
        let checked = Some(self.cache.check_now());
        if let Some(cached) = cached {
            // Coalesced with the other calls' checks (`versions.rs`).
            match self.versions.version(&self.db, id).await? {
                Some(version) if version == cached.stored.version => {
                    self.cache.put(
                        id,
                        Cached {
                            checked,
                            ..cached.clone()
                        },
                    );
                    return Ok(cached.stored);
                }
                Some(_) => {}
                None => return Err(not_found(id)),
            }
        }
        let stored = self.read_one(&mut *self.db.reader().acquire().await?, id).await?;
        self.cache.put(
            id,
            Cached {
                stored: stored.clone(),
                stamp: None,
                checked,
            },
        );
        Ok(stored)
    }

    /// Reads structure `id` in one statement: one round trip, one snapshot
    /// of the structure and its rows even while the writer commits.
    async fn read_one(
        &self,
        conn: &mut sqlx::AnyConnection,
        id: &str,
    ) -> Result<Arc<VersionedInventory>, InventoryError> {
        let mut stored = storage::load_one(conn, id).await?.ok_or_else(|| not_found(id))?;
        stored.inventory = normalize(stored.inventory);
        Ok(Arc::new(stored))
    }

    /// Structures, optionally of one network, ordered by id.
    ///
    /// # Errors
    /// Storage errors.
    pub async fn structures(&self, network: Option<&str>) -> Result<Vec<VersionedInventory>, InventoryError> {
        self.read_in(network, &Visibility::All, WHOLE).await
    }

    /// Structures (optionally of one network) restricted to what `visibility`
    /// shows, ordered by id, their own rows only (their people, functions and
    /// holdings left empty): one query per scope, for lists of names. The
    /// restriction is in the queries (one per visible network, one for the
    /// single structures), never applied to a truncated result.
    ///
    /// # Errors
    /// Storage errors.
    pub async fn summaries_in(
        &self,
        network: Option<&str>,
        visibility: &Visibility,
    ) -> Result<Vec<VersionedInventory>, InventoryError> {
        self.read_in(network, visibility, STRUCTURE_ONLY).await
    }

    /// The ids and networks of the structures (optionally of one network)
    /// that `visibility` shows, ordered by id: what a listing reads first,
    /// to read the structures themselves [`LIST_CHUNK`] at a time.
    ///
    /// # Errors
    /// Storage errors.
    pub async fn listed_in(
        &self,
        network: Option<&str>,
        visibility: &Visibility,
    ) -> Result<Vec<ListedStructure>, InventoryError> {
        self.read_in(network, visibility, Key).await
    }

    /// What `visibility` shows of `depth`, in one read snapshot: one query
    /// per scope (the instance, a visible network), the single structures
    /// of a grant a chunk at a time — the restriction is in the queries,
    /// never applied to a truncated result.
    async fn read_in<D: Depth>(
        &self,
        network: Option<&str>,
        visibility: &Visibility,
        depth: D,
    ) -> Result<Vec<D::Item>, InventoryError> {
        let mut snapshot = self.db.begin_read().await?;
        let mut found = std::collections::BTreeMap::new();
        match visibility {
            Visibility::All => {
                let scope = network.map_or(Scope::All, Scope::Network);
                found = depth.load(&mut snapshot, scope).await?;
            }
            Visibility::Only { networks, structures } => {
                let wanted = |n: &str| network.is_none_or(|w| w == n);
                for n in networks.iter().filter(|n| wanted(n)) {
                    found.extend(depth.load(&mut snapshot, Scope::Network(n)).await?);
                }
                let singles: Vec<&(String, String)> = structures.iter().filter(|(n, _)| wanted(n)).collect();
                for chunk in singles.chunks(500) {
                    let ids: Vec<String> = chunk.iter().map(|(_, id)| id.clone()).collect();
                    for (id, item) in depth.load(&mut snapshot, Scope::Structures(&ids)).await? {
                        // A structure group only counts for a structure really in its network.
                        if chunk.iter().any(|(n, s)| *s == id && n == D::network(&item)) {
                            found.insert(id, item);
                        }
                    }
                }
            }
        }
        snapshot.commit().await?;
        Ok(found.into_values().collect())
    }

    /// The structure a person belongs to, if the person exists.
    ///
    /// # Errors
    /// Storage errors.
    pub async fn structure_of_person(&self, person_id: &str) -> Result<Option<VersionedInventory>, InventoryError> {
        let owner = {
            let mut conn = self.db.reader().acquire().await?;
            storage::structures_of_people(&mut conn, &[person_id.to_owned()])
                .await?
                .remove(person_id)
        };
        match owner {
            None => Ok(None),
            Some(id) => match self.structure(&id).await {
                Ok(stored) => Ok(Some(stored)),
                Err(InventoryError::NotFound(_)) => Ok(None),
                Err(other) => Err(other),
            },
        }
    }

    /// The fragility on `at` of the `listed` structures (from
    /// [`Inventory::listed_in`], whose order is kept), read in one
    /// statement — a listing reads [`LIST_CHUNK`] at a time, so its first
    /// answers leave while the next are read, and the whole instance is never
    /// in memory. A structure that moved to another network since it was
    /// listed is left out: the caller's visibility was checked on the
    /// network it was listed in.
    ///
    /// # Errors
    /// Storage errors.
    pub async fn fragility_of(
        &self,
        listed: &[ListedStructure],
        at: NaiveDate,
    ) -> Result<Vec<(VersionedInventory, Assessment)>, InventoryError> {
        let ids: Vec<String> = listed.iter().map(|l| l.id.clone()).collect();
        let mut loaded = WHOLE
            .load(&mut *self.db.reader().acquire().await?, Scope::Structures(&ids))
            .await?;
        Ok(listed
            .iter()
            .filter_map(|listed| {
                let stored = loaded
                    .remove(&listed.id)
                    .filter(|s| s.inventory.structure.network == listed.network)?;
                let assessment = assess(&stored.inventory, at, &self.params);
                Some((stored, assessment))
            })
            .collect())
    }

    /// The fragility of one structure on `at` (today by default).
    ///
    /// # Errors
    /// [`InventoryError::NotFound`] when the structure does not exist.
    pub async fn fragility(
        &self,
        id: &str,
        at: Option<NaiveDate>,
    ) -> Result<(VersionedInventory, Assessment), InventoryError> {
        let stored = self.structure(id).await?;
        let assessment = self.assess(&stored, at);
        Ok((stored, assessment))
    }

    /// The fragility of a structure already loaded, on `at` (today by
    /// default): pure computation, no storage.
    pub fn assess(&self, stored: &VersionedInventory, at: Option<NaiveDate>) -> Assessment {
        assess(&stored.inventory, at.unwrap_or_else(|| self.today()), &self.params)
    }

    /// The fragility of every structure (of one network) on `at`, by id.
    ///
    /// # Errors
    /// Storage errors.
    pub async fn fragility_all(
        &self,
        network: Option<&str>,
        at: Option<NaiveDate>,
    ) -> Result<Vec<(VersionedInventory, Assessment)>, InventoryError> {
        let at = at.unwrap_or_else(|| self.today());
        let structures = self.structures(network).await?;
        Ok(structures
            .into_iter()
            .map(|stored| {
                let assessment = assess(&stored.inventory, at, &self.params);
                (stored, assessment)
            })
            .collect())
    }

    /// Counts by band, mean score and per-function shares, grouped by `by`.
    ///
    /// # Errors
    /// Storage errors.
    pub async fn rollup(&self, by: RollupBy, at: Option<NaiveDate>) -> Result<Vec<RollupGroup>, InventoryError> {
        let at = at.unwrap_or_else(|| self.today());
        // A chunk of structures at a time, like a listing: an instance of
        // 100,000 structures is never in memory whole. Not through
        // `fragility_of`, whose check of the listed network is for a
        // caller's visibility: the roll-up sees everything, and counts a
        // structure that moved meanwhile under its new network.
        let ids: Vec<String> = self
            .listed_in(None, &Visibility::All)
            .await?
            .into_iter()
            .map(|listed| listed.id)
            .collect();
        let mut groups = Rollup::default();
        for chunk in ids.chunks(LIST_CHUNK) {
            let batch = load_whole(&mut *self.db.reader().acquire().await?, chunk).await?;
            for stored in batch {
                let assessment = assess(&stored.inventory, at, &self.params);
                let s = &stored.inventory.structure;
                let key = match by {
                    RollupBy::Instance => "*".to_owned(),
                    RollupBy::Network => s.network.clone(),
                    RollupBy::Region => s.region_code.clone(),
                    RollupBy::Department => s.department_code.clone(),
                };
                groups.add(key, &assessment);
            }
        }
        Ok(groups.finish())
    }

    /// Sets one person's level on one function of their structure, then
    /// re-assesses the structure, in one transaction with its events.
    ///
    /// # Errors
    /// [`InventoryError::NotFound`] for an unknown person or a function the
    /// structure does not record; [`InventoryError::Invalid`] for a level
    /// outside 0–4.
    #[tracing::instrument(name = "inventory.set_holding", skip_all)]
    pub async fn set_holding(
        &self,
        change: HoldingChange,
    ) -> Result<(HoldingRecord, VersionedInventory, Assessment), InventoryError> {
        let today = self.today();
        let mut tx = self.db.begin().await?;
        let (holding, stored, changed) = self.apply_holding(&mut tx, change, today).await?;
        if changed {
            tx.commit().await?;
            self.events_committed();
        } else {
            tx.rollback().await?;
        }
        let assessment = assess(&stored.inventory, today, &self.params);
        Ok((holding, stored, assessment))
    }

    /// [`Inventory::set_holding`] inside the caller's transaction (event
    /// handlers apply it together with their inbox row). Returns the holding
    /// as stored, the structure, and whether anything changed.
    ///
    /// # Errors
    /// As [`Inventory::set_holding`].
    pub async fn apply_holding(
        &self,
        tx: &mut Transaction<'_, Any>,
        change: HoldingChange,
        today: NaiveDate,
    ) -> Result<(HoldingRecord, VersionedInventory, bool), InventoryError> {
        let HoldingChange {
            mut holding,
            raise_only,
        } = change;
        if holding.level > 4 {
            return Err(InventoryError::Invalid(words!(
                "niveau {} invalide (0 à 4)",
                "invalid level {} (0 to 4)",
                holding.level
            )));
        }
        let owners = storage::structures_of_people(tx, std::slice::from_ref(&holding.person_id)).await?;
        let structure_id = owners
            .get(&holding.person_id)
            .cloned()
            .ok_or_else(|| InventoryError::NotFound(words!("personne « {} »", "person “{}”", holding.person_id)))?;
        let mut stored = storage::load(tx, Scope::Structure(&structure_id))
            .await?
            .remove(&structure_id)
            .ok_or_else(|| {
                InventoryError::NotFound(words!("structure « {structure_id} »", "structure “{structure_id}”"))
            })?;
        stored.inventory = normalize(stored.inventory);
        if !stored.inventory.functions.iter().any(|f| f.code == holding.function) {
            return Err(InventoryError::NotFound(words!(
                "fonction « {} » dans la structure « {structure_id} »",
                "function “{}” in structure “{structure_id}”",
                holding.function
            )));
        }
        let current = stored
            .inventory
            .holdings
            .iter()
            .position(|h| h.person_id == holding.person_id && h.function == holding.function);
        if let Some(index) = current {
            let existing = &stored.inventory.holdings[index];
            if raise_only && existing.level >= holding.level {
                // Never lower: keep the level, but a more recent practice counts.
                holding.level = existing.level;
                holding.evidence = existing.evidence;
                holding.last_practised = existing.last_practised.max(holding.last_practised);
            }
            if *existing == holding {
                return Ok((holding, stored, false));
            }
            stored.inventory.holdings[index] = holding.clone();
        } else {
            stored.inventory.holdings.push(holding.clone());
        }
        storage::upsert_holding(tx, &stored.inventory.structure, &holding).await?;
        stored.version += 1;
        storage::bump_version(tx, &structure_id, stored.version, &chrono::Utc::now().to_rfc3339()).await?;
        stored.inventory = normalize(stored.inventory);
        self.record_changes(tx, std::slice::from_ref(&stored), today).await?;
        Ok((holding, stored, true))
    }

    /// Re-assesses every structure on today's date and publishes the results
    /// that changed (end dates passed, holdings went stale). Run at start-up
    /// and whenever the date changes. Returns the number of events.
    ///
    /// # Errors
    /// Storage or outbox errors (batches already committed stay committed).
    #[tracing::instrument(name = "inventory.reassess_all", skip_all)]
    pub async fn reassess_all(&self) -> Result<u64, InventoryError> {
        let today = self.today();
        let ids = {
            let mut conn = self.db.pool().acquire().await?;
            storage::structure_ids(&mut conn).await?
        };
        let mut events = 0;
        for chunk in ids.chunks(REASSESS_BATCH) {
            let mut tx = self.db.begin().await?;
            let batch = load_whole(&mut tx, chunk).await?;
            let appended = self.reassess(&mut tx, &batch, today).await?;
            tx.commit().await?;
            events += appended;
        }
        if events > 0 {
            self.events_committed();
        }
        Ok(events)
    }
}

fn not_found(id: &str) -> InventoryError {
    InventoryError::NotFound(words!("structure « {id} »", "structure “{id}”"))
}

/// How much of each structure a read loads, and what it is then called.
trait Depth: Copy + Send {
    type Item: Send;

    fn load<'a>(
        self,
        conn: &'a mut sqlx::AnyConnection,
        scope: Scope<'a>,
    ) -> impl std::future::Future<Output = Result<BTreeMap<String, Self::Item>, StorageError>> + Send + 'a;

    /// The network the structure was read in.
    fn network(item: &Self::Item) -> &str;
}

/// Inventories: whole (people, functions, holdings, each list sorted), or
/// the structure's own row alone (its lists left empty).
#[derive(Clone, Copy)]
struct Inventories {
    whole: bool,
}

const WHOLE: Inventories = Inventories { whole: true };
const STRUCTURE_ONLY: Inventories = Inventories { whole: false };

/// Its id and network alone.
#[derive(Clone, Copy)]
struct Key;

impl Depth for Inventories {
    type Item = VersionedInventory;

    async fn load(
        self,
        conn: &mut sqlx::AnyConnection,
        scope: Scope<'_>,
    ) -> Result<BTreeMap<String, Self::Item>, StorageError> {
        if !self.whole {
            return storage::load_structures(conn, scope).await;
        }
        Ok(storage::load(conn, scope)
            .await?
            .into_iter()
            .map(|(id, mut stored)| {
                stored.inventory = normalize(stored.inventory);
                (id, stored)
            })
            .collect())
    }

    fn network(item: &Self::Item) -> &str {
        &item.inventory.structure.network
    }
}

/// The whole inventories of the structures `ids` (each list sorted), in id
/// order: one statement, for the batches of the re-assessment and resync.
///
/// # Errors
/// Storage errors.
pub(super) async fn load_whole(
    conn: &mut sqlx::AnyConnection,
    ids: &[String],
) -> Result<Vec<VersionedInventory>, StorageError> {
    Ok(WHOLE.load(conn, Scope::Structures(ids)).await?.into_values().collect())
}

impl Depth for Key {
    type Item = ListedStructure;

    async fn load(
        self,
        conn: &mut sqlx::AnyConnection,
        scope: Scope<'_>,
    ) -> Result<BTreeMap<String, Self::Item>, StorageError> {
        Ok(storage::load_keys(conn, scope)
            .await?
            .into_iter()
            .map(|listed| (listed.id.clone(), listed))
            .collect())
    }

    fn network(item: &Self::Item) -> &str {
        &item.network
    }
}
