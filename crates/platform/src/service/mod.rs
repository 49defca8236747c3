//! A service describes itself once; the hosts compose the descriptions.
//!
//! Each service crate builds its [`ServiceDescription`] in its
//! `service::describe` function: its component name, its gRPC service and
//! the event consumers it runs, bound to its database. `vigie dev`
//! (in-process buses, [`EmbeddedBuses`]), `vigie serve` (one JetStream
//! durable consumer per consumer) and the test harnesses compose from these
//! descriptions in a loop, so adding a consumer touches the consuming
//! service only.
//!
//! Which producers a consumer listens to is not restated: its event types
//! name them (`vigie.<producer>.…`, the scheme that also names the
//! JetStream streams, `VIGIE_<PRODUCER>`), see [`producers`].

mod embedded;

pub use embedded::{EmbeddedBuses, UnknownProducer};

use crate::events::Consumer;

/// What a service runs besides its gRPC handlers, as the service itself
/// states it.
#[derive(Debug, Clone)]
pub struct ServiceDescription {
    /// Component name: its migrations, its outbox's stream `VIGIE_<NAME>`,
    /// its in-process bus in `vigie dev`.
    pub name: &'static str,
    /// Fully qualified gRPC service name, reported by the health service.
    pub grpc_service: &'static str,
    /// Its event consumers, bound to its database. Their durable names are
    /// state in production (JetStream durables, inbox keys): never rename
    /// one.
    pub consumers: Vec<Consumer>,
}

impl ServiceDescription {
    /// A description without consumers yet.
    pub fn new(name: &'static str, grpc_service: &'static str) -> ServiceDescription {
        ServiceDescription {
            name,
            grpc_service,
            consumers: Vec::new(),
        }
    }

    /// Adds a consumer.
    #[must_use]
    pub fn consumer(mut self, consumer: Consumer) -> ServiceDescription {
        self.consumers.push(consumer);
        self
    }

    /// The consumer of durable name `name`, if the service runs one (for
    /// test harnesses that feed one consumer as the service wires it).
    pub fn find(&self, name: &str) -> Option<&Consumer> {
        self.consumers.iter().find(|consumer| consumer.name() == name)
    }

    /// The producing services this service listens to, each once, in the
    /// order its consumers name them.
    pub fn producers(&self) -> Vec<String> {
        let mut all = Vec::new();
        for consumer in &self.consumers {
            for producer in producers(consumer) {
                if !all.contains(&producer) {
                    all.push(producer);
                }
            }
        }
        all
    }
}

/// The services whose events `consumer` wants, each once: the `<producer>`
/// of its `vigie.<producer>.…` event types. A type outside the scheme names
/// none (the JetStream adapter refuses it).
pub fn producers(consumer: &Consumer) -> Vec<String> {
    let mut found = Vec::new();
    for event_type in consumer.event_types() {
        if let Some(producer) = producer_of(&event_type) {
            if !found.iter().any(|known| known == producer) {
                found.push(producer.to_owned());
            }
        }
    }
    found
}

/// `inventory` for `vigie.inventory.structure.inventoried.v1`.
fn producer_of(event_type: &str) -> Option<&str> {
    let mut tokens = event_type.split('.');
    match (tokens.next(), tokens.next()) {
        (Some("vigie"), Some(producer)) if !producer.is_empty() && producer != "*" && producer != ">" => Some(producer),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::producer_of;

    #[test]
    fn the_producer_is_the_second_token() {
        assert_eq!(
            producer_of("vigie.inventory.structure.inventoried.v1"),
            Some("inventory")
        );
        assert_eq!(producer_of("vigie.training.>"), Some("training"));
        assert_eq!(producer_of("vigie.*.person.erased.v1"), None);
        assert_eq!(producer_of("other.inventory.x"), None);
        assert_eq!(producer_of("vigie"), None);
    }
}
