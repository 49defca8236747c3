//! Use cases of the training service. Each change is one transaction; a
//! completion commits with its event in the outbox.

mod enrolments;
mod plans;

use std::sync::Arc;

use chrono::NaiveDate;
use tokio::sync::Notify;
use vigie_fragility_model::fragility::FragilityParams;
use vigie_platform::db::Db;
use vigie_training_domain::catalogue::{catalogue_to_csv, parse_catalogue, Catalogue, CatalogueFiles};
use vigie_training_domain::model::Training;

use crate::error::TrainingError;
use crate::storage::{self, StoredSession};

pub(crate) use enrolments::enrolment_words;
pub use enrolments::EnrolmentView;

/// Gives "today" (injectable for tests).
pub type Clock = Arc<dyn Fn() -> NaiveDate + Send + Sync>;

/// The training application service.
#[derive(Clone)]
pub struct TrainingApp {
    db: Db,
    fragility: FragilityParams,
    clock: Clock,
    relay: Arc<Notify>,
}

impl TrainingApp {
    /// Builds the service over a migrated database; `relay` is woken after
    /// commits that appended events.
    pub fn new(db: Db, fragility: FragilityParams, clock: Clock, relay: Arc<Notify>) -> Self {
        TrainingApp {
            db,
            fragility,
            clock,
            relay,
        }
    }

    /// Today according to the service's clock.
    pub fn today(&self) -> NaiveDate {
        (self.clock)()
    }

    /// Validates and stores a catalogue (all or nothing). Returns the number
    /// of trainings and sessions.
    ///
    /// # Errors
    /// [`TrainingError::Rejected`] with every row error; storage errors.
    pub async fn import_catalog(&self, files: CatalogueFiles) -> Result<(usize, usize), TrainingError> {
        let catalogue = parse_catalogue(&files).map_err(TrainingError::Rejected)?;
        let mut tx = self.db.begin().await?;
        storage::save_catalogue(&mut tx, &catalogue.trainings, &catalogue.sessions).await?;
        tx.commit().await?;
        tracing::info!(
            trainings = catalogue.trainings.len(),
            sessions = catalogue.sessions.len(),
            "training catalogue imported"
        );
        Ok((catalogue.trainings.len(), catalogue.sessions.len()))
    }

    /// The whole catalogue in its CSV format (re-importable as is).
    ///
    /// # Errors
    /// Storage errors.
    pub async fn export_catalog(&self) -> Result<CatalogueFiles, TrainingError> {
        let mut conn = self.db.pool().acquire().await?;
        let trainings = storage::trainings(&mut conn).await?;
        let sessions = storage::sessions(&mut conn, None)
            .await?
            .into_iter()
            .map(|s| s.session)
            .collect();
        Ok(catalogue_to_csv(&Catalogue { trainings, sessions }))
    }

    /// Trainings, optionally only those targeting `function`.
    ///
    /// # Errors
    /// Storage errors.
    pub async fn trainings(&self, function: Option<&str>) -> Result<Vec<Training>, TrainingError> {
        let mut conn = self.db.pool().acquire().await?;
        let mut all = storage::trainings(&mut conn).await?;
        if let Some(function) = function {
            all.retain(|t| t.targets.iter().any(|target| target.function == function));
        }
        Ok(all)
    }

    /// Sessions, optionally of one training.
    ///
    /// # Errors
    /// Storage errors.
    pub async fn sessions(&self, training: Option<&str>) -> Result<Vec<StoredSession>, TrainingError> {
        let mut conn = self.db.pool().acquire().await?;
        Ok(storage::sessions(&mut conn, training).await?)
    }

    /// The structure and network of a person, from the inventory's read
    /// model (what authorisation checks an enrolment against).
    ///
    /// # Errors
    /// Storage errors.
    pub async fn person_place(&self, person: &str) -> Result<Option<(String, String)>, TrainingError> {
        let mut conn = self.db.pool().acquire().await?;
        Ok(storage::person(&mut conn, person).await?)
    }

    /// One enrolment, whatever its status.
    ///
    /// # Errors
    /// Storage errors.
    pub async fn enrolment(&self, session: &str, person: &str) -> Result<Option<storage::EnrolmentRow>, TrainingError> {
        let mut conn = self.db.pool().acquire().await?;
        Ok(storage::enrolment(&mut conn, session, person).await?)
    }

    /// The network of a structure known from the inventory's events.
    ///
    /// # Errors
    /// Storage errors.
    pub async fn structure_network(&self, structure: &str) -> Result<Option<String>, TrainingError> {
        let mut conn = self.db.pool().acquire().await?;
        Ok(storage::structure_network(&mut conn, structure).await?)
    }
}
