//! Events the alerting service publishes (see docs/events.md).

use vigie_platform::events::EventDraft;
use vigie_proto::events::v1::{
    CallAcknowledged, DeadlineEscalated, GrantRecorded, ObligationAcknowledged, ObligationReminded, ReminderSent,
};

/// `ce-source` of every alerting event.
pub const SOURCE: &str = "/vigie/alerting";
/// Type (and NATS subject) of [`DeadlineEscalated`].
pub const DEADLINE_ESCALATED: &str = "vigie.alerting.call.escalated.v1";
/// Type (and NATS subject) of [`ReminderSent`].
pub const REMINDER_SENT: &str = "vigie.alerting.reminder.sent.v1";
/// Type (and NATS subject) of [`CallAcknowledged`].
pub const CALL_ACKNOWLEDGED: &str = "vigie.alerting.call.acknowledged.v1";

/// Type (and NATS subject) of [`GrantRecorded`].
pub const GRANT_RECORDED: &str = "vigie.alerting.grant.recorded.v1";

/// The event of a decision on a structure's grant, about the structure.
pub fn grant_recorded(event: &GrantRecorded) -> EventDraft {
    EventDraft::protobuf(GRANT_RECORDED, event.structure_id.clone(), event)
}

/// The event of a deadline escalated to the network, about the structure.
pub fn deadline_escalated(event: &DeadlineEscalated) -> EventDraft {
    EventDraft::protobuf(DEADLINE_ESCALATED, event.structure_id.clone(), event)
}

/// The event of a reminder claimed for one of a structure's recipients,
/// about the structure.
pub fn reminder_sent(event: &ReminderSent) -> EventDraft {
    EventDraft::protobuf(REMINDER_SENT, event.structure_id.clone(), event)
}

/// The event of a structure's new acknowledgement status for a call, about
/// the structure.
pub fn call_acknowledged(event: &CallAcknowledged) -> EventDraft {
    EventDraft::protobuf(CALL_ACKNOWLEDGED, event.structure_id.clone(), event)
}

/// Type (and NATS subject) of [`ObligationReminded`].
pub const OBLIGATION_REMINDED: &str = "vigie.alerting.obligation.reminded.v1";
/// Type (and NATS subject) of [`ObligationAcknowledged`].
pub const OBLIGATION_ACKNOWLEDGED: &str = "vigie.alerting.obligation.acknowledged.v1";

/// The event of a reporting duty's reminder claimed for one of a
/// structure's recipients, about the structure.
pub fn obligation_reminded(event: &ObligationReminded) -> EventDraft {
    EventDraft::protobuf(OBLIGATION_REMINDED, event.structure_id.clone(), event)
}

/// The event of a reporting duty marked « envoyé » (or taken back), about
/// the structure.
pub fn obligation_acknowledged(event: &ObligationAcknowledged) -> EventDraft {
    EventDraft::protobuf(OBLIGATION_ACKNOWLEDGED, event.structure_id.clone(), event)
}
