//! End-to-end scenarios: what a newcomer and an operator do, with the real
//! binary. Each test has its own data directory, database and nats-server.

mod alerting;
mod backup_restore;
mod console;
mod console_browser;
mod console_field;
mod console_grants;
mod console_import;
mod console_network;
mod console_oidc;
mod dead_letters;
mod distributed;
mod embedded;
mod facilitation;
mod federation;
mod federation_nats;
mod federation_processes;
// Issue 16, import of grants.
mod grant_import;
mod grants;
mod grpc_tls;
mod hostile;
mod identity;
mod inventory_workbook;
mod keycloak;
mod metrics;
mod privacy;
mod reflection;
mod server_words;
mod traces;
mod training;

use anyhow::{ensure, Context, Result};
use serde_json::Value;
use vigie_e2e::{CliOutput, VigieServer};

/// Fails with both output streams when a command did not succeed.
fn ok(output: CliOutput) -> Result<CliOutput> {
    ensure!(
        output.success,
        "command failed\nstdout:\n{}\nstderr:\n{}",
        output.stdout,
        output.stderr
    );
    Ok(output)
}

/// A command's `--format json` output, parsed.
async fn json_of(server: &VigieServer, args: &[&str]) -> Result<Value> {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    let out = ok(server.cli(&all).await?)?;
    serde_json::from_str(&out.stdout).with_context(|| format!("{args:?} printed no JSON:\n{}", out.stdout))
}

/// A string field of a JSON object (empty when absent).
fn text(value: &Value, key: &str) -> String {
    value[key].as_str().unwrap_or_default().to_owned()
}

/// Data rows of a CSV output (header excluded).
fn csv_rows(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .skip(1)
        .filter(|l| !l.is_empty())
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect()
}

const FRAGILITY_HEADER: &str =
    "structure_id,score,band,truck_factor,orphan_functions,spof_functions,director_dependency";
