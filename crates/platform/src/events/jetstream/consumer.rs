//! Durable pull consumers feeding a [`Consumer`].
//!
//! The messages already received from a pull (up to
//! [`ConsumerOptions::batch`], without waiting for more) are applied together
//! by [`Consumer::process_batch`]: their inbox rows and effects in one
//! transaction. Then, per message (the acks awaited concurrently, and
//! while the next batch is received and applied — its effects are committed,
//! so a late or lost ack only makes a redelivery a duplicate; one batch at a
//! time is being settled):
//! - applied or duplicate → ack, not confirmed by the server (a double ack
//!   is a round trip per message: it cost a quarter of a batch's time and
//!   confirmed nothing the inbox needs — a lost ack only makes the
//!   redelivery a duplicate); the acks are flushed before the loop stops;
//! - transient failure → (when the batch held other events, they are first
//!   applied one by one, each in its own transaction, so that one failing
//!   event does not hold back the others) `Nak` with a delay growing with the delivery count
//!   (1 s, 2 s, 4 s… capped at 60 s by default), **forever**: a database
//!   down for an hour must not turn a valid event (a `person.erased`…) into
//!   a dead letter. Each retry counts in `vigie.events.retries` and logs a
//!   warning with the delivery count, which is how an operator sees a stuck
//!   consumer; the durable consumer has no `max_deliver` limit;
//! - permanent failure ([`HandlerError::Permanent`]: undecodable payload,
//!   invariant violated) or unparseable envelope →
//!   publish the message with its headers plus `Vigie-Error` to
//!   `vigie.deadletter.<consumer>` (awaiting the `PubAck`), then `Term`; the
//!   relay's `Nats-Expected-*` publication conditions are left out (they
//!   would make the dead-letter stream refuse the copy). If
//!   the dead letter cannot be stored the message is nak'ed instead: a poison
//!   message is never dropped silently.
//!
//! While the handler runs, the message's `ack_wait` is extended every half
//! `ack_wait` (`AckKind::Progress`), so a slow transaction is not
//! redelivered to another replica in the middle.
//!
//! A message carrying `Vigie-Replay-For` was republished by
//! `vigie events dead-letters replay` for one consumer
//! ([`super::dead_letters`]): the other consumers of the subject acknowledge
//! it without calling their handler.
//!
//! Batches are handled one at a time per consumer, each in the stream's
//! order, which keeps the stream order (except for a message being retried
//! after a nak, which later messages overtake). Errors from the message stream (missed heartbeats
//! while the server is down, a deleted consumer…) are logged and the loop
//! carries on, re-creating the consumer and its subscription when the stream
//! ends or keeps failing. Shutdown lets the in-flight batch finish (ack
//! included) and returns; prefetched messages are simply redelivered to the
//! next instance after `ack_wait`.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::consumer::{pull, AckPolicy, DeliverPolicy, PullConsumer};
use async_nats::jetstream::message::AckKind;
use async_nats::jetstream::{self, stream::ConsumerError as NatsConsumerError};
use futures::future::BoxFuture;
use futures::StreamExt;
use tokio_util::sync::CancellationToken;

use super::{stream_for_event_type, DEAD_LETTER_PREFIX};
use crate::events::backoff::{exponential, Backoff};
use crate::events::envelope::{format_time, header_value, now};
use crate::events::metrics::UNKNOWN_TYPE;
use crate::events::relay::error_chain;
use crate::events::subject::{subject_matches, validate_consumer_name, validate_pattern};
use crate::events::{Consumer, Envelope, HandlerError};

/// Consecutive message-stream errors before re-creating the subscription.
const MAX_STREAM_ERRORS: u32 = 5;
/// Longest `Vigie-Error` header.
const MAX_ERROR_HEADER: usize = 512;

/// Header naming the reason of a dead letter.
pub const ERROR_HEADER: &str = "Vigie-Error";
/// Header naming the consumer that dead-lettered a message.
pub const CONSUMER_HEADER: &str = "Vigie-Consumer";
/// Header holding the subject a dead letter was originally published on.
pub const ORIGINAL_SUBJECT_HEADER: &str = "Vigie-Original-Subject";
/// Header holding how many times the message had been delivered when it was
/// dead-lettered.
pub const DELIVERIES_HEADER: &str = "Vigie-Deliveries";
/// Header holding when the message was dead-lettered (RFC 3339).
pub const FAILED_AT_HEADER: &str = "Vigie-Failed-At";
/// Header of a replayed dead letter: the only consumer that processes it.
pub const REPLAY_FOR_HEADER: &str = "Vigie-Replay-For";

