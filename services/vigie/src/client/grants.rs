//! `vigie grants …`: a structure's applications and grants, and the
//! reporting duties they bring (issue 16, docs/grants.md), through the
//! alerting service.

use std::io::Write;

use chrono::{Datelike, NaiveDate};
use serde_json::json;
use vigie_proto::alerting::v1 as pb;
use vigie_proto::alerting::v1::alerting_service_client::AlertingServiceClient;
use vigie_proto::common::v1::Date;

use super::{connect, status_error};
use crate::cli::Format;
use crate::i18n::Lang;
use crate::output::Table;

fn pb_date(date: NaiveDate) -> Date {
    Date {
        year: date.year(),
        month: date.month(),
        day: date.day(),
    }
}

fn date_text(date: Option<&Date>) -> String {
    date.map(|d| format!("{:04}-{:02}-{:02}", d.year, d.month, d.day))
        .unwrap_or_default()
}

async fn client(endpoint: &str, lang: Lang) -> anyhow::Result<AlertingServiceClient<super::Channel>> {
    Ok(super::sized!(AlertingServiceClient::new(
        connect(endpoint, lang).await?
    )))
}

/// Parses an amount in euros (`20000`, `20 000`, `1234,50`, `1234.5`,
/// `12 500 €`) into cents, with the rule the import of a sheet uses (one
/// home: `vigie_alerting_domain::grants::import::parse_euros`).
///
/// # Errors
/// A French message for anything else (empty, negative amounts, more than
/// two decimals, letters).
pub fn parse_euros(text: &str) -> Result<i64, String> {
    vigie_alerting_domain::grants::import::parse_euros(text, "montant")?
        .ok_or_else(|| "montant manquant : attendu des euros, par exemple 20000 ou 1234,50".to_owned())
}

/// Cents in euros the French way: `153 001 €`, `1 234,50 €` (narrow
/// no-break spaces between thousands, a no-break space before the sign).
pub fn euros_fr(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let cents = cents.unsigned_abs();
    let digits = (cents / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push('\u{202f}');
        }
        grouped.push(c);
    }
    match cents % 100 {
        0 => format!("{sign}{grouped}\u{a0}€"),
        rest => format!("{sign}{grouped},{rest:02}\u{a0}€"),
    }
}

/// Cents as a plain decimal number of euros (`153001.00`), for CSV and JSON.
fn euros_plain(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, (cents % 100).abs())
}

fn stage_label(stage: &str, lang: Lang) -> &str {
    match (stage, lang) {
        ("applied", Lang::Fr) => "déposée",
        ("won", Lang::Fr) => "obtenue",
        ("refused", Lang::Fr) => "refusée",
        ("applied", Lang::En) => "applied",
        ("won", Lang::En) => "won",
        ("refused", Lang::En) => "refused",
        (other, _) => other,
    }
}

