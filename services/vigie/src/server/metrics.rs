//! `--metrics-listen ADDR`: the Prometheus scrape endpoint of `vigie dev`
//! and `vigie serve` (`GET /metrics`, docs/operations.md « Metrics »).

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use vigie_platform::prometheus;
use vigie_platform::telemetry::Telemetry;

use crate::config::VigieConfig;
use crate::i18n::Lang;

/// When `metrics_listen` is set: binds it (a taken port fails the start),
/// adds the scrape reader to the meter provider and serves `/metrics` in
/// `tasks` until `shutdown`, announcing the address on standard error.
///
/// Call it before building anything that creates instruments (relays,
/// consumers, applications, the gRPC server): they take the meter provider
/// installed at that moment.
///
/// # Errors
/// The address cannot be bound.
pub async fn start(
    config: &VigieConfig,
    telemetry: &mut Telemetry,
    tasks: &mut JoinSet<()>,
    shutdown: &CancellationToken,
    role: &str,
    lang: Lang,
) -> anyhow::Result<()> {
    let Some(addr) = config.metrics_listen else {
        return Ok(());
    };
    let listener = prometheus::http::bind(addr).await.map_err(|error| {
        anyhow::anyhow!(
            "{} {addr} : {error}",
            lang.pick(
                "point de collecte des métriques (--metrics-listen)",
                "metrics endpoint (--metrics-listen)"
            )
        )
    })?;
    let bound = listener.local_addr()?;
    let scrape = telemetry.enable_scrape();
    tasks.spawn(prometheus::http::serve(listener, scrape, shutdown.clone()));
    // No scheme in this line: scripts look for the gRPC endpoint's `http://`.
    eprintln!(
        "{role}: {} {bound} (GET /metrics)",
        lang.pick("métriques Prometheus sur", "Prometheus metrics on")
    );
    Ok(())
}
