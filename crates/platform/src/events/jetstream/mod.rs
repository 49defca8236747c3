//! NATS JetStream transport (distributed mode).
//!
//! - One stream per producing service: `VIGIE_<SERVICE>` on
//!   `vigie.<service>.>`, file storage, a 2-minute duplicate window (the
//!   relay's retries carry the same `Nats-Msg-Id` and are dropped), created
//!   when missing by [`ensure_stream`] (which also ensures the dead-letter
//!   stream `VIGIE_DEADLETTER` on `vigie.deadletter.>`) with the retention
//!   of [`StreamSettings`]; an existing stream is never modified (see
//!   `streams.rs`).
//! - [`JetStreamPublisher`]: publishes with the CloudEvents headers and
//!   returns only once the `PubAck` arrived.
//! - [`run_jetstream_consumer`]: a durable pull consumer per handler and
//!   stream, explicit acks, bounded redelivery with growing delays, poison
//!   messages to `vigie.deadletter.<consumer>`.
//!
//! - [`connect_with`]: credentials file or nkey, TLS with a private CA and
//!   an optional client certificate, never a silent downgrade to cleartext
//!   ([`NatsSecurity`]).
//!
//! Server compatibility: everything here works with nats-server 2.9 (the
//! client is built without the `server_2_10+` features). The notable 2.9
//! limit is ONE filter subject per consumer; see [`run_jetstream_consumer`]
//! for how several event types are served.

mod consumer;
pub mod dead_letters;
pub mod federation;
mod lag;
mod publisher;
mod security;
mod streams;

use std::time::Duration;

use async_nats::jetstream::{self, stream};

pub use consumer::{
    consumer_config, ensure_consumer, filter_subject, run_jetstream_consumer, run_jetstream_consumers, ConsumerError,
    ConsumerOptions, OriginCheck,
};
pub use publisher::JetStreamPublisher;
pub use security::{NatsSecurity, NatsSecurityError};
pub use streams::{StreamSettings, DEFAULT_MAX_AGE};

/// Window during which JetStream drops a message whose `Nats-Msg-Id` it
/// already stored. It bounds how late a relay retry can be and still be
/// deduplicated by the broker (later ones are caught by the inboxes).
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(120);
/// Stream receiving dead letters of every consumer.
pub const DEAD_LETTER_STREAM: &str = "VIGIE_DEADLETTER";
/// Subject prefix of dead letters: `vigie.deadletter.<consumer>`.
pub const DEAD_LETTER_PREFIX: &str = "vigie.deadletter";

/// Errors setting up streams.
#[derive(Debug, thiserror::Error)]
pub enum StreamSetupError {
    /// The service name cannot form a stream name and subject.
    #[error("invalid service name {0:?}: use lowercase ASCII letters, digits and '-'")]
    InvalidService(String),
    /// The server did not say whether the stream exists.
    #[error("could not look up stream {stream}")]
    Lookup {
        /// Stream concerned.
        stream: String,
        /// The client's error.
        #[source]
        source: jetstream::context::GetStreamError,
    },
    /// The server refused or did not answer.
    #[error("could not create stream {stream}")]
    Jetstream {
        /// Stream concerned.
        stream: String,
        /// The client's error.
        #[source]
        source: jetstream::context::CreateStreamError,
    },
}

