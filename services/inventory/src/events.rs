//! Events the inventory publishes (see `docs/events.md`).
//!
//! Both are state transfers keyed by the structure (`ce-subject`), so a
//! consumer can rebuild its read model from the latest event alone.

use prost::Message;
use sqlx::{Any, Transaction};
use vigie_fragility_model::fragility::Band;
use vigie_platform::events::{Event, EventDraft, Outbox};
use vigie_proto::events::v1::{FragilityAssessed, PersonErased, StructureInventoried};
use vigie_proto::inventory::v1 as pb;

use crate::error::InventoryError;

/// `ce-source` of every inventory event.
pub const SOURCE: &str = "/vigie/inventory";
/// Type (and NATS subject) of [`StructureInventoried`].
pub const STRUCTURE_INVENTORIED: &str = StructureInventoried::TYPE;
/// Type (and NATS subject) of [`FragilityAssessed`].
pub const FRAGILITY_ASSESSED: &str = FragilityAssessed::TYPE;

/// Type (and NATS subject) of [`PersonErased`].
pub const PERSON_ERASED: &str = PersonErased::TYPE;

/// The `person.erased` event (ce-subject = structure id).
pub fn person_erased(person_id: &str, structure_id: &str) -> EventDraft {
    let payload = PersonErased {
        person_id: person_id.to_owned(),
        structure_id: structure_id.to_owned(),
    }
    .encode_to_vec();
    EventDraft::new(PERSON_ERASED, structure_id.to_owned(), payload)
}

/// The `structure.inventoried` event of a structure.
pub fn structure_inventoried(structure: pb::Structure) -> EventDraft {
    let subject = structure.structure_id.clone();
    let payload = StructureInventoried {
        structure: Some(structure),
    }
    .encode_to_vec();
    EventDraft::new(STRUCTURE_INVENTORIED, subject, payload)
}

/// The `structure.fragility_assessed` event of a new assessment, with the
/// band and score it replaces (none for the first one).
pub fn fragility_assessed(fragility: pb::StructureFragility, previous: Option<(Band, Option<i64>)>) -> EventDraft {
    let subject = fragility.structure_id.clone();
    let evaluated_on = fragility.evaluated_on;
    let (previous_band, previous_score) = match previous {
        Some((band, score)) => (
            crate::convert::band_to_pb(band),
            score.and_then(|s| u32::try_from(s).ok()),
        ),
        None => (pb::Band::Unspecified, None),
    };
    let payload = FragilityAssessed {
        fragility: Some(fragility),
        previous_band: previous_band as i32,
        previous_score,
        evaluated_on,
    }
    .encode_to_vec();
    EventDraft::new(FRAGILITY_ASSESSED, subject, payload)
}

/// Appends events to the outbox in `tx` (one multi-row statement per few
/// hundred events: an import of 100,000 structures appends 200,000).
///
/// # Errors
/// [`InventoryError::Events`] when the outbox rows cannot be written.
pub async fn append(tx: &mut Transaction<'_, Any>, drafts: Vec<EventDraft>) -> Result<(), InventoryError> {
    if drafts.is_empty() {
        return Ok(());
    }
    Outbox::new(SOURCE)
        .append_many(tx, drafts)
        .await
        .map(|_| ())
        .map_err(|error| InventoryError::Events(error.to_string()))
}
