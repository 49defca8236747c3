//! Issue 6, end to end in both runtime modes: a critical or high fragility
//! event opens a proactive facilitation proposal; recording its intervention
//! with the person autonomous (level 3) raises the holding in the inventory,
//! and the fragility moves accordingly.

use std::path::Path;
use std::time::Duration;

use anyhow::{ensure, Context, Result};
use serde_json::Value;
use vigie_e2e::{generate_set, CliOutput, VigieServer};
use vigie_testkit::{eventually, NatsServer, PgDatabase};

use crate::ok;
use crate::training::fragility;

/// A proposal that can be carried out: a single-holder function and a
/// colleague (staying in the structure) to make autonomous on it.
struct Target {
    request: String,
    structure: String,
    network: String,
    function: String,
    facilitator: String,
    person: String,
    score_before: Option<u64>,
}

fn str_of(value: &Value, key: &str) -> String {
    value[key].as_str().unwrap_or_default().to_owned()
}

/// `vigie facilitation <what> --network <network>` over the one day `day`
/// (a report or the activity export), then `extra` (its format).
async fn of_the_day(server: &VigieServer, what: &str, network: &str, day: &str, extra: &[&str]) -> Result<CliOutput> {
    let mut args = vec!["facilitation", what, "--network", network, "--from", day, "--to", day];
    args.extend_from_slice(extra);
    ok(server.cli(&args).await?)
}

/// Generates a federation, imports the demo facilitators of its networks
/// (first, so the proposals find them), then the federation into the
/// inventory; returns the set's directory.
async fn prepare(inventory: &VigieServer, facilitation: &VigieServer, dir: &Path) -> Result<std::path::PathBuf> {
    let set = dir.join("set");
    generate_set(&set, 40, 11, None).await?;
    let mut places = Vec::new();
    let mut reader = csv::Reader::from_path(set.join("structures.csv"))?;
    for record in reader.records() {
        let record = record?;
        places.push((
            record.get(2).unwrap_or_default().to_owned(),
            record.get(7).unwrap_or_default().to_owned(),
        ));
    }
    let file = dir.join("facilitators.csv");
    std::fs::write(
        &file,
        vigie_facilitation::demo::facilitators(&places, chrono::Local::now().date_naive()),
    )?;
    import_facilitators(facilitation, &file, dir).await?;
    ok(inventory
        .cli(&["inventory", "import", set.to_str().unwrap_or_default()])
        .await?)?;
    Ok(set)
}

async fn import_facilitators(facilitation: &VigieServer, file: &Path, dir: &Path) -> Result<()> {
    let bad = dir.join("bad.csv");
    std::fs::write(
        &bad,
        "facilitator_id,display_name,kind,employer_structure_id,served_structures,territory_codes,functions,weekly_hours,internal_share,funding_programme,funding_end\n\
         F1,Personne,magicien,,,35,payroll,10,30%,,\n",
    )?;
    let refused = facilitation
        .cli(&[
            "facilitation",
            "facilitators",
            "import",
            bad.to_str().unwrap_or_default(),
        ])
        .await?;
    ensure!(
        !refused.success && refused.stderr.contains("bad.csv:2:"),
        "a bad file is refused with FILE:LINE: {refused:?}"
    );
    let imported = ok(facilitation
        .cli(&[
            "facilitation",
            "facilitators",
            "import",
            file.to_str().unwrap_or_default(),
        ])
        .await?)?;
    ensure!(
        imported.stdout.contains("Facilitateurs importés"),
        "{}",
        imported.stdout
    );
    Ok(())
}

