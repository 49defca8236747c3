//! Issue 13, item 5: one training completion is one trace across two
//! `vigie serve` processes, PostgreSQL and nats-server, as an OpenTelemetry
//! collector receives it over OTLP/gRPC:
//!
//! ```text
//! vigie-training   grpc.request (…/Complete)      server, root
//! vigie-training   └ outbox.append                 the completion event, in the request's transaction
//! vigie-training     └ relay.publish               producer, after the commit
//!                        (JetStream, traceparent header)
//! vigie-inventory      └ consumer.process          consumer inventory-training-completed
//! vigie-inventory        └ fragility.assess        the structure re-assessed
//! ```
//!
//! The same processes export their metrics to the same receiver.

use std::time::Duration;

use anyhow::{ensure, Context, Result};
use vigie_e2e::{run_cli, VigieServer};
use vigie_testkit::{eventually, NatsServer, OtlpReceiver, PgDatabase, ReceivedSpan};

use crate::ok;
use crate::training::{complete, enrol, find_step, structure_ids, write_catalogue, Step};

const TRAINING: &str = "vigie-training";
const INVENTORY: &str = "vigie-inventory";
const COMPLETE_METHOD: &str = "/vigie.training.v1.TrainingService/Complete";
const COMPLETED_EVENT: &str = "vigie.training.enrolment.completed.v1";
const COMPLETION_CONSUMER: &str = "inventory-training-completed";

#[tokio::test]
async fn one_training_completion_is_one_trace_across_both_services() -> Result<()> {
    let receiver = OtlpReceiver::start().await;
    let nats = NatsServer::start().await;
    let (inventory_db, training_db) = (PgDatabase::create().await, PgDatabase::create().await);
    let url = nats.url();
    // Short export periods so the test waits for the data, not for timers.
    let otel = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint()),
        ("OTEL_BSP_SCHEDULE_DELAY", "100"),
        ("OTEL_METRIC_EXPORT_INTERVAL", "500"),
    ];
    let inventory = VigieServer::serve("inventory", inventory_db.url(), &url, &otel).await?;
    let training = VigieServer::serve("training", training_db.url(), &url, &otel).await?;
    let step = prepare_a_completion(&inventory, &training).await?;

    ok(enrol(&training, &step).await?)?;
    let today = chrono::Local::now().date_naive().to_string();
    ok(complete(&training, &step, &today).await?)?;

    // Spans come in batches from two processes: wait for the whole chain.
    eventually(
        "the completion's trace reaches the receiver",
        Duration::from_secs(30),
        || async { Ok(completion_trace(&receiver.spans()).is_ok()) },
    )
    .await
    .or_else(|_| completion_trace(&receiver.spans()).map(|_| ()))?;
    let chain = completion_trace(&receiver.spans())?;

    let [request, append, publish, process, assess] = &chain;
    ensure!(
        request.parent_span_id.is_empty(),
        "the trace starts at the gRPC server: {request:?}"
    );
    ensure!(
        request.kind == SERVER && publish.kind == PRODUCER && process.kind == CONSUMER,
        "span kinds: {chain:?}"
    );
    ensure!(append.attribute("event_type") == Some(COMPLETED_EVENT), "{append:?}");
    ensure!(publish.attribute("event_type") == Some(COMPLETED_EVENT), "{publish:?}");
    ensure!(
        process.attribute("consumer") == Some(COMPLETION_CONSUMER),
        "{process:?}"
    );
    ensure!(assess.attribute("structures") == Some("1"), "{assess:?}");
    ensure!(
        assess.attribute("changed") == Some("1"),
        "the plan predicted a change: {assess:?}"
    );
    // No personal data on the spans: the learner's id appears nowhere.
    for span in receiver.spans().iter().filter(|span| span.trace_id == request.trace_id) {
        ensure!(
            span.attributes.iter().all(|(_, value)| !value.contains(&step.person)),
            "a span carries the learner's id: {span:?}"
        );
    }

    // The same exporters carry the metrics.
    eventually("metrics over OTLP", Duration::from_secs(30), || async {
        Ok(missing_metrics(&receiver).is_empty())
    })
    .await
    .with_context(|| format!("missing: {:?}", missing_metrics(&receiver)))?;
    Ok(())
}

/// OTLP span kinds.
const SERVER: i32 = 2;
const PRODUCER: i32 = 4;
const CONSUMER: i32 = 5;

