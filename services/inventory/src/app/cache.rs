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
//!   instead of the structure and all its rows. Read-after-write across
//!   replicas is kept.
//!
//! The fragility is still computed on each call (it depends on the date
//! asked; `assess` is a fraction of a percent of a call). The cache holds
//! at most [`CAPACITY`] structures.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

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
}

/// Copies of structures by id; shared by every clone of the service.
#[derive(Default)]
pub(super) struct ReadCache {
    copies: Mutex<HashMap<String, Cached>>,
}

impl ReadCache {
    /// The copy of structure `id`, if any (current or not: the caller checks).
    pub fn get(&self, id: &str) -> Option<Cached> {
        self.lock().get(id).cloned()
    }

    /// Keeps `copy` of structure `id`, making room when full.
    pub fn put(&self, id: &str, copy: Cached) {
        let mut copies = self.lock();
        if copies.len() >= CAPACITY && !copies.contains_key(id) {
            // Any one: the cache serves a hot few, it is not an index.
            if let Some(evicted) = copies.keys().next().cloned() {
                copies.remove(&evicted);
            }
        }
        copies.insert(id.to_owned(), copy);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Cached>> {
        // A panic while holding the lock cannot leave a half-written entry
        // (insert and remove are whole): the map stays usable.
        self.copies.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
