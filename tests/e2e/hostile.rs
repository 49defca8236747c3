//! Hostile input with the real binary (issue 10): the Etalab row whose
//! `porteurs` cell of 20,000 nested `[` aborted the whole `vigie dev` is
//! refused with a clear error while the server keeps serving; titles that a
//! spreadsheet would run as formulas come out neutralised from the server's
//! `calls export` and from the CLI's `--format csv`; a CRLF-laden
//! application URL is dropped with a warning and never reaches the calendar.

use anyhow::{ensure, Context, Result};
use chrono::{Days, Local};
use serde_json::Value;
use vigie_e2e::VigieServer;

use crate::ok;

const HEADER: &str = "id,titre,description,eligibilite,types_aides,porteurs,cibles,eligibilite_geographique,\
                      date_cloture,date_mise_a_jour,url_candidature";

/// One Etalab row with these cells (already CSV-quoted where needed).
fn row(id: &str, title: &str, porteurs: &str, url: &str, closing: &str) -> String {
    format!(
        "{id},{title},Description,Critères,financement,{porteurs},associations,PAYS-99100,{closing},2027-01-01,{url}\n"
    )
}

/// The titles of a CSV (column `title_column`), read with the `csv` crate.
fn column(csv_text: &str, name: &str) -> Result<Vec<String>> {
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let index = reader
        .headers()?
        .iter()
        .position(|header| header == name)
        .with_context(|| format!("no column {name} in {csv_text}"))?;
    let mut values = Vec::new();
    for record in reader.records() {
        values.push(record?.get(index).unwrap_or_default().to_owned());
    }
    Ok(values)
}

#[tokio::test]
async fn hostile_imports_never_stop_the_server_and_csv_leaves_neutralised() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    let server = VigieServer::dev(&data, &[], &[("VIGIE_ALERTING__HTTP_LISTEN", "127.0.0.1:0")]).await?;
    let closing = Local::now()
        .date_naive()
        .checked_add_days(Days::new(200))
        .context("date")?
        .to_string();

    // The row of the security review: refused at its line, the server lives on.
    let nested = dir.path().join("nested.csv");
    std::fs::write(
        &nested,
        format!("{HEADER}\n{}", row("n-1", "Appel", &"[".repeat(20_000), "", &closing)),
    )?;
    let refused = server
        .cli(&[
            "calls",
            "import",
            "--source",
            "etalab",
            nested.to_str().unwrap_or_default(),
        ])
        .await?;
    ensure!(
        !refused.success
            && refused.stderr.contains(&format!("{}:2", nested.display()))
            && refused.stderr.contains("imbrication trop profonde"),
        "the nested row must be a clear error at its line: {refused:?}"
    );
    ok(server.cli(&["calls", "list", "--format", "json"]).await?)?;

    // Formulas in titles; a CRLF + VEVENT injection in the application URL.
    let hostile = dir.path().join("hostile.csv");
    let formula = "=cmd|' /C calc'!A0";
    let hyperlink = "=HYPERLINK(\"https://evil.example/\",\"clic\")";
    let injected = "https://depot.example/\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nATTACH:https://evil.example/setup.exe";
    std::fs::write(
        &hostile,
        format!(
            "{HEADER}\n{}{}",
            row("h-1", formula, "", &format!("\"{injected}\""), &closing),
            row(
                "h-2",
                &format!("\"{}\"", hyperlink.replace('"', "\"\"")),
                "",
                "https://depot.example/ok",
                &closing
            ),
        ),
    )?;
    let imported = ok(server
        .cli(&[
            "calls",
            "import",
            "--source",
            "etalab",
            hostile.to_str().unwrap_or_default(),
        ])
        .await?)?;
    ensure!(
        imported.stderr.contains("URL") && imported.stderr.contains("ignorée"),
        "the bad URL must be a warning: {imported:?}"
    );

    // JSON keeps the titles verbatim and the bad URL is gone.
    let calls: Value = serde_json::from_str(&ok(server.cli(&["calls", "list", "--format", "json"]).await?)?.stdout)?;
    let calls = calls.as_array().context("calls list: an array")?;
    let by_ref = |reference: &str| calls.iter().find(|c| c["source_ref"] == reference).cloned();
    let first = by_ref("h-1").context("h-1 not imported")?;
    ensure!(first["title"] == formula, "{first}");
    ensure!(first["application_url"] == "", "{first}");
    ensure!(by_ref("h-2").context("h-2 not imported")?["application_url"] == "https://depot.example/ok");

    // The CLI's CSV and the server's Etalab export are neutralised.
    let listed = ok(server.cli(&["calls", "list", "--format", "csv"]).await?)?.stdout;
    let mut titles = column(&listed, "title")?;
    titles.sort();
    ensure!(
        titles == [format!("'{hyperlink}"), format!("'{formula}")],
        "calls list --format csv: {listed}"
    );
    let exported = ok(server.cli(&["calls", "export"]).await?)?.stdout;
    let mut titles = column(&exported, "titre")?;
    titles.sort();
    ensure!(
        titles == [format!("'{hyperlink}"), format!("'{formula}")],
        "calls export: {exported}"
    );
    ensure!(!exported.contains("BEGIN:VEVENT"), "{exported}");
    Ok(())
}
