//! `vigie calls …` and `vigie alerts …`: project calls read from funding
//! portals (import, fetch, list, export) and deadline reminders (preview, send
//! log, network policy, preferences, acknowledgements, calendar feeds) of the
//! alerting service.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Utc};
use serde_json::{json, Value};
use vigie_proto::alerting::v1 as pb;
use vigie_proto::alerting::v1::alerting_service_client::AlertingServiceClient;
use vigie_proto::dates::{date_text, date_to_pb};

use super::{connect, status_error, Answered};
use crate::cli::{AckStatus, AlertsCommand, CallsCommand, Format, Offsets};
use crate::i18n::Lang;
use crate::output::{truncate, Listing};

/// Runs a `vigie calls` command.
///
/// # Errors
/// What the command failed on, in words for people.
pub async fn run_calls(command: CallsCommand, lang: Lang) -> anyhow::Result<()> {
    match command {
        CallsCommand::Import {
            source,
            file,
            format,
            client,
        } => import(&client.endpoint, &source, &file, format, lang).await,
        CallsCommand::Fetch { source, format, client } => fetch(&client.endpoint, &source, format, lang).await,
        CallsCommand::List {
            structure,
            closing_within,
            all,
            format,
            client,
        } => {
            list(
                &client.endpoint,
                structure.as_deref(),
                closing_within,
                all,
                format,
                lang,
            )
            .await
        }
        CallsCommand::Export { output, client } => export(&client.endpoint, output.as_deref(), lang).await,
    }
}

/// Runs a `vigie alerts` command.
///
/// # Errors
/// What the command failed on, in words for people.
pub async fn run_alerts(command: AlertsCommand, lang: Lang) -> anyhow::Result<()> {
    match command {
        AlertsCommand::Preview {
            from,
            to,
            structure,
            format,
            client,
        } => preview(&client.endpoint, from, to, structure.as_deref(), format, lang).await,
        AlertsCommand::Log {
            structure,
            limit,
            format,
            client,
        } => log(&client.endpoint, structure.as_deref(), limit, format, lang).await,
        AlertsCommand::Policy {
            network,
            changes,
            format,
            client,
        } => policy(&client.endpoint, &network, changes, format, lang).await,
        AlertsCommand::Preferences {
            structure,
            network,
            themes,
            audiences,
            opt_out,
            opt_in: _,
            format,
            client,
        } => {
            let subscriber = Subscriber::from_args(structure, network);
            preferences(&client.endpoint, subscriber, themes, audiences, opt_out, format, lang).await
        }
        AlertsCommand::Ack {
            structure,
            call,
            status,
            client,
        } => ack(&client.endpoint, &structure, &call, status, lang).await,
        AlertsCommand::Feed {
            structure,
            network,
            revoke,
            client,
        } => {
            feed(
                &client.endpoint,
                Subscriber::from_args(structure, network),
                revoke,
                lang,
            )
            .await
        }
    }
}

/// Bytes per streamed chunk: small messages, well under gRPC's 4 MiB limit.
const CHUNK: usize = 64 * 1024;
/// The zone of deadlines and reminders unless a source or a network says otherwise.
const PARIS: &str = "Europe/Paris";

async fn client(endpoint: &str, lang: Lang) -> anyhow::Result<AlertingServiceClient<super::Channel>> {
    Ok(super::sized!(AlertingServiceClient::new(
        connect(endpoint, lang).await?
    )))
}

// ----- time in Europe/Paris -----

/// Local time in Europe/Paris, from the time-zone database.
fn paris_local(at: DateTime<Utc>) -> NaiveDateTime {
    at.with_timezone(&chrono_tz::Europe::Paris).naive_local()
}

/// Today in Europe/Paris.
fn paris_today() -> NaiveDate {
    paris_local(Utc::now()).date()
}

/// An RFC 3339 instant as `YYYY-MM-DD HH:MM` in Europe/Paris (as given when unreadable).
fn paris_date_time(rfc3339: &str) -> String {
    match DateTime::parse_from_rfc3339(rfc3339) {
        Ok(at) => paris_local(at.with_timezone(&Utc)).format("%Y-%m-%d %H:%M").to_string(),
        Err(_) => rfc3339.to_owned(),
    }
}

/// An RFC 3339 instant as `HH:MM` in Europe/Paris (as given when unreadable).
fn paris_hour(rfc3339: &str) -> String {
    match DateTime::parse_from_rfc3339(rfc3339) {
        Ok(at) => paris_local(at.with_timezone(&Utc)).format("%H:%M").to_string(),
        Err(_) => rfc3339.to_owned(),
    }
}

// ----- labels -----

/// The label of a stage kind (the code itself when unknown).
pub fn stage_label(kind: &str, lang: Lang) -> &str {
    match kind {
        "letter_of_intent" => lang.pick("lettre d'intention", "letter of intent"),
        "pre_deposit" => lang.pick("pré-dépôt", "pre-deposit"),
        "submission" => lang.pick("dépôt", "submission"),
        "internal" => lang.pick("jalon interne", "internal milestone"),
        other => other,
    }
}

/// The label of a structure's acknowledgement of a call.
fn ack_label(code: &str, lang: Lang) -> &str {
    match code {
        "submitted" => lang.pick("déposé", "submitted"),
        "in_progress" => lang.pick("en cours", "in progress"),
        "not_concerned" => lang.pick("pas concerné", "not concerned"),
        other => other,
    }
}

/// Why the network referent is alerted too.
fn escalation_label(code: &str, lang: Lang) -> &str {
    match code {
        "orphan" => lang.pick("orpheline", "orphan"),
        "spof" => lang.pick("une seule personne", "single holder"),
        "holders_leaving" => lang.pick("départs avant l'échéance", "holders leaving before the deadline"),
        other => other,
    }
}

fn channel_label(code: &str, lang: Lang) -> &str {
    match code {
        "email" => lang.pick("courriel", "email"),
        other => other,
    }
}

fn send_status_label(code: &str, lang: Lang) -> &str {
    match code {
        "pending" => lang.pick("en attente", "pending"),
        "sent" => lang.pick("envoyé", "sent"),
        "failed" => lang.pick("échec", "failed"),
        other => other,
    }
}

/// `J-7`, or the notices of the send log (offset -1: moved deadline, -2: cancelled call).
pub fn offset_label(offset_days: i32, lang: Lang) -> String {
    match offset_days {
        -1 => lang
            .pick("avis : échéance déplacée", "notice: deadline moved")
            .to_owned(),
        -2 => lang.pick("avis : annulé", "notice: cancelled").to_owned(),
        n => format!("J-{n}"),
    }
}

/// `J-12` before the next deadline, `J+3` after the last one, `annulé` for a
/// cancelled call, `sans date limite` for a permanent one.
fn days_left_label(call: &pb::Call, lang: Lang) -> String {
    if call.cancelled {
        return lang.pick("annulé", "cancelled").to_owned();
    }
    match call.days_left {
        Some(n) if n >= 0 => format!("J-{n}"),
        Some(n) => format!("J+{}", n.unsigned_abs()),
        None => lang.pick("sans date limite", "no deadline").to_owned(),
    }
}

/// When a stage is due: its date, its local time when it has one, its zone when not Europe/Paris.
pub fn stage_when(stage: &pb::Stage) -> String {
    let mut text = date_text(stage.date.as_ref());
    if let Some(time) = stage.time.as_deref().filter(|t| !t.is_empty()) {
        text.push(' ');
        text.push_str(time);
    }
    if !stage.timezone.is_empty() && stage.timezone != PARIS {
        text.push_str(&format!(" ({})", stage.timezone));
    }
    text
}

