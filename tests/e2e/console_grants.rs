//! Grants in the console (issue 16, item 4; docs/console.md « Subventions »),
//! over HTTP like a browser without script, against `vigie dev --demo`: a
//! director whose reports to funders rest on one person records an
//! application, then the grant won; « Ma structure » shows the amounts and
//! the report due; her network's coordinator sees the funder's success rate
//! and the duty at risk this fortnight, linked to the structure; the CLI's
//! `vigie grants stats` says the same; an invalid decision is refused in
//! the page, naming the field, and a forged form changes nothing. She marks
//! the report « envoyé » (no longer at risk), then takes it back. A
//! coordinator imports a sheet of grants: every problem listed by line and
//! nothing written, then the corrected sheet and its summary; the template
//! downloaded is the CLI's.

use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use chrono::{Days, Months};
use http::StatusCode;
use serde_json::Value;
use vigie_e2e::console_client::{escaped, start_demo, Browser, Page};

use super::{json_of, ok};

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

/// The id of the pending application titled [`TITLE`] offered by the
/// decision form (the demo may have others pending).
fn pending_id(page: &Page) -> Result<String> {
    let marker = "<option value=\"G";
    page.body
        .split(marker)
        .skip(1)
        .find(|option| {
            option
                .split("</option>")
                .next()
                .is_some_and(|o| o.contains(&escaped(TITLE)))
        })
        .map(|option| format!("G{}", option.chars().take_while(|c| *c != '"').collect::<String>()))
        .context("no pending application in the form")
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
    let all = json_of(&server, &["inventory", "fragility"]).await?;
    let (structure, network) =
        single_reporter(&all).context("the demo has a structure whose reports rest on one person")?;

    let mut director = Browser::new(&console);
    ensure!(director.sign_in(&format!("director:{structure}")).await? == format!("/structures/{structure}"));
    let page = grants_section(&mut director, &structure).await?;
    let csrf = page.field("csrf")?;

    // An application to a funder Vigie never imported.
    let page = director
        .submit(
            &format!("/structures/{structure}/subventions/candidature"),
            &[
                ("csrf", &csrf),
                ("funder", FUNDER),
                ("title", TITLE),
                ("amount", "15 000"),
            ],
            &format!("/structures/{structure}#subventions"),
        )
        .await?;
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
    let page = director
        .submit(
            &format!("/structures/{structure}/subventions/decision"),
            &[
                ("csrf", &csrf),
                ("grant_id", &grant_id),
                ("outcome", "won"),
                ("amount", "12 500"),
                ("year_end", &year_end.to_string()),
            ],
            &format!("/structures/{structure}#subventions"),
        )
        .await?;
    ensure!(page.body.contains("Subvention obtenue enregistrée"), "the confirmation");
    ensure!(page.body.contains("12\u{202f}500\u{a0}€"), "the amount granted");
    ensure!(
        page.body.contains(&escaped(&format!(
            "compte rendu financier (Cerfa n° 15059) — {FUNDER} ({TITLE})"
        ))),
        "the report due, in words"
    );
    // The API's due date, in words on the page.
    let duties = json_of(&server, &["grants", "obligations", "--structure", &structure]).await?;
    let report = duties
        .as_array()
        .and_then(|all| all.iter().find(|o| o["rule"] == "financial_report_6_months"))
        .context("the report in the API")?;
    let due: chrono::NaiveDate = report["due"].as_str().context("a due date")?.parse()?;
    let days = (due - today).num_days();
    ensure!((0..=14).contains(&days), "due in {days} days");
    ensure!(
        page.body.contains(&escaped(&format!(
            "({})",
            vigie_words::dates::days_from_now(days, vigie_words::Lang::Fr)
        ))),
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
    let stats = json_of(&server, &["grants", "stats", "--network", &network]).await?;
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

    // The director marks the report « envoyé »: its state and date on her
    // page, no longer at risk for the coordinator, « envoyé » in the API.
    let key = report["key"].as_str().context("the report's key")?.to_owned();
    let page = director.get(&format!("/structures/{structure}")).await?;
    ensure!(
        page.body
            .contains(&format!("action=\"/structures/{structure}/subventions/envoye\""))
            && page.body.contains("Marquer comme envoyé"),
        "the « envoyé » button"
    );
    let page = director
        .submit(
            &format!("/structures/{structure}/subventions/envoye"),
            &[("csrf", &csrf), ("key", &key), ("status", "sent")],
            &format!("/structures/{structure}#obligations"),
        )
        .await?;
    ensure!(
        page.body.contains("Compte rendu marqué comme envoyé"),
        "the confirmation"
    );
    let duties_table = table(&page, "duties").context("the duties' table")?;
    let row = duties_table
        .split("<tr>")
        .find(|r| r.contains(&escaped(TITLE)))
        .context("the report's row")?;
    ensure!(
        row.contains(&format!("Envoyé le {}", vigie_words::dates::french(today))) && row.contains("Annuler"),
        "{row}"
    );
    let listed = json_of(&server, &["grants", "obligations", "--structure", &structure]).await?;
    let state = listed
        .as_array()
        .and_then(|all| all.iter().find(|o| o["key"] == key.as_str()))
        .context("the report in the API")?;
    ensure!(
        state["status"] == "sent" && state["sent_on"] == today.to_string().as_str(),
        "{state}"
    );
    let page = coordinator.get(&format!("/reseaux/{network}")).await?;
    ensure!(
        table(&page, "duties-at-risk").is_none_or(|t| !t.contains(&escaped(TITLE))),
        "a report sent is no longer at risk"
    );
    // An unknown state is refused in the page, naming what is wrong.
    let refused = director
        .post(
            &format!("/structures/{structure}/subventions/envoye"),
            &[("csrf", &csrf), ("key", &key), ("status", "déposé")],
        )
        .await?;
    ensure!(
        refused.status == StatusCode::UNPROCESSABLE_ENTITY
            && refused.body.contains("id=\"duty-error\"")
            && refused.body.contains("état inconnu"),
        "{}",
        refused.status
    );
    // « Annuler »: to send again, at risk again.
    let page = director
        .submit(
            &format!("/structures/{structure}/subventions/envoye"),
            &[("csrf", &csrf), ("key", &key), ("status", "")],
            &format!("/structures/{structure}#obligations"),
        )
        .await?;
    ensure!(
        page.body.contains("Compte rendu de nouveau à envoyer"),
        "the confirmation"
    );
    let row = table(&page, "duties")
        .context("the duties' table")?
        .split("<tr>")
        .find(|r| r.contains(&escaped(TITLE)))
        .context("the report's row")?
        .to_owned();
    ensure!(
        row.contains("Marquer comme envoyé") && !row.contains("Envoyé le"),
        "{row}"
    );
    let page = coordinator.get(&format!("/reseaux/{network}")).await?;
    ensure!(
        table(&page, "duties-at-risk").is_some_and(|t| t.contains(&escaped(TITLE))),
        "at risk again once taken back"
    );
    // A forged « envoyé » changes nothing.
    let forged = director
        .post(
            &format!("/structures/{structure}/subventions/envoye"),
            &[("csrf", "forged"), ("key", &key), ("status", "sent")],
        )
        .await?;
    ensure!(forged.status == StatusCode::FORBIDDEN);
    Ok(())
}

/// The HTML of the table of `class`.
fn table(page: &Page, class: &str) -> Option<String> {
    let start = page.body.find(&format!("<table class=\"{class}\">"))?;
    let rest = &page.body[start..];
    Some(rest[..rest.find("</table>")?].to_owned())
}

const BOUNDARY: &str = "----vigie-e2e-grants-boundary";

/// The import form as a browser sends it: `csrf` first, then the file.
async fn upload_grants(
    base: &str,
    session: &str,
    network: &str,
    fields: &[(&str, &str)],
    file: (&str, &[u8]),
) -> Result<Page> {
    use bytes::Bytes;
    use http::header::{CONTENT_TYPE, COOKIE};
    use http_body_util::{BodyExt, Full};
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;

    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"fichier\"; filename=\"{}\"\r\nContent-Type: text/csv\r\n\r\n",
            file.0
        )
        .as_bytes(),
    );
    body.extend_from_slice(file.1);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    let request = http::Request::builder()
        .method(http::Method::POST)
        .uri(format!("{base}/reseaux/{network}/subventions/import"))
        .header(COOKIE, format!("vigie_session={session}"))
        .header(CONTENT_TYPE, format!("multipart/form-data; boundary={BOUNDARY}"))
        .body(Full::new(Bytes::from(body)))?;
    let response = Client::builder(TokioExecutor::new())
        .build_http()
        .request(request)
        .await?;
    let status = response.status();
    let headers = response.headers().clone();
    let body = String::from_utf8(response.into_body().collect().await?.to_bytes().to_vec())?;
    Ok(Page { status, headers, body })
}

