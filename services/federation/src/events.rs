//! Events the federation service publishes and consumes (docs/events.md).

use vigie_platform::events::EventDraft;
use vigie_proto::federation::v1::RegionSnapshot;

/// `ce-source` of every federation event.
pub const SOURCE: &str = "/vigie/federation";
/// Type (and NATS subject) of [`RegionSnapshot`]: the only subject that
/// leaves a region (`vigie.federation.>`, docs/federation.md).
pub const REGION_AGGREGATED: &str = "vigie.federation.region.aggregated.v1";

/// The events of the instance the regional read model is built from.
pub mod consumed {
    /// Where each structure belongs.
    pub const STRUCTURE_INVENTORIED: &str = "vigie.inventory.structure.inventoried.v1";
    /// Its fragility.
    pub const FRAGILITY_ASSESSED: &str = "vigie.inventory.structure.fragility_assessed.v1";
    /// Reminders, with the deadlines they announce.
    pub const REMINDER_SENT: &str = "vigie.alerting.reminder.sent.v1";
    /// Acknowledgements of calls.
    pub const CALL_ACKNOWLEDGED: &str = "vigie.alerting.call.acknowledged.v1";
    /// Facilitation time.
    pub const TIME_RECORDED: &str = "vigie.facilitation.time.recorded.v1";
    /// Training completions.
    pub const TRAINING_COMPLETED: &str = "vigie.training.enrolment.completed.v1";

    // Grants and reporting duties (issue 16).
    /// Decisions on grants (won or refused, amount, date).
    pub const GRANT_RECORDED: &str = "vigie.alerting.grant.recorded.v1";
    /// Reminders of reporting duties, with their due dates.
    pub const OBLIGATION_REMINDED: &str = "vigie.alerting.obligation.reminded.v1";
    /// Duties marked sent to the funder, or taken back.
    pub const OBLIGATION_ACKNOWLEDGED: &str = "vigie.alerting.obligation.acknowledged.v1";
}

/// The snapshot event; ce-subject = the region.
pub fn region_aggregated(snapshot: &RegionSnapshot) -> EventDraft {
    EventDraft::protobuf(REGION_AGGREGATED, snapshot.region.clone(), snapshot)
}
