//! Events the inventory publishes (see `docs/events.md`).
//!
//! Both are state transfers keyed by the structure (`ce-subject`), so a
//! consumer can rebuild its read model from the latest event alone.

use prost::Message;
use sqlx::{Any, Transaction};
use vigie_inventory_domain::fragility::Band;
use vigie_platform::events::{EventDraft, Outbox};
use vigie_proto::events::v1::{FragilityAssessed, StructureInventoried};
use vigie_proto::inventory::v1 as pb;

use crate::error::InventoryError;

/// `ce-source` of every inventory event.
pub const SOURCE: &str = "/vigie/inventory";
/// Type (and NATS subject) of [`StructureInventoried`].
pub const STRUCTURE_INVENTORIED: &str = "vigie.inventory.structure.inventoried.v1";
/// Type (and NATS subject) of [`FragilityAssessed`].
pub const FRAGILITY_ASSESSED: &str = "vigie.inventory.structure.fragility_assessed.v1";

/// Appends a `structure.inventoried` event to the outbox, in `tx`.
///
/// # Errors
/// [`InventoryError::Events`] when the outbox row cannot be written.
pub async fn structure_inventoried(
    tx: &mut Transaction<'static, Any>,
    structure: pb::Structure,
) -> Result<(), InventoryError> {
    let subject = structure.structure_id.clone();
    let payload = StructureInventoried { structure: Some(structure) }.encode_to_vec();
    append(tx, STRUCTURE_INVENTORIED, subject, payload).await
}

/// Appends a `structure.fragility_assessed` event to the outbox, in `tx`.
///
/// # Errors
/// [`InventoryError::Events`] when the outbox row cannot be written.
pub async fn fragility_assessed(
    tx: &mut Transaction<'static, Any>,
    fragility: pb::StructureFragility,
    previous: Option<(Band, Option<i64>)>,
) -> Result<(), InventoryError> {
    let subject = fragility.structure_id.clone();
    let evaluated_on = fragility.evaluated_on;
    let (previous_band, previous_score) = match previous {
        Some((band, score)) => (crate::convert::band_to_pb(band), score.and_then(|s| u32::try_from(s).ok())),
        None => (pb::Band::Unspecified, None),
    };
    let payload = FragilityAssessed {
        fragility: Some(fragility),
        previous_band: previous_band as i32,
        previous_score,
        evaluated_on,
    }
    .encode_to_vec();
    append(tx, FRAGILITY_ASSESSED, subject, payload).await
}

async fn append(
    tx: &mut Transaction<'static, Any>,
    event_type: &str,
    subject: String,
    payload: Vec<u8>,
) -> Result<(), InventoryError> {
    Outbox::new(SOURCE)
        .append(tx, EventDraft { event_type: event_type.to_owned(), subject, payload: payload.into() })
        .await
        .map(|_| ())
        .map_err(|error| InventoryError::Events(error.to_string()))
}
