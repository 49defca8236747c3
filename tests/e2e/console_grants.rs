//! Grants in the console (issue 16, item 4; docs/console.md « Subventions »),
//! over HTTP like a browser without script, against `vigie dev --demo`: a
//! director whose reports to funders rest on one person records an
//! application, then the grant won; « Ma structure » shows the amounts and
//! the report due; her network's coordinator sees the funder's success rate
//! and the duty at risk this fortnight, linked to the structure; the CLI's
//! `vigie grants stats` says the same; an invalid decision is refused in
//! the page, naming the field, and a forged form changes nothing.

use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use chrono::{Days, Months};
use http::StatusCode;
use serde_json::Value;
use vigie_e2e::console_client::{escaped, start_demo, Browser, Page};

use super::ok;

const FUNDER: &str = "Région Bretagne";
const TITLE: &str = "Jardins partagés du quartier";

/// The first demo structure whose `funder_reporting` rests on exactly one
/// person, with its network.
fn single_reporter(all: &Value) -> Option<(String, String)> {
    all.as_array()?.iter().find_map(|s| {
        let one = s["functions"]
            .as_array()?
            .iter()
            .any(|f| f["code"] == "funder_reporting" && f["holders"].as_array().is_some_and(|h| h.len() == 1));
        one.then(|| {
            Some((
                s["structure_id"].as_str()?.to_owned(),
                s["network"].as_str()?.to_owned(),
            ))
        })?
    })
}

/// The pending application's id offered by the decision form.
fn pending_id(page: &Page) -> Result<String> {
    let marker = "<option value=\"G";
    let start = page.body.find(marker).context("no pending application in the form")? + marker.len() - 1;
    Ok(page.body[start..].chars().take_while(|c| *c != '"').collect())
}

