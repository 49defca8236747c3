//! `vigie training …`: catalogue import, sessions, enrolments and plans.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use chrono::NaiveDate;
use serde_json::json;
use vigie_proto::dates::date_to_pb;
use vigie_proto::training::v1 as pb;
use vigie_proto::training::v1::training_service_client::TrainingServiceClient;

use super::inventory::band_code;
use super::{connect, Answered};
use crate::cli::{CatalogCommand, Format, TrainingCommand};
use crate::i18n::Lang;
use crate::output::Listing;

/// Runs a `vigie training` command.
///
/// # Errors
/// What the command failed on, in words for people.
pub async fn run(command: TrainingCommand, lang: Lang) -> anyhow::Result<()> {
    match command {
        TrainingCommand::Catalog(CatalogCommand::Import { dir, client }) => {
            import_catalog(&client.endpoint, &dir, lang).await
        }
        TrainingCommand::Catalog(CatalogCommand::Export { dir, client }) => {
            export_catalog(&client.endpoint, &dir, lang).await
        }
        TrainingCommand::Sessions {
            training,
            format,
            client,
        } => sessions(&client.endpoint, training.as_deref(), format, lang).await,
        TrainingCommand::Enrol {
            session,
            person,
            client,
        } => enrol(&client.endpoint, &session, &person, lang).await,
        TrainingCommand::Cancel {
            session,
            person,
            client,
        } => cancel(&client.endpoint, &session, &person, lang).await,
        TrainingCommand::Complete {
            session,
            person,
            on,
            client,
        } => complete(&client.endpoint, &session, &person, on, lang).await,
        TrainingCommand::Plan {
            structure,
            network,
            at,
            format,
            client,
        } => {
            plan(
                &client.endpoint,
                structure.as_deref(),
                network.as_deref(),
                at,
                format,
                lang,
            )
            .await
        }
    }
}

const CATALOG_FILES: [&str; 2] = ["trainings.csv", "sessions.csv"];
const CHUNK: usize = 64 * 1024;

async fn client(endpoint: &str, lang: Lang) -> anyhow::Result<TrainingServiceClient<super::Channel>> {
    Ok(super::sized!(TrainingServiceClient::new(
        connect(endpoint, lang).await?
    )))
}

/// `vigie training catalog import DIR`.
///
/// # Errors
/// Missing files, an unreachable server, or a rejected catalogue (every row
/// error printed as `FILE:LINE: message`).
pub async fn import_catalog(endpoint: &str, dir: &Path, lang: Lang) -> anyhow::Result<()> {
    let mut messages = Vec::new();
    for name in CATALOG_FILES {
        let path = dir.join(name);
        let bytes = std::fs::read(&path)
            .with_context(|| format!("{} {}", lang.pick("lecture de", "reading"), path.display()))?;
        for chunk in bytes.chunks(CHUNK) {
            messages.push(pb::CatalogChunk {
                file_name: name.to_owned(),
                chunk: chunk.to_vec(),
            });
        }
    }
    let response = client(endpoint, lang)
        .await?
        .import_catalog(tokio_stream::iter(messages))
        .await
        .answered(lang)?;
    if !response.errors.is_empty() {
        let mut err = std::io::stderr().lock();
        for e in &response.errors {
            writeln!(
                err,
                "{}:{}: {}",
                dir.join(&e.file).display(),
                e.line,
                e.message_in(lang)
            )?;
        }
        anyhow::bail!(
            "{} {} {}",
            lang.pick("catalogue refusé :", "catalogue rejected:"),
            response.errors.len(),
            lang.pick("erreur(s), rien n'a été modifié.", "error(s), nothing was changed.")
        );
    }
    match lang {
        Lang::Fr => println!(
            "Catalogue importé : {} formations, {} sessions.",
            response.trainings, response.sessions
        ),
        Lang::En => println!(
            "Catalogue imported: {} trainings, {} sessions.",
            response.trainings, response.sessions
        ),
    }
    Ok(())
}

/// `vigie training catalog export DIR`.
///
/// # Errors
/// An unreachable server or an unwritable directory.
pub async fn export_catalog(endpoint: &str, dir: &Path, lang: Lang) -> anyhow::Result<()> {
    let response = client(endpoint, lang)
        .await?
        .export_catalog(pb::ExportCatalogRequest {})
        .await
        .answered(lang)?;
    std::fs::create_dir_all(dir)
        .with_context(|| format!("{} {}", lang.pick("création de", "creating"), dir.display()))?;
    for (name, bytes) in CATALOG_FILES
        .iter()
        .zip([&response.trainings_csv, &response.sessions_csv])
    {
        let path = dir.join(name);
        std::fs::write(&path, bytes)
            .with_context(|| format!("{} {}", lang.pick("écriture de", "writing"), path.display()))?;
    }
    eprintln!(
        "{} {}",
        lang.pick("Catalogue exporté dans", "Catalogue exported to"),
        dir.display()
    );
    Ok(())
}

