//! The alerting service with the real binary, as a federation uses it: the
//! demo calls listed and matched, reminders delivered to a real SMTP server
//! (never twice, even across a `kill -9`), the calendar feed read by a real
//! iCalendar parser, acknowledgement links that a GET cannot trigger, a bad
//! import refused as a whole, and — in production mode — escalations that
//! reach the network's referent by email and the facilitation service over
//! NATS JetStream.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, ensure, Context, Result};
use chrono::{Days, NaiveDate};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use vigie_e2e::{generate_set, run_cli, VigieServer};
use vigie_testkit::{eventually, NatsServer, PgDatabase, ReceivedMail, SmtpServer};

use crate::{json_of, ok, text};

/// Signs links and calendar URLs in `vigie serve alerting` (32+ characters).
const LINK_SECRET: &str = "e2e-alerting-link-secret-0123456789abcdef";
/// `vigie dev --demo` loads the federation `inventory generate` gives for
/// these (services/vigie/src/server/dev.rs): the tests regenerate it to know
/// each structure's network, region and legal form.
const DEMO_STRUCTURES: &str = "60";
const DEMO_SEED: &str = "2026";
/// Every wait is bounded by this.
const WAIT: Duration = Duration::from_secs(30);

/// A structure of a generated set (`structures.csv`).
#[derive(Debug, Clone)]
struct Structure {
    id: String,
    name: String,
    network: String,
    legal_form: String,
    region: String,
}

/// Configuration of the alerting service through the environment: a
/// dispatch pass every second, HTTP on a free port, SMTP to `smtp`.
fn alerting_env(smtp: &SmtpServer) -> Vec<(String, String)> {
    [
        ("VIGIE_ALERTING__DISPATCH_INTERVAL_SECONDS", "1".to_owned()),
        ("VIGIE_ALERTING__HTTP_LISTEN", "127.0.0.1:0".to_owned()),
        ("VIGIE_ALERTING__SMTP__HOST", smtp.host().to_owned()),
        ("VIGIE_ALERTING__SMTP__PORT", smtp.port().to_string()),
        ("VIGIE_ALERTING__SMTP__FROM", "Vigie <alertes@vigie.test>".to_owned()),
        ("VIGIE_ALERTING__SMTP__STARTTLS", "false".to_owned()),
        ("VIGIE_ALERTING__SMTP__TIMEOUT", "10".to_owned()),
    ]
    .into_iter()
    .map(|(key, value)| (key.to_owned(), value))
    .collect()
}

async fn start(args: &[&str], envs: &[(String, String)]) -> Result<VigieServer> {
    let envs: Vec<(&str, &str)> = envs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    VigieServer::start(args, &envs).await
}

/// `vigie serve SERVICE` on `database` and the nats-server at `nats`
/// (`--auth none`), with `envs`.
async fn serve(service: &str, database: &str, nats: &str, envs: &[(String, String)]) -> Result<VigieServer> {
    start(&vigie_e2e::serve_args(service, database, nats), envs).await
}

/// `vigie dev --demo` on `data`, reminders to `smtp`.
async fn dev_demo(data: &Path, smtp: &SmtpServer) -> Result<VigieServer> {
    let data = data.to_str().unwrap_or_default();
    start(
        &["dev", "--demo", "--listen", "127.0.0.1:0", "--data-dir", data],
        &alerting_env(smtp),
    )
    .await
}

/// The local date (the server counts days in Europe/Paris; a day's shift
/// around midnight changes nothing below).
/// `vigie dev --demo` on a fresh data folder (`data` in the returned
/// folder) mailing to an SMTP server, once alerting knows every structure of
/// the demo set (returned): the start of the embedded demo scenarios.
async fn demo_platform() -> Result<(SmtpServer, tempfile::TempDir, VigieServer, Vec<Structure>)> {
    let smtp = SmtpServer::start().await?;
    let dir = tempfile::tempdir()?;
    let server = dev_demo(&dir.path().join("data"), &smtp).await?;
    let (_, demo) = generate(dir.path(), DEMO_STRUCTURES, DEMO_SEED).await?;
    wait_known(&server, &demo).await?;
    Ok((smtp, dir, server, demo))
}

/// `vigie calls import --source aides-territoires <file>`: its JSON summary.
async fn import_aides(server: &VigieServer, file: &Path) -> Result<Value> {
    json_of(
        server,
        &[
            "calls",
            "import",
            "--source",
            "aides-territoires",
            file.to_str().unwrap_or_default(),
        ],
    )
    .await
}

fn today() -> NaiveDate {
    chrono::Local::now().date_naive()
}

fn plus(day: NaiveDate, days: u64) -> NaiveDate {
    day.checked_add_days(Days::new(days)).unwrap_or(day)
}

async fn list_of(server: &VigieServer, args: &[&str]) -> Result<Vec<Value>> {
    match json_of(server, args).await? {
        Value::Array(items) => Ok(items),
        other => bail!("{args:?}: a JSON array expected, got {other}"),
    }
}

/// `vigie calls list` (of one structure).
async fn calls(server: &VigieServer, structure: Option<&str>) -> Result<Vec<Value>> {
    match structure {
        Some(id) => list_of(server, &["calls", "list", "--structure", id]).await,
        None => list_of(server, &["calls", "list"]).await,
    }
}

/// The whole send log (the server caps it at 10 000 rows).
async fn send_log(server: &VigieServer, structure: Option<&str>) -> Result<Vec<Value>> {
    let mut args = vec!["alerts", "log", "--limit", "10000"];
    if let Some(id) = structure {
        args.extend(["--structure", id]);
    }
    list_of(server, &args).await
}

async fn preview(server: &VigieServer, from: NaiveDate, to: NaiveDate, structure: Option<&str>) -> Result<Vec<Value>> {
    let (from, to) = (from.to_string(), to.to_string());
    let mut args = vec!["alerts", "preview", "--from", from.as_str(), "--to", to.as_str()];
    if let Some(id) = structure {
        args.extend(["--structure", id]);
    }
    list_of(server, &args).await
}