/// Tuning of a JetStream consumer.
#[derive(Debug, Clone)]
pub struct ConsumerOptions {
    /// How long the server waits for an ack before redelivering (extended
    /// while the handler runs).
    pub ack_wait: Duration,
    /// Messages requested per pull, and most messages applied in one
    /// transaction: those already received are processed together
    /// ([`Consumer::process_batch`]) without waiting for more, so a lone
    /// event is not delayed.
    pub batch: usize,
    /// Nak delay after the first failed delivery; doubles per delivery.
    pub retry_initial: Duration,
    /// Longest nak delay.
    pub retry_max: Duration,
    /// Lifetime of a pull request.
    pub pull_expires: Duration,
    /// Idle heartbeat requested from the server (at most half of
    /// `pull_expires`); missing heartbeats reveal a dead connection.
    pub heartbeat: Duration,
    /// Longest wait between two attempts to (re)subscribe.
    pub resubscribe_max: Duration,
    /// Deadline for a dead-letter publication to be confirmed.
    pub publish_timeout: Duration,
    /// Where a message really comes from, read from headers the server
    /// writes (the national stream: `Nats-Stream-Source`), when the producer
    /// cannot be trusted to say it: the handler sees it as the envelope's
    /// `subject`; a message without a known origin is dead-lettered.
    pub origin: Option<OriginCheck>,
}

/// Reads a message's origin from its NATS headers, `None` when unknown.
pub type OriginFn = dyn Fn(Option<&async_nats::HeaderMap>) -> Option<String> + Send + Sync;

/// The origin of a message from its NATS headers, `None` when unknown.
#[derive(Clone)]
pub struct OriginCheck(pub Arc<OriginFn>);

impl std::fmt::Debug for OriginCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OriginCheck(…)")
    }
}

impl Default for ConsumerOptions {
    fn default() -> Self {
        ConsumerOptions {
            ack_wait: Duration::from_secs(30),
            batch: 1_000,
            retry_initial: Duration::from_secs(1),
            retry_max: Duration::from_secs(60),
            pull_expires: Duration::from_secs(30),
            heartbeat: Duration::from_secs(5),
            resubscribe_max: Duration::from_secs(5),
            publish_timeout: Duration::from_secs(10),
            origin: None,
        }
    }
}

/// Configuration errors of a consumer (not retried).
#[derive(Debug, thiserror::Error)]
pub enum ConsumerError {
    /// Invalid name or event type.
    #[error("invalid consumer: {0}")]
    Invalid(String),
    /// None of the handler's event types is carried by the stream.
    #[error("consumer {consumer} wants no subject of stream {stream}")]
    NoSubjects {
        /// Consumer name.
        consumer: String,
        /// Stream name.
        stream: String,
    },
}

/// The single filter subject (nats-server 2.9 supports only one per
/// consumer) covering `event_types`: the type itself when there is one,
/// otherwise their longest common prefix of tokens followed by `>`, e.g.
/// `vigie.inventory.structure.>`. Messages of other types that the wildcard
/// lets through are acknowledged without calling the handler. Keeping one
/// durable per handler and stream (rather than one per type) keeps the
/// stream's order across the handler's types.
pub fn filter_subject(event_types: &[String]) -> Option<String> {
    let mut types: Vec<&str> = event_types.iter().map(String::as_str).collect();
    types.sort_unstable();
    types.dedup();
    match types.as_slice() {
        [] => None,
        [single] => Some((*single).to_owned()),
        many => {
            let tokenised: Vec<Vec<&str>> = many.iter().map(|t| t.split('.').collect()).collect();
            // Leave at least one token to `>` (which matches one or more).
            let shortest = tokenised.iter().map(Vec::len).min().unwrap_or(0);
            let mut prefix = Vec::new();
            for index in 0..shortest.saturating_sub(1) {
                let token = tokenised[0][index];
                if token == "*" || token == ">" || tokenised.iter().any(|t| t[index] != token) {
                    break;
                }
                prefix.push(token);
            }
            prefix.push(">");
            Some(prefix.join("."))
        }
    }
}

