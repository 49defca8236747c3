//! `vigie federation rollup|regions`: the national view of the regions'
//! aggregate snapshots (docs/federation.md, docs/cli.md). A suppressed cell
//! (statistical secrecy) prints as « secret », never as a number.

use std::io::Write;

use serde_json::{json, Value};
use vigie_proto::dates::date_text;
use vigie_proto::federation::v1 as pb;
use vigie_proto::federation::v1::federation_service_client::FederationServiceClient;
use vigie_proto::federation::v1::rollup_request::By;

use super::{connect, Answered};
use crate::cli::{FederationBy, FederationCommand, Format};
use crate::i18n::Lang;
use crate::output::Listing;

/// Runs a `vigie federation` command.
///
/// # Errors
/// What the command failed on, in words for people.
pub async fn run(command: FederationCommand, lang: Lang) -> anyhow::Result<()> {
    match command {
        FederationCommand::Rollup { by, format, client } => rollup(&client.endpoint, by, format, lang).await,
        FederationCommand::Regions { format, client } => regions(&client.endpoint, format, lang).await,
    }
}

/// « secret » for a suppressed cell; « ≥ N » for a sum that left secret
/// cells out (« secret » when they were its only non-zero part).
fn cell_text(cell: Option<&pb::Cell>) -> String {
    match cell {
        Some(c) if c.suppressed || (c.partial && c.value == 0) => "secret".to_owned(),
        Some(c) if c.partial => format!("≥ {}", c.value),
        Some(c) => c.value.to_string(),
        None => String::new(),
    }
}

/// A number; `{"suppressed": true}`; or `{"at_least": N}` for a partial sum.
fn cell_json(cell: Option<&pb::Cell>) -> Value {
    match cell {
        Some(c) if c.suppressed => json!({ "suppressed": true }),
        Some(c) if c.partial => json!({ "at_least": c.value }),
        Some(c) => json!(c.value),
        None => Value::Null,
    }
}

fn stat_text(value: Option<f64>) -> String {
    value.map(|v| format!("{v:.1}")).unwrap_or_default()
}

/// The columns of a group row: (CSV/JSON name, French title, English title, value).
fn group_columns(g: &pb::GroupFigures) -> Vec<(&'static str, &'static str, &'static str, Option<&pb::Cell>)> {
    vec![
        ("structures", "structures", "structures", g.structures.as_ref()),
        ("critical", "critique", "critical", g.band_critical.as_ref()),
        ("high", "élevée", "high", g.band_high.as_ref()),
        ("moderate", "modérée", "moderate", g.band_moderate.as_ref()),
        ("low", "faible", "low", g.band_low.as_ref()),
        ("unknown", "non inventoriée", "unknown", g.band_unknown.as_ref()),
        (
            "director_dependent",
            "dépendantes direction",
            "director-dependent",
            g.director_dependent.as_ref(),
        ),
        (
            "deadline_at_risk",
            "échéance à risque (30 j)",
            "deadline at risk (30 d)",
            g.deadline_at_risk.as_ref(),
        ),
        (
            "reminders_sent",
            "rappels envoyés",
            "reminders sent",
            g.reminders_sent.as_ref(),
        ),
        (
            "reminders_acknowledged",
            "accusés",
            "acknowledged",
            g.reminders_acknowledged.as_ref(),
        ),
        (
            "facilitation_minutes_internal",
            "min. internes",
            "internal min.",
            g.facilitation_minutes_internal.as_ref(),
        ),
        (
            "facilitation_minutes_external",
            "min. externes",
            "external min.",
            g.facilitation_minutes_external.as_ref(),
        ),
        (
            "training_completions",
            "formations suivies",
            "trainings completed",
            g.training_completions.as_ref(),
        ),
        // Grants and reporting duties (issue 16).
        (
            "reporting_at_risk",
            "compte rendu à risque (30 j)",
            "reporting at risk (30 d)",
            g.reporting_at_risk.as_ref(),
        ),
        (
            "grants_won",
            "subventions obtenues",
            "grants won",
            g.grants_won.as_ref(),
        ),
        (
            "grants_refused",
            "subventions refusées",
            "grants refused",
            g.grants_refused.as_ref(),
        ),
        (
            "amount_granted_euros",
            "montant obtenu (€)",
            "amount granted (€)",
            g.amount_granted_euros.as_ref(),
        ),
    ]
}

/// The columns of the table: the first eight (structures, bands, director
/// dependency, deadline risk), then the reporting risk and the grants.
/// JSON and CSV have every column.
const TABLE_COLUMNS: [&str; 12] = [
    "structures",
    "critical",
    "high",
    "moderate",
    "low",
    "unknown",
    "director_dependent",
    "deadline_at_risk",
    "reporting_at_risk",
    "grants_won",
    "grants_refused",
    "amount_granted_euros",
];

