//! Wiring used by the `vigie` binary.

use std::sync::Arc;

use tokio::sync::Notify;
use vigie_platform::db::Db;
use vigie_proto::facilitation::v1::facilitation_service_server::FacilitationServiceServer;

use crate::app::{Clock, FacilitationApp};
use crate::grpc::FacilitationApi;

/// Fully qualified gRPC name, reported by the health service.
pub const GRPC_SERVICE: &str = "vigie.facilitation.v1.FacilitationService";
/// Component name of the migrations and NATS stream suffix.
pub const NAME: &str = "facilitation";

/// Applies the event backbone's and the facilitation service's migrations.
///
/// # Errors
/// Any migration failure.
pub async fn migrate(db: &Db) -> anyhow::Result<()> {
    db.migrate("events", vigie_platform::events::MIGRATIONS).await?;
    db.migrate(NAME, crate::storage::MIGRATIONS).await?;
    Ok(())
}

/// Builds the application service.
pub fn application(db: Db, clock: Clock, relay: Arc<Notify>) -> FacilitationApp {
    FacilitationApp::new(db, clock, relay)
}

/// The tonic service to add to a server's routes.
pub fn grpc(app: FacilitationApp) -> FacilitationServiceServer<FacilitationApi> {
    FacilitationServiceServer::new(FacilitationApi::new(app))
}