/// `vigie training sessions`.
///
/// # Errors
/// An unreachable server or an output error.
pub async fn sessions(endpoint: &str, training: Option<&str>, format: Format, lang: Lang) -> anyhow::Result<()> {
    let response = client(endpoint, lang)
        .await?
        .list_sessions(pb::ListSessionsRequest {
            training_id: training.unwrap_or_default().to_owned(),
        })
        .await
        .answered(lang)?;
    let place = |s: &pb::Session| {
        if s.commune_insee.is_empty() {
            lang.pick("à distance", "remote").to_owned()
        } else {
            s.commune_insee.clone()
        }
    };
    Listing::new()
        .column("session_id", ("session", "session"), |s: &pb::Session| {
            s.session_id.clone()
        })
        .column("training_id", ("formation", "training"), |s: &pb::Session| {
            s.training_id.clone()
        })
        .column("starts_at", ("début", "starts"), |s: &pb::Session| s.starts_at.clone())
        .showing(|s| s.starts_at.replace('T', " "))
        .data("ends_at", |s: &pb::Session| s.ends_at.clone())
        .data("timezone", |s: &pb::Session| s.timezone.clone())
        .column("commune_insee", ("lieu", "place"), |s: &pb::Session| {
            s.commune_insee.clone()
        })
        .showing(place)
        .data("remote_url", |s: &pb::Session| s.remote_url.clone())
        .column("capacity", ("places", "seats"), |s: &pb::Session| s.capacity)
        .right()
        .column("enrolled", ("inscrits", "enrolled"), |s: &pb::Session| s.enrolled)
        .right()
        .column("waiting", ("en attente", "waiting"), |s: &pb::Session| s.waiting)
        .right()
        .write(&response.sessions, format, lang, &mut std::io::stdout().lock())
}

fn describe(enrolment: &pb::Enrolment, lang: Lang) -> String {
    let status = match (enrolment.status.as_str(), lang) {
        ("enrolled", Lang::Fr) => "inscrit·e".to_owned(),
        ("waitlisted", Lang::Fr) => format!("en liste d'attente (position {})", enrolment.waiting_position),
        ("cancelled", Lang::Fr) => "inscription annulée".to_owned(),
        ("completed", Lang::Fr) => "formation suivie".to_owned(),
        ("waitlisted", Lang::En) => format!("on the waiting list (position {})", enrolment.waiting_position),
        (other, _) => other.to_owned(),
    };
    format!("{} — {} : {status}", enrolment.person_id, enrolment.session_id)
}

/// `vigie training enrol`.
///
/// # Errors
/// Unknown session or person, already enrolled, unreachable server.
pub async fn enrol(endpoint: &str, session: &str, person: &str, lang: Lang) -> anyhow::Result<()> {
    let enrolment = client(endpoint, lang)
        .await?
        .enrol(pb::EnrolRequest {
            session_id: session.to_owned(),
            person_id: person.to_owned(),
        })
        .await
        .answered(lang)?;
    println!("{}", describe(&enrolment, lang));
    Ok(())
}

/// `vigie training cancel`.
///
/// # Errors
/// Unknown enrolment, unreachable server.
pub async fn cancel(endpoint: &str, session: &str, person: &str, lang: Lang) -> anyhow::Result<()> {
    let response = client(endpoint, lang)
        .await?
        .cancel(pb::CancelRequest {
            session_id: session.to_owned(),
            person_id: person.to_owned(),
        })
        .await
        .answered(lang)?;
    if let Some(cancelled) = &response.cancelled {
        println!("{}", describe(cancelled, lang));
    }
    if let Some(promoted) = &response.promoted {
        println!(
            "{} {}",
            lang.pick("Place libérée pour", "Seat given to"),
            describe(promoted, lang)
        );
    }
    Ok(())
}

/// `vigie training complete`.
///
/// # Errors
/// Unknown or unseated enrolment, unreachable server.
pub async fn complete(
    endpoint: &str,
    session: &str,
    person: &str,
    on: Option<NaiveDate>,
    lang: Lang,
) -> anyhow::Result<()> {
    let enrolment = client(endpoint, lang)
        .await?
        .complete(pb::CompleteRequest {
            session_id: session.to_owned(),
            person_id: person.to_owned(),
            on: on.map(date_to_pb),
        })
        .await
        .answered(lang)?;
    println!("{}", describe(&enrolment, lang));
    println!(
        "{}",
        lang.pick(
            "Les compétences de la personne sont relevées dans l'inventaire.",
            "The person's holdings are raised in the inventory."
        )
    );
    Ok(())
}