/// The director's page once the alerting service knows the structure (its
/// read model follows the inventory's events).
async fn grants_section(browser: &mut Browser, structure: &str) -> Result<Page> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let page = browser.get(&format!("/structures/{structure}")).await?;
        ensure!(page.status == StatusCode::OK, "{}", page.status);
        if page
            .body
            .contains(&format!("action=\"/structures/{structure}/subventions/candidature\""))
        {
            return Ok(page);
        }
        if Instant::now() > deadline {
            bail!("the grants section never showed:\n{}", page.body);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_director_records_a_grant_and_her_coordinator_sees_the_rate_and_the_duty_at_risk() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let (server, console) = start_demo(dir.path()).await?;
    let all = ok(server.cli(&["inventory", "fragility", "--format", "json"]).await?)?;
    let all: Value = serde_json::from_str(&all.stdout)?;
    let (structure, network) =
        single_reporter(&all).context("the demo has a structure whose reports rest on one person")?;

    let mut director = Browser::new(&console);
    ensure!(director.sign_in(&format!("director:{structure}")).await? == format!("/structures/{structure}"));
    let page = grants_section(&mut director, &structure).await?;
    let csrf = page.field("csrf")?;

    // An application to a funder Vigie never imported.
    let applied = director
        .post(
            &format!("/structures/{structure}/subventions/candidature"),
            &[
                ("csrf", &csrf),
                ("funder", FUNDER),
                ("title", TITLE),
                ("amount", "15 000"),
            ],
        )
        .await?;
    ensure!(
        applied.status == StatusCode::SEE_OTHER && applied.location() == format!("/structures/{structure}#subventions"),
        "{} {}",
        applied.status,
        applied.body
    );
    let page = director.get(&format!("/structures/{structure}")).await?;
    ensure!(page
        .body
        .contains("Votre candidature auprès de Région Bretagne est enregistrée"));
    ensure!(page.body.contains(&escaped(TITLE)) && page.body.contains("déposée, en attente de décision"));
    ensure!(
        page.body.contains("15\u{202f}000\u{a0}€"),
        "the amount asked, the French way"
    );
    let grant_id = pending_id(&page)?;

    // A grant won without its financial year: refused in the page, naming
    // the field, nothing recorded.
    let refused = director
        .post(
            &format!("/structures/{structure}/subventions/decision"),
            &[
                ("csrf", &csrf),
                ("grant_id", &grant_id),
                ("outcome", "won"),
                ("amount", "12 500"),
                ("year_end", ""),
            ],
        )
        .await?;
    ensure!(refused.status == StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.status);
    ensure!(refused.body.contains("id=\"decision-year-end-error\"") && refused.body.contains("aria-invalid=\"true\""));
    // A forged decision changes nothing either.
    let forged = director
        .post(
            &format!("/structures/{structure}/subventions/decision"),
            &[("csrf", "forged"), ("grant_id", &grant_id), ("outcome", "refused")],
        )
        .await?;
    ensure!(forged.status == StatusCode::FORBIDDEN);

    // Won, for a financial year whose report falls due in a week.
    let today = chrono::Utc::now().with_timezone(&chrono_tz::Europe::Paris).date_naive();
    let due = today + Days::new(7);
    let year_end = due.checked_sub_months(Months::new(6)).context("a year end")?;
    let won = director
        .post(
            &format!("/structures/{structure}/subventions/decision"),
            &[
                ("csrf", &csrf),
                ("grant_id", &grant_id),
                ("outcome", "won"),
                ("amount", "12 500"),
                ("year_end", &year_end.to_string()),
            ],
        )
        .await?;
    ensure!(won.status == StatusCode::SEE_OTHER, "{} {}", won.status, won.body);
    let page = director.get(&format!("/structures/{structure}")).await?;
    ensure!(page.body.contains("Subvention obtenue enregistrée"), "the confirmation");
    ensure!(page.body.contains("12\u{202f}500\u{a0}€"), "the amount granted");
    ensure!(
        page.body.contains(&escaped(&format!(
            "compte rendu financier (Cerfa n° 15059) — {FUNDER} ({TITLE})"
        ))),
        "the report due, in words"
    );
    // The API's due date, in words on the page.
    let duties = ok(server
        .cli(&["grants", "obligations", "--structure", &structure, "--format", "json"])
        .await?)?;
    let duties: Value = serde_json::from_str(&duties.stdout)?;
    let report = duties
        .as_array()
        .and_then(|all| all.iter().find(|o| o["rule"] == "financial_report_6_months"))
        .context("the report in the API")?;
    let due: chrono::NaiveDate = report["due"].as_str().context("a due date")?.parse()?;
    let days = (due - today).num_days();
    ensure!((0..=14).contains(&days), "due in {days} days");
    ensure!(
        page.body.contains(&escaped(&format!("({})", vigie_days(days)))),
        "how far the report is, in words"
    );

    // The coordinator: the funder's rate and the duty at risk.
    let mut coordinator = Browser::new(&console);
    ensure!(coordinator.sign_in(&format!("coordinator:{network}")).await? == format!("/reseaux/{network}"));
    let page = coordinator.get(&format!("/reseaux/{network}")).await?;
    ensure!(page.status == StatusCode::OK, "{}", page.status);
    let funders = table(&page, "funders").context("the funders' table")?;
    let row = funders
        .split("<tr>")
        .find(|r| r.contains(&escaped(TITLE)))
        .context("the programme's row")?;
    ensure!(
        row.contains(FUNDER) && row.contains("100,0\u{a0}%") && row.contains("12\u{202f}500\u{a0}€"),
        "{row}"
    );
    let at_risk = table(&page, "duties-at-risk").context("the duties at risk")?;
    let row = at_risk
        .split("<tr>")
        .find(|r| r.contains(&format!("href=\"/structures/{structure}#subventions\"")))
        .context("the structure's duty at risk")?;
    ensure!(
        row.contains("une seule personne") || row.contains("partent avant"),
        "why, in words: {row}"
    );

    // The CLI says the same.
    let stats = ok(server
        .cli(&["grants", "stats", "--network", &network, "--format", "json"])
        .await?)?;
    let stats: Value = serde_json::from_str(&stats.stdout)?;
    let record = stats["by_funder"]
        .as_array()
        .and_then(|all| all.iter().find(|f| f["programme"] == TITLE))
        .context("the programme in the CLI")?;
    ensure!(
        record["success_rate_per_mille"] == 1000 && record["pipeline"]["amount_granted_cents"] == 1_250_000,
        "{record}"
    );
    ensure!(
        stats["at_risk"]
            .as_array()
            .is_some_and(|all| all.iter().any(|d| d["structure_id"] == structure.as_str())),
        "{stats}"
    );

    // The same in a sheet and in a table.
    let csv = ok(server
        .cli(&["grants", "stats", "--network", &network, "--format", "csv"])
        .await?)?;
    ensure!(
        csv.stdout.starts_with("section,funder,programme,applied,") && csv.stdout.contains("\ntotal,"),
        "{}",
        csv.stdout
    );
    ensure!(
        csv.stdout
            .lines()
            .any(|l| l.starts_with(&format!("funder,{FUNDER},{TITLE},1,0,1,0,15000.00,12500.00,1000,"))),
        "{}",
        csv.stdout
    );
    ensure!(
        csv.stdout
            .lines()
            .any(|l| l.starts_with("at_risk,") && l.contains(&format!(",{structure},"))),
        "{}",
        csv.stdout
    );
    let words = ok(server.cli(&["grants", "stats", "--network", &network]).await?)?;
    ensure!(
        words.stdout.contains("taux de réussite")
            && words.stdout.contains("100,0\u{a0}%")
            && words.stdout.contains("Obligations à risque cette quinzaine"),
        "{}",
        words.stdout
    );

    // The federation: the instance's table by funder, no structure named.
    let mut federation = Browser::new(&console);
    federation.sign_in("federation").await?;
    let page = federation.get("/federation").await?;
    let funders = table(&page, "funders").context("the federation's funders")?;
    ensure!(funders.contains(&escaped(TITLE)), "{funders}");
    ensure!(!page.body.contains("duties-at-risk") && !page.body.contains(&structure));
    Ok(())
}

/// « dans N jours » as the console writes it.
fn vigie_days(days: i64) -> String {
    match days {
        0 => "aujourd'hui".to_owned(),
        1 => "demain".to_owned(),
        d => format!("dans {d} jours"),
    }
}

/// The HTML of the table of `class`.
fn table(page: &Page, class: &str) -> Option<String> {
    let start = page.body.find(&format!("<table class=\"{class}\">"))?;
    let rest = &page.body[start..];
    Some(rest[..rest.find("</table>")?].to_owned())
}
