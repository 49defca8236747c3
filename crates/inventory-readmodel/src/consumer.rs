//! The consumer of `structure.inventoried` that keeps a service's copy of
//! the inventory's structures: the same for every service but for its
//! durable name, its tables and the columns it keeps, which the service
//! states in a [`StructureStore`].

use async_trait::async_trait;
use sqlx::{Any, AnyConnection, Transaction};
use vigie_platform::event_types;
use vigie_platform::events::{Envelope, EventHandler, HandlerError};
use vigie_proto::events::v1::StructureInventoried;

use crate::{batch_changes, BatchChanges, ReadModelTables};

/// Where and how one service keeps its copy of the inventory's structures.
#[async_trait]
pub trait StructureStore: Send + Sync + 'static {
    /// The durable consumer's name: state in JetStream, never rename a
    /// released one.
    const CONSUMER: &'static str;

    /// The service's read-model tables.
    const TABLES: ReadModelTables;

    /// Writes the end state of a batch in the consumer's transaction.
    ///
    /// # Errors
    /// [`HandlerError::Transient`] on a database error.
    async fn save(conn: &mut AnyConnection, changes: &BatchChanges) -> Result<(), HandlerError>;
}

/// Keeps the structures and people of a [`StructureStore`] up to date: each
/// batch's end state is computed at once ([`batch_changes`]) and written
/// with multi-row statements (per-event statements dominated the consumer's
/// cost), with the effect of applying the events one by one.
#[derive(Debug, Default, Clone, Copy)]
pub struct SnapshotReadModel<S>(pub S);

#[async_trait]
impl<S: StructureStore> EventHandler for SnapshotReadModel<S> {
    fn name(&self) -> &str {
        S::CONSUMER
    }

    fn event_types(&self) -> Vec<String> {
        event_types![StructureInventoried]
    }

    async fn handle(&self, tx: &mut Transaction<'_, Any>, envelope: &Envelope) -> Result<(), HandlerError> {
        self.handle_batch(tx, &[envelope]).await
    }

    async fn handle_batch(&self, tx: &mut Transaction<'_, Any>, envelopes: &[&Envelope]) -> Result<(), HandlerError> {
        let changes = batch_changes(tx, envelopes, &S::TABLES).await?;
        S::save(tx, &changes).await
    }
}
