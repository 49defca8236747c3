//! `vigie dev`: the demo works at first try, imports are all or nothing and
//! idempotent, and data survives a restart.

use anyhow::{ensure, Result};
use vigie_e2e::{run_cli, VigieServer};

use crate::{csv_rows, ok, FRAGILITY_HEADER};

async fn dev(data_dir: &std::path::Path, demo: bool) -> Result<VigieServer> {
    let dir = data_dir.to_str().unwrap_or_default().to_owned();
    let mut args = vec!["dev", "--listen", "127.0.0.1:0", "--data-dir", dir.as_str()];
    if demo {
        args.push("--demo");
    }
    VigieServer::start(&args, &[]).await
}

#[tokio::test]
async fn demo_federation_can_be_queried_from_the_cli() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let server = dev(dir.path(), true).await?;

    let csv = ok(server.cli(&["inventory", "fragility", "--format", "csv"]).await?)?;
    let mut lines = csv.stdout.lines();
    ensure!(
        lines.next() == Some(FRAGILITY_HEADER),
        "unexpected header:\n{}",
        csv.stdout
    );
    let rows = csv_rows(&csv.stdout);
    ensure!(rows.len() == 60, "60 demo structures expected, got {}", rows.len());
    let ids: Vec<&String> = rows.iter().map(|r| &r[0]).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    ensure!(ids == sorted, "rows must be ordered by structure_id");
    for row in &rows {
        ensure!(
            ["unknown", "low", "moderate", "high", "critical"].contains(&row[2].as_str()),
            "bad band {row:?}"
        );
        ensure!(
            row[6].split('.').nth(1).map(str::len) == Some(4),
            "4 decimals expected: {row:?}"
        );
        ensure!(
            (row[2] == "unknown") == row[1].is_empty(),
            "score empty iff unknown: {row:?}"
        );
    }
    ensure!(
        rows.iter().any(|r| r[2] == "critical") && rows.iter().any(|r| r[2] == "high"),
        "demo shows no fragile structure"
    );

    // The detail of the most fragile structure, in plain French.
    let fragile = rows
        .iter()
        .find(|r| r[2] == "critical")
        .map(|r| r[0].clone())
        .unwrap_or_default();
    let detail = ok(server.cli(&["inventory", "fragility", "--structure", &fragile]).await?)?;
    ensure!(
        detail.stdout.contains("critique") && detail.stdout.contains("risque"),
        "{}",
        detail.stdout
    );

    let json = ok(server
        .cli(&["inventory", "rollup", "--by", "network", "--format", "json"])
        .await?)?;
    let value: serde_json::Value = serde_json::from_str(&json.stdout)?;
    let total: u64 = value["groups"]
        .as_array()
        .map(|g| g.iter().filter_map(|g| g["structures"].as_u64()).sum())
        .unwrap_or(0);
    ensure!(total == 60, "roll-up must count every structure once, got {total}");

    let missing = server.cli(&["inventory", "fragility", "--structure", "NOPE"]).await?;
    ensure!(
        !missing.success && missing.stderr.contains("introuvable"),
        "{missing:?}"
    );
    Ok(())
}

#[tokio::test]
async fn evaluating_later_shows_contracts_ending() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let server = dev(dir.path(), true).await?;
    let now = csv_rows(&ok(server.cli(&["inventory", "fragility", "--format", "csv"]).await?)?.stdout);
    let later = csv_rows(
        &ok(server
            .cli(&["inventory", "fragility", "--format", "csv", "--at", "2040-01-01"])
            .await?)?
        .stdout,
    );
    let critical = |rows: &[Vec<String>]| rows.iter().filter(|r| r[2] == "critical").count();
    // In 2040 every end date has passed and every practice is stale.
    ensure!(
        critical(&later) > critical(&now),
        "now {} vs 2040 {}",
        critical(&now),
        critical(&later)
    );
    Ok(())
}

