//! Use cases of the inventory: import a CSV set, change a holding, evaluate
//! fragility and roll it up, re-assess when the date moves.
//!
//! Every change follows the same path: in ONE transaction, write the new
//! state, recompute the fragility of the structures it touched, record the
//! assessments that changed and append the events to the outbox; then wake
//! the relay. A crash at any point either keeps everything or nothing.

pub(crate) mod cache;
mod changes;
mod import;
mod people;
mod queries;
mod resync;
mod versions;
pub mod views;

use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
use tokio::sync::Notify;
use vigie_fragility_model::fragility::FragilityParams;
use vigie_platform::db::Db;

pub use changes::Appended;
pub use import::{ImportPhase, ImportReport};
pub use people::{Erasure, PersonExport, PersonLocation};
pub use queries::{HoldingChange, RollupBy, LIST_CHUNK};
pub use resync::{superseding_version, Versions};

/// Gives "today" — injectable so tests and `--at` evaluations are reproducible.
pub type Clock = Arc<dyn Fn() -> NaiveDate + Send + Sync>;

/// The server's local calendar date.
pub fn system_clock() -> Clock {
    Arc::new(|| chrono::Local::now().date_naive())
}

/// The inventory application service, shared by the gRPC layer and the
/// background re-assessment task.
#[derive(Clone)]
pub struct Inventory {
    db: Db,
    params: FragilityParams,
    clock: Clock,
    relay: Arc<Notify>,
    /// Single-structure reads as last read (`cache.rs`).
    cache: Arc<cache::ReadCache>,
    /// The cache's version checks on PostgreSQL, coalesced (`versions.rs`).
    versions: Arc<versions::VersionChecks>,
    /// How long a copy checked by its version may be served unchecked
    /// (`cache.rs`; zero: always checked).
    read_staleness: Duration,
}

impl Inventory {
    /// Builds the service over a migrated database. `relay` is notified after
    /// each commit that appended events.
    pub fn new(db: Db, params: FragilityParams, clock: Clock, relay: Arc<Notify>) -> Self {
        Inventory {
            db,
            params,
            clock,
            relay,
            cache: Arc::default(),
            versions: Arc::default(),
            read_staleness: Duration::ZERO,
        }
    }

    /// Lets a copy of a structure checked by its version (PostgreSQL) be
    /// served unchecked for `staleness` after its check, unless this
    /// process commits a change meanwhile: another replica's change may be
    /// seen up to `staleness` later (`cache.rs`). Without effect on a
    /// SQLite file, whose copies are exact at no cost.
    #[must_use]
    pub fn with_read_staleness(mut self, staleness: Duration) -> Self {
        self.read_staleness = staleness;
        self
    }

    /// Today's date according to the service's clock.
    pub fn today(&self) -> NaiveDate {
        (self.clock)()
    }

    /// The fragility parameters in force.
    pub fn params(&self) -> &FragilityParams {
        &self.params
    }

    fn events_committed(&self) {
        self.cache.wrote();
        self.relay.notify_one();
    }
}
