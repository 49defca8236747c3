//! `vigie events dead-letters list|replay` against a running `vigie dev`:
//! an undecodable event is dead-lettered by every consumer, listed, and a
//! replay re-delivers it to one consumer (which refuses it again: the
//! payload is still broken), while valid events keep flowing.

use anyhow::{ensure, Result};
use vigie_e2e::{run_cli, VigieServer};
use vigie_platform::db::Db;
use vigie_platform::events::{EventDraft, Outbox};

use crate::ok;

const INVENTORIED: &str = "vigie.inventory.structure.inventoried.v1";

#[tokio::test]
async fn dead_letters_are_listed_and_replayed_in_embedded_mode() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let data_dir = dir.path().to_str().unwrap_or_default().to_owned();
    let server = VigieServer::dev(&data_dir, &[], &[]).await?;

    let empty = ok(run_cli(&["events", "dead-letters", "list", "--data-dir", &data_dir]).await?)?;
    ensure!(empty.stdout.contains("Aucune lettre morte"), "{}", empty.stdout);

    // A producer bug: an event whose payload does not decode, committed in
    // the inventory's outbox like any other.
    let inventory = Db::connect(&format!("sqlite://{data_dir}/inventory.sqlite")).await?;
    let mut tx = inventory.begin().await?;
    let poison = Outbox::new("/vigie/inventory")
        .append(&mut tx, EventDraft::new(INVENTORIED, "S-POISON", b"garbage".to_vec()))
        .await?;
    tx.commit().await?;
    inventory.close().await;

    let mut listed = serde_json::Value::Null;
    for _ in 0..100 {
        let output = list_json(&data_dir).await?;
        listed = serde_json::from_str(&output.stdout)?;
        if listed.as_array().is_some_and(|letters| letters.len() >= 3) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let letters = listed.as_array().cloned().unwrap_or_default();
    ensure!(
        letters.len() == 3,
        "one dead letter per consumer of the type: {listed:#}"
    );
    for letter in &letters {
        ensure!(letter["event_id"] == poison.to_string(), "{letter:#}");
        ensure!(letter["event_type"] == INVENTORIED, "{letter:#}");
        ensure!(letter["subject"] == "S-POISON", "{letter:#}");
        ensure!(letter["deliveries"] == 1, "{letter:#}");
        ensure!(
            letter["error"]
                .as_str()
                .is_some_and(|e| e.contains("permanent failure")),
            "{letter:#}"
        );
    }
    let table = ok(run_cli(&["events", "dead-letters", "list", "--data-dir", &data_dir]).await?)?;
    for column in ["sujet", "type", "id", "consommateur", "erreur", "date", "livraisons"] {
        ensure!(table.stdout.contains(column), "{}", table.stdout);
    }
    ensure!(table.stdout.contains(&poison.to_string()), "{}", table.stdout);

    // Replayed to one consumer: delivered once more, refused again (the
    // payload is still broken), kept with two deliveries; the others untouched.
    let consumer = letters[0]["consumer"].as_str().unwrap_or_default().to_owned();
    let replay = replay_embedded(&poison.to_string(), &consumer, &data_dir).await?;
    ensure!(
        !replay.success && replay.stderr.contains("de nouveau refusé"),
        "stdout:\n{}\nstderr:\n{}",
        replay.stdout,
        replay.stderr
    );
    let after = list_json(&data_dir).await?;
    let after: serde_json::Value = serde_json::from_str(&after.stdout)?;
    let deliveries: Vec<(String, i64)> = after
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|l| {
            (
                l["consumer"].as_str().unwrap_or_default().to_owned(),
                l["deliveries"].as_i64().unwrap_or(0),
            )
        })
        .collect();
    ensure!(deliveries.len() == 3, "{after:#}");
    for (name, count) in &deliveries {
        ensure!(*count == if *name == consumer { 2 } else { 1 }, "{deliveries:?}");
    }

    let unknown = replay_embedded(&uuid::Uuid::now_v7().to_string(), &consumer, &data_dir).await?;
    ensure!(
        !unknown.success && unknown.stderr.contains("aucune lettre morte"),
        "{}",
        unknown.stderr
    );
    drop(server);
    Ok(())
}

