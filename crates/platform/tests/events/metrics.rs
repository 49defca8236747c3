//! The backbone's metrics as Prometheus sees them (`vigie_platform::
//! prometheus`), driven by real deliveries on SQLite: redeliveries counted,
//! dead letters starting at 0, the outbox backlog growing, ageing and
//! draining.

use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use vigie_platform::db::Backend;
use vigie_platform::events::{Consumer, EmbeddedBus, Relay};
use vigie_platform::prometheus::Scrape;

use crate::support::{append_events, TestDb, TestHandler, EVENT_TYPE, POISON};

/// The global meter provider with a scrape reader, installed once per
/// process, before the consumers and relays of the test create instruments.
fn scrape() -> &'static Scrape {
    static SCRAPE: OnceLock<Scrape> = OnceLock::new();
    SCRAPE.get_or_init(|| {
        let scrape = Scrape::new();
        let provider = opentelemetry_sdk::metrics::SdkMeterProvider::builder()
            .with_reader(scrape.reader())
            .build();
        opentelemetry::global::set_meter_provider(provider);
        scrape
    })
}

/// The value of the series `name{labels…}` (labels as written, in order).
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test]
async fn redeliveries_and_dead_letters_are_counted() {
    let scrape = scrape();
    let producer = TestDb::producer(Backend::Sqlite).await;
    let consumer_db = TestDb::consumer(Backend::Sqlite).await;
    let handler = TestHandler::new("metrics-redelivered");
    handler.fail_next.store(2, Ordering::SeqCst);
    let bus = EmbeddedBus::new();
    bus.register(Consumer::new(consumer_db.db.clone(), handler.clone()));
    let dead_letters = "vigie_events_dead_letters_total{consumer=\"metrics-redelivered\"}";
    let text = scrape.render().unwrap();
    assert_eq!(value(&text, dead_letters), Some(0.0), "declared at 0:\n{text}");

    append_events(&producer.db, 1, b"p").await;
    let relay = Relay::new(producer.db.clone(), Arc::new(bus.publisher()));
    assert!(relay.drain().await.is_err(), "first delivery fails");
    assert!(relay.drain().await.is_err(), "second delivery fails");
    assert_eq!(relay.drain().await.unwrap(), 1, "third goes through");
    let text = scrape.render().unwrap();
    let redelivered =
        format!("vigie_events_redelivered_total{{consumer=\"metrics-redelivered\",event_type=\"{EVENT_TYPE}\"}}");
    assert_eq!(value(&text, &redelivered), Some(2.0), "{text}");

    append_events(&producer.db, 1, POISON).await;
    assert_eq!(relay.drain().await.unwrap(), 1);
    let text = scrape.render().unwrap();
    assert_eq!(value(&text, dead_letters), Some(1.0), "{text}");
}

#[tokio::test]
async fn the_outbox_backlog_grows_ages_and_drains() {
    let scrape = scrape();
    let producer = TestDb::producer(Backend::Sqlite).await;
    let consumer_db = TestDb::consumer(Backend::Sqlite).await;
    let handler = TestHandler::new("metrics-backlog");
    // Down for a while: every delivery fails transiently.
    handler.fail_next.store(usize::MAX, Ordering::SeqCst);
    let bus = EmbeddedBus::new();
    bus.register(Consumer::new(consumer_db.db.clone(), handler.clone()));
    append_events(&producer.db, 3, b"p").await;
    let stop = tokio_util::sync::CancellationToken::new();
    let relay = Relay::new(producer.db.clone(), Arc::new(bus.publisher())).with_metrics_name("probe");
    let running = tokio::spawn(relay.run(stop.clone()));

    let pending = "vigie_outbox_pending{outbox=\"probe\"}";
    let lag = "vigie_outbox_lag_seconds{outbox=\"probe\"}";
    // A bound, not a timing: generous because a loaded machine (every test
    // of the binary at once under `cargo test`) has missed 10 s.
    vigie_testkit::eventually("backlog sampled", Duration::from_secs(30), || async {
        let text = scrape.render()?;
        Ok(value(&text, pending) == Some(3.0) && value(&text, lag).is_some_and(|lag| lag > 0.0))
    })
    .await
    .unwrap();
    // The lag keeps growing between samples while nothing is published.
    let first = value(&scrape.render().unwrap(), lag).unwrap_or_default();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let later = value(&scrape.render().unwrap(), lag).unwrap_or_default();
    assert!(later > first, "{first} then {later}");

    // Back: the relay drains, the next sample shows it.
    handler.fail_next.store(0, Ordering::SeqCst);
    vigie_testkit::eventually("backlog drained", Duration::from_secs(20), || async {
        let text = scrape.render()?;
        Ok(value(&text, pending) == Some(0.0) && value(&text, lag) == Some(0.0))
    })
    .await
    .unwrap();
    stop.cancel();
    running.await.unwrap();
}
