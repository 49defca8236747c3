//! Dead letters in distributed mode: list and replay from the
//! `VIGIE_DEADLETTER` stream.
//!
//! The operator's tool talks to NATS directly, with the operator's NATS
//! credentials, rather than through a service RPC: the dead letters live in
//! the broker, and replaying one is a publication, which is exactly what the
//! broker offers. No service needs a new admin surface.
//!
//! Replay of the dead letter of consumer `C` for event `E`:
//! 1. the stored copy's headers are taken back (CloudEvents attributes,
//!    `traceparent`), minus the `Vigie-*` dead-letter headers, plus
//!    `Vigie-Replay-For: C` and a fresh `Nats-Msg-Id` (the original one is
//!    in the duplicate window or long gone);
//! 2. the message is published again on its original subject, in its
//!    original stream, and the `PubAck` awaited;
//! 3. only then is the dead letter deleted from `VIGIE_DEADLETTER`.
//!
//! Every durable consumer of the subject receives the copy, but only `C`
//! handles it: the others acknowledge a message replayed for someone else
//! without calling their handler (see `consumer.rs`). `C` applies it once
//! (its inbox makes a second copy harmless). Should it fail permanently
//! again, it is dead-lettered again, as a new dead letter. A crash between
//! 2 and 3 leaves the dead letter listed although replayed; replaying it
//! again is harmless (the inbox answers duplicate).

use async_nats::jetstream::{self, context::GetStreamErrorKind, stream::LastRawMessageErrorKind, ErrorCode};
use async_nats::HeaderMap;

use super::consumer::{
    CONSUMER_HEADER, DELIVERIES_HEADER, ERROR_HEADER, FAILED_AT_HEADER, ORIGINAL_SUBJECT_HEADER, REPLAY_FOR_HEADER,
};
use super::DEAD_LETTER_STREAM;
use crate::events::envelope::header;
use crate::events::DeadLetter;

/// Most dead letters read by [`list`]: beyond that, something else is wrong
/// and `nats stream view` is the better tool.
pub const MAX_LISTED: usize = 10_000;

/// Errors listing or replaying dead letters.
#[derive(Debug, thiserror::Error)]
pub enum DeadLetterError {
    /// No dead letter of this consumer for this event.
    #[error("no dead letter of consumer {consumer} for event {event_id}")]
    NotFound {
        /// Consumer asked for.
        consumer: String,
        /// Event asked for.
        event_id: String,
    },
    /// The dead letter does not say where it came from.
    #[error("dead letter {sequence} has no {ORIGINAL_SUBJECT_HEADER} header")]
    NoOriginalSubject {
        /// Its sequence in `VIGIE_DEADLETTER`.
        sequence: u64,
    },
    /// NATS refused or did not answer.
    #[error("nats: {action}")]
    Nats {
        /// What was being done.
        action: &'static str,
        /// The client's error.
        #[source]
        source: async_nats::Error,
    },
}

fn nats(action: &'static str) -> impl FnOnce(async_nats::Error) -> DeadLetterError {
    move |source| DeadLetterError::Nats { action, source }
}

/// A dead letter with where it is stored.
struct Stored {
    sequence: u64,
    message: jetstream::message::StreamMessage,
}

/// Every dead letter of the `VIGIE_DEADLETTER` stream (at most
/// [`MAX_LISTED`]), oldest first; none when the stream does not exist.
///
/// # Errors
/// [`DeadLetterError::Nats`] when the server does not answer.
pub async fn list(js: &jetstream::Context) -> Result<Vec<DeadLetter>, DeadLetterError> {
    Ok(stored(js).await?.iter().map(describe).collect())
}