/// The structures of `network` and one of another network, from the CLI.
fn structures_of(all: &Value, network: &str) -> (Vec<String>, Option<String>) {
    let mut mine = Vec::new();
    let mut other = None;
    for s in all.as_array().into_iter().flatten() {
        let id = s["structure_id"].as_str().unwrap_or_default().to_owned();
        if s["network"] == network {
            mine.push(id);
        } else if other.is_none() {
            other = Some(id);
        }
    }
    (mine, other)
}

#[tokio::test]
async fn a_coordinator_imports_grants_every_problem_listed_by_line_then_the_summary() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let (server, console) = start_demo(dir.path()).await?;
    let all = json_of(&server, &["inventory", "fragility"]).await?;
    let (_, network) = single_reporter(&all).context("a demo structure")?;
    let (mine, other) = structures_of(&all, &network);
    ensure!(mine.len() >= 2, "two structures in {network}: {mine:?}");
    let other = other.context("a structure of another network")?;

    let mut coordinator = Browser::new(&console);
    ensure!(coordinator.sign_in(&format!("coordinator:{network}")).await? == format!("/reseaux/{network}"));
    let page = coordinator.get(&format!("/reseaux/{network}")).await?;
    ensure!(page
        .body
        .contains(&format!("href=\"/reseaux/{network}/subventions/import\"")));
    let page = coordinator
        .get(&format!("/reseaux/{network}/subventions/import"))
        .await?;
    ensure!(page.status == StatusCode::OK, "{}", page.status);
    ensure!(page.body.contains("enctype=\"multipart/form-data\"") && page.body.contains("name=\"fichier\""));
    ensure!(page
        .body
        .contains(&format!("href=\"/reseaux/{network}/subventions/modele.xlsx\"")));
    let csrf = page.field("csrf")?;
    let session = coordinator.session.clone().context("a session")?;

    // The template: an attachment, the workbook the CLI writes.
    let template = coordinator
        .get(&format!("/reseaux/{network}/subventions/modele.xlsx"))
        .await?;
    ensure!(template.status == StatusCode::OK, "{}", template.status);
    ensure!(
        template.headers[http::header::CONTENT_DISPOSITION] == "attachment; filename=\"modele-subventions.xlsx\""
            && template.headers[http::header::CACHE_CONTROL] == "no-store",
        "{:?}",
        template.headers
    );
    let cli_template = dir.path().join("modele.xlsx");
    ok(vigie_e2e::run_cli(&["grants", "template", "--out", cli_template.to_str().unwrap_or_default()]).await?)?;
    let from_cli = vigie_workbook::read_table(&std::fs::read(&cli_template)?, "Subventions")
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    // The page's body is text: read the sheet from the bytes the console sends.
    let bytes = http_bytes(
        &console,
        &session,
        &format!("/reseaux/{network}/subventions/modele.xlsx"),
    )
    .await?;
    let from_console = vigie_workbook::read_table(&bytes, "Subventions").map_err(|e| anyhow::anyhow!("{e:?}"))?;
    ensure!(from_console == from_cli, "the console's template is the CLI's");

    // One bad amount (line 3) and a structure of another network (line 4):
    // both listed by line, nothing written.
    let header = "structure,financeur,intitulé,montant demandé,issue,montant accordé,fin d'exercice\n";
    let year = chrono::Utc::now().date_naive().format("%Y");
    let first = format!(
        "{},Fondation Vélo pour tous,Réparation de vélos,8000,obtenu,6000,31/12/{year}",
        mine[0]
    );
    let good = |row: &str| format!("{header}{first}\n{row}\n");
    let bad = format!(
        "{}{other},CAF,Loisirs,1000,,,\n",
        good(&format!("{},Département,Ateliers couture,beaucoup,,,", mine[1]))
    );
    let refused = upload_grants(
        &console,
        &session,
        &network,
        &[("csrf", &csrf)],
        ("subventions.csv", bad.as_bytes()),
    )
    .await?;
    ensure!(
        refused.status == StatusCode::UNPROCESSABLE_ENTITY,
        "{} {}",
        refused.status,
        refused.body
    );
    ensure!(
        refused.body.contains(&escaped("2 erreurs : rien n'a été importé")),
        "{}",
        refused.body
    );
    let errors = refused
        .body
        .split("<ul class=\"import-errors\">")
        .nth(1)
        .context("the list of errors")?;
    ensure!(
        errors.contains("subventions.csv:3: ")
            && errors.contains("subventions.csv:4: ")
            && !errors.contains("subventions.csv:2: "),
        "{errors}"
    );
    let listed = ok(server
        .cli(&["grants", "list", "--network", &network, "--format", "json"])
        .await?)?;
    ensure!(
        !listed.stdout.contains("Réparation de vélos"),
        "nothing written: {}",
        listed.stdout
    );

    // Corrected: imported, the summary; the same file again changes nothing.
    let fixed = good(&format!("{},Département,Ateliers couture,2500,,,", mine[1]));
    let done = upload_grants(
        &console,
        &session,
        &network,
        &[("csrf", &csrf)],
        ("subventions.csv", fixed.as_bytes()),
    )
    .await?;
    ensure!(
        done.status == StatusCode::SEE_OTHER && done.location() == format!("/reseaux/{network}/subventions/import"),
        "{} {}",
        done.status,
        done.body
    );
    let page = coordinator
        .get(&format!("/reseaux/{network}/subventions/import"))
        .await?;
    ensure!(
        page.body.contains(&escaped(
            "Import terminé (subventions.csv) : 2 ligne(s) créée(s), 0 modifiée(s), 0 déjà à jour."
        )),
        "{}",
        page.body
    );
    let listed = ok(server
        .cli(&["grants", "list", "--network", &network, "--format", "json"])
        .await?)?;
    ensure!(
        listed.stdout.contains("Réparation de vélos") && listed.stdout.contains("Ateliers couture"),
        "{}",
        listed.stdout
    );
    let again = upload_grants(
        &console,
        &session,
        &network,
        &[("csrf", &csrf), ("verifier", "oui")],
        ("subventions.csv", fixed.as_bytes()),
    )
    .await?;
    ensure!(again.status == StatusCode::SEE_OTHER, "{}", again.status);
    let page = coordinator
        .get(&format!("/reseaux/{network}/subventions/import"))
        .await?;
    ensure!(
        page.body.contains(&escaped(
            "Vérification réussie (subventions.csv), rien n'a été écrit : 0 ligne(s) à créer, 0 à modifier, 2 déjà à jour."
        )),
        "{}",
        page.body
    );

    // A forged form, an empty form: refused; a director never reaches the page.
    let forged = upload_grants(
        &console,
        &session,
        &network,
        &[("csrf", "forged")],
        ("subventions.csv", fixed.as_bytes()),
    )
    .await?;
    ensure!(forged.status == StatusCode::FORBIDDEN, "{}", forged.status);
    let empty = upload_grants(&console, &session, &network, &[("csrf", &csrf)], ("", b"")).await?;
    ensure!(
        empty.status == StatusCode::UNPROCESSABLE_ENTITY && empty.body.contains("id=\"fichier-error\""),
        "{}",
        empty.status
    );
    let mut director = Browser::new(&console);
    director.sign_in(&format!("director:{}", mine[0])).await?;
    let page = director.get(&format!("/reseaux/{network}/subventions/import")).await?;
    ensure!(page.status == StatusCode::NOT_FOUND, "{}", page.status);
    let page = director
        .get(&format!("/reseaux/{network}/subventions/modele.xlsx"))
        .await?;
    ensure!(page.status == StatusCode::NOT_FOUND, "{}", page.status);
    Ok(())
}

/// The raw bytes of a GET with the session (a workbook is not text).
async fn http_bytes(base: &str, session: &str, path: &str) -> Result<Vec<u8>> {
    use bytes::Bytes;
    use http_body_util::{BodyExt, Full};
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;

    let request = http::Request::builder()
        .uri(format!("{base}{path}"))
        .header(http::header::COOKIE, format!("vigie_session={session}"))
        .body(Full::new(Bytes::new()))?;
    let response = Client::builder(TokioExecutor::new())
        .build_http()
        .request(request)
        .await?;
    ensure!(response.status() == StatusCode::OK, "{path}: {}", response.status());
    Ok(response.into_body().collect().await?.to_bytes().to_vec())
}
