//! The network coordinator's and the federation's pages of the console
//! (docs/console.md), over HTTP like a browser without script: the network
//! page lists exactly what the API gives for the network, filters by band,
//! shows the deadlines at risk the API implies, hides other networks, and
//! its reminder policy form round-trips (the webhook secret never shown)
//! while a forged form changes nothing.

use std::collections::BTreeSet;

use anyhow::{ensure, Context, Result};
use http::StatusCode;
use serde_json::Value;
use vigie_e2e::VigieServer;

use super::{json_of, ok};
use vigie_e2e::console_client::{escaped, start_demo, Browser, Page};

/// The ids of the rows of the table of `class` (`<table class="…">`).
fn row_ids(page: &Page, class: &str) -> Vec<String> {
    table_rows(page, class)
        .iter()
        .filter_map(|row| {
            let start = row.find("href=\"/structures/")? + "href=\"/structures/".len();
            Some(row[start..].chars().take_while(|c| *c != '"').collect())
        })
        .collect()
}

/// The `<tr>` of the body of the table of `class`, as HTML.
fn table_rows(page: &Page, class: &str) -> Vec<String> {
    let marker = format!("<table class=\"{class}\">");
    let Some(start) = page.body.find(&marker) else {
        return Vec::new();
    };
    let table = &page.body[start..];
    let table = &table[..table.find("</table>").unwrap_or(table.len())];
    let body = table.split("<tbody>").nth(1).unwrap_or_default();
    body.split("<tr>").skip(1).map(str::to_owned).collect()
}

async fn fragility(server: &VigieServer, network: &str) -> Result<Vec<Value>> {
    let out = ok(server
        .cli(&["inventory", "fragility", "--network", network, "--format", "json"])
        .await?)?;
    let all: Value = serde_json::from_str(&out.stdout)?;
    Ok(all.as_array().cloned().unwrap_or_default())
}

/// Every structure id of the network's table, page after page (sorted by name).
async fn listed(browser: &mut Browser, network: &str, filter: &str) -> Result<Vec<String>> {
    let mut ids = Vec::new();
    for n in 1.. {
        let page = browser
            .get(&format!("/reseaux/{network}?tri=nom{filter}&page={n}"))
            .await
            .context("line 53")?;
        ensure!(page.status == StatusCode::OK, "{}", page.status);
        ids.extend(row_ids(&page, "structures"));
        if !page.body.contains(&format!("page={}#structures", n + 1)) {
            break;
        }
    }
    Ok(ids)
}

/// The (structure, call title) the API puts at risk, or `None` while
/// alerting does not know every structure concerned yet.
async fn expected_at_risk(server: &VigieServer, api: &[Value]) -> Result<Option<Vec<(String, String)>>> {
    let mut at_risk = Vec::new();
    for s in api {
        let fragile = s["functions"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|f| f["code"] == "funding_applications" && f["holders"].as_array().is_some_and(|h| h.len() <= 1));
        if !fragile {
            continue;
        }
        let id = s["structure_id"].as_str().context("an id")?;
        let calls = server
            .cli(&[
                "calls",
                "list",
                "--structure",
                id,
                "--closing-within",
                "14",
                "--format",
                "json",
            ])
            .await?;
        if !calls.success && calls.stderr.contains("introuvable") {
            return Ok(None);
        }
        let calls: Value = serde_json::from_str(&ok(calls)?.stdout)?;
        for call in calls.as_array().into_iter().flatten() {
            let days = call["days_left"].as_i64();
            if days.is_some_and(|d| (0..=14).contains(&d)) && call["cancelled"] != true {
                let title = call["title"].as_str().context("a title")?;
                at_risk.push((id.to_owned(), escaped(title)));
            }
        }
    }
    Ok(Some(at_risk))
}

