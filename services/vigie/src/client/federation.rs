//! `vigie federation rollup|regions`: the national view of the regions'
//! aggregate snapshots (docs/federation.md, docs/cli.md). A suppressed cell
//! (statistical secrecy) prints as « secret », never as a number.

use std::io::Write;

use serde_json::{json, Value};
use vigie_proto::dates::date_text;
use vigie_proto::federation::v1 as pb;
use vigie_proto::federation::v1::federation_service_client::FederationServiceClient;
use vigie_proto::federation::v1::rollup_request::By;

use super::{connect, status_error};
use crate::cli::{FederationBy, Format};
use crate::i18n::Lang;
use crate::output::{Listing, Table};

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

fn table_columns(g: &pb::GroupFigures) -> Vec<(&'static str, &'static str, &'static str, Option<&pb::Cell>)> {
    group_columns(g)
        .into_iter()
        .filter(|c| TABLE_COLUMNS.contains(&c.0))
        .collect()
}

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
        .map_err(|s| status_error(s, lang))?
        .into_inner()
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
    let by_function = by == FederationBy::Function;
    match format {
        Format::Json => {
            let rows: Vec<Value> = rows.iter().map(|r| row_json(r, by_function)).collect();
            serde_json::to_writer_pretty(&mut out, &json!({ "by": by.as_str(), "rows": rows }))?;
            writeln!(out)?;
        }
        Format::Csv => {
            let mut writer = vigie_csv_out::Writer::from_writer(&mut out);
            if by_function {
                writer.write_record([
                    "function",
                    "label",
                    "orphan",
                    "single_holder",
                    "suppressed_cells",
                    "data_date",
                    "stale",
                ])?;
                for r in &rows {
                    writer.write_record([
                        r.key.clone(),
                        r.label.clone(),
                        cell_text(r.orphan.as_ref()),
                        cell_text(r.single_holder.as_ref()),
                        r.suppressed_cells.to_string(),
                        date_text(r.data_date.as_ref()),
                        r.stale.to_string(),
                    ])?;
                }
            } else {
                let empty = pb::GroupFigures::default();
                let mut header = vec!["region".to_owned(), "key".to_owned()];
                header.extend(group_columns(&empty).iter().map(|c| c.0.to_owned()));
                header.extend(
                    [
                        "score_mean",
                        "score_q1",
                        "score_median",
                        "score_q3",
                        "suppressed_cells",
                        "data_date",
                        "stale",
                    ]
                    .map(str::to_owned),
                );
                writer.write_record(&header)?;
                for r in &rows {
                    let g = r.figures.clone().unwrap_or_default();
                    let mut record = vec![r.region.clone(), r.key.clone()];
                    record.extend(group_columns(&g).iter().map(|c| cell_text(c.3)));
                    record.extend([g.score_mean, g.score_q1, g.score_median, g.score_q3].map(stat_text));
                    record.push(r.suppressed_cells.to_string());
                    record.push(date_text(r.data_date.as_ref()));
                    record.push(r.stale.to_string());
                    writer.write_record(&record)?;
                }
            }
            writer.flush()?;
        }
        Format::Table => {
            if by_function {
                let header = match lang {
                    Lang::Fr => [
                        "fonction",
                        "orpheline (personne)",
                        "une seule personne",
                        "cellules secrètes",
                    ],
                    Lang::En => ["function", "orphan (nobody)", "one person only", "secret cells"],
                };
                let mut table = Table::new(&header, &[false, true, true, true]);
                for r in &rows {
                    table.row(vec![
                        if r.label.is_empty() {
                            r.key.clone()
                        } else {
                            r.label.clone()
                        },
                        cell_text(r.orphan.as_ref()),
                        cell_text(r.single_holder.as_ref()),
                        r.suppressed_cells.to_string(),
                    ]);
                }
                table.write(&mut out)?;
            } else {
                let first = match (by, lang) {
                    (FederationBy::Region, Lang::Fr) => "région",
                    (FederationBy::Region, Lang::En) => "region",
                    (FederationBy::Network, Lang::Fr) => "région / réseau",
                    (FederationBy::Network, Lang::En) => "region / network",
                    (_, Lang::Fr) => "département",
                    (_, Lang::En) => "department",
                };
                let empty = pb::GroupFigures::default();
                let columns = table_columns(&empty);
                let mut header: Vec<&str> = vec![first];
                // The table keeps the figures a reader scans first; JSON and CSV have every one.
                header.extend(columns.iter().map(|c| if lang == Lang::Fr { c.1 } else { c.2 }));
                header.push(lang.pick("score moyen", "mean score"));
                header.push(lang.pick("données du", "data of"));
                let mut right = vec![false];
                right.extend(vec![true; columns.len() + 1]);
                right.push(false);
                let mut table = Table::new(&header, &right);
                for r in &rows {
                    let g = r.figures.clone().unwrap_or_default();
                    let name = match by {
                        FederationBy::Network => format!("{} / {}", r.region, r.key),
                        _ => r.key.clone(),
                    };
                    let mut cells = vec![name];
                    cells.extend(table_columns(&g).iter().map(|c| cell_text(c.3)));
                    cells.push(stat_text(g.score_mean));
                    let mut when = date_text(r.data_date.as_ref());
                    if r.stale {
                        when.push_str(lang.pick(" (périmées)", " (stale)"));
                    }
                    cells.push(when);
                    table.row(cells);
                }
                table.write(&mut out)?;
            }
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

fn row_json(r: &pb::RollupRow, by_function: bool) -> Value {
    let mut value = json!({
        "region": r.region,
        "key": r.key,
        "suppressed_cells": r.suppressed_cells,
        "data_date": date_text(r.data_date.as_ref()),
        "stale": r.stale,
    });
    if by_function {
        value["label"] = json!(r.label);
        value["orphan"] = cell_json(r.orphan.as_ref());
        value["single_holder"] = cell_json(r.single_holder.as_ref());
    } else if let Some(g) = &r.figures {
        for (name, _, _, cell) in group_columns(g) {
            value[name] = cell_json(cell);
        }
        value["score_mean"] = json!(g.score_mean);
        value["score_q1"] = json!(g.score_q1);
        value["score_median"] = json!(g.score_median);
        value["score_q3"] = json!(g.score_q3);
        value["functions"] = g
            .functions
            .iter()
            .map(|f| {
                json!({
                    "function": f.function,
                    "orphan": cell_json(f.orphan.as_ref()),
                    "single_holder": cell_json(f.single_holder.as_ref()),
                })
            })
            .collect();
    }
    value
}

/// Prints the regions known to the national view.
///
/// # Errors
/// Connection or server errors.
pub async fn regions(endpoint: &str, format: Format, lang: Lang) -> anyhow::Result<()> {
    let mut client = super::sized!(FederationServiceClient::new(connect(endpoint, lang).await?));
    let regions = client
        .regions(pb::RegionsRequest {})
        .await
        .map_err(|s| status_error(s, lang))?
        .into_inner()
        .regions;
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
        let g = pb::GroupFigures {
            amount_granted_euros: Some(pb::Cell {
                value: 107_000,
                ..Default::default()
            }),
            grants_won: Some(pb::Cell {
                suppressed: true,
                ..Default::default()
            }),
            ..Default::default()
        };
        let columns = table_columns(&g);
        assert_eq!(columns.iter().map(|c| c.0).collect::<Vec<_>>(), TABLE_COLUMNS);
        let text = |name: &str| {
            let c = columns.iter().find(|c| c.0 == name).unwrap();
            (c.1, cell_text(c.3))
        };
        assert_eq!(
            text("amount_granted_euros"),
            ("montant obtenu (€)", "107000".to_owned())
        );
        assert_eq!(text("grants_won"), ("subventions obtenues", "secret".to_owned()));
        assert_eq!(text("reporting_at_risk").0, "compte rendu à risque (30 j)");
        // JSON and CSV keep every column, the new ones last.
        let all: Vec<&str> = group_columns(&g).iter().map(|c| c.0).collect();
        assert_eq!(
            all[all.len() - 4..],
            [
                "reporting_at_risk",
                "grants_won",
                "grants_refused",
                "amount_granted_euros"
            ]
        );
    }
}
