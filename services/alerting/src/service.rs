//! Wiring used by the `vigie` binary: migrations, the application, the gRPC
//! service, and the background loops (claim and deliver reminders, fetch
//! the configured sources).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use vigie_inventory_readmodel::PseudonymKey;
use vigie_platform::db::Db;
use vigie_platform::events::Consumer;
use vigie_platform::service::{run_every, BackgroundLoop, ServiceDescription};
use vigie_proto::alerting::v1::alerting_service_server::AlertingServiceServer;

use crate::app::{AlertingApp, Transport};
use crate::grpc::AlertingApi;
use crate::handlers::{InventoryReadModel, PersonErasures};

/// Fully qualified gRPC name, reported by the health service.
pub const GRPC_SERVICE: &str = "vigie.alerting.v1.AlertingService";
/// Component name of the migrations and NATS stream suffix.
pub const NAME: &str = "alerting";
/// How often reminders are claimed and pending messages delivered.
pub const DISPATCH_INTERVAL: Duration = Duration::from_secs(60);
/// Messages delivered per pass.
pub const DELIVERY_BATCH: u32 = 500;

/// Applies the event backbone's and the alerting service's migrations.
///
/// # Errors
/// Any migration failure.
pub async fn migrate(db: &Db) -> anyhow::Result<()> {
    db.migrate("events", vigie_platform::events::MIGRATIONS).await?;
    db.migrate(NAME, crate::storage::MIGRATIONS).await?;
    Ok(())
}

/// What the alerting service runs, over its database `db`: the inventory
/// read model and the erasure of people (pseudonyms made with `pseudonyms`;
/// written emails removed from `mail_dir`, when mails go to files).
/// `vigie dev`, `vigie serve` and the harnesses compose from it; a new
/// consumer is added here only.
pub fn describe(
    db: &Db,
    pseudonyms: &PseudonymKey,
    mail_dir: Option<PathBuf>,
    loops: Option<Loops>,
) -> ServiceDescription {
    let service = ServiceDescription::new(NAME, GRPC_SERVICE)
        .consumer(Consumer::new(db.clone(), Arc::new(InventoryReadModel::default())))
        .consumer(Consumer::new(
            db.clone(),
            Arc::new(PersonErasures::new(pseudonyms.clone(), mail_dir)),
        ));
    let Some(Loops {
        app,
        transport,
        dispatch_every,
        fetch_every,
    }) = loops
    else {
        return service;
    };
    // Without configured sources there is nothing to fetch.
    let fetcher = (!app.settings().sources.is_empty()).then(|| {
        let app = app.clone();
        BackgroundLoop::new("source-fetcher", move |stop| run_fetcher(app, fetch_every, stop))
    });
    let service = service.background(BackgroundLoop::new("reminder-dispatcher", move |stop| {
        run_dispatcher(app, transport, dispatch_every, stop)
    }));
    match fetcher {
        Some(fetcher) => service.background(fetcher),
        None => service,
    }
}

/// The background loops of a running alerting service: the dispatcher
/// (claim, then deliver through `transport`, every `dispatch_every` and as
/// soon as calls are imported) and, when sources are configured, the
/// fetcher (every `fetch_every`). The test harnesses run passes themselves
/// and give none.
pub struct Loops {
    /// The application the loops act on.
    pub app: AlertingApp,
    /// Where messages go (mail, files, webhooks).
    pub transport: Box<dyn Transport>,
    /// Period of the dispatch passes.
    pub dispatch_every: Duration,
    /// Period of the source fetches.
    pub fetch_every: Duration,
}

/// The tonic service to add to a server's routes.
pub fn grpc(app: AlertingApp) -> AlertingServiceServer<AlertingApi> {
    AlertingServiceServer::new(AlertingApi::new(app))
}

/// One dispatch pass at the app's current instant: claim what is due, then
/// lease and deliver pending messages until none is due (the first pass
/// after an outage drains the backlog). A failed claim is logged and the
/// delivery runs anyway.
///
/// # Errors
/// Storage errors of the delivery (the next pass retries).
pub async fn dispatch_once(app: &AlertingApp, transport: &dyn Transport) -> anyhow::Result<()> {
    let now = app.now();
    match app.claim_due(now).await {
        Ok(claimed) if claimed.messages > 0 => tracing::info!(
            messages = claimed.messages,
            reminders = claimed.claimed,
            notices = claimed.notices,
            escalations = claimed.escalations,
            reminder_events = claimed.reminders_published,
            "reminders claimed"
        ),
        Ok(_) => {}
        // Replicas claim concurrently: the send log's key refuses a second
        // claim of a reminder (the loser's batch rolls back, claimed by the
        // other). Delivery does not depend on it.
        Err(error) => tracing::warn!(%error, "claiming reminders failed, will retry"),
    }
    loop {
        let delivered = app.deliver_due(app.now(), transport, DELIVERY_BATCH).await?;
        if delivered.leased() > 0 {
            tracing::info!(
                sent = delivered.sent,
                retried = delivered.retried,
                failed = delivered.failed,
                released = delivered.released,
                lease_lost = delivered.lease_lost,
                "messages delivered"
            );
        }
        if delivered.leased() < DELIVERY_BATCH as usize && delivered.released == 0 {
            return Ok(());
        }
    }
}

/// Runs [`dispatch_once`] every `every` (the first pass at once) until `shutdown`.
pub async fn run_dispatcher(
    app: AlertingApp,
    transport: Box<dyn Transport>,
    every: Duration,
    shutdown: CancellationToken,
) {
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // Also woken as soon as calls are imported.
    let wake = app.dispatch_wake();
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = ticker.tick() => {}
            _ = wake.notified() => {}
        }
        if let Err(error) = dispatch_once(&app, transport.as_ref()).await {
            tracing::warn!(%error, "alerting dispatch pass failed, will retry");
        }
    }
}

/// Fetches every configured remote source every `every` until `shutdown`; a
/// failing source is logged and never stops the others.
pub async fn run_fetcher(app: AlertingApp, every: Duration, shutdown: CancellationToken) {
    run_every(every, shutdown, || fetch_every_source(&app)).await;
}

/// One pass of [`run_fetcher`]: each source in turn, its outcome logged.
async fn fetch_every_source(app: &AlertingApp) {
    let sources: Vec<String> = app.settings().sources.keys().cloned().collect();
    for source in sources {
        match app.fetch_source(&source).await {
            Ok(report) => tracing::info!(
                %source,
                calls = report.calls,
                created = report.created,
                revised = report.revised,
                problems = report.problems.len(),
                "source fetched"
            ),
            Err(error) => tracing::warn!(%source, %error, "source fetch failed, will retry"),
        }
    }
}
