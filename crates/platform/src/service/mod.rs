//! A service describes itself once; the hosts compose the descriptions.
//!
//! Each service crate builds its [`ServiceDescription`] in its
//! `service::describe` function: its component name, its gRPC service, the
//! event consumers it runs, bound to its database, and its background loops. `vigie dev`
//! (in-process buses, [`EmbeddedBuses`]), `vigie serve` (one JetStream
//! durable consumer per consumer) and the test harnesses compose from these
//! descriptions in a loop, so adding a consumer touches the consuming
//! service only.
//!
//! Which producers a consumer listens to is not restated: its event types
//! name them (`vigie.<producer>.…`, the scheme that also names the
//! JetStream streams, `VIGIE_<PRODUCER>`), see [`producers`].

mod embedded;
mod periodic;

pub use embedded::{EmbeddedBuses, UnknownProducer};
pub use periodic::run_every;

use std::future::Future;

use futures::future::BoxFuture;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::events::Consumer;

/// A task a service runs for as long as it is up — a periodic check, a
/// dispatcher — started once by the host with the shutdown token.
pub struct BackgroundLoop {
    /// What it does, for logs and tests (`fragility-reassessment`, …).
    pub name: &'static str,
    run: Box<dyn FnOnce(CancellationToken) -> BoxFuture<'static, ()> + Send>,
}

impl BackgroundLoop {
    /// A loop named `name` that `run` starts; its future returns once the
    /// token it is given is cancelled.
    pub fn new<F>(name: &'static str, run: impl FnOnce(CancellationToken) -> F + Send + 'static) -> BackgroundLoop
    where
        F: Future<Output = ()> + Send + 'static,
    {
        BackgroundLoop {
            name,
            run: Box::new(move |stop| Box::pin(run(stop))),
        }
    }

    /// The loop's future, to spawn.
    pub fn start(self, stop: CancellationToken) -> BoxFuture<'static, ()> {
        (self.run)(stop)
    }
}

impl std::fmt::Debug for BackgroundLoop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BackgroundLoop")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// What a service runs besides its gRPC handlers, as the service itself
/// states it.
#[derive(Debug)]
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
    /// Its background loops, started by [`ServiceDescription::spawn_loops`]
    /// (the test harnesses drive the same passes themselves and never start
    /// them).
    pub loops: Vec<BackgroundLoop>,
}

impl ServiceDescription {
    /// A description without consumers yet.
    pub fn new(name: &'static str, grpc_service: &'static str) -> ServiceDescription {
        ServiceDescription {
            name,
            grpc_service,
            consumers: Vec::new(),
            loops: Vec::new(),
        }
    }

    /// Adds a background loop.
    #[must_use]
    pub fn background(mut self, background: BackgroundLoop) -> ServiceDescription {
        self.loops.push(background);
        self
    }

    /// Starts every background loop in `tasks`, each until `stop`; the
    /// loops are moved out (a second call starts nothing).
    pub fn spawn_loops(&mut self, tasks: &mut JoinSet<()>, stop: &CancellationToken) {
        for background in self.loops.drain(..) {
            tracing::debug!(
                service = self.name,
                background = background.name,
                "background loop started"
            );
            tasks.spawn(background.start(stop.clone()));
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
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use tokio::task::JoinSet;
    use tokio_util::sync::CancellationToken;

    use super::{producer_of, BackgroundLoop, ServiceDescription};

    #[tokio::test]
    async fn loops_start_once_and_end_with_the_token() {
        let started = Arc::new(AtomicUsize::new(0));
        let counter = started.clone();
        let mut service = ServiceDescription::new("test", "test.v1.Test").background(BackgroundLoop::new(
            "count",
            move |stop| async move {
                counter.fetch_add(1, Ordering::SeqCst);
                stop.cancelled().await;
            },
        ));
        assert_eq!(
            format!("{:?}", service.loops),
            r#"[BackgroundLoop { name: "count", .. }]"#
        );
        let mut tasks = JoinSet::new();
        let stop = CancellationToken::new();
        service.spawn_loops(&mut tasks, &stop);
        service.spawn_loops(&mut tasks, &stop);
        assert_eq!(tasks.len(), 1, "a loop is started once");
        stop.cancel();
        while let Some(ended) = tasks.join_next().await {
            ended.expect("the loop ends cleanly");
        }
        assert_eq!(started.load(Ordering::SeqCst), 1);
    }

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
