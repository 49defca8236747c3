//! The console's pages for the people in the field (docs/console.md), over
//! HTTP against the real `vigie dev --demo`: a director sets a level and
//! her page shows the API's new score; a facilitator sees a director's
//! request, accepts a proposal and records an intervention that makes a
//! colleague autonomous, and the structure's score moves; a trainer marks a
//! completion. Out-of-reach pages read « Page introuvable » and forged
//! forms change nothing. Ids and figures are read from the API (the CLI as
//! the `vigie dev` identity) and from a same-seed copy of the demo's
//! generated files, never hard-coded.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use anyhow::{bail, ensure, Context, Result};
use http::StatusCode;
use serde_json::Value;
use vigie_e2e::console_client::{escaped, start_demo, Browser, Page};
use vigie_e2e::{generate_set, VigieServer};
use vigie_testkit::eventually;

use super::ok;

/// The demo's size and seed (services/vigie/src/server/dev.rs).
const DEMO_STRUCTURES: &str = "60";
const DEMO_SEED: &str = "2026";

fn today() -> String {
    chrono::Local::now().date_naive().to_string()
}

/// The demo's people and structures, from the same generator with the same
/// seed and date: (person id, structure id, end date) and (structure id,
/// network, department).
struct DemoSet {
    people: Vec<(String, String, String)>,
    structures: Vec<(String, String, String)>,
}

async fn demo_set(dir: &Path) -> Result<DemoSet> {
    let set = dir.join("set");
    generate_set(&set, DEMO_STRUCTURES, DEMO_SEED, Some(&today())).await?;
    let read = |file: &str, columns: [usize; 3]| -> Result<Vec<(String, String, String)>> {
        let mut reader = csv::Reader::from_path(set.join(file))?;
        let mut rows = Vec::new();
        for record in reader.records() {
            let record = record?;
            let get = |i: usize| record.get(i).unwrap_or_default().to_owned();
            rows.push((get(columns[0]), get(columns[1]), get(columns[2])));
        }
        Ok(rows)
    };
    Ok(DemoSet {
        people: read("people.csv", [0, 1, 4])?,
        structures: read("structures.csv", [0, 2, 7])?,
    })
}

async fn fragility(server: &VigieServer, structure: &str) -> Result<Value> {
    let out = ok(server
        .cli(&["inventory", "fragility", "--structure", structure, "--format", "json"])
        .await?)?;
    let value: Value = serde_json::from_str(&out.stdout)?;
    Ok(if value.is_array() { value[0].clone() } else { value })
}

async fn proposals(server: &VigieServer) -> Result<Vec<Value>> {
    let out = ok(server.cli(&["facilitation", "proposals", "--format", "json"]).await?)?;
    Ok(serde_json::from_str(&out.stdout)?)
}