/// `vigie grants list [--structure ID | --network NET]`: the pipeline.
///
/// # Errors
/// An unknown structure, an unreachable server.
pub async fn list(
    endpoint: &str,
    structure: Option<&str>,
    network: Option<&str>,
    format: Format,
    lang: Lang,
) -> anyhow::Result<()> {
    let response = client(endpoint, lang)
        .await?
        .list_grants(pb::ListGrantsRequest {
            structure_id: structure.unwrap_or_default().to_owned(),
            network: network.unwrap_or_default().to_owned(),
        })
        .await
        .map_err(|s| status_error(s, lang))?
        .into_inner();
    let pipeline = response.pipeline.unwrap_or_default();
    let mut out = std::io::stdout().lock();
    match format {
        Format::Json => {
            let grants: Vec<_> = response
                .grants
                .iter()
                .map(|g| {
                    json!({"grant_id": g.grant_id, "structure_id": g.structure_id, "call_id": g.call_id,
                           "funder": g.funder, "title": g.title, "stage": g.stage,
                           "applied_on": date_text(g.applied_on.as_ref()),
                           "amount_asked_cents": g.amount_asked_cents,
                           "decided_on": date_text(g.decided_on.as_ref()),
                           "amount_granted_cents": g.amount_granted_cents,
                           "financial_year_end": date_text(g.financial_year_end.as_ref()),
                           "agreement_start": date_text(g.agreement_start.as_ref()),
                           "agreement_end": date_text(g.agreement_end.as_ref()),
                           "reference": g.reference, "purpose": g.purpose, "public_subsidy": g.public_subsidy})
                })
                .collect();
            let value = json!({
                "grants": grants,
                "pipeline": {"applied": pipeline.applied, "pending": pipeline.pending, "won": pipeline.won,
                             "refused": pipeline.refused, "amount_asked_cents": pipeline.amount_asked_cents,
                             "amount_granted_cents": pipeline.amount_granted_cents},
            });
            serde_json::to_writer_pretty(&mut out, &value)?;
            writeln!(out)?;
        }
        Format::Csv => {
            let mut writer = vigie_csv_out::Writer::from_writer(&mut out);
            writer.write_record([
                "grant_id",
                "structure_id",
                "call_id",
                "funder",
                "title",
                "stage",
                "applied_on",
                "amount_asked",
                "decided_on",
                "amount_granted",
                "financial_year_end",
                "agreement_start",
                "agreement_end",
                "reference",
                "public_subsidy",
            ])?;
            for g in &response.grants {
                writer.write_record([
                    g.grant_id.clone(),
                    g.structure_id.clone(),
                    g.call_id.clone(),
                    g.funder.clone(),
                    g.title.clone(),
                    g.stage.clone(),
                    date_text(g.applied_on.as_ref()),
                    euros_plain(g.amount_asked_cents),
                    date_text(g.decided_on.as_ref()),
                    euros_plain(g.amount_granted_cents),
                    date_text(g.financial_year_end.as_ref()),
                    date_text(g.agreement_start.as_ref()),
                    date_text(g.agreement_end.as_ref()),
                    g.reference.clone(),
                    g.public_subsidy.to_string(),
                ])?;
            }
            writer.flush()?;
        }
        Format::Table => {
            let header = match lang {
                Lang::Fr => [
                    "structure",
                    "financeur",
                    "intitulé",
                    "étape",
                    "demandé",
                    "accordé",
                    "fin d'exercice",
                    "subvention",
                ],
                Lang::En => [
                    "structure",
                    "funder",
                    "title",
                    "stage",
                    "asked",
                    "granted",
                    "year end",
                    "grant",
                ],
            };
            let mut table = Table::new(&header, &[false, false, false, false, true, true, false, false]);
            for g in &response.grants {
                table.row(vec![
                    g.structure_id.clone(),
                    g.funder.clone(),
                    g.title.clone(),
                    stage_label(&g.stage, lang).to_owned(),
                    euros_fr(g.amount_asked_cents),
                    euros_fr(g.amount_granted_cents),
                    date_text(g.financial_year_end.as_ref()),
                    g.grant_id.clone(),
                ]);
            }
            table.write(&mut out)?;
            match lang {
                Lang::Fr => writeln!(
                    out,
                    "\n{} candidature(s) : {} en attente, {} obtenue(s), {} refusée(s) ; demandé {}, accordé {}.",
                    pipeline.applied,
                    pipeline.pending,
                    pipeline.won,
                    pipeline.refused,
                    euros_fr(pipeline.amount_asked_cents),
                    euros_fr(pipeline.amount_granted_cents)
                )?,
                Lang::En => writeln!(
                    out,
                    "\n{} application(s): {} pending, {} won, {} refused; asked {}, granted {}.",
                    pipeline.applied,
                    pipeline.pending,
                    pipeline.won,
                    pipeline.refused,
                    euros_fr(pipeline.amount_asked_cents),
                    euros_fr(pipeline.amount_granted_cents)
                )?,
            }
        }
    }
    Ok(())
}

/// What `vigie grants record` records.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordArgs {
    /// The structure.
    pub structure: String,
    /// Who pays.
    pub funder: String,
    /// What for.
    pub title: String,
    /// Cents granted.
    pub amount_cents: i64,
    /// Date of the decision.
    pub granted_on: NaiveDate,
    /// Last day of the financial year granted for.
    pub financial_year_end: NaiveDate,
    /// The call applied to.
    pub call: Option<String>,
    /// A multi-year agreement's first day.
    pub agreement_start: Option<NaiveDate>,
    /// Its last day.
    pub agreement_end: Option<NaiveDate>,
    /// The agreement's reference.
    pub reference: Option<String>,
    /// The purpose.
    pub purpose: Option<String>,
    /// Not a public subsidy.
    pub private: bool,
    /// Idempotency key (`--key`): the same key again for the structure
    /// returns the grant first recorded with it. None when absent: the CLI
    /// derives none (docs/cli.md).
    pub key: Option<String>,
}