#[tokio::test]
async fn import_is_all_or_nothing_idempotent_and_updates_in_place() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let set = dir.path().join("set");
    let set_arg = set.to_str().unwrap_or_default();
    ok(run_cli(&["inventory", "generate", "--structures", "25", "--seed", "3", set_arg]).await?)?;
    let server = dev(&dir.path().join("data"), false).await?;

    let first = ok(server.cli(&["inventory", "import", set_arg]).await?)?;
    ensure!(first.stdout.contains("25 nouvelles"), "{}", first.stdout);
    let again = ok(server.cli(&["inventory", "import", set_arg]).await?)?;
    ensure!(
        again.stdout.contains("0 nouvelles, 0 modifiées, 25 inchangées") && again.stdout.contains("0 événements"),
        "{}",
        again.stdout
    );

    // A changed name updates one structure in place.
    rewrite_csv(&set.join("structures.csv"), |line, record| {
        if line == 1 {
            record[1] = "Nouveau nom, renommé".into();
        }
    })?;
    let changed = ok(server.cli(&["inventory", "import", set_arg]).await?)?;
    ensure!(
        changed.stdout.contains("0 nouvelles, 1 modifiées, 24 inchangées"),
        "{}",
        changed.stdout
    );
    let listed = csv_rows(&ok(server.cli(&["inventory", "fragility", "--format", "csv"]).await?)?.stdout);
    ensure!(listed.len() == 25, "no duplicate after update, got {}", listed.len());

    // Bad rows in two files: every error reported, nothing changed.
    let before = ok(server.cli(&["inventory", "fragility", "--format", "csv"]).await?)?.stdout;
    let mut people = std::fs::read_to_string(set.join("people.csv"))?;
    people.push_str("PX1,S999999,Inconnu,director,,\n");
    std::fs::write(set.join("people.csv"), &people)?;
    let people_bad_line = people.lines().count();
    let mut holdings = std::fs::read_to_string(set.join("holdings.csv"))?;
    let first_holding = holdings.lines().nth(1).unwrap_or_default().to_owned();
    let mut parts: Vec<&str> = first_holding.split(',').collect();
    parts[2] = "7";
    holdings.push_str(&(parts.join(",") + "\n"));
    std::fs::write(set.join("holdings.csv"), &holdings)?;
    let rejected = server.cli(&["inventory", "import", set_arg]).await?;
    ensure!(!rejected.success, "a bad set must be refused");
    let expected_people = format!("people.csv:{people_bad_line}:");
    ensure!(
        rejected.stderr.contains(&expected_people),
        "missing {expected_people} in:\n{}",
        rejected.stderr
    );
    ensure!(
        rejected.stderr.contains("holdings.csv:"),
        "missing holdings error in:\n{}",
        rejected.stderr
    );
    ensure!(rejected.stderr.contains("rien n'a été modifié"), "{}", rejected.stderr);
    let after = ok(server.cli(&["inventory", "fragility", "--format", "csv"]).await?)?.stdout;
    ensure!(before == after, "a refused import changed the inventory");
    Ok(())
}

#[tokio::test]
async fn garbage_input_is_refused_and_the_server_keeps_serving() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let server = dev(&dir.path().join("data"), true).await?;
    let set = dir.path().join("garbage");
    std::fs::create_dir_all(&set)?;
    // Not UTF-8, NUL bytes, a header with the wrong columns, an enormous field.
    std::fs::write(
        set.join("structures.csv"),
        [0xff, 0xfe, 0x00, b'\n', b'a', b',', 0xc3, 0x28, b'\n'],
    )?;
    std::fs::write(set.join("people.csv"), "nom,prénom\nDupont,Jeanne\n")?;
    std::fs::write(
        set.join("holdings.csv"),
        format!(
            "person_id,function,level,last_practised\nP1,payroll,{},2026-13-45\n",
            "9".repeat(100_000)
        ),
    )?;
    let rejected = server
        .cli(&["inventory", "import", set.to_str().unwrap_or_default()])
        .await?;
    ensure!(!rejected.success, "garbage must be refused");
    for file in ["structures.csv:", "people.csv:1:", "holdings.csv:"] {
        ensure!(
            rejected.stderr.contains(file),
            "no error for {file} in:\n{}",
            rejected.stderr
        );
    }
    let bad_date = server.cli(&["inventory", "fragility", "--at", "2026-02-30"]).await?;
    ensure!(!bad_date.success, "an impossible date is refused by the CLI");
    // Still serving, data intact.
    let csv = ok(server.cli(&["inventory", "fragility", "--format", "csv"]).await?)?;
    ensure!(csv_rows(&csv.stdout).len() == 60, "demo data lost after garbage input");
    Ok(())
}

/// Rewrites a CSV file record by record (`line` 1 is the first data row).
fn rewrite_csv(path: &std::path::Path, mut edit: impl FnMut(usize, &mut Vec<String>)) -> Result<()> {
    let mut reader = csv::Reader::from_path(path)?;
    let header = reader.headers()?.clone();
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(&header)?;
    for (index, record) in reader.records().enumerate() {
        let mut fields: Vec<String> = record?.iter().map(str::to_owned).collect();
        edit(index + 1, &mut fields);
        writer.write_record(&fields)?;
    }
    std::fs::write(path, writer.into_inner().map_err(|e| anyhow::anyhow!(e.to_string()))?)?;
    Ok(())
}

#[tokio::test]
async fn data_survives_a_kill_and_the_demo_is_not_loaded_twice() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let server = dev(dir.path(), true).await?;
    let before = ok(server.cli(&["inventory", "fragility", "--format", "csv"]).await?)?.stdout;
    server.kill().await?;
    let server = dev(dir.path(), true).await?;
    let after = ok(server.cli(&["inventory", "fragility", "--format", "csv"]).await?)?.stdout;
    ensure!(before == after, "data changed across a restart");
    Ok(())
}

#[tokio::test]
async fn dev_refuses_a_public_address_and_unreachable_servers_are_explained() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().to_str().unwrap_or_default();
    let public = run_cli(&["dev", "--listen", "0.0.0.0:0", "--data-dir", data]).await?;
    ensure!(!public.success && public.stderr.contains("boucle locale"), "{public:?}");
    let unreachable = run_cli(&["inventory", "fragility", "--endpoint", "http://127.0.0.1:1"]).await?;
    ensure!(
        !unreachable.success && unreachable.stderr.contains("vigie dev --demo"),
        "{unreachable:?}"
    );
    Ok(())
}