fn stage_sort_key(stage: &pb::Stage) -> (i32, u32, u32, String) {
    let d = stage.date.unwrap_or_default();
    (d.year, d.month, d.day, stage.time.clone().unwrap_or_default())
}

/// The next stage of a call on `today`: the earliest one not yet past, else the last one.
pub fn next_stage(call: &pb::Call, today: NaiveDate) -> Option<&pb::Stage> {
    let mut stages: Vec<&pb::Stage> = call.stages.iter().collect();
    stages.sort_by_key(|s| stage_sort_key(s));
    let today = (today.year(), today.month(), today.day());
    stages
        .iter()
        .find(|s| {
            let (y, m, d, _) = stage_sort_key(s);
            (y, m, d) >= today
        })
        .or_else(|| stages.last())
        .copied()
}

// ----- imports -----

/// The messages streamed for a file: chunks of 64 KiB, each with the source
/// and the file name (one empty chunk for an empty file, so the server sees it).
fn calls_chunks(source: &str, file_name: &str, bytes: &[u8]) -> Vec<pb::CallsChunk> {
    let message = |chunk: &[u8]| pb::CallsChunk {
        source: source.to_owned(),
        file_name: file_name.to_owned(),
        chunk: chunk.to_vec(),
    };
    if bytes.is_empty() {
        vec![message(&[])]
    } else {
        bytes.chunks(CHUNK).map(message).collect()
    }
}

/// A problem's position with the file name sent replaced by the path given on
/// the command line, so that `FILE:LINE` points at the file.
fn problem_position(position: &str, file_name: &str, path: &Path) -> String {
    match position.strip_prefix(file_name) {
        Some(rest) if rest.is_empty() || rest.starts_with(':') => format!("{}{rest}", path.display()),
        _ => position.to_owned(),
    }
}

/// A problem as printed: `POSITION: erreur : message` (errors) or `POSITION: avertissement : message`.
pub fn problem_line(problem: &pb::ImportProblem, lang: Lang) -> String {
    let severity = if problem.error {
        lang.pick("erreur", "error")
    } else {
        lang.pick("avertissement", "warning")
    };
    let sep = lang.pick(" : ", ": ");
    format!("{}: {severity}{sep}{}", problem.position, problem.message_in(lang))
}

/// The one-line summary of an import or a fetch.
pub fn import_summary(response: &pb::ImportCallsResponse, lang: Lang) -> String {
    let warnings = response.problems.iter().filter(|p| !p.error).count();
    let skipped = response.problems.iter().filter(|p| p.error).count();
    let pages = if response.pages > 0 {
        format!(" ({} {})", response.pages, lang.pick("pages", "pages"))
    } else {
        String::new()
    };
    let mut text = match lang {
        Lang::Fr => {
            format!(
            "Import terminé : {} appel(s) lu(s){pages} — créés : {}, révisés : {}, inchangés : {}, mis à jour : {}, annulés : {}",
            response.calls, response.created, response.revised, response.unchanged, response.updated, response.cancelled
        )
        }
        Lang::En => {
            format!(
            "Import done: {} call(s) read{pages} — created: {}, revised: {}, unchanged: {}, updated: {}, cancelled: {}",
            response.calls, response.created, response.revised, response.unchanged, response.updated, response.cancelled
        )
        }
    };
    if skipped > 0 {
        text.push_str(&match lang {
            Lang::Fr => format!(" ; {skipped} élément(s) écarté(s)"),
            Lang::En => format!("; {skipped} item(s) skipped"),
        });
    }
    if warnings > 0 {
        text.push_str(&match lang {
            Lang::Fr => format!(" ; {warnings} avertissement(s)"),
            Lang::En => format!("; {warnings} warning(s)"),
        });
    }
    text.push('.');
    text
}

/// The counts of an import for scripts; JSON also carries its problems.
fn import_listing<'a>(problems: &'a Listing<'a, pb::ImportProblem>) -> Listing<'a, pb::ImportCallsResponse> {
    Listing::<pb::ImportCallsResponse>::new()
        .data("refused", |r| r.refused)
        .data("calls", |r| r.calls)
        .data("pages", |r| r.pages)
        .data("created", |r| r.created)
        .data("revised", |r| r.revised)
        .data("unchanged", |r| r.unchanged)
        .data("updated", |r| r.updated)
        .data("cancelled", |r| r.cancelled)
        .json("problems", |r| problems.json_array(&r.problems))
}

/// Prints the outcome of an import or a fetch; a refused file is an error
/// (exit status 1) after its problems are printed.
fn write_import(mut response: pb::ImportCallsResponse, format: Format, lang: Lang) -> anyhow::Result<()> {
    // Errors first, in the server's order, then warnings.
    response.problems.sort_by_key(|p| !p.error);
    let mut out = std::io::stdout().lock();
    let problems = Listing::<pb::ImportProblem>::new()
        .data("position", |p| p.position.clone())
        .csv("severity", |p| if p.error { "error" } else { "warning" })
        .data("message", |p| p.message.clone())
        .json("error", |p| p.error);
    match format {
        Format::Table => {
            let mut err = std::io::stderr().lock();
            for problem in &response.problems {
                writeln!(err, "{}", problem_line(problem, lang))?;
            }
            if !response.refused {
                writeln!(out, "{}", import_summary(&response, lang))?;
            }
        }
        Format::Json => {
            let value = import_listing(&problems).json_object(&response);
            serde_json::to_writer_pretty(&mut out, &value)?;
            writeln!(out)?;
        }
        Format::Csv => {
            // Two tables: the counts, a blank line, then the problems.
            import_listing(&problems).write_csv([&response], &mut out)?;
            writeln!(out)?;
            problems.write_csv(&response.problems, &mut out)?;
        }
    }
    if response.refused {
        let errors = response.problems.iter().filter(|p| p.error).count();
        anyhow::bail!(
            "{} {} {}",
            lang.pick("fichier refusé :", "file rejected:"),
            errors,
            lang.pick(
                "erreur(s), rien n'a été modifié : corrigez le fichier puis relancez l'import.",
                "error(s), nothing was changed: fix the file and import it again."
            )
        );
    }
    Ok(())
}

/// `vigie calls import --source SOURCE FILE`.
///
/// # Errors
/// An unreadable file, an unreachable server, or a refused file (every
/// problem printed first as `FILE:LINE: erreur : message`).
pub async fn import(endpoint: &str, source: &str, file: &Path, format: Format, lang: Lang) -> anyhow::Result<()> {
    let bytes =
        std::fs::read(file).with_context(|| format!("{} {}", lang.pick("lecture de", "reading"), file.display()))?;
    let file_name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| file.display().to_string());
    let messages = calls_chunks(source, &file_name, &bytes);
    let mut response = client(endpoint, lang)
        .await?
        .import_calls(tokio_stream::iter(messages))
        .await
        .answered(lang)?;
    for problem in &mut response.problems {
        problem.position = problem_position(&problem.position, &file_name, file);
    }
    write_import(response, format, lang)
}

