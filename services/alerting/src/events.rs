//! Events the alerting service publishes (see docs/events.md).

use vigie_platform::events::EventDraft;
use vigie_proto::events::v1::DeadlineEscalated;

/// `ce-source` of every alerting event.
pub const SOURCE: &str = "/vigie/alerting";
/// Type (and NATS subject) of [`DeadlineEscalated`].
pub const DEADLINE_ESCALATED: &str = "vigie.alerting.call.escalated.v1";

/// The event of a deadline escalated to the network, about the structure.
pub fn deadline_escalated(event: &DeadlineEscalated) -> EventDraft {
    EventDraft::protobuf(DEADLINE_ESCALATED, event.structure_id.clone(), event)
}
