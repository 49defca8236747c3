//! Wiring used by the `vigie` binary.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use vigie_platform::db::Db;
use vigie_platform::events::Consumer;
use vigie_platform::service::{run_every, BackgroundLoop, ServiceDescription};
use vigie_proto::facilitation::v1::facilitation_service_server::FacilitationServiceServer;

use crate::app::{Clock, FacilitationApp};
use crate::erasure::{person_erasures, PseudonymKey};
use crate::grpc::FacilitationApi;
use crate::handlers::{AlertingEscalations, InventoryReadModel};

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

/// What the facilitation service runs, over its database `db`: the
/// inventory read model, the erasure of people (pseudonyms made with
/// `pseudonyms`) and the alerting escalations, the first and last opening
/// proposals through `app`; and the escalation of unanswered offers every
/// [`ESCALATION_CHECK_INTERVAL`]. `vigie dev`, `vigie serve` and the
/// harnesses compose from it; a new consumer or loop is added here only.
pub fn describe(db: &Db, app: &FacilitationApp, pseudonyms: &PseudonymKey) -> ServiceDescription {
    ServiceDescription::new(NAME, GRPC_SERVICE)
        .consumer(Consumer::new(
            db.clone(),
            Arc::new(InventoryReadModel::new(app.clone())),
        ))
        .consumer(Consumer::new(db.clone(), Arc::new(person_erasures(pseudonyms.clone()))))
        .consumer(Consumer::new(
            db.clone(),
            Arc::new(AlertingEscalations::new(app.clone())),
        ))
        .background(BackgroundLoop::new("offer-escalation", {
            let app = app.clone();
            move |stop| run_escalation(app, ESCALATION_CHECK_INTERVAL, stop)
        }))
}

/// The tonic service to add to a server's routes.
pub fn grpc(app: FacilitationApp) -> FacilitationServiceServer<FacilitationApi> {
    FacilitationServiceServer::new(FacilitationApi::new(app))
}

/// How often [`run_escalation`] looks for unanswered offers.
pub const ESCALATION_CHECK_INTERVAL: Duration = Duration::from_secs(15 * 60);

/// Escalates unanswered offers every `every` (the first pass at once) until
/// `shutdown`, at the app's current instant; a failed pass is logged and
/// retried at the next tick.
pub async fn run_escalation(app: FacilitationApp, every: Duration, shutdown: CancellationToken) {
    run_every(every, shutdown, || escalate_once(&app)).await;
}

/// One pass of [`run_escalation`], its outcome logged.
async fn escalate_once(app: &FacilitationApp) {
    match app.escalate_overdue(app.now()).await {
        Ok(summary) if !summary.escalated.is_empty() => {
            tracing::info!(escalated = summary.escalated.len(), "facilitation escalation pass done");
        }
        Ok(_) => {}
        Err(error) => tracing::warn!(%error, "facilitation escalation pass failed, will retry"),
    }
}