/// `vigie calls fetch --source SOURCE`.
///
/// # Errors
/// An unreachable server or source, or an output error.
pub async fn fetch(endpoint: &str, source: &str, format: Format, lang: Lang) -> anyhow::Result<()> {
    let response = client(endpoint, lang)
        .await?
        .fetch_source(pb::FetchSourceRequest {
            source: source.to_owned(),
        })
        .await
        .answered(lang)?;
    write_import(response, format, lang)
}

// ----- calls -----

fn perimeter_label(call: &pb::Call, lang: Lang) -> String {
    let Some(perimeter) = &call.perimeter else {
        return String::new();
    };
    let name = truncate(&perimeter.name, 30);
    if perimeter.unresolved.is_empty() {
        name
    } else {
        format!("{name} ({})", lang.pick("non résolu", "unresolved"))
    }
}

/// The columns of `vigie calls list`. JSON has each call whole (its
/// perimeter and every stage); CSV has one row per call with its next
/// stage, lists `;`-separated; the table shows the next stage's date, J-n,
/// the stage, the title, the funders, the perimeter, the acknowledgement and
/// the call's id.
pub fn calls<'a>(today: NaiveDate, lang: Lang) -> Listing<'a, pb::Call> {
    let next =
        move |call: &pb::Call, field: fn(&pb::Stage) -> Value| next_stage(call, today).map_or(Value::Null, field);
    Listing::new()
        .data("call_id", |c: &pb::Call| c.call_id.clone())
        .data("source", |c| c.source.clone())
        .data("source_ref", |c| c.source_ref.clone())
        .data("title", |c| c.title.clone())
        .csv("next_stage", move |c| next(c, |s| s.kind.clone().into()))
        .csv("next_date", move |c| next(c, |s| date_text(s.date.as_ref()).into()))
        .csv("next_time", move |c| next(c, |s| s.time.clone().into()))
        .csv("next_timezone", move |c| next(c, |s| s.timezone.clone().into()))
        .json("stages", |c| c.stages.iter().map(stage_json).collect::<Vec<_>>())
        .data("days_left", |c| c.days_left)
        .data("funders", |c| c.funders.clone())
        .data("programmes", |c| c.programmes.clone())
        .data("themes", |c| c.themes.clone())
        .data("audiences", |c| c.audiences.clone())
        .csv("perimeter", |c| c.perimeter.clone().unwrap_or_default().name)
        .csv("perimeter_areas", |c| c.perimeter.clone().unwrap_or_default().areas)
        .csv("perimeter_unresolved", |c| {
            c.perimeter.clone().unwrap_or_default().unresolved
        })
        .json("perimeter", |c| {
            perimeter_json(&c.perimeter.clone().unwrap_or_default())
        })
        .data("recurrence", |c| c.recurrence.clone())
        .data("cancelled", |c| c.cancelled)
        .data("revision", |c| c.revision)
        .data("acknowledgement", |c| c.acknowledgement.clone())
        .data("info_url", |c| c.info_url.clone())
        .data("application_url", |c| c.application_url.clone())
        .shown(("échéance", "deadline"), move |c| {
            next_stage(c, today).map(stage_when).unwrap_or_else(|| "—".to_owned())
        })
        .shown(("J-n", "D-n"), move |c| days_left_label(c, lang))
        .right()
        .shown(("étape", "stage"), move |c| {
            next_stage(c, today)
                .map(|s| stage_label(&s.kind, lang).to_owned())
                .unwrap_or_default()
        })
        .shown(("titre", "title"), |c| truncate(&c.title, 50))
        .shown(("financeurs", "funders"), |c| truncate(&c.funders.join(", "), 30))
        .shown(("périmètre", "perimeter"), move |c| perimeter_label(c, lang))
        .shown(("accusé", "acknowledged"), move |c| {
            ack_label(&c.acknowledgement, lang).to_owned()
        })
        .shown(("appel", "call"), |c| c.call_id.clone())
}

fn stage_json(s: &pb::Stage) -> Value {
    json!({
        "kind": s.kind, "date": date_text(s.date.as_ref()), "time": s.time, "timezone": s.timezone,
        "wording": s.wording, "revision": s.revision,
    })
}

fn perimeter_json(p: &pb::Perimeter) -> Value {
    json!({"name": p.name, "scale_label": p.scale_label, "areas": p.areas,
           "exclusions": p.exclusions, "unresolved": p.unresolved})
}

/// `vigie calls list`.
///
/// # Errors
/// An unreachable server, an unknown structure, or an output error.
pub async fn list(
    endpoint: &str,
    structure: Option<&str>,
    closing_within: Option<u32>,
    all: bool,
    format: Format,
    lang: Lang,
) -> anyhow::Result<()> {
    // Streamed in messages of bounded size, gathered here: the table needs
    // every row for its column widths, the JSON is one array.
    let mut stream = client(endpoint, lang)
        .await?
        .list_calls_stream(pb::ListCallsRequest {
            structure_id: structure.unwrap_or_default().to_owned(),
            closing_within_days: closing_within,
            include_closed: all,
            network: String::new(),
        })
        .await
        .answered(lang)?;
    let mut response = pb::ListCallsResponse::default();
    while let Some(page) = stream.message().await.map_err(|s| status_error(s, lang))? {
        response.calls.extend(page.calls);
    }
    let mut out = std::io::stdout().lock();
    calls(paris_today(), lang).write(&response.calls, format, lang, &mut out)?;
    if format == Format::Table {
        let n = response.calls.len();
        match lang {
            Lang::Fr => writeln!(
                out,
                "\n{n} appel(s). Détail (étapes, liens, thèmes) : vigie calls list --format json"
            )?,
            Lang::En => writeln!(
                out,
                "\n{n} call(s). Details (stages, links, themes): vigie calls list --format json"
            )?,
        }
    }
    Ok(())
}

/// `vigie calls export [--output FILE]`: the Etalab schema-dispositif-aide CSV.
///
/// # Errors
/// An unreachable server or an unwritable file.
pub async fn export(endpoint: &str, output: Option<&Path>, lang: Lang) -> anyhow::Result<()> {
    // Streamed: each chunk is written as it arrives, never the whole file in one message.
    let mut stream = client(endpoint, lang)
        .await?
        .export_calls_stream(pb::ExportCallsRequest {})
        .await
        .answered(lang)?;
    let writing = |path: &Path| format!("{} {}", lang.pick("écriture de", "writing"), path.display());
    let mut out: Box<dyn Write> = match output {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path).with_context(|| writing(path))?,
        )),
        None => Box::new(std::io::stdout().lock()),
    };
    let copied: anyhow::Result<()> = async {
        while let Some(chunk) = stream.message().await.map_err(|s| status_error(s, lang))? {
            out.write_all(&chunk.csv)?;
        }
        out.flush()?;
        Ok(())
    }
    .await;
    drop(out);
    if let (Err(_), Some(path)) = (&copied, output) {
        // Never leave a truncated export that looks complete.
        let _ = std::fs::remove_file(path);
    }
    copied?;
    if let Some(path) = output {
        eprintln!(
            "{} {}",
            lang.pick("Appels exportés dans", "Calls exported to"),
            path.display()
        );
    }
    Ok(())
}

// ----- reminders -----

fn recipient_label(alert: &pb::Alert) -> String {
    if alert.recipient_name.is_empty() {
        alert.recipient.clone()
    } else {
        alert.recipient_name.clone()
    }
}

fn title_or_id(title: &str, id: &str) -> String {
    if title.is_empty() {
        id.to_owned()
    } else {
        truncate(title, 40)
    }
}

