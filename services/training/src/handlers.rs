//! The read model of the inventory: each `structure.inventoried` event
//! replaces the training service's copy of that structure when its version is
//! newer (an older or replayed snapshot changes nothing).

use async_trait::async_trait;
use prost::Message;
use sqlx::{Any, Transaction};
use vigie_inventory_readmodel::{batch_changes, NewSnapshot};
use vigie_platform::event_types;
use vigie_platform::events::{Envelope, EventHandler, HandlerError};
use vigie_proto::events::v1::StructureInventoried;

use crate::erasure::TABLES;
use crate::storage::{self, Snapshot};

/// Type (and subject) of the inventory snapshot event, for the callers that
/// match on strings.
pub use vigie_inventory_readmodel::STRUCTURE_INVENTORIED;

/// Keeps `tr_structures` and `tr_people` up to date.
pub struct InventoryReadModel;

#[async_trait]
impl EventHandler for InventoryReadModel {
    fn name(&self) -> &str {
        "training-inventory"
    }

    fn event_types(&self) -> Vec<String> {
        event_types![StructureInventoried]
    }

    async fn handle(&self, tx: &mut Transaction<'_, Any>, envelope: &Envelope) -> Result<(), HandlerError> {
        self.handle_batch(tx, &[envelope]).await
    }

    /// The batch's end state, written with multi-row statements.
    async fn handle_batch(&self, tx: &mut Transaction<'_, Any>, envelopes: &[&Envelope]) -> Result<(), HandlerError> {
        let changes = batch_changes(tx, envelopes, &TABLES).await?;
        let snapshots: Vec<Snapshot> = changes
            .structures
            .iter()
            .map(|NewSnapshot { structure, version }| Snapshot {
                structure_id: structure.structure_id.clone(),
                network_id: structure.network.clone(),
                department_code: structure.department_code.clone(),
                version: *version,
                bytes: structure.encode_to_vec(),
            })
            .collect();
        storage::save_snapshots(tx, &snapshots, &changes)
            .await
            .map_err(|e| HandlerError::Transient(e.into()))
    }
}
