//! Events the facilitation service publishes (see docs/events.md).

use vigie_platform::events::{Event, EventDraft};
use vigie_proto::events::v1::{FacilitationTimeRecorded, InterventionRecorded};

/// `ce-source` of every facilitation event.
pub const SOURCE: &str = "/vigie/facilitation";
/// Type (and NATS subject) of [`InterventionRecorded`].
pub const INTERVENTION_RECORDED: &str = InterventionRecorded::TYPE;
/// Type (and NATS subject) of [`FacilitationTimeRecorded`].
pub const TIME_RECORDED: &str = FacilitationTimeRecorded::TYPE;

/// The event of an intervention that left a person autonomous on a function,
/// about the person's structure.
pub fn intervention_recorded(event: &InterventionRecorded) -> EventDraft {
    EventDraft::of(event.structure_id.clone(), event)
}

/// The event of the time of any recorded intervention (no person), about
/// the structure.
pub fn time_recorded(event: &FacilitationTimeRecorded) -> EventDraft {
    EventDraft::of(event.structure_id.clone(), event)
}

/// The `intervention_key` of [`FacilitationTimeRecorded`]: the first 128 bits
/// of SHA-256 of the intervention's key, in hex. A key derived from the
/// intervention's values names the person helped (and a client's key may
/// carry anything), while this event carries no person: consumers get a
/// stable, unique identifier of the intervention, not its key.
pub fn opaque_key(key: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, key.as_bytes());
    digest.as_ref()[..16].iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_opaque_key_is_stable_distinct_and_hides_the_person() {
        let key = "R1/2026-11-28/internal/45/P2/3";
        assert_eq!(opaque_key(key), opaque_key(key));
        assert_ne!(opaque_key(key), opaque_key("R1/2026-11-28/internal/45/P3/3"));
        assert_eq!(opaque_key(key).len(), 32);
        assert!(!opaque_key(key).contains("P2"));
    }
}
