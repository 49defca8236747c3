//! Events the training service publishes (see docs/events.md).

use vigie_platform::events::{Event, EventDraft};
use vigie_proto::events::v1::TrainingCompleted;

/// `ce-source` of every training event.
pub const SOURCE: &str = "/vigie/training";
/// Type (and NATS subject) of [`TrainingCompleted`].
pub const TRAINING_COMPLETED: &str = TrainingCompleted::TYPE;

/// The event of a completion, about the person's structure.
pub fn training_completed(event: &TrainingCompleted) -> EventDraft {
    EventDraft::of(event.structure_id.clone(), event)
}