/// `vigie grants record …`: a grant won (the call's application, if any,
/// becomes won).
///
/// # Errors
/// An invalid field (named by the server), an unknown structure or call, an
/// unreachable server.
pub async fn record(endpoint: &str, args: &RecordArgs, format: Format, lang: Lang) -> anyhow::Result<()> {
    let grant = client(endpoint, lang)
        .await?
        .record_grant(pb::RecordGrantRequest {
            structure_id: args.structure.clone(),
            call_id: args.call.clone().unwrap_or_default(),
            funder: args.funder.clone(),
            title: args.title.clone(),
            outcome: "won".to_owned(),
            amount_granted_cents: args.amount_cents,
            decided_on: Some(pb_date(args.granted_on)),
            financial_year_end: Some(pb_date(args.financial_year_end)),
            agreement_start: args.agreement_start.map(pb_date),
            agreement_end: args.agreement_end.map(pb_date),
            reference: args.reference.clone().unwrap_or_default(),
            purpose: args.purpose.clone().unwrap_or_default(),
            public_subsidy: Some(!args.private),
            idempotency_key: args.key.clone().unwrap_or_default(),
            ..Default::default()
        })
        .await
        .map_err(|s| status_error(s, lang))?
        .into_inner();
    match format {
        Format::Json => {
            let mut out = std::io::stdout().lock();
            serde_json::to_writer_pretty(
                &mut out,
                &json!({"grant_id": grant.grant_id, "structure_id": grant.structure_id, "stage": grant.stage,
                        "amount_granted_cents": grant.amount_granted_cents}),
            )?;
            writeln!(out)?;
        }
        Format::Csv => println!("grant_id\n{}", grant.grant_id),
        Format::Table => match lang {
            Lang::Fr => println!(
                "Subvention {} enregistrée : {}, {} — {} accordés, exercice clos le {}. Ses obligations : vigie grants obligations --structure {}",
                grant.grant_id,
                grant.funder,
                grant.title,
                euros_fr(grant.amount_granted_cents),
                date_text(grant.financial_year_end.as_ref()),
                grant.structure_id
            ),
            Lang::En => println!(
                "Grant {} recorded: {}, {} — {} granted, financial year ending {}. Its duties: vigie grants obligations --structure {}",
                grant.grant_id,
                grant.funder,
                grant.title,
                euros_fr(grant.amount_granted_cents),
                date_text(grant.financial_year_end.as_ref()),
                grant.structure_id
            ),
        },
    }
    Ok(())
}

