//! `vigie facilitation …`: facilitators, help requests, proposals,
//! interventions and the internal/external time report.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use chrono::NaiveDate;
use serde_json::json;
use vigie_proto::dates::{date_text, date_to_pb};
use vigie_proto::facilitation::v1 as pb;
use vigie_proto::facilitation::v1::facilitation_service_client::FacilitationServiceClient;

use super::{connect, Answered};
use crate::cli::{FacilitationCommand, FacilitatorsCommand, Format};
use crate::i18n::Lang;
use crate::output::{percent, Listing};

/// Runs a `vigie facilitation` command.
///
/// # Errors
/// What the command failed on, in words for people.
pub async fn run(command: FacilitationCommand, lang: Lang) -> anyhow::Result<()> {
    match command {
        FacilitationCommand::Facilitators(FacilitatorsCommand::Import { file, client }) => {
            import_facilitators(&client.endpoint, &file, lang).await
        }
        FacilitationCommand::Facilitators(FacilitatorsCommand::List { format, client }) => {
            facilitators(&client.endpoint, format, lang).await
        }
        FacilitationCommand::Request { help, client } => request(&client.endpoint, help, lang).await,
        FacilitationCommand::Respond {
            request,
            accept,
            decline: _,
            client,
        } => respond(&client.endpoint, &request, accept, lang).await,
        FacilitationCommand::Proposals {
            structure,
            format,
            client,
        } => proposals(&client.endpoint, structure.as_deref(), format, lang).await,
        FacilitationCommand::Record {
            request,
            minutes,
            beneficiary,
            person,
            autonomy_after,
            autonomy_before,
            activity_type,
            place,
            themes,
            on,
            key,
            client,
        } => {
            let intervention = Intervention {
                request,
                minutes,
                beneficiary: beneficiary.code(),
                person,
                autonomy_after,
                autonomy_before,
                activity_type,
                place,
                themes: themes
                    .as_deref()
                    .map(|t| {
                        t.split(';')
                            .map(str::trim)
                            .filter(|t| !t.is_empty())
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default(),
                on,
                key,
            };
            record(&client.endpoint, intervention, lang).await
        }
        FacilitationCommand::Report { period, format, client } => {
            report(&client.endpoint, &period.network, period.from, period.to, format, lang).await
        }
        FacilitationCommand::Export { period, client } => {
            export(&client.endpoint, &period.network, period.from, period.to, lang).await
        }
    }
}

const FACILITATORS_FILE: &str = "facilitators.csv";
const CHUNK: usize = 64 * 1024;

async fn client(endpoint: &str, lang: Lang) -> anyhow::Result<FacilitationServiceClient<super::Channel>> {
    Ok(super::sized!(FacilitationServiceClient::new(
        connect(endpoint, lang).await?
    )))
}

/// `vigie facilitation facilitators import FILE`.
///
/// # Errors
/// An unreadable file, an unreachable server, or a rejected file (every row
/// error printed as `FILE:LINE: message`).
pub async fn import_facilitators(endpoint: &str, file: &Path, lang: Lang) -> anyhow::Result<()> {
    let bytes =
        std::fs::read(file).with_context(|| format!("{} {}", lang.pick("lecture de", "reading"), file.display()))?;
    let messages: Vec<pb::FacilitatorsChunk> = if bytes.is_empty() {
        vec![pb::FacilitatorsChunk {
            file_name: FACILITATORS_FILE.to_owned(),
            chunk: Vec::new(),
        }]
    } else {
        bytes
            .chunks(CHUNK)
            .map(|chunk| pb::FacilitatorsChunk {
                file_name: FACILITATORS_FILE.to_owned(),
                chunk: chunk.to_vec(),
            })
            .collect()
    };
    let response = client(endpoint, lang)
        .await?
        .import_facilitators(tokio_stream::iter(messages))
        .await
        .answered(lang)?;
    if !response.errors.is_empty() {
        let mut err = std::io::stderr().lock();
        for e in &response.errors {
            writeln!(err, "{}:{}: {}", file.display(), e.line, e.message_in(lang))?;
        }
        anyhow::bail!(
            "{} {} {}",
            lang.pick("fichier refusé :", "file rejected:"),
            response.errors.len(),
            lang.pick("erreur(s), rien n'a été modifié.", "error(s), nothing was changed.")
        );
    }
    match lang {
        Lang::Fr => println!("Facilitateurs importés : {}.", response.facilitators),
        Lang::En => println!("Facilitators imported: {}.", response.facilitators),
    }
    Ok(())
}

/// `vigie facilitation facilitators list`.
///
/// # Errors
/// An unreachable server or an output error.
pub async fn facilitators(endpoint: &str, format: Format, lang: Lang) -> anyhow::Result<()> {
    let response = client(endpoint, lang)
        .await?
        .list_facilitators(pb::ListFacilitatorsRequest {})
        .await
        .answered(lang)?;
    Listing::<pb::Facilitator>::new()
        .column("facilitator_id", ("facilitateur", "facilitator"), |f| {
            f.facilitator_id.clone()
        })
        .column("display_name", ("nom", "name"), |f| f.display_name.clone())
        .column("kind", ("type", "kind"), |f| f.kind.clone())
        .data("employer_structure_id", |f| f.employer_structure_id.clone())
        .data("served_structures", |f| f.served_structures.clone())
        .column("territory_codes", ("territoire", "territory"), |f| {
            f.territory_codes.clone()
        })
        .data("functions", |f| f.functions.clone())
        .data("weekly_minutes", |f| f.weekly_minutes)
        .data("internal_share", |f| f.internal_share)
        .column(
            "internal_minutes_per_week",
            ("min internes/sem.", "internal min/week"),
            |f| f.internal_minutes_per_week,
        )
        .right()
        .column("funding_programme", ("financement", "funding"), |f| {
            f.funding_programme.clone()
        })
        .data("funding_end", |f| date_text(f.funding_end.as_ref()))
        .write(&response.facilitators, format, lang, &mut std::io::stdout().lock())
}

// A help request from the command line: the flags of `vigie facilitation
// request` (the doc comments are their French help).
#[derive(Debug, clap::Args)]
pub struct Help {
    /// La structure qui demande de l'aide.
    #[arg(long)]
    pub structure: String,
    /// La fonction vitale concernée (code du catalogue, p. ex. payroll).
    #[arg(long)]
    pub function: String,
    /// Le besoin, en quelques mots.
    #[arg(long)]
    pub description: String,
    /// Échéance AAAA-MM-JJ.
    #[arg(long)]
    pub due: Option<NaiveDate>,
    /// Durée estimée en minutes (défaut : 120), réservée sur le temps interne de la semaine.
    #[arg(long)]
    pub minutes: Option<u32>,
    /// Urgence : low, normal (défaut) ou high.
    #[arg(long)]
    pub urgency: Option<String>,
    /// Modalité souhaitée : on_site (sur place : les facilitateurs dont le territoire couvre la structure passent devant), remote (à distance) ou either (défaut, indifférent).
    #[arg(long, value_parser = ["on_site", "remote", "either"])]
    pub modality: Option<String>,
}

fn status_fr(status: &str, lang: Lang) -> &'static str {
    match (status, lang) {
        ("offered", Lang::Fr) => "proposée",
        ("accepted", Lang::Fr) => "acceptée",
        ("unassigned", Lang::Fr) => "sans facilitateur",
        ("closed", Lang::Fr) => "close",
        ("escalated", Lang::Fr) => "transmise au coordinateur",
        ("escalated", Lang::En) => "escalated to the coordinator",
        ("offered", Lang::En) => "offered",
        ("accepted", Lang::En) => "accepted",
        ("unassigned", Lang::En) => "unassigned",
        ("closed", Lang::En) => "closed",
        _ => "?",
    }
}

fn describe(request: &pb::HelpRequest, lang: Lang, out: &mut impl Write) -> std::io::Result<()> {
    writeln!(
        out,
        "{} {} — {} ({}) : {}",
        lang.pick("Demande", "Request"),
        request.request_id,
        request.structure_id,
        request.function,
        status_fr(&request.status, lang)
    )?;
    if request.facilitator_id.is_empty() {
        for reason in &request.reasons {
            writeln!(out, "  {reason}")?;
        }
    } else {
        writeln!(
            out,
            "  {} {} ({}) — {} min",
            lang.pick("facilitateur :", "facilitator:"),
            request.facilitator_name,
            request.facilitator_id,
            request.estimated_minutes
        )?;
        for reason in &request.reasons {
            writeln!(out, "  · {reason}")?;
        }
    }
    Ok(())
}

/// `vigie facilitation request`.
///
/// # Errors
/// Unknown structure, invalid request, unreachable server.
pub async fn request(endpoint: &str, help: Help, lang: Lang) -> anyhow::Result<()> {
    let request = client(endpoint, lang)
        .await?
        .request_help(pb::RequestHelpRequest {
            structure_id: help.structure,
            function: help.function,
            description: help.description,
            urgency: help.urgency.unwrap_or_default(),
            due: help.due.map(date_to_pb),
            estimated_minutes: help.minutes.unwrap_or(0),
            modality: help.modality.unwrap_or_default(),
        })
        .await
        .answered(lang)?;
    describe(&request, lang, &mut std::io::stdout().lock())?;
    Ok(())
}

/// `vigie facilitation respond`.
///
/// # Errors
/// Unknown request, a request not waiting for an answer, unreachable server.
pub async fn respond(endpoint: &str, request: &str, accept: bool, lang: Lang) -> anyhow::Result<()> {
    let request = client(endpoint, lang)
        .await?
        .respond(pb::RespondRequest {
            request_id: request.to_owned(),
            accept,
        })
        .await
        .answered(lang)?;
    describe(&request, lang, &mut std::io::stdout().lock())?;
    Ok(())
}

/// `vigie facilitation proposals`.
///
/// # Errors
/// An unreachable server or an output error.
pub async fn proposals(endpoint: &str, structure: Option<&str>, format: Format, lang: Lang) -> anyhow::Result<()> {
    let response = client(endpoint, lang)
        .await?
        .list_proposals(pb::ListProposalsRequest {
            structure_id: structure.unwrap_or_default().to_owned(),
        })
        .await
        .answered(lang)?;
    Listing::<pb::HelpRequest>::new()
        .column("request_id", ("demande", "request"), |p| p.request_id.clone())
        .column("origin", ("origine", "origin"), |p| p.origin.clone())
        .showing(|p| origin_label(p, lang).to_owned())
        .column("structure_id", ("structure", "structure"), |p| p.structure_id.clone())
        .data("network", |p| p.network.clone())
        .column("function", ("fonction", "function"), |p| p.function.clone())
        .data("description", |p| p.description.clone())
        .data("urgency", |p| p.urgency.clone())
        .column("due", ("échéance", "due"), |p| date_text(p.due.as_ref()))
        .data("estimated_minutes", |p| p.estimated_minutes)
        .column("status", ("statut", "status"), |p| p.status.clone())
        .showing(|p| proposal_status(p, lang))
        .data("facilitator_id", |p| p.facilitator_id.clone())
        .column("facilitator_name", ("facilitateur", "facilitator"), |p| {
            p.facilitator_name.clone()
        })
        .showing(|p| {
            if p.facilitator_name.is_empty() {
                "—".to_owned()
            } else {
                p.facilitator_name.clone()
            }
        })
        .shown(("min", "min"), |p| p.estimated_minutes.to_string())
        .right()
        .data("reasons", |p| p.reasons.clone())
        .data("declined_by", |p| p.declined_by.clone())
        .data("created_on", |p| date_text(p.created_on.as_ref()))
        .data("modality", |p| p.modality.clone())
        .data("offered_at", |p| p.offered_at.clone())
        .data("accepted_at", |p| p.accepted_at.clone())
        .data("escalated_at", |p| p.escalated_at.clone())
        .data("closed_at", |p| p.closed_at.clone())
        .data("overdue_without_coordinator", |p| p.overdue_without_coordinator)
        .data("kind", |p| p.kind.clone())
        .data("call_id", |p| p.call_id.clone())
        .column("call_title", ("appel", "call"), |p| p.call_title.clone())
        .showing(|p| call_text(p, lang))
        .data("call_deadline", |p| date_text(p.call_deadline.as_ref()))
        .data("call_url", |p| p.call_url.clone())
        .write(&response.proposals, format, lang, &mut std::io::stdout().lock())
}

/// Where a proposal comes from, in words.
fn origin_label(p: &pb::HelpRequest, lang: Lang) -> &'static str {
    match (p.origin.as_str(), p.kind.as_str(), lang) {
        ("proposal", "co-submission", Lang::Fr) => "proposition de co-dépôt",
        ("proposal", "co-submission", Lang::En) => "co-submission proposal",
        ("proposal", _, Lang::Fr) => "proposition",
        ("proposal", _, Lang::En) => "proposal",
        (_, _, Lang::Fr) => "demande",
        (_, _, Lang::En) => "request",
    }
}

