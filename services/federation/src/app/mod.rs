//! Use cases of the federation service: publishing the region's snapshot
//! (one transaction: snapshot + outbox), and the national views.

mod publish;
mod views;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::Notify;
use vigie_federation_domain::secrecy::Threshold;
use vigie_platform::db::Db;

pub use publish::PublishOutcome;
pub use views::RegionView;

/// The current time (injected so tests control dates).
pub type Now = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// The system clock.
pub fn system_now() -> Now {
    Arc::new(Utc::now)
}

/// How a federation service behaves.
#[derive(Debug, Clone)]
pub struct FederationSettings {
    /// The region this instance publishes for (regional side).
    pub region: String,
    /// Statistical secrecy threshold.
    pub threshold: Threshold,
    /// A snapshot is published at least this often, changed or not.
    pub publish_every: Duration,
    /// A region whose latest snapshot was computed longer ago is stale.
    pub stale_after: Duration,
}

/// Errors of the federation use cases.
#[derive(Debug, thiserror::Error)]
pub enum FederationError {
    /// Storage failure.
    #[error(transparent)]
    Storage(#[from] vigie_platform::db::StorageError),
    /// Database failure.
    #[error(transparent)]
    Db(#[from] vigie_platform::db::DbError),
    /// The outbox refused the event.
    #[error("événement non enregistré : {0}")]
    Events(String),
    /// A stored snapshot cannot be read back.
    #[error("instantané illisible : {0}")]
    Corrupt(String),
}

impl From<sqlx::Error> for FederationError {
    fn from(error: sqlx::Error) -> Self {
        FederationError::Storage(error.into())
    }
}

/// The federation application service.
#[derive(Clone)]
pub struct FederationApp {
    db: Db,
    settings: FederationSettings,
    now: Now,
    relay: Arc<Notify>,
}

impl FederationApp {
    /// The service over a migrated database; `relay` is notified after a
    /// snapshot is committed to the outbox.
    pub fn new(db: Db, settings: FederationSettings, now: Now, relay: Arc<Notify>) -> Self {
        FederationApp {
            db,
            settings,
            now,
            relay,
        }
    }

    /// Its settings.
    pub fn settings(&self) -> &FederationSettings {
        &self.settings
    }

    /// The clock it runs on.
    pub fn clock(&self) -> Now {
        self.now.clone()
    }

    fn now(&self) -> DateTime<Utc> {
        (self.now)()
    }
}
