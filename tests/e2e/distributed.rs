//! `vigie serve inventory` on PostgreSQL and NATS JetStream: imports publish
//! their events to the inventory stream, in the CloudEvents envelope.

use anyhow::{ensure, Context, Result};
use futures::StreamExt;
use vigie_e2e::{run_cli, serve_args, VigieServer};
use vigie_testkit::{NatsServer, PgDatabase};

use crate::ok;

#[tokio::test]
async fn serve_inventory_publishes_import_events_to_jetstream() -> Result<()> {
    let nats = NatsServer::start().await;
    let db = PgDatabase::create().await;
    let dir = tempfile::tempdir()?;
    let set = dir.path().join("set");
    let set_arg = set.to_str().unwrap_or_default();
    ok(run_cli(&["inventory", "generate", "--structures", "12", "--seed", "9", set_arg]).await?)?;

    let refused = run_cli(&[
        "serve",
        "inventory",
        "--listen",
        "127.0.0.1:0",
        "--database-url",
        db.url(),
        "--nats-url",
        &nats.url(),
    ])
    .await?;
    ensure!(
        !refused.success && refused.stderr.contains("--auth none"),
        "auth must be explicit: {refused:?}"
    );
    // Services that pseudonymise erased people refuse to start without the
    // deployment's secret, before any connection.
    for service in ["training", "facilitation", "alerting"] {
        let refused = run_cli(&serve_args(service, db.url(), &nats.url())).await?;
        ensure!(
            !refused.success && refused.stderr.contains("pseudonym_secret"),
            "{service} needs the pseudonym secret: {refused:?}"
        );
    }

    let server = VigieServer::serve("inventory", db.url(), &nats.url(), &[]).await?;
    let imported = ok(server.cli(&["inventory", "import", set_arg]).await?)?;
    let events: u64 = imported
        .stdout
        .split(';')
        .nth(1)
        .and_then(|tail| tail.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .context(format!("no event count in {}", imported.stdout))?;
    ensure!(events >= 12, "at least one event per structure expected, got {events}");

    let client = async_nats::connect(nats.url()).await?;
    let js = async_nats::jetstream::new(client);
    let mut stream = js.get_stream("VIGIE_INVENTORY").await?;
    vigie_testkit::eventually("every event published", std::time::Duration::from_secs(20), || {
        let mut stream = stream.clone();
        async move { Ok(stream.info().await.map(|i| i.state.messages == events).unwrap_or(false)) }
    })
    .await?;
    let info = stream.info().await?;
    ensure!(
        info.state.messages == events,
        "stream holds {} messages, import reported {events}",
        info.state.messages
    );

    let consumer = stream
        .create_consumer(async_nats::jetstream::consumer::pull::Config {
            durable_name: None,
            ..Default::default()
        })
        .await?;
    let mut messages = consumer.fetch().max_messages(1).messages().await?;
    let message = messages
        .next()
        .await
        .context("no message")?
        .map_err(|e| anyhow::anyhow!(e))?;
    let headers = message.headers.clone().context("no headers")?;
    for name in [
        "ce-specversion",
        "ce-id",
        "ce-type",
        "ce-source",
        "ce-time",
        "ce-subject",
        "Nats-Msg-Id",
    ] {
        ensure!(headers.get(name).is_some(), "missing header {name}");
    }
    ensure!(
        headers.get("ce-id").map(|v| v.as_str()) == headers.get("Nats-Msg-Id").map(|v| v.as_str()),
        "Nats-Msg-Id must equal ce-id"
    );
    ensure!(
        message.subject.starts_with("vigie.inventory.structure."),
        "subject {}",
        message.subject
    );

    // Re-importing the same set publishes nothing more.
    let again = ok(server.cli(&["inventory", "import", set_arg]).await?)?;
    ensure!(again.stdout.contains("0 événements"), "{}", again.stdout);
    ensure!(
        stream.info().await?.state.messages == events,
        "re-import published events"
    );
    Ok(())
}
