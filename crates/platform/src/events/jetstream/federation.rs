//! The federation's streams on nats-server 2.9 (deploy/nats, docs/federation.md
//! "Transport").
//!
//! A snapshot travels through three streams, each *sourcing* the previous
//! one, so every hop is at-least-once, persisted, and resumes where it
//! stopped after an outage:
//!
//! 1. `VIGIE_FEDERATION`, account VIGIE of the region: where the regional
//!    federation service's outbox relay publishes (`vigie.federation.>`,
//!    `Nats-Msg-Id` = event id). An ordinary service stream
//!    ([`super::ensure_stream`] with `"federation"`).
//! 2. `FEDERATION_<REGION>`, account FEDERATION of the region (the account the
//!    leafnode to the hub is bound to): sources `VIGIE_FEDERATION` through the
//!    service imports of `regional.conf` ([`ensure_region_aggregates`]). It is
//!    the only thing the hub can reach in the region; the hub can create a
//!    consumer on it and nothing else (the leafnode's `deny_imports`).
//! 3. `VIGIE_NATIONAL`, account NATIONAL of the hub: sources each region's
//!    `FEDERATION_<REGION>` through the region's JetStream domain
//!    ([`ensure_national_stream`]).
//!
//! Which region a national message came from is read from the
//! `Nats-Stream-Source` header that the hub's server writes when it stores a
//! sourced message ([`source_region`]), never from the payload: the header
//! names the source stream and a hash of the API prefix the hub used, and
//! the hub routes that prefix only to that region's leafnode account. The
//! server removes any such header a region would have put in its own
//! messages before writing its own.
//!
//! Nothing here needs a later server: no subject transforms, one source per
//! region with `external` (nats-server 2.9 semantics).

use std::collections::BTreeMap;

use async_nats::jetstream::context::{CreateStreamErrorKind, GetStreamErrorKind};
use async_nats::jetstream::{self, stream, ErrorCode};
use async_nats::HeaderMap;
use vigie_proto::federation::v1::RegionSnapshot;
use vigie_proto::Event;

use super::{StreamSettings, DUPLICATE_WINDOW};

/// Subject of a region's aggregate snapshot (payload: `RegionSnapshot`,
/// whose [`Event`] type it is).
pub const REGION_AGGREGATED_SUBJECT: &str = RegionSnapshot::TYPE;
/// Stream of the regional federation service in account VIGIE.
pub const REGION_OUTBOX_STREAM: &str = "VIGIE_FEDERATION";
/// The national stream, in account NATIONAL of the hub.
pub const NATIONAL_STREAM: &str = "VIGIE_NATIONAL";
/// API prefix under which account FEDERATION reaches VIGIE's consumer
/// creation on [`REGION_OUTBOX_STREAM`] (the `to:` of its import in
/// `regional.conf`).
pub const REGION_OUTBOX_API_PREFIX: &str = "$JS.VIGIE.API";
/// Delivery prefix of that source (exported by VIGIE to FEDERATION only).
pub const REGION_OUTBOX_DELIVER_PREFIX: &str = "vigie-federation-source";
/// Header the server writes on every sourced message: `<source index> <seq>`.
pub const STREAM_SOURCE_HEADER: &str = "Nats-Stream-Source";

/// One region as the national hub sees it (deploy/nats/national.conf).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionSource {
    /// Region id, lowercase ASCII letters, digits and `-` (e.g. `bretagne`):
    /// it names the region's stream and delivery subjects.
    pub name: String,
    /// The region's JetStream domain (its nats-server's `jetstream.domain`).
    pub domain: String,
}

impl RegionSource {
    /// A region whose JetStream domain is its name (the shipped configuration).
    pub fn new(name: &str) -> RegionSource {
        RegionSource {
            name: name.to_owned(),
            domain: name.to_owned(),
        }
    }

    /// The region's aggregate stream, in its FEDERATION account.
    pub fn stream_name(&self) -> String {
        region_stream_name(&self.name)
    }

    /// `$JS.<domain>.API`: the region's JetStream API seen from the hub.
    pub fn api_prefix(&self) -> String {
        format!("$JS.{}.API", self.domain)
    }

    /// `national.deliver.<name>`: where the region's consumer delivers, a
    /// subject the hub exports to NATIONAL from that region's account only.
    pub fn deliver_prefix(&self) -> String {
        format!("national.deliver.{}", self.name)
    }

    /// The index the hub's server gives this source: the first word of the
    /// `Nats-Stream-Source` header of the messages it stores from it.
    pub fn source_index(&self) -> String {
        format!("{}:{}", self.stream_name(), server_hash(&self.api_prefix()))
    }

    fn validate(&self) -> Result<(), FederationStreamError> {
        let token = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        };
        if token(&self.name) && token(&self.domain) {
            Ok(())
        } else {
            Err(FederationStreamError::InvalidRegion(
                self.name.clone(),
                self.domain.clone(),
            ))
        }
    }
}

