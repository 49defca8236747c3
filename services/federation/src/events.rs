//! Events the federation service publishes and consumes (docs/events.md).

use vigie_platform::events::{Event, EventDraft};
use vigie_proto::federation::v1::RegionSnapshot;

/// `ce-source` of every federation event.
pub const SOURCE: &str = "/vigie/federation";
/// Type (and NATS subject) of [`RegionSnapshot`]: the only subject that
/// leaves a region (`vigie.federation.>`, docs/federation.md).
pub const REGION_AGGREGATED: &str = RegionSnapshot::TYPE;

/// The snapshot event; ce-subject = the region.
pub fn region_aggregated(snapshot: &RegionSnapshot) -> EventDraft {
    EventDraft::of(snapshot.region.clone(), snapshot)
}
