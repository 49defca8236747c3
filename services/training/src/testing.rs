//! A migrated training service on its own database, for its contract suite
//! and for the cross-service scenarios of `tests/` (feature `testing`,
//! dev-only): a fixed clock, its consumers as the service describes them,
//! real `structure.inventoried` envelopes to feed its read model, and its
//! outbox read back.

use std::sync::Arc;

use anyhow::{Context, Result};
use chrono::NaiveDate;
use tokio::sync::Notify;
use vigie_fragility_model::fragility::FragilityParams;
use vigie_fragility_model::model::{HoldingRecord, StructureInventory};
use vigie_inventory_set::generate::{generate, GenerateParams, GeneratedSet};
use vigie_platform::db::Db;
use vigie_platform::events::{Consumer, Envelope, Outcome};
use vigie_platform::testing::{fresh_db, outbox_envelopes};
use vigie_proto::events::v1::StructureInventoried;
use vigie_testkit::{Backend, ContractHarness, TestDatabase};
use vigie_training_domain::catalogue::{CatalogueFiles, SESSIONS_HEADER, TRAININGS_HEADER};

use crate::app::{Clock, EnrolmentView, TrainingApp};
use crate::erasure::PseudonymKey;
use crate::error::TrainingError;
use crate::events::TRAINING_COMPLETED;
use crate::storage::StoredSession;

/// The pseudonym secret of the consumers taken from the service's
/// description (the erasure scenarios bring their own key).
const PSEUDONYM_SECRET: &[u8] = b"the training tests' pseudonym secret";

/// `ce-source` of the inventory's events (`vigie_inventory::events::SOURCE`).
const INVENTORY_SOURCE: &str = "/vigie/inventory";

/// The date every scenario runs on (the clocks of the training service and
/// of the inventory beside it).
pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 28).unwrap_or_default()
}

/// A date of the scenarios, `YYYY-MM-DD`.
///
/// # Errors
/// The text is not a date.
pub fn date(text: &str) -> Result<NaiveDate> {
    text.parse().with_context(|| format!("bad date {text}"))
}

/// A migrated training service and its database.
pub struct TestTraining {
    /// The application service under test.
    pub app: TrainingApp,
    /// Its database (outbox, read model).
    pub db: Db,
    /// Keeps the database alive (dropped after `db`); its engine.
    database: TestDatabase,
}

impl ContractHarness for TestTraining {
    async fn on(backend: Backend) -> Result<TestTraining> {
        let (db, database) = fresh_db(backend, "training").await?;
        crate::service::migrate(&db).await?;
        let clock: Clock = Arc::new(today);
        let app = crate::service::application(db.clone(), FragilityParams::default(), clock, Arc::new(Notify::new()));
        Ok(TestTraining { app, db, database })
    }
}

impl TestTraining {
    /// The backend of its database (a service beside it takes the same).
    pub fn backend(&self) -> Backend {
        self.database.backend()
    }

    /// The training consumer `name`, as the service describes it
    /// (pseudonyms made with `key`).
    ///
    /// # Errors
    /// The service runs no such consumer.
    pub fn consumer(&self, name: &str, key: &PseudonymKey) -> Result<Consumer> {
        crate::service::describe(&self.db, key)
            .find(name)
            .cloned()
            .with_context(|| format!("training runs no consumer {name}"))
    }

    /// The inventory read model's consumer, as the service wires it.
    ///
    /// # Errors
    /// The service runs no such consumer.
    pub fn read_model(&self) -> Result<Consumer> {
        self.consumer("training-inventory", &PseudonymKey::new(PSEUDONYM_SECRET))
    }

    /// Delivers one envelope to the read model.
    ///
    /// # Errors
    /// The consumer failed.
    pub async fn feed(&self, envelope: &Envelope) -> Result<Outcome> {
        Ok(self.read_model()?.process(envelope).await?)
    }

    /// Delivers a snapshot of each inventory at `version`; each must apply.
    ///
    /// # Errors
    /// A snapshot did not apply.
    pub async fn feed_inventories(&self, inventories: &[StructureInventory], version: i64) -> Result<()> {
        for inventory in inventories {
            let outcome = self.feed(&snapshot(inventory, version)).await?;
            anyhow::ensure!(outcome == Outcome::Applied, "{}: {outcome:?}", inventory.structure.id);
        }
        Ok(())
    }

    /// The events of one type in the training outbox, in order.
    ///
    /// # Errors
    /// A database error.
    pub async fn outbox(&self, event_type: &str) -> Result<Vec<Envelope>> {
        outbox_envelopes(&self.db, Some(event_type)).await
    }

    /// Every row of the training outbox.
    ///
    /// # Errors
    /// A database error.
    pub async fn outbox_len(&self) -> Result<usize> {
        Ok(outbox_envelopes(&self.db, None).await?.len())
    }

    /// The first `training.enrolment.completed` event of the outbox.
    ///
    /// # Errors
    /// None was published.
    pub async fn first_completion(&self) -> Result<Envelope> {
        self.outbox(TRAINING_COMPLETED)
            .await?
            .into_iter()
            .next()
            .context("the completion event")
    }

    /// One session with its occupation.
    ///
    /// # Errors
    /// No such session.
    pub async fn session(&self, id: &str) -> Result<StoredSession> {
        self.app
            .sessions(None)
            .await?
            .into_iter()
            .find(|s| s.session.id == id)
            .with_context(|| format!("no session {id}"))
    }

    /// Imports a catalogue that must be valid.
    ///
    /// # Errors
    /// The catalogue was rejected (every problem named).
    pub async fn import(&self, files: CatalogueFiles) -> Result<(usize, usize)> {
        match self.app.import_catalog(files).await {
            Ok(counts) => Ok(counts),
            Err(TrainingError::Rejected(errors)) => {
                let shown: Vec<String> = errors.iter().map(ToString::to_string).collect();
                anyhow::bail!("catalogue rejected:\n{}", shown.join("\n"))
            }
            Err(other) => Err(other.into()),
        }
    }
}

/// The `structure.inventoried` envelope the inventory publishes for
/// `inventory` stored at `version`.
pub fn snapshot(inventory: &StructureInventory, version: i64) -> Envelope {
    let payload = StructureInventoried {
        structure: Some(vigie_inventory_snapshot::structure_to_pb(inventory, version)),
    };
    Envelope::of(INVENTORY_SOURCE, inventory.structure.id.clone(), &payload)
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

/// The demo catalogue, its sessions dated from [`today`].
pub fn demo_catalogue() -> CatalogueFiles {
    crate::demo::catalogue(today())
}

/// Whether an enrolment took a seat (not the waiting list).
pub fn seated(view: &EnrolmentView) -> bool {
    view.row.status == "enrolled" && view.waiting_position.is_none()
}

/// `person`'s holding of `function` in `inventory`.
pub fn holding<'a>(inventory: &'a StructureInventory, person: &str, function: &str) -> Option<&'a HoldingRecord> {
    inventory
        .holdings
        .iter()
        .find(|h| h.person_id == person && h.function == function)
}