fn holders(fragility: &Value, function: &str) -> Vec<String> {
    fragility["functions"]
        .as_array()
        .and_then(|l| l.iter().find(|f| f["code"].as_str() == Some(function)))
        .and_then(|f| f["holders"].as_array())
        .map(|h| h.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

fn spof(fragility: &Value) -> Vec<String> {
    fragility["spof_functions"]
        .as_array()
        .map(|l| l.iter().filter_map(|f| f.as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

/// A member of `structure` staying on (no end date) who does not hold `function`.
fn colleague(set: &DemoSet, structure: &str, holders: &[String]) -> Option<String> {
    set.people
        .iter()
        .find(|(id, s, end)| s == structure && end.is_empty() && !holders.contains(id))
        .map(|(id, _, _)| id.clone())
}

#[tokio::test]
async fn a_director_sets_a_level_and_her_page_shows_the_apis_new_score() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let (server, console) = start_demo(dir.path()).await?;
    let set = demo_set(dir.path()).await?;
    let structure = "S000004";
    let before = fragility(&server, structure).await?;
    // A function no one holds (the score weighs it most), else a
    // single-holder one of the highest criticality.
    let orphans: Vec<String> = before["orphan_functions"]
        .as_array()
        .map(|l| l.iter().filter_map(|f| f.as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    let criticality = |code: &str| {
        before["functions"]
            .as_array()
            .and_then(|l| l.iter().find(|f| f["code"].as_str() == Some(code)))
            .and_then(|f| f["criticality"].as_u64())
            .unwrap_or_default()
    };
    let function = orphans
        .first()
        .cloned()
        .or_else(|| spof(&before).into_iter().max_by_key(|f| criticality(f)))
        .context("S000004 has a fragile function")?;
    let person = colleague(&set, structure, &holders(&before, &function)).context("a colleague")?;

    let mut browser = Browser::new(&console);
    ensure!(browser.sign_in(&format!("director:{structure}")).await? == format!("/structures/{structure}"));
    let page = browser.get(&format!("/structures/{structure}")).await?;
    ensure!(page.status == StatusCode::OK);
    ensure!(
        page.score()? == before["score"].as_u64().context("a score")?,
        "the page's score is the API's"
    );
    ensure!(
        page.body.contains(&format!("<option value=\"{person}\">")),
        "the colleague can be chosen"
    );
    let csrf = page.field("csrf")?;
    let path = format!("/structures/{structure}/niveaux");

    // Mistakes: said next to their field, what was chosen kept, nothing saved.
    let refused = browser
        .post(
            &path,
            &[
                ("csrf", &csrf),
                ("function", &function),
                ("person", ""),
                ("level", "9"),
                ("last_practised", "hier"),
            ],
        )
        .await?;
    ensure!(refused.status == StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.status);
    for id in ["holding-person-error", "holding-level-error", "holding-date-error"] {
        ensure!(
            refused.body.contains(&format!("aria-describedby=\"{id}\"")) || refused.body.contains(&format!(" {id}\"")),
            "{id}"
        );
    }
    ensure!(
        refused
            .body
            .contains(&format!("<option value=\"{function}\" selected>")),
        "the function stays chosen"
    );
    ensure!(refused.body.contains("value=\"hier\""), "the date typed stays");
    // A person of no structure of hers, and a forged form: nothing changes.
    let stranger = browser
        .post(
            &path,
            &[
                ("csrf", &csrf),
                ("function", &function),
                ("person", "P999999"),
                ("level", "4"),
            ],
        )
        .await?;
    ensure!(stranger.status == StatusCode::UNPROCESSABLE_ENTITY);
    let forged = browser
        .post(
            &path,
            &[
                ("csrf", "forged"),
                ("function", &function),
                ("person", &person),
                ("level", "4"),
            ],
        )
        .await?;
    ensure!(forged.status == StatusCode::FORBIDDEN && forged.body.contains("Formulaire refusé"));
    ensure!(
        fragility(&server, structure).await?["score"] == before["score"],
        "refused forms changed the score"
    );

    let saved = browser
        .post(
            &path,
            &[
                ("csrf", &csrf),
                ("function", &function),
                ("person", &person),
                ("level", "4"),
                ("last_practised", &today()),
            ],
        )
        .await?;
    ensure!(
        saved.status == StatusCode::SEE_OTHER && saved.location() == format!("/structures/{structure}#inventaire"),
        "{} {}",
        saved.status,
        saved.body
    );
    let after = fragility(&server, structure).await?;
    let score = after["score"].as_u64().context("a score")?;
    ensure!(
        score < before["score"].as_u64().unwrap_or_default(),
        "a second holder lowers the score: {before} → {after}"
    );
    ensure!(
        holders(&after, &function).contains(&person),
        "the API counts the colleague"
    );
    let page = browser.get(&format!("/structures/{structure}")).await?;
    ensure!(page.body.contains("Niveau enregistré"), "the confirmation");
    ensure!(page.score()? == score, "the page shows the API's new score {score}");

    // The same page in English, with the API's English sentences.
    let switched = browser.post("/langue", &[("csrf", &csrf), ("lang", "en")]).await?;
    ensure!(switched.status == StatusCode::SEE_OTHER);
    let english = browser.get(&format!("/structures/{structure}")).await?;
    ensure!(english.body.contains("<html lang=\"en\">") && english.body.contains("Update the levels"));
    ensure!(english.body.contains(&format!("score of {score} out of 100")));
    Ok(())
}

/// A proposal offered to a facilitator on a single-holder function, with a
/// colleague to make autonomous.
struct Target {
    request: String,
    structure: String,
    network: String,
    function: String,
    facilitator: String,
    person: String,
    score: u64,
}

async fn find_target(server: &VigieServer, set: &DemoSet) -> Result<Target> {
    // The demo's proposals open one by one as fragility events travel: look
    // again until one fits (or give up after 30 s).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(target) = fitting_target(server, set).await? {
            return Ok(target);
        }
        if tokio::time::Instant::now() > deadline {
            bail!("no offered proposal on a single-holder function with a colleague within 30 s");
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

async fn fitting_target(server: &VigieServer, set: &DemoSet) -> Result<Option<Target>> {
    for p in proposals(server).await? {
        let field = |key: &str| p[key].as_str().unwrap_or_default().to_owned();
        if p["kind"] != "fragility" || p["status"] != "offered" {
            continue;
        }
        let (structure, function) = (field("structure_id"), field("function"));
        let current = fragility(server, &structure).await?;
        if !spof(&current).contains(&function) {
            continue;
        }
        if let Some(person) = colleague(set, &structure, &holders(&current, &function)) {
            return Ok(Some(Target {
                request: field("request_id"),
                network: field("network"),
                facilitator: field("facilitator_id"),
                score: current["score"].as_u64().context("a score")?,
                structure,
                function,
                person,
            }));
        }
    }
    Ok(None)
}

#[tokio::test]
async fn a_facilitator_accepts_a_proposal_and_records_an_intervention_that_moves_the_score() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let (server, console) = start_demo(dir.path()).await?;
    let set = demo_set(dir.path()).await?;
    let target = find_target(&server, &set).await?;

    let mut browser = Browser::new(&console);
    ensure!(browser.sign_in(&format!("facilitator:{}", target.facilitator)).await? == "/accompagnement");
    let home = browser.get("/accompagnement").await?;
    ensure!(home.status == StatusCode::OK, "{}", home.status);
    ensure!(
        home.body
            .contains(&format!("name=\"request_id\" value=\"{}\"", target.request)),
        "the proposal to answer"
    );
    let csrf = home.field("csrf")?;

    // Not accepted yet: no intervention can be recorded on it.
    let early = browser
        .get(&format!("/accompagnement/demandes/{}", target.request))
        .await?;
    ensure!(early.status == StatusCode::NOT_FOUND, "{}", early.status);
    // A forged answer changes nothing.
    let forged = browser
        .post(
            "/accompagnement/reponse",
            &[("request_id", &target.request), ("answer", "accept")],
        )
        .await?;
    ensure!(forged.status == StatusCode::FORBIDDEN);
    let still = proposals(&server).await?;
    ensure!(
        still
            .iter()
            .any(|p| p["request_id"] == target.request.as_str() && p["status"] == "offered"),
        "a forged form answered the proposal"
    );

    let accepted = browser
        .post(
            "/accompagnement/reponse",
            &[("csrf", &csrf), ("request_id", &target.request), ("answer", "accept")],
        )
        .await?;
    ensure!(accepted.status == StatusCode::SEE_OTHER && accepted.location() == "/accompagnement");
    let home = browser.get("/accompagnement").await?;
    ensure!(home.body.contains("Vous avez accepté"), "the confirmation");
    let link = format!("/accompagnement/demandes/{}", target.request);
    ensure!(
        home.body.contains(&format!("href=\"{link}\"")),
        "a link to record the intervention"
    );

    let form = browser.get(&link).await?;
    ensure!(form.status == StatusCode::OK, "{}", form.status);
    ensure!(
        form.body.contains(&format!("<option value=\"{}\">", target.person)),
        "the colleague can be chosen"
    );
    for label in [
        "Atelier collectif",
        "Réseaux sociaux communication",
        "À distance",
        "Aide aux démarches administratives",
    ] {
        ensure!(form.body.contains(&escaped(label)), "CRA label {label}");
    }
    let today = today();
    let mut fields = vec![
        ("csrf", csrf.as_str()),
        ("minutes", "90"),
        ("beneficiary", "internal"),
        ("person", target.person.as_str()),
        ("autonomy_before", "1"),
        ("autonomy_after", "3"),
        ("on", today.as_str()),
        ("activity_type", "individuel"),
        ("place", "domicile"),
        ("themes", "bureautique"),
        ("themes", "email"),
    ];
    // A mistake: said next to its field, nothing typed lost, nothing recorded.
    fields[1].1 = "une heure";
    let refused = browser.post(&link, &fields).await?;
    ensure!(refused.status == StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.status);
    ensure!(refused.body.contains("id=\"minutes-error\"") && refused.body.contains("aria-invalid=\"true\""));
    ensure!(refused.body.contains("value=\"une heure\""));
    ensure!(refused.body.contains("value=\"email\" checked") && refused.body.contains("value=\"domicile\" selected"));
    ensure!(fragility(&server, &target.structure).await?["score"].as_u64() == Some(target.score));

    fields[1].1 = "90";
    let home = browser.submit(&link, &fields, "/accompagnement").await?;
    ensure!(
        home.body.contains("Intervention notée") && home.body.contains("autonome"),
        "the confirmation"
    );
    ensure!(home.body.contains("1 h 30"), "the time counts as internal");
    let switched = browser.post("/langue", &[("csrf", &csrf), ("lang", "en")]).await?;
    ensure!(switched.status == StatusCode::SEE_OTHER);
    let english = browser.get("/accompagnement").await?;
    ensure!(
        english.body.contains("Supporting the structures") && english.body.contains("Structures&#39; internal needs")
    );
    // The inventory applies the autonomy (an event): the score moves.
    eventually("the structure's score moves", Duration::from_secs(30), || async {
        let after = fragility(&server, &target.structure).await?;
        Ok(after["score"].as_u64().is_some_and(|s| s < target.score) && !spof(&after).contains(&target.function))
    })
    .await
    .with_context(|| format!("{} of {} never moved", target.function, target.structure))?;

    // A director's request appears on the page of the facilitator it is offered to.
    let mut director = Browser::new(&console);
    director.sign_in(&format!("director:{}", target.structure)).await?;
    let page = director.get(&format!("/structures/{}", target.structure)).await?;
    let description = "Test de la console : personne ne sait faire la paie à part moi";
    let sent = director
        .post(
            &format!("/structures/{}/aide", target.structure),
            &[
                ("csrf", &page.field("csrf")?),
                ("function", &target.function),
                ("description", description),
            ],
        )
        .await?;
    ensure!(sent.status == StatusCode::SEE_OTHER, "{}", sent.status);
    let request = proposals(&server)
        .await?
        .into_iter()
        .find(|p| p["description"] == description)
        .context("the request in the API")?;
    let offered_to = request["facilitator_id"].as_str().unwrap_or_default().to_owned();
    ensure!(!offered_to.is_empty(), "the request is offered to someone: {request}");
    let mut facilitator = Browser::new(&console);
    facilitator.sign_in(&format!("facilitator:{offered_to}")).await?;
    let seen = facilitator.get("/accompagnement").await?;
    ensure!(
        seen.body.contains(&escaped(description)),
        "the facilitator sees the request"
    );

    // A structure outside every network this facilitator serves.
    let departments: BTreeSet<&str> = set
        .structures
        .iter()
        .filter(|(_, n, _)| *n == target.network)
        .map(|(_, _, d)| d.as_str())
        .collect();
    let served: BTreeSet<&str> = set
        .structures
        .iter()
        .filter(|(_, _, d)| departments.contains(d.as_str()))
        .map(|(_, n, _)| n.as_str())
        .collect();
    let outside = set
        .structures
        .iter()
        .find(|(_, n, _)| !served.contains(n.as_str()))
        .context("a structure in another network")?;
    let hidden = browser.get(&format!("/structures/{}", outside.0)).await?;
    let unknown = browser.get("/structures/S999999").await?;
    // The session reads English since the switch above.
    ensure!(
        hidden.status == StatusCode::NOT_FOUND && hidden.body.contains("Page not found"),
        "{} for {}: {} {}",
        hidden.status,
        outside.0,
        hidden.location(),
        hidden.body.chars().take(300).collect::<String>()
    );
    ensure!(hidden.body == unknown.body, "out of reach reads as unknown");
    Ok(())
}

#[tokio::test]
async fn a_trainer_enrols_a_person_and_marks_the_completion() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let (server, console) = start_demo(dir.path()).await?;
    let set = demo_set(dir.path()).await?;
    let sessions = ok(server.cli(&["training", "sessions", "--format", "json"]).await?)?;
    let sessions: Vec<Value> = serde_json::from_str(&sessions.stdout)?;
    let session = sessions
        .iter()
        .find(|s| s["enrolled"].as_u64() < s["capacity"].as_u64())
        .context("a session with a free seat")?;
    let session_id = session["session_id"].as_str().unwrap_or_default().to_owned();
    let enrolled = session["enrolled"].as_u64().unwrap_or_default();

    let networks: BTreeMap<&str, &str> = set
        .structures
        .iter()
        .map(|(s, n, _)| (s.as_str(), n.as_str()))
        .collect();
    let (person, structure, _) = set
        .people
        .iter()
        .find(|(_, _, end)| end.is_empty())
        .context("a person")?;
    let network = networks.get(structure.as_str()).context("her network")?;
    let outsider = set
        .people
        .iter()
        .find(|(_, s, _)| networks.get(s.as_str()) != Some(network))
        .context("a person of another network")?;

    let mut browser = Browser::new(&console);
    ensure!(browser.sign_in(&format!("trainer:{network}")).await? == "/formations");
    let page = browser.get("/formations").await?;
    ensure!(page.status == StatusCode::OK);
    for s in &sessions {
        let id = s["session_id"].as_str().context("a session id")?;
        ensure!(
            page.body.contains(&format!("<option value=\"{id}\"")),
            "session {id} can be chosen"
        );
    }
    let csrf = page.field("csrf")?;
    let act = |action: &'static str, who: String| {
        vec![
            ("csrf".to_owned(), csrf.clone()),
            ("session".to_owned(), session_id.clone()),
            ("person".to_owned(), who),
            ("action".to_owned(), action.to_owned()),
        ]
    };
    async fn post(browser: &mut Browser, fields: &[(String, String)]) -> Result<Page> {
        let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        browser.post("/formations/inscriptions", &pairs).await
    }
    let count = || async {
        let out = ok(server.cli(&["training", "sessions", "--format", "json"]).await?)?;
        let all: Vec<Value> = serde_json::from_str(&out.stdout)?;
        all.iter()
            .find(|s| s["session_id"] == session_id.as_str())
            .and_then(|s| s["enrolled"].as_u64())
            .context("the session")
    };

    // Outside her networks, or forged: nothing changes.
    let refused = post(&mut browser, &act("enrol", outsider.0.clone())).await?;
    ensure!(refused.status == StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.status);
    ensure!(
        refused.body.contains("id=\"person-error\"") && refused.body.contains(&format!("value=\"{}\"", outsider.0))
    );
    let mut forged = act("enrol", person.clone());
    forged[0].1 = "forged".to_owned();
    ensure!(post(&mut browser, &forged).await?.status == StatusCode::FORBIDDEN);
    ensure!(count().await? == enrolled, "refused forms enrolled someone");

    let done = post(&mut browser, &act("enrol", person.clone())).await?;
    ensure!(
        done.status == StatusCode::SEE_OTHER && done.location() == "/formations",
        "{} {}",
        done.status,
        done.body
    );
    ensure!(count().await? == enrolled + 1, "the API counts the enrolment");
    let completed = post(&mut browser, &act("complete", person.clone())).await?;
    ensure!(
        completed.status == StatusCode::SEE_OTHER,
        "{} {}",
        completed.status,
        completed.body
    );
    let page = browser.get("/formations").await?;
    ensure!(page.body.contains("formation terminée"), "the confirmation");
    // Completed: it can no longer be cancelled (the service says why,
    // next to the choice).
    let again = post(&mut browser, &act("cancel", person.clone())).await?;
    ensure!(again.status == StatusCode::UNPROCESSABLE_ENTITY && again.body.contains("id=\"action-error\""));

    // The same page in English.
    let switched = browser.post("/langue", &[("csrf", &csrf), ("lang", "en")]).await?;
    ensure!(switched.status == StatusCode::SEE_OTHER);
    let english = browser.get("/formations").await?;
    ensure!(english.body.contains("<html lang=\"en\">") && english.body.contains("Training sessions, by date"));
    ensure!(english.body.contains("Record the completion") && !english.body.contains("Noter la formation suivie"));
    Ok(())
}
