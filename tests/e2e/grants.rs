//! After the deadline (issue 16, docs/grants.md) with the real binary: on
//! `vigie dev --demo`, a call acknowledged « déposé » twice is one
//! application; three grants of one financial year crossing 153,000 € bring
//! the audit and publication duties; a multi-year agreement one report per
//! year; amounts in French in tables; an invalid field refused by name.

use std::path::Path;
use std::time::Duration;

use anyhow::{bail, ensure, Context, Result};
use chrono::{Datelike, NaiveDate};
use serde_json::Value;
use vigie_e2e::VigieServer;
use vigie_testkit::eventually;

use crate::{json_of, ok, text};

/// Every wait is bounded by this.
const WAIT: Duration = Duration::from_secs(30);
/// A structure of the demo federation (`vigie dev --demo`).
pub(crate) const STRUCTURE: &str = "S000001";

async fn obligations(server: &VigieServer) -> Result<Vec<Value>> {
    match json_of(server, &["grants", "obligations", "--structure", STRUCTURE]).await? {
        Value::Array(items) => Ok(items),
        other => bail!("a JSON array expected, got {other}"),
    }
}

async fn record(server: &VigieServer, title: &str, amount: &str, year_end: &str, extra: &[&str]) -> Result<Value> {
    let mut args = vec![
        "grants",
        "record",
        "--structure",
        STRUCTURE,
        "--funder",
        "Région Bretagne",
        "--title",
        title,
        "--amount",
        amount,
        "--granted-on",
        "2026-11-15",
        "--financial-year-end",
        year_end,
    ];
    args.extend_from_slice(extra);
    json_of(server, &args).await
}

/// `vigie dev --demo` once the alerting service knows [`STRUCTURE`]: it
/// learns the demo structures from inventory events.
pub(crate) async fn dev_demo_with_structure(data: &Path) -> Result<VigieServer> {
    let server = VigieServer::dev(data, &["--demo"], &[]).await?;
    let known = &server;
    eventually(
        &format!("the alerting service to know {STRUCTURE}"),
        WAIT,
        || async move {
            Ok(known
                .cli(&["grants", "list", "--structure", STRUCTURE, "--format", "json"])
                .await?
                .success)
        },
    )
    .await?;
    Ok(server)
}