#[tokio::test]
async fn a_coordinator_sees_her_network_as_the_api_says_and_sets_its_reminders() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let (server, console) = start_demo(dir.path()).await?;
    let everything = json_of(&server, &["inventory", "fragility"]).await?;
    let networks: BTreeSet<String> = everything
        .as_array()
        .context("structures")?
        .iter()
        .filter_map(|s| s["network"].as_str().map(str::to_owned))
        .collect();
    ensure!(networks.len() >= 2, "the demo has several networks: {networks:?}");
    // The network of S000004, the docs' example.
    let network = everything
        .as_array()
        .and_then(|all| all.iter().find(|s| s["structure_id"] == "S000004"))
        .and_then(|s| s["network"].as_str())
        .context("S000004's network")?
        .to_owned();
    let other = networks
        .iter()
        .find(|n| **n != network)
        .context("another network")?
        .clone();

    let mut browser = Browser::new(&console);
    ensure!(browser.sign_in(&format!("coordinator:{network}")).await? == format!("/reseaux/{network}"));
    // Her page leads to the inventory import and its downloads, which answer.
    let home = browser.get(&format!("/reseaux/{network}")).await?;
    for link in ["import", "modele.xlsx", "inventaire.xlsx"] {
        let path = format!("/reseaux/{network}/{link}");
        ensure!(home.body.contains(&format!("href=\"{path}\"")), "no link to {path}");
        ensure!(browser.get(&path).await?.status == StatusCode::OK, "{path}");
    }

    // Exactly the structures the API gives for the network.
    let api = fragility(&server, &network).await?;
    let mut expected: Vec<String> = api
        .iter()
        .filter_map(|s| s["structure_id"].as_str().map(str::to_owned))
        .collect();
    expected.sort();
    let mut shown = listed(&mut browser, &network, "").await.context("line 127")?;
    shown.sort();
    ensure!(
        !expected.is_empty() && shown == expected,
        "page {shown:?}\nAPI {expected:?}"
    );

    // The band filter keeps that band only.
    let band = api[0]["band"].as_str().context("a band")?;
    let mut of_band: Vec<String> = api
        .iter()
        .filter(|s| s["band"] == band)
        .filter_map(|s| s["structure_id"].as_str().map(str::to_owned))
        .collect();
    of_band.sort();
    let mut filtered = listed(&mut browser, &network, &format!("&bande={band}"))
        .await
        .context("line 139")?;
    filtered.sort();
    ensure!(filtered == of_band, "band {band}: page {filtered:?}\nAPI {of_band:?}");
    ensure!(filtered.len() < expected.len() || api.iter().all(|s| s["band"] == band));

    // A minimum score keeps the structures scoring at least that (an
    // unknown band has no score).
    let min = api[0]["score"].as_u64().unwrap_or(0);
    let mut scoring: Vec<String> = api
        .iter()
        .filter(|s| s["score"].as_u64().is_some_and(|score| score >= min))
        .filter_map(|s| s["structure_id"].as_str().map(str::to_owned))
        .collect();
    scoring.sort();
    let mut shown = listed(&mut browser, &network, &format!("&score_min={min}")).await?;
    shown.sort();
    ensure!(shown == scoring, "score ≥ {min}: page {shown:?}\nAPI {scoring:?}");

    // « À risque cette quinzaine »: the calls closing within 14 days of the
    // structures whose funding applications rest on one person or nobody.
    // Alerting learns the structures from the inventory's events: wait
    // until it knows them all, so that the page and the API read the same.
    let mut at_risk = Vec::new();
    for attempt in 0.. {
        match expected_at_risk(&server, &api).await? {
            Some(rows) => {
                at_risk = rows;
                break;
            }
            None if attempt < 120 => tokio::time::sleep(std::time::Duration::from_millis(250)).await,
            None => anyhow::bail!("alerting never learnt the structures of {network}"),
        }
    }
    at_risk.sort();
    let home = browser.get(&format!("/reseaux/{network}")).await.context("line 160")?;
    let mut risk_rows: Vec<(String, String)> = table_rows(&home, "at-risk")
        .iter()
        .map(|row| {
            let id = row
                .split("href=\"/structures/")
                .nth(1)
                .map(|r| r.chars().take_while(|c| *c != '"').collect())
                .unwrap_or_default();
            let call = row.split("<td class=\"call\">").nth(1).unwrap_or_default();
            let call = call.split("</td>").next().unwrap_or_default();
            // The title, with or without its link.
            let title = match call.split_once("\">") {
                Some((_, rest)) if call.starts_with("<a ") => rest.trim_end_matches("</a>").to_owned(),
                _ => call.to_owned(),
            };
            (id, title)
        })
        .collect();
    risk_rows.sort();
    ensure!(risk_rows == at_risk, "at risk: page {risk_rows:?}\nAPI {at_risk:?}");
    if at_risk.is_empty() {
        ensure!(home.body.contains("Aucune échéance à risque"), "says there is none");
    }

    // Another network reads exactly as an unknown one.
    let foreign = browser.get(&format!("/reseaux/{other}")).await.context("line 186")?;
    let unknown = browser.get("/reseaux/reseau-inexistant").await.context("line 187")?;
    ensure!(foreign.status == StatusCode::NOT_FOUND && unknown.status == StatusCode::NOT_FOUND);
    ensure!(foreign.body == unknown.body && foreign.body.contains("Page introuvable"));

    // The reminder policy round-trips; the secret is never shown.
    let csrf = home.field("csrf")?;
    let secret = "un-secret-de-test-tres-long-42";
    let policy = [
        ("csrf", csrf.as_str()),
        ("offsets", "21, 5"),
        ("local_hour", "08:30"),
        ("timezone", "America/Cayenne"),
        ("referent_name", "Léa Roux"),
        ("referent_email", "lea.roux@reseau.example"),
        ("webhook_url", "https://hooks.example.invalid/vigie"),
        ("webhook_secret", secret),
    ];
    let after = browser
        .submit(
            &format!("/reseaux/{network}/rappels"),
            &policy,
            &format!("/reseaux/{network}#rappels"),
        )
        .await
        .context("the policy saved")?;
    for (name, value) in [
        ("offsets", "21, 5"),
        ("local_hour", "08:30"),
        ("timezone", "America/Cayenne"),
        ("referent_name", "Léa Roux"),
        ("referent_email", "lea.roux@reseau.example"),
        ("webhook_url", "https://hooks.example.invalid/vigie"),
    ] {
        ensure!(after.field(name)? == escaped(value), "{name}: {:?}", after.field(name));
    }
    ensure!(
        after.body.contains("Un secret est enregistré."),
        "the secret is said to be set"
    );
    ensure!(after.body.contains("La politique de rappel du réseau est enregistrée."));
    ensure!(!after.body.contains(secret), "the secret shows in the page");
    let stored = json_of(&server, &["alerts", "policy", "--network", &network]).await?;
    ensure!(
        stored["offsets_days"] == serde_json::json!([21, 5]) && stored["timezone"] == "America/Cayenne",
        "{stored}"
    );

    // A refusal of the service: next to its field, what was typed kept.
    let mut wrong = policy;
    wrong[3] = ("timezone", "Mars/Olympus");
    wrong[4] = ("referent_name", "Paul Durand");
    let refused = browser
        .post(&format!("/reseaux/{network}/rappels"), &wrong)
        .await
        .context("line 238")?;
    ensure!(refused.status == StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.status);
    ensure!(
        refused.body.contains("id=\"policy-timezone-error\""),
        "the error next to the time zone"
    );
    ensure!(refused
        .body
        .contains("policy-timezone-hint policy-timezone-error\" aria-invalid=\"true\""));
    ensure!(refused.field("timezone")? == "Mars/Olympus" && refused.field("referent_name")? == "Paul Durand");
    ensure!(!refused.body.contains(secret), "the secret typed is not shown back");

    // Forged forms change nothing.
    for csrf in [None, Some("forged")] {
        let mut form = vec![("offsets", "1"), ("timezone", "Europe/Paris")];
        if let Some(csrf) = csrf {
            form.push(("csrf", csrf));
        }
        let forged = browser
            .post(&format!("/reseaux/{network}/rappels"), &form)
            .await
            .context("line 251")?;
        ensure!(forged.status == StatusCode::FORBIDDEN, "{csrf:?}: {}", forged.status);
    }
    let unchanged = json_of(&server, &["alerts", "policy", "--network", &network]).await?;
    ensure!(unchanged == stored, "a forged form changed the policy: {unchanged}");
    // Nor can a coordinator set another network's policy.
    let theirs = browser
        .post(
            &format!("/reseaux/{other}/rappels"),
            &[("csrf", csrf.as_str()), ("offsets", "1")],
        )
        .await?;
    ensure!(theirs.status == StatusCode::NOT_FOUND, "{}", theirs.status);

    // In English: the same pages, their own words.
    let switched = browser
        .post("/langue", &[("csrf", csrf.as_str()), ("lang", "en")])
        .await?;
    ensure!(switched.status == StatusCode::SEE_OTHER, "{}", switched.status);
    let english = browser.get(&format!("/reseaux/{network}")).await?;
    ensure!(english.body.contains("At risk this fortnight") && english.body.contains("Save the reminders"));
    let foreign = browser.get(&format!("/reseaux/{other}")).await?;
    ensure!(foreign.status == StatusCode::NOT_FOUND && foreign.body.contains("Page not found"));
    Ok(())
}

