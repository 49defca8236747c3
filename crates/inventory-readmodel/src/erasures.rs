//! The consumer of `vigie.inventory.person.erased.v1` that every service
//! keeping this read model runs: the same handler, told the service's tables
//! and its durable consumer name.

use async_trait::async_trait;
use sqlx::{Any, Transaction};
use vigie_platform::db::Db;
use vigie_platform::event_types;
use vigie_platform::events::{Envelope, EventHandler, HandlerError};
use vigie_proto::events::v1::PersonErased;

use crate::{apply_person_erased, checkpoint_after_erasure, PseudonymKey, ReadModelTables};

/// Applies `person.erased` to one service's tables ([`apply_person_erased`]),
/// with the deployment's pseudonym key, then checkpoints the database.
pub struct PersonErasures {
    name: &'static str,
    tables: ReadModelTables,
    key: PseudonymKey,
}

impl PersonErasures {
    /// The handler of the durable consumer `name` over `tables`. The name is
    /// state (the bus remembers the consumer's position under it): a service
    /// keeps the one it started with.
    pub fn new(name: &'static str, tables: ReadModelTables, key: PseudonymKey) -> Self {
        PersonErasures { name, tables, key }
    }
}

#[async_trait]
impl EventHandler for PersonErasures {
    fn name(&self) -> &str {
        self.name
    }

    fn event_types(&self) -> Vec<String> {
        event_types![PersonErased]
    }

    async fn handle(&self, tx: &mut Transaction<'_, Any>, envelope: &Envelope) -> Result<(), HandlerError> {
        apply_person_erased(tx, envelope, &self.tables, &self.key).await
    }

    async fn after_commit(&self, db: &Db, _envelope: &Envelope) {
        checkpoint_after_erasure(db, self.name).await;
    }
}
