//! Wiring used by the `vigie` binary: migrate the database, build the gRPC
//! service, and run the daily re-assessment.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use vigie_fragility_model::fragility::FragilityParams;
use vigie_platform::db::Db;
use vigie_platform::events::Consumer;
use vigie_platform::service::{BackgroundLoop, ServiceDescription};

use crate::app::{Clock, Inventory};
use crate::grpc::{InventoryApi, InventoryGrpc};
use crate::handlers::{InterventionRecordedHandler, TrainingCompletedHandler};

/// Fully qualified gRPC name, reported by the health service.
pub const GRPC_SERVICE: &str = "vigie.inventory.v1.InventoryService";
/// Component name of the inventory's migrations and its NATS stream suffix.
pub const NAME: &str = "inventory";
/// How often the re-assessment task checks whether the date changed.
const DATE_CHECK_INTERVAL: Duration = Duration::from_secs(600);

/// Applies the event backbone's and the inventory's migrations.
///
/// # Errors
/// Any migration failure.
pub async fn migrate(db: &Db) -> anyhow::Result<()> {
    db.migrate("events", vigie_platform::events::MIGRATIONS).await?;
    db.migrate(NAME, crate::storage::MIGRATIONS).await?;
    Ok(())
}

/// Builds the application service.
pub fn application(db: Db, params: FragilityParams, clock: Clock, relay: Arc<Notify>) -> Inventory {
    Inventory::new(db, params, clock, relay)
}

/// What the inventory runs, over its database `db`: the consumers of
/// training completions and of recorded interventions, which update the
/// holdings through `app`, and the daily re-assessment. `vigie dev`,
/// `vigie serve` and the harnesses compose from it; a new consumer or loop
/// is added here only.
pub fn describe(db: &Db, app: &Inventory) -> ServiceDescription {
    ServiceDescription::new(NAME, GRPC_SERVICE)
        .consumer(Consumer::new(
            db.clone(),
            Arc::new(TrainingCompletedHandler::new(app.clone())),
        ))
        .consumer(Consumer::new(
            db.clone(),
            Arc::new(InterventionRecordedHandler::new(app.clone())),
        ))
        .background(BackgroundLoop::new("fragility-reassessment", {
            let app = app.clone();
            move |stop| run_reassessment(app, stop)
        }))
}

/// The tonic service to add to a server's routes (the generated server, with
/// the single-structure reads answered from kept encodings: `grpc/routed.rs`).
pub fn grpc(app: Inventory) -> InventoryGrpc {
    // Large CSV sets arrive in many small chunks; one message stays small.
    InventoryGrpc::new(InventoryApi::new(app))
}

/// Re-assesses every structure at start-up and then whenever the local date
/// changes, so that passed end dates and stale holdings show up (and their
/// events go out) without waiting for an edit.
pub async fn run_reassessment(app: Inventory, shutdown: CancellationToken) {
    let mut assessed_on = None;
    loop {
        let today = app.today();
        if assessed_on != Some(today) {
            match app.reassess_all().await {
                Ok(events) => {
                    tracing::info!(events, "daily fragility re-assessment done");
                    assessed_on = Some(today);
                }
                Err(error) => tracing::warn!(%error, "daily fragility re-assessment failed, will retry"),
            }
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(DATE_CHECK_INTERVAL) => {}
        }
    }
}