#[tokio::test]
async fn the_federation_lands_on_its_networks_and_reaches_each_network_page() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let (server, console) = start_demo(dir.path()).await?;
    let mut browser = Browser::new(&console);
    ensure!(browser.sign_in("federation").await? == "/federation");
    let page = browser.get("/federation").await.context("line 273")?;
    ensure!(page.status == StatusCode::OK, "{}", page.status);
    let everything = json_of(&server, &["inventory", "fragility"]).await?;
    let networks: BTreeSet<&str> = everything
        .as_array()
        .context("structures")?
        .iter()
        .filter_map(|s| s["network"].as_str())
        .collect();
    for network in &networks {
        ensure!(
            page.body.contains(&format!("href=\"/reseaux/{network}\"")),
            "no link to {network}"
        );
    }
    let first = networks.first().context("a network")?;
    let network_page = browser.get(&format!("/reseaux/{first}")).await.context("line 287")?;
    ensure!(network_page.status == StatusCode::OK, "{}", network_page.status);

    // A coordinator has no federation page.
    let mut coordinator = Browser::new(&console);
    coordinator.sign_in(&format!("coordinator:{first}")).await?;
    let refused = coordinator.get("/federation").await.context("line 293")?;
    ensure!(refused.status == StatusCode::NOT_FOUND && refused.body.contains("Page introuvable"));
    Ok(())
}