/// Waits for proactive proposals and picks one to carry out.
async fn find_target(inventory: &VigieServer, facilitation: &VigieServer, set: &Path) -> Result<Target> {
    eventually(
        "fragility events open proactive proposals",
        Duration::from_secs(30),
        || async {
            let out = facilitation
                .cli(&["facilitation", "proposals", "--format", "json"])
                .await?;
            let list: Value = serde_json::from_str(&out.stdout).unwrap_or(Value::Null);
            Ok(list
                .as_array()
                .is_some_and(|l| l.iter().any(|p| p["origin"] == "proposal")))
        },
    )
    .await?;
    let out = ok(facilitation
        .cli(&["facilitation", "proposals", "--format", "json"])
        .await?)?;
    let proposals: Vec<Value> = serde_json::from_str(&out.stdout)?;
    let mut people = csv::Reader::from_path(set.join("people.csv"))?;
    let people: Vec<(String, String, String)> = people
        .records()
        .filter_map(Result::ok)
        .map(|r| {
            (
                r.get(0).unwrap_or_default().to_owned(),
                r.get(1).unwrap_or_default().to_owned(),
                r.get(4).unwrap_or_default().to_owned(),
            )
        })
        .collect();
    for p in proposals.iter().filter(|p| p["origin"] == "proposal") {
        let facilitator = str_of(p, "facilitator_id");
        if facilitator.is_empty() {
            continue;
        }
        let structure = str_of(p, "structure_id");
        let function = str_of(p, "function");
        let out = ok(inventory
            .cli(&["inventory", "fragility", "--structure", &structure, "--format", "json"])
            .await?)?;
        let fragility: Value = serde_json::from_str(&out.stdout)?;
        ensure!(
            matches!(fragility["band"].as_str(), Some("critical" | "high")),
            "a proposal on a structure that is not fragile: {fragility}"
        );
        let spof = fragility["spof_functions"]
            .as_array()
            .is_some_and(|l| l.iter().any(|f| f.as_str() == Some(function.as_str())));
        if !spof {
            continue;
        }
        let holders: Vec<String> = fragility["functions"]
            .as_array()
            .and_then(|l| l.iter().find(|f| f["code"].as_str() == Some(function.as_str())))
            .and_then(|f| f["holders"].as_array())
            .map(|h| h.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect())
            .unwrap_or_default();
        if let Some((person, _, _)) = people
            .iter()
            .find(|(id, s, end)| *s == structure && end.is_empty() && !holders.contains(id))
        {
            return Ok(Target {
                request: str_of(p, "request_id"),
                network: str_of(p, "network"),
                structure,
                function,
                facilitator,
                person: person.clone(),
                score_before: fragility["score"].as_u64(),
            });
        }
    }
    anyhow::bail!(
        "no single-holder proposal with a colleague to help among {} proposals",
        proposals.len()
    )
}