/// A proposal's status in words; an offer nobody answered and no
/// coordinator can take up says so.
fn proposal_status(p: &pb::HelpRequest, lang: Lang) -> String {
    if p.overdue_without_coordinator {
        lang.pick(
            "proposée, sans réponse, aucun coordinateur",
            "offered, unanswered, no coordinator",
        )
        .to_owned()
    } else {
        status_fr(&p.status, lang).to_owned()
    }
}

/// The call a co-submission proposal is for, with its closing date.
fn call_text(p: &pb::HelpRequest, lang: Lang) -> String {
    if p.call_id.is_empty() {
        String::new()
    } else {
        format!(
            "{} ({} {})",
            p.call_title,
            lang.pick("clôture le", "closes on"),
            date_text(p.call_deadline.as_ref())
        )
    }
}

/// An intervention from the command line.
#[derive(Debug)]
pub struct Intervention {
    /// The request.
    pub request: String,
    /// Duration.
    pub minutes: u32,
    /// internal or external.
    pub beneficiary: &'static str,
    /// The member of the structure helped.
    pub person: Option<String>,
    /// Their autonomy afterwards.
    pub autonomy_after: Option<u32>,
    /// Their autonomy before.
    pub autonomy_before: Option<u32>,
    /// CRA activity type.
    pub activity_type: Option<String>,
    /// CRA place.
    pub place: Option<String>,
    /// CRA themes.
    pub themes: Vec<String>,
    /// Date.
    pub on: Option<NaiveDate>,
    /// Idempotency key.
    pub key: Option<String>,
}

