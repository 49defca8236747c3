//! `vigie inventory …`: import, fragility, roll-up (gRPC clients) and
//! generate (offline).

use std::io::Write;
use std::path::Path;

use chrono::NaiveDate;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use tokio_stream::StreamExt;
use vigie_proto::dates::{date_text, date_to_pb};
use vigie_proto::inventory::v1 as pb;
use vigie_proto::inventory::v1::import_progress::Phase;
use vigie_proto::inventory::v1::inventory_service_client::InventoryServiceClient;

use super::{connect, status_error, Answered};
use crate::cli::{Format, InventoryCommand, RollupByArg};
use crate::i18n::Lang;
use crate::output::{percent, truncate, Listing, Table};

/// Runs a `vigie inventory` command.
///
/// # Errors
/// What the command failed on, in words for people.
pub async fn run(command: InventoryCommand, lang: Lang) -> anyhow::Result<()> {
    match command {
        InventoryCommand::Import { dir, client } => import(&client.endpoint, &dir, lang).await,
        InventoryCommand::Template { out, from } => super::inventory_files::template(&out, from.as_deref(), lang),
        InventoryCommand::Export { out, network, client } => {
            super::inventory_files::export(&client.endpoint, &out, network.as_deref(), lang).await
        }
        InventoryCommand::Fragility {
            structure,
            network,
            at,
            format,
            client,
        } => {
            fragility(
                &client.endpoint,
                structure.as_deref(),
                network.as_deref(),
                at,
                format,
                lang,
            )
            .await
        }
        InventoryCommand::Rollup { by, at, format, client } => rollup(&client.endpoint, by, at, format, lang).await,
        InventoryCommand::Generate {
            structures,
            seed,
            today,
            dir,
        } => crate::generate::run(structures, seed, today, &dir, lang),
    }
}

/// The four files of a CSV set, in the order they are sent.
pub const SET_FILES: [&str; 4] = ["structures.csv", "people.csv", "functions.csv", "holdings.csv"];
/// Bytes per streamed chunk: small messages, well under gRPC's 4 MiB limit.
const CHUNK: usize = 64 * 1024;

/// Band code as printed in machine output.
pub fn band_code(band: i32) -> &'static str {
    match pb::Band::try_from(band).unwrap_or(pb::Band::Unspecified) {
        pb::Band::Unspecified | pb::Band::Unknown => "unknown",
        pb::Band::Low => "low",
        pb::Band::Moderate => "moderate",
        pb::Band::High => "high",
        pb::Band::Critical => "critical",
    }
}

fn band_label(band: i32, lang: Lang) -> &'static str {
    match band_code(band) {
        "low" => lang.pick("faible", "low"),
        "moderate" => lang.pick("modérée", "moderate"),
        "high" => lang.pick("élevée", "high"),
        "critical" => lang.pick("critique", "critical"),
        _ => lang.pick("non inventoriée", "not inventoried"),
    }
}

