//! Typed events: a consumer asks for a message, not for a string.
//!
//! Each payload type states its CloudEvents type once
//! ([`vigie_proto::Event`]); producers draft with [`EventDraft::of`],
//! consumers list what they want with [`event_types!`](crate::event_types)
//! and read with [`Envelope::decode`], which turns a payload that does not
//! decode into the permanent failure every handler answered by hand.

use vigie_proto::Event;

use super::{Envelope, EventDraft, HandlerError};

impl Envelope {
    /// An envelope of `message`'s type about `subject` from `source`, as the
    /// producing service would publish it: consumers' tests and tools build
    /// the events they feed without spelling the type or encoding by hand.
    pub fn of<E: Event>(source: impl Into<String>, subject: impl Into<String>, message: &E) -> Envelope {
        Envelope::new(source, E::TYPE, subject, message.encode_to_vec())
    }

    /// Whether the envelope carries an `E`.
    pub fn is<E: Event>(&self) -> bool {
        self.event_type == E::TYPE
    }

    /// The payload as an `E`.
    ///
    /// # Errors
    /// [`HandlerError::Permanent`] (`undecodable <message>: …`) when the
    /// payload is not an `E`: retrying cannot help, the event goes to the
    /// dead letters.
    pub fn decode<E: Event>(&self) -> Result<E, HandlerError> {
        E::decode(self.payload.clone())
            .map_err(|error| HandlerError::Permanent(anyhow::anyhow!("undecodable {}: {error}", E::NAME)))
    }
}

impl EventDraft {
    /// An event of `message`'s type about `subject`, its payload encoded.
    pub fn of<E: Event>(subject: impl Into<String>, message: &E) -> EventDraft {
        EventDraft::protobuf(E::TYPE, subject, message)
    }
}

/// The event types of the listed messages, for
/// [`EventHandler::event_types`](super::EventHandler::event_types):
/// `event_types![StructureInventoried, PersonErased]`.
#[macro_export]
macro_rules! event_types {
    ($($event:ty),* $(,)?) => {
        vec![$(<$event as $crate::events::Event>::TYPE.to_owned()),*]
    };
}

#[cfg(test)]
mod tests {
    use vigie_proto::events::v1::{PersonErased, StructureInventoried};

    use super::*;

    #[test]
    fn an_envelope_decodes_as_its_type_and_refuses_garbage_permanently() {
        let erased = PersonErased {
            person_id: "P1".to_owned(),
            structure_id: "S1".to_owned(),
        };
        let envelope = Envelope::of("/vigie/inventory", "S1", &erased);
        assert!(envelope.is::<PersonErased>() && !envelope.is::<StructureInventoried>());
        assert_eq!(
            (envelope.source.as_str(), envelope.subject.as_str()),
            ("/vigie/inventory", "S1")
        );
        assert_eq!(envelope.decode::<PersonErased>().ok(), Some(erased));
        let garbage = Envelope::new("/vigie/inventory", PersonErased::TYPE, "S1", vec![0xff, 0xff, 0xff]);
        match garbage.decode::<PersonErased>() {
            Err(error @ HandlerError::Permanent(_)) => {
                assert!(error.to_string().contains("undecodable PersonErased"), "{error}");
            }
            other => panic!("expected a permanent failure, got {other:?}"),
        }
    }

    #[test]
    fn event_types_lists_the_messages_types() {
        assert_eq!(
            crate::event_types![StructureInventoried, PersonErased],
            [
                "vigie.inventory.structure.inventoried.v1",
                "vigie.inventory.person.erased.v1"
            ]
        );
    }
}
