//! CloudEvents binary mode on NATS headers.

use async_nats::HeaderMap;
use bytes::Bytes;
use vigie_platform::events::{header, Envelope, EnvelopeError};

fn sample() -> Envelope {
    let mut envelope = Envelope::new(
        "/vigie/inventory",
        "vigie.inventory.structure.inventoried.v1",
        "0190f5a2-0000-7000-8000-000000000001",
        Bytes::from_static(b"\x08\x01protobuf"),
    );
    envelope.traceparent = Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_owned());
    envelope
}

#[test]
fn round_trips_through_headers() {
    let envelope = sample();
    let headers = envelope.to_headers();
    assert_eq!(headers.get(header::SPECVERSION).map(|v| v.as_str()), Some("1.0"));
    assert_eq!(
        headers.get(header::CONTENT_TYPE).map(|v| v.as_str()),
        Some("application/protobuf")
    );
    assert_eq!(
        headers.get(header::NATS_MSG_ID).map(|v| v.as_str()),
        Some(envelope.id.to_string().as_str())
    );
    assert_eq!(
        headers.get(header::ID).map(|v| v.as_str()),
        Some(envelope.id.to_string().as_str())
    );
    let time = headers.get(header::TIME).unwrap().as_str().to_owned();
    assert!(
        time.ends_with('Z') && chrono::DateTime::parse_from_rfc3339(&time).is_ok(),
        "{time}"
    );

    let parsed = Envelope::from_headers(Some(&headers), envelope.payload.clone()).unwrap();
    assert_eq!(parsed, envelope);
}

#[test]
fn round_trips_without_traceparent() {
    let mut envelope = sample();
    envelope.traceparent = None;
    let headers = envelope.to_headers();
    assert!(headers.get(header::TRACEPARENT).is_none());
    assert_eq!(
        Envelope::from_headers(Some(&headers), envelope.payload.clone()).unwrap(),
        envelope
    );
}

#[test]
fn header_names_are_case_insensitive() {
    let envelope = sample();
    let mut headers = HeaderMap::new();
    for (name, values) in envelope.to_headers().iter() {
        let name: &str = name.as_ref();
        headers.insert(name.to_uppercase().as_str(), values[0].as_str());
    }
    assert_eq!(
        Envelope::from_headers(Some(&headers), envelope.payload.clone()).unwrap(),
        envelope
    );
}

/// The headers of `sample()` with one replaced (`Some`) or removed (`None`).
fn with(name: &str, value: Option<&str>) -> Result<Envelope, EnvelopeError> {
    let envelope = sample();
    let mut headers = HeaderMap::new();
    for (key, values) in envelope.to_headers().iter() {
        let key: &str = key.as_ref();
        if key != name {
            headers.insert(key, values[0].as_str());
        }
    }
    if let Some(value) = value {
        headers.insert(name, value);
    }
    Envelope::from_headers(Some(&headers), envelope.payload)
}

#[test]
fn rejects_missing_required_attributes() {
    for name in [
        header::SPECVERSION,
        header::ID,
        header::TYPE,
        header::SOURCE,
        header::SUBJECT,
        header::TIME,
    ] {
        assert_eq!(with(name, None), Err(EnvelopeError::Missing(name)), "{name}");
        assert_eq!(
            with(name, Some("  ")),
            Err(EnvelopeError::Missing(name)),
            "{name} blank"
        );
    }
    assert_eq!(
        Envelope::from_headers(None, Bytes::new()),
        Err(EnvelopeError::NoHeaders)
    );
}

#[test]
fn rejects_invalid_attributes() {
    let invalid = |result: Result<Envelope, EnvelopeError>, expected: &str| match result {
        Err(EnvelopeError::Invalid { attribute, .. }) => assert_eq!(attribute, expected),
        other => panic!("expected {expected} to be invalid, got {other:?}"),
    };
    invalid(with(header::SPECVERSION, Some("0.3")), header::SPECVERSION);
    invalid(with(header::ID, Some("not-a-uuid")), header::ID);
    invalid(with(header::TIME, Some("yesterday")), header::TIME);
    invalid(
        with(header::CONTENT_TYPE, Some("application/json")),
        header::CONTENT_TYPE,
    );
}

#[test]
fn optional_attributes_may_be_absent_or_bad() {
    // content-type absent: protobuf is the only data content type we use.
    assert!(with(header::CONTENT_TYPE, None).is_ok());
    // A malformed traceparent is dropped: tracing never makes an event poison.
    assert_eq!(with(header::TRACEPARENT, Some("garbage")).unwrap().traceparent, None);
    assert_eq!(with(header::TRACEPARENT, None).unwrap().traceparent, None);
}
