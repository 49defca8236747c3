//! A real inventory on its own database, for the end-to-end scenarios of the
//! services that exchange events with it (feature `testing`, dev-only):
//! their suites import a generated set here, hand its outbox to their own
//! consumers, and hand their events to the consumers the inventory
//! describes, so both sides run as `vigie` wires them.

use std::sync::Arc;

use anyhow::{Context, Result};
use tokio::sync::Notify;
use vigie_fragility_model::fragility::FragilityParams;
use vigie_inventory_set::generate::GeneratedSet;
use vigie_platform::db::Db;
use vigie_platform::events::{Consumer, Envelope};
use vigie_platform::testing::{fresh_db, outbox_envelopes};
use vigie_testkit::{Backend, TestDatabase};

use crate::app::{Clock, ImportPhase, Inventory};

/// A migrated inventory on a fresh database, with default fragility settings.
pub struct TestInventory {
    /// The inventory application service.
    pub app: Inventory,
    /// Its database.
    pub db: Db,
    /// Keeps the database alive (dropped after `db`).
    _database: TestDatabase,
}

impl TestInventory {
    /// On a fresh database of `backend` (the one of the suite's own service),
    /// its days told by `clock`.
    ///
    /// # Errors
    /// The database could not be created or migrated.
    pub async fn start(backend: Backend, clock: Clock) -> Result<TestInventory> {
        let (db, database) = fresh_db(backend, "inventory").await?;
        crate::service::migrate(&db).await?;
        let app = Inventory::new(db.clone(), FragilityParams::default(), clock, Arc::new(Notify::new()));
        Ok(TestInventory {
            app,
            db,
            _database: database,
        })
    }

    /// The inventory's consumer `name`, as the inventory describes it.
    ///
    /// # Errors
    /// The inventory runs no such consumer.
    pub fn consumer(&self, name: &str) -> Result<Consumer> {
        crate::service::describe(&self.db, &self.app)
            .find(name)
            .cloned()
            .with_context(|| format!("the inventory runs no consumer {name}"))
    }

    /// Imports a generated set.
    ///
    /// # Errors
    /// The set does not import.
    pub async fn import(&self, set: &GeneratedSet) -> Result<()> {
        fn quiet(_: ImportPhase, _: u64, _: u64) {}
        self.app.import(set.to_files()?, quiet).await?;
        Ok(())
    }

    /// The events of one type in the inventory outbox, in order.
    ///
    /// # Errors
    /// A database error.
    pub async fn outbox(&self, event_type: &str) -> Result<Vec<Envelope>> {
        outbox_envelopes(&self.db, Some(event_type)).await
    }

    /// Every event of the inventory outbox, in order.
    ///
    /// # Errors
    /// A database error.
    pub async fn outbox_all(&self) -> Result<Vec<Envelope>> {
        outbox_envelopes(&self.db, None).await
    }

    /// The number of rows of the inventory outbox.
    ///
    /// # Errors
    /// A database error.
    pub async fn outbox_len(&self) -> Result<usize> {
        Ok(self.outbox_all().await?.len())
    }
}