/// `vigie facilitation record`.
///
/// # Errors
/// Unknown request or person, invalid intervention, unreachable server.
pub async fn record(endpoint: &str, intervention: Intervention, lang: Lang) -> anyhow::Result<()> {
    let response = client(endpoint, lang)
        .await?
        .record_intervention(pb::RecordInterventionRequest {
            request_id: intervention.request,
            minutes: intervention.minutes,
            beneficiary: intervention.beneficiary.to_owned(),
            person_id: intervention.person.unwrap_or_default(),
            autonomy_after: intervention.autonomy_after,
            autonomy_before: intervention.autonomy_before,
            activity_type: intervention.activity_type.unwrap_or_default(),
            place: intervention.place.unwrap_or_default(),
            themes: intervention.themes,
            on: intervention.on.map(date_to_pb),
            key: intervention.key.unwrap_or_default(),
        })
        .await
        .answered(lang)?;
    if response.recorded {
        println!(
            "{} ({} {})",
            lang.pick("Intervention enregistrée", "Intervention recorded"),
            lang.pick("clé", "key"),
            response.key
        );
    } else {
        println!(
            "{} ({} {})",
            lang.pick(
                "Intervention déjà enregistrée : comptée une seule fois",
                "Intervention already recorded: counted once"
            ),
            lang.pick("clé", "key"),
            response.key
        );
    }
    if let Some(request) = &response.request {
        describe(request, lang, &mut std::io::stdout().lock())?;
    }
    if response.autonomy_published {
        println!(
            "{}",
            lang.pick(
                "La personne est notée autonome : l'inventaire est mis à jour.",
                "The person is recorded as autonomous: the inventory is updated."
            )
        );
    }
    Ok(())
}