/// The durable pull consumer configuration used for `name`.
pub fn consumer_config(name: &str, filter_subject: &str, options: &ConsumerOptions) -> pull::Config {
    pull::Config {
        durable_name: Some(name.to_owned()),
        description: Some(format!("vigie consumer {name}")),
        filter_subject: filter_subject.to_owned(),
        deliver_policy: DeliverPolicy::All,
        ack_policy: AckPolicy::Explicit,
        ack_wait: options.ack_wait,
        // Transient failures are retried forever; permanent ones are
        // dead-lettered by our code, not by the server.
        max_deliver: -1,
        // Unacknowledged messages the server lets out: a batch settling, the
        // next being applied and the pulls' prefetch (up to 1.5 batches)
        // together. Under the server's default (1,000), the server held
        // the prefetch back until a batch was acknowledged
        // (docs/benchmarks.md, « Consumers »).
        max_ack_pending: max_ack_pending(options.batch),
        ..Default::default()
    }
}

/// Unacknowledged messages allowed for batches of `batch`: four of them.
fn max_ack_pending(batch: usize) -> i64 {
    i64::try_from(batch.max(1).saturating_mul(4)).unwrap_or(i64::MAX)
}

/// Creates the durable consumer `name` on `stream`, or updates it, or — if
/// the server refuses the update (2.9 cannot change every field) — uses the
/// existing one as it is.
///
/// # Errors
/// When the consumer can neither be created nor fetched.
pub async fn ensure_consumer(
    stream: &jetstream::stream::Stream,
    name: &str,
    filter_subject: &str,
    options: &ConsumerOptions,
) -> Result<PullConsumer, NatsConsumerError> {
    match stream
        .create_consumer(consumer_config(name, filter_subject, options))
        .await
    {
        Ok(consumer) => Ok(consumer),
        Err(create_error) => match stream.get_consumer::<pull::Config>(name).await {
            Ok(existing) => {
                tracing::warn!(
                    consumer = %name,
                    error = %create_error,
                    "could not update the durable consumer, using it as configured"
                );
                Ok(existing)
            }
            Err(_) => Err(create_error),
        },
    }
}

/// Consumes the events of `consumer`'s types carried by stream
/// `stream_name`, until `shutdown` is cancelled. Broker outages are waited
/// out (reconnection, re-subscription with backoff); only configuration
/// errors end it early.
///
/// The durable consumer is named after the handler, filtered with
/// [`filter_subject`] on the handler's types that the stream carries.
///
/// # Errors
/// [`ConsumerError`] when the handler's name or types are invalid, or the
/// stream carries none of its types.
pub async fn run_jetstream_consumer(
    js: jetstream::Context,
    stream_name: impl Into<String>,
    consumer: Consumer,
    options: ConsumerOptions,
    shutdown: CancellationToken,
) -> Result<(), ConsumerError> {
    validate_consumer_name(consumer.name()).map_err(ConsumerError::Invalid)?;
    for event_type in consumer.event_types() {
        validate_pattern(&event_type).map_err(ConsumerError::Invalid)?;
    }
    let worker = Worker {
        js,
        stream: stream_name.into(),
        consumer,
        options,
    };
    // Backlog gauges, sampled while this function runs (aborted on return).
    let _lag = super::lag::watch(
        worker.js.clone(),
        worker.stream.clone(),
        worker.consumer.name().to_owned(),
        shutdown.clone(),
    );
    let mut backoff = Backoff::new(Duration::from_millis(100), worker.options.resubscribe_max);
    loop {
        if shutdown.is_cancelled() {
            return Ok(());
        }
        match worker.subscribe().await {
            Ok((messages, wanted)) => {
                backoff.reset();
                tracing::info!(consumer = %worker.consumer.name(), stream = %worker.stream, "consumer subscribed");
                if let Flow::Stop = worker.consume(messages, &wanted, &shutdown).await {
                    worker.flush_acks().await;
                    tracing::info!(consumer = %worker.consumer.name(), "consumer stopped");
                    return Ok(());
                }
            }
            Err(Subscribe::Fatal(error)) => return Err(error),
            Err(Subscribe::Retry(error)) => tracing::warn!(
                consumer = %worker.consumer.name(),
                stream = %worker.stream,
                error = %error,
                "consumer subscription failed, will retry"
            ),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            _ = tokio::time::sleep(backoff.next_delay()) => {}
        }
    }
}