/// The columns of `vigie alerts preview`: the table shows the local date,
/// the hour (Europe/Paris), the recipient, the structure, the call, the
/// stage, the deadline, J-n, the channel and the escalation.
fn alerts<'a>(lang: Lang) -> Listing<'a, pb::Alert> {
    Listing::new()
        .data("due_at", |a: &pb::Alert| a.due_at.clone())
        .column("local_date", ("date locale", "local date"), |a| {
            date_text(a.local_date.as_ref())
        })
        .shown(("heure", "time"), |a| paris_hour(&a.due_at))
        .data("recipient", |a| a.recipient.clone())
        .column("recipient_name", ("destinataire", "recipient"), |a| {
            a.recipient_name.clone()
        })
        .showing(recipient_label)
        .column("structure_id", ("structure", "structure"), |a| a.structure_id.clone())
        .data("call_id", |a| a.call_id.clone())
        .column("call_title", ("appel", "call"), |a| a.call_title.clone())
        .showing(|a| title_or_id(&a.call_title, &a.call_id))
        .column("stage_kind", ("étape", "stage"), |a| a.stage_kind.clone())
        .showing(move |a| stage_label(&a.stage_kind, lang).to_owned())
        .column("deadline", ("échéance", "deadline"), |a| {
            date_text(a.deadline.as_ref())
        })
        .column("offset_days", ("J-n", "D-n"), |a| a.offset_days)
        .showing(|a| format!("J-{}", a.offset_days))
        .right()
        .column("channel", ("canal", "channel"), |a| a.channel.clone())
        .showing(move |a| channel_label(&a.channel, lang).to_owned())
        .column("escalation", ("escalade", "escalation"), |a| a.escalation.clone())
        .showing(move |a| escalation_label(&a.escalation, lang).to_owned())
        .data("revision", |a| a.revision)
}

/// `vigie alerts preview --from DATE --to DATE [--structure ID]`.
///
/// # Errors
/// An invalid period, an unreachable server, an output error.
pub async fn preview(
    endpoint: &str,
    from: NaiveDate,
    to: NaiveDate,
    structure: Option<&str>,
    format: Format,
    lang: Lang,
) -> anyhow::Result<()> {
    if to < from {
        anyhow::bail!(
            "{}",
            match lang {
                Lang::Fr => format!("période vide : --to {to} précède --from {from}"),
                Lang::En => format!("empty period: --to {to} is before --from {from}"),
            }
        );
    }
    // Streamed in messages of bounded size (a whole instance's reminders).
    let mut stream = client(endpoint, lang)
        .await?
        .preview_alerts_stream(pb::PreviewAlertsRequest {
            from: Some(date_to_pb(from)),
            to: Some(date_to_pb(to)),
            structure_id: structure.unwrap_or_default().to_owned(),
        })
        .await
        .answered(lang)?;
    // Rows are written as their message arrives (CSV and JSON): the client
    // holds one message at a time, whatever the size of the instance. A table
    // needs every row for its column widths: it keeps their cells only.
    let listing = alerts(lang);
    let mut printer = listing.printer(format, lang, std::io::stdout().lock())?;
    let mut escalations = 0usize;
    while let Some(page) = stream.message().await.map_err(|s| status_error(s, lang))? {
        escalations += page.alerts.iter().filter(|a| !a.escalation.is_empty()).count();
        printer.rows(&page.alerts)?;
    }
    let n = printer.count();
    let mut out = printer.finish()?;
    if format == Format::Table {
        match lang {
            Lang::Fr => writeln!(
                out,
                "\n{n} rappel(s) du {from} au {to} (heures de Paris), dont {escalations} escalade(s) vers le référent du réseau ; rien n'a été envoyé."
            )?,
            Lang::En => writeln!(
                out,
                "\n{n} reminder(s) from {from} to {to} (Paris times), {escalations} of them escalated to the network referent; nothing was sent."
            )?,
        }
    }
    Ok(())
}

/// The columns of `vigie alerts log`; the table shows the status, when it
/// was sent (or is due), whether late, the recipient, the call, the stage,
/// J-n, the channel, the attempts and the last error.
pub fn send_log<'a>(lang: Lang) -> Listing<'a, pb::SendLogEntry> {
    Listing::new()
        .column("status", ("statut", "status"), |e: &pb::SendLogEntry| e.status.clone())
        .showing(move |e| send_status_label(&e.status, lang).to_owned())
        .column("sent_at", ("envoyé le", "sent at"), |e| e.sent_at.clone())
        .showing(move |e| {
            if !e.sent_at.is_empty() {
                paris_date_time(&e.sent_at)
            } else if !e.due_at.is_empty() {
                format!("({} {})", lang.pick("prévu", "due"), paris_date_time(&e.due_at))
            } else {
                "—".to_owned()
            }
        })
        .data("due_at", |e| e.due_at.clone())
        .column("late", ("en retard", "late"), |e| e.late)
        .showing(move |e| {
            if e.late {
                lang.pick("oui", "yes").to_owned()
            } else {
                String::new()
            }
        })
        .column("recipient", ("destinataire", "recipient"), |e| e.recipient.clone())
        .data("structure_id", |e| e.structure_id.clone())
        .data("call_id", |e| e.call_id.clone())
        .column("call_title", ("appel", "call"), |e| e.call_title.clone())
        .showing(|e| title_or_id(&e.call_title, &e.call_id))
        .column("stage_kind", ("étape", "stage"), |e| e.stage_kind.clone())
        .showing(move |e| stage_label(&e.stage_kind, lang).to_owned())
        .data("revision", |e| e.revision)
        .column("offset_days", ("J-n", "D-n"), |e| e.offset_days)
        .showing(move |e| offset_label(e.offset_days, lang))
        .column("channel", ("canal", "channel"), |e| e.channel.clone())
        .showing(move |e| channel_label(&e.channel, lang).to_owned())
        .column("attempts", ("tentatives", "attempts"), |e| e.attempts)
        .right()
        .column("last_error", ("dernière erreur", "last error"), |e| {
            e.last_error.clone()
        })
        .showing(|e| truncate(&e.last_error, 60))
        .data("message_id", |e| e.message_id.clone())
}

/// `vigie alerts log [--structure ID] [--limit N]`.
///
/// # Errors
/// An unreachable server or an output error.
pub async fn log(
    endpoint: &str,
    structure: Option<&str>,
    limit: u32,
    format: Format,
    lang: Lang,
) -> anyhow::Result<()> {
    let response = client(endpoint, lang)
        .await?
        .list_send_log(pb::ListSendLogRequest {
            structure_id: structure.unwrap_or_default().to_owned(),
            limit,
        })
        .await
        .answered(lang)?;
    send_log(lang).write(&response.entries, format, lang, std::io::stdout().lock())
}

// ----- configuration -----

