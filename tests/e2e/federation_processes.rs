//! The federation with real processes (issue 12): two regions and the
//! national hub, each a nats-server running its SHIPPED configuration
//! (deploy/nats), real `vigie serve inventory` and `vigie serve federation`
//! per region on PostgreSQL, and `vigie serve federation --national`.
//!
//! Proven: the national roll-up equals the regions' own figures for every
//! published cell; nothing the national database or the hub's JetStream store
//! holds names a structure or a person; a region offline is marked stale with
//! its last date, then catches up; the hub offline: regions keep working and
//! the national catches up; no published cell is under the threshold.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use anyhow::{ensure, Context, Result};
use serde_json::Value;
use sqlx::Row;
use vigie_e2e::{generate_set, serve_args, VigieServer};
use vigie_testkit::{ConfiguredNats, PgDatabase};

use crate::federation_nats::{password, start_hub, start_region, tail};
use crate::ok;

const REGIONS: [(&str, u64); 2] = [("bretagne", 7), ("occitanie", 8)];
const STRUCTURES: usize = 150;
const WAIT: Duration = Duration::from_secs(120);

/// One region: its nats-server, databases and services.
struct Region {
    name: &'static str,
    nats: ConfiguredNats,
    _inventory_db: PgDatabase,
    _federation_db: PgDatabase,
    inventory: VigieServer,
    federation: VigieServer,
    /// Every identifier and name of its inventory: none may reach the nation.
    secrets: BTreeSet<String>,
}

fn nats_url(server: &ConfiguredNats, user: &str) -> String {
    format!("nats://{user}:{}@127.0.0.1:{}", password(user), server.port())
}

async fn start_region_instance(name: &'static str, seed: u64, hub: &ConfiguredNats, dir: &Path) -> Result<Region> {
    let nats = start_region(name, hub).await?;
    let inventory_db = PgDatabase::try_create().await?;
    let federation_db = PgDatabase::try_create().await?;
    let inventory = VigieServer::serve("inventory", inventory_db.url(), &nats_url(&nats, "inventory"), &[]).await?;
    let settings = format!(
        "{{region=\"{name}\", check_interval_seconds=1, publish_every_seconds=2, link_nats_url=\"{}\"}}",
        nats_url(&nats, "federation-link")
    );
    let federation = VigieServer::serve(
        "federation",
        federation_db.url(),
        &nats_url(&nats, "federation"),
        &[("VIGIE_FEDERATION", settings.as_str())],
    )
    .await?;
    let set = dir.join(name);
    let set_text = set.to_str().context("path")?;
    generate_set(&set, STRUCTURES, seed, None).await?;
    ok(inventory.cli(&["inventory", "import", set_text]).await?)?;
    Ok(Region {
        name,
        nats,
        _inventory_db: inventory_db,
        _federation_db: federation_db,
        inventory,
        federation,
        secrets: secrets_of(&set)?,
    })
}

/// Structure ids, names, SIRETs, person ids, names and emails of a CSV set.
fn secrets_of(set: &Path) -> Result<BTreeSet<String>> {
    let mut secrets = BTreeSet::new();
    let mut read = |file: &str, columns: &[&str]| -> Result<()> {
        let mut reader = csv::Reader::from_path(set.join(file))?;
        let header = reader.headers()?.clone();
        let indexes: Vec<usize> = columns
            .iter()
            .filter_map(|c| header.iter().position(|h| h == *c))
            .collect();
        ensure!(indexes.len() == columns.len(), "{file}: {header:?}");
        for record in reader.records() {
            let record = record?;
            secrets.extend(
                indexes
                    .iter()
                    .filter_map(|&i| record.get(i))
                    .filter(|f| !f.is_empty())
                    .map(str::to_owned),
            );
        }
        Ok(())
    };
    read("structures.csv", &["structure_id", "name", "siret"])?;
    read("people.csv", &["person_id", "display_name", "email"])?;
    Ok(secrets)
}

async fn json(server: &VigieServer, args: &[&str]) -> Result<Value> {
    let out = ok(server.cli(args).await?)?;
    serde_json::from_str(&out.stdout).with_context(|| out.stdout.clone())
}

/// The national view of `region` (from `federation regions`).
async fn region_status(national: &VigieServer, region: &str) -> Result<Option<Value>> {
    let value = json(national, &["federation", "regions", "--format", "json"]).await?;
    Ok(value["regions"]
        .as_array()
        .and_then(|rs| rs.iter().find(|r| r["region"] == region))
        .cloned())
}