/// `FEDERATION_<REGION>` (uppercase, `-` becomes `_`). Regions need distinct
/// stream names: the flow control subjects of their consumers
/// (`$JS.FC.<stream>.…`) are imported into one hub account.
pub fn region_stream_name(region: &str) -> String {
    format!("FEDERATION_{}", region.to_uppercase().replace('-', "_"))
}

/// Errors setting up the federation's streams.
#[derive(Debug, thiserror::Error)]
pub enum FederationStreamError {
    /// A region name or domain cannot form subjects.
    #[error("invalid region {0:?} (domain {1:?}): use lowercase ASCII letters, digits, '-' and '_'")]
    InvalidRegion(String, String),
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
    #[error("could not create or update stream {stream}")]
    Jetstream {
        /// Stream concerned.
        stream: String,
        /// The client's error.
        #[source]
        source: jetstream::context::CreateStreamError,
    },
}

/// Creates `FEDERATION_<REGION>` in account FEDERATION of the region, sourcing
/// `VIGIE_FEDERATION` of account VIGIE, or puts its source back when an
/// operator changed it. Other settings of an existing stream are kept.
///
/// Call it with a JetStream context of a FEDERATION user (`federation-link`
/// in deploy/nats/regional.conf), at start-up of the regional federation
/// service. `VIGIE_FEDERATION` may not exist yet: the source waits for it.
///
/// # Errors
/// [`FederationStreamError`] when the region name is invalid or the server
/// refuses or does not answer.
pub async fn ensure_region_aggregates(
    js: &jetstream::Context,
    region: &str,
    settings: &StreamSettings,
) -> Result<stream::Info, FederationStreamError> {
    RegionSource::new(region).validate()?;
    let source = stream::Source {
        name: REGION_OUTBOX_STREAM.to_owned(),
        external: Some(stream::External {
            api_prefix: REGION_OUTBOX_API_PREFIX.to_owned(),
            delivery_prefix: Some(REGION_OUTBOX_DELIVER_PREFIX.to_owned()),
        }),
        ..Default::default()
    };
    let config = settings.apply(stream::Config {
        name: region_stream_name(region),
        description: Some(format!(
            "aggregate snapshots of region {region}, read by the national hub"
        )),
        ..federation_defaults()
    });
    ensure_sources(js, config, vec![source]).await
}

/// Creates or updates `VIGIE_NATIONAL` in account NATIONAL of the hub with
/// one source per region (`FEDERATION_<REGION>` through `$JS.<domain>.API`,
/// delivered on `national.deliver.<region>`). Idempotent. An existing stream
/// keeps its messages and every other setting; a source already present keeps
/// its position (its configuration is unchanged), a new region starts from
/// its first message; a region no longer listed stops being sourced (its
/// messages stay). `settings` apply only when the stream is created.
///
/// # Errors
/// [`FederationStreamError`] when a region is invalid or the server refuses
/// or does not answer.
pub async fn ensure_national_stream(
    js: &jetstream::Context,
    regions: &[RegionSource],
    settings: &StreamSettings,
) -> Result<stream::Info, FederationStreamError> {
    for region in regions {
        region.validate()?;
    }
    // Sorted by name, so that the same list gives the same configuration
    // whatever the order of the national service's settings.
    let sources: BTreeMap<String, stream::Source> = regions
        .iter()
        .map(|region| {
            let source = stream::Source {
                name: region.stream_name(),
                external: Some(stream::External {
                    api_prefix: region.api_prefix(),
                    delivery_prefix: Some(region.deliver_prefix()),
                }),
                ..Default::default()
            };
            (region.stream_name(), source)
        })
        .collect();
    let config = settings.apply(stream::Config {
        name: NATIONAL_STREAM.to_owned(),
        description: Some("aggregate snapshots of every region, sourced from their FEDERATION accounts".to_owned()),
        ..federation_defaults()
    });
    ensure_sources(js, config, sources.into_values().collect()).await
}

/// The region a message of `VIGIE_NATIONAL` came from, by its
/// `Nats-Stream-Source` header (written by the hub's server), among
/// `regions`; `None` when the header is missing or names no known source —
/// the national service must then drop the message, whatever its payload
/// says.
pub fn source_region<'a>(headers: Option<&HeaderMap>, regions: &'a [RegionSource]) -> Option<&'a RegionSource> {
    let value = headers?.get(STREAM_SOURCE_HEADER)?.as_str();
    let index = value.split(' ').next()?;
    regions.iter().find(|region| region.source_index() == index)
}

/// What the federation's streams share: file storage, the platform's
/// deduplication window (relay retries carry the same `Nats-Msg-Id`, and the
/// server keeps it when sourcing), no subjects of their own (they only
/// source, so nobody can publish into them).
fn federation_defaults() -> stream::Config {
    stream::Config {
        storage: stream::StorageType::File,
        retention: stream::RetentionPolicy::Limits,
        discard: stream::DiscardPolicy::Old,
        duplicate_window: DUPLICATE_WINDOW,
        ..Default::default()
    }
}