/// The end of the current calendar year, and the dates six and nine months after it.
fn year_end() -> (NaiveDate, String, String) {
    let year = chrono::Local::now().date_naive().year();
    let end = NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or_default();
    (end, format!("{}-06-30", year + 1), format!("{}-09-30", year + 1))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grants_from_submission_to_reporting_duties_with_the_cli() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    let server = &dev_demo_with_structure(&data).await?;

    // « Déposé » twice: one application for the call.
    let calls = json_of(server, &["calls", "list"]).await?;
    let call = calls
        .as_array()
        .and_then(|c| c.first())
        .map(|c| text(c, "call_id"))
        .context("the demo has calls")?;
    for status in ["depose", "submitted"] {
        ok(server
            .cli(&[
                "alerts",
                "ack",
                "--structure",
                STRUCTURE,
                "--call",
                &call,
                "--status",
                status,
            ])
            .await?)?;
    }
    let listed = json_of(server, &["grants", "list", "--structure", STRUCTURE]).await?;
    let grants = listed["grants"].as_array().context("grants")?;
    ensure!(
        grants.len() == 1 && text(&grants[0], "call_id") == call && text(&grants[0], "stage") == "applied",
        "{listed}"
    );
    ensure!(listed["pipeline"]["pending"] == 1, "{listed}");

    // Three grants of the year: the third crosses 153,000 € (the call's
    // application becomes the first one, won).
    let (end, six, nine) = year_end();
    let end = end.to_string();
    let first = record(server, "Insertion", "60000", &end, &["--call", &call]).await?;
    ensure!(text(&first, "grant_id") == text(&grants[0], "grant_id"), "{first}");
    record(server, "Jardins partagés", "60 000", &end, &[]).await?;
    let before = obligations(server).await?;
    ensure!(
        before.iter().all(|o| text(o, "rule") == "financial_report_6_months") && before.len() == 2,
        "{before:?}"
    );
    record(server, "Mobilité", "33001", &end, &[]).await?;
    let after = obligations(server).await?;
    let wide: Vec<(String, String, String)> = after
        .iter()
        .filter(|o| text(o, "grant_id").is_empty())
        .map(|o| (text(o, "rule"), text(o, "due"), text(o, "draft")))
        .collect();
    let draft_of = |due: &str| -> Result<String> {
        let due: NaiveDate = due.parse()?;
        Ok((due - chrono::Days::new(14)).to_string())
    };
    ensure!(
        wide == vec![
            ("audit_above_153k".to_owned(), six.clone(), draft_of(&six)?),
            ("publication_above_153k".to_owned(), nine.clone(), draft_of(&nine)?),
        ],
        "{after:?}"
    );
    let report = after
        .iter()
        .find(|o| text(o, "rule") == "financial_report_6_months")
        .context("a financial report")?;
    ensure!(
        text(report, "due") == six && text(report, "duty").contains("15059"),
        "{report}"
    );

    // A multi-year agreement over three years: one report a year.
    let year = chrono::Local::now().date_naive().year();
    let (start, stop) = (format!("{year}-01-01"), format!("{}-12-31", year + 2));
    let mut private = vec!["--agreement-start", start.as_str(), "--agreement-end", stop.as_str()];
    private.push("--private");
    record(server, "CPO fondation", "10000", &end, &private).await?;
    let yearly: Vec<String> = obligations(server)
        .await?
        .iter()
        .filter(|o| text(o, "rule") == "multi_year_yearly_report")
        .map(|o| text(o, "due"))
        .collect();
    ensure!(
        yearly
            == vec![
                format!("{}-06-30", year + 1),
                format!("{}-06-30", year + 2),
                format!("{}-06-30", year + 3)
            ],
        "{yearly:?}"
    );

    // The agreement moves the first yearly report: the date wins.
    let first_yearly = obligations(server)
        .await?
        .into_iter()
        .find(|o| text(o, "rule") == "multi_year_yearly_report")
        .context("a yearly report")?;
    let moved = format!("{}-04-30", year + 1);
    ok(server
        .cli(&[
            "grants",
            "set-date",
            "--structure",
            STRUCTURE,
            "--obligation",
            &text(&first_yearly, "key"),
            "--due",
            &moved,
        ])
        .await?)?;
    let now = obligations(server)
        .await?
        .into_iter()
        .find(|o| text(o, "key") == text(&first_yearly, "key"))
        .context("the moved report")?;
    ensure!(
        text(&now, "due") == moved && now["edited"] == true && text(&now, "draft") == draft_of(&moved)?,
        "{now}"
    );

    // « Envoyé » (issue 16): the duty is marked sent, then taken back.
    let key = text(&first_yearly, "key");
    let sent = ok(server
        .cli(&["grants", "ack", "--structure", STRUCTURE, "--key", &key])
        .await?)?;
    ensure!(sent.stdout.contains("« Envoyé » enregistré"), "{}", sent.stdout);
    let status_of = |list: Vec<Value>| {
        list.into_iter()
            .find(|o| text(o, "key") == key)
            .map(|o| (text(&o, "status"), text(&o, "sent_on")))
    };
    let (status, sent_on) = status_of(obligations(server).await?).context("the acknowledged duty")?;
    ensure!(status == "sent" && !sent_on.is_empty(), "{status} {sent_on}");
    ok(server
        .cli(&["grants", "ack", "--structure", STRUCTURE, "--key", &key, "--undo"])
        .await?)?;
    ensure!(status_of(obligations(server).await?) == Some((String::new(), String::new())));
    let unknown_key = server
        .cli(&[
            "grants",
            "ack",
            "--structure",
            STRUCTURE,
            "--key",
            "G0:financial_report_6_months:2026-12-31",
        ])
        .await?;
    ensure!(!unknown_key.success, "{unknown_key:?}");

    // CSV: the due date, the rule and the draft date first.
    let csv = ok(server
        .cli(&["grants", "obligations", "--structure", STRUCTURE, "--format", "csv"])
        .await?)?;
    ensure!(csv.stdout.starts_with("due,rule,draft,"), "{}", csv.stdout);
    ensure!(csv.stdout.lines().count() == 1 + 3 + 2 + 3, "{}", csv.stdout);
    // Tables: euros the French way, the pipeline's totals.
    let table = ok(server.cli(&["grants", "list", "--structure", STRUCTURE]).await?)?;
    ensure!(
        table.stdout.contains("33\u{202f}001\u{a0}€") && table.stdout.contains("163\u{202f}001\u{a0}€"),
        "{}",
        table.stdout
    );
    ensure!(table.stdout.contains("4 obtenue(s)"), "{}", table.stdout);

    // An invalid field is refused by name, nothing recorded.
    let refused = server
        .cli(&[
            "grants",
            "record",
            "--structure",
            STRUCTURE,
            "--funder",
            "Région",
            "--title",
            "Trop tard",
            "--amount",
            "100",
            "--granted-on",
            "2026-11-15",
            "--financial-year-end",
            "2045-12-31",
        ])
        .await?;
    ensure!(
        !refused.success && refused.stderr.contains("fin d'exercice"),
        "{refused:?}"
    );
    // An unknown structure is not found.
    let unknown = server.cli(&["grants", "obligations", "--structure", "S999999"]).await?;
    ensure!(!unknown.success, "{unknown:?}");
    let listed = json_of(server, &["grants", "list", "--structure", STRUCTURE]).await?;
    ensure!(
        listed["pipeline"]["won"] == 4 && listed["pipeline"]["applied"] == 4,
        "{listed}"
    );
    Ok(())
}