/// Polls `check` until it holds.
async fn until<F, Fut>(what: &str, mut check: F) -> Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<bool>>,
{
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        match check().await {
            Ok(true) => return Ok(()),
            Ok(false) => {}
            Err(error) if tokio::time::Instant::now() >= deadline => return Err(error.context(what.to_owned())),
            Err(_) => {}
        }
        ensure!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// A roll-up's rows without what depends on the moment (date, freshness).
fn figures(rows: &Value, region: &str) -> Vec<Value> {
    rows["rows"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .filter(|r| r["region"] == region)
                .map(|r| {
                    let mut r = r.clone();
                    if let Some(o) = r.as_object_mut() {
                        o.remove("stale");
                        o.remove("data_date");
                    }
                    r
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The national figures of `region` equal the region's own.
async fn national_equals_regional(national: &VigieServer, region: &Region) -> Result<bool> {
    let own = json(
        &region.federation,
        &["federation", "rollup", "--by", "network", "--format", "json"],
    )
    .await?;
    let seen = json(
        national,
        &["federation", "rollup", "--by", "network", "--format", "json"],
    )
    .await?;
    let own = figures(&own, region.name);
    Ok(!own.is_empty() && own == figures(&seen, region.name))
}

/// Every text and byte of every table of a database.
async fn database_text(url: &str) -> Result<String> {
    let pool = sqlx::PgPool::connect(url).await?;
    let tables = sqlx::query("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        .fetch_all(&pool)
        .await?;
    let mut text = String::new();
    for table in tables {
        let table: String = table.try_get(0)?;
        for row in sqlx::query(&format!("SELECT row_to_json(t)::text FROM \"{table}\" t"))
            .fetch_all(&pool)
            .await?
        {
            text.push_str(&row.try_get::<String, _>(0)?);
        }
        // Binary columns as their bytes (row_to_json shows them in hex).
        for column in sqlx::query(
            "SELECT column_name FROM information_schema.columns WHERE table_name = $1 AND data_type = 'bytea'",
        )
        .bind(&table)
        .fetch_all(&pool)
        .await?
        {
            let column: String = column.try_get(0)?;
            for row in sqlx::query(&format!("SELECT \"{column}\" FROM \"{table}\""))
                .fetch_all(&pool)
                .await?
            {
                let bytes: Vec<u8> = row.try_get(0)?;
                text.push_str(&String::from_utf8_lossy(&bytes));
            }
        }
    }
    pool.close().await;
    Ok(text)
}

/// Every byte the hub's JetStream keeps, as text.
fn store_text(dir: &Path) -> Result<String> {
    let mut text = String::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                text.push_str(&String::from_utf8_lossy(&std::fs::read(&path)?));
            }
        }
    }
    Ok(text)
}

#[tokio::test]
async fn two_regions_and_the_national_view_with_real_processes() -> Result<()> {
    vigie_testkit::init_test_logging();
    let dir = tempfile::tempdir()?;
    let mut hub = start_hub().await?;
    let mut regions = Vec::new();
    for (name, seed) in REGIONS {
        regions.push(start_region_instance(name, seed, &hub, dir.path()).await?);
    }
    let national_db = PgDatabase::try_create().await?;
    let hub_url = nats_url(&hub, "federation");
    let mut args = serve_args("federation", national_db.url(), &hub_url);
    args.extend(["--national", "--metrics-listen", "127.0.0.1:0"]);
    let national = VigieServer::start(
        &args,
        &[(
            "VIGIE_FEDERATION",
            "{national_regions=[\"bretagne\", \"occitanie\"], stale_after_seconds=6}",
        )],
    )
    .await?;

    // 1. Both regions arrive; the national figures are the regions' own.
    for region in &regions {
        until(&format!("{} reaches the national view", region.name), || {
            national_equals_regional(&national, region)
        })
        .await
        .with_context(|| format!("hub log:\n{}", tail(&hub.log())))?;
    }
    // By region: the sum of the region's own published network cells. A
    // region may publish again between the two reads (its imports still
    // arriving on a loaded machine): the national view must catch up.
    for region in &regions {
        until(
            &format!("{}: national count = published cells", region.name),
            || async {
                let by_region = json(&national, &["federation", "rollup", "--format", "json"]).await?;
                let own = json(
                    &region.federation,
                    &["federation", "rollup", "--by", "network", "--format", "json"],
                )
                .await?;
                let published: u64 = own["rows"]
                    .as_array()
                    .map(|rows| rows.iter().filter_map(|r| r["structures"].as_u64()).sum())
                    .unwrap_or(0);
                let row = by_region["rows"]
                    .as_array()
                    .and_then(|rows| rows.iter().find(|r| r["key"] == region.name))
                    .context("region row")?;
                let national_count = row["structures"]
                    .as_u64()
                    .or_else(|| row["structures"]["at_least"].as_u64())
                    .context("structures")?;
                ensure!(
                    national_count == published,
                    "{}: {national_count} vs {published}",
                    region.name
                );
                ensure!(published > 0 && published <= STRUCTURES as u64);
                Ok(true)
            },
        )
        .await?;
    }
    // No published cell counts 1 to 4 structures, at any level.
    for by in ["network", "department"] {
        let rows = json(&national, &["federation", "rollup", "--by", by, "--format", "json"]).await?;
        for row in rows["rows"].as_array().context("rows")? {
            for name in [
                "structures",
                "critical",
                "high",
                "moderate",
                "low",
                "unknown",
                "deadline_at_risk",
            ] {
                if let Some(v) = row[name].as_u64() {
                    ensure!(v == 0 || v >= 5 || row["region"] == "", "{name} = {v} in {row}");
                }
            }
        }
    }

    // 2. Nothing in the national database nor in the hub's store names a
    //    structure or a person.
    let national_text = database_text(national_db.url()).await?;
    let hub_text = store_text(&hub.store_dir())?;
    ensure!(hub_text.contains("bretagne"), "the scan reads the hub's store");
    for region in &regions {
        for secret in &region.secrets {
            ensure!(
                !national_text.contains(secret.as_str()),
                "{secret} in the national database"
            );
            ensure!(!hub_text.contains(secret.as_str()), "{secret} in the hub's store");
        }
    }

    // 3. A region offline: stale with its last date, the other fresh; back:
    //    caught up, nothing counted twice.
    let before = region_status(&national, "bretagne").await?.context("bretagne")?;
    regions[0].nats.stop().await;
    until("bretagne marked stale", || async {
        let bretagne = region_status(&national, "bretagne").await?.context("bretagne")?;
        let occitanie = region_status(&national, "occitanie").await?.context("occitanie")?;
        Ok(bretagne["stale"] == true && occitanie["stale"] == false)
    })
    .await?;
    // The stale region shows on the national instance's metrics (alerts).
    let metrics = national.metrics.clone().context("metrics address")?;
    until("the stale gauge of bretagne at 1", || {
        let metrics = metrics.clone();
        async move {
            let text = crate::metrics::scrape(&metrics).await?;
            Ok(text.lines().any(|l| {
                l.starts_with("vigie_federation_region_stale") && l.contains("region=\"bretagne\"") && l.ends_with(" 1")
            }) && text.lines().any(|l| {
                l.starts_with("vigie_federation_region_stale")
                    && l.contains("region=\"occitanie\"")
                    && l.ends_with(" 0")
            }))
        }
    })
    .await?;
    let stale = region_status(&national, "bretagne").await?.context("bretagne")?;
    ensure!(stale["evaluated_on"] == before["evaluated_on"], "{stale} vs {before}");
    let table = ok(national.cli(&["federation", "rollup", "--by", "network"]).await?)?;
    ensure!(table.stdout.contains("(périmées)"), "{}", table.stdout);
    regions[0].nats.restart().await?;
    until("bretagne caught up", || async {
        let bretagne = region_status(&national, "bretagne").await?.context("bretagne")?;
        Ok(bretagne["stale"] == false
            && bretagne["sequence"].as_u64() > before["sequence"].as_u64()
            && national_equals_regional(&national, &regions[0]).await?)
    })
    .await?;

    // 4. The hub offline: the regions keep working (they publish, people
    //    use them); back: the national view catches up.
    hub.stop().await;
    let occitanie = &regions[1];
    let sequence_at_cut = json(&occitanie.federation, &["federation", "regions", "--format", "json"]).await?["regions"]
        [0]["sequence"]
        .as_u64()
        .context("sequence")?;
    until("occitanie keeps publishing without the hub", || async {
        let own = json(&occitanie.federation, &["federation", "regions", "--format", "json"]).await?;
        Ok(own["regions"][0]["sequence"].as_u64() > Some(sequence_at_cut + 2))
    })
    .await?;
    ok(occitanie.inventory.cli(&["inventory", "rollup"]).await?)?;
    hub.restart().await?;
    until("the national view catches up after the hub's outage", || async {
        let seen = region_status(&national, "occitanie").await?.context("occitanie")?;
        Ok(seen["sequence"].as_u64() > Some(sequence_at_cut + 2)
            && national_equals_regional(&national, occitanie).await?)
    })
    .await?;
    Ok(())
}
