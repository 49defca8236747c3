//! Wiring used by the `vigie` binary.

use std::sync::Arc;

use tokio::sync::Notify;
use vigie_fragility_model::fragility::FragilityParams;
use vigie_platform::db::Db;
use vigie_platform::events::Consumer;
use vigie_platform::service::ServiceDescription;
use vigie_proto::training::v1::training_service_server::TrainingServiceServer;

use crate::app::{Clock, TrainingApp};
use crate::erasure::{person_erasures, PseudonymKey};
use crate::grpc::TrainingApi;
use crate::handlers::InventoryReadModel;

/// Fully qualified gRPC name, reported by the health service.
pub const GRPC_SERVICE: &str = "vigie.training.v1.TrainingService";
/// Component name of the migrations and NATS stream suffix.
pub const NAME: &str = "training";

/// Applies the event backbone's and the training service's migrations.
///
/// # Errors
/// Any migration failure.
pub async fn migrate(db: &Db) -> anyhow::Result<()> {
    db.migrate("events", vigie_platform::events::MIGRATIONS).await?;
    db.migrate(NAME, crate::storage::MIGRATIONS).await?;
    Ok(())
}

/// Builds the application service.
pub fn application(db: Db, fragility: FragilityParams, clock: Clock, relay: Arc<Notify>) -> TrainingApp {
    TrainingApp::new(db, fragility, clock, relay)
}

/// What the training service runs, over its database `db`: the inventory
/// read model and the erasure of people (pseudonyms made with `pseudonyms`).
/// `vigie dev`, `vigie serve` and the harnesses compose from it; a new
/// consumer is added here only.
pub fn describe(db: &Db, pseudonyms: &PseudonymKey) -> ServiceDescription {
    ServiceDescription::new(NAME, GRPC_SERVICE)
        .consumer(Consumer::new(db.clone(), Arc::new(InventoryReadModel::default())))
        .consumer(Consumer::new(db.clone(), Arc::new(person_erasures(pseudonyms.clone()))))
}

/// The tonic service to add to a server's routes.
pub fn grpc(app: TrainingApp) -> TrainingServiceServer<TrainingApi> {
    TrainingServiceServer::new(TrainingApi::new(app))
}