/// Errors connecting to NATS with [`connect_with`].
#[derive(Debug, thiserror::Error)]
pub enum NatsConnectError {
    /// The security settings cannot be used (see [`NatsSecurity::apply`]).
    #[error(transparent)]
    Security(#[from] NatsSecurityError),
    /// The first connection failed (unreachable, TLS handshake, refused
    /// credentials…).
    #[error(transparent)]
    Connect(#[from] async_nats::ConnectError),
}

/// Connects anonymously to NATS and returns a JetStream context; see
/// [`connect_with`].
///
/// # Errors
/// When the first connection fails (the caller decides whether to retry).
pub async fn connect(url: &str, client_name: &str) -> Result<jetstream::Context, async_nats::ConnectError> {
    connect_with(url, client_name, &NatsSecurity::default())
        .await
        .map_err(|error| match error {
            NatsConnectError::Connect(error) => error,
            // Default settings read no file and contradict nothing.
            NatsConnectError::Security(error) => {
                async_nats::ConnectError::with_source(async_nats::ConnectErrorKind::Authentication, error)
            }
        })
}

/// Connects to NATS with `security` (credentials, TLS) and returns a
/// JetStream context.
///
/// The client reconnects forever after a connection loss (retrying every
/// 50 ms doubling up to 2 s) and logs connection events. A `tls://` URL or
/// any TLS setting makes TLS mandatory.
///
/// # Errors
/// [`NatsConnectError::Security`] for unusable settings (before any
/// connection), [`NatsConnectError::Connect`] when the first connection
/// fails (the caller decides whether to retry).
pub async fn connect_with(
    url: &str,
    client_name: &str,
    security: &NatsSecurity,
) -> Result<jetstream::Context, NatsConnectError> {
    let options = async_nats::ConnectOptions::new()
        .name(client_name)
        .reconnect_delay_callback(|attempts| {
            super::backoff::exponential(Duration::from_millis(50), Duration::from_secs(2), attempts as u32)
        })
        .event_callback(|event| async move {
            match event {
                async_nats::Event::Disconnected => {
                    tracing::warn!("nats connection lost, reconnecting")
                }
                async_nats::Event::Connected => tracing::info!("nats connected"),
                other => tracing::debug!(event = %other, "nats client event"),
            }
        });
    let options = match url_credentials(url) {
        Some((user, password)) => options.user_and_password(user, password),
        None => options,
    };
    let client = security.apply(options).await?.connect(url).await?;
    Ok(jetstream::new(client))
}

/// The user and password written in a NATS URL (`nats://user:pass@host:4222`,
/// percent-decoded), which async-nats does not send by itself: without this,
/// a URL with a password fails with "authorization violation".
fn url_credentials(url: &str) -> Option<(String, String)> {
    let first = url.split(',').next()?.trim();
    let addr: async_nats::ServerAddr = first.parse().ok()?;
    let user = addr.username()?;
    Some((
        percent_decode(user),
        percent_decode(addr.password().unwrap_or_default()),
    ))
}

/// `%XX` sequences decoded (a password may hold `@`, `:` or `/`); a
/// malformed sequence is kept as written.
fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

/// Name of the stream of events produced by `service`: `VIGIE_<SERVICE>`
/// (uppercase, `-` becomes `_`).
pub fn stream_name(service: &str) -> String {
    format!("VIGIE_{}", service.to_uppercase().replace('-', "_"))
}

/// Name of the stream that holds `event_type` (`vigie.<service>.…` →
/// `VIGIE_<SERVICE>`), if it follows the naming scheme.
pub fn stream_for_event_type(event_type: &str) -> Option<String> {
    let mut tokens = event_type.split('.');
    match (tokens.next(), tokens.next()) {
        (Some("vigie"), Some(service)) if valid_service(service) => Some(stream_name(service)),
        _ => None,
    }
}

fn valid_service(service: &str) -> bool {
    !service.is_empty()
        && service != "deadletter"
        && service
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// Creates the stream of `service` and the dead-letter stream when they are
/// missing, with the default [`StreamSettings`]; see [`ensure_stream_with`].
///
/// # Errors
/// As [`ensure_stream_with`].
pub async fn ensure_stream(js: &jetstream::Context, service: &str) -> Result<(), StreamSetupError> {
    ensure_stream_with(js, service, &StreamSettings::default()).await
}

/// Creates the stream of `service` and the dead-letter stream when they are
/// missing, with the retention of `settings`. Existing streams are left
/// untouched, whatever their settings (a warning names retention settings
/// that differ from `settings`): what an operator set survives restarts.
///
/// # Errors
/// [`StreamSetupError`] when the name is invalid or the server refuses or
/// does not answer.
pub async fn ensure_stream_with(
    js: &jetstream::Context,
    service: &str,
    settings: &StreamSettings,
) -> Result<(), StreamSetupError> {
    if !valid_service(service) {
        return Err(StreamSetupError::InvalidService(service.to_owned()));
    }
    streams::create_if_missing(
        js,
        stream::Config {
            name: stream_name(service),
            description: Some(format!("events produced by the vigie {service} service")),
            subjects: vec![format!("vigie.{service}.>")],
            ..stream_defaults()
        },
        settings,
    )
    .await?;
    streams::create_if_missing(
        js,
        stream::Config {
            name: DEAD_LETTER_STREAM.to_owned(),
            description: Some("events that vigie consumers gave up on".to_owned()),
            subjects: vec![format!("{DEAD_LETTER_PREFIX}.>")],
            ..stream_defaults()
        },
        settings,
    )
    .await
}

fn stream_defaults() -> stream::Config {
    stream::Config {
        storage: stream::StorageType::File,
        retention: stream::RetentionPolicy::Limits,
        duplicate_window: DUPLICATE_WINDOW,
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_streams_after_services() {
        assert_eq!(stream_name("inventory"), "VIGIE_INVENTORY");
        assert_eq!(stream_name("crash-test"), "VIGIE_CRASH_TEST");
        assert_eq!(
            stream_for_event_type("vigie.inventory.structure.inventoried.v1").as_deref(),
            Some("VIGIE_INVENTORY")
        );
        assert_eq!(stream_for_event_type("other.inventory.x"), None);
        assert_eq!(stream_for_event_type("vigie.deadletter.x"), None);
        assert!(!valid_service("Inventory"));
        assert!(!valid_service("a.b"));
    }
}

#[cfg(test)]
mod url_tests {
    use super::{percent_decode, url_credentials};

    #[test]
    fn credentials_of_a_url_are_read_and_decoded() {
        assert_eq!(
            url_credentials("nats://inventory:s%40cr%3At@nats:4222"),
            Some(("inventory".to_owned(), "s@cr:t".to_owned()))
        );
        assert_eq!(
            url_credentials("nats://a:b@one:4222,nats://c:d@two:4222"),
            Some(("a".to_owned(), "b".to_owned()))
        );
        assert_eq!(url_credentials("nats://nats:4222"), None);
        assert_eq!(
            url_credentials("tls://user@nats:4222"),
            Some(("user".to_owned(), String::new()))
        );
    }

    #[test]
    fn percent_decoding_leaves_malformed_sequences_alone() {
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
        assert_eq!(percent_decode("é%41"), "éA");
    }
}
