//! The federation's transport on NATS (docs/federation.md, "Transport"):
//! on a regional instance, the stream of its FEDERATION account that the
//! national hub sources; on the national hub, the stream `VIGIE_NATIONAL`
//! that sources every region, and its consumer, which takes a snapshot's
//! region from the stream source the hub's server recorded.

use std::sync::Arc;

use anyhow::Context;
use tokio_util::sync::CancellationToken;
use vigie_platform::events::jetstream::federation::{
    ensure_national_stream, ensure_region_aggregates, source_region, RegionSource, NATIONAL_STREAM,
};
use vigie_platform::events::jetstream::{self, ConsumerOptions, OriginCheck};
use vigie_platform::events::Consumer;
use vigie_platform::redact;

use crate::config::VigieConfig;
use crate::i18n::Lang;

/// The regions of the national configuration.
pub fn regions(config: &VigieConfig) -> Vec<RegionSource> {
    config
        .federation
        .national_regions
        .iter()
        .map(|name| RegionSource::new(name))
        .collect()
}

/// Creates or updates `VIGIE_NATIONAL` with one source per configured region.
///
/// # Errors
/// No region configured, an invalid region id, NATS failures.
pub async fn ensure_streams(
    js: &async_nats::jetstream::Context,
    config: &VigieConfig,
    lang: Lang,
) -> anyhow::Result<()> {
    let regions = regions(config);
    if regions.is_empty() {
        anyhow::bail!(
            "{}",
            lang.pick(
                "federation.national_regions est vide : listez les régions dont l'instance nationale reçoit les agrégats, p. ex. VIGIE_FEDERATION='{national_regions=[\"bretagne\",\"occitanie\"]}'",
                "federation.national_regions is empty: list the regions whose aggregates the national instance receives, e.g. VIGIE_FEDERATION='{national_regions=[\"bretagne\",\"occitanie\"]}'"
            )
        );
    }
    ensure_national_stream(js, &regions, &config.events.stream_settings()).await?;
    Ok(())
}

/// Runs the national consumer until shutdown.
pub async fn consume(
    js: async_nats::jetstream::Context,
    consumer: Consumer,
    regions: Vec<RegionSource>,
    stop: CancellationToken,
) {
    let options = ConsumerOptions {
        origin: Some(OriginCheck(Arc::new(move |headers| {
            source_region(headers, &regions).map(|r| r.name.clone())
        }))),
        ..ConsumerOptions::default()
    };
    if let Err(error) = jetstream::run_jetstream_consumer(js, NATIONAL_STREAM, consumer, options, stop).await {
        tracing::error!(%error, "national consumer stopped");
    }
}

/// Regional side: with `federation.link_nats_url`, creates the stream of the
/// FEDERATION account that the national hub sources. Without it, the region
/// publishes only for its own view (a log line says so).
///
/// # Errors
/// NATS unreachable or refusing.
pub async fn link_region(config: &VigieConfig, region: &str, lang: Lang) -> anyhow::Result<()> {
    let Some(url) = &config.federation.link_nats_url else {
        tracing::info!("federation.link_nats_url unset: snapshots are not offered to a national hub");
        return Ok(());
    };
    // The link logs in as `federation-link` only: never with the service's
    // own credentials file or nkey (they name another user); its own, if
    // any, come from `link_nats_creds` / `link_nats_nkey`.
    let security = vigie_platform::events::jetstream::NatsSecurity {
        creds: config.federation.link_nats_creds.clone(),
        nkey: config.federation.link_nats_nkey.clone(),
        ..config.nats_security()
    };
    let js = jetstream::connect_with(url, "vigie-federation-link", &security)
        .await
        .with_context(|| {
            format!(
                "{} {}",
                lang.pick(
                    "connexion à NATS (compte FEDERATION)",
                    "connecting to NATS (FEDERATION account)"
                ),
                redact::url(url)
            )
        })?;
    ensure_region_aggregates(&js, region, &config.events.stream_settings()).await?;
    Ok(())
}
