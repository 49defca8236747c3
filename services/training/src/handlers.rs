//! The read model of the inventory: each `structure.inventoried` event
//! replaces the training service's copy of that structure when its version is
//! newer (an older or replayed snapshot changes nothing).

use async_trait::async_trait;
use prost::Message;
use sqlx::{Any, Transaction};
use vigie_platform::event_types;
use vigie_platform::events::{Envelope, Event, EventHandler, HandlerError};
use vigie_proto::events::v1::StructureInventoried;

use crate::storage::{self, Snapshot};

/// Type (and subject) of the inventory snapshot event: [`StructureInventoried`]'s [`Event::TYPE`], named here
/// for the callers that match on strings.
pub const STRUCTURE_INVENTORIED: &str = StructureInventoried::TYPE;

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
        let event = envelope.decode::<StructureInventoried>()?;
        let structure = event
            .structure
            .ok_or_else(|| HandlerError::Permanent(anyhow::anyhow!("StructureInventoried without a structure")))?;
        let version = i64::try_from(structure.version).unwrap_or(i64::MAX);
        let held = storage::structure_version(tx, &structure.structure_id)
            .await
            .map_err(|e| HandlerError::Transient(e.into()))?;
        if held.is_some_and(|held| held >= version) {
            return Ok(()); // stale or replayed snapshot
        }
        let snapshot = Snapshot {
            structure_id: structure.structure_id.clone(),
            network_id: structure.network.clone(),
            department_code: structure.department_code.clone(),
            version,
            people: structure.people.iter().map(|p| p.person_id.clone()).collect(),
            bytes: structure.encode_to_vec(),
        };
        storage::save_snapshot(tx, &snapshot)
            .await
            .map_err(|e| HandlerError::Transient(e.into()))?;
        Ok(())
    }
}
