//! The in-process composition of `vigie dev`: one [`EmbeddedBus`] per
//! producing service, each consumer registered on the buses of the
//! producers its event types name.

use std::collections::BTreeMap;

use super::{producers, ServiceDescription};
use crate::events::EmbeddedBus;

/// A consumer listens to a service that has no bus here: the host forgot
/// to give that producer a bus (its events would never reach the consumer).
#[derive(Debug, thiserror::Error)]
#[error("consumer {consumer} listens to {producer}, which has no in-process bus")]
pub struct UnknownProducer {
    /// The consumer's durable name.
    pub consumer: String,
    /// The producing service it names.
    pub producer: String,
}

/// One in-process bus per producing service; cheap to clone (shared buses).
#[derive(Debug, Clone, Default)]
pub struct EmbeddedBuses {
    buses: BTreeMap<String, EmbeddedBus>,
}

impl EmbeddedBuses {
    /// An empty bus for each of `services`.
    pub fn new<'a>(services: impl IntoIterator<Item = &'a str>) -> EmbeddedBuses {
        EmbeddedBuses {
            buses: services
                .into_iter()
                .map(|service| (service.to_owned(), EmbeddedBus::new()))
                .collect(),
        }
    }

    /// The bus carrying `service`'s events (its relay publishes there).
    pub fn bus(&self, service: &str) -> Option<&EmbeddedBus> {
        self.buses.get(service)
    }

    /// Every bus, by service name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &EmbeddedBus)> {
        self.buses.iter().map(|(name, bus)| (name.as_str(), bus))
    }

    /// Registers each consumer of `service` on the bus of every producer it
    /// listens to. Call before the relays start: an in-process consumer
    /// does not see events already marked published.
    ///
    /// # Errors
    /// [`UnknownProducer`] when a consumer listens to a service without a
    /// bus; nothing of `service` is registered then.
    pub fn register(&self, service: &ServiceDescription) -> Result<(), UnknownProducer> {
        let mut placements = Vec::new();
        for consumer in &service.consumers {
            for producer in producers(consumer) {
                let bus = self.buses.get(&producer).ok_or_else(|| UnknownProducer {
                    consumer: consumer.name().to_owned(),
                    producer: producer.clone(),
                })?;
                placements.push((bus, consumer));
            }
        }
        for (bus, consumer) in placements {
            bus.register(consumer.clone());
        }
        Ok(())
    }
}
