//! The answer cache of single-structure reads (`GetStructure`,
//! `GetFragility`): each structure as last read, checked before it is
//! served again, so a warm read gives exactly what a cold one would.
//!
//! How a copy is checked depends on who may write the database:
//!
//! - a SQLite file (embedded mode) is written by this process only, through
//!   its one write connection: the copy is kept with the [`Stamp`] of the
//!   write clock taken before it was read, and served while the write
//!   connection has not been handed out since — no query at all
//!   (`vigie_platform::db::clock`). Any write makes every copy stale;
//! - PostgreSQL (distributed mode) is written by every replica: the copy is
//!   served when the structure's `version` — bumped by every change, carried
//!   by its events — still is the copy's, read with one indexed lookup
//!   instead of the structure and all its rows, coalesced with the other
//!   calls' lookups (`versions.rs`). Read-after-write across replicas is
//!   kept. **Opt-in** (`inventory.read_staleness_ms`, 0 by
//!   default): a copy checked less than that long ago is served without the
//!   lookup, unless this process has committed a change since
//!   ([`ReadCache::local_writes`]). A change by another replica may then be
//!   seen that much later; this replica's own changes are seen at once.
//!
//! The answers built from a copy (its encoded structure, its fragility for
//! a date and a language) are kept by the gRPC adapter, tied to the copy
//! (`grpc/answers.rs`). The cache holds at most [`CAPACITY`] structures.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use vigie_platform::db::clock::Stamp;

use super::views::VersionedInventory;

/// Structures kept at most (a few kilobytes each).
pub const CAPACITY: usize = 1_024;

/// A structure as read, and how to know it is still current.
#[derive(Clone)]
pub(super) struct Cached {
    /// The structure, normalised.
    pub stored: Arc<VersionedInventory>,
    /// The write clock when it was read (SQLite files), `None` where the
    /// version is checked instead.
    pub stamp: Option<Stamp>,
    /// Where the version is checked: when it last was, and this process's
    /// committed changes then ([`ReadCache::local_writes`]).
    pub checked: Option<Checked>,
}

/// When a copy was last known current, by its version.
#[derive(Clone, Copy)]
pub(super) struct Checked {
    /// The instant before the check (or the read).
    pub at: Instant,
    /// This process's committed changes before the check.
    pub local_writes: u64,
}

impl Cached {
    /// Whether the copy may be served without checking its version: checked
    /// less than `staleness` ago, and no change committed here since.
    pub fn fresh(&self, staleness: Duration, local_writes: u64) -> bool {
        self.checked
            .is_some_and(|c| c.local_writes == local_writes && c.at.elapsed() < staleness)
    }
}

/// Copies of structures by id; shared by every clone of the service.
#[derive(Default)]
pub(super) struct ReadCache {
    copies: Mutex<HashMap<String, Cached>>,
    /// Changes this process committed (counted after each commit).
    writes: AtomicU64,
}

impl ReadCache {
    /// How many changes this process has committed: a copy checked before
    /// one of them is checked again, whatever its age.
    pub fn local_writes(&self) -> u64 {
        self.writes.load(Ordering::Acquire)
    }

    /// Counts a change committed by this process (called after the commit).
    pub fn wrote(&self) {
        self.writes.fetch_add(1, Ordering::AcqRel);
    }

    /// A [`Checked`] taken now, before a check or a read.
    pub fn check_now(&self) -> Checked {
        Checked {
            local_writes: self.local_writes(),
            at: Instant::now(),
        }
    }

    /// The copy of structure `id`, if any (current or not: the caller checks).
    pub fn get(&self, id: &str) -> Option<Cached> {
        self.lock().get(id).cloned()
    }

    /// Keeps `copy` of structure `id`, making room when full — unless it
    /// was checked before a change this process has committed since: it may
    /// predate that change (an erasure that has just forgotten the
    /// structure's copy would otherwise get it back), so the next read reads
    /// again.
    pub fn put(&self, id: &str, copy: Cached) {
        if copy.checked.is_some_and(|c| c.local_writes != self.local_writes()) {
            return;
        }
        insert_bounded(&mut self.lock(), id.to_owned(), copy, CAPACITY);
    }

    /// Drops the copy of structure `id`, if any (after an erasure: a copy
    /// is otherwise kept until the structure is read again).
    pub fn forget(&self, id: &str) {
        let forgotten = self.lock().remove(id);
        drop(forgotten);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Cached>> {
        // A panic while holding the lock cannot leave a half-written entry
        // (insert and remove are whole): the map stays usable.
        self.copies.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Inserts `value` for `key` in `map`, first dropping any one other entry
/// when `map` already holds `capacity`: what is served is a hot few, the map
/// is not an index. (The read cache's copies and the answers built from them.)
pub(crate) fn insert_bounded<V>(map: &mut HashMap<String, V>, key: String, value: V, capacity: usize) {
    if map.len() >= capacity && !map.contains_key(&key) {
        if let Some(evicted) = map.keys().next().cloned() {
            map.remove(&evicted);
        }
    }
    map.insert(key, value);
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigie_fragility_model::fragility::fixtures::Builder;

    #[test]
    fn a_forgotten_copy_is_gone() {
        let cache = ReadCache::default();
        let copy = Cached {
            stored: Arc::new(VersionedInventory {
                inventory: Builder::new("S1").build(),
                version: 1,
            }),
            stamp: None,
            checked: None,
        };
        cache.put("S1", copy.clone());
        cache.put("S2", copy);
        cache.forget("S1");
        assert!(cache.get("S1").is_none(), "no copy of S1 kept");
        assert!(cache.get("S2").is_some(), "the others stay");
    }

    #[test]
    fn a_copy_checked_before_a_local_change_is_not_kept() {
        let cache = ReadCache::default();
        let stored = Arc::new(VersionedInventory {
            inventory: Builder::new("S1").build(),
            version: 1,
        });
        let checked = cache.check_now();
        // A change (an erasure) commits here while the copy is being read.
        cache.wrote();
        cache.put(
            "S1",
            Cached {
                stored: Arc::clone(&stored),
                stamp: None,
                checked: Some(checked),
            },
        );
        assert!(
            cache.get("S1").is_none(),
            "a copy that may predate the change is not kept"
        );
        cache.put(
            "S1",
            Cached {
                stored,
                stamp: None,
                checked: Some(cache.check_now()),
            },
        );
        assert!(cache.get("S1").is_some(), "one checked after it is");
    }
}