/// `vigie grants obligations [--structure ID | --network NET]`: the
/// reporting duties, soonest first, each with its `due` date, its `rule`
/// and its internal `draft` date.
///
/// # Errors
/// An unknown structure, an unreachable server.
pub async fn obligations(
    endpoint: &str,
    structure: Option<&str>,
    network: Option<&str>,
    format: Format,
    lang: Lang,
) -> anyhow::Result<()> {
    let response = client(endpoint, lang)
        .await?
        .list_obligations(pb::ListObligationsRequest {
            structure_id: structure.unwrap_or_default().to_owned(),
            network: network.unwrap_or_default().to_owned(),
        })
        .await
        .map_err(|s| status_error(s, lang))?
        .into_inner();
    let mut out = std::io::stdout().lock();
    match format {
        Format::Json => {
            let values: Vec<_> = response
                .obligations
                .iter()
                .map(|o| {
                    json!({"due": date_text(o.due.as_ref()), "rule": o.rule, "draft": date_text(o.draft.as_ref()),
                           "duty": o.duty, "source": o.source, "structure_id": o.structure_id,
                           "grant_id": o.grant_id, "funder": o.funder, "title": o.title,
                           "year_end": date_text(o.year_end.as_ref()), "edited": o.edited, "label": o.label,
                           "key": o.key})
                })
                .collect();
            serde_json::to_writer_pretty(&mut out, &values)?;
            writeln!(out)?;
        }
        Format::Csv => {
            let mut writer = vigie_csv_out::Writer::from_writer(&mut out);
            writer.write_record([
                "due",
                "rule",
                "draft",
                "duty",
                "structure_id",
                "grant_id",
                "funder",
                "title",
                "year_end",
                "edited",
                "label",
                "source",
                "key",
            ])?;
            for o in &response.obligations {
                writer.write_record([
                    date_text(o.due.as_ref()),
                    o.rule.clone(),
                    date_text(o.draft.as_ref()),
                    o.duty.clone(),
                    o.structure_id.clone(),
                    o.grant_id.clone(),
                    o.funder.clone(),
                    o.title.clone(),
                    date_text(o.year_end.as_ref()),
                    o.edited.to_string(),
                    o.label.clone(),
                    o.source.clone(),
                    o.key.clone(),
                ])?;
            }
            writer.flush()?;
        }
        Format::Table => {
            let header = match lang {
                Lang::Fr => [
                    "due (échéance)",
                    "draft (brouillon)",
                    "rule (règle)",
                    "obligation",
                    "structure",
                    "financeur",
                    "intitulé",
                ],
                Lang::En => ["due", "draft", "rule", "duty", "structure", "funder", "title"],
            };
            let mut table = Table::new(&header, &[false; 7]);
            for o in &response.obligations {
                let mut duty = o.duty.clone();
                if !o.label.is_empty() {
                    duty = format!("{duty} : {}", o.label);
                }
                if o.edited {
                    duty.push_str(match lang {
                        Lang::Fr => " (date de la convention)",
                        Lang::En => " (date of the agreement)",
                    });
                }
                table.row(vec![
                    date_text(o.due.as_ref()),
                    date_text(o.draft.as_ref()),
                    o.rule.clone(),
                    duty,
                    o.structure_id.clone(),
                    o.funder.clone(),
                    o.title.clone(),
                ]);
            }
            table.write(&mut out)?;
        }
    }
    Ok(())
}

/// `vigie grants set-date --structure ID (--obligation KEY | --grant G --label TEXT) --due DATE`:
/// a date written in the agreement, which wins over the derived one.
///
/// # Errors
/// An unknown structure, obligation or grant, an invalid date, an
/// unreachable server.
pub async fn set_date(
    endpoint: &str,
    structure: &str,
    obligation: Option<&str>,
    grant: Option<&str>,
    due: NaiveDate,
    label: Option<&str>,
    lang: Lang,
) -> anyhow::Result<()> {
    let o = client(endpoint, lang)
        .await?
        .set_agreement_date(pb::SetAgreementDateRequest {
            structure_id: structure.to_owned(),
            obligation_key: obligation.unwrap_or_default().to_owned(),
            grant_id: grant.unwrap_or_default().to_owned(),
            due: Some(pb_date(due)),
            label: label.unwrap_or_default().to_owned(),
        })
        .await
        .map_err(|s| status_error(s, lang))?
        .into_inner();
    match lang {
        Lang::Fr => println!(
            "Date de la convention enregistrée : {} — échéance {}, brouillon interne {} ({}).",
            o.duty,
            date_text(o.due.as_ref()),
            date_text(o.draft.as_ref()),
            o.key
        ),
        Lang::En => println!(
            "Date of the agreement recorded: {} — due {}, internal draft {} ({}).",
            o.duty,
            date_text(o.due.as_ref()),
            date_text(o.draft.as_ref()),
            o.key
        ),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn euros_parse_the_french_way() {
        assert_eq!(parse_euros("20000"), Ok(2_000_000));
        assert_eq!(parse_euros("20 000"), Ok(2_000_000));
        assert_eq!(parse_euros("1234,50"), Ok(123_450));
        assert_eq!(parse_euros("1234.5"), Ok(123_450));
        assert_eq!(parse_euros("153 001 €"), Ok(15_300_100));
        for bad in ["", "-5", "12,345", "douze", "1,2,3", ",5"] {
            assert!(parse_euros(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn euros_print_the_french_way() {
        assert_eq!(euros_fr(15_300_100), "153\u{202f}001\u{a0}€");
        assert_eq!(euros_fr(123_450), "1\u{202f}234,50\u{a0}€");
        assert_eq!(euros_fr(0), "0\u{a0}€");
        assert_eq!(euros_fr(100_000), "1\u{202f}000\u{a0}€");
        assert_eq!(euros_plain(123_405), "1234.05");
    }
}