/// Two services on one nats-server, an imported inventory and catalogue, and
/// a plan step whose completion moves a structure's fragility.
async fn prepare_a_completion(inventory: &VigieServer, training: &VigieServer) -> Result<Step> {
    let dir = tempfile::tempdir()?;
    let set = dir.path().join("set");
    let set_arg = set.to_str().unwrap_or_default();
    ok(run_cli(&["inventory", "generate", "--structures", "40", "--seed", "11", set_arg]).await?)?;
    ok(inventory.cli(&["inventory", "import", set_arg]).await?)?;
    let catalogue = dir.path().join("catalogue");
    write_catalogue(&catalogue)?;
    ok(training
        .cli(&["training", "catalog", "import", catalogue.to_str().unwrap_or_default()])
        .await?)?;
    let structures = structure_ids(inventory).await?;
    let last = structures.last().cloned().unwrap_or_default();
    eventually("the training read model is fed", Duration::from_secs(30), || async {
        Ok(training
            .cli(&["training", "plan", "--structure", &last, "--format", "json"])
            .await?
            .success)
    })
    .await?;
    find_step(training, &structures).await
}

/// The completion's spans, from the gRPC request to the re-assessment, each
/// the parent of the next, all in one trace.
fn completion_trace(spans: &[ReceivedSpan]) -> Result<[ReceivedSpan; 5]> {
    let requests: Vec<&ReceivedSpan> = spans
        .iter()
        .filter(|span| {
            span.service == TRAINING
                && span.name == "grpc.request"
                && span.attribute("rpc.method") == Some(COMPLETE_METHOD)
        })
        .collect();
    let [request] = requests.as_slice() else {
        anyhow::bail!("{} Complete request spans, 1 expected", requests.len());
    };
    let append = only_child(spans, request, TRAINING, "outbox.append")?;
    let publish = only_child(spans, append, TRAINING, "relay.publish")?;
    let process = only_child(spans, publish, INVENTORY, "consumer.process")?;
    let assess = only_child(spans, process, INVENTORY, "fragility.assess")?;
    Ok([
        (*request).clone(),
        append.clone(),
        publish.clone(),
        process.clone(),
        assess.clone(),
    ])
}

/// The one span `name` of `service` whose parent is `parent`, in its trace.
fn only_child<'a>(
    spans: &'a [ReceivedSpan],
    parent: &ReceivedSpan,
    service: &str,
    name: &str,
) -> Result<&'a ReceivedSpan> {
    let children: Vec<&ReceivedSpan> = spans
        .iter()
        .filter(|span| {
            span.service == service
                && span.name == name
                && span.trace_id == parent.trace_id
                && span.parent_span_id == parent.span_id
        })
        .collect();
    match children.as_slice() {
        [child] => Ok(child),
        other => anyhow::bail!(
            "{} {service} {name} spans under {} {}, 1 expected",
            other.len(),
            parent.service,
            parent.name
        ),
    }
}

/// The metrics not received yet: events published by the training relay,
/// consumed by the inventory, and the training's RPC durations.
fn missing_metrics(receiver: &OtlpReceiver) -> Vec<&'static str> {
    let metrics = receiver.metrics();
    let has = |service: &str, wanted: &dyn Fn(&str) -> bool| {
        metrics
            .iter()
            .any(|metric| metric.service == service && metric.points > 0 && wanted(&metric.name))
    };
    let mut missing = Vec::new();
    if !has(TRAINING, &|name| name == "vigie.events.published") {
        missing.push("vigie.events.published (training)");
    }
    if !has(INVENTORY, &|name| name == "vigie.events.consumed") {
        missing.push("vigie.events.consumed (inventory)");
    }
    if !has(TRAINING, &|name| name == "vigie.rpc.duration") {
        missing.push("vigie.rpc.duration (training)");
    }
    // The operator's gauges and counters (docs/operations.md, "Metrics"):
    // outbox lag of the producer, consumer lag and dead letters (reported
    // from zero) of the consumer, redeliveries.
    for (service, name) in [
        (TRAINING, "vigie.outbox.pending"),
        (TRAINING, "vigie.outbox.lag"),
        (INVENTORY, "vigie.consumer.pending"),
        (INVENTORY, "vigie.events.dead_letters"),
    ] {
        if !has(service, &|metric| metric == name) {
            missing.push(name);
        }
    }
    missing
}
