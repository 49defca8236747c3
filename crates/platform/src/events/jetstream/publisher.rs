//! Publishing to JetStream with an awaited `PubAck`.

use std::time::Duration;

use async_nats::jetstream;
use async_trait::async_trait;

use crate::events::{Envelope, PublishError, Publisher};

/// Default deadline for a publication to be confirmed.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Publishes envelopes on their event type's subject and waits for the
/// stream's acknowledgement.
///
/// A timeout or error is returned as such: the relay keeps the row and
/// retries. The broker may in fact have stored the first attempt (the ack
/// was lost, or the client buffered the message while reconnecting): the
/// retry carries the same `Nats-Msg-Id` and is dropped as a duplicate.
#[derive(Debug, Clone)]
pub struct JetStreamPublisher {
    js: jetstream::Context,
    timeout: Duration,
}

impl JetStreamPublisher {
    /// A publisher with a 10 s confirmation deadline.
    pub fn new(js: jetstream::Context) -> JetStreamPublisher {
        JetStreamPublisher {
            js,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// Changes the confirmation deadline.
    pub fn with_timeout(mut self, timeout: Duration) -> JetStreamPublisher {
        self.timeout = timeout;
        self
    }
}

#[async_trait]
impl Publisher for JetStreamPublisher {
    /// Publishes with the CloudEvents headers and awaits the `PubAck`.
    ///
    /// # Errors
    /// [`PublishError::Timeout`] without a confirmation in time,
    /// [`PublishError::Broker`] when the server rejects the message (e.g. no
    /// stream for the subject) or the connection fails.
    async fn publish(&self, envelope: &Envelope) -> Result<(), PublishError> {
        let confirmed = async {
            let ack = self
                .js
                .publish_with_headers(
                    envelope.event_type.clone(),
                    envelope.to_headers(),
                    envelope.payload.clone(),
                )
                .await
                .map_err(|error| PublishError::Broker(Box::new(error)))?;
            ack.await
                .map_err(|error| PublishError::Broker(Box::new(error)))
        };
        let ack = tokio::time::timeout(self.timeout, confirmed)
            .await
            .map_err(|_| PublishError::Timeout(self.timeout))??;
        if ack.duplicate {
            tracing::debug!(event_id = %envelope.id, stream = %ack.stream, "broker already had the event");
        }
        Ok(())
    }
}
