//! `vigie grants …`: a structure's applications and grants, and the
//! reporting duties they bring (issue 16, docs/grants.md), through the
//! alerting service.

use std::io::Write;

use chrono::NaiveDate;
use serde_json::{json, Value};
use vigie_proto::alerting::v1 as pb;
use vigie_proto::alerting::v1::alerting_service_client::AlertingServiceClient;
use vigie_proto::dates::{date_text, date_to_pb};

use super::{connect, Answered};
use crate::cli::{Format, GrantRecordArgs, GrantsCommand, GrantsScope};
use crate::i18n::Lang;
use crate::output::Listing;

/// Runs a `vigie grants` command.
///
/// # Errors
/// What the command failed on, in words for people.
pub async fn run(command: GrantsCommand, lang: Lang) -> anyhow::Result<()> {
    match command {
        GrantsCommand::List { scope, format, client } => list(&client.endpoint, &scope, format, lang).await,
        GrantsCommand::Record { grant, format, client } => record(&client.endpoint, &grant, format, lang).await,
        GrantsCommand::SetDate {
            structure,
            obligation,
            grant,
            due,
            label,
            client,
        } => {
            set_date(
                &client.endpoint,
                &structure,
                obligation.as_deref(),
                grant.as_deref(),
                due,
                label.as_deref(),
                lang,
            )
            .await
        }
        GrantsCommand::Ack {
            structure,
            key,
            undo,
            client,
        } => ack(&client.endpoint, &structure, &key, undo, lang).await,
        GrantsCommand::Obligations { scope, format, client } => {
            obligations(&client.endpoint, &scope, format, lang).await
        }
        GrantsCommand::Stats {
            network,
            format,
            client,
        } => stats(&client.endpoint, network.as_deref(), format, lang).await,
        // Issue 16, import of grants.
        GrantsCommand::Import {
            file,
            dry_run,
            network,
            client,
        } => super::grants_import::import(&client.endpoint, &file, dry_run, network.as_deref(), lang).await,
        GrantsCommand::Template { out } => super::grants_import::template(&out, lang),
    }
}

async fn client(endpoint: &str, lang: Lang) -> anyhow::Result<AlertingServiceClient<super::Channel>> {
    Ok(super::sized!(AlertingServiceClient::new(
        connect(endpoint, lang).await?
    )))
}

/// Parses an amount in euros (`20000`, `20 000`, `1234,50`, `1234.5`,
/// `12 500 €`) into cents, with the rule the import of a sheet uses (one
/// home: `vigie_grants_sheet::import::parse_euros`).
///
/// # Errors
/// A French message for anything else (empty, negative amounts, more than
/// two decimals, letters): clap shows it before the reader's language is
/// known.
pub fn parse_euros(text: &str) -> Result<i64, String> {
    vigie_grants_sheet::import::parse_euros(text, vigie_grants_sheet::validate::field::AMOUNT)
        .map_err(|words| words.fr)?
        .ok_or_else(|| "montant manquant : attendu des euros, par exemple 20000 ou 1234,50".to_owned())
}