/// Re-delivers the dead letter of `consumer` for `event_id` to that consumer
/// (the most recent one if there are several), then deletes it; returns
/// the dead letter that was replayed.
///
/// # Errors
/// [`DeadLetterError::NotFound`] when there is no such dead letter;
/// [`DeadLetterError::Nats`] when publishing or deleting fails (a dead
/// letter whose publication was not confirmed is kept).
pub async fn replay(js: &jetstream::Context, consumer: &str, event_id: &str) -> Result<DeadLetter, DeadLetterError> {
    let found = stored(js)
        .await?
        .into_iter()
        .filter(|stored| {
            let headers = &stored.message.headers;
            get(headers, CONSUMER_HEADER).as_deref() == Some(consumer)
                && get(headers, header::ID).as_deref() == Some(event_id)
        })
        .max_by_key(|stored| stored.sequence)
        .ok_or_else(|| DeadLetterError::NotFound {
            consumer: consumer.to_owned(),
            event_id: event_id.to_owned(),
        })?;
    let subject = get(&found.message.headers, ORIGINAL_SUBJECT_HEADER).ok_or(DeadLetterError::NoOriginalSubject {
        sequence: found.sequence,
    })?;
    let mut headers: HeaderMap = found
        .message
        .headers
        .iter()
        .filter(|(name, _)| {
            let name = AsRef::<str>::as_ref(*name).to_ascii_lowercase();
            !name.starts_with("vigie-") && name != header::NATS_MSG_ID.to_ascii_lowercase()
        })
        .flat_map(|(name, values)| values.iter().map(move |value| (name.clone(), value.clone())))
        .collect();
    headers.insert(REPLAY_FOR_HEADER, consumer);
    headers.insert(
        header::NATS_MSG_ID,
        format!("replay.{consumer}.{event_id}.{}", found.sequence),
    );
    js.publish_with_headers(subject, headers, found.message.payload.clone())
        .await
        .map_err(|e| nats("publishing the replay")(e.into()))?
        .await
        .map_err(|e| nats("confirming the replay")(e.into()))?;
    let stream = js
        .get_stream(DEAD_LETTER_STREAM)
        .await
        .map_err(|e| nats("opening the dead-letter stream")(e.into()))?;
    stream
        .delete_message(found.sequence)
        .await
        .map_err(|e| nats("deleting the replayed dead letter")(e.into()))?;
    tracing::info!(consumer, event_id, sequence = found.sequence, "dead letter replayed");
    Ok(describe(&found))
}

async fn stored(js: &jetstream::Context) -> Result<Vec<Stored>, DeadLetterError> {
    let mut stream = match js.get_stream(DEAD_LETTER_STREAM).await {
        Ok(stream) => stream,
        Err(error) if matches!(error.kind(), GetStreamErrorKind::JetStream(e) if e.error_code() == ErrorCode::STREAM_NOT_FOUND) => {
            return Ok(Vec::new())
        }
        Err(error) => return Err(nats("opening the dead-letter stream")(error.into())),
    };
    let state = stream
        .info()
        .await
        .map_err(|e| nats("reading the dead-letter stream")(e.into()))?
        .state
        .clone();
    let mut letters = Vec::new();
    if state.messages == 0 {
        return Ok(letters);
    }
    for sequence in state.first_sequence..=state.last_sequence {
        if letters.len() >= MAX_LISTED {
            break;
        }
        match stream.get_raw_message(sequence).await {
            Ok(message) => letters.push(Stored { sequence, message }),
            // Deleted (replayed) or expired meanwhile.
            Err(error) if is_missing(error.kind()) => {}
            Err(error) => return Err(nats("reading a dead letter")(error.into())),
        }
    }
    Ok(letters)
}

fn is_missing(kind: LastRawMessageErrorKind) -> bool {
    match kind {
        LastRawMessageErrorKind::NoMessageFound => true,
        LastRawMessageErrorKind::JetStream(error) => error.error_code() == ErrorCode::NO_MESSAGE_FOUND,
        _ => false,
    }
}

fn describe(stored: &Stored) -> DeadLetter {
    let headers = &stored.message.headers;
    DeadLetter {
        consumer: get(headers, CONSUMER_HEADER).unwrap_or_default(),
        event_id: get(headers, header::ID),
        event_type: get(headers, header::TYPE)
            .or_else(|| get(headers, ORIGINAL_SUBJECT_HEADER))
            .unwrap_or_default(),
        subject: get(headers, header::SUBJECT).unwrap_or_default(),
        error: get(headers, ERROR_HEADER).unwrap_or_default(),
        failed_at: get(headers, FAILED_AT_HEADER).unwrap_or_else(|| stored.message.time.to_string()),
        deliveries: get(headers, DELIVERIES_HEADER)
            .and_then(|count| count.parse().ok())
            .unwrap_or(1),
        location: format!("{DEAD_LETTER_STREAM}#{}", stored.sequence),
        replay_requested_at: None,
    }
}

fn get(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get(name).map(|value| value.as_str().to_owned())
}
