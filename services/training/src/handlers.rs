//! The read model of the inventory: each `structure.inventoried` event
//! replaces the training service's copy of that structure when its version is
//! newer (an older or replayed snapshot changes nothing).

use async_trait::async_trait;
use prost::Message;
use sqlx::AnyConnection;
use vigie_inventory_readmodel::{BatchChanges, NewSnapshot, ReadModelTables, SnapshotReadModel, StructureStore};
use vigie_platform::events::HandlerError;

use crate::erasure::TABLES;
use crate::storage::{self, Snapshot};

/// Type (and subject) of the inventory snapshot event, for the callers that
/// match on strings.
pub use vigie_inventory_readmodel::STRUCTURE_INVENTORIED;

/// Keeps `tr_structures` and `tr_people` up to date.
pub type InventoryReadModel = SnapshotReadModel<TrainingStructures>;

/// The training service's copy of the inventory's structures and people.
#[derive(Debug, Default, Clone, Copy)]
pub struct TrainingStructures;

#[async_trait]
impl StructureStore for TrainingStructures {
    const CONSUMER: &'static str = "training-inventory";
    const TABLES: ReadModelTables = TABLES;

    async fn save(conn: &mut AnyConnection, changes: &BatchChanges) -> Result<(), HandlerError> {
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
        storage::save_snapshots(conn, &snapshots, changes)
            .await
            .map_err(|e| HandlerError::Transient(e.into()))
    }
}
