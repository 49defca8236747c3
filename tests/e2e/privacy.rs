//! Personal-data rights end to end (docs/security.md, "Personal data"):
//! `vigie people erase` in the embedded mode, then the raw files of the four
//! services (each SQLite main file, `-wal` and `-shm`, and the `.eml` files
//! of `vigie dev` without SMTP) are scanned for the person's name and email,
//! and every table of the SQLite files too. The data directory and its
//! files are private (0700, 0600).

use std::path::Path;
use std::time::Duration;

use anyhow::{ensure, Context, Result};
use sqlx::{AnyPool, Row};
use vigie_e2e::VigieServer;
use vigie_testkit::eventually;
use vigie_testkit::scan::{contains, stored_values};

use crate::ok;

/// The four services' SQLite files.
const SERVICES: [&str; 4] = ["inventory", "training", "facilitation", "alerting"];

/// Every raw file of the data directory that holds `name` or `email`: the
/// SQLite files byte for byte (free pages and WAL included) and the mails.
fn raw_holders(dir: &Path, name: &str, email: &str) -> Result<Vec<String>> {
    let mut files: Vec<std::path::PathBuf> = Vec::new();
    for db in SERVICES {
        for suffix in ["", "-wal", "-shm"] {
            files.push(dir.join(format!("{db}.sqlite{suffix}")));
        }
    }
    if let Ok(mails) = std::fs::read_dir(dir.join("mails")) {
        for entry in mails {
            files.push(entry?.path());
        }
    }
    let mut found = Vec::new();
    for file in files {
        let bytes = match std::fs::read(&file) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => continue,
            Err(error) => return Err(error.into()),
        };
        if contains(&bytes, name) || contains(&bytes, email) {
            found.push(file.display().to_string());
        }
    }
    Ok(found)
}

/// The `.eml` files written so far, as text.
fn mails(dir: &Path) -> Result<Vec<String>> {
    let Ok(entries) = std::fs::read_dir(dir.join("mails")) else {
        return Ok(Vec::new());
    };
    let mut texts = Vec::new();
    for entry in entries {
        texts.push(std::fs::read_to_string(entry?.path())?);
    }
    Ok(texts)
}

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
    for db in SERVICES {
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
    let root = tempfile::tempdir()?;
    // A directory `vigie dev` creates itself (private).
    let data_dir = root.path().join("vigie-data");
    let dir = data_dir.as_path();
    let data = data_dir.to_str().unwrap_or_default().to_owned();
    let server = VigieServer::dev(&data, &["--demo"], &[]).await?;

    // The demo's reminders are written as .eml files by the first dispatch.
    eventually("the demo's emails are written", Duration::from_secs(60), || async {
        Ok(!mails(dir)?.is_empty())
    })
    .await?;
    let written = mails(dir)?;
    // A person with a unique name and email who got an email (so that the
    // scan proves the erasure, not a coincidence).
    let inventory = open(dir, "inventory").await?;
    let rows = sqlx::query(
        "SELECT person_id, display_name, email FROM inv_people p \
         WHERE email IS NOT NULL AND email <> '' \
         AND (SELECT COUNT(*) FROM inv_people q WHERE q.display_name = p.display_name OR q.email = p.email) = 1 \
         ORDER BY person_id",
    )
    .fetch_all(&inventory)
    .await?;
    inventory.close().await;
    let mut chosen = None;
    for row in rows {
        let (person, name, email): (String, String, String) = (
            row.try_get("person_id")?,
            row.try_get("display_name")?,
            row.try_get("email")?,
        );
        if written.iter().any(|m| m.contains(&email)) {
            chosen = Some((person, name, email));
            break;
        }
    }
    let (person, name, email) = chosen.context("no person of the demo got an email")?;
    // The read models are fed by events: wait until training and alerting know the person.
    for (db, table) in [("training", "tr_people"), ("alerting", "al_people")] {
        eventually(
            &format!("the {db} read model knows the person"),
            Duration::from_secs(30),
            || async {
                let pool = open(dir, db).await?;
                let n: i64 = sqlx::query(&format!("SELECT COUNT(*) AS n FROM {table} WHERE person_id = $1"))
                    .bind(person.clone())
                    .fetch_one(&pool)
                    .await?
                    .try_get("n")?;
                pool.close().await;
                Ok(n == 1)
            },
        )
        .await?;
    }
    ensure!(
        !raw_holders(dir, &name, &email)?.is_empty(),
        "the raw files name the person before the erasure"
    );

    let export = ok(server.cli(&["people", "export", &person, "--format", "json"]).await?)?;
    let json: serde_json::Value = serde_json::from_str(&export.stdout)?;
    ensure!(json["person"]["email"] == email.as_str(), "{json}");

    let refused = server.cli(&["people", "erase", &person]).await?;
    ensure!(!refused.success && refused.stderr.contains("--yes"), "{refused:?}");
    let erased_at = chrono::Utc::now().to_rfc3339();
    let done = ok(server.cli(&["people", "erase", &person, "--yes"]).await?)?;
    ensure!(done.stdout.contains("effacée"), "{done:?}");

    // The raw files first, without holding any connection of ours (a reader
    // would keep the WAL from being truncated).
    let waited = eventually(
        "no raw file holds the name or the email",
        Duration::from_secs(30),
        || async { Ok(raw_holders(dir, &name, &email)?.is_empty()) },
    )
    .await;
    if let Err(error) = waited {
        let still = raw_holders(dir, &name, &email)?;
        return Err(error.context(format!("{name} / {email} still in {still:?}")));
    }
    let still = holders(dir, &name, &email, &erased_at).await?;
    ensure!(still.is_empty(), "{name} / {email} still in {still:?}");
    let again = ok(server.cli(&["people", "erase", &person, "--yes"]).await?)?;
    ensure!(again.stdout.contains("déjà effacée"), "{again:?}");

    // Private modes: the directory 0700, the databases and secrets 0600.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = |path: &Path| -> Result<u32> { Ok(std::fs::metadata(path)?.permissions().mode() & 0o777) };
        ensure!(mode(dir)? == 0o700, "data directory {:o}", mode(dir)?);
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            if path.is_file() {
                ensure!(mode(&path)? == 0o600, "{}: {:o}", path.display(), mode(&path)?);
            }
        }
        ensure!(
            dir.join("pseudonym-secret").is_file(),
            "vigie dev keeps a pseudonym secret"
        );
    }
    server.kill().await
}