/// `vigie training plan --structure ID` or `--network N`.
///
/// # Errors
/// Unknown structure, unreachable server, output error.
pub async fn plan(
    endpoint: &str,
    structure: Option<&str>,
    network: Option<&str>,
    at: Option<NaiveDate>,
    format: Format,
    lang: Lang,
) -> anyhow::Result<()> {
    let mut client = client(endpoint, lang).await?;
    let mut out = std::io::stdout().lock();
    if let Some(network) = network {
        let response = client
            .network_plan(pb::NetworkPlanRequest {
                network: network.to_owned(),
                at: at.map(date_to_pb),
            })
            .await
            .answered(lang)?;
        return write_network_plan(&response, format, lang, &mut out);
    }
    let structure = structure.unwrap_or_default();
    let plan = client
        .plan(pb::PlanRequest {
            structure_id: structure.to_owned(),
            at: at.map(date_to_pb),
        })
        .await
        .answered(lang)?;
    match format {
        Format::Json | Format::Csv => {
            let value = json!({
                "structure_id": plan.structure_id,
                "current": {"band": band_code(plan.current_band), "score": plan.current_score},
                "predicted": {"band": band_code(plan.predicted_band), "score": plan.predicted_score},
                "items": plan.items.iter().map(|i| json!({
                    "function": i.function, "criticality": i.criticality, "exposure": i.exposure,
                    "weighted_risk": i.weighted_risk,
                    "candidates": i.candidates.iter().map(|c| &c.person_id).collect::<Vec<_>>(),
                    "trainings": i.trainings.iter().map(|t| json!({
                        "training_id": t.training_id, "learners": t.learners,
                        "next_session": if t.next_session_id.is_empty() { serde_json::Value::Null } else { json!(t.next_session_id) },
                    })).collect::<Vec<_>>(),
                })).collect::<Vec<_>>(),
            });
            serde_json::to_writer_pretty(&mut out, &value)?;
            writeln!(out)?;
        }
        Format::Table => {
            let score = |s: Option<u32>| s.map(|s| s.to_string()).unwrap_or_else(|| "—".into());
            match lang {
                Lang::Fr => writeln!(
                    out,
                    "Plan de formation de {} : fragilité {} {} → {} {} après le plan.",
                    plan.structure_id,
                    score(plan.current_score),
                    band_fr(plan.current_band),
                    score(plan.predicted_score),
                    band_fr(plan.predicted_band)
                )?,
                Lang::En => writeln!(
                    out,
                    "Training plan of {}: fragility {} {} → {} {} after the plan.",
                    plan.structure_id,
                    score(plan.current_score),
                    band_code(plan.current_band),
                    score(plan.predicted_score),
                    band_code(plan.predicted_band)
                )?,
            }
            if plan.items.is_empty() {
                writeln!(
                    out,
                    "{}",
                    lang.pick(
                        "Aucune fonction orpheline ou tenue par une seule personne.",
                        "No orphan or single-holder function."
                    )
                )?;
            }
            for item in &plan.items {
                let exposure = match (item.exposure.as_str(), lang) {
                    ("orphan", Lang::Fr) => "personne ne l'assure",
                    ("spof", Lang::Fr) => "une seule personne",
                    ("orphan", Lang::En) => "nobody holds it",
                    _ => "single holder",
                };
                writeln!(out, "\n• {} ({exposure})", item.label)?;
                if item.candidates.is_empty() {
                    writeln!(
                        out,
                        "  {}",
                        lang.pick(
                            "aucune personne en voie d'autonomie : à recruter ou à accompagner (facilitation)",
                            "nobody on the way: recruit or get support (facilitation)"
                        )
                    )?;
                }
                for c in &item.candidates {
                    writeln!(
                        out,
                        "  {} {} ({}, {} {})",
                        lang.pick("à former :", "to train:"),
                        c.display_name,
                        c.person_id,
                        lang.pick("niveau", "level"),
                        c.level
                    )?;
                }
                for t in &item.trainings {
                    let next = if t.next_session_id.is_empty() {
                        lang.pick("pas de session ouverte", "no open session").to_owned()
                    } else {
                        format!(
                            "{} {} ({})",
                            lang.pick("prochaine session", "next session"),
                            t.next_session_id,
                            t.next_session_starts.replace('T', " ")
                        )
                    };
                    writeln!(
                        out,
                        "  {} {} — {} — {}",
                        lang.pick("formation", "training"),
                        t.training_id,
                        t.title,
                        next
                    )?;
                }
            }
        }
    }
    Ok(())
}

fn band_fr(band: i32) -> &'static str {
    match band_code(band) {
        "low" => "faible",
        "moderate" => "modérée",
        "high" => "élevée",
        "critical" => "critique",
        _ => "inconnue",
    }
}

fn write_network_plan(
    response: &pb::NetworkPlanResponse,
    format: Format,
    lang: Lang,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    Listing::new()
        .column("training_id", ("formation", "training"), |l: &pb::NetworkPlanLine| {
            l.training_id.clone()
        })
        .column("title", ("intitulé", "title"), |l: &pb::NetworkPlanLine| {
            l.title.clone()
        })
        .column(
            "department_code",
            ("département", "department"),
            |l: &pb::NetworkPlanLine| l.department_code.clone(),
        )
        .column("learners", ("personnes", "learners"), |l: &pb::NetworkPlanLine| {
            l.learners
        })
        .right()
        .column("structures", ("structures", "structures"), |l: &pb::NetworkPlanLine| {
            l.structures
        })
        .right()
        .write(&response.lines, format, lang, out)
}