// The changes asked by `vigie alerts policy` (its flags: the doc comments
// are their French help); fields not given are kept.
#[derive(Debug, Default, Clone, PartialEq, Eq, clap::Args)]
pub struct PolicyChanges {
    /// Jours avant chaque échéance, séparés par des virgules (défaut du serveur : 30,14,7,2).
    #[arg(long, value_parser = crate::cli::parse_offsets)]
    pub offsets: Option<Offsets>,
    /// Heure locale d'envoi HH:MM (défaut du serveur : 09:00).
    #[arg(long, value_parser = crate::cli::parse_hour)]
    pub hour: Option<String>,
    /// Fuseau IANA des rappels (défaut du serveur : Europe/Paris).
    #[arg(long)]
    pub timezone: Option<String>,
    /// Nom du référent du réseau, alerté à partir de J-14 quand le dépôt ne repose sur personne ou sur une seule personne.
    #[arg(long)]
    pub referent_name: Option<String>,
    /// Courriel du référent du réseau.
    #[arg(long)]
    pub referent_email: Option<String>,
    /// Adresse du webhook signé (HMAC-SHA256) ; vide pour le retirer.
    #[arg(long)]
    pub webhook_url: Option<String>,
    /// Secret de signature du webhook (jamais réaffiché) ; « - » le lit sur l'entrée standard, hors de la ligne de commande.
    #[arg(long)]
    pub webhook_secret: Option<String>,
    /// Jours entre la date interne de brouillon et l'échéance d'une obligation de compte rendu (0 à 90 ; défaut du serveur : 14).
    #[arg(long, value_parser = clap::value_parser!(u32).range(0..=90))]
    pub draft_days: Option<u32>,
}

impl PolicyChanges {
    /// True when nothing is to change: the policy is only shown.
    pub fn is_empty(&self) -> bool {
        *self == PolicyChanges::default()
    }

    /// Applies the changes to the current policy. The secret, write-only,
    /// stays empty unless given (the server then keeps the one it has).
    pub fn apply(self, policy: &mut pb::NetworkPolicy) {
        let trimmed = |s: String| s.trim().to_owned();
        if let Some(Offsets(days)) = self.offsets {
            policy.offsets_days = days;
        }
        if let Some(hour) = self.hour {
            policy.local_hour = hour;
        }
        if let Some(zone) = self.timezone {
            policy.timezone = trimmed(zone);
        }
        if let Some(name) = self.referent_name {
            policy.referent_name = trimmed(name);
        }
        if let Some(email) = self.referent_email {
            policy.referent_email = trimmed(email);
        }
        if let Some(url) = self.webhook_url {
            policy.webhook_url = trimmed(url);
        }
        policy.webhook_secret = self.webhook_secret.unwrap_or_default();
        // Absent: the server keeps the network's draft days.
        policy.draft_days = self.draft_days;
    }
}

fn offsets_text(days: &[u32]) -> String {
    days.iter().map(|d| format!("J-{d}")).collect::<Vec<_>>().join(", ")
}

/// The policy for people (the secret is never shown, only whether one is set).
pub fn write_policy(policy: &pb::NetworkPolicy, lang: Lang, out: &mut impl Write) -> std::io::Result<()> {
    let none = lang.pick("aucun", "none");
    writeln!(
        out,
        "{} {}",
        lang.pick("Politique de rappel du réseau", "Reminder policy of network"),
        policy.network
    )?;
    let reminders = if policy.offsets_days.is_empty() {
        lang.pick("défaut du serveur", "server default").to_owned()
    } else {
        offsets_text(&policy.offsets_days)
    };
    writeln!(out, "  {:<17}{reminders}", lang.pick("rappels :", "reminders:"))?;
    writeln!(
        out,
        "  {:<17}{} ({})",
        lang.pick("heure d'envoi :", "sent at:"),
        policy.local_hour,
        policy.timezone
    )?;
    let referent = match (policy.referent_name.is_empty(), policy.referent_email.is_empty()) {
        (true, true) => lang
            .pick(
                "aucun — personne n'est alerté quand le dépôt repose sur personne ou sur une seule personne",
                "none — nobody is alerted when submission rests on nobody or on one person",
            )
            .to_owned(),
        (false, false) => format!("{} <{}>", policy.referent_name, policy.referent_email),
        (true, false) => policy.referent_email.clone(),
        (false, true) => format!(
            "{} ({})",
            policy.referent_name,
            lang.pick(
                "sans courriel : aucune alerte ne peut partir",
                "no email: no alert can go out"
            )
        ),
    };
    writeln!(out, "  {:<17}{referent}", lang.pick("référent :", "referent:"))?;
    let webhook = if policy.webhook_url.is_empty() {
        none.to_owned()
    } else if policy.webhook_secret_set {
        format!(
            "{} ({})",
            vigie_platform::redact::url(&policy.webhook_url),
            lang.pick("secret enregistré", "secret set")
        )
    } else {
        format!(
            "{} ({})",
            vigie_platform::redact::url(&policy.webhook_url),
            lang.pick("sans secret", "no secret")
        )
    };
    writeln!(out, "  {:<17}{webhook}", "webhook :")?;
    if let Some(days) = policy.draft_days {
        writeln!(
            out,
            "  {:<17}{}",
            lang.pick("brouillons :", "drafts:"),
            match lang {
                Lang::Fr => format!("{days} jours avant chaque obligation de compte rendu"),
                Lang::En => format!("{days} days before each reporting duty"),
            }
        )?;
    }
    Ok(())
}

fn print_policy(policy: &pb::NetworkPolicy, format: Format, lang: Lang) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    // One policy: a JSON object, a CSV of one row (the webhook's address
    // without its credentials, whether a secret is set, never the secret).
    let listing = Listing::<pb::NetworkPolicy>::new()
        .data("network", |p| p.network.clone())
        .data("offsets_days", |p| p.offsets_days.clone())
        .data("local_hour", |p| p.local_hour.clone())
        .data("timezone", |p| p.timezone.clone())
        .data("referent_name", |p| p.referent_name.clone())
        .data("referent_email", |p| p.referent_email.clone())
        .data("webhook_url", |p| vigie_platform::redact::url(&p.webhook_url))
        .data("webhook_secret_set", |p| p.webhook_secret_set)
        .json("draft_days", |p| p.draft_days);
    match format {
        Format::Table => write_policy(policy, lang, &mut out)?,
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &listing.json_object(policy))?;
            writeln!(out)?;
        }
        Format::Csv => listing.write_csv([policy], &mut out)?,
    }
    Ok(())
}

/// The webhook secret from the first line of standard input (`--webhook-secret -`),
/// so that it does not show in the list of processes.
fn read_secret(lang: Lang) -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).with_context(|| {
        lang.pick(
            "lecture du secret sur l'entrée standard",
            "reading the secret from standard input",
        )
        .to_owned()
    })?;
    let secret = line.trim_end_matches(['\r', '\n']).to_owned();
    if secret.is_empty() {
        anyhow::bail!(
            "{}",
            lang.pick(
                "--webhook-secret - : aucun secret lu sur l'entrée standard",
                "--webhook-secret -: no secret read from standard input"
            )
        );
    }
    Ok(secret)
}

