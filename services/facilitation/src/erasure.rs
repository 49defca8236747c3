//! Personal-data rights: `vigie.inventory.person.erased.v1` (docs/security.md,
//! "Personal data"), applied to this service's read model by the shared
//! `vigie_inventory_readmodel::apply_person_erased`: the person leaves
//! `fa_people` and the snapshots of `fa_structures`, and their id becomes a
//! stable pseudonym in `fa_interventions` (the activity report keeps its minutes).

use async_trait::async_trait;
use sqlx::{Any, Transaction};
use vigie_inventory_readmodel::{apply_person_erased, checkpoint_after_erasure, ReadModelTables};
use vigie_platform::db::Db;
use vigie_platform::event_types;
use vigie_platform::events::{Envelope, EventHandler, HandlerError};
use vigie_proto::events::v1::PersonErased;

pub use vigie_inventory_readmodel::{PseudonymKey, PERSON_ERASED};

/// This service's read-model tables.
pub(crate) const TABLES: ReadModelTables = ReadModelTables {
    people: "fa_people",
    structures: "fa_structures",
    pseudonymised: &[("fa_interventions", "person_id")],
};

/// Applies `person.erased` to this service's tables, with the deployment's
/// pseudonym key.
pub struct PersonErasures {
    key: PseudonymKey,
}

impl PersonErasures {
    /// The handler, pseudonymising with `key`.
    pub fn new(key: PseudonymKey) -> Self {
        PersonErasures { key }
    }
}

#[async_trait]
impl EventHandler for PersonErasures {
    fn name(&self) -> &str {
        "facilitation-erasures"
    }

    fn event_types(&self) -> Vec<String> {
        event_types![PersonErased]
    }

    async fn handle(&self, tx: &mut Transaction<'_, Any>, envelope: &Envelope) -> Result<(), HandlerError> {
        apply_person_erased(tx, envelope, &TABLES, &self.key).await
    }

    async fn after_commit(&self, db: &Db, _envelope: &Envelope) {
        checkpoint_after_erasure(db, self.name()).await;
    }
}