/// Runs [`run_jetstream_consumer`] on every stream holding one of
/// `consumer`'s event types (`vigie.<service>.…` → `VIGIE_<SERVICE>`), with a
/// durable of the handler's name on each.
///
/// # Errors
/// [`ConsumerError`] when a type does not follow the `vigie.<service>.…`
/// scheme, or as [`run_jetstream_consumer`].
pub async fn run_jetstream_consumers(
    js: jetstream::Context,
    consumer: Consumer,
    options: ConsumerOptions,
    shutdown: CancellationToken,
) -> Result<(), ConsumerError> {
    let mut streams = Vec::new();
    for event_type in consumer.event_types() {
        let stream = stream_for_event_type(&event_type)
            .ok_or_else(|| ConsumerError::Invalid(format!("{event_type:?} is not a vigie.<service>.… event type")))?;
        if !streams.contains(&stream) {
            streams.push(stream);
        }
    }
    let runs = streams
        .into_iter()
        .map(|stream| run_jetstream_consumer(js.clone(), stream, consumer.clone(), options.clone(), shutdown.clone()));
    futures::future::try_join_all(runs).await.map(|_| ())
}

enum Flow {
    Stop,
    Resubscribe,
}

enum Subscribe {
    Fatal(ConsumerError),
    Retry(String),
}

/// A message applied (or not) by the handler, waiting to be settled.
struct Applied {
    message: jetstream::Message,
    envelope: Envelope,
    result: Result<crate::events::Outcome, HandlerError>,
}

/// Drives the settlement of a batch to its end; never ends when there is
/// none.
async fn drive_settlement(settling: &mut Option<BoxFuture<'_, ()>>) {
    match settling {
        Some(settling) => settling.await,
        None => std::future::pending().await,
    }
}

/// Awaits the settlement of a batch, if any.
async fn finish(settling: Option<BoxFuture<'_, ()>>) {
    if let Some(settling) = settling {
        settling.await;
    }
}

struct Worker {
    js: jetstream::Context,
    stream: String,
    consumer: Consumer,
    options: ConsumerOptions,
}

