//! The national instance's transport: the stream `VIGIE_NATIONAL` that
//! sources each region's snapshots through its JetStream domain, and its
//! consumer (docs/federation.md).

use tokio_util::sync::CancellationToken;
use vigie_platform::events::{jetstream, Consumer};

use crate::config::VigieConfig;

/// The stream of the regions' snapshots on the national hub.
pub const NATIONAL_STREAM: &str = "VIGIE_NATIONAL";

/// Creates or updates the national stream with one source per configured
/// region.
///
/// # Errors
/// NATS failures.
pub async fn ensure_streams(js: &async_nats::jetstream::Context, config: &VigieConfig) -> anyhow::Result<()> {
    let _ = (js, config);
    // Filled in with the transport design (deploy/nats).
    Ok(())
}

/// Runs the national consumer until shutdown.
pub async fn consume(js: async_nats::jetstream::Context, consumer: Consumer, stop: CancellationToken) {
    if let Err(error) =
        jetstream::run_jetstream_consumer(js, NATIONAL_STREAM.to_owned(), consumer, Default::default(), stop).await
    {
        tracing::error!(%error, "national consumer stopped");
    }
}
