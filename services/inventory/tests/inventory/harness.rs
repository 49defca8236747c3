//! One isolated inventory per test: a SQLite file in a temporary directory or
//! a fresh PostgreSQL database, a controllable clock, and helpers to read the
//! outbox.

use std::sync::{Arc, Mutex};

use anyhow::Result;
use chrono::NaiveDate;
use sqlx::Row;
use tokio::sync::Notify;
use vigie_fragility_model::fragility::FragilityParams;
use vigie_inventory::app::{Clock, Inventory};
use vigie_inventory::service;
use vigie_inventory_set::generate::{generate, GenerateParams, GeneratedSet};
use vigie_platform::db::Db;
use vigie_platform::testing::fresh_db;
use vigie_testkit::{Backend, ContractHarness, TestDatabase};

/// The date every scenario starts on.
pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 28).unwrap_or_default()
}

/// A migrated inventory and its database.
pub struct Harness {
    /// The application service under test.
    pub app: Inventory,
    /// Its database (for reading the outbox).
    pub db: Db,
    date: Arc<Mutex<NaiveDate>>,
    /// Keeps the database alive (dropped after `db`); its engine.
    database: TestDatabase,
}

impl ContractHarness for Harness {
    async fn on(backend: Backend) -> Result<Harness> {
        let (db, database) = fresh_db(backend, "inventory").await?;
        service::migrate(&db).await?;
        let date = Arc::new(Mutex::new(today()));
        let shared = date.clone();
        let clock: Clock = Arc::new(move || *shared.lock().unwrap_or_else(|e| e.into_inner()));
        let app = Inventory::new(db.clone(), FragilityParams::default(), clock, Arc::new(Notify::new()));
        Ok(Harness {
            app,
            db,
            date,
            database,
        })
    }
}

impl Harness {
    /// Another replica of the service on the same database, as `vigie serve
    /// inventory` runs several: PostgreSQL only (a SQLite file has one
    /// writing process, the embedded server).
    pub async fn replica(&self) -> Result<Option<Inventory>> {
        if self.database.backend() != Backend::Postgres {
            return Ok(None);
        }
        let db = Db::connect(self.database.url()).await?;
        let date = self.date.clone();
        let clock: Clock = Arc::new(move || *date.lock().unwrap_or_else(|e| e.into_inner()));
        Ok(Some(Inventory::new(
            db,
            FragilityParams::default(),
            clock,
            Arc::new(Notify::new()),
        )))
    }

    /// Moves the clock.
    /// Cuts every other connection to the test database, as a PostgreSQL
    /// restart or a proxy closing idle connections would: PostgreSQL only
    /// (`false` on SQLite, whose connections live in this process).
    pub async fn cut_connections(&self) -> Result<bool> {
        if self.database.backend() != Backend::Postgres {
            return Ok(false);
        }
        let db = Db::connect(self.database.url()).await?;
        sqlx::query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        .fetch_all(db.pool())
        .await?;
        Ok(true)
    }

    pub fn set_today(&self, date: NaiveDate) {
        *self.date.lock().unwrap_or_else(|e| e.into_inner()) = date;
    }

    /// Number of outbox rows of one event type.
    pub async fn events(&self, event_type: &str) -> Result<i64> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM vigie_outbox WHERE event_type = $1")
            .bind(event_type.to_owned())
            .fetch_one(self.db.pool())
            .await?;
        Ok(row.try_get("n")?)
    }
}

/// A generated set of `n` structures.
pub fn set(n: usize, seed: u64) -> GeneratedSet {
    generate(GenerateParams {
        structures: n,
        seed,
        today: today(),
    })
}