impl Worker {
    /// Sends what the client still buffers — the last batch's acks, which
    /// the server does not confirm — before the loop returns, within
    /// `publish_timeout` (unsent, they only make redeliveries duplicates).
    async fn flush_acks(&self) {
        let client = self.js.client();
        match tokio::time::timeout(self.options.publish_timeout, client.flush()).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::debug!(error = %error, "acks not flushed"),
            Err(_) => tracing::debug!("acks not flushed in time"),
        }
    }

    async fn subscribe(&self) -> Result<(pull::Stream, Vec<String>), Subscribe> {
        let retry = |error: &(dyn std::error::Error + 'static)| Subscribe::Retry(error_chain(error));
        let stream = self.js.get_stream(&self.stream).await.map_err(|e| retry(&e))?;
        let subjects = stream.cached_info().config.subjects.clone();
        let wanted: Vec<String> = self
            .consumer
            .event_types()
            .into_iter()
            // A stream made only of sources (the national stream) has no
            // subjects of its own: every wanted type may be in it.
            .filter(|event_type| {
                subjects.is_empty() || subjects.iter().any(|subject| subject_matches(subject, event_type))
            })
            .collect();
        let filter = filter_subject(&wanted).ok_or_else(|| {
            Subscribe::Fatal(ConsumerError::NoSubjects {
                consumer: self.consumer.name().to_owned(),
                stream: self.stream.clone(),
            })
        })?;
        let durable = ensure_consumer(&stream, self.consumer.name(), &filter, &self.options)
            .await
            .map_err(|e| retry(&e))?;
        let messages = durable
            .stream()
            .max_messages_per_batch(self.options.batch)
            .expires(self.options.pull_expires)
            .heartbeat(self.options.heartbeat)
            .messages()
            .await
            .map_err(|e| retry(&e))?;
        Ok((messages, wanted))
    }

    async fn consume(&self, messages: pull::Stream, wanted: &[String], shutdown: &CancellationToken) -> Flow {
        // What has arrived, up to `batch` messages, without waiting for more.
        let mut chunks = messages.ready_chunks(self.options.batch.max(1));
        let mut consecutive_errors = 0;
        // The acks of the last committed batch, awaited while the next batch
        // is received and applied: its effects are committed, so an ack
        // confirmed later (or lost: the redelivery is a duplicate) costs no
        // guarantee, and the transaction no longer waits for 500 round trips.
        // At most one batch is being settled.
        let mut settling: Option<BoxFuture<'_, ()>> = None;
        loop {
            let next = tokio::select! {
                biased;
                _ = shutdown.cancelled() => {
                    finish(settling).await;
                    return Flow::Stop;
                }
                () = drive_settlement(&mut settling) => {
                    settling = None;
                    continue;
                }
                // Unconstrained: tokio's cooperative budget (128 polls a
                // turn) would end a chunk at 128 ready messages.
                next = tokio::task::unconstrained(chunks.next()) => next,
            };
            let Some(chunk) = next else {
                tracing::warn!(consumer = %self.consumer.name(), "message stream ended, re-subscribing");
                finish(settling).await;
                return Flow::Resubscribe;
            };
            let mut received = Vec::with_capacity(chunk.len());
            let mut resubscribe = false;
            for item in chunk {
                match item {
                    Ok(message) => {
                        consecutive_errors = 0;
                        received.push(message);
                    }
                    Err(error) => {
                        consecutive_errors += 1;
                        tracing::warn!(
                            consumer = %self.consumer.name(),
                            error = %error,
                            consecutive_errors,
                            "error from the message stream"
                        );
                        use async_nats::jetstream::consumer::pull::MessagesErrorKind as Kind;
                        let ended = matches!(
                            error.kind(),
                            Kind::ConsumerDeleted | Kind::PushBasedConsumer | Kind::RequestLimitExceeded
                        );
                        resubscribe |= ended || consecutive_errors >= MAX_STREAM_ERRORS;
                    }
                }
            }
            // Not raced with shutdown: the in-flight batch completes, acks
            // included.
            let (applied, ()) = tokio::join!(self.apply(received, wanted), finish(settling.take()));
            settling = Some(Box::pin(self.settle_all(applied)));
            if resubscribe {
                finish(settling).await;
                return Flow::Resubscribe;
            }
        }
    }

    /// Applies the messages of one pull in one transaction; returns each
    /// admitted message with its envelope and result, to be settled.
    async fn apply(&self, messages: Vec<jetstream::Message>, wanted: &[String]) -> Vec<Applied> {
        let mut admitted = Vec::with_capacity(messages.len());
        let mut envelopes = Vec::with_capacity(messages.len());
        for message in messages {
            if let Some(envelope) = self.admit(&message, wanted).await {
                admitted.push(message);
                envelopes.push(envelope);
            }
        }
        if admitted.is_empty() {
            return Vec::new();
        }
        let mut results = self.process_extending_ack(&admitted, &envelopes).await;
        if admitted.len() > 1 {
            // A transient failure rolled back the whole batch (or stopped
            // it): apply its events one by one, so that an event failing
            // again does not hold back the others (later messages overtake a
            // nak'ed one, as without batches).
            for (index, result) in results.iter_mut().enumerate() {
                if matches!(result, Err(error) if error.is_transient()) {
                    let one = std::slice::from_ref(&admitted[index]);
                    let retried = self
                        .process_extending_ack(one, std::slice::from_ref(&envelopes[index]))
                        .await;
                    if let Some(retried) = retried.into_iter().next() {
                        *result = retried;
                    }
                }
            }
        }
        admitted
            .into_iter()
            .zip(envelopes)
            .zip(results)
            .map(|((message, envelope), result)| Applied {
                message,
                envelope,
                result,
            })
            .collect()
    }

    /// Settles every message of an applied batch (acks, dead letters and
    /// naks awaited concurrently).
    async fn settle_all(&self, applied: Vec<Applied>) {
        let settled = applied
            .iter()
            .map(|applied| self.settle(&applied.message, &applied.envelope, &applied.result));
        futures::future::join_all(settled).await;
    }

    /// The envelope of `message` when this handler must process it;
    /// otherwise settles the message (dead letter of an invalid one, ack of
    /// one not for this handler) and returns `None`.
    async fn admit(&self, message: &jetstream::Message, wanted: &[String]) -> Option<Envelope> {
        let delivered = delivery_count(message);
        let mut envelope = match Envelope::from_headers(message.headers.as_ref(), message.payload.clone()) {
            Ok(envelope) => envelope,
            Err(error) => {
                self.consumer
                    .metrics()
                    .failed(UNKNOWN_TYPE, self.consumer.name(), "invalid");
                self.dead_letter(message, None, delivered, format!("invalid envelope: {error}"))
                    .await;
                return None;
            }
        };
        if let Some(OriginCheck(origin)) = &self.options.origin {
            match origin(message.headers.as_ref()) {
                Some(known) => envelope.subject = known,
                None => {
                    self.consumer
                        .metrics()
                        .failed(&envelope.event_type, self.consumer.name(), "invalid");
                    self.dead_letter(message, Some(&envelope), delivered, "unknown origin".to_owned())
                        .await;
                    return None;
                }
            }
        }
        if delivered > 1 {
            self.consumer
                .metrics()
                .redelivered(&envelope.event_type, self.consumer.name());
        }
        let replay_for_other = message
            .headers
            .as_ref()
            .and_then(|headers| headers.get(REPLAY_FOR_HEADER))
            .is_some_and(|target| target.as_str() != self.consumer.name());
        if replay_for_other
            || !wanted
                .iter()
                .any(|pattern| subject_matches(pattern, &envelope.event_type))
        {
            // Let through by the wildcard filter, or replayed for another
            // consumer: not for this handler.
            if let Err(error) = message.ack().await {
                tracing::debug!(error = %error, "ack of a skipped message failed");
            }
            return None;
        }
        Some(envelope)
    }

    /// Acks, dead-letters or naks `message` after its processing.
    async fn settle(
        &self,
        message: &jetstream::Message,
        envelope: &Envelope,
        result: &Result<crate::events::Outcome, HandlerError>,
    ) {
        let delivered = delivery_count(message);
        match result {
            Ok(outcome) => {
                if let Err(error) = message.ack().await {
                    tracing::warn!(
                        consumer = %self.consumer.name(),
                        event_id = %envelope.id,
                        ?outcome,
                        error = %error,
                        "ack not confirmed, the redelivery will be skipped as a duplicate"
                    );
                }
            }
            Err(HandlerError::Permanent(error)) => {
                let reason = format!("permanent failure: {error:#}");
                self.dead_letter(message, Some(envelope), delivered, reason).await;
            }
            Err(HandlerError::Transient(error)) => {
                let attempt = u32::try_from(delivered.saturating_sub(1)).unwrap_or(u32::MAX);
                let delay = exponential(self.options.retry_initial, self.options.retry_max, attempt);
                self.consumer
                    .metrics()
                    .retried(&envelope.event_type, self.consumer.name());
                tracing::warn!(
                    consumer = %self.consumer.name(),
                    event_id = %envelope.id,
                    event_type = %envelope.event_type,
                    delivered,
                    retry_in = ?delay,
                    error = %format!("{error:#}"),
                    "event handling failed, will retry"
                );
                if let Err(error) = message.ack_with(AckKind::Nak(Some(delay))).await {
                    tracing::debug!(error = %error, "nak failed, the server redelivers after ack_wait");
                }
            }
        }
    }

    /// Runs the handler on the batch, telling the server every half
    /// `ack_wait` that its messages are still being worked on.
    async fn process_extending_ack(
        &self,
        messages: &[jetstream::Message],
        envelopes: &[Envelope],
    ) -> Vec<Result<crate::events::Outcome, HandlerError>> {
        let process = self.consumer.process_batch(envelopes);
        tokio::pin!(process);
        let period = (self.options.ack_wait / 2).max(Duration::from_millis(100));
        let mut progress = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        loop {
            tokio::select! {
                results = &mut process => return results,
                _ = progress.tick() => {
                    let extend = messages.iter().map(|message| message.ack_with(AckKind::Progress));
                    for result in futures::future::join_all(extend).await {
                        if let Err(error) = result {
                            tracing::debug!(error = %error, "progress ack failed");
                        }
                    }
                }
            }
        }
    }

    /// Publishes `message` to `vigie.deadletter.<consumer>` and terminates
    /// it; naks it if the dead letter is not confirmed.
    async fn dead_letter(
        &self,
        message: &jetstream::Message,
        envelope: Option<&Envelope>,
        delivered: i64,
        reason: String,
    ) {
        let name = self.consumer.name();
        let reason: String = header_value(&reason).chars().take(MAX_ERROR_HEADER).collect();
        // Unique per consumer, event and stored message, so a repeated
        // attempt is deduplicated, but two consumers' dead letters of one
        // event are both kept, and so is the dead letter of a replay that
        // failed again (the replay is a new message in the stream).
        let key = match (envelope, message.info()) {
            (Some(envelope), Ok(info)) => format!("{}.{}", envelope.id, info.stream_sequence),
            (Some(envelope), Err(_)) => envelope.id.to_string(),
            (None, Ok(info)) => format!("{}-{}", info.stream, info.stream_sequence),
            (None, Err(_)) => uuid::Uuid::now_v7().to_string(),
        };
        let mut headers = without_publish_conditions(message.headers.as_ref());
        headers.insert(ERROR_HEADER, reason.as_str());
        headers.insert(CONSUMER_HEADER, name);
        headers.insert(ORIGINAL_SUBJECT_HEADER, header_value(message.subject.as_str()));
        headers.insert(DELIVERIES_HEADER, delivered.to_string());
        headers.insert(FAILED_AT_HEADER, format_time(&now()));
        headers.insert(async_nats::header::NATS_MESSAGE_ID, format!("{name}.{key}"));
        let subject = format!("{DEAD_LETTER_PREFIX}.{name}");
        let publish = async {
            let ack = self
                .js
                .publish_with_headers(subject, headers, message.payload.clone())
                .await?;
            ack.await.map_err(async_nats::Error::from)
        };
        let event_type = envelope.map_or(UNKNOWN_TYPE, |e| e.event_type.as_str());
        let event_id = envelope.map(|e| e.id.to_string()).unwrap_or_default();
        match tokio::time::timeout(self.options.publish_timeout, publish).await {
            Ok(Ok(_)) => {
                tracing::error!(consumer = %name, event_id, event_type, reason = %reason, "event dead-lettered");
                self.consumer.metrics().failed(event_type, name, "dead_letter");
                self.consumer.metrics().dead_lettered(name);
                if let Err(error) = message.double_ack_with(AckKind::Term).await {
                    tracing::warn!(error = %error, "term not confirmed, the redelivery will be dead-lettered again");
                }
            }
            outcome => {
                let error = match outcome {
                    Ok(Err(error)) => error.to_string(),
                    _ => "no confirmation in time".to_owned(),
                };
                tracing::error!(
                    consumer = %name,
                    event_id,
                    event_type,
                    error = %error,
                    "could not store the dead letter, will retry"
                );
                if let Err(error) = message.ack_with(AckKind::Nak(Some(self.options.retry_max))).await {
                    tracing::debug!(error = %error, "nak failed, the server redelivers after ack_wait");
                }
            }
        }
    }
}