/// Generates a federation with `inventory generate` and reads its structures.
async fn generate(dir: &Path, structures: &str, seed: &str) -> Result<(PathBuf, Vec<Structure>)> {
    let set = dir.join(format!("set-{seed}"));
    generate_set(&set, structures, seed, None).await?;
    let mut reader = csv::Reader::from_path(set.join("structures.csv"))?;
    let headers = reader.headers()?.clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .context(format!("no column {name}"))
    };
    let (id, name, network, legal_form, region) = (
        column("structure_id")?,
        column("name")?,
        column("network")?,
        column("legal_form")?,
        column("region_code")?,
    );
    let mut out = Vec::new();
    for record in reader.records() {
        let record = record?;
        let field = |i: usize| record.get(i).unwrap_or_default().to_owned();
        out.push(Structure {
            id: field(id),
            name: field(name),
            network: field(network),
            legal_form: field(legal_form),
            region: field(region),
        });
    }
    ensure!(!out.is_empty(), "empty generated set");
    Ok((set, out))
}

/// Waits until the alerting service knows every structure (its read model is
/// fed by `structure.inventoried` events): `calls list --structure` refuses
/// an unknown one.
async fn wait_known(server: &VigieServer, structures: &[Structure]) -> Result<()> {
    let deadline = tokio::time::Instant::now() + WAIT;
    for structure in structures {
        loop {
            let out = server
                .cli(&["calls", "list", "--structure", &structure.id, "--format", "json"])
                .await?;
            if out.success {
                break;
            }
            ensure!(
                tokio::time::Instant::now() < deadline,
                "the alerting service never learnt {} within {WAIT:?}: {}",
                structure.id,
                out.stderr
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    Ok(())
}

/// Waits until every message of the send log is `sent` and the SMTP server
/// holds exactly the log's messages (by Message-ID); returns both.
async fn wait_delivered(server: &VigieServer, smtp: &SmtpServer) -> Result<(Vec<Value>, Vec<ReceivedMail>)> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let log = send_log(server, None).await?;
        let mails = smtp.messages()?;
        let logged: BTreeSet<String> = log.iter().map(|e| format!("<{}>", text(e, "message_id"))).collect();
        let received: BTreeSet<String> = mails.iter().filter_map(|m| m.message_id.clone()).collect();
        let unsent: Vec<String> = log
            .iter()
            .filter(|e| e["status"] != "sent")
            .map(|e| {
                format!(
                    "{} {} attempts={} error={}",
                    text(e, "message_id"),
                    e["status"],
                    e["attempts"],
                    e["last_error"]
                )
            })
            .collect();
        if !log.is_empty() && unsent.is_empty() && logged == received {
            return Ok((log, mails));
        }
        // What was still missing, so a failure under load says why.
        ensure!(
            tokio::time::Instant::now() < deadline,
            "not every claimed reminder was delivered by SMTP within {WAIT:?}: {} log rows, unsent {unsent:?}, \
             logged but not received {:?}, received but not logged {:?}",
            log.len(),
            logged.difference(&received).collect::<Vec<_>>(),
            received.difference(&logged).collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `(href, label)` of every link of an HTML body.
fn links(html: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<a href=\"") {
        rest = &rest[start + "<a href=\"".len()..];
        let Some(end) = rest.find('"') else { break };
        let href = rest[..end].replace("&amp;", "&");
        let label = rest[end..]
            .split_once('>')
            .and_then(|(_, tail)| tail.split_once("</a>"))
            .map(|(label, _)| label.to_owned())
            .unwrap_or_default();
        out.push((href, label));
        rest = &rest[end..];
    }
    out
}

/// The acknowledgement links of a mail's HTML part.
fn ack_links(mail: &ReceivedMail) -> Vec<(String, String)> {
    links(mail.html().unwrap_or_default())
        .into_iter()
        .filter(|(href, _)| href.contains("/ack/"))
        .collect()
}

/// A minimal HTTP/1.0 client: `(status, body)`.
pub(crate) async fn http(method: &str, url: &str) -> Result<(u16, String)> {
    let rest = url
        .strip_prefix("http://")
        .context(format!("not an http:// URL: {url}"))?;
    let (host, path) = match rest.split_once('/') {
        Some((host, path)) => (host, format!("/{path}")),
        None => (rest, "/".to_owned()),
    };
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(host).await?;
        let request =
            format!("{method} {path} HTTP/1.0\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await?;
        Ok::<_, anyhow::Error>(response)
    };
    let response = tokio::time::timeout(Duration::from_secs(10), exchange)
        .await
        .context(format!("{method} {url}: no answer within 10 s"))??;
    let response = String::from_utf8(response).context("a response that is not UTF-8")?;
    let (head, body) = response
        .split_once("\r\n\r\n")
        .context(format!("no header end in {response}"))?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .context(format!("no status in {head}"))?;
    Ok((status, body.to_owned()))
}

/// Whether a listed call (its perimeter areas and audiences) concerns a
/// structure, as docs/alerting.md defines it for region- and country-wide calls.
fn concerns(call: &Value, structure: &Structure) -> Result<bool> {
    let mut territory = false;
    for area in call["perimeter"]["areas"].as_array().into_iter().flatten() {
        let area = area.as_str().unwrap_or_default();
        territory |= match area.split_once(':') {
            Some(("country", "FR")) => true,
            Some(("region", code)) => code == structure.region,
            _ => bail!("unexpected area {area} in a demo call"),
        };
    }
    let audiences = call["audiences"].as_array().cloned().unwrap_or_default();
    let audience = audiences.is_empty()
        || audiences
            .iter()
            .any(|a| a.as_str() == Some(structure.legal_form.as_str()));
    Ok(territory && audience)
}

/// One aid of an Aides-territoires API page (services/alerting/src/demo.rs).
fn aid(id: u32, name: &str, audiences: &[&str], perimeter: (&str, &str), deadline: &str) -> Value {
    json!({
        "id": id,
        "slug": format!("e2e-{id}"),
        "url": format!("/aides/e2e-{id}/"),
        "name": name,
        "name_initial": name,
        "financers": ["Ministère des tests"],
        "instructors": [],
        "programs": [],
        "categories": ["Solidarités / Vie associative"],
        "targeted_audiences": audiences,
        "aid_types": ["Subvention"],
        "recurrence": "Ponctuelle",
        "perimeter": perimeter.0,
        "perimeter_scale": perimeter.1,
        "start_date": null,
        "predeposit_date": null,
        "submission_deadline": deadline,
        "is_call_for_project": true,
        "origin_url": "",
        "application_url": format!("https://demarches.example.org/e2e-{id}"),
        "date_created": "2026-01-05",
        "date_updated": "2026-01-05",
    })
}

fn page(results: Vec<Value>) -> String {
    json!({ "count": results.len(), "previous": null, "next": null, "results": results }).to_string()
}

/// Networks with a structure whose submission is at risk for a stage whose
/// J-14 already fell due: setting their referent makes reminders due *now*.
/// The network with most such structures first.
async fn escalated_now(
    server: &VigieServer,
    structures: &[Structure],
    today: NaiveDate,
) -> Result<Vec<(String, BTreeSet<String>)>> {
    let network: BTreeMap<&str, &str> = structures.iter().map(|s| (s.id.as_str(), s.network.as_str())).collect();
    let mut at_risk: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for alert in preview(server, today, plus(today, 14), None).await? {
        let deadline: NaiveDate = text(&alert, "deadline").parse()?;
        if text(&alert, "escalation").is_empty() || deadline > plus(today, 12) {
            continue;
        }
        let structure = text(&alert, "structure_id");
        let net = network
            .get(structure.as_str())
            .context(format!("{structure} is not in the generated set"))?;
        at_risk.entry((*net).to_owned()).or_default().insert(structure);
    }
    let mut out: Vec<(String, BTreeSet<String>)> = at_risk.into_iter().collect();
    out.sort_by_key(|(net, set)| (std::cmp::Reverse(set.len()), net.clone()));
    Ok(out)
}

async fn set_referent(server: &VigieServer, network: &str, email: &str) -> Result<()> {
    let saved = json_of(
        server,
        &[
            "alerts",
            "policy",
            "--network",
            network,
            "--referent-name",
            "Référente du réseau",
            "--referent-email",
            email,
        ],
    )
    .await?;
    ensure!(saved["referent_email"] == email, "referent not saved: {saved}");
    Ok(())
}

async fn wait_mail_to(smtp: &SmtpServer, address: &str) -> Result<Vec<ReceivedMail>> {
    eventually(&format!("a reminder to {address}"), WAIT, || async {
        Ok(!smtp.messages_to(address)?.is_empty())
    })
    .await?;
    smtp.messages_to(address)
}

/// The send-log key of a log entry.
fn log_key(entry: &Value) -> String {
    format!(
        "{}|{}|{}|{}|{}|{}",
        text(entry, "recipient"),
        text(entry, "call_id"),
        text(entry, "stage_kind"),
        entry["revision"],
        entry["offset_days"],
        text(entry, "channel")
    )
}

#[tokio::test]
async fn embedded_demo_lists_matches_reminds_serves_the_calendar_and_records_acknowledgements() -> Result<()> {
    let (smtp, dir, server, demo) = demo_platform().await?;
    let today = today();

    // The six demo calls, and only those concerning S000001 for it.
    let all = calls(&server, None).await?;
    let refs: BTreeSet<String> = all.iter().map(|c| text(c, "source_ref")).collect();
    let expected_refs: BTreeSet<String> = (910_001..=910_006).map(|n: u32| n.to_string()).collect();
    ensure!(
        all.len() == 6 && refs == expected_refs,
        "the 6 demo calls expected: {refs:?}"
    );
    let s1 = demo
        .iter()
        .find(|s| s.id == "S000001")
        .context("no S000001 in the demo set")?;
    let mut expected = BTreeSet::new();
    for call in &all {
        if concerns(call, s1)? {
            expected.insert(text(call, "call_id"));
        }
    }
    ensure!(
        !expected.is_empty() && expected.len() < all.len(),
        "the demo should have calls for S000001 and calls elsewhere: {expected:?}"
    );
    let s1_calls = calls(&server, Some("S000001")).await?;
    let listed: BTreeSet<String> = s1_calls.iter().map(|c| text(c, "call_id")).collect();
    ensure!(
        listed == expected,
        "calls for S000001 ({} in region {}): listed {listed:?}, expected {expected:?}",
        s1.legal_form,
        s1.region
    );

    // The reminders of the next two weeks, escalations included.
    let coming = preview(&server, today, plus(today, 14), None).await?;
    ensure!(!coming.is_empty(), "no reminder planned in the next 14 days");
    ensure!(
        coming.iter().any(|a| !text(a, "escalation").is_empty()),
        "no escalation among {} planned reminders",
        coming.len()
    );

    // The first passes deliver the reminders already due to the SMTP server.
    eventually("reminders reach the SMTP server", WAIT, || async {
        Ok(!smtp.messages()?.is_empty())
    })
    .await?;
    let (log, mails) = wait_delivered(&server, &smtp).await?;
    for mail in &mails {
        let unsubscribe = mail.header("List-Unsubscribe").unwrap_or_default();
        ensure!(
            unsubscribe.starts_with("<http://127.0.0.1:") && unsubscribe.contains("/unsubscribe/"),
            "List-Unsubscribe of {:?}: {unsubscribe:?}",
            mail.message_id
        );
        ensure!(
            mail.header("List-Unsubscribe-Post") == Some("List-Unsubscribe=One-Click"),
            "{:?}",
            mail.headers
        );
        ensure!(
            mail.html().is_some_and(|html| html.contains("/ack/")),
            "no acknowledgement link in the HTML of {:?}",
            mail.message_id
        );
        ensure!(
            mail.mail_from == "alertes@vigie.test",
            "envelope sender {}",
            mail.mail_from
        );
    }

    // The calendar feed of S000001, read by a real parser.
    let feed = ok(server.cli(&["alerts", "feed", "--structure", "S000001"]).await?)?;
    let url = feed.stdout.trim();
    ensure!(
        url.starts_with("http://127.0.0.1:") && url.ends_with(".ics") && !url.contains('\n'),
        "{url:?}"
    );
    let (status, body) = http("GET", url).await?;
    ensure!(status == 200, "GET {url}: {status}\n{body}");
    let calendar = ical::IcalParser::new(body.as_bytes())
        .next()
        .context("no VCALENDAR in the feed")??;
    let uids: BTreeSet<String> = calendar
        .events
        .iter()
        .map(|event| {
            event
                .properties
                .iter()
                .find(|p| p.name == "UID")
                .and_then(|p| p.value.clone())
                .unwrap_or_default()
        })
        .collect();
    let stages: BTreeSet<String> = s1_calls
        .iter()
        .flat_map(|call| {
            let id = text(call, "call_id");
            call["stages"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(move |stage| format!("{id}-{}@vigie", text(&stage, "kind")))
        })
        .collect();
    ensure!(
        uids.iter().all(|uid| uid.ends_with("@vigie")) && uids == stages,
        "feed UIDs {uids:?}, stages of the listed calls {stages:?}"
    );
    let (forged, _) = http("GET", &format!("{}/calendar/forged.ics", base_of(url)?)).await?;
    ensure!(forged == 404, "a forged calendar token answered {forged}");

    // A leaked feed URL is revoked: it answers "unknown link", the new one opens.
    let revoked = ok(server
        .cli(&["alerts", "feed", "--structure", "S000001", "--revoke"])
        .await?)?;
    let new_url = revoked.stdout.trim();
    ensure!(new_url != url && new_url.ends_with(".ics"), "{new_url:?}");
    ensure!(revoked.stderr.contains("ne fonctionnent plus"), "{}", revoked.stderr);
    let (old_status, _) = http("GET", url).await?;
    ensure!(old_status == 404, "a revoked feed URL answered {old_status}");
    let (new_status, body) = http("GET", new_url).await?;
    ensure!(new_status == 200 && body.contains("BEGIN:VCALENDAR"), "{new_status}");
    let again = ok(server.cli(&["alerts", "feed", "--structure", "S000001"]).await?)?;
    ensure!(
        again.stdout.trim() == new_url,
        "the feed URL after revocation: {}",
        again.stdout
    );

    // Acknowledgement by a link of a mail about a single structure and call.
    let mut about: BTreeMap<String, BTreeSet<(String, String)>> = BTreeMap::new();
    for entry in &log {
        about
            .entry(format!("<{}>", text(entry, "message_id")))
            .or_default()
            .insert((text(entry, "structure_id"), text(entry, "call_id")));
    }
    let (mail, (structure, call)) = mails
        .iter()
        .find_map(|mail| {
            let pairs = about.get(mail.message_id.as_deref()?)?;
            (pairs.len() == 1).then(|| (mail, pairs.iter().next().cloned().unwrap_or_default()))
        })
        .context("no reminder about a single structure and call")?;
    let acknowledgement = |list: &[Value]| {
        list.iter()
            .find(|c| text(c, "call_id") == call)
            .map(|c| text(c, "acknowledgement"))
    };
    ensure!(
        acknowledgement(&calls(&server, Some(structure.as_str())).await?) == Some(String::new()),
        "{call} not listed unacknowledged for {structure}"
    );
    let log_before = send_log(&server, Some(structure.as_str())).await?;
    let planned_before = preview(&server, today, plus(today, 30), Some(structure.as_str())).await?;
    let links = ack_links(mail);
    ensure!(links.len() >= 3, "three acknowledgement links expected: {links:?}");
    for (href, label) in &links {
        let (status, answer) = http("GET", href).await?;
        ensure!(
            status == 200 && answer.contains("<form method=\"post\"") && answer.contains(label.as_str()),
            "GET {href}: {status}\n{answer}"
        );
    }
    ensure!(
        acknowledgement(&calls(&server, Some(structure.as_str())).await?) == Some(String::new()),
        "a GET of an acknowledgement link recorded it"
    );
    ensure!(
        send_log(&server, Some(structure.as_str())).await? == log_before,
        "a GET changed the send log"
    );
    let (submitted, _) = links
        .iter()
        .find(|(_, label)| label == "déposé")
        .context(format!("no « déposé » link in {links:?}"))?;
    let (status, answer) = http("POST", submitted).await?;
    ensure!(
        status == 200 && answer.contains("C'est noté"),
        "POST {submitted}: {status}\n{answer}"
    );
    ensure!(
        acknowledgement(&calls(&server, Some(structure.as_str())).await?) == Some("submitted".to_owned()),
        "{structure} does not show {call} as submitted"
    );
    let planned_after = preview(&server, today, plus(today, 30), Some(structure.as_str())).await?;
    ensure!(
        planned_after.iter().all(|a| text(a, "call_id") != call),
        "reminders of an acknowledged call still planned: {planned_after:?}"
    );
    let others: Vec<&Value> = planned_before.iter().filter(|a| text(a, "call_id") != call).collect();
    ensure!(
        planned_after.iter().collect::<Vec<_>>() == others,
        "acknowledging {call} changed the reminders of other calls"
    );
    let (forged, _) = http("POST", &format!("{}/ack/forged", base_of(submitted)?)).await?;
    ensure!(forged == 404, "a forged acknowledgement token answered {forged}");

    // A file with one bad item is refused as a whole, its position given.
    let file = dir.path().join("aides.json");
    std::fs::write(
        &file,
        page(vec![
            aid(
                990_001,
                "Appel valide",
                &["Associations"],
                ("France", "Pays"),
                &plus(today, 20).to_string(),
            ),
            aid(
                990_002,
                "Appel à la date impossible",
                &["Associations"],
                ("France", "Pays"),
                "2027-02-30",
            ),
        ]),
    )?;
    let before = calls(&server, None).await?;
    let refused = server
        .cli(&[
            "calls",
            "import",
            "--source",
            "aides-territoires",
            file.to_str().unwrap_or_default(),
        ])
        .await?;
    let position = format!("{}:page 1:item 2 (id 990002)", file.display());
    ensure!(
        !refused.success && refused.stderr.contains(&position) && refused.stderr.contains("rien n'a été modifié"),
        "a bad item must refuse the file at {position}: {refused:?}"
    );
    let after = calls(&server, None).await?;
    ensure!(
        after == before && after.iter().all(|c| text(c, "source_ref") != "990001"),
        "a refused import changed the calls"
    );
    Ok(())
}

/// `http://host:port` of a URL.
pub(crate) fn base_of(url: &str) -> Result<String> {
    let rest = url
        .strip_prefix("http://")
        .context(format!("not an http:// URL: {url}"))?;
    let host = rest.split('/').next().unwrap_or_default();
    Ok(format!("http://{host}"))
}

/// Imports one call open to every ESS form in all of France, closing in ten
/// days: its stage's J-14 has fallen due, so its reminders are due now, and
/// escalated for the structures whose submission is at risk.
async fn import_call_closing_soon(server: &VigieServer, dir: &Path, id: u32) -> Result<()> {
    let file = dir.join(format!("call-{id}.json"));
    std::fs::write(
        &file,
        page(vec![aid(
            id,
            &format!("Appel de test {id}"),
            &[
                "Associations",
                "Structures de l'ESS",
                "Fondations",
                "Mutuelles",
                "Entreprises privées",
            ],
            ("France", "Pays"),
            &plus(today(), 10).to_string(),
        )]),
    )?;
    let imported = import_aides(server, &file).await?;
    ensure!(imported["created"] == 1, "the call was not created: {imported}");
    Ok(())
}

#[tokio::test]
async fn embedded_restart_keeps_everything_and_sends_nothing_twice() -> Result<()> {
    let (smtp, dir, server, demo) = demo_platform().await?;
    let data = dir.path().join("data");
    let today = today();
    let networks = escalated_now(&server, &demo, today).await?;
    ensure!(
        networks.len() >= 2,
        "two networks with submission at risk expected: {networks:?}"
    );
    let (first, second) = (&networks[0].0, &networks[1].0);

    // `vigie dev --demo` gives every network a referent, whose reminders
    // the first passes claim (a referent changed later does not get them
    // again): a new call is what makes reminders due for the new referent,
    // whatever how soon alerting learnt of the structures.
    set_referent(&server, first, "referent-1@reseau.test").await?;
    import_call_closing_soon(&server, dir.path(), 990_101).await?;
    wait_mail_to(&smtp, "referent-1@reseau.test").await?;
    let (log_before, mails_before) = wait_delivered(&server, &smtp).await?;
    let s1_call = text(
        calls(&server, Some("S000001"))
            .await?
            .first()
            .context("no call for S000001")?,
        "call_id",
    );
    ok(server
        .cli(&[
            "alerts",
            "ack",
            "--structure",
            "S000001",
            "--call",
            &s1_call,
            "--status",
            "in_progress",
        ])
        .await?)?;
    let calls_before = calls(&server, None).await?;
    let s1_before = calls(&server, Some("S000001")).await?;
    let old_link = mails_before
        .iter()
        .find_map(|m| ack_links(m).into_iter().next())
        .context("no acknowledgement link in the mails")?
        .0;

    server.kill().await?;
    let server = dev_demo(&data, &smtp).await?;

    ensure!(
        calls(&server, None).await? == calls_before,
        "calls changed across a restart"
    );
    ensure!(
        calls(&server, Some("S000001")).await? == s1_before,
        "the acknowledgement of S000001 was lost"
    );
    let policy = json_of(&server, &["alerts", "policy", "--network", first]).await?;
    ensure!(policy["referent_email"] == "referent-1@reseau.test", "{policy}");
    // The link secret survived: a link of a mail sent before the restart
    // still opens (on the new HTTP port).
    let feed = ok(server.cli(&["alerts", "feed", "--structure", "S000001"]).await?)?;
    let old_base = base_of(&old_link)?;
    let path = old_link.strip_prefix(old_base.as_str()).unwrap_or_default();
    let (status, answer) = http("GET", &format!("{}{path}", base_of(feed.stdout.trim())?)).await?;
    ensure!(status == 200, "a link sent before the restart: {status}\n{answer}");

    // A second referent's digest proves passes ran after the restart; they
    // claimed nothing else and sent nothing again. The new call's reminders
    // to everyone else wait for tomorrow: they all had today's digest.
    set_referent(&server, second, "referent-2@reseau.test").await?;
    import_call_closing_soon(&server, dir.path(), 990_102).await?;
    wait_mail_to(&smtp, "referent-2@reseau.test").await?;
    let (log_after, mails_after) = wait_delivered(&server, &smtp).await?;
    let ids: Vec<String> = mails_after.iter().filter_map(|m| m.message_id.clone()).collect();
    let unique: HashSet<&String> = ids.iter().collect();
    ensure!(unique.len() == ids.len(), "a Message-ID was delivered twice");
    let before_ids: HashSet<Option<String>> = mails_before.iter().map(|m| m.message_id.clone()).collect();
    let new: Vec<&ReceivedMail> = mails_after
        .iter()
        .filter(|m| !before_ids.contains(&m.message_id))
        .collect();
    ensure!(
        new.len() == 1 && new[0].to == ["referent-2@reseau.test"],
        "after the restart only the new referent's digest may go out, got {:?}",
        new.iter().map(|m| (&m.to, &m.subject)).collect::<Vec<_>>()
    );
    ensure!(
        smtp.messages_to("referent-1@reseau.test")?.len() == 1,
        "the first referent got a second digest"
    );
    let before: BTreeMap<String, &Value> = log_before.iter().map(|e| (log_key(e), e)).collect();
    let after: BTreeMap<String, &Value> = log_after.iter().map(|e| (log_key(e), e)).collect();
    for (key, entry) in &before {
        ensure!(
            after.get(key) == Some(entry),
            "log entry {key} changed: {:?}",
            after.get(key)
        );
    }
    let prefix = format!("referent:{second}:");
    ensure!(
        after
            .iter()
            .filter(|(key, _)| !before.contains_key(*key))
            .all(|(_, e)| text(e, "recipient").starts_with(&prefix)),
        "log entries other than the new referent's after the restart"
    );
    Ok(())
}

#[tokio::test]
async fn distributed_escalation_reaches_the_referent_and_facilitation_across_a_nats_restart() -> Result<()> {
    let smtp = SmtpServer::start().await?;
    let mut nats = NatsServer::start().await;
    let (inventory_db, alerting_db, facilitation_db) = (
        PgDatabase::create().await,
        PgDatabase::create().await,
        PgDatabase::create().await,
    );
    let dir = tempfile::tempdir()?;
    let url = nats.url();
    let mut alerting_envs = alerting_env(&smtp);
    alerting_envs.push(("VIGIE_ALERTING__LINK_SECRET".to_owned(), LINK_SECRET.to_owned()));
    let inventory = serve("inventory", inventory_db.url(), &url, &[]).await?;
    let alerting = serve("alerting", alerting_db.url(), &url, &alerting_envs).await?;
    let facilitation = serve("facilitation", facilitation_db.url(), &url, &[]).await?;

    // A federation, known to alerting through JetStream.
    let (set, structures) = generate(dir.path(), "30", "7").await?;
    ok(inventory
        .cli(&["inventory", "import", set.to_str().unwrap_or_default()])
        .await?)?;
    wait_known(&alerting, &structures).await?;
    // NATS goes down: reminders do not depend on it; the escalation events
    // wait in alerting's outbox.
    nats.stop().await;

    // A national call closing in ten days: J-30 and J-14 are due now.
    let today = today();
    let deadline = plus(today, 10);
    let title = "Appel national de bout en bout";
    let file = dir.path().join("national.json");
    std::fs::write(
        &file,
        page(vec![aid(
            777_001,
            title,
            &["Associations", "Entreprises de l'économie sociale et solidaire"],
            ("France", "Pays"),
            &deadline.to_string(),
        )]),
    )?;
    let imported = import_aides(&alerting, &file).await?;
    ensure!(imported["created"] == 1 && imported["refused"] == false, "{imported}");
    let call = calls(&alerting, None)
        .await?
        .into_iter()
        .find(|c| text(c, "source_ref") == "777001")
        .context("the imported call is not listed")?;
    let call_id = text(&call, "call_id");

    // The network with most structures whose submission is at risk.
    let networks = escalated_now(&alerting, &structures, today).await?;
    let (network, at_risk) = networks.first().context("no structure at risk for the national call")?;
    let referent = "referent@reseau.test";
    set_referent(&alerting, network, referent).await?;

    // People and the referent are reminded by email.
    wait_mail_to(&smtp, referent).await?;
    let (log, mails) = wait_delivered(&alerting, &smtp).await?;
    let to_referent: Vec<&ReceivedMail> = mails.iter().filter(|m| m.to.iter().any(|to| to == referent)).collect();
    ensure!(
        mails.iter().any(|m| !m.to.iter().any(|to| to == referent)),
        "no reminder to the structures' people"
    );
    ensure!(
        to_referent.len() == 1,
        "one digest per address and day: {}",
        to_referent.len()
    );
    let digest = to_referent[0].text().unwrap_or_default();
    for id in at_risk {
        let name = &structures
            .iter()
            .find(|s| &s.id == id)
            .context("unknown structure")?
            .name;
        ensure!(
            digest.contains(title) && digest.contains(name.as_str()),
            "the referent's digest misses {id} ({name}):\n{digest}"
        );
    }
    let referent_rows: BTreeSet<String> = log
        .iter()
        .filter(|e| text(e, "recipient").starts_with(&format!("referent:{network}:")))
        .map(|e| text(e, "structure_id"))
        .collect();
    ensure!(
        at_risk.is_subset(&referent_rows),
        "referent rows {referent_rows:?}, structures at risk {at_risk:?}"
    );

    // NATS comes back: the escalation crosses it, a co-submission proposal per structure, once.
    nats.restart().await;
    eventually("co-submission proposals in facilitation", WAIT, || async {
        let proposals = list_of(&facilitation, &["facilitation", "proposals"]).await?;
        let opened: BTreeSet<String> = proposals
            .iter()
            .filter(|p| p["kind"] == "co-submission" && text(p, "call_id") == call_id)
            .map(|p| text(p, "structure_id"))
            .collect();
        Ok(referent_rows.is_subset(&opened))
    })
    .await?;
    let proposals = list_of(&facilitation, &["facilitation", "proposals"]).await?;
    let co: Vec<&Value> = proposals
        .iter()
        .filter(|p| p["kind"] == "co-submission" && text(p, "call_id") == call_id)
        .collect();
    let structures_of: BTreeSet<String> = co.iter().map(|p| text(p, "structure_id")).collect();
    ensure!(
        co.len() == structures_of.len() && structures_of == referent_rows,
        "one proposal per escalated structure of {network}: {co:?}"
    );
    ensure!(
        co.iter()
            .all(|p| text(p, "network") == *network && text(p, "call_title") == title),
        "{co:?}"
    );
    Ok(())
}

/// The unsubscribe URL of a mail's `List-Unsubscribe` header (`<URL>`).
fn unsubscribe_url(mail: &ReceivedMail) -> Result<String> {
    let header = mail.header("List-Unsubscribe").context("no List-Unsubscribe")?;
    Ok(header.trim().trim_start_matches('<').trim_end_matches('>').to_owned())
}

/// The planned reminders to recipients whose id starts with `prefix`.
async fn planned_to(server: &VigieServer, today: NaiveDate, prefix: &str) -> Result<Vec<Value>> {
    Ok(preview(server, today, plus(today, 14), None)
        .await?
        .into_iter()
        .filter(|a| text(a, "recipient").starts_with(prefix))
        .collect())
}

#[tokio::test]
async fn embedded_unsubscribe_stops_every_reminder_to_that_recipient() -> Result<()> {
    let (smtp, _dir, server, demo) = demo_platform().await?;
    let today = today();

    // A person: the one-click POST of their digest stops what is planned for them.
    let (log, mails) = wait_delivered(&server, &smtp).await?;
    let mut planned_people = BTreeSet::new();
    for alert in preview(&server, today, plus(today, 14), None).await? {
        planned_people.insert(text(&alert, "recipient"));
    }
    let (mail, person) = mails
        .iter()
        .find_map(|mail| {
            let id = mail.message_id.as_deref()?;
            let entry = log.iter().find(|e| format!("<{}>", text(e, "message_id")) == id)?;
            let person = text(entry, "recipient");
            (person.starts_with("person:") && planned_people.contains(&person)).then_some((mail, person))
        })
        .context("no person both reminded already and with reminders to come")?;
    let url = unsubscribe_url(mail)?;
    let before = planned_to(&server, today, &person).await?;
    let (status, answer) = http("GET", &url).await?;
    ensure!(
        status == 200 && answer.contains("<form method=\"post\""),
        "GET {url}: {status}\n{answer}"
    );
    ensure!(
        planned_to(&server, today, &person).await? == before,
        "a GET of an unsubscribe link changed the plan"
    );
    let (status, answer) = http("POST", &url).await?;
    ensure!(
        status == 200 && answer.contains("Désabonnement enregistré"),
        "POST {url}: {status}\n{answer}"
    );
    let left = planned_to(&server, today, &person).await?;
    ensure!(left.is_empty(), "{person} unsubscribed, still planned: {left:?}");

    // The network's referent receives one digest about several structures:
    // unsubscribing from it must stop every reminder to the referent, not
    // only those about the digest's first structure.
    let networks = escalated_now(&server, &demo, today).await?;
    let (network, at_risk) = networks.first().context("no network with submission at risk")?;
    ensure!(
        at_risk.len() >= 2,
        "several structures at risk expected in {network}: {at_risk:?}"
    );
    let referent = "referent@reseau.test";
    set_referent(&server, network, referent).await?;
    let digests = wait_mail_to(&smtp, referent).await?;
    let prefix = format!("referent:{network}:");
    let before = planned_to(&server, today, &prefix).await?;
    let structures: BTreeSet<String> = before.iter().map(|a| text(a, "structure_id")).collect();
    ensure!(
        structures.len() >= 2,
        "reminders to the referent about several structures expected: {structures:?}"
    );
    let url = unsubscribe_url(&digests[0])?;
    let (status, answer) = http("POST", &url).await?;
    ensure!(
        status == 200 && answer.contains("Désabonnement enregistré"),
        "POST {url}: {status}\n{answer}"
    );
    let left: BTreeSet<String> = planned_to(&server, today, &prefix)
        .await?
        .iter()
        .map(|a| text(a, "structure_id"))
        .collect();
    ensure!(
        left.is_empty(),
        "{referent} unsubscribed from the digest but is still to be reminded about {left:?} \
         (the unsubscribe token names the send-log recipient of one structure, `{prefix}<structure>`)"
    );
    Ok(())
}

/// Three `vigie serve alerting` replicas on one PostgreSQL database and a
/// slow SMTP server: each message goes out once; the replica that started
/// sending is `kill -9`ed mid-send, and the messages it held leased go out
/// after its lease (4 s here) from the others, with the same Message-ID.
#[tokio::test]
async fn distributed_replicas_send_each_message_once_even_when_one_is_killed() -> Result<()> {
    let smtp = SmtpServer::start().await?;
    smtp.delay_data(Duration::from_millis(150))?;
    let nats = NatsServer::start().await;
    let (inventory_db, alerting_db) = (PgDatabase::create().await, PgDatabase::create().await);
    let dir = tempfile::tempdir()?;
    let url = nats.url();
    let mut envs = alerting_env(&smtp);
    envs.push(("VIGIE_ALERTING__LINK_SECRET".to_owned(), LINK_SECRET.to_owned()));
    envs.push(("VIGIE_ALERTING__LEASE_SECONDS".to_owned(), "4".to_owned()));
    let inventory = serve("inventory", inventory_db.url(), &url, &[]).await?;
    let first = serve("alerting", alerting_db.url(), &url, &envs).await?;
    let (set, structures) = generate(dir.path(), "30", "11").await?;
    ok(inventory
        .cli(&["inventory", "import", set.to_str().unwrap_or_default()])
        .await?)?;
    wait_known(&first, &structures).await?;

    // A national call closing in ten days: J-30 and J-14 are due now for
    // every structure, one digest per recipient.
    let file = dir.path().join("national.json");
    std::fs::write(
        &file,
        page(vec![aid(
            778_001,
            "Appel national à plusieurs répliques",
            &["Associations", "Entreprises de l'économie sociale et solidaire"],
            ("France", "Pays"),
            &plus(today(), 10).to_string(),
        )]),
    )?;
    let imported = import_aides(&first, &file).await?;
    ensure!(imported["created"] == 1, "{imported}");
    eventually("the first replica is sending", WAIT, || async {
        Ok(smtp.messages()?.len() >= 3)
    })
    .await?;
    let second = serve("alerting", alerting_db.url(), &url, &envs).await?;
    let third = serve("alerting", alerting_db.url(), &url, &envs).await?;
    let before_kill = smtp.messages()?.len();
    first.kill().await?;

    let (log, mails) = wait_delivered(&second, &smtp).await?;
    let messages: BTreeSet<String> = log.iter().map(|e| text(e, "message_id")).collect();
    ensure!(
        messages.len() > before_kill + 3,
        "messages left for the other replicas: {} in all, {before_kill} before the kill",
        messages.len()
    );
    let mut per_id: BTreeMap<String, usize> = BTreeMap::new();
    for mail in &mails {
        *per_id.entry(mail.message_id.clone().unwrap_or_default()).or_default() += 1;
    }
    let twice: Vec<(&String, &usize)> = per_id.iter().filter(|(_, &n)| n > 1).collect();
    // The message the killed replica was sending may have reached the
    // server before it died: it is the only one that may go twice, with the
    // same Message-ID.
    ensure!(
        twice.len() <= 1 && twice.iter().all(|(_, &n)| n == 2),
        "each Message-ID once, the one in flight at the kill at most twice: {twice:?}"
    );
    ensure!(
        per_id.len() == messages.len(),
        "{} delivered of {}",
        per_id.len(),
        messages.len()
    );
    drop(third);
    Ok(())
}

/// The review's last row: `vigie calls export` of 4,000+ calls failed
/// ("decoded message length too large"). The CLI now reads streamed answers:
/// the export (to a file and to standard output) and the list of 5,000
/// imported calls come through, complete. (The whole-instance preview goes
/// through the same streaming; its content is checked against the unary
/// answer in the service's suite.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_export_and_list_of_5000_calls_are_streamed_whole() -> Result<()> {
    const CALLS: u32 = 5000;
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    let server = start(
        &[
            "dev",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            data.to_str().unwrap_or_default(),
        ],
        &[("VIGIE_ALERTING__HTTP_LISTEN".to_owned(), "127.0.0.1:0".to_owned())],
    )
    .await?;
    let deadline = plus(today(), 60).to_string();
    let aids: Vec<Value> = (1..=CALLS)
        .map(|n| {
            let mut aid = aid(
                950_000 + n,
                &format!("Appel national n° {n}"),
                &["Associations"],
                ("France", "Pays"),
                &deadline,
            );
            // A real aid's description is long: together they pass gRPC's 4 MiB.
            aid["description"] = json!(format!("<p>{}</p>", "Soutien aux projets associatifs. ".repeat(30)));
            aid
        })
        .collect();
    let file = dir.path().join("national.json");
    std::fs::write(&file, page(aids))?;
    let imported = import_aides(&server, &file).await?;
    ensure!(imported["created"] == u64::from(CALLS), "{imported}");

    // To a file and to standard output: the same bytes, every call in it.
    let csv_file = dir.path().join("export.csv");
    ok(server
        .cli(&["calls", "export", "--output", csv_file.to_str().unwrap_or_default()])
        .await?)?;
    let written = std::fs::read_to_string(&csv_file)?;
    let printed = ok(server.cli(&["calls", "export"]).await?)?.stdout;
    ensure!(written == printed, "the file and standard output differ");
    let mut reader = csv::Reader::from_reader(written.as_bytes());
    let rows = reader.records().collect::<Result<Vec<_>, _>>()?;
    let ids: BTreeSet<String> = rows.iter().map(|r| r.get(0).unwrap_or_default().to_owned()).collect();
    ensure!(ids.len() == rows.len(), "a call exported twice");
    for n in 1..=CALLS {
        let id = format!("aides-territoires:{}", 950_000 + n);
        ensure!(ids.contains(&id), "{id} missing from the export ({} rows)", rows.len());
    }
    // Beyond the 4 MiB that one unary answer may carry by default.
    ensure!(written.len() > 4 * 1024 * 1024, "{} bytes only", written.len());

    let listed = calls(&server, None).await?;
    ensure!(listed.len() >= CALLS as usize, "{} calls listed", listed.len());
    let national = listed
        .iter()
        .filter(|c| text(c, "title").starts_with("Appel national n° "))
        .count();
    ensure!(national == CALLS as usize, "{national} imported calls listed");
    Ok(())
}

/// `vigie serve alerting` refuses, before connecting to anything, a public
/// URL in cleartext off loopback and a bad link key ring, in French.
#[tokio::test]
async fn serve_alerting_refuses_a_cleartext_public_url_and_a_bad_key_ring() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let serve = |config: &Path| {
        let config = config.to_str().unwrap_or_default().to_owned();
        async move {
            run_cli(&[
                "serve",
                "alerting",
                "--config",
                &config,
                "--database-url",
                "sqlite::memory:",
                "--nats-url",
                "nats://127.0.0.1:1",
            ])
            .await
        }
    };
    let secret = "0123456789abcdef0123456789abcdef";
    let cleartext = dir.path().join("cleartext.toml");
    std::fs::write(
        &cleartext,
        format!("[alerting]\npublic_url = \"http://alertes.reseau.example\"\nlink_secret = \"{secret}\"\n"),
    )?;
    let out = serve(&cleartext).await?;
    ensure!(
        !out.success && out.stderr.contains("alerting.public_url") && out.stderr.contains("https://"),
        "{out:?}"
    );
    let bad_ring = dir.path().join("ring.toml");
    std::fs::write(
        &bad_ring,
        format!(
            "[alerting]\npublic_url = \"https://alertes.reseau.example\"\nlink_secret = \"{secret}\"\n\
             previous_link_secrets = {{ \"a.b\" = \"{secret}\" }}\n"
        ),
    )?;
    let out = serve(&bad_ring).await?;
    ensure!(
        !out.success && out.stderr.contains("identifiant de clé de lien « a.b » invalide"),
        "{out:?}"
    );
    Ok(())
}