/// Cents in euros the French way: `153 001 €`, `1 234,50 €`.
pub fn euros_fr(cents: i64) -> String {
    vigie_grants_sheet::import::euros_fr(cents)
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
pub async fn list(endpoint: &str, scope: &GrantsScope, format: Format, lang: Lang) -> anyhow::Result<()> {
    let response = client(endpoint, lang)
        .await?
        .list_grants(pb::ListGrantsRequest {
            structure_id: scope.structure.clone().unwrap_or_default(),
            network: scope.network.clone().unwrap_or_default(),
        })
        .await
        .answered(lang)?;
    let pipeline = response.pipeline.unwrap_or_default();
    let grants = Listing::<pb::Grant>::new()
        .data("grant_id", |g| g.grant_id.clone())
        .column("structure_id", ("structure", "structure"), |g| g.structure_id.clone())
        .data("call_id", |g| g.call_id.clone())
        .column("funder", ("financeur", "funder"), |g| g.funder.clone())
        .column("title", ("intitulé", "title"), |g| g.title.clone())
        .column("stage", ("étape", "stage"), |g| g.stage.clone())
        .showing(|g| stage_label(&g.stage, lang).to_owned())
        .data("applied_on", |g| date_text(g.applied_on.as_ref()))
        .json("amount_asked_cents", |g| g.amount_asked_cents)
        .csv("amount_asked", |g| euros_plain(g.amount_asked_cents))
        .shown(("demandé", "asked"), |g| euros_fr(g.amount_asked_cents))
        .right()
        .data("decided_on", |g| date_text(g.decided_on.as_ref()))
        .json("amount_granted_cents", |g| g.amount_granted_cents)
        .csv("amount_granted", |g| euros_plain(g.amount_granted_cents))
        .shown(("accordé", "granted"), |g| euros_fr(g.amount_granted_cents))
        .right()
        .column("financial_year_end", ("fin d'exercice", "year end"), |g| {
            date_text(g.financial_year_end.as_ref())
        })
        .data("agreement_start", |g| date_text(g.agreement_start.as_ref()))
        .data("agreement_end", |g| date_text(g.agreement_end.as_ref()))
        .data("reference", |g| g.reference.clone())
        .json("purpose", |g| g.purpose.clone())
        .data("public_subsidy", |g| g.public_subsidy)
        .shown(("subvention", "grant"), |g| g.grant_id.clone());
    let mut out = std::io::stdout().lock();
    match format {
        Format::Json => {
            let value = json!({
                "grants": grants.json_array(&response.grants),
                "pipeline": pipeline_json(&pipeline),
            });
            serde_json::to_writer_pretty(&mut out, &value)?;
            writeln!(out)?;
        }
        Format::Csv => grants.write_csv(&response.grants, &mut out)?,
        Format::Table => {
            grants.table(&response.grants, lang).write(&mut out)?;
            write_pipeline_sentence(&mut out, &pipeline, lang)?;
        }
    }
    Ok(())
}

/// `vigie grants record …`: a grant won (the call's application, if any,
/// becomes won).
///
/// # Errors
/// An invalid field (named by the server), an unknown structure or call, an
/// unreachable server.
pub async fn record(endpoint: &str, args: &GrantRecordArgs, format: Format, lang: Lang) -> anyhow::Result<()> {
    let grant = client(endpoint, lang)
        .await?
        .record_grant(pb::RecordGrantRequest {
            structure_id: args.structure.clone(),
            call_id: args.call.clone().unwrap_or_default(),
            funder: args.funder.clone(),
            title: args.title.clone(),
            outcome: "won".to_owned(),
            amount_granted_cents: args.amount,
            decided_on: Some(date_to_pb(args.granted_on)),
            financial_year_end: Some(date_to_pb(args.financial_year_end)),
            agreement_start: args.agreement_start.map(date_to_pb),
            agreement_end: args.agreement_end.map(date_to_pb),
            reference: args.reference.clone().unwrap_or_default(),
            purpose: args.purpose.clone().unwrap_or_default(),
            public_subsidy: Some(!args.private),
            idempotency_key: args.key.clone().unwrap_or_default(),
            ..Default::default()
        })
        .await
        .answered(lang)?;
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
pub async fn obligations(endpoint: &str, scope: &GrantsScope, format: Format, lang: Lang) -> anyhow::Result<()> {
    let response = client(endpoint, lang)
        .await?
        .list_obligations(pb::ListObligationsRequest {
            structure_id: scope.structure.clone().unwrap_or_default(),
            network: scope.network.clone().unwrap_or_default(),
        })
        .await
        .answered(lang)?;
    Listing::<pb::Obligation>::new()
        .column("due", ("due (échéance)", "due"), |o| date_text(o.due.as_ref()))
        .data("rule", |o| o.rule.clone())
        .column("draft", ("draft (brouillon)", "draft"), |o| date_text(o.draft.as_ref()))
        .shown(("rule (règle)", "rule"), |o| o.rule.clone())
        .column("duty", ("obligation", "duty"), |o| o.duty.clone())
        .showing(|o| duty_text(o, lang))
        .column("structure_id", ("structure", "structure"), |o| o.structure_id.clone())
        .data("grant_id", |o| o.grant_id.clone())
        .column("funder", ("financeur", "funder"), |o| o.funder.clone())
        .column("title", ("intitulé", "title"), |o| o.title.clone())
        .data("year_end", |o| date_text(o.year_end.as_ref()))
        .data("edited", |o| o.edited)
        .data("label", |o| o.label.clone())
        .data("source", |o| o.source.clone())
        .data("key", |o| o.key.clone())
        .json("status", |o| o.status.clone())
        .json("sent_on", |o| date_text(o.sent_on.as_ref()))
        .json("reporting_holders", |o| o.reporting_holders)
        .write(&response.obligations, format, lang, &mut std::io::stdout().lock())
}

/// A duty in words for the table: its code, its label, and whether the
/// agreement set its date.
fn duty_text(o: &pb::Obligation, lang: Lang) -> String {
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
    duty
}

/// Why a duty is at risk, in words.
fn reason_label(reason: &str, lang: Lang) -> &str {
    match (reason, lang) {
        ("orphan", Lang::Fr) => "personne ne s'en charge",
        ("spof", Lang::Fr) => "une seule personne",
        ("holders_leaving", Lang::Fr) => "départ avant l'échéance",
        ("orphan", Lang::En) => "nobody holds it",
        ("spof", Lang::En) => "one person only",
        ("holders_leaving", Lang::En) => "holders leave before the date",
        (other, _) => other,
    }
}

/// A success rate in per mille as a percentage with one decimal
/// (`66,7 %`, `66.7 %`), « — » while nothing is decided.
fn rate_text(per_mille: Option<u32>, lang: Lang) -> String {
    match per_mille {
        None => "—".to_owned(),
        Some(r) => {
            let sep = match lang {
                Lang::Fr => ',',
                Lang::En => '.',
            };
            format!("{}{sep}{}\u{a0}%", r / 10, r % 10)
        }
    }
}

/// `vigie grants stats [--network NET]`: the views of a network's grants
/// (its admins), or of the whole instance (federation admins): pipeline,
/// record by funder and programme with the success rate, duties at risk
/// this fortnight.
///
/// # Errors
/// A network out of reach, an unreachable server.
pub async fn stats(endpoint: &str, network: Option<&str>, format: Format, lang: Lang) -> anyhow::Result<()> {
    let response = client(endpoint, lang)
        .await?
        .grant_stats(pb::GrantStatsRequest {
            network: network.unwrap_or_default().to_owned(),
        })
        .await
        .answered(lang)?;
    let total = response.pipeline.unwrap_or_default();
    let mut out = std::io::stdout().lock();
    let by_funder = by_funder_listing(lang);
    let at_risk = at_risk_listing(lang);
    match format {
        Format::Json => {
            let value = json!({"pipeline": pipeline_json(&total),
                               "by_funder": by_funder.json_array(&response.by_funder),
                               "at_risk": at_risk.json_array(&response.at_risk)});
            serde_json::to_writer_pretty(&mut out, &value)?;
            writeln!(out)?;
        }
        Format::Csv => {
            // One sheet: a `section` column tells the whole (`total`), the
            // funders' rows (`funder`) and the duties at risk (`at_risk`).
            let mut writer = vigie_csv_out::Writer::from_writer(&mut out);
            writer.write_record([
                "section",
                "funder",
                "programme",
                "applied",
                "pending",
                "won",
                "refused",
                "amount_asked",
                "amount_granted",
                "success_rate_per_mille",
                "structure_id",
                "structure_name",
                "due",
                "rule",
                "reason",
                "key",
            ])?;
            let counts = |section: &str, funder: &str, programme: &str, p: &pb::Pipeline, rate: Option<u32>| {
                vec![
                    section.to_owned(),
                    funder.to_owned(),
                    programme.to_owned(),
                    p.applied.to_string(),
                    p.pending.to_string(),
                    p.won.to_string(),
                    p.refused.to_string(),
                    euros_plain(p.amount_asked_cents),
                    euros_plain(p.amount_granted_cents),
                    rate.map(|r| r.to_string()).unwrap_or_default(),
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                ]
            };
            // The service gives rates by funder and programme only.
            writer.write_record(counts("total", "", "", &total, None))?;
            for f in &response.by_funder {
                writer.write_record(counts(
                    "funder",
                    &f.funder,
                    &f.programme,
                    &f.pipeline.unwrap_or_default(),
                    f.success_rate_per_mille,
                ))?;
            }
            for r in &response.at_risk {
                let o = r.obligation.clone().unwrap_or_default();
                let mut row = vec![String::new(); 16];
                row[0] = "at_risk".to_owned();
                row[1] = o.funder.clone();
                row[2] = o.title.clone();
                row[10] = o.structure_id.clone();
                row[11] = r.structure_name.clone();
                row[12] = date_text(o.due.as_ref());
                row[13] = o.rule.clone();
                row[14] = r.reason.clone();
                row[15] = o.key.clone();
                writer.write_record(row)?;
            }
            writer.flush()?;
        }
        Format::Table => {
            by_funder.table(&response.by_funder, lang).write(&mut out)?;
            write_pipeline_sentence(&mut out, &total, lang)?;
            if response.at_risk.is_empty() {
                writeln!(
                    out,
                    "{}",
                    match lang {
                        Lang::Fr => "Aucune obligation à risque cette quinzaine.",
                        Lang::En => "No duty at risk this fortnight.",
                    }
                )?;
            } else {
                writeln!(
                    out,
                    "\n{}",
                    match lang {
                        Lang::Fr => "Obligations à risque cette quinzaine :",
                        Lang::En => "Duties at risk this fortnight:",
                    }
                )?;
                at_risk.table(&response.at_risk, lang).write(&mut out)?;
            }
        }
    }
    Ok(())
}

/// The sentence under the tables of `grants list` and `grants stats`: a
/// pipeline's counts and amounts, in words.
fn write_pipeline_sentence(out: &mut impl Write, p: &pb::Pipeline, lang: Lang) -> std::io::Result<()> {
    let (asked, granted) = (euros_fr(p.amount_asked_cents), euros_fr(p.amount_granted_cents));
    let sentence = vigie_platform::words!(
        "{} candidature(s) : {} en attente, {} obtenue(s), {} refusée(s) ; demandé {asked}, accordé {granted}.",
        "{} application(s): {} pending, {} won, {} refused; asked {asked}, granted {granted}.",
        p.applied,
        p.pending,
        p.won,
        p.refused
    );
    writeln!(out, "\n{}", sentence.in_lang(lang))
}

/// A pipeline's counts and amounts for scripts.
fn pipeline_json(p: &pb::Pipeline) -> Value {
    json!({"applied": p.applied, "pending": p.pending, "won": p.won, "refused": p.refused,
           "amount_asked_cents": p.amount_asked_cents, "amount_granted_cents": p.amount_granted_cents})
}

/// The record by funder and programme of `grants stats` (JSON and table; the
/// CSV sheet is written with the other sections).
fn by_funder_listing<'a>(lang: Lang) -> Listing<'a, pb::FunderStats> {
    let p = |f: &pb::FunderStats| f.pipeline.unwrap_or_default();
    Listing::<pb::FunderStats>::new()
        .column("funder", ("financeur", "funder"), |f| f.funder.clone())
        .column("programme", ("programme", "programme"), |f| f.programme.clone())
        .json("pipeline", move |f| pipeline_json(&p(f)))
        .shown(("dossiers", "applications"), move |f| p(f).applied.to_string())
        .right()
        .shown(("en attente", "pending"), move |f| p(f).pending.to_string())
        .right()
        .shown(("obtenus", "won"), move |f| p(f).won.to_string())
        .right()
        .shown(("refusés", "refused"), move |f| p(f).refused.to_string())
        .right()
        .json("success_rate_per_mille", |f| f.success_rate_per_mille)
        .shown(("taux de réussite", "success rate"), move |f| {
            rate_text(f.success_rate_per_mille, lang)
        })
        .right()
        .shown(("demandé", "asked"), move |f| euros_fr(p(f).amount_asked_cents))
        .right()
        .shown(("accordé", "granted"), move |f| euros_fr(p(f).amount_granted_cents))
        .right()
}

/// The duties at risk this fortnight of `grants stats` (JSON and table).
fn at_risk_listing<'a>(lang: Lang) -> Listing<'a, pb::DutyAtRisk> {
    let o = |r: &pb::DutyAtRisk| r.obligation.clone().unwrap_or_default();
    Listing::<pb::DutyAtRisk>::new()
        .column("due", ("échéance", "due"), move |r| date_text(o(r).due.as_ref()))
        .json("structure_id", move |r| o(r).structure_id)
        .json("structure_name", |r| r.structure_name.clone())
        .shown(("structure", "structure"), move |r| {
            format!("{} ({})", r.structure_name, o(r).structure_id)
        })
        .column("duty", ("obligation", "duty"), move |r| o(r).duty)
        .column("funder", ("financeur", "funder"), move |r| o(r).funder)
        .column("reason", ("pourquoi", "why"), |r| r.reason.clone())
        .showing(move |r| reason_label(&r.reason, lang).to_owned())
        .json("draft", move |r| date_text(o(r).draft.as_ref()))
        .json("rule", move |r| o(r).rule)
        .json("title", move |r| o(r).title)
        .json("reporting_holders", move |r| o(r).reporting_holders)
        .json("key", move |r| o(r).key)
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
            due: Some(date_to_pb(due)),
            label: label.unwrap_or_default().to_owned(),
        })
        .await
        .answered(lang)?;
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

/// `vigie grants ack --structure ID --key KEY [--undo]`: the duty « envoyé »
/// to its funder (no more reminders), or taken back.
///
/// # Errors
/// An unknown structure or obligation, an unreachable server.
pub async fn ack(endpoint: &str, structure: &str, key: &str, undo: bool, lang: Lang) -> anyhow::Result<()> {
    let o = client(endpoint, lang)
        .await?
        .acknowledge_obligation(pb::AcknowledgeObligationRequest {
            structure_id: structure.to_owned(),
            obligation_key: key.to_owned(),
            status: if undo { String::new() } else { "sent".to_owned() },
        })
        .await
        .answered(lang)?;
    let due = date_text(o.due.as_ref());
    match (lang, undo) {
        (Lang::Fr, false) => println!(
            "« Envoyé » enregistré : {} ({due}) — plus de rappel ({}).",
            o.duty, o.key
        ),
        (Lang::Fr, true) => println!(
            "« Envoyé » annulé : {} ({due}) — les rappels reprennent ({}).",
            o.duty, o.key
        ),
        (Lang::En, false) => println!("Recorded as sent: {} ({due}) — no more reminders ({}).", o.duty, o.key),
        (Lang::En, true) => println!("Sent taken back: {} ({due}) — reminders resume ({}).", o.duty, o.key),
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
    fn rates_and_reasons_read_in_words() {
        assert_eq!(rate_text(None, Lang::Fr), "—");
        assert_eq!(rate_text(Some(667), Lang::Fr), "66,7\u{a0}%");
        assert_eq!(rate_text(Some(1000), Lang::En), "100.0\u{a0}%");
        assert_eq!(reason_label("spof", Lang::Fr), "une seule personne");
        assert_eq!(reason_label("orphan", Lang::En), "nobody holds it");
        assert_eq!(reason_label("autre", Lang::Fr), "autre");
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