#[tokio::test]
async fn dead_letters_are_listed_and_replayed_in_distributed_mode() -> Result<()> {
    let nats = vigie_testkit::NatsServer::start().await;
    let db = vigie_testkit::PgDatabase::create().await;
    let url = nats.url();
    let server = VigieServer::serve("training", db.url(), &url, &[]).await?;
    let empty = ok(run_cli(&["events", "dead-letters", "list", "--nats-url", &url]).await?)?;
    ensure!(empty.stdout.contains("Aucune lettre morte"), "{}", empty.stdout);

    // Something publishes a CloudEvent whose payload does not decode.
    let js = vigie_platform::events::jetstream::connect(&url, "e2e").await?;
    let poison = uuid::Uuid::now_v7();
    let mut envelope =
        vigie_platform::events::Envelope::new("/vigie/inventory", INVENTORIED, "S-POISON", b"garbage".to_vec());
    envelope.id = poison;
    js.publish_with_headers(INVENTORIED, envelope.to_headers(), envelope.payload.clone())
        .await?
        .await?;

    let list = || async {
        let output = ok(run_cli(&["events", "dead-letters", "list", "--nats-url", &url, "--format", "json"]).await?)?;
        let value: serde_json::Value = serde_json::from_str(&output.stdout)?;
        anyhow::Ok(value.as_array().cloned().unwrap_or_default())
    };
    let mut letters = Vec::new();
    for _ in 0..100 {
        letters = list().await?;
        if !letters.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    ensure!(letters.len() == 1, "{letters:?}");
    let letter = &letters[0];
    ensure!(letter["consumer"] == "training-inventory", "{letter:#}");
    ensure!(letter["event_id"] == poison.to_string(), "{letter:#}");
    ensure!(
        letter["event_type"] == INVENTORIED && letter["subject"] == "S-POISON",
        "{letter:#}"
    );
    ensure!(letter["location"] == "VIGIE_DEADLETTER#1", "{letter:#}");

    // Replayed: re-published for training-inventory, removed; the payload is
    // still broken, so the consumer dead-letters it again, as a new letter.
    let replay = ok(run_cli(&[
        "events",
        "dead-letters",
        "replay",
        &poison.to_string(),
        "--consumer",
        "training-inventory",
        "--nats-url",
        &url,
    ])
    .await?)?;
    ensure!(replay.stdout.contains("relivré"), "{}", replay.stdout);
    let mut again = Vec::new();
    for _ in 0..100 {
        again = list().await?;
        if again.iter().any(|l| l["location"] != "VIGIE_DEADLETTER#1") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    ensure!(
        again.len() == 1,
        "the replayed letter is removed, the new failure recorded: {again:?}"
    );
    ensure!(again[0]["location"] == "VIGIE_DEADLETTER#2", "{again:?}");
    ensure!(again[0]["event_id"] == poison.to_string(), "{again:?}");
    drop(server);
    Ok(())
}

/// `vigie events dead-letters replay <letter> --consumer <consumer>` on
/// the embedded platform's data folder.
async fn replay_embedded(letter: &str, consumer: &str, data_dir: &str) -> Result<vigie_e2e::CliOutput> {
    run_cli(&[
        "events",
        "dead-letters",
        "replay",
        letter,
        "--consumer",
        consumer,
        "--data-dir",
        data_dir,
    ])
    .await
}

/// `vigie events dead-letters list --format json` on the data directory `data_dir`.
async fn list_json(data_dir: &str) -> Result<vigie_e2e::CliOutput> {
    ok(run_cli(&[
        "events",
        "dead-letters",
        "list",
        "--data-dir",
        data_dir,
        "--format",
        "json",
    ])
    .await?)
}
