//! Server commands: `vigie dev` (everything in one process) and `vigie serve`
//! (one service, production adapters). Both run the same service code; only
//! the adapters differ (SQLite + in-process events, or PostgreSQL + NATS).

pub mod dev;
pub mod serve;

use std::sync::Arc;

use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use vigie_facilitation::app::FacilitationApp;
use vigie_facilitation::service as facilitation;
use vigie_inventory::app::{system_clock, Inventory};
use vigie_inventory::service as inventory;
use vigie_platform::db::Db;
use vigie_training::app::TrainingApp;
use vigie_training::service as training;

use crate::config::VigieConfig;

/// Builds the inventory application over a migrated database and starts its
/// background re-assessment in `tasks`.
///
/// # Errors
/// Migration failures.
pub async fn start_inventory(
    db: Db,
    config: &VigieConfig,
    relay: Arc<Notify>,
    tasks: &mut JoinSet<()>,
    shutdown: &CancellationToken,
) -> anyhow::Result<Inventory> {
    inventory::migrate(&db).await?;
    let app = inventory::application(db, config.fragility.params(), system_clock(), relay);
    tasks.spawn(inventory::run_reassessment(app.clone(), shutdown.clone()));
    Ok(app)
}

/// Builds the training application over a migrated database.
///
/// # Errors
/// Migration failures.
pub async fn start_training(db: Db, config: &VigieConfig, relay: Arc<Notify>) -> anyhow::Result<TrainingApp> {
    training::migrate(&db).await?;
    Ok(training::application(
        db,
        config.fragility.params(),
        system_clock(),
        relay,
    ))
}

/// Builds the facilitation application over a migrated database.
///
/// # Errors
/// Migration failures.
pub async fn start_facilitation(db: Db, relay: Arc<Notify>) -> anyhow::Result<FacilitationApp> {
    facilitation::migrate(&db).await?;
    Ok(facilitation::application(
        db,
        vigie_facilitation::app::system_clock(),
        relay,
    ))
}

/// Waits for background tasks after shutdown, logging any that panicked.
pub async fn join_all(mut tasks: JoinSet<()>) {
    while let Some(result) = tasks.join_next().await {
        if let Err(error) = result {
            tracing::error!(%error, "background task failed");
        }
    }
}
