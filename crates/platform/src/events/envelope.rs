//! The CloudEvents 1.0 envelope and its binary-mode mapping onto NATS
//! headers.
//!
//! In binary content mode the event data (our protobuf payload) is the
//! message body and every context attribute is a header, so a consumer can
//! route, deduplicate and trace without decoding the payload, and any
//! CloudEvents-aware tool can read the stream. Header names:
//!
//! | attribute | header |
//! |---|---|
//! | specversion | `ce-specversion: 1.0` |
//! | id | `ce-id` (UUIDv7), also `Nats-Msg-Id` for JetStream deduplication |
//! | type | `ce-type` — also the NATS subject |
//! | source | `ce-source`, e.g. `/vigie/inventory` |
//! | subject | `ce-subject`: id of the structure (or other entity) concerned |
//! | time | `ce-time`, RFC 3339 UTC |
//! | datacontenttype | `content-type: application/protobuf` |
//! | (distributed tracing) | `traceparent` (W3C) |
//!
//! A message with a missing or invalid required attribute cannot be routed
//! or deduplicated: [`Envelope::from_headers`] rejects it and consumers treat
//! it as poison (dead letter).

use async_nats::HeaderMap;
use bytes::Bytes;
use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};
use uuid::Uuid;

use super::trace;

/// CloudEvents specification version we produce and accept.
pub const SPEC_VERSION: &str = "1.0";
/// `datacontenttype` of every Vigie event.
pub const CONTENT_TYPE: &str = "application/protobuf";

/// Header names of the binary content mode.
pub mod header {
    /// `specversion`.
    pub const SPECVERSION: &str = "ce-specversion";
    /// `id`.
    pub const ID: &str = "ce-id";
    /// `type`.
    pub const TYPE: &str = "ce-type";
    /// `source`.
    pub const SOURCE: &str = "ce-source";
    /// `subject`.
    pub const SUBJECT: &str = "ce-subject";
    /// `time`.
    pub const TIME: &str = "ce-time";
    /// `datacontenttype`.
    pub const CONTENT_TYPE: &str = "content-type";
    /// W3C trace context.
    pub const TRACEPARENT: &str = "traceparent";
    /// JetStream deduplication id (= `ce-id`).
    pub const NATS_MSG_ID: &str = "Nats-Msg-Id";
}

/// One event with its CloudEvents context attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// `ce-id`: UUIDv7, unique per event; the idempotency key everywhere.
    pub id: Uuid,
    /// `ce-source`: the producing service, e.g. `/vigie/inventory`.
    pub source: String,
    /// `ce-type`, e.g. `vigie.inventory.structure.inventoried.v1`; also the
    /// NATS subject.
    pub event_type: String,
    /// `ce-subject`: id of the entity the event is about.
    pub subject: String,
    /// `ce-time`: when the event happened (microsecond precision).
    pub time: DateTime<Utc>,
    /// W3C `traceparent` of the operation that produced the event.
    pub traceparent: Option<String>,
    /// The protobuf-encoded event (`application/protobuf`).
    pub payload: Bytes,
}

