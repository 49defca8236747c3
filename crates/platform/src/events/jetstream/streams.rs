//! Stream set-up at start-up: create what is missing, never rewrite what an
//! operator configured.
//!
//! Every service ensures the streams it publishes to and consumes from, so
//! services can start in any order. An earlier version called
//! `create_or_update_stream`, which reset every setting the code did not
//! name — an operator's `max_age` went back to 0 and personal data was kept
//! forever. Now:
//!
//! - a missing stream is created with the retention of [`StreamSettings`]
//!   (from configuration, defaults below);
//! - an existing stream is left exactly as it is. When its retention
//!   differs from the configuration a warning names both values: the
//!   operator changes a live stream with `nats stream edit`, on purpose,
//!   not by restarting a service.
//!
//! Two services creating the same stream at once is harmless: the loser
//! finds the stream already there and treats it as existing.

use std::time::Duration;

use async_nats::jetstream::context::{CreateStreamErrorKind, GetStreamErrorKind};
use async_nats::jetstream::{self, stream, ErrorCode};

use super::StreamSetupError;

/// Default retention of events in a stream: 30 days. Long enough for a
/// consumer down over a holiday to catch up; short enough that personal data
/// in event payloads (names, emails of people) does not live forever.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(30 * 24 * 3600);

/// Retention of the streams a service creates when they are missing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamSettings {
    /// Oldest message kept; zero keeps messages forever. Default 30 days.
    pub max_age: Duration,
    /// Largest stream size in bytes, oldest messages dropped first; -1 for
    /// no limit (the default).
    pub max_bytes: i64,
    /// Copies of each message in a JetStream cluster (1 to 5); default 1.
    pub replicas: usize,
}

impl Default for StreamSettings {
    fn default() -> Self {
        StreamSettings {
            max_age: DEFAULT_MAX_AGE,
            max_bytes: -1,
            replicas: 1,
        }
    }
}

impl StreamSettings {
    /// The differences between an existing stream's retention and these
    /// settings, as `name: existing (configured value)` items.
    pub fn differences(&self, existing: &stream::Config) -> Vec<String> {
        let mut differences = Vec::new();
        if existing.max_age != self.max_age {
            differences.push(format!(
                "max_age: {:?} (configured {:?})",
                existing.max_age, self.max_age
            ));
        }
        // The server stores "no limit" as -1; 0 means the same.
        let unlimited = |bytes: i64| if bytes <= 0 { -1 } else { bytes };
        if unlimited(existing.max_bytes) != unlimited(self.max_bytes) {
            differences.push(format!(
                "max_bytes: {} (configured {})",
                existing.max_bytes, self.max_bytes
            ));
        }
        if existing.num_replicas.max(1) != self.replicas.max(1) {
            differences.push(format!(
                "replicas: {} (configured {})",
                existing.num_replicas, self.replicas
            ));
        }
        differences
    }

    pub(super) fn apply(&self, config: stream::Config) -> stream::Config {
        stream::Config {
            max_age: self.max_age,
            max_bytes: self.max_bytes,
            num_replicas: self.replicas.max(1),
            ..config
        }
    }
}

/// Creates the stream described by `config` when it does not exist; leaves
/// an existing one untouched (warning when its retention differs from
/// `settings`).
pub(super) async fn create_if_missing(
    js: &jetstream::Context,
    config: stream::Config,
    settings: &StreamSettings,
) -> Result<(), StreamSetupError> {
    let name = config.name.clone();
    match js.get_stream(&name).await {
        Ok(existing) => {
            warn_on_differences(&name, &existing.cached_info().config, settings);
            return Ok(());
        }
        Err(error) if is_not_found(&error) => {}
        Err(source) => return Err(StreamSetupError::Lookup { stream: name, source }),
    }
    match js.create_stream(settings.apply(config)).await {
        Ok(_) => {
            tracing::info!(
                stream = %name,
                max_age = ?settings.max_age,
                max_bytes = settings.max_bytes,
                replicas = settings.replicas,
                "stream created"
            );
            Ok(())
        }
        // Created by another service in the meantime: theirs stands.
        Err(error) if is_name_taken(&error) => {
            tracing::debug!(stream = %name, "stream created concurrently, left as is");
            Ok(())
        }
        Err(source) => Err(StreamSetupError::Jetstream { stream: name, source }),
    }
}

fn warn_on_differences(name: &str, existing: &stream::Config, settings: &StreamSettings) {
    let differences = settings.differences(existing);
    if differences.is_empty() {
        tracing::debug!(stream = %name, "stream exists, left as is");
    } else {
        tracing::warn!(
            stream = %name,
            differences = %differences.join(", "),
            "stream exists with other retention settings than configured; left unchanged (change it with `nats stream edit`)"
        );
    }
}

fn is_not_found(error: &jetstream::context::GetStreamError) -> bool {
    matches!(error.kind(), GetStreamErrorKind::JetStream(e) if e.error_code() == ErrorCode::STREAM_NOT_FOUND)
}

fn is_name_taken(error: &jetstream::context::CreateStreamError) -> bool {
    matches!(error.kind(), CreateStreamErrorKind::JetStream(e) if e.error_code() == ErrorCode::STREAM_NAME_EXIST)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_only_retention_differences() {
        let settings = StreamSettings::default();
        let same = settings.apply(stream::Config::default());
        assert!(settings.differences(&same).is_empty());
        let unlimited_as_zero = stream::Config {
            max_bytes: 0,
            ..same.clone()
        };
        assert!(settings.differences(&unlimited_as_zero).is_empty());
        let operator = stream::Config {
            max_age: Duration::from_secs(7 * 24 * 3600),
            num_replicas: 3,
            ..same
        };
        let differences = settings.differences(&operator);
        assert_eq!(differences.len(), 2, "{differences:?}");
        assert!(differences[0].starts_with("max_age: 604800s"), "{differences:?}");
        assert!(differences[1].starts_with("replicas: 3"), "{differences:?}");
    }
}