/// Creates the stream with `sources`, or sets the sources of the existing
/// one (keeping everything else) when they differ. Sources are compared by
/// configuration: an unchanged source is not touched, so its consumer and
/// position are kept.
async fn ensure_sources(
    js: &jetstream::Context,
    config: stream::Config,
    sources: Vec<stream::Source>,
) -> Result<stream::Info, FederationStreamError> {
    let name = config.name.clone();
    let lookup = |source| FederationStreamError::Lookup {
        stream: name.clone(),
        source,
    };
    let refused = |source| FederationStreamError::Jetstream {
        stream: name.clone(),
        source,
    };
    match js.get_stream(&name).await {
        Ok(existing) => {
            let mut current = existing.cached_info().config.clone();
            if current.sources.as_deref().unwrap_or_default() == sources.as_slice() {
                tracing::debug!(stream = %name, "federation stream up to date");
                return Ok(existing.cached_info().clone());
            }
            let before: Vec<String> = current.sources.iter().flatten().map(|s| s.name.clone()).collect();
            current.sources = Some(sources);
            let info = js.update_stream(current).await.map_err(refused)?;
            tracing::info!(stream = %name, before = ?before, after = ?source_names(&info), "federation stream sources updated");
            Ok(info)
        }
        Err(error) if matches!(error.kind(), GetStreamErrorKind::JetStream(e) if e.error_code() == ErrorCode::STREAM_NOT_FOUND) =>
        {
            let config = stream::Config {
                sources: Some(sources),
                ..config
            };
            match js.create_stream(config).await {
                Ok(created) => {
                    let info = created.cached_info().clone();
                    tracing::info!(stream = %name, sources = ?source_names(&info), "federation stream created");
                    Ok(info)
                }
                // Created concurrently (two replicas of the service): check
                // its sources once more, as if it had been there.
                Err(error) if matches!(error.kind(), CreateStreamErrorKind::JetStream(e) if e.error_code() == ErrorCode::STREAM_NAME_EXIST) => {
                    Box::pin(ensure_sources_existing(js, &name)).await
                }
                Err(source) => Err(refused(source)),
            }
        }
        Err(source) => Err(lookup(source)),
    }
}

async fn ensure_sources_existing(js: &jetstream::Context, name: &str) -> Result<stream::Info, FederationStreamError> {
    js.get_stream(name)
        .await
        .map(|stream| stream.cached_info().clone())
        .map_err(|source| FederationStreamError::Lookup {
            stream: name.to_owned(),
            source,
        })
}

fn source_names(info: &stream::Info) -> Vec<String> {
    info.config.sources.iter().flatten().map(|s| s.name.clone()).collect()
}

/// nats-server's `getHash` (server/events.go): SHA-256 of `name`, its first
/// eight bytes mapped onto 62 alphanumeric digits. The server indexes an
/// external source as `<stream>:<getHash(api prefix)>`.
fn server_hash(name: &str) -> String {
    const DIGITS: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let digest = ring::digest::digest(&ring::digest::SHA256, name.as_bytes());
    digest.as_ref()[..8]
        .iter()
        .map(|b| DIGITS[usize::from(b % 62)] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_shipped_configuration() {
        let region = RegionSource::new("bretagne");
        assert_eq!(region.stream_name(), "FEDERATION_BRETAGNE");
        assert_eq!(region.api_prefix(), "$JS.bretagne.API");
        assert_eq!(region.deliver_prefix(), "national.deliver.bretagne");
        assert_eq!(region_stream_name("pays-de-la-loire"), "FEDERATION_PAYS_DE_LA_LOIRE");
        assert!(RegionSource::new("Bretagne").validate().is_err());
        assert!(RegionSource::new("a.b").validate().is_err());
        assert!(RegionSource::new("").validate().is_err());
    }

    #[test]
    fn finds_the_region_by_the_source_header_only() {
        let regions = [RegionSource::new("bretagne"), RegionSource::new("occitanie")];
        let mut headers = HeaderMap::new();
        headers.insert(
            STREAM_SOURCE_HEADER,
            format!("{} 42", regions[1].source_index()).as_str(),
        );
        assert_eq!(source_region(Some(&headers), &regions), Some(&regions[1]));
        // Same stream name through another API prefix: not that region.
        let mut forged = HeaderMap::new();
        forged.insert(STREAM_SOURCE_HEADER, "FEDERATION_OCCITANIE:AAAAAAAA 42");
        assert_eq!(source_region(Some(&forged), &regions), None);
        assert_eq!(source_region(Some(&HeaderMap::new()), &regions), None);
        assert_eq!(source_region(None, &regions), None);
    }

    #[test]
    fn hashes_like_the_server() {
        // Eight characters of the server's alphabet, stable.
        let hash = server_hash("$JS.bretagne.API");
        assert_eq!(hash.len(), 8);
        assert!(hash.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_eq!(hash, server_hash("$JS.bretagne.API"));
        assert_ne!(hash, server_hash("$JS.occitanie.API"));
    }
}