async fn record_and_check(inventory: &VigieServer, facilitation: &VigieServer, target: &Target) -> Result<()> {
    let today = chrono::Local::now().date_naive().to_string();
    let record = [
        "facilitation",
        "record",
        "--request",
        &target.request,
        "--minutes",
        "90",
        "--beneficiary",
        "internal",
        "--person",
        &target.person,
        "--autonomy-after",
        "3",
        "--autonomy-before",
        "1",
        "--type",
        "individuel",
        "--place",
        "domicile",
        "--themes",
        "bureautique;email",
        "--on",
        &today,
    ];
    let recorded = ok(facilitation.cli(&record).await?)?;
    ensure!(
        recorded.stdout.contains("Intervention enregistrée") && recorded.stdout.contains("autonome"),
        "{}",
        recorded.stdout
    );
    // The event travels to the inventory, which raises the holding and
    // recomputes the fragility: the function no longer rests on one person.
    eventually(
        "the inventory applies the intervention",
        Duration::from_secs(30),
        || async {
            let value = fragility(inventory, &target.structure).await?;
            let still_spof = value["spof_functions"]
                .as_array()
                .is_some_and(|l| l.iter().any(|f| f.as_str() == Some(target.function.as_str())));
            Ok(!still_spof && value["score"].as_u64() < target.score_before)
        },
    )
    .await
    .with_context(|| {
        format!(
            "{} of {} never stopped resting on one person",
            target.function, target.structure
        )
    })?;
    // Counted once.
    let again = ok(facilitation.cli(&record).await?)?;
    ensure!(again.stdout.contains("déjà enregistrée"), "{}", again.stdout);
    let open = ok(facilitation
        .cli(&[
            "facilitation",
            "proposals",
            "--structure",
            &target.structure,
            "--format",
            "json",
        ])
        .await?)?;
    ensure!(
        !open.stdout.contains(&target.request),
        "the proposal is closed: {}",
        open.stdout
    );
    let report = of_the_day(facilitation, "report", &target.network, &today, &["--format", "csv"]).await?;
    ensure!(
        report
            .stdout
            .lines()
            .any(|l| l.starts_with(&format!("{},", target.facilitator)) && l.contains(",90,0,")),
        "90 internal minutes reported once for {}: {}",
        target.facilitator,
        report.stdout
    );
    // The activity-report export carries the recorded type, place and themes.
    let export = of_the_day(facilitation, "export", &target.network, &today, &[]).await?;
    let row = format!(
        "{today},individuel,90,domicile,bureautique;email,structure_interne,{},{}",
        target.structure, target.facilitator
    );
    ensure!(
        export
            .stdout
            .starts_with("date,type_activite,duree_minutes,type_lieu,thematiques,")
            && export.stdout.lines().filter(|l| *l == row).count() == 1,
        "{row} once in: {}",
        export.stdout
    );
    // The JSON report: the proposal was closed by an internal intervention
    // (a resolution time), and the helped structure is not among the unhelped.
    let json = of_the_day(facilitation, "report", &target.network, &today, &["--format", "json"]).await?;
    let value: Value = serde_json::from_str(&json.stdout)?;
    let line = value["facilitators"]
        .as_array()
        .and_then(|l| l.iter().find(|l| str_of(l, "facilitator_id") == target.facilitator))
        .context("facilitator line")?;
    ensure!(line["resolution_hours_median"].is_number(), "{line}");
    ensure!(
        value["unhelped_structures"]
            .as_array()
            .is_some_and(|l| l.iter().all(|u| str_of(u, "structure_id") != target.structure
                || !u["functions"].to_string().contains(&format!("\"{}\"", target.function)))),
        "{}",
        json.stdout
    );
    Ok(())
}

#[tokio::test]
async fn embedded_fragility_proposal_intervention_raises_the_inventory() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    let server = VigieServer::dev(&data, &[], &[]).await?;
    let set = prepare(&server, &server, dir.path()).await?;
    let target = find_target(&server, &server, &set).await?;
    record_and_check(&server, &server, &target).await
}

#[tokio::test]
async fn distributed_fragility_proposal_intervention_raises_the_inventory() -> Result<()> {
    let nats = NatsServer::start().await;
    let (inventory_db, facilitation_db) = (PgDatabase::create().await, PgDatabase::create().await);
    let dir = tempfile::tempdir()?;
    let url = nats.url();
    let inventory = VigieServer::serve("inventory", inventory_db.url(), &url, &[]).await?;
    let facilitation = VigieServer::serve("facilitation", facilitation_db.url(), &url, &[]).await?;
    // Nothing publishes alerting events yet, but facilitation created their
    // stream and its durable consumer of deadline escalations.
    let js = async_nats::jetstream::new(async_nats::connect(nats.url()).await?);
    eventually(
        "facilitation consumes the alerting stream",
        Duration::from_secs(10),
        || {
            let js = js.clone();
            async move {
                Ok(match js.get_stream("VIGIE_ALERTING").await {
                    Ok(stream) => stream.consumer_info("facilitation-alerting").await.is_ok(),
                    Err(_) => false,
                })
            }
        },
    )
    .await?;
    let set = prepare(&inventory, &facilitation, dir.path()).await?;
    let target = find_target(&inventory, &facilitation, &set).await?;
    record_and_check(&inventory, &facilitation, &target).await
}
