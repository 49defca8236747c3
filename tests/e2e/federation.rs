//! Federation (issue 12): the embedded demo publishes its region's
//! aggregates and serves the national view of its own region; nothing in
//! them names a structure or a person, and secrecy holds on every cell.

use std::time::Duration;

use anyhow::{ensure, Context, Result};
use serde_json::Value;
use vigie_e2e::VigieServer;

use crate::{json_of, ok};

/// Polls `vigie federation regions` until `region` appears.
async fn wait_for_region(server: &VigieServer, region: &str) -> Result<Value> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    loop {
        let out = ok(server.cli(&["federation", "regions", "--format", "json"]).await?)?;
        let value: Value = serde_json::from_str(&out.stdout)?;
        if let Some(r) = value["regions"]
            .as_array()
            .and_then(|rs| rs.iter().find(|r| r["region"] == region))
        {
            return Ok(r.clone());
        }
        ensure!(
            tokio::time::Instant::now() < deadline,
            "region {region} never appeared: {}",
            out.stdout
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Every count cell of a JSON row: a number, or `{"suppressed": true}`.
fn cells(row: &Value) -> Vec<(&str, &Value)> {
    [
        "structures",
        "critical",
        "high",
        "moderate",
        "low",
        "unknown",
        "director_dependent",
        "deadline_at_risk",
        // Issue 16: a count and two sums of at least k structures each.
        "reporting_at_risk",
        "grants_won",
        "grants_refused",
    ]
    .into_iter()
    .map(|name| (name, &row[name]))
    .collect()
}

#[tokio::test]
async fn the_demo_publishes_its_region_under_statistical_secrecy() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().to_str().context("path")?.to_owned();
    let server = VigieServer::dev(&data, &["--demo"], &[]).await?;
    // Until the demo's 60 structures are counted (the first snapshot may
    // predate the demo's events).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    let rows = loop {
        wait_for_region(&server, "demo").await?;
        let out = ok(server
            .cli(&["federation", "rollup", "--by", "network", "--format", "json"])
            .await?)?;
        let value: Value = serde_json::from_str(&out.stdout)?;
        let rows = value["rows"].as_array().cloned().unwrap_or_default();
        let counted: u64 = rows.iter().filter_map(|r| r["structures"].as_u64()).sum();
        let secret = rows.iter().filter(|r| r["structures"]["suppressed"] == true).count();
        // A snapshot taken between a structure's inventory and its
        // assessment counts it without its functions: wait for both.
        let functions = json_of(&server, &["federation", "rollup", "--by", "function"]).await?;
        let assessed = functions["rows"].as_array().is_some_and(|r| !r.is_empty());
        if counted + 4 * secret as u64 >= 60 && !rows.is_empty() && assessed {
            break rows;
        }
        ensure!(
            tokio::time::Instant::now() < deadline,
            "demo never aggregated: {}",
            out.stdout
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let mut published = 0u64;
    for row in &rows {
        ensure!(row["region"] == "demo", "{row}");
        for (name, cell) in cells(row) {
            if let Some(v) = cell.as_u64() {
                ensure!(v == 0 || v >= 5, "{name} = {v} is below the threshold: {row}");
            } else {
                ensure!(
                    cell["suppressed"] == true,
                    "{name} neither a number nor suppressed: {row}"
                );
            }
        }
        let amount = &row["amount_granted_euros"];
        ensure!(
            amount.is_u64() || amount["suppressed"] == true,
            "amount_granted_euros neither a number nor suppressed: {row}"
        );
        published += row["structures"].as_u64().unwrap_or(0);
    }
    ensure!(published > 0 && published <= 60, "published structures {published}");

    // The region's roll-up is the sum of its network cells.
    let out = ok(server.cli(&["federation", "rollup", "--format", "json"]).await?)?;
    let value: Value = serde_json::from_str(&out.stdout)?;
    let region = &value["rows"][0];
    ensure!(region["key"] == "demo", "{region}");
    // A lower bound when secret cells were left out of the sum.
    let counted = region["structures"]
        .as_u64()
        .or_else(|| region["structures"]["at_least"].as_u64());
    ensure!(counted == Some(published), "{region} vs {published}");

    // Nothing identifies a structure or a person in any view.
    for by in ["region", "network", "department", "function"] {
        for format in ["json", "csv", "table"] {
            let out = ok(server
                .cli(&["federation", "rollup", "--by", by, "--format", format])
                .await?)?;
            ensure!(
                !out.stdout.contains("S0000") && !out.stdout.contains('@'),
                "an identifier leaked in --by {by} --format {format}:\n{}",
                out.stdout
            );
        }
    }
    let table = ok(server.cli(&["federation", "rollup", "--by", "network"]).await?)?;
    ensure!(
        table.stdout.contains("compte rendu à risque (30 j)") && table.stdout.contains("montant obtenu (€)"),
        "grants and reporting duties in the table, in French:\n{}",
        table.stdout
    );
    let table = ok(server.cli(&["federation", "rollup", "--by", "function"]).await?)?;
    ensure!(
        table.stdout.contains("Dépôt") || table.stdout.contains("financement"),
        "functions are labelled in French:\n{}",
        table.stdout
    );
    Ok(())
}
