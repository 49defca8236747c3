//! Issue 5, end to end in both runtime modes: plan, enrol, complete, and see
//! the inventory's fragility change exactly as the plan predicted.

use std::path::Path;
use std::time::Duration;

use anyhow::{ensure, Context, Result};
use serde_json::Value;
use vigie_e2e::{generate_set, CliOutput, VigieServer};
use vigie_testkit::{eventually, NatsServer, PgDatabase};

use crate::ok;

/// A plan step that can be carried out: (structure, session, person, predicted score, predicted band).
pub(crate) struct Step {
    pub(crate) structure: String,
    pub(crate) session: String,
    pub(crate) person: String,
    pub(crate) predicted_score: Option<u64>,
    pub(crate) predicted_band: String,
}

pub(crate) async fn find_step(server: &VigieServer, structures: &[String]) -> Result<Step> {
    for structure in structures {
        let out = server
            .cli(&["training", "plan", "--structure", structure, "--format", "json"])
            .await?;
        if !out.success {
            continue;
        }
        let plan: Value = serde_json::from_str(&out.stdout)?;
        let items = plan["items"].as_array().cloned().unwrap_or_default();
        // Exactly one learner in the whole plan, so completing that one
        // session realises the whole prediction.
        let steps: Vec<(String, String)> = items
            .iter()
            .flat_map(|i| i["trainings"].as_array().cloned().unwrap_or_default())
            .filter_map(|t| {
                let session = t["next_session"].as_str()?.to_owned();
                let learners = t["learners"].as_array()?;
                (learners.len() == 1).then(|| (session, learners[0].as_str().unwrap_or_default().to_owned()))
            })
            .collect();
        let learners: usize = items
            .iter()
            .flat_map(|i| i["trainings"].as_array().cloned().unwrap_or_default())
            .map(|t| t["learners"].as_array().map_or(0, Vec::len))
            .sum();
        if steps.len() == 1 && learners == 1 && plan["predicted"]["score"] != plan["current"]["score"] {
            let (session, person) = steps[0].clone();
            return Ok(Step {
                structure: structure.clone(),
                session,
                person,
                predicted_score: plan["predicted"]["score"].as_u64(),
                predicted_band: plan["predicted"]["band"].as_str().unwrap_or_default().to_owned(),
            });
        }
    }
    anyhow::bail!(
        "no structure with a one-learner plan among {} structures",
        structures.len()
    )
}

/// Ids of every structure, from the inventory.
pub(crate) async fn structure_ids(server: &VigieServer) -> Result<Vec<String>> {
    let csv = ok(server.cli(&["inventory", "fragility", "--format", "csv"]).await?)?;
    Ok(csv
        .stdout
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').next())
        .map(str::to_owned)
        .collect())
}

/// `training enrol` of the step's person in its session.
pub(crate) async fn enrol(server: &VigieServer, step: &Step) -> Result<CliOutput> {
    server
        .cli(&[
            "training",
            "enrol",
            "--session",
            &step.session,
            "--person",
            &step.person,
        ])
        .await
}

/// `training complete` of the step's person in its session, on `day`.
pub(crate) async fn complete(server: &VigieServer, step: &Step, day: &str) -> Result<CliOutput> {
    server
        .cli(&[
            "training",
            "complete",
            "--session",
            &step.session,
            "--person",
            &step.person,
            "--on",
            day,
        ])
        .await
}

/// The fragility of `structure`, as `inventory fragility --format json`
/// shows it.
pub(crate) async fn fragility(server: &VigieServer, structure: &str) -> Result<Value> {
    let out = server
        .cli(&["inventory", "fragility", "--structure", structure, "--format", "json"])
        .await?;
    Ok(serde_json::from_str(&out.stdout)?)
}

