//! Wiring used by the `vigie` binary.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use vigie_platform::db::Db;
use vigie_proto::federation::v1::federation_service_server::FederationServiceServer;

use crate::app::{FederationApp, FederationSettings, Now, PublishOutcome};
use crate::grpc::FederationApi;

/// Fully qualified gRPC name, reported by the health service.
pub const GRPC_SERVICE: &str = "vigie.federation.v1.FederationService";
/// Component name of the migrations and NATS stream suffix.
pub const NAME: &str = "federation";
/// How often the regional publisher looks for a significant change.
pub const CHECK_INTERVAL: Duration = Duration::from_secs(60);

/// Applies the event backbone's and the federation service's migrations.
///
/// # Errors
/// Any migration failure.
pub async fn migrate(db: &Db) -> anyhow::Result<()> {
    db.migrate("events", vigie_platform::events::MIGRATIONS).await?;
    db.migrate(NAME, crate::storage::MIGRATIONS).await?;
    Ok(())
}

/// Builds the application service.
pub fn application(db: Db, settings: FederationSettings, now: Now, relay: Arc<Notify>) -> FederationApp {
    FederationApp::new(db, settings, now, relay)
}

/// The tonic service to add to a server's routes.
pub fn grpc(app: FederationApp) -> FederationServiceServer<FederationApi> {
    FederationServiceServer::new(FederationApi::new(app))
}

/// The regional publisher: every `check_every`, publishes the region's
/// snapshot if it changed significantly or is due (docs/federation.md).
/// A failed pass is logged and retried at the next one.
pub async fn run_publisher(app: FederationApp, check_every: Duration, shutdown: CancellationToken) {
    loop {
        match app.publish_if_due(false).await {
            Ok(PublishOutcome::Published(sequence)) => tracing::debug!(sequence, "federation snapshot published"),
            Ok(PublishOutcome::Unchanged) => {}
            Err(error) => tracing::warn!(%error, "federation snapshot not published, will retry"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(check_every) => {}
        }
    }
}
