//! Events the alerting service publishes (see docs/events.md).

use vigie_platform::events::{Event, EventDraft};
use vigie_proto::events::v1::{
    CallAcknowledged, DeadlineEscalated, GrantRecorded, ObligationAcknowledged, ObligationReminded, ReminderSent,
};

/// `ce-source` of every alerting event.
pub const SOURCE: &str = "/vigie/alerting";
/// Type (and NATS subject) of [`DeadlineEscalated`].
pub const DEADLINE_ESCALATED: &str = DeadlineEscalated::TYPE;
/// Type (and NATS subject) of [`ReminderSent`].
pub const REMINDER_SENT: &str = ReminderSent::TYPE;
/// Type (and NATS subject) of [`CallAcknowledged`].
pub const CALL_ACKNOWLEDGED: &str = CallAcknowledged::TYPE;

/// Type (and NATS subject) of [`GrantRecorded`].
pub const GRANT_RECORDED: &str = GrantRecorded::TYPE;

/// The event of a decision on a structure's grant, about the structure.
pub fn grant_recorded(event: &GrantRecorded) -> EventDraft {
    EventDraft::of(event.structure_id.clone(), event)
}

/// The event of a deadline escalated to the network, about the structure.
pub fn deadline_escalated(event: &DeadlineEscalated) -> EventDraft {
    EventDraft::of(event.structure_id.clone(), event)
}

/// The event of a reminder claimed for one of a structure's recipients,
/// about the structure.
pub fn reminder_sent(event: &ReminderSent) -> EventDraft {
    EventDraft::of(event.structure_id.clone(), event)
}

/// The event of a structure's new acknowledgement status for a call, about
/// the structure.
pub fn call_acknowledged(event: &CallAcknowledged) -> EventDraft {
    EventDraft::of(event.structure_id.clone(), event)
}

/// Type (and NATS subject) of [`ObligationReminded`].
pub const OBLIGATION_REMINDED: &str = ObligationReminded::TYPE;
/// Type (and NATS subject) of [`ObligationAcknowledged`].
pub const OBLIGATION_ACKNOWLEDGED: &str = ObligationAcknowledged::TYPE;

/// The event of a reporting duty's reminder claimed for one of a
/// structure's recipients, about the structure.
pub fn obligation_reminded(event: &ObligationReminded) -> EventDraft {
    EventDraft::of(event.structure_id.clone(), event)
}

/// The event of a reporting duty marked « envoyé » (or taken back), about
/// the structure.
pub fn obligation_acknowledged(event: &ObligationAcknowledged) -> EventDraft {
    EventDraft::of(event.structure_id.clone(), event)
}
