//! One isolated training service per test — a SQLite file in a temporary
//! directory or a fresh PostgreSQL database — with a fixed clock, helpers to
//! feed its inventory read model with real envelopes and to read its outbox,
//! and, for the end-to-end scenarios, a real inventory on its own database of
//! the same backend.

use std::sync::Arc;

use anyhow::{Context, Result};
use chrono::NaiveDate;
use tokio::sync::Notify;
use vigie_fragility_model::fragility::FragilityParams;
use vigie_fragility_model::model::StructureInventory;
use vigie_inventory::app::views::VersionedInventory;
use vigie_inventory::convert::structure_to_pb;
use vigie_inventory::testing::TestInventory;
use vigie_inventory_set::generate::{generate, GenerateParams, GeneratedSet};
use vigie_platform::db::Db;
use vigie_platform::events::{Consumer, Envelope, Outcome};
use vigie_platform::testing::{fresh_db, outbox_envelopes};
use vigie_proto::events::v1::StructureInventoried;
use vigie_testkit::{Backend, ContractHarness, TestDatabase};
use vigie_training::app::{Clock, TrainingApp};
use vigie_training::erasure::PseudonymKey;
use vigie_training::storage::StoredSession;
use vigie_training_domain::catalogue::{CatalogueFiles, SESSIONS_HEADER, TRAININGS_HEADER};

/// The pseudonym secret of the consumers the harness takes from the
/// service's description (the erasure scenarios bring their own key).
const PSEUDONYM_SECRET: &[u8] = b"the training tests' pseudonym secret";

/// The date every scenario runs on (both services' clocks).
pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 28).unwrap_or_default()
}

/// A date of the scenarios, `YYYY-MM-DD`.
pub fn date(text: &str) -> Result<NaiveDate> {
    text.parse().with_context(|| format!("bad date {text}"))
}

/// A migrated training service and its database.
pub struct Harness {
    /// The application service under test.
    pub app: TrainingApp,
    /// Its database (outbox, read model).
    pub db: Db,
    /// Keeps the database alive (dropped after `db`); its engine.
    database: TestDatabase,
}

impl ContractHarness for Harness {
    async fn on(backend: Backend) -> Result<Harness> {
        let (db, database) = fresh_db(backend, "training").await?;
        vigie_training::service::migrate(&db).await?;
        let clock: Clock = Arc::new(today);
        let app = vigie_training::service::application(
            db.clone(),
            FragilityParams::default(),
            clock,
            Arc::new(Notify::new()),
        );
        Ok(Harness { app, db, database })
    }
}

impl Harness {
    /// A real inventory on its own database of the same backend.
    pub async fn inventory(&self) -> Result<TestInventory> {
        TestInventory::start(self.database.backend(), Arc::new(today)).await
    }

    /// The training consumer `name`, as the service describes it
    /// (pseudonyms made with `key`).
    pub fn consumer(&self, name: &str, key: &PseudonymKey) -> Result<Consumer> {
        vigie_training::service::describe(&self.db, key)
            .find(name)
            .cloned()
            .with_context(|| format!("training runs no consumer {name}"))
    }

    /// The inventory read model's consumer, as the service wires it.
    pub fn read_model(&self) -> Result<Consumer> {
        self.consumer("training-inventory", &PseudonymKey::new(PSEUDONYM_SECRET))
    }

    /// Delivers one envelope to the read model.
    pub async fn feed(&self, envelope: &Envelope) -> Result<Outcome> {
        Ok(self.read_model()?.process(envelope).await?)
    }

    /// Delivers a snapshot of each inventory at `version`; each must apply.
    pub async fn feed_inventories(&self, inventories: &[StructureInventory], version: i64) -> Result<()> {
        for inventory in inventories {
            let outcome = self.feed(&snapshot(inventory, version)).await?;
            anyhow::ensure!(outcome == Outcome::Applied, "{}: {outcome:?}", inventory.structure.id);
        }
        Ok(())
    }

    /// The events of one type in the training outbox, in order.
    pub async fn outbox(&self, event_type: &str) -> Result<Vec<Envelope>> {
        outbox_envelopes(&self.db, Some(event_type)).await
    }

    /// Every row of the training outbox.
    pub async fn outbox_len(&self) -> Result<usize> {
        Ok(outbox_envelopes(&self.db, None).await?.len())
    }

    /// One session with its occupation.
    pub async fn session(&self, id: &str) -> Result<StoredSession> {
        self.app
            .sessions(None)
            .await?
            .into_iter()
            .find(|s| s.session.id == id)
            .with_context(|| format!("no session {id}"))
    }

    /// Imports a catalogue that must be valid.
    pub async fn import(&self, files: CatalogueFiles) -> Result<(usize, usize)> {
        match self.app.import_catalog(files).await {
            Ok(counts) => Ok(counts),
            Err(vigie_training::error::TrainingError::Rejected(errors)) => {
                let shown: Vec<String> = errors.iter().map(ToString::to_string).collect();
                anyhow::bail!("catalogue rejected:\n{}", shown.join("\n"))
            }
            Err(other) => Err(other.into()),
        }
    }
}

/// The `structure.inventoried` envelope the inventory would publish for
/// `inventory` stored at `version`.
pub fn snapshot(inventory: &StructureInventory, version: i64) -> Envelope {
    let stored = VersionedInventory {
        inventory: inventory.clone(),
        version,
    };
    let payload = StructureInventoried {
        structure: Some(structure_to_pb(&stored)),
    };
    Envelope::of(
        vigie_inventory::events::SOURCE,
        inventory.structure.id.clone(),
        &payload,
    )
}

/// A generated set of `n` structures.
pub fn set(n: usize, seed: u64) -> GeneratedSet {
    generate(GenerateParams {
        structures: n,
        seed,
        today: today(),
    })
}

/// A catalogue from data rows (the headers are added).
pub fn catalogue(trainings: &[&str], sessions: &[&str]) -> CatalogueFiles {
    let file = |header: &[&str], rows: &[&str]| {
        let mut text = header.join(",");
        text.push('\n');
        for row in rows {
            text.push_str(row);
            text.push('\n');
        }
        text.into_bytes()
    };
    CatalogueFiles {
        trainings: file(&TRAININGS_HEADER, trainings),
        sessions: file(&SESSIONS_HEADER, sessions),
    }
}
