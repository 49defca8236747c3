//! Events the facilitation service publishes (see docs/events.md).

use vigie_platform::events::EventDraft;
use vigie_proto::events::v1::{FacilitationTimeRecorded, InterventionRecorded};

/// `ce-source` of every facilitation event.
pub const SOURCE: &str = "/vigie/facilitation";
/// Type (and NATS subject) of [`InterventionRecorded`].
pub const INTERVENTION_RECORDED: &str = "vigie.facilitation.intervention.recorded.v1";
/// Type (and NATS subject) of [`FacilitationTimeRecorded`].
pub const TIME_RECORDED: &str = "vigie.facilitation.time.recorded.v1";

/// The event of an intervention that left a person autonomous on a function,
/// about the person's structure.
pub fn intervention_recorded(event: &InterventionRecorded) -> EventDraft {
    EventDraft::protobuf(INTERVENTION_RECORDED, event.structure_id.clone(), event)
}

/// The event of the time of any recorded intervention (no person), about
/// the structure.
pub fn time_recorded(event: &FacilitationTimeRecorded) -> EventDraft {
    EventDraft::protobuf(TIME_RECORDED, event.structure_id.clone(), event)
}
