//! `vigie serve inventory --metrics-listen`: the Prometheus endpoint shows
//! the figures an operator alerts on, and they move with what happens —
//! RPC durations and publications after an import, an outbox backlog that
//! grows and ages while NATS is down and drains when it is back, the
//! backlog of each JetStream consumer, a dead letter counted; and `vigie dev
//! --metrics-listen`: every service's outbox, the demo's reminders counted.

use std::time::Duration;

use anyhow::{ensure, Context, Result};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use vigie_e2e::{run_cli, serve_args, VigieServer};
use vigie_testkit::{eventually, NatsServer, PgDatabase};

use crate::ok;

const TRAINING_COMPLETED: &str = "vigie.training.enrolment.completed.v1";

#[tokio::test]
async fn serve_exposes_prometheus_metrics_that_follow_the_backbone() -> Result<()> {
    let mut nats = NatsServer::start().await;
    let db = PgDatabase::create().await;
    let dir = tempfile::tempdir()?;
    let first = dir.path().join("first");
    let second = dir.path().join("second");
    let (first, second) = (first.to_str().unwrap_or_default(), second.to_str().unwrap_or_default());
    ok(run_cli(&["inventory", "generate", "--structures", "12", "--seed", "9", first]).await?)?;
    ok(run_cli(&["inventory", "generate", "--structures", "12", "--seed", "10", second]).await?)?;

    let url = nats.url();
    let mut args = serve_args("inventory", db.url(), &url);
    args.extend(["--metrics-listen", "127.0.0.1:0"]);
    let server = VigieServer::start(&args, &[]).await?;
    let addr = server.metrics.clone().context("no metrics address announced")?;

    // At start: the outbox sampled (empty), each consumer's backlog read from
    // the broker.
    eventually("backlog gauges at start", Duration::from_secs(20), || async {
        let text = scrape(&addr).await?;
        Ok(
            value(&text, "vigie_outbox_pending", &[("outbox", "inventory")]) == Some(0.0)
                && value(
                    &text,
                    "vigie_consumer_pending",
                    &[
                        ("consumer", "inventory-training-completed"),
                        ("stream", "VIGIE_TRAINING"),
                    ],
                ) == Some(0.0)
                && value(
                    &text,
                    "vigie_consumer_pending",
                    &[
                        ("consumer", "inventory-facilitation-intervention"),
                        ("stream", "VIGIE_FACILITATION"),
                    ],
                ) == Some(0.0),
        )
    })
    .await?;

    // An import: its RPC is timed, its events published and counted.
    let events = import(&server, first).await?;
    let text = scrape(&addr).await?;
    let import_calls = sum(
        &text,
        "vigie_rpc_duration_seconds_count",
        &[("rpc_grpc_status_code", "0")],
    );
    ensure!(import_calls >= 1.0, "no RPC timed:\n{text}");
    ensure!(
        text.contains("# TYPE vigie_rpc_duration_seconds histogram\n")
            && text.contains("vigie_rpc_duration_seconds_bucket{")
            && text.contains("le=\"+Inf\"}"),
        "not a histogram:\n{text}"
    );
    eventually("publications counted", Duration::from_secs(20), || async {
        let text = scrape(&addr).await?;
        Ok(sum(&text, "vigie_events_published_total", &[]) >= events as f64)
    })
    .await?;

    // NATS down: the next import's events wait in the outbox, which grows
    // and ages; NATS back: the relay drains it.
    nats.stop().await;
    let waiting = import(&server, second).await?;
    eventually("outbox backlog while NATS is down", Duration::from_secs(20), || async {
        let text = scrape(&addr).await?;
        let pending = value(&text, "vigie_outbox_pending", &[("outbox", "inventory")]).unwrap_or(0.0);
        let lag = value(&text, "vigie_outbox_lag_seconds", &[("outbox", "inventory")]).unwrap_or(0.0);
        Ok(pending >= waiting as f64 && lag > 0.0)
    })
    .await?;
    nats.restart().await;
    eventually("outbox drained once NATS is back", Duration::from_secs(40), || async {
        let text = scrape(&addr).await?;
        Ok(
            value(&text, "vigie_outbox_pending", &[("outbox", "inventory")]) == Some(0.0)
                && value(&text, "vigie_outbox_lag_seconds", &[("outbox", "inventory")]) == Some(0.0),
        )
    })
    .await?;

    // A poison event for one of its consumers: dead-lettered and counted.
    let js = vigie_platform::events::jetstream::connect(&url, "e2e").await?;
    let envelope =
        vigie_platform::events::Envelope::new("/vigie/training", TRAINING_COMPLETED, "S-POISON", b"garbage".to_vec());
    js.publish_with_headers(TRAINING_COMPLETED, envelope.to_headers(), envelope.payload.clone())
        .await?
        .await?;
    eventually("dead letter counted", Duration::from_secs(30), || async {
        let text = scrape(&addr).await?;
        Ok(value(
            &text,
            "vigie_events_dead_letters_total",
            &[("consumer", "inventory-training-completed")],
        ) == Some(1.0))
    })
    .await?;

    // Only /metrics, only GET.
    let other = http(&addr, "GET /admin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await?;
    ensure!(other.starts_with("HTTP/1.1 404"), "{other}");
    drop(server);
    Ok(())
}

#[tokio::test]
async fn dev_exposes_the_outboxes_of_every_service_and_the_reminders_sent() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let data_dir = dir.path().to_str().unwrap_or_default().to_owned();
    let server = VigieServer::dev(&data_dir, &["--demo", "--metrics-listen", "127.0.0.1:0"], &[]).await?;
    let addr = server.metrics.clone().context("no metrics address announced")?;
    // The demo's reminders go out as .eml files: counted as sent by email,
    // none failed; every service's outbox drained.
    eventually(
        "demo reminders sent and outboxes drained",
        Duration::from_secs(30),
        || async {
            let text = scrape(&addr).await?;
            let drained = ["inventory", "training", "facilitation", "alerting"]
                .iter()
                .all(|service| value(&text, "vigie_outbox_pending", &[("outbox", service)]) == Some(0.0));
            Ok(drained
                && value(&text, "vigie_reminders_sent_total", &[("channel", "email")]).is_some_and(|sent| sent > 0.0)
                && value(&text, "vigie_reminders_failed_total", &[("channel", "email")]) == Some(0.0))
        },
    )
    .await?;
    drop(server);
    Ok(())
}