/// Why a message is not a valid Vigie CloudEvent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    /// The message carries no headers at all.
    #[error("message has no headers (not a binary-mode cloudevent)")]
    NoHeaders,
    /// A required attribute is absent or empty.
    #[error("missing cloudevents attribute {0}")]
    Missing(&'static str),
    /// An attribute has an unacceptable value.
    #[error("invalid cloudevents attribute {attribute}: {reason}")]
    Invalid {
        /// Header name.
        attribute: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}

impl Envelope {
    /// A new event happening now, with a fresh UUIDv7 and no trace context.
    pub fn new(
        source: impl Into<String>,
        event_type: impl Into<String>,
        subject: impl Into<String>,
        payload: impl Into<Bytes>,
    ) -> Envelope {
        Envelope {
            id: Uuid::now_v7(),
            source: source.into(),
            event_type: event_type.into(),
            subject: subject.into(),
            time: now(),
            traceparent: None,
            payload: payload.into(),
        }
    }

    /// The NATS headers of the binary content mode, including
    /// `Nats-Msg-Id` = `ce-id`.
    pub fn to_headers(&self) -> HeaderMap {
        let id = self.id.to_string();
        let mut headers = HeaderMap::new();
        headers.insert(header::SPECVERSION, SPEC_VERSION);
        headers.insert(header::ID, id.as_str());
        headers.insert(header::TYPE, header_value(&self.event_type));
        headers.insert(header::SOURCE, header_value(&self.source));
        headers.insert(header::SUBJECT, header_value(&self.subject));
        headers.insert(header::TIME, format_time(&self.time).as_str());
        headers.insert(header::CONTENT_TYPE, CONTENT_TYPE);
        if let Some(traceparent) = &self.traceparent {
            headers.insert(header::TRACEPARENT, header_value(traceparent));
        }
        headers.insert(header::NATS_MSG_ID, id.as_str());
        headers
    }

    /// Reads an envelope back from a message's headers and body. Header
    /// names are matched case-insensitively. An invalid `traceparent` is
    /// dropped rather than rejected: tracing must never make an event poison.
    ///
    /// # Errors
    /// [`EnvelopeError`] when a required attribute (`ce-specversion` 1.0,
    /// `ce-id` UUID, `ce-type`, `ce-source`, `ce-subject`, `ce-time` RFC 3339)
    /// is missing or invalid, or `content-type` is present but not
    /// `application/protobuf`.
    pub fn from_headers(headers: Option<&HeaderMap>, payload: Bytes) -> Result<Envelope, EnvelopeError> {
        let headers = headers.ok_or(EnvelopeError::NoHeaders)?;
        let specversion = required(headers, header::SPECVERSION)?;
        if specversion != SPEC_VERSION {
            return Err(invalid(
                header::SPECVERSION,
                format!("unsupported version {specversion:?}"),
            ));
        }
        let id = required(headers, header::ID)?;
        let id = Uuid::parse_str(id).map_err(|error| invalid(header::ID, error.to_string()))?;
        let event_type = required(headers, header::TYPE)?.to_owned();
        let source = required(headers, header::SOURCE)?.to_owned();
        let subject = required(headers, header::SUBJECT)?.to_owned();
        let time = required(headers, header::TIME)?;
        let time = DateTime::parse_from_rfc3339(time)
            .map_err(|error| invalid(header::TIME, error.to_string()))?
            .with_timezone(&Utc);
        if let Some(content_type) = optional(headers, header::CONTENT_TYPE) {
            if content_type != CONTENT_TYPE {
                return Err(invalid(
                    header::CONTENT_TYPE,
                    format!("expected {CONTENT_TYPE}, got {content_type:?}"),
                ));
            }
        }
        let traceparent = optional(headers, header::TRACEPARENT)
            .filter(|value| trace::is_traceparent(value))
            .map(str::to_owned);
        Ok(Envelope {
            id,
            source,
            event_type,
            subject,
            time,
            traceparent,
            payload,
        })
    }
}

/// Now, truncated to the microsecond precision we store and transmit, so
/// that an envelope survives a round trip unchanged.
pub(crate) fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// RFC 3339 UTC with microseconds: fixed width, so text order = time order.
pub(crate) fn format_time(time: &DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// A header value cannot hold CR or LF (the NATS client would panic): values
/// are validated when events are appended, this is a last line of defence.
pub(crate) fn header_value(value: &str) -> String {
    value.replace(['\r', '\n'], " ")
}

fn lookup<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(key, _)| AsRef::<str>::as_ref(*key).eq_ignore_ascii_case(name))
        .and_then(|(_, values)| values.first())
        .map(|value| value.as_str())
}

fn optional<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    lookup(headers, name).map(str::trim).filter(|value| !value.is_empty())
}

fn required<'a>(headers: &'a HeaderMap, name: &'static str) -> Result<&'a str, EnvelopeError> {
    optional(headers, name).ok_or(EnvelopeError::Missing(name))
}

fn invalid(attribute: &'static str, reason: String) -> EnvelopeError {
    EnvelopeError::Invalid { attribute, reason }
}
