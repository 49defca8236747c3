//! The national view's freshness as metrics: `vigie.federation.region.stale`
//! (1 when a region's latest snapshot is older than `stale_after_seconds`)
//! and `vigie.federation.region.age` (seconds since it was computed), per
//! region — the regions are the configured ones, a bounded set.
//!
//! Reading them needs a query, which an observable gauge's callback cannot
//! await: a sampler reads the regions every [`SAMPLE_INTERVAL`] into a
//! process-wide board; the gauges read the board at collection time (the age
//! keeps growing between samples).

use std::collections::BTreeMap;
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use opentelemetry::metrics::ObservableGauge;
use opentelemetry::KeyValue;
use tokio_util::sync::CancellationToken;

use crate::app::FederationApp;

/// How often the national view's regions are sampled.
pub const SAMPLE_INTERVAL: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Copy)]
struct Freshness {
    stale: bool,
    computed_at: Option<DateTime<Utc>>,
}

static BOARD: Mutex<BTreeMap<String, Freshness>> = Mutex::new(BTreeMap::new());

fn board() -> std::sync::MutexGuard<'static, BTreeMap<String, Freshness>> {
    BOARD.lock().unwrap_or_else(PoisonError::into_inner)
}

struct Gauges {
    _stale: ObservableGauge<u64>,
    _age: ObservableGauge<f64>,
}

fn ensure_gauges() {
    static GAUGES: OnceLock<Gauges> = OnceLock::new();
    GAUGES.get_or_init(|| {
        let meter = opentelemetry::global::meter("vigie");
        let stale = meter
            .u64_observable_gauge("vigie.federation.region.stale")
            .with_description("1 when the region's latest snapshot is older than stale_after_seconds (national view)")
            .with_callback(|observer| {
                for (region, f) in board().iter() {
                    observer.observe(u64::from(f.stale), &[KeyValue::new("region", region.clone())]);
                }
            })
            .build();
        let age = meter
            .f64_observable_gauge("vigie.federation.region.age")
            .with_unit("s")
            .with_description("Seconds since the region's latest snapshot was computed (national view)")
            .with_callback(|observer| {
                let now = Utc::now();
                for (region, f) in board().iter() {
                    if let Some(at) = f.computed_at {
                        let age = (now - at).num_milliseconds().max(0) as f64 / 1000.0;
                        observer.observe(age, &[KeyValue::new("region", region.clone())]);
                    }
                }
            })
            .build();
        Gauges {
            _stale: stale,
            _age: age,
        }
    });
}

/// Samples the regions of `app` until shutdown.
pub async fn run_sampler(app: FederationApp, shutdown: CancellationToken) {
    ensure_gauges();
    loop {
        match app.regions().await {
            Ok(regions) => {
                let mut board = board();
                board.clear();
                for r in regions {
                    let computed_at = DateTime::parse_from_rfc3339(&r.row.computed_at)
                        .ok()
                        .map(|t| t.with_timezone(&Utc));
                    board.insert(
                        r.row.region,
                        Freshness {
                            stale: r.stale,
                            computed_at,
                        },
                    );
                }
            }
            Err(error) => tracing::warn!(%error, "federation regions not sampled"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(SAMPLE_INTERVAL) => {}
        }
    }
}