async fn fetch_report(
    endpoint: &str,
    network: &str,
    from: NaiveDate,
    to: NaiveDate,
    lang: Lang,
) -> anyhow::Result<pb::ReportResponse> {
    client(endpoint, lang)
        .await?
        .report(pb::ReportRequest {
            network: network.to_owned(),
            from: Some(date_to_pb(from)),
            to: Some(date_to_pb(to)),
        })
        .await
        .answered(lang)
}

fn hours(value: Option<f64>) -> String {
    value.map_or_else(|| "—".to_owned(), |h| format!("{h:.1}"))
}

/// `vigie facilitation report`.
///
/// # Errors
/// An invalid period, an unreachable server, an output error.
pub async fn report(
    endpoint: &str,
    network: &str,
    from: NaiveDate,
    to: NaiveDate,
    format: Format,
    lang: Lang,
) -> anyhow::Result<()> {
    let response = fetch_report(endpoint, network, from, to, lang).await?;
    let lines = Listing::<pb::ReportLine>::new()
        .column("facilitator_id", ("facilitateur", "facilitator"), |l| {
            l.facilitator_id.clone()
        })
        .column("display_name", ("nom", "name"), |l| l.display_name.clone())
        .column("internal_minutes", ("min internes", "internal min"), |l| {
            l.internal_minutes
        })
        .right()
        .column("external_minutes", ("min externes", "external min"), |l| {
            l.external_minutes
        })
        .right()
        .column("internal_share", ("part interne", "internal share"), |l| {
            l.internal_share
        })
        .showing(|l| l.internal_share.map_or_else(|| "—".to_owned(), percent))
        .right()
        .column(
            "response_hours_median",
            ("réponse (h, méd.)", "response (h, median)"),
            |l| l.response_hours_median,
        )
        .showing(|l| hours(l.response_hours_median))
        .right()
        .column(
            "resolution_hours_median",
            ("résolution (h, méd.)", "resolution (h, median)"),
            |l| l.resolution_hours_median,
        )
        .showing(|l| hours(l.resolution_hours_median))
        .right();
    let unhelped = Listing::<pb::UnhelpedStructure>::new()
        .column("structure_id", ("structure", "structure"), |u| u.structure_id.clone())
        .column("band", ("fragilité", "band"), |u| u.band.clone())
        .column(
            "functions",
            ("fonctions exposées sans aide", "exposed functions without help"),
            |u| u.functions.clone(),
        );
    let mut out = std::io::stdout().lock();
    match format {
        Format::Csv => {
            out.write_all(response.csv.as_bytes())?;
            writeln!(out)?;
            out.write_all(response.unhelped_csv.as_bytes())?;
        }
        Format::Json => {
            serde_json::to_writer_pretty(
                &mut out,
                &json!({"network": network, "from": from.to_string(), "to": to.to_string(),
                        "facilitators": lines.json_array(&response.lines),
                        "unhelped_structures": unhelped.json_array(&response.unhelped)}),
            )?;
            writeln!(out)?;
        }
        Format::Table => {
            lines.table(&response.lines, lang).write(&mut out)?;
            writeln!(out)?;
            if response.unhelped.is_empty() {
                writeln!(
                    out,
                    "{}",
                    lang.pick(
                        "Aucune structure fragile laissée sans aide sur la période.",
                        "No fragile structure left without help in the period."
                    )
                )?;
            } else {
                writeln!(
                    out,
                    "{}",
                    lang.pick(
                        "Structures fragiles jamais aidées sur la période :",
                        "Fragile structures never helped in the period:"
                    )
                )?;
                unhelped.table(&response.unhelped, lang).write(&mut out)?;
            }
        }
    }
    Ok(())
}

/// `vigie facilitation export`: the activity-report (CRA) CSV.
///
/// # Errors
/// An invalid period, an unreachable server, an output error.
pub async fn export(endpoint: &str, network: &str, from: NaiveDate, to: NaiveDate, lang: Lang) -> anyhow::Result<()> {
    let response = fetch_report(endpoint, network, from, to, lang).await?;
    std::io::stdout().lock().write_all(response.activity_csv.as_bytes())?;
    Ok(())
}