/// How many times `message` has been delivered (1 when unknown).
fn delivery_count(message: &jetstream::Message) -> i64 {
    message.info().map(|info| info.delivered).unwrap_or(1)
}

/// `headers` without the `Nats-Expected-*` conditions the message was
/// published with (a batch's messages carry `Nats-Expected-Last-Msg-Id`,
/// which the server stores with them).
fn without_publish_conditions(headers: Option<&async_nats::HeaderMap>) -> async_nats::HeaderMap {
    headers
        .into_iter()
        .flat_map(async_nats::HeaderMap::iter)
        .filter(|(name, _)| {
            !AsRef::<str>::as_ref(*name)
                .to_ascii_lowercase()
                .starts_with("nats-expected-")
        })
        .flat_map(|(name, values)| values.iter().map(move |value| (name.clone(), value.clone())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::filter_subject;

    fn types(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn one_filter_subject_covers_several_types() {
        assert_eq!(filter_subject(&[]), None);
        assert_eq!(
            filter_subject(&types(&["vigie.a.b.c.v1"])).as_deref(),
            Some("vigie.a.b.c.v1")
        );
        assert_eq!(
            filter_subject(&types(&[
                "vigie.inventory.structure.inventoried.v1",
                "vigie.inventory.structure.fragility_assessed.v1"
            ]))
            .as_deref(),
            Some("vigie.inventory.structure.>")
        );
        assert_eq!(
            filter_subject(&types(&[
                "vigie.inventory.person.erased.v1",
                "vigie.inventory.structure.inventoried.v1"
            ]))
            .as_deref(),
            Some("vigie.inventory.>")
        );
        assert_eq!(
            filter_subject(&types(&["vigie.a.b", "vigie.a.b"])).as_deref(),
            Some("vigie.a.b")
        );
        assert_eq!(
            filter_subject(&types(&["vigie.a", "vigie.a.b"])).as_deref(),
            Some("vigie.>")
        );
        assert_eq!(
            filter_subject(&types(&["vigie.*.x.v1", "vigie.a.y.v1"])).as_deref(),
            Some("vigie.>")
        );
    }
}
