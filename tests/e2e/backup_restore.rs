//! The operator's runbook (docs/operations.md, « Runbook »), run for real:
//! backup and restore of the inventory with `pg_dump` / `pg_restore`, a
//! consumer rebuilt by `vigie admin resync` (distributed and embedded), a
//! consumer restored on a new broker fed again from the producer's outbox,
//! replicas migrating a fresh database at once, and the rotation of the
//! alerting link key.

use std::path::Path;
use std::time::Duration;

use anyhow::{ensure, Context, Result};
use serde_json::Value;
use tokio::process::Command;
use vigie_e2e::{run_cli, VigieServer};
use vigie_testkit::{eventually, NatsServer, PgDatabase};

use crate::ok;
use crate::training::structure_ids;

/// What the inventory exports: every structure's fragility, and the rollup.
async fn inventory_state(inventory: &VigieServer) -> Result<(Value, Value)> {
    let fragility = ok(inventory.cli(&["inventory", "fragility", "--format", "json"]).await?)?;
    let rollup = ok(inventory.cli(&["inventory", "rollup", "--format", "json"]).await?)?;
    Ok((
        serde_json::from_str(&fragility.stdout)?,
        serde_json::from_str(&rollup.stdout)?,
    ))
}

/// The training service's view of each structure (its read model, fed by
/// inventory snapshots): the current band and score of its plan, or `None`
/// when it does not know the structure.
async fn training_view(training: &VigieServer, structures: &[String]) -> Result<Vec<Option<Value>>> {
    let mut view = Vec::new();
    for structure in structures {
        let out = training
            .cli(&["training", "plan", "--structure", structure, "--format", "json"])
            .await?;
        view.push(if out.success {
            let plan: Value = serde_json::from_str(&out.stdout)?;
            Some(plan["current"].clone())
        } else {
            None
        });
    }
    Ok(view)
}

/// Waits until the training service knows `structure` (its last snapshot arrived).
async fn training_knows(training: &VigieServer, structure: &str) -> Result<()> {
    eventually(
        "the training read model has the structure",
        Duration::from_secs(30),
        || async {
            Ok(training
                .cli(&["training", "plan", "--structure", structure, "--format", "json"])
                .await?
                .success)
        },
    )
    .await
}

