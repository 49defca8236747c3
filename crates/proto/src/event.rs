//! Event payloads as types: each message carried over the event backbone
//! knows its CloudEvents type (also its NATS subject), so that a type is
//! spelled once, here, next to the message it names, and a consumer asks
//! for a message rather than for a string (`envelope.decode::<E>()` and
//! `event_types![…]` in `vigie_platform::events`).

use crate::events::v1::{
    CallAcknowledged, DeadlineEscalated, FacilitationTimeRecorded, FragilityAssessed, GrantRecorded,
    InterventionRecorded, ObligationAcknowledged, ObligationReminded, PersonErased, ReminderSent, StructureInventoried,
    TrainingCompleted,
};
use crate::federation::v1::RegionSnapshot;

/// A protobuf message published as events of one type.
pub trait Event: prost::Message + Default {
    /// The CloudEvents `type` and NATS subject,
    /// `vigie.<producer>.<entity>.<verb>.v<N>`. A published type is a
    /// contract (streams, durable consumers' filters): a new shape gets a
    /// new version, never a renamed type.
    const TYPE: &'static str;
    /// The message's name, for the errors that quote it.
    const NAME: &'static str;
}

/// Implements [`Event`] for each `Message => "type"`.
macro_rules! events {
    ($($message:ident => $event_type:literal),* $(,)?) => {
        $(
            impl Event for $message {
                const TYPE: &'static str = $event_type;
                const NAME: &'static str = stringify!($message);
            }
        )*
    };
}

events! {
    StructureInventoried => "vigie.inventory.structure.inventoried.v1",
    FragilityAssessed => "vigie.inventory.structure.fragility_assessed.v1",
    PersonErased => "vigie.inventory.person.erased.v1",
    TrainingCompleted => "vigie.training.enrolment.completed.v1",
    InterventionRecorded => "vigie.facilitation.intervention.recorded.v1",
    FacilitationTimeRecorded => "vigie.facilitation.time.recorded.v1",
    DeadlineEscalated => "vigie.alerting.call.escalated.v1",
    ReminderSent => "vigie.alerting.reminder.sent.v1",
    CallAcknowledged => "vigie.alerting.call.acknowledged.v1",
    GrantRecorded => "vigie.alerting.grant.recorded.v1",
    ObligationReminded => "vigie.alerting.obligation.reminded.v1",
    ObligationAcknowledged => "vigie.alerting.obligation.acknowledged.v1",
    RegionSnapshot => "vigie.federation.region.aggregated.v1",
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every type follows the scheme the JetStream adapter routes on, and
    /// no two messages share one.
    #[test]
    fn types_follow_the_scheme_and_are_distinct() {
        let types = [
            StructureInventoried::TYPE,
            FragilityAssessed::TYPE,
            PersonErased::TYPE,
            TrainingCompleted::TYPE,
            InterventionRecorded::TYPE,
            FacilitationTimeRecorded::TYPE,
            DeadlineEscalated::TYPE,
            ReminderSent::TYPE,
            CallAcknowledged::TYPE,
            GrantRecorded::TYPE,
            ObligationReminded::TYPE,
            ObligationAcknowledged::TYPE,
            RegionSnapshot::TYPE,
        ];
        for event_type in types {
            let tokens: Vec<&str> = event_type.split('.').collect();
            assert!(tokens.len() >= 4 && tokens[0] == "vigie", "{event_type}");
            assert!(tokens.last().is_some_and(|v| v.starts_with('v')), "{event_type}");
        }
        let mut unique = types.to_vec();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), types.len());
        assert_eq!(StructureInventoried::NAME, "StructureInventoried");
    }
}
