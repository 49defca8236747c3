//! The port between the relay and a transport.

use std::time::Duration;

use async_trait::async_trait;

use super::Envelope;

/// Boxed error of a transport.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Delivers an envelope to the transport and confirms it.
///
/// `publish` returns `Ok` only when the event is safe: the broker stored it
/// (JetStream `PubAck` received) or every in-process consumer committed it.
/// The relay marks the outbox row only after `Ok`, so an implementation that
/// returned early could lose events on a crash. Implementations must accept
/// the same envelope several times (the relay retries after any error, and
/// a crash can happen between confirmation and marking).
#[async_trait]
pub trait Publisher: Send + Sync {
    /// Publishes `envelope` and waits for the confirmation.
    ///
    /// # Errors
    /// [`PublishError`] when the event is not confirmed; the relay keeps the
    /// row and retries later, in order.
    async fn publish(&self, envelope: &Envelope) -> Result<(), PublishError>;
}

/// Why an event was not confirmed.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// No confirmation within the deadline (broker unreachable or slow). The
    /// event may or may not be stored; the retry is deduplicated.
    #[error("no confirmation from the broker within {0:?}")]
    Timeout(Duration),
    /// The broker refused or failed to confirm (no stream for the subject,
    /// connection lost…).
    #[error("broker did not confirm the event")]
    Broker(#[source] BoxError),
    /// In-process consumers failed transiently; those that succeeded will
    /// see the retry as a duplicate.
    #[error("{failed} in-process consumer(s) failed: {details}")]
    Consumers {
        /// How many consumers failed.
        failed: usize,
        /// `name: error` of each failure.
        details: String,
    },
    /// Any other failure (custom publishers, tests).
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}