/// `vigie alerts policy --network NET [changes…]`: shows the policy, or reads
/// it, applies the changes given and saves it.
///
/// # Errors
/// An unknown network, an invalid policy, an unreachable server.
pub async fn policy(
    endpoint: &str,
    network: &str,
    changes: PolicyChanges,
    format: Format,
    lang: Lang,
) -> anyhow::Result<()> {
    let mut client = client(endpoint, lang).await?;
    let current = client
        .get_network_policy(pb::GetNetworkPolicyRequest {
            network: network.to_owned(),
        })
        .await;
    if changes.is_empty() {
        let policy = current.answered(lang)?;
        return print_policy(&policy, format, lang);
    }
    let mut policy = match current {
        Ok(policy) => policy.into_inner(),
        // No policy saved yet: start from the documented defaults.
        Err(status) if status.code() == tonic::Code::NotFound => pb::NetworkPolicy {
            network: network.to_owned(),
            offsets_days: vec![30, 14, 7, 2],
            local_hour: "09:00".to_owned(),
            timezone: PARIS.to_owned(),
            ..pb::NetworkPolicy::default()
        },
        Err(status) => return Err(status_error(status, lang)),
    };
    policy.network = network.to_owned();
    let mut changes = changes;
    if changes.webhook_secret.as_deref() == Some("-") {
        changes.webhook_secret = Some(read_secret(lang)?);
    }
    changes.apply(&mut policy);
    let saved = client.set_network_policy(policy).await.answered(lang)?;
    if format == Format::Table {
        println!("{}", lang.pick("Politique enregistrée.", "Policy saved."));
    }
    print_policy(&saved, format, lang)
}

/// Who the preferences are for: a structure or a network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subscriber {
    /// A structure.
    Structure(String),
    /// A network.
    Network(String),
}

impl Subscriber {
    /// The structure given, else the network (the command line requires one of them).
    pub fn from_args(structure: Option<String>, network: Option<String>) -> Subscriber {
        match structure {
            Some(id) => Subscriber::Structure(id),
            None => Subscriber::Network(network.unwrap_or_default()),
        }
    }

    fn ids(&self) -> (String, String) {
        match self {
            Subscriber::Structure(id) => (id.clone(), String::new()),
            Subscriber::Network(net) => (String::new(), net.clone()),
        }
    }
}

/// `vigie alerts preferences (--structure ID | --network NET) [--theme T]… [--opt-out | --opt-in]`.
///
/// # Errors
/// An unknown structure or network, an unreachable server, an output error.
pub async fn preferences(
    endpoint: &str,
    subscriber: Subscriber,
    themes: Vec<String>,
    audiences: Vec<String>,
    opted_out: bool,
    format: Format,
    lang: Lang,
) -> anyhow::Result<()> {
    let (structure_id, network) = subscriber.ids();
    let themes = themes
        .into_iter()
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .collect();
    let saved = client(endpoint, lang)
        .await?
        .set_preferences(pb::Preferences {
            structure_id,
            network,
            themes,
            opted_out,
            audiences,
        })
        .await
        .answered(lang)?;
    let mut out = std::io::stdout().lock();
    let listing = Listing::<pb::Preferences>::new()
        .data("structure_id", |p| p.structure_id.clone())
        .data("network", |p| p.network.clone())
        .data("themes", |p| p.themes.clone())
        .json("audiences", |p| p.audiences.clone())
        .data("opted_out", |p| p.opted_out);
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &listing.json_object(&saved))?;
            writeln!(out)?;
        }
        Format::Csv => listing.write_csv([&saved], &mut out)?,
        Format::Table => {
            let who = if saved.structure_id.is_empty() {
                format!("{} {}", lang.pick("du réseau", "of network"), saved.network)
            } else {
                format!(
                    "{} {}",
                    lang.pick("de la structure", "of structure"),
                    saved.structure_id
                )
            };
            writeln!(
                out,
                "{} {who} {}",
                lang.pick("Préférences", "Preferences"),
                lang.pick("enregistrées.", "saved.")
            )?;
            let themes = if saved.themes.is_empty() {
                lang.pick("tous", "all").to_owned()
            } else {
                saved.themes.join(" ; ")
            };
            writeln!(out, "  {:<17}{themes}", lang.pick("thèmes suivis :", "themes:"))?;
            if !saved.audiences.is_empty() {
                writeln!(
                    out,
                    "  {:<17}{}",
                    lang.pick("aussi éligible :", "also eligible:"),
                    saved.audiences.join(" ; ")
                )?;
            }
            writeln!(
                out,
                "  {:<17}{}",
                lang.pick("rappels :", "reminders:"),
                if saved.opted_out {
                    lang.pick("désabonné : plus aucun rappel", "opted out: no reminder any more")
                } else {
                    lang.pick("reçus", "received")
                }
            )?;
        }
    }
    Ok(())
}

/// `vigie alerts ack --structure ID --call CALL --status STATUS`.
///
/// # Errors
/// An unknown structure or call, an unreachable server.
pub async fn ack(endpoint: &str, structure: &str, call: &str, status: AckStatus, lang: Lang) -> anyhow::Result<()> {
    client(endpoint, lang)
        .await?
        .acknowledge(pb::AcknowledgeRequest {
            structure_id: structure.to_owned(),
            call_id: call.to_owned(),
            status: status.code().to_owned(),
        })
        .await
        .map_err(|s| status_error(s, lang))?;
    match lang {
        Lang::Fr => println!(
            "Accusé enregistré : {structure}, appel {call} — {}. Plus de rappel de cet appel pour cette structure.",
            ack_label(status.code(), lang)
        ),
        Lang::En => println!(
            "Acknowledgement recorded: {structure}, call {call} — {}. No more reminders of this call for this structure.",
            ack_label(status.code(), lang)
        ),
    }
    Ok(())
}

