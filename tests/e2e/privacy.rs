//! Personal-data rights end to end (docs/security.md, "Personal data"):
//! `vigie people erase` in the embedded mode, then every table of the three
//! SQLite files is scanned for the person's name and email.

use std::path::Path;
use std::time::Duration;

use anyhow::{ensure, Context, Result};
use sqlx::{AnyPool, Row};
use vigie_e2e::VigieServer;
use vigie_testkit::eventually;
use vigie_testkit::scan::{contains, stored_values};

use crate::ok;

async fn open(dir: &Path, name: &str) -> Result<AnyPool> {
    sqlx::any::install_default_drivers();
    let url = format!("sqlite://{}?mode=ro", dir.join(format!("{name}.sqlite")).display());
    Ok(AnyPool::connect(&url).await?)
}

/// Where the name or the email still appears: `db:table.column`, except in
/// outbox rows published before `erased_at` (the historical stream's
/// retention, see docs/security.md).
async fn holders(dir: &Path, name: &str, email: &str, erased_at: &str) -> Result<Vec<String>> {
    let mut found = Vec::new();
    for db in ["inventory", "training", "facilitation"] {
        let pool = open(dir, db).await?;
        for value in stored_values(&pool, "%").await? {
            if value.table != "vigie_outbox" && (value.contains(name) || value.contains(email)) {
                found.push(format!("{db}:{}.{}", value.table, value.column));
            }
        }
        for row in sqlx::query("SELECT payload, published_at, event_type, subject FROM vigie_outbox")
            .fetch_all(&pool)
            .await?
        {
            let payload: Vec<u8> = row.try_get("payload")?;
            let published: Option<String> = row.try_get("published_at")?;
            let historical = published.as_deref().is_some_and(|at| at < erased_at);
            if !historical && (contains(&payload, name) || contains(&payload, email)) {
                found.push(format!(
                    "{db}:vigie_outbox.payload ({} {} published {published:?})",
                    row.try_get::<String, _>("event_type")?,
                    row.try_get::<String, _>("subject")?
                ));
            }
        }
        pool.close().await;
    }
    Ok(found)
}

#[tokio::test]
async fn embedded_erasure_leaves_no_name_or_email() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().to_str().unwrap_or_default().to_owned();
    let server = VigieServer::start(&["dev", "--listen", "127.0.0.1:0", "--data-dir", &data, "--demo"], &[]).await?;
    let inventory = open(dir.path(), "inventory").await?;
    let row = sqlx::query(
        "SELECT person_id, display_name, email FROM inv_people \
         WHERE email IS NOT NULL AND email <> '' ORDER BY person_id LIMIT 1",
    )
    .fetch_optional(&inventory)
    .await?
    .context("no person with an email in the demo")?;
    let (person, name, email): (String, String, String) = (
        row.try_get("person_id")?,
        row.try_get("display_name")?,
        row.try_get("email")?,
    );
    inventory.close().await;
    // The read models are fed by events: wait until training knows the person.
    eventually(
        "the training read model knows the person",
        Duration::from_secs(30),
        || async {
            let pool = open(dir.path(), "training").await?;
            let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM tr_people WHERE person_id = $1")
                .bind(person.clone())
                .fetch_one(&pool)
                .await?
                .try_get("n")?;
            pool.close().await;
            Ok(n == 1)
        },
    )
    .await?;

    let export = ok(server.cli(&["people", "export", &person, "--format", "json"]).await?)?;
    let json: serde_json::Value = serde_json::from_str(&export.stdout)?;
    ensure!(json["person"]["email"] == email.as_str(), "{json}");

    let refused = server.cli(&["people", "erase", &person]).await?;
    ensure!(!refused.success && refused.stderr.contains("--yes"), "{refused:?}");
    let erased_at = chrono::Utc::now().to_rfc3339();
    let done = ok(server.cli(&["people", "erase", &person, "--yes"]).await?)?;
    ensure!(done.stdout.contains("effacée"), "{done:?}");

    let waited = eventually(
        "no table holds the name or the email",
        Duration::from_secs(30),
        || async { Ok(holders(dir.path(), &name, &email, &erased_at).await?.is_empty()) },
    )
    .await;
    if let Err(error) = waited {
        let still = holders(dir.path(), &name, &email, &erased_at).await?;
        return Err(error.context(format!("{name} / {email} still in {still:?}")));
    }
    let again = ok(server.cli(&["people", "erase", &person, "--yes"]).await?)?;
    ensure!(again.stdout.contains("déjà effacée"), "{again:?}");
    server.kill().await
}