/// `vigie inventory import PATH`: a directory holding the CSV set, or an
/// XLSX/ODS workbook (read by [`super::inventory_files::load`]).
///
/// # Errors
/// Unreadable files, an unreachable server, or a rejected set (every row
/// error is printed first as `FILE:LINE: message`, or for a workbook
/// `inventaire.xlsx/people:12: message`).
pub async fn import(endpoint: &str, path: &Path, lang: Lang) -> anyhow::Result<()> {
    let loaded = super::inventory_files::load(path, lang)?;
    let origin = loaded.origin;
    let files = loaded.files;
    let total: u64 = files.iter().map(|(_, b)| b.len() as u64).sum();
    let channel = connect(endpoint, lang).await?;
    let mut client = super::sized!(InventoryServiceClient::new(channel));

    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template("{msg:12} [{bar:40}] {bytes}/{total_bytes}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_message(lang.pick("envoi", "upload").to_owned());
    let (tx, rx) = tokio::sync::mpsc::channel(8);
    let sender_bar = bar.clone();
    tokio::spawn(async move {
        for (name, bytes) in files {
            for chunk in bytes.chunks(CHUNK) {
                let message = pb::ImportRequest {
                    file_name: name.to_owned(),
                    chunk: chunk.to_vec(),
                };
                if tx.send(message).await.is_err() {
                    return;
                }
                sender_bar.inc(chunk.len() as u64);
            }
        }
    });
    let mut progress = client
        .import(tokio_stream::wrappers::ReceiverStream::new(rx))
        .await
        .answered(lang)?;

    let mut errors = Vec::new();
    let mut summary = None;
    while let Some(message) = progress.next().await {
        let message = message.map_err(|s| status_error(s, lang))?;
        match Phase::try_from(message.phase).unwrap_or(Phase::Unspecified) {
            Phase::Validating => {
                bar.set_message(lang.pick("validation", "validating").to_owned());
                bar.set_length(1);
                bar.set_position(message.done);
            }
            Phase::Applying => {
                bar.set_style(
                    ProgressStyle::with_template("{msg:12} [{bar:40}] {pos}/{len} structures")
                        .unwrap_or_else(|_| ProgressStyle::default_bar()),
                );
                bar.set_message(lang.pick("écriture", "writing").to_owned());
                bar.set_length(message.total.max(1));
                bar.set_position(message.done);
            }
            Phase::Done => summary = message.summary,
            Phase::Rejected => errors.extend(message.errors),
            Phase::Receiving | Phase::Unspecified => {}
        }
    }
    bar.finish_and_clear();

    if !errors.is_empty() {
        let mut err = std::io::stderr().lock();
        for e in &errors {
            writeln!(err, "{}: {}", origin.locate(&e.file, e.line), e.message_in(lang))?;
        }
        anyhow::bail!(
            "{} {} {}",
            lang.pick("import refusé :", "import rejected:"),
            errors.len(),
            lang.pick("erreur(s), rien n'a été modifié.", "error(s), nothing was changed.")
        );
    }
    let s = summary.ok_or_else(|| {
        anyhow::anyhow!(
            "{}",
            lang.pick(
                "le serveur n'a pas confirmé l'import",
                "the server did not confirm the import"
            )
        )
    })?;
    match lang {
        Lang::Fr => println!(
            "Import terminé : {} structures ({} nouvelles, {} modifiées, {} inchangées), {} personnes, {} fonctions, {} compétences ; {} événements publiés.",
            s.structures, s.structures_created, s.structures_updated, s.structures_unchanged, s.people, s.functions, s.holdings, s.events
        ),
        Lang::En => println!(
            "Import done: {} structures ({} new, {} changed, {} unchanged), {} people, {} functions, {} holdings; {} events published.",
            s.structures, s.structures_created, s.structures_updated, s.structures_unchanged, s.people, s.functions, s.holdings, s.events
        ),
    }
    Ok(())
}

/// `vigie inventory fragility`.
///
/// # Errors
/// An unreachable server, an unknown structure, or an output error.
pub async fn fragility(
    endpoint: &str,
    structure: Option<&str>,
    network: Option<&str>,
    at: Option<NaiveDate>,
    format: Format,
    lang: Lang,
) -> anyhow::Result<()> {
    let mut client = super::sized!(InventoryServiceClient::new(connect(endpoint, lang).await?));
    let at = at.map(date_to_pb);
    let items = match structure {
        Some(id) => vec![client
            .get_fragility(pb::GetFragilityRequest {
                structure_id: id.to_owned(),
                at,
                lang: lang.code().to_owned(),
            })
            .await
            .answered(lang)?],
        None => {
            let request = pb::ListFragilityRequest {
                at,
                network: network.unwrap_or_default().to_owned(),
                lang: lang.code().to_owned(),
            };
            let mut stream = client.list_fragility(request).await.answered(lang)?;
            let mut items = Vec::new();
            while let Some(item) = stream.next().await {
                items.push(item.map_err(|s| status_error(s, lang))?);
            }
            items
        }
    };
    let mut out = std::io::stdout().lock();
    let listing = fragility_listing(lang);
    match format {
        Format::Csv => write_fragility_csv(&items, &mut out)?,
        Format::Json if structure.is_some() => {
            let value = items.first().map(|item| listing.json_object(item)).unwrap_or_default();
            serde_json::to_writer_pretty(&mut out, &value)?;
            writeln!(out)?;
        }
        Format::Table if structure.is_some() => {
            if let Some(item) = items.first() {
                write_fragility_detail(item, lang, &mut out)?;
            }
        }
        Format::Json => listing.write(&items, format, lang, &mut out)?,
        Format::Table => {
            listing.table(&items, lang).write(&mut out)?;
            write_fragility_summary(&items, lang, &mut out)?;
        }
    }
    Ok(())
}

/// `vigie inventory fragility --format csv`: the rows by structure id (the
/// CSV contract, see [`fragility_listing`]).
///
/// # Errors
/// I/O errors of `out`.
fn write_fragility_csv(items: &[pb::StructureFragility], out: impl Write) -> std::io::Result<()> {
    let mut sorted: Vec<&pb::StructureFragility> = items.iter().collect();
    sorted.sort_by(|a, b| a.structure_id.cmp(&b.structure_id));
    fragility_listing(Lang::Fr).write_csv(sorted, out)
}

/// The columns of `vigie inventory fragility`. The CSV contract: exactly
/// the header `structure_id,score,band,truck_factor,orphan_functions,
/// spof_functions,director_dependency`, function codes sorted and
/// `;`-separated, director dependency with 4 decimals, empty score and truck
/// factor for `unknown`. JSON carries the whole evaluation, functions as the
/// server ordered them.
fn fragility_listing<'a>(lang: Lang) -> Listing<'a, pb::StructureFragility> {
    let sorted = |codes: &[String]| {
        let mut codes = codes.to_vec();
        codes.sort();
        codes.join(";")
    };
    let or_dash = |n: Option<u32>| n.map_or_else(|| "—".to_owned(), |n| n.to_string());
    Listing::<pb::StructureFragility>::new()
        .column("structure_id", ("structure", "structure"), |i| i.structure_id.clone())
        .json("name", |i| i.name.clone())
        .shown(("nom", "name"), |i| truncate(&i.name, 40))
        .json("network", |i| i.network.clone())
        .json("evaluated_on", |i| date_text(i.evaluated_on.as_ref()))
        .column("score", ("score", "score"), |i| i.score)
        .showing(move |i| or_dash(i.score))
        .right()
        .column("band", ("fragilité", "band"), |i| band_code(i.band))
        .showing(move |i| band_label(i.band, lang).to_owned())
        .column("truck_factor", ("facteur bus", "truck factor"), |i| i.truck_factor)
        .showing(move |i| or_dash(i.truck_factor))
        .right()
        .json("orphan_functions", |i| i.orphan_functions.clone())
        .csv("orphan_functions", move |i| sorted(&i.orphan_functions))
        .shown(("orphelines", "orphans"), |i| i.orphan_functions.len().to_string())
        .right()
        .json("spof_functions", |i| i.spof_functions.clone())
        .csv("spof_functions", move |i| sorted(&i.spof_functions))
        .shown(("une seule personne", "single holder"), |i| i.spof_functions.len().to_string())
        .right()
        .json("top_key_person", |i| {
            if i.top_key_person_id.is_empty() {
                serde_json::Value::Null
            } else {
                json!({"person_id": i.top_key_person_id, "name": i.top_key_person_name, "share": i.top_key_person_share})
            }
        })
        .json("director_dependency", |i| i.director_dependency)
        .csv("director_dependency", |i| format!("{:.4}", i.director_dependency))
        .shown(("dépendance direction", "director dependency"), |i| percent(i.director_dependency))
        .right()
        .json("functions", |i| {
            i.functions
                .iter()
                .map(|f| json!({"code": f.code, "criticality": f.criticality, "holders": f.holder_ids, "risk": f.risk}))
                .collect::<Vec<_>>()
        })
        .json("explanations", |i| i.explanations.clone())
}

/// The line under the fragility table: how many structures, how many of
/// them critical or high, and how to see one.
fn write_fragility_summary(items: &[pb::StructureFragility], lang: Lang, out: &mut impl Write) -> anyhow::Result<()> {
    let critical = items.iter().filter(|i| band_code(i.band) == "critical").count();
    let high = items.iter().filter(|i| band_code(i.band) == "high").count();
    match lang {
        Lang::Fr => writeln!(
            out,
            "\n{} structures ; {critical} en fragilité critique, {high} élevée. Détail : vigie inventory fragility --structure ID",
            items.len()
        )?,
        Lang::En => writeln!(
            out,
            "\n{} structures; {critical} critical, {high} high. Details: vigie inventory fragility --structure ID",
            items.len()
        )?,
    }
    Ok(())
}

fn write_fragility_detail(item: &pb::StructureFragility, lang: Lang, out: &mut impl Write) -> anyhow::Result<()> {
    writeln!(out, "{} — {} ({})", item.structure_id, item.name, item.network)?;
    let on = date_text(item.evaluated_on.as_ref());
    match item.score {
        Some(score) => writeln!(
            out,
            "{} {on} : {} {score}/100, {} {}, {} {}",
            lang.pick("Fragilité au", "Fragility on"),
            lang.pick("score", "score"),
            lang.pick("niveau", "band"),
            band_label(item.band, lang),
            lang.pick("facteur bus", "truck factor"),
            item.truck_factor.unwrap_or_default()
        )?,
        None => writeln!(
            out,
            "{}",
            lang.pick(
                "Aucune fonction vitale inventoriée : fragilité inconnue.",
                "No vital function recorded: fragility unknown."
            )
        )?,
    }
    if !item.top_key_person_id.is_empty() {
        writeln!(
            out,
            "{} {} ({}) — {} ; {} {}",
            lang.pick("Personne clé :", "Key person:"),
            item.top_key_person_name,
            item.top_key_person_id,
            percent(item.top_key_person_share),
            lang.pick("dépendance à la direction", "director dependency"),
            percent(item.director_dependency)
        )?;
    }
    if !item.explanations.is_empty() {
        writeln!(out)?;
        for sentence in &item.explanations {
            writeln!(out, "  • {sentence}")?;
        }
    }
    writeln!(out)?;
    let header = match lang {
        Lang::Fr => ["fonction", "criticité", "personnes", "risque"],
        Lang::En => ["function", "criticality", "holders", "risk"],
    };
    let mut table = Table::new(&header, &[false, true, false, true]);
    for f in &item.functions {
        let holders = if f.holder_ids.is_empty() {
            "—".to_owned()
        } else {
            f.holder_ids.join(", ")
        };
        table.row(vec![
            truncate(&f.label, 60),
            f.criticality.to_string(),
            holders,
            percent(f.risk),
        ]);
    }
    table.write(out)?;
    Ok(())
}

/// The columns of `vigie inventory rollup`: scripts get the counts from
/// the best band up (and JSON the functions' shares), people read them from
/// the worst band down, with the most exposed function in words.
fn rollup_listing<'a>(lang: Lang) -> Listing<'a, pb::RollupGroup> {
    let mean = |g: &pb::RollupGroup| g.mean_score.map(|m| format!("{m:.1}")).unwrap_or_default();
    Listing::<pb::RollupGroup>::new()
        .column("key", ("groupe", "group"), |g| g.key.clone())
        .column("structures", ("structures", "structures"), |g| g.structures)
        .right()
        .data("unknown", |g| g.unknown)
        .data("low", |g| g.low)
        .data("moderate", |g| g.moderate)
        .data("high", |g| g.high)
        .data("critical", |g| g.critical)
        .json("mean_score", |g| g.mean_score)
        .csv("mean_score", mean)
        .json("functions", |g| {
            g.functions
                .iter()
                .map(|f| {
                    json!({"code": f.code, "structures": f.structures,
                           "orphan_share": f.orphan_share, "spof_share": f.spof_share})
                })
                .collect::<Vec<_>>()
        })
        .shown(("critique", "critical"), |g| g.critical.to_string())
        .right()
        .shown(("élevée", "high"), |g| g.high.to_string())
        .right()
        .shown(("modérée", "moderate"), |g| g.moderate.to_string())
        .right()
        .shown(("faible", "low"), |g| g.low.to_string())
        .right()
        .shown(("inconnue", "unknown"), |g| g.unknown.to_string())
        .right()
        .shown(("score moyen", "mean score"), mean)
        .right()
        .shown(("fonction la plus exposée", "most exposed function"), move |g| {
            most_exposed(g, lang)
        })
}

/// The function of a group with the largest orphan and single-holder share,
/// in words, with that share.
fn most_exposed(g: &pb::RollupGroup, lang: Lang) -> String {
    g.functions
        .iter()
        .max_by(|a, b| {
            (a.orphan_share + a.spof_share)
                .total_cmp(&(b.orphan_share + b.spof_share))
                .then(b.code.cmp(&a.code))
        })
        .map(|f| {
            let label = match lang {
                Lang::Fr => vigie_fragility_model::catalogue::label_fr(&f.code),
                Lang::En => vigie_fragility_model::catalogue::label_en(&f.code),
            };
            format!("{label} ({})", percent(f.orphan_share + f.spof_share))
        })
        .unwrap_or_default()
}

/// `vigie inventory rollup`.
///
/// # Errors
/// An unreachable server or an output error.
pub async fn rollup(
    endpoint: &str,
    by: RollupByArg,
    at: Option<NaiveDate>,
    format: Format,
    lang: Lang,
) -> anyhow::Result<()> {
    let mut client = super::sized!(InventoryServiceClient::new(connect(endpoint, lang).await?));
    let by = match by {
        RollupByArg::Instance => pb::rollup_request::By::Instance,
        RollupByArg::Network => pb::rollup_request::By::Network,
        RollupByArg::Region => pb::rollup_request::By::Region,
        RollupByArg::Department => pb::rollup_request::By::Department,
    };
    let response = client
        .rollup(pb::RollupRequest {
            by: by as i32,
            at: at.map(date_to_pb),
        })
        .await
        .answered(lang)?;
    let mut out = std::io::stdout().lock();
    let groups = rollup_listing(lang);
    match format {
        Format::Csv => groups.write_csv(&response.groups, &mut out)?,
        Format::Json => {
            let value = json!({
                "evaluated_on": date_text(response.evaluated_on.as_ref()),
                "groups": groups.json_array(&response.groups),
            });
            serde_json::to_writer_pretty(&mut out, &value)?;
            writeln!(out)?;
        }
        Format::Table => {
            writeln!(
                out,
                "{} {}",
                lang.pick("Évaluation au", "Evaluated on"),
                date_text(response.evaluated_on.as_ref())
            )?;
            groups.table(&response.groups, lang).write(&mut out)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fragility_csv_keeps_its_contract() {
        let items = [
            pb::StructureFragility {
                structure_id: "S2".to_owned(),
                name: "Unknown".to_owned(),
                band: pb::Band::Unknown as i32,
                ..Default::default()
            },
            pb::StructureFragility {
                structure_id: "S1".to_owned(),
                name: "Known".to_owned(),
                band: pb::Band::High as i32,
                score: Some(43),
                truck_factor: Some(2),
                orphan_functions: vec!["payroll".to_owned(), "accounting".to_owned()],
                spof_functions: vec!["invoicing".to_owned()],
                director_dependency: 0.25,
                ..Default::default()
            },
        ];
        let mut out = Vec::new();
        write_fragility_csv(&items, &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "structure_id,score,band,truck_factor,orphan_functions,spof_functions,director_dependency\n\
             S1,43,high,2,accounting;payroll,invoicing,0.2500\n\
             S2,,unknown,,,,0.0000\n"
        );
    }
}