/// `vigie alerts feed (--structure ID | --network NET) [--revoke]`: the secret
/// iCalendar URL on standard output, a hint on standard error. With
/// `--revoke`, every URL given so far stops working and a new one is printed.
///
/// # Errors
/// An unknown structure or network, an unreachable server.
pub async fn feed(endpoint: &str, subscriber: Subscriber, revoke: bool, lang: Lang) -> anyhow::Result<()> {
    let (structure_id, network) = subscriber.ids();
    let request = pb::GetFeedUrlRequest { structure_id, network };
    let mut client = client(endpoint, lang).await?;
    let response = if revoke {
        client.revoke_feed_url(request).await
    } else {
        client.get_feed_url(request).await
    }
    .answered(lang)?;
    println!("{}", response.url);
    if revoke {
        eprintln!(
            "{}",
            lang.pick(
                "Les adresses précédentes de cet agenda ne fonctionnent plus. Voici la nouvelle : remplacez l'abonnement dans les agendas qui doivent le garder.",
                "The previous addresses of this calendar no longer work. Here is the new one: replace the subscription in the calendars that should keep it."
            )
        );
    }
    eprintln!(
        "{}",
        lang.pick(
            "Collez cette adresse dans votre agenda (« s'abonner à un agenda par URL ») : les échéances s'y mettent à jour seules. Elle est secrète : ne la partagez qu'avec les personnes concernées.",
            "Paste this address into your calendar app (\"subscribe to a calendar by URL\"): deadlines update by themselves. It is secret: share it only with the people concerned."
        )
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use vigie_proto::common::v1::Date;

    use super::*;

    fn date(y: i32, m: u32, d: u32) -> Option<Date> {
        Some(Date {
            year: y,
            month: m,
            day: d,
        })
    }

    fn stage(kind: &str, d: Option<Date>, time: Option<&str>, zone: &str) -> pb::Stage {
        pb::Stage {
            kind: kind.to_owned(),
            date: d,
            time: time.map(str::to_owned),
            timezone: zone.to_owned(),
            wording: String::new(),
            revision: 1,
        }
    }

    fn on(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn stage_labels_in_both_languages() {
        assert_eq!(stage_label("letter_of_intent", Lang::Fr), "lettre d'intention");
        assert_eq!(stage_label("pre_deposit", Lang::Fr), "pré-dépôt");
        assert_eq!(stage_label("submission", Lang::Fr), "dépôt");
        assert_eq!(stage_label("internal", Lang::Fr), "jalon interne");
        assert_eq!(stage_label("submission", Lang::En), "submission");
        assert_eq!(stage_label("later", Lang::Fr), "later");
    }

    #[test]
    fn escalations_acks_and_notices_in_french() {
        assert_eq!(escalation_label("orphan", Lang::Fr), "orpheline");
        assert_eq!(escalation_label("spof", Lang::Fr), "une seule personne");
        assert_eq!(
            escalation_label("holders_leaving", Lang::Fr),
            "départs avant l'échéance"
        );
        assert_eq!(escalation_label("", Lang::Fr), "");
        assert_eq!(ack_label("in_progress", Lang::Fr), "en cours");
        assert_eq!(send_status_label("pending", Lang::Fr), "en attente");
        assert_eq!(send_status_label("failed", Lang::Fr), "échec");
        assert_eq!(offset_label(7, Lang::Fr), "J-7");
        assert_eq!(offset_label(-1, Lang::Fr), "avis : échéance déplacée");
        assert_eq!(offset_label(-2, Lang::Fr), "avis : annulé");
        assert_eq!(offset_label(-2, Lang::En), "notice: cancelled");
    }

    #[test]
    fn stage_when_shows_time_and_zone_only_when_needed() {
        assert_eq!(
            stage_when(&stage("submission", date(2027, 3, 14), None, PARIS)),
            "2027-03-14"
        );
        assert_eq!(
            stage_when(&stage("submission", date(2027, 3, 14), Some("12:00"), PARIS)),
            "2027-03-14 12:00"
        );
        assert_eq!(
            stage_when(&stage(
                "submission",
                date(2027, 3, 14),
                Some("23:59"),
                "America/Cayenne"
            )),
            "2027-03-14 23:59 (America/Cayenne)"
        );
        assert_eq!(
            stage_when(&stage("submission", date(2027, 3, 14), None, "Indian/Reunion")),
            "2027-03-14 (Indian/Reunion)"
        );
        assert_eq!(
            stage_when(&stage("submission", date(2027, 3, 14), None, "")),
            "2027-03-14"
        );
    }

    #[test]
    fn next_stage_is_the_first_not_past_else_the_last() {
        let call = pb::Call {
            stages: vec![
                stage("submission", date(2027, 3, 14), None, PARIS),
                stage("pre_deposit", date(2027, 2, 1), None, PARIS),
            ],
            ..pb::Call::default()
        };
        assert_eq!(
            next_stage(&call, on(2027, 1, 10)).map(|s| s.kind.as_str()),
            Some("pre_deposit")
        );
        assert_eq!(
            next_stage(&call, on(2027, 2, 1)).map(|s| s.kind.as_str()),
            Some("pre_deposit")
        );
        assert_eq!(
            next_stage(&call, on(2027, 2, 2)).map(|s| s.kind.as_str()),
            Some("submission")
        );
        assert_eq!(
            next_stage(&call, on(2027, 4, 1)).map(|s| s.kind.as_str()),
            Some("submission")
        );
        assert!(next_stage(&pb::Call::default(), on(2027, 4, 1)).is_none());
    }

    #[test]
    fn call_row_has_the_columns_of_the_table() {
        let call = pb::Call {
            call_id: "C-1".to_owned(),
            title: "Fonds pour le développement de la vie associative".to_owned(),
            funders: vec!["État".to_owned(), "Région Bretagne".to_owned()],
            perimeter: Some(pb::Perimeter {
                name: "Bretagne".to_owned(),
                ..pb::Perimeter::default()
            }),
            stages: vec![stage("submission", date(2027, 3, 14), Some("12:00"), PARIS)],
            days_left: Some(12),
            acknowledgement: "submitted".to_owned(),
            ..pb::Call::default()
        };
        assert_eq!(
            calls(on(2027, 3, 2), Lang::Fr).cells(&call),
            vec![
                "2027-03-14 12:00",
                "J-12",
                "dépôt",
                "Fonds pour le développement de la vie associative",
                "État, Région Bretagne",
                "Bretagne",
                "déposé",
                "C-1"
            ]
        );
        let closed = pb::Call {
            days_left: Some(-3),
            perimeter: Some(pb::Perimeter {
                name: "Pays de Brocéliande".to_owned(),
                unresolved: "nom inconnu".to_owned(),
                ..pb::Perimeter::default()
            }),
            ..call.clone()
        };
        let row = calls(on(2027, 3, 17), Lang::Fr).cells(&closed);
        assert_eq!(row[1], "J+3");
        assert_eq!(row[5], "Pays de Brocéliande (non résolu)");
        let cancelled = pb::Call {
            cancelled: true,
            stages: Vec::new(),
            days_left: None,
            ..call
        };
        let row = calls(on(2027, 3, 2), Lang::Fr).cells(&cancelled);
        assert_eq!((row[0].as_str(), row[1].as_str(), row[2].as_str()), ("—", "annulé", ""));
    }

    #[test]
    fn paris_time_follows_daylight_saving() {
        // 2027: summer time from 28 March 01:00 UTC to 31 October 01:00 UTC.
        assert_eq!(paris_hour("2027-03-07T08:00:00Z"), "09:00");
        assert_eq!(paris_hour("2027-03-28T00:59:00Z"), "01:59");
        assert_eq!(paris_hour("2027-03-28T01:00:00Z"), "03:00");
        assert_eq!(paris_hour("2027-07-01T07:00:00Z"), "09:00");
        assert_eq!(paris_hour("2027-10-31T00:59:00Z"), "02:59");
        assert_eq!(paris_hour("2027-10-31T01:00:00Z"), "02:00");
        assert_eq!(paris_hour("2027-07-01T09:00:00+02:00"), "09:00");
        assert_eq!(paris_date_time("2027-12-31T23:30:00Z"), "2028-01-01 00:30");
        assert_eq!(paris_hour("bientôt"), "bientôt");
        // 2026: the switches fall on 29 March and 25 October.
        assert_eq!(paris_hour("2026-03-29T01:00:00Z"), "03:00");
        assert_eq!(paris_hour("2026-10-25T01:00:00Z"), "02:00");
    }

    #[test]
    fn alert_and_log_rows() {
        let alert = pb::Alert {
            due_at: "2027-03-07T08:00:00Z".to_owned(),
            local_date: date(2027, 3, 7),
            recipient: "referent:reseau-bretagne".to_owned(),
            recipient_name: "Anne Martin".to_owned(),
            structure_id: "S000004".to_owned(),
            call_id: "C-1".to_owned(),
            call_title: "FDVA".to_owned(),
            stage_kind: "submission".to_owned(),
            deadline: date(2027, 3, 14),
            offset_days: 7,
            channel: "email".to_owned(),
            escalation: "spof".to_owned(),
            revision: 1,
        };
        assert_eq!(
            alerts(Lang::Fr).cells(&alert),
            vec![
                "2027-03-07",
                "09:00",
                "Anne Martin",
                "S000004",
                "FDVA",
                "dépôt",
                "2027-03-14",
                "J-7",
                "courriel",
                "une seule personne"
            ]
        );
        let entry = pb::SendLogEntry {
            recipient: "person:P000004-1".to_owned(),
            call_id: "C-1".to_owned(),
            stage_kind: "submission".to_owned(),
            offset_days: -1,
            channel: "webhook".to_owned(),
            due_at: "2027-03-07T08:00:00Z".to_owned(),
            late: true,
            status: "sent".to_owned(),
            sent_at: "2027-03-07T10:15:00Z".to_owned(),
            attempts: 2,
            ..pb::SendLogEntry::default()
        };
        assert_eq!(
            send_log(Lang::Fr).cells(&entry),
            vec![
                "envoyé",
                "2027-03-07 11:15",
                "oui",
                "person:P000004-1",
                "C-1",
                "dépôt",
                "avis : échéance déplacée",
                "webhook",
                "2",
                ""
            ]
        );
        let pending = pb::SendLogEntry {
            status: "pending".to_owned(),
            sent_at: String::new(),
            late: false,
            offset_days: 14,
            ..entry
        };
        let row = send_log(Lang::Fr).cells(&pending);
        assert_eq!(
            (row[0].as_str(), row[1].as_str(), row[2].as_str(), row[6].as_str()),
            ("en attente", "(prévu 2027-03-07 09:00)", "", "J-14")
        );
    }

    #[test]
    fn files_are_streamed_in_chunks_of_64_kib_with_source_and_name() {
        let bytes = vec![b'x'; CHUNK * 2 + 10];
        let chunks = calls_chunks("etalab", "aides.csv", &bytes);
        assert_eq!(chunks.len(), 3);
        assert_eq!(chunks.iter().map(|c| c.chunk.len()).sum::<usize>(), bytes.len());
        assert!(chunks
            .iter()
            .all(|c| c.source == "etalab" && c.file_name == "aides.csv"));
        let empty = calls_chunks("feed:region", "flux.xml", &[]);
        assert_eq!(empty.len(), 1);
        assert!(empty[0].chunk.is_empty());
    }

    #[test]
    fn problems_point_at_the_file_given() {
        let path = Path::new("imports/aides.csv");
        assert_eq!(
            problem_position("aides.csv:12", "aides.csv", path),
            "imports/aides.csv:12"
        );
        assert_eq!(
            problem_position("aides.csv:page 2:item 3 (id 41)", "aides.csv", path),
            "imports/aides.csv:page 2:item 3 (id 41)"
        );
        assert_eq!(problem_position("aides.csv", "aides.csv", path), "imports/aides.csv");
        assert_eq!(
            problem_position("aides.csv.bak:1", "aides.csv", path),
            "aides.csv.bak:1"
        );
        let error = pb::ImportProblem {
            position: "imports/aides.csv:12".to_owned(),
            message: "date limite illisible « 31/02/2027 »".to_owned(),
            message_en: String::new(),
            error: true,
        };
        assert_eq!(
            problem_line(&error, Lang::Fr),
            "imports/aides.csv:12: erreur : date limite illisible « 31/02/2027 »"
        );
        let warning = pb::ImportProblem { error: false, ..error };
        assert_eq!(
            problem_line(&warning, Lang::En),
            "imports/aides.csv:12: warning: date limite illisible « 31/02/2027 »"
        );
        assert!(problem_line(&warning, Lang::Fr).contains(": avertissement : "));
        let translated = pb::ImportProblem::new(
            "imports/aides.csv:12".to_owned(),
            vigie_platform::words!("date limite illisible", "unreadable deadline"),
            true,
        );
        assert_eq!(
            problem_line(&translated, Lang::En),
            "imports/aides.csv:12: error: unreadable deadline"
        );
        assert_eq!(
            problem_line(&translated, Lang::Fr),
            "imports/aides.csv:12: erreur : date limite illisible"
        );
    }

    #[test]
    fn import_summary_counts_everything() {
        let response = pb::ImportCallsResponse {
            calls: 120,
            created: 10,
            revised: 2,
            unchanged: 100,
            updated: 5,
            cancelled: 3,
            pages: 2,
            problems: vec![pb::ImportProblem {
                error: false,
                ..pb::ImportProblem::default()
            }],
            ..pb::ImportCallsResponse::default()
        };
        assert_eq!(
            import_summary(&response, Lang::Fr),
            "Import terminé : 120 appel(s) lu(s) (2 pages) — créés : 10, révisés : 2, inchangés : 100, mis à jour : 5, annulés : 3 ; 1 avertissement(s)."
        );
        let plain = pb::ImportCallsResponse {
            problems: Vec::new(),
            pages: 0,
            ..response
        };
        assert_eq!(
            import_summary(&plain, Lang::En),
            "Import done: 120 call(s) read — created: 10, revised: 2, unchanged: 100, updated: 5, cancelled: 3."
        );
    }

    #[test]
    fn policy_changes_keep_what_is_not_given() {
        let mut policy = pb::NetworkPolicy {
            network: "reseau-bretagne".to_owned(),
            offsets_days: vec![30, 14, 7, 2],
            local_hour: "09:00".to_owned(),
            timezone: PARIS.to_owned(),
            referent_name: "Anne Martin".to_owned(),
            referent_email: "anne@example.org".to_owned(),
            webhook_url: "https://hooks.example/vigie".to_owned(),
            webhook_secret: String::new(),
            webhook_secret_set: true,
            draft_days: Some(14),
        };
        assert!(PolicyChanges::default().is_empty());
        let changes = PolicyChanges {
            offsets: Some(Offsets(vec![21, 7])),
            hour: Some("08:30".to_owned()),
            referent_email: Some(" anne.martin@example.org ".to_owned()),
            ..PolicyChanges::default()
        };
        assert!(!changes.is_empty());
        changes.apply(&mut policy);
        assert_eq!(policy.offsets_days, vec![21, 7]);
        assert_eq!(policy.local_hour, "08:30");
        assert_eq!(policy.timezone, PARIS);
        assert_eq!(policy.referent_name, "Anne Martin");
        assert_eq!(policy.referent_email, "anne.martin@example.org");
        assert_eq!(policy.webhook_url, "https://hooks.example/vigie");
        assert_eq!(policy.webhook_secret, "");
        PolicyChanges {
            webhook_secret: Some("s3cret".to_owned()),
            ..PolicyChanges::default()
        }
        .apply(&mut policy);
        assert_eq!(policy.webhook_secret, "s3cret");
    }

    #[test]
    fn policy_is_shown_without_its_secret() {
        let policy = pb::NetworkPolicy {
            network: "reseau-bretagne".to_owned(),
            offsets_days: vec![30, 14, 7, 2],
            local_hour: "09:00".to_owned(),
            timezone: PARIS.to_owned(),
            webhook_url: "https://hooks.example/vigie".to_owned(),
            webhook_secret: "never-shown".to_owned(),
            webhook_secret_set: true,
            ..pb::NetworkPolicy::default()
        };
        let mut out = Vec::new();
        write_policy(&policy, Lang::Fr, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("J-30, J-14, J-7, J-2"), "{text}");
        assert!(text.contains("09:00 (Europe/Paris)"), "{text}");
        assert!(text.contains("aucun — personne n'est alerté"), "{text}");
        assert!(text.contains("(secret enregistré)"), "{text}");
        assert!(!text.contains("never-shown"), "{text}");
    }

    #[test]
    fn subscriber_is_the_structure_or_the_network() {
        assert_eq!(
            Subscriber::from_args(Some("S1".to_owned()), None).ids(),
            ("S1".to_owned(), String::new())
        );
        assert_eq!(
            Subscriber::from_args(None, Some("net".to_owned())).ids(),
            (String::new(), "net".to_owned())
        );
    }
}