/// Drops a service's database (its service stopped) and creates it again,
/// empty: the loss a restore starts from.
async fn recreate_empty(db: &PgDatabase) -> Result<()> {
    let admin = admin_url(db);
    let name = db.name();
    pg_tool(
        "psql",
        &[&admin, "-c", &format!(r#"DROP DATABASE "{name}" WITH (FORCE)"#)],
    )
    .await?;
    pg_tool("psql", &[&admin, "-c", &format!(r#"CREATE DATABASE "{name}""#)]).await
}

/// Runs a PostgreSQL client tool (`pg_dump`, `pg_restore`, `psql`) and fails with its output.
async fn pg_tool(program: &str, args: &[&str]) -> Result<()> {
    let output = Command::new(program)
        .args(args)
        .output()
        .await
        .with_context(|| format!("running {program}"))?;
    ensure!(
        output.status.success(),
        "{program} {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(())
}

/// The administrative URL of the server holding `database` (same server, database `postgres`).
fn admin_url(database: &PgDatabase) -> String {
    let url = database.url();
    let cut = url.rfind('/').unwrap_or(url.len());
    format!("{}/postgres", &url[..cut])
}

#[tokio::test]
async fn inventory_restored_from_pg_dump_is_identical_and_consumers_converge() -> Result<()> {
    let nats = NatsServer::start().await;
    let (inventory_db, training_db) = (PgDatabase::create().await, PgDatabase::create().await);
    let dir = tempfile::tempdir()?;
    let generate = |seed: &'static str, name: &str| {
        let set = dir.path().join(name).to_str().unwrap_or_default().to_owned();
        async move {
            ok(run_cli(&["inventory", "generate", "--structures", "15", "--seed", seed, &set]).await?)?;
            Ok::<_, anyhow::Error>(set)
        }
    };
    let (set, later_set) = (generate("21", "set").await?, generate("22", "later").await?);

    let url = nats.url();
    let inventory = VigieServer::serve("inventory", inventory_db.url(), &url, &[]).await?;
    let training = VigieServer::serve("training", training_db.url(), &url, &[]).await?;
    ok(inventory.cli(&["inventory", "import", &set]).await?)?;
    let structures = structure_ids(&inventory).await?;
    ensure!(structures.len() == 15, "{structures:?}");
    let last = structures.last().context("no structure")?.clone();
    training_knows(&training, &last).await?;
    let inventory_before = inventory_state(&inventory).await?;
    let training_before = training_view(&training, &structures).await?;
    ensure!(training_before.iter().all(Option::is_some), "{training_before:?}");

    // Backup: a custom-format dump of the inventory's database, service running.
    let dump = dir.path().join("inventory.dump");
    let dump_arg = dump.to_str().unwrap_or_default();
    pg_tool("pg_dump", &["--format=custom", "--file", dump_arg, inventory_db.url()]).await?;

    // Changes after the dump reach the training service, then the
    // inventory's database is lost: the consumer is now AHEAD of the backup.
    ok(inventory.cli(&["inventory", "import", &later_set]).await?)?;
    eventually("the later changes reach training", Duration::from_secs(60), || async {
        Ok(training_view(&training, &structures).await? != training_before)
    })
    .await?;
    inventory.kill().await?;
    recreate_empty(&inventory_db).await?;

    // Restore, then (service still stopped) restate the restored state with
    // versions above those the consumer holds; the relay publishes at start.
    pg_tool(
        "pg_restore",
        &[
            "--no-owner",
            "--exit-on-error",
            "--dbname",
            inventory_db.url(),
            dump_arg,
        ],
    )
    .await?;
    let resync = ok(run_cli(&[
        "admin",
        "resync",
        "--new-versions",
        "--database-url",
        inventory_db.url(),
    ])
    .await?)?;
    ensure!(
        resync.stdout.contains("15 instantanés et 15 évaluations"),
        "{}",
        resync.stdout
    );
    let inventory = VigieServer::serve("inventory", inventory_db.url(), &url, &[]).await?;
    ensure!(
        inventory_state(&inventory).await? == inventory_before,
        "the restored inventory differs from the one dumped"
    );
    eventually(
        "training converges to the restored state",
        Duration::from_secs(60),
        || async { Ok(training_view(&training, &structures).await? == training_before) },
    )
    .await?;

    // A plain resync (same versions) changes nothing anywhere.
    ok(run_cli(&["admin", "resync", "--database-url", inventory_db.url()]).await?)?;
    ensure!(
        inventory_state(&inventory).await? == inventory_before,
        "a resync changed the inventory"
    );
    ensure!(
        training_view(&training, &structures).await? == training_before,
        "a second resync changed the training read model"
    );

    // An unknown structure: refused, nothing appended.
    let refused = run_cli(&[
        "admin",
        "resync",
        "--structure",
        "inconnue",
        "--database-url",
        inventory_db.url(),
    ])
    .await?;
    ensure!(!refused.success && refused.stderr.contains("inconnue"), "{refused:?}");
    Ok(())
}

/// One value from `psql -At -c SQL` on `database`.
async fn psql_value(database: &str, sql: &str) -> Result<String> {
    let output = Command::new("psql").args([database, "-At", "-c", sql]).output().await?;
    ensure!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

#[tokio::test]
async fn consumer_restored_on_a_new_broker_catches_up_by_outbox_replay() -> Result<()> {
    let mut nats = NatsServer::start().await;
    let (inventory_db, training_db) = (PgDatabase::create().await, PgDatabase::create().await);
    let dir = tempfile::tempdir()?;
    let (set, later_set) = (dir.path().join("set"), dir.path().join("later"));
    let (set, later_set) = (set.to_str().unwrap_or_default(), later_set.to_str().unwrap_or_default());
    ok(run_cli(&["inventory", "generate", "--structures", "12", "--seed", "31", set]).await?)?;
    ok(run_cli(&["inventory", "generate", "--structures", "12", "--seed", "32", later_set]).await?)?;
    let catalogue = dir.path().join("catalogue");
    std::fs::create_dir_all(&catalogue)?;
    let files = vigie_training::demo::catalogue(chrono::Local::now().date_naive());
    std::fs::write(catalogue.join("trainings.csv"), &files.trainings)?;
    std::fs::write(catalogue.join("sessions.csv"), &files.sessions)?;

    let url = nats.url();
    let inventory = VigieServer::serve("inventory", inventory_db.url(), &url, &[]).await?;
    let training = VigieServer::serve("training", training_db.url(), &url, &[]).await?;
    ok(training
        .cli(&["training", "catalog", "import", catalogue.to_str().unwrap_or_default()])
        .await?)?;
    ok(inventory.cli(&["inventory", "import", set]).await?)?;
    let structures = structure_ids(&inventory).await?;
    training_knows(&training, structures.last().context("no structure")?).await?;
    let at_dump = training_view(&training, &structures).await?;
    let sessions = ok(training.cli(&["training", "sessions", "--format", "json"]).await?)?.stdout;

    // Nightly dump of the training service; the operator notes when it was taken.
    let dumped_at = psql_value(
        training_db.url(),
        "SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')",
    )
    .await?;
    let dump = dir.path().join("training.dump");
    let dump_arg = dump.to_str().unwrap_or_default();
    pg_tool("pg_dump", &["--format=custom", "--file", dump_arg, training_db.url()]).await?;

    // Later changes reach training; then training's database AND the broker are lost.
    ok(inventory.cli(&["inventory", "import", later_set]).await?)?;
    eventually("the later changes reach training", Duration::from_secs(60), || async {
        Ok(training_view(&training, &structures).await? != at_dump)
    })
    .await?;
    let latest = training_view(&training, &structures).await?;
    inventory.kill().await?;
    training.kill().await?;
    nats.stop().await;
    recreate_empty(&training_db).await?;
    pg_tool(
        "pg_restore",
        &["--no-owner", "--exit-on-error", "--dbname", training_db.url(), dump_arg],
    )
    .await?;

    // A new broker; the restored training service is back at the dump.
    let fresh = NatsServer::start().await;
    let url = fresh.url();
    // The inventory runs for its relay, which publishes the replay below.
    let _inventory = VigieServer::serve("inventory", inventory_db.url(), &url, &[]).await?;
    let training = VigieServer::serve("training", training_db.url(), &url, &[]).await?;
    let restored_sessions = ok(training.cli(&["training", "sessions", "--format", "json"]).await?)?.stdout;
    ensure!(
        restored_sessions == sessions,
        "the restored training service differs from the dump"
    );
    ensure!(
        training_view(&training, &structures).await? == at_dump,
        "the restored read model should be the one of the dump"
    );

    // Replay from the producer's outbox what was published since the dump:
    // the relay sends it again to the new stream, with the same ids.
    let replayed = psql_value(
        inventory_db.url(),
        &format!("WITH r AS (UPDATE vigie_outbox SET published_at = NULL, attempts = 0 WHERE event_time >= '{dumped_at}' RETURNING 1) SELECT count(*) FROM r"),
    )
    .await?;
    ensure!(
        replayed.parse::<u64>().unwrap_or(0) > 0,
        "nothing to replay since {dumped_at}"
    );
    eventually(
        "training catches up with the replayed events",
        Duration::from_secs(60),
        || async { Ok(training_view(&training, &structures).await? == latest) },
    )
    .await?;
    eventually(
        "every replayed row published again",
        Duration::from_secs(30),
        || async {
            Ok(psql_value(
                inventory_db.url(),
                "SELECT count(*) FROM vigie_outbox WHERE published_at IS NULL",
            )
            .await?
                == "0")
        },
    )
    .await?;
    Ok(())
}

#[tokio::test]
async fn embedded_resync_feeds_a_consumer_that_starts_empty() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().to_str().unwrap_or_default().to_owned();
    let args = ["dev", "--listen", "127.0.0.1:0", "--data-dir", &data, "--demo"];
    let server = VigieServer::start(&args, &[]).await?;
    let structures: Vec<String> = structure_ids(&server).await?.into_iter().take(10).collect();
    let last = structures.last().context("no structure")?.clone();
    training_knows(&server, &last).await?;
    let before = training_view(&server, &structures).await?;
    // A clean stop: every event already delivered is marked published (a
    // kill -9 may leave the last ones to publish again at the next start,
    // which would feed the new database before the resync does).
    server.stop().await?;

    // The training service's file is lost (or the consumer is new): at the
    // next start its read model is empty, since every inventory event was
    // already delivered.
    remove_sqlite(&dir.path().join("training.sqlite"))?;
    let server = VigieServer::start(&args, &[]).await?;
    ensure!(
        training_view(&server, std::slice::from_ref(&last)).await? == vec![None],
        "a new training database should start empty"
    );

    let resync = ok(run_cli(&["admin", "resync", "--data-dir", &data]).await?)?;
    ensure!(resync.stdout.contains("instantanés"), "{}", resync.stdout);
    training_knows(&server, &last).await?;
    ensure!(
        training_view(&server, &structures).await? == before,
        "the training read model did not converge"
    );

    // Without a Vigie data directory, the command says where to look.
    let empty = tempfile::tempdir()?;
    let refused = run_cli(&[
        "admin",
        "resync",
        "--data-dir",
        empty.path().to_str().unwrap_or_default(),
    ])
    .await?;
    ensure!(!refused.success && refused.stderr.contains("--data-dir"), "{refused:?}");
    Ok(())
}

/// Removes a SQLite file and its WAL companions.
fn remove_sqlite(path: &Path) -> Result<()> {
    for suffix in ["", "-wal", "-shm"] {
        let file = format!("{}{suffix}", path.display());
        match std::fs::remove_file(&file) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => return Err(error).with_context(|| format!("removing {file}")),
        }
    }
    Ok(())
}

#[tokio::test]
async fn two_replicas_migrate_a_fresh_database_at_once() -> Result<()> {
    let nats = NatsServer::start().await;
    let db = PgDatabase::create().await;
    let url = nats.url();
    // Both processes start together on the empty database, as two replicas
    // of a rolling upgrade (or a first deployment) do.
    let (first, second) = tokio::join!(
        VigieServer::serve("inventory", db.url(), &url, &[]),
        VigieServer::serve("inventory", db.url(), &url, &[])
    );
    let (first, second) = (first?, second?);
    ensure!(first.endpoint != second.endpoint, "two processes");
    // Each migration recorded once, and the schema usable through both.
    let psql = Command::new("psql")
        .args([
            db.url(),
            "-At",
            "-c",
            "SELECT component, COUNT(*), COUNT(DISTINCT version) FROM vigie_migrations GROUP BY component ORDER BY component",
        ])
        .output()
        .await?;
    ensure!(psql.status.success(), "{}", String::from_utf8_lossy(&psql.stderr));
    let history = String::from_utf8_lossy(&psql.stdout).into_owned();
    let components: Vec<&str> = history.lines().collect();
    ensure!(components.len() == 2, "events and inventory migrated: {history}");
    for line in &components {
        let fields: Vec<&str> = line.split('|').collect();
        ensure!(
            fields.len() == 3 && fields[1] == fields[2],
            "a migration recorded twice: {history}"
        );
    }
    for server in [&first, &second] {
        ok(server.cli(&["inventory", "rollup", "--format", "json"]).await?)?;
    }
    Ok(())
}

/// `vigie dev --demo` on `data` with the `[alerting]` section `alerting`
/// (HTTP endpoints on a free loopback port).
async fn dev_with_alerting(dir: &Path, data: &str, name: &str, alerting: &str) -> Result<VigieServer> {
    let config = dir.join(name);
    std::fs::write(
        &config,
        format!("[alerting]\nhttp_listen = \"127.0.0.1:0\"\n{alerting}"),
    )?;
    let config = config.to_str().unwrap_or_default().to_owned();
    let args = [
        "dev",
        "--demo",
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        data,
        "--config",
        &config,
    ];
    VigieServer::start(&args, &[]).await
}

/// The status of GET on `url`'s path at the HTTP endpoints of the server
/// whose current feed URL is `current` (the port changes at each start).
async fn status_on(current: &str, url: &str) -> Result<u16> {
    use crate::alerting::{base_of, http};
    let path = url.strip_prefix(base_of(url)?.as_str()).unwrap_or_default();
    Ok(http("GET", &format!("{}{path}", base_of(current)?)).await?.0)
}

/// The feed URL of S000001 once the alerting read model knows it.
async fn feed_url(server: &VigieServer) -> Result<String> {
    let found = std::sync::Mutex::new(String::new());
    eventually(
        "the calendar feed of S000001 opens",
        Duration::from_secs(30),
        || async {
            let out = server.cli(&["alerts", "feed", "--structure", "S000001"]).await?;
            let url = out.stdout.trim().to_owned();
            if !out.success || status_on(&url, &url).await? != 200 {
                return Ok(false);
            }
            *found.lock().unwrap_or_else(|e| e.into_inner()) = url;
            Ok(true)
        },
    )
    .await?;
    let url = found.lock().unwrap_or_else(|e| e.into_inner()).clone();
    Ok(url)
}

#[tokio::test]
async fn rotating_the_link_key_keeps_old_links_until_the_old_key_is_removed() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    let data = data.to_str().unwrap_or_default();
    let (old, new) = (
        "old-link-key-0123456789abcdef-0123",
        "new-link-key-0123456789abcdef-4567",
    );

    let server = dev_with_alerting(dir.path(), data, "key1.toml", &format!("link_secret = \"{old}\"\n")).await?;
    let first = feed_url(&server).await?;
    server.kill().await?;

    // Step 1 of the runbook: a new key under a new id, the old one kept by its id.
    let rotated =
        format!("link_key_id = \"2\"\nlink_secret = \"{new}\"\nprevious_link_secrets = {{ \"1\" = \"{old}\" }}\n");
    let server = dev_with_alerting(dir.path(), data, "key2.toml", &rotated).await?;
    let second = feed_url(&server).await?;
    ensure!(
        second.rsplit('/').next() != first.rsplit('/').next(),
        "the new key signs new links: {first} / {second}"
    );
    ensure!(
        status_on(&second, &first).await? == 200,
        "a link signed with the old key still opens"
    );
    server.kill().await?;

    // Step 2: the old key removed, its links die; the new ones still open.
    let server = dev_with_alerting(
        dir.path(),
        data,
        "key2-only.toml",
        &format!("link_key_id = \"2\"\nlink_secret = \"{new}\"\n"),
    )
    .await?;
    let third = feed_url(&server).await?;
    ensure!(status_on(&third, &second).await? == 200, "a link of the new key opens");
    let refused = status_on(&third, &first).await?;
    ensure!(refused == 404, "a link of the removed key answered {refused}");
    Ok(())
}