async fn enrol_complete_and_check(server: &VigieServer, step: &Step) -> Result<()> {
    let today = chrono::Local::now().date_naive().to_string();
    let enrolled = ok(enrol(server, step).await?)?;
    ensure!(enrolled.stdout.contains("inscrit"), "{}", enrolled.stdout);
    let twice = enrol(server, step).await?;
    ensure!(
        !twice.success && twice.stderr.contains("déjà inscrit"),
        "double enrolment must be refused: {twice:?}"
    );
    ok(complete(server, step, &today).await?)?;
    // The completion travels as an event to the inventory, which raises the
    // holding and recomputes the fragility.
    eventually(
        "the inventory applies the completion",
        Duration::from_secs(30),
        || async {
            let value = fragility(server, &step.structure).await?;
            Ok(value["score"].as_u64() == step.predicted_score
                && value["band"].as_str() == Some(step.predicted_band.as_str()))
        },
    )
    .await
    .with_context(|| {
        format!(
            "fragility of {} never reached the predicted {:?} {}",
            step.structure, step.predicted_score, step.predicted_band
        )
    })?;
    // Completing again changes nothing.
    ok(complete(server, step, &today).await?)?;
    let value = fragility(server, &step.structure).await?;
    ensure!(
        value["score"].as_u64() == step.predicted_score,
        "a repeated completion moved the score"
    );
    Ok(())
}

pub(crate) fn write_catalogue(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    let files = vigie_training::demo::catalogue(chrono::Local::now().date_naive());
    std::fs::write(dir.join("trainings.csv"), &files.trainings)?;
    std::fs::write(dir.join("sessions.csv"), &files.sessions)?;
    Ok(())
}

#[tokio::test]
async fn embedded_plan_enrol_complete_moves_fragility_as_predicted() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().to_str().unwrap_or_default().to_owned();
    let server = VigieServer::dev(&data, &["--demo"], &[]).await?;
    let structures = structure_ids(&server).await?;
    // The training read model is fed by inventory events: wait until it knows the structures.
    eventually("the training read model is fed", Duration::from_secs(30), || async {
        Ok(server
            .cli(&["training", "plan", "--structure", &structures[0], "--format", "json"])
            .await?
            .success)
    })
    .await?;
    let step = find_step(&server, &structures).await?;
    enrol_complete_and_check(&server, &step).await
}

#[tokio::test]
async fn distributed_plan_enrol_complete_moves_fragility_as_predicted() -> Result<()> {
    let nats = NatsServer::start().await;
    let (inventory_db, training_db) = (PgDatabase::create().await, PgDatabase::create().await);
    let dir = tempfile::tempdir()?;
    let url = nats.url();
    let inventory = VigieServer::serve("inventory", inventory_db.url(), &url, &[]).await?;
    let training = VigieServer::serve("training", training_db.url(), &url, &[]).await?;

    let set = dir.path().join("set");
    generate_set(&set, 40, 11, None).await?;
    ok(inventory
        .cli(&["inventory", "import", set.to_str().unwrap_or_default()])
        .await?)?;
    let catalogue = dir.path().join("catalogue");
    write_catalogue(&catalogue)?;
    ok(training
        .cli(&["training", "catalog", "import", catalogue.to_str().unwrap_or_default()])
        .await?)?;
    // The export is re-importable as is and changes nothing.
    let exported = dir.path().join("exported");
    ok(training
        .cli(&["training", "catalog", "export", exported.to_str().unwrap_or_default()])
        .await?)?;
    let reimported = ok(training
        .cli(&["training", "catalog", "import", exported.to_str().unwrap_or_default()])
        .await?)?;
    ensure!(
        reimported.stdout.contains("12 formations, 24 sessions"),
        "{}",
        reimported.stdout
    );

    let structures = structure_ids(&inventory).await?;
    let last = structures.last().cloned().unwrap_or_default();
    eventually(
        "inventory events reach the training service over NATS",
        Duration::from_secs(30),
        || async {
            Ok(training
                .cli(&["training", "plan", "--structure", &last, "--format", "json"])
                .await?
                .success)
        },
    )
    .await?;
    let step = find_step(&training, &structures).await?;

    // One client per service: training commands go to the training service,
    // fragility to the inventory.
    let today = chrono::Local::now().date_naive().to_string();
    ok(enrol(&training, &step).await?)?;
    ok(complete(&training, &step, &today).await?)?;
    eventually(
        "the inventory applies the completion from NATS",
        Duration::from_secs(30),
        || async {
            let value = fragility(&inventory, &step.structure).await?;
            Ok(value["score"].as_u64() == step.predicted_score
                && value["band"].as_str() == Some(step.predicted_band.as_str()))
        },
    )
    .await?;
    Ok(())
}
