//! Publishing to JetStream with an awaited `PubAck`, one event at a time or
//! pipelined by batch.
//!
//! A batch is pipelined: every message is sent without waiting, then the
//! `PubAck`s are awaited in order (one connection: the server stores the
//! messages in the order they were sent). The acks of the first messages are
//! awaited while later ones are still being sent, so a batch larger than the
//! client's limit of unacknowledged publications cannot deadlock.
//!
//! Pipelining must not let the stream order break: if message `k` of a
//! batch is lost (connection lost mid-batch: the client drops what it had
//! not written yet, then sends the rest on the new connection) or refused
//! (e.g. too large), messages `k+1…` must not be stored before the relay
//! publishes `k` again. So each message after the first one of a batch
//! carries `Nats-Expected-Last-Msg-Id` = the id of the batch's previous
//! event for the same stream: the broker stores it only right after that
//! event, and refuses it otherwise. The first message of a batch carries no
//! such condition, which is what lets a retry (or a new batch) start. A
//! republished event is recognised as a duplicate (`Nats-Msg-Id`) before
//! the condition is checked, so retries are not refused. The header stays
//! on the stored message; consumers ignore it.

use std::collections::HashMap;
use std::future::IntoFuture;
use std::time::Duration;

use async_nats::header::NATS_EXPECTED_LAST_MESSAGE_ID;
use async_nats::jetstream;
use async_nats::jetstream::context::PublishAckFuture;
use async_trait::async_trait;
use uuid::Uuid;

use super::stream_for_event_type;
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
///
/// [`Publisher::publish_batch`] is pipelined; see the module documentation
/// for how the order is kept.
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

    /// Changes the confirmation deadline (applied to each message of a
    /// batch in turn).
    pub fn with_timeout(mut self, timeout: Duration) -> JetStreamPublisher {
        self.timeout = timeout;
        self
    }

    /// Sends `envelope` (with the optional `Nats-Expected-Last-Msg-Id`)
    /// without waiting for its `PubAck`.
    async fn send(&self, envelope: &Envelope, expected_last: Option<Uuid>) -> Result<PublishAckFuture, PublishError> {
        let mut headers = envelope.to_headers();
        if let Some(previous) = expected_last {
            headers.insert(NATS_EXPECTED_LAST_MESSAGE_ID, previous.to_string());
        }
        let sent = self
            .js
            .publish_with_headers(envelope.event_type.clone(), headers, envelope.payload.clone());
        tokio::time::timeout(self.timeout, sent)
            .await
            .map_err(|_| PublishError::Timeout(self.timeout))?
            .map_err(|error| PublishError::Broker(Box::new(error)))
    }

    /// Awaits the `PubAck` of `envelope`.
    async fn confirm(&self, envelope: &Envelope, ack: PublishAckFuture) -> Result<(), PublishError> {
        let ack = tokio::time::timeout(self.timeout, ack.into_future())
            .await
            .map_err(|_| PublishError::Timeout(self.timeout))?
            .map_err(|error| PublishError::Broker(Box::new(error)))?;
        if ack.duplicate {
            tracing::debug!(event_id = %envelope.id, stream = %ack.stream, "broker already had the event");
        }
        Ok(())
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
            ack.await.map_err(|error| PublishError::Broker(Box::new(error)))
        };
        let ack = tokio::time::timeout(self.timeout, confirmed)
            .await
            .map_err(|_| PublishError::Timeout(self.timeout))??;
        if ack.duplicate {
            tracing::debug!(event_id = %envelope.id, stream = %ack.stream, "broker already had the event");
        }
        Ok(())
    }

    /// Sends the whole batch, each message after the first of its stream
    /// conditioned on its predecessor (`Nats-Expected-Last-Msg-Id`), and
    /// awaits the `PubAck`s in order, each within the deadline. Stops at the
    /// first failure: the results end with that error. Messages sent after
    /// the failed one may have been stored (an earlier one's ack was lost)
    /// or refused by the condition; either way their retry is safe.
    async fn publish_batch(&self, envelopes: &[Envelope]) -> Vec<Result<(), PublishError>> {
        let (pending_tx, mut pending_rx) = tokio::sync::mpsc::unbounded_channel();
        let send_all = async move {
            // Last event sent per stream in this batch.
            let mut last_sent: HashMap<String, Uuid> = HashMap::new();
            for envelope in envelopes {
                let stream = stream_for_event_type(&envelope.event_type).unwrap_or_else(|| envelope.event_type.clone());
                let expected_last = last_sent.get(&stream).copied();
                let sent = self.send(envelope, expected_last).await;
                let failed = sent.is_err();
                // The receiver is gone once an ack failed: stop sending.
                if pending_tx.send(sent).is_err() || failed {
                    break;
                }
                last_sent.insert(stream, envelope.id);
            }
        };
        let await_acks = async move {
            let mut results = Vec::with_capacity(envelopes.len());
            for envelope in envelopes {
                let Some(sent) = pending_rx.recv().await else {
                    break;
                };
                let result = match sent {
                    Ok(ack) => self.confirm(envelope, ack).await,
                    Err(error) => Err(error),
                };
                let failed = result.is_err();
                results.push(result);
                if failed {
                    break;
                }
            }
            results
        };
        let ((), results) = futures::join!(send_all, await_acks);
        results
    }
}