/// Prints the national roll-up.
///
/// # Errors
/// Connection or server errors.
pub async fn rollup(endpoint: &str, by: FederationBy, format: Format, lang: Lang) -> anyhow::Result<()> {
    let mut client = super::sized!(FederationServiceClient::new(connect(endpoint, lang).await?));
    let by_pb = match by {
        FederationBy::Region => By::Region,
        FederationBy::Network => By::Network,
        FederationBy::Department => By::Department,
        FederationBy::Function => By::Function,
    };
    let rows = client
        .rollup(pb::RollupRequest { by: by_pb as i32 })
        .await
        .answered(lang)?
        .rows;
    let mut out = std::io::stdout().lock();
    if rows.is_empty() && format == Format::Table {
        writeln!(
            out,
            "{}",
            lang.pick(
                "Aucune région n'a encore publié d'agrégats.",
                "No region has published aggregates yet."
            )
        )?;
        return Ok(());
    }
    let listing = if by == FederationBy::Function {
        function_listing()
    } else {
        group_listing(by, lang)
    };
    match format {
        Format::Json => {
            let value = json!({ "by": by.as_str(), "rows": listing.json_array(&rows) });
            serde_json::to_writer_pretty(&mut out, &value)?;
            writeln!(out)?;
        }
        Format::Csv => listing.write_csv(&rows, &mut out)?,
        Format::Table => {
            listing.table(&rows, lang).write(&mut out)?;
            let secret = rows.iter().map(|r| r.suppressed_cells).sum::<u32>();
            if secret > 0 {
                writeln!(
                    out,
                    "{}",
                    lang.pick(
                        "« secret » : moins de structures que le seuil de secret statistique. « ≥ N » : somme des seules cellules publiées.",
                        "“secret”: fewer structures than the statistical secrecy threshold. “≥ N”: sum of the published cells only."
                    )
                )?;
            }
        }
    }
    Ok(())
}

/// The rows of `--by function`: a vital function's orphan and single-holder
/// counts over every region (its code is `function` in the CSV, `key` in
/// JSON).
fn function_listing<'a>() -> Listing<'a, pb::RollupRow> {
    Listing::<pb::RollupRow>::new()
        .json("region", |r| r.region.clone())
        .json("key", |r| r.key.clone())
        .csv("function", |r| r.key.clone())
        .shown(("fonction", "function"), |r| {
            if r.label.is_empty() {
                r.key.clone()
            } else {
                r.label.clone()
            }
        })
        .data("label", |r| r.label.clone())
        .json("orphan", |r| cell_json(r.orphan.as_ref()))
        .csv("orphan", |r| cell_text(r.orphan.as_ref()))
        .shown(("orpheline (personne)", "orphan (nobody)"), |r| {
            cell_text(r.orphan.as_ref())
        })
        .right()
        .json("single_holder", |r| cell_json(r.single_holder.as_ref()))
        .csv("single_holder", |r| cell_text(r.single_holder.as_ref()))
        .shown(("une seule personne", "one person only"), |r| {
            cell_text(r.single_holder.as_ref())
        })
        .right()
        .column("suppressed_cells", ("cellules secrètes", "secret cells"), |r| {
            r.suppressed_cells
        })
        .right()
        .data("data_date", |r| date_text(r.data_date.as_ref()))
        .data("stale", |r| r.stale)
}

/// The rows of a group dimension (region, network, department): every
/// figure in JSON (a suppressed cell as an object) and CSV (as « secret »),
/// the ones a reader scans first in the table.
fn group_listing<'a>(by: FederationBy, lang: Lang) -> Listing<'a, pb::RollupRow> {
    let first = match by {
        FederationBy::Region => ("région", "region"),
        FederationBy::Network => ("région / réseau", "region / network"),
        _ => ("département", "department"),
    };
    let mut listing = Listing::<pb::RollupRow>::new()
        .data("region", |r| r.region.clone())
        .data("key", |r| r.key.clone())
        .shown(first, move |r| match by {
            FederationBy::Network => format!("{} / {}", r.region, r.key),
            _ => r.key.clone(),
        });
    // A figure of a row, by its place in `group_columns`.
    let figure = |r: &pb::RollupRow, i: usize| r.figures.as_ref().and_then(|g| group_columns(g)[i].3.cloned());
    for (i, (name, fr, en, _)) in group_columns(&pb::GroupFigures::default()).into_iter().enumerate() {
        listing = listing
            .json(name, move |r| cell_json(figure(r, i).as_ref()))
            .csv(name, move |r| cell_text(figure(r, i).as_ref()));
        if TABLE_COLUMNS.contains(&name) {
            listing = listing
                .shown((fr, en), move |r| cell_text(figure(r, i).as_ref()))
                .right();
        }
    }
    let stat = |r: &pb::RollupRow, read: fn(&pb::GroupFigures) -> Option<f64>| r.figures.as_ref().and_then(read);
    listing
        .json("score_mean", move |r| stat(r, |g| g.score_mean))
        .csv("score_mean", move |r| stat_text(stat(r, |g| g.score_mean)))
        .shown(("score moyen", "mean score"), move |r| {
            stat_text(stat(r, |g| g.score_mean))
        })
        .right()
        .json("score_q1", move |r| stat(r, |g| g.score_q1))
        .csv("score_q1", move |r| stat_text(stat(r, |g| g.score_q1)))
        .json("score_median", move |r| stat(r, |g| g.score_median))
        .csv("score_median", move |r| stat_text(stat(r, |g| g.score_median)))
        .json("score_q3", move |r| stat(r, |g| g.score_q3))
        .csv("score_q3", move |r| stat_text(stat(r, |g| g.score_q3)))
        .data("suppressed_cells", |r| r.suppressed_cells)
        .data("data_date", |r| date_text(r.data_date.as_ref()))
        .shown(("données du", "data of"), move |r| {
            let mut when = date_text(r.data_date.as_ref());
            if r.stale {
                when.push_str(lang.pick(" (périmées)", " (stale)"));
            }
            when
        })
        .data("stale", |r| r.stale)
        .json("functions", |r| {
            r.figures
                .iter()
                .flat_map(|g| &g.functions)
                .map(|f| {
                    json!({
                        "function": f.function,
                        "orphan": cell_json(f.orphan.as_ref()),
                        "single_holder": cell_json(f.single_holder.as_ref()),
                    })
                })
                .collect::<Vec<_>>()
        })
}

