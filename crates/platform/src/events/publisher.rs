//! The port between the relay and a transport.

use std::time::Duration;

use async_trait::async_trait;

use super::Envelope;

/// Boxed error of a transport.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Delivers envelopes to the transport and confirms them.
///
/// `publish` returns `Ok` only when the event is safe: the broker stored it
/// (JetStream `PubAck` received) or every in-process consumer committed it.
/// The relay marks the outbox row only after `Ok`, so an implementation that
/// returned early could lose events on a crash. Implementations must accept
/// the same envelope several times (the relay retries after any error, and
/// a crash can happen between confirmation and marking).
///
/// The relay hands over whole batches through [`Publisher::publish_batch`];
/// its default publishes one envelope at a time, a transport that can
/// pipeline (JetStream) overrides it.
#[async_trait]
pub trait Publisher: Send + Sync {
    /// Publishes `envelope` and waits for the confirmation.
    ///
    /// # Errors
    /// [`PublishError`] when the event is not confirmed; the relay keeps the
    /// row and retries later, in order.
    async fn publish(&self, envelope: &Envelope) -> Result<(), PublishError>;

    /// Publishes `envelopes` in order and returns one result per envelope,
    /// in the same order. It may stop after the first error and return
    /// fewer results: envelopes without a result count as not confirmed.
    ///
    /// Each `Ok` carries the same promise as [`Publisher::publish`]. The
    /// relay marks only the longest all-`Ok` prefix; everything from the
    /// first error on stays pending and is published again (possibly a
    /// second time, so an override must keep the broker from storing a later
    /// envelope of the batch once an earlier one was not stored — see
    /// [`JetStreamPublisher`](super::JetStreamPublisher) — or the stream
    /// order would break).
    ///
    /// The default publishes one envelope after the other with
    /// [`Publisher::publish`] and stops at the first error.
    async fn publish_batch(&self, envelopes: &[Envelope]) -> Vec<Result<(), PublishError>> {
        let mut results = Vec::with_capacity(envelopes.len());
        for envelope in envelopes {
            let result = self.publish(envelope).await;
            let failed = result.is_err();
            results.push(result);
            if failed {
                break;
            }
        }
        results
    }
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