/// Imports `set` and returns how many events the import reported.
async fn import(server: &VigieServer, set: &str) -> Result<u64> {
    let imported = ok(server.cli(&["inventory", "import", set]).await?)?;
    let events = imported
        .stdout
        .split(';')
        .nth(1)
        .and_then(|tail| tail.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .context(format!("no event count in {}", imported.stdout))?;
    ensure!(events > 0, "the import published nothing: {}", imported.stdout);
    Ok(events)
}

/// `GET /metrics` on `addr`: the body.
pub(crate) async fn scrape(addr: &str) -> Result<String> {
    let answer = http(addr, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await?;
    ensure!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    ensure!(
        answer.contains("content-type: text/plain; version=0.0.4; charset=utf-8"),
        "{answer}"
    );
    Ok(answer
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default())
}

/// One raw HTTP/1.1 exchange (the server closes the connection).
async fn http(addr: &str, request: &str) -> Result<String> {
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    stream.write_all(request.as_bytes()).await?;
    let mut answer = String::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_string(&mut answer)).await??;
    Ok(answer)
}

/// The samples of `name` carrying every label of `labels`: (labels text, value).
fn samples(text: &str, name: &str, labels: &[(&str, &str)]) -> Vec<f64> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let (metric, rest) = series.split_once('{').unwrap_or((series, ""));
            (metric == name
                && labels
                    .iter()
                    .all(|(key, val)| rest.contains(&format!("{key}=\"{val}\""))))
            .then(|| value.parse().ok())
            .flatten()
        })
        .collect()
}

/// The value of the one series of `name` with `labels`.
fn value(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    match samples(text, name, labels).as_slice() {
        [one] => Some(*one),
        _ => None,
    }
}

/// The sum of the series of `name` with `labels`.
fn sum(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    samples(text, name, labels).iter().sum()
}
