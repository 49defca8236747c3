//! Wiring used by the `vigie` binary.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use vigie_platform::db::Db;
use vigie_platform::events::Consumer;
use vigie_platform::service::{BackgroundLoop, ServiceDescription};
use vigie_proto::federation::v1::federation_service_server::FederationServiceServer;

use crate::app::{FederationApp, FederationSettings, Now, PublishOutcome};
use crate::grpc::FederationApi;
use crate::handlers::{RegionSnapshots, RegionalReadModel};

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

/// What a regional federation instance runs, over its database `db`: the
/// regional read model, which hears every service of the instance (the
/// producers its event types name), and, with `publish_every`, the
/// publisher of `app`'s snapshots ([`run_publisher`]; the harnesses publish
/// by hand). `vigie dev`, `vigie serve` and the harnesses compose from it;
/// a new consumer or loop is added here only.
pub fn describe(db: &Db, app: &FederationApp, publish_every: Option<Duration>) -> ServiceDescription {
    let service =
        ServiceDescription::new(NAME, GRPC_SERVICE).consumer(Consumer::new(db.clone(), Arc::new(RegionalReadModel)));
    match publish_every {
        Some(every) => service.background(BackgroundLoop::new("region-publisher", {
            let app = app.clone();
            move |stop| run_publisher(app, every, stop)
        })),
        None => service,
    }
}

/// What the national hub runs: the reception of the regions' snapshots.
/// Its consumer reads the national stream that sources every region
/// (docs/federation.md), not a service's stream: `vigie serve federation
/// --national` wires it on that stream, and `vigie dev` has none (the
/// regional publisher writes its own region's national view itself).
pub fn describe_national(db: &Db, app: &FederationApp) -> ServiceDescription {
    ServiceDescription::new(NAME, GRPC_SERVICE)
        .consumer(Consumer::new(db.clone(), Arc::new(RegionSnapshots::new(app.clock()))))
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