/// Prints the regions known to the national view.
///
/// # Errors
/// Connection or server errors.
pub async fn regions(endpoint: &str, format: Format, lang: Lang) -> anyhow::Result<()> {
    let mut client = super::sized!(FederationServiceClient::new(connect(endpoint, lang).await?));
    let regions = client.regions(pb::RegionsRequest {}).await.answered(lang)?.regions;
    let mut out = std::io::stdout().lock();
    let listing = Listing::<pb::RegionStatus>::new()
        .column("region", ("région", "region"), |r| r.region.clone())
        .column("evaluated_on", ("données du", "data of"), |r| {
            date_text(r.evaluated_on.as_ref())
        })
        .shown(("état", "state"), |r| {
            if r.stale {
                lang.pick("périmées", "stale")
            } else {
                lang.pick("à jour", "up to date")
            }
            .to_owned()
        })
        .column("sequence", ("instantané n°", "snapshot #"), |r| r.sequence)
        .right()
        .column("received_at", ("reçu le", "received at"), |r| r.received_at.clone())
        .data("stale", |r| r.stale)
        .column("networks", ("réseaux", "networks"), |r| r.networks)
        .right()
        .column("departments", ("départements", "departments"), |r| r.departments)
        .right();
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &json!({ "regions": listing.json_array(&regions) }))?;
            writeln!(out)?;
        }
        Format::Table if regions.is_empty() => writeln!(
            out,
            "{}",
            lang.pick("Aucune région connue pour l'instant.", "No region known yet.")
        )?,
        Format::Table | Format::Csv => listing.write(&regions, format, lang, &mut out)?,
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_shows_the_reporting_risk_and_the_grants_under_french_labels() {
        let row = pb::RollupRow {
            key: "NA".to_owned(),
            figures: Some(pb::GroupFigures {
                amount_granted_euros: Some(pb::Cell {
                    value: 107_000,
                    ..Default::default()
                }),
                grants_won: Some(pb::Cell {
                    suppressed: true,
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        };
        let mut table = Vec::new();
        group_listing(FederationBy::Region, Lang::Fr)
            .table([&row], Lang::Fr)
            .write(&mut table)
            .unwrap();
        let table = String::from_utf8(table).unwrap();
        let header = table.lines().next().unwrap();
        let titles: Vec<&str> = header.split("  ").map(str::trim).filter(|t| !t.is_empty()).collect();
        assert_eq!(
            titles[9..13],
            [
                "compte rendu à risque (30 j)",
                "subventions obtenues",
                "subventions refusées",
                "montant obtenu (€)"
            ]
        );
        let cells = table.lines().nth(2).unwrap();
        assert!(cells.contains("secret") && cells.contains("107000"), "{cells}");
        // JSON and CSV keep every column, the new ones last; a secret cell
        // is an object in JSON and « secret » in CSV.
        let listing = group_listing(FederationBy::Region, Lang::Fr);
        let mut csv = Vec::new();
        listing.write_csv([&row], &mut csv).unwrap();
        let csv = String::from_utf8(csv).unwrap();
        let keys: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
        assert_eq!(
            keys[keys.len() - 11..keys.len() - 7],
            [
                "reporting_at_risk",
                "grants_won",
                "grants_refused",
                "amount_granted_euros"
            ]
        );
        let json = listing.json_object(&row);
        assert_eq!(json["grants_won"], json!({ "suppressed": true }));
        assert_eq!(json["amount_granted_euros"], json!(107_000));
    }
}
