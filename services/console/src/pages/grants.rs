//! « Subventions » (issue 16, docs/grants.md « Views »): the grants section
//! of « Ma structure » — pipeline, grants, next reporting duties with their
//! « envoyé » button (`AcknowledgeObligation`), and the two forms that
//! record an application (`RecordApplication`) and a decision
//! (`RecordGrant`) — and the grants views of the network and
//! federation pages (`GrantStats`). Every call carries the person's token:
//! the services decide who may see and record what.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::Response;
use chrono::NaiveDate;
use vigie_proto::alerting::v1::{
    AcknowledgeObligationRequest, GrantStatsResponse, ListGrantsResponse, Obligation, Pipeline,
    RecordApplicationRequest, RecordGrantRequest,
};
use vigie_proto::dates::{date_from_pb, date_to_pb};

use super::error_page;
use super::forms::{done, form_answer, FormAnswer, SignedInForm};
use super::structure::{show_again, Forms};
use crate::dates;
use crate::error::PageError;
use crate::lang::Lang;
use crate::money::{euros, parse_euros};
use crate::Console;

/// Next duties shown on « Ma structure » (the CLI lists them all).
const SHOWN_DUTIES: usize = 8;
/// Longest funder or title accepted by the service (checked here first so
/// that the message is tied to its field).
const MAX_TITLE_CHARS: usize = 300;

/// Counts and amounts in words.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PipelineView {
    pub applied: u64,
    pub pending: u64,
    pub won: u64,
    pub refused: u64,
    pub asked: String,
    pub granted: String,
}

/// One application or grant of the structure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantLine {
    pub funder: String,
    pub title: String,
    pub stage: &'static str,
    pub asked: String,
    pub granted: String,
}

/// A reporting duty to come.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DutyLine {
    /// The obligation's stable key, sent back by its « envoyé » form.
    pub key: String,
    /// « 30 juin 2027 (dans 177 jours) ».
    pub due: String,
    /// What is due, with its funder.
    pub duty: String,
    /// The internal draft date in words.
    pub draft: String,
    /// Marked « envoyé » to the funder: « Envoyé le 3 décembre 2026 »;
    /// `None` while not sent.
    pub sent: Option<String>,
}

/// The « Subventions » section of « Ma structure ».
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StructureGrants {
    pub pipeline: PipelineView,
    pub grants: Vec<GrantLine>,
    pub duties: Vec<DutyLine>,
    /// Duties to come beyond those shown.
    pub more_duties: usize,
    /// The applications awaiting a decision: (id, « funder — title »).
    pub pending: Vec<(String, String)>,
}

/// A funder's programme on the network or federation page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunderLine {
    pub funder: String,
    pub programme: String,
    pub applied: u64,
    pub pending: u64,
    pub won: u64,
    pub refused: u64,
    /// « 66,7 % », or « — » while nothing is decided.
    pub rate: String,
    pub asked: String,
    pub granted: String,
}

/// A duty at risk this fortnight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskLine {
    pub structure_id: String,
    pub structure_name: String,
    pub duty: String,
    pub due: String,
    pub why: &'static str,
}

/// The grants views of a network or of the whole instance.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GrantViews {
    pub pipeline: PipelineView,
    pub funders: Vec<FunderLine>,
    pub at_risk: Vec<RiskLine>,
}

/// A stage in words.
pub fn stage_words(stage: &str, lang: Lang) -> &'static str {
    match stage {
        "won" => lang.pick("obtenue", "won"),
        "refused" => lang.pick("refusée", "refused"),
        _ => lang.pick("déposée, en attente de décision", "applied, awaiting a decision"),
    }
}

/// Why a duty is at risk, in words (codes of `DutyAtRisk.reason`).
pub fn reason_words(reason: &str, lang: Lang) -> &'static str {
    match reason {
        "orphan" => lang.pick(
            "personne ne sait faire les comptes rendus aux financeurs",
            "nobody can write the reports to funders",
        ),
        "spof" => lang.pick(
            "une seule personne sait faire les comptes rendus aux financeurs",
            "one person only can write the reports to funders",
        ),
        "holders_leaving" => lang.pick(
            "les personnes qui savent le faire partent avant l'échéance",
            "the people who can do it leave before the due date",
        ),
        _ => lang.pick("à vérifier", "to check"),
    }
}

/// A rate in per mille as a percentage with one decimal.
pub fn rate_words(per_mille: Option<u32>, lang: Lang) -> String {
    match per_mille {
        None => "—".to_owned(),
        Some(r) => {
            let sep = lang.pick(",", ".");
            format!("{}{sep}{}\u{a0}%", r / 10, r % 10)
        }
    }
}

fn pipeline_view(p: Option<&Pipeline>) -> PipelineView {
    let p = p.cloned().unwrap_or_default();
    PipelineView {
        applied: p.applied,
        pending: p.pending,
        won: p.won,
        refused: p.refused,
        asked: euros(p.amount_asked_cents),
        granted: euros(p.amount_granted_cents),
    }
}

/// A duty in words: its French duty (from the service), the agreement's
/// label, and whom it goes to. Whether it was sent is said apart (its own
/// column on « Ma structure »; the duties at risk are never sent ones).
fn duty_words(o: &Obligation) -> String {
    let mut words = o.duty.clone();
    if !o.label.is_empty() {
        words = format!("{words} : {}", o.label);
    }
    if !o.funder.is_empty() {
        words = format!("{words} — {}", o.funder);
    }
    if !o.title.is_empty() {
        words = format!("{words} ({})", o.title);
    }
    words
}

/// « Envoyé le 3 décembre 2026 » for a duty marked sent, `None` otherwise.
pub fn sent_words(o: &Obligation, lang: Lang) -> Option<String> {
    (o.status == "sent").then(|| match dates::long_pb(o.sent_on.as_ref(), lang) {
        Some(on) => format!("{} {on}", lang.pick("Envoyé le", "Sent on")),
        None => lang.pick("Envoyé", "Sent").to_owned(),
    })
}

/// A date in words with how far it is: « 30 juin 2027 (dans 177 jours) ».
fn date_with_distance(date: NaiveDate, today: NaiveDate, lang: Lang) -> String {
    let days = (date - today).num_days();
    format!("{} ({})", dates::long(date, lang), dates::days_from_now(days, lang))
}

/// The « Subventions » section from the structure's grants and duties, on `today`.
pub fn structure_grants(
    grants: &ListGrantsResponse,
    obligations: &[Obligation],
    today: NaiveDate,
    lang: Lang,
) -> StructureGrants {
    let lines = grants
        .grants
        .iter()
        .map(|g| GrantLine {
            funder: g.funder.clone(),
            title: g.title.clone(),
            stage: stage_words(&g.stage, lang),
            asked: euros(g.amount_asked_cents),
            granted: if g.stage == "won" {
                euros(g.amount_granted_cents)
            } else {
                "—".to_owned()
            },
        })
        .collect();
    let pending = grants
        .grants
        .iter()
        .filter(|g| g.stage == "applied")
        .map(|g| (g.grant_id.clone(), format!("{} — {}", g.funder, g.title)))
        .collect();
    // Duties still to come (a past one is no longer « next »), soonest
    // first as the service lists them.
    let to_come: Vec<(NaiveDate, &Obligation)> = obligations
        .iter()
        .filter_map(|o| o.due.as_ref().and_then(date_from_pb).map(|due| (due, o)))
        .filter(|(due, _)| *due >= today)
        .collect();
    let duties = to_come
        .iter()
        .take(SHOWN_DUTIES)
        .map(|(due, o)| DutyLine {
            key: o.key.clone(),
            due: date_with_distance(*due, today, lang),
            duty: duty_words(o),
            draft: dates::long_pb(o.draft.as_ref(), lang).unwrap_or_default(),
            sent: sent_words(o, lang),
        })
        .collect();
    StructureGrants {
        pipeline: pipeline_view(grants.pipeline.as_ref()),
        grants: lines,
        duties,
        more_duties: to_come.len().saturating_sub(SHOWN_DUTIES),
        pending,
    }
}

/// The grants views of a network or of the instance, on `today`.
pub fn grant_views(stats: &GrantStatsResponse, today: NaiveDate, lang: Lang) -> GrantViews {
    GrantViews {
        pipeline: pipeline_view(stats.pipeline.as_ref()),
        funders: stats
            .by_funder
            .iter()
            .map(|f| {
                let p = pipeline_view(f.pipeline.as_ref());
                FunderLine {
                    funder: f.funder.clone(),
                    programme: f.programme.clone(),
                    applied: p.applied,
                    pending: p.pending,
                    won: p.won,
                    refused: p.refused,
                    rate: rate_words(f.success_rate_per_mille, lang),
                    asked: p.asked,
                    granted: p.granted,
                }
            })
            .collect(),
        at_risk: stats
            .at_risk
            .iter()
            .filter_map(|r| {
                let o = r.obligation.as_ref()?;
                let due = o.due.as_ref().and_then(date_from_pb)?;
                Some(RiskLine {
                    structure_id: o.structure_id.clone(),
                    structure_name: r.structure_name.clone(),
                    duty: duty_words(o),
                    due: date_with_distance(due, today, lang),
                    why: reason_words(&r.reason, lang),
                })
            })
            .collect(),
    }
}

/// The application form as typed, with its errors.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplicationForm {
    pub funder: String,
    pub title: String,
    pub amount: String,
    pub funder_error: Option<String>,
    pub title_error: Option<String>,
    pub amount_error: Option<String>,
    /// The service's refusal, in its words.
    pub error: Option<String>,
}

/// The decision form as typed, with its errors.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DecisionForm {
    pub grant_id: String,
    pub outcome: String,
    pub amount: String,
    pub year_end: String,
    pub grant_error: Option<String>,
    pub outcome_error: Option<String>,
    pub amount_error: Option<String>,
    pub year_end_error: Option<String>,
    /// The service's refusal, in its words.
    pub error: Option<String>,
}

/// Both forms of the section, and the refusal of an « envoyé » button.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GrantForms {
    pub application: ApplicationForm,
    pub decision: DecisionForm,
    /// Why marking a duty « envoyé » (or taking it back) was refused.
    pub duty_error: Option<String>,
}

/// Longest obligation key the service accepts (checked here first so that
/// a forged form gets a message, not a round trip).
const MAX_KEY_CHARS: usize = 300;

/// The `AcknowledgeObligation` request of an « envoyé » form: `status` is
/// `sent` (« Marquer comme envoyé ») or empty (« Annuler »).
///
/// # Errors
/// The message shown in the page for another status or a missing,
/// overlong or control-laden key.
pub fn sent_request(
    structure_id: &str,
    key: &str,
    status: &str,
    lang: Lang,
) -> Result<AcknowledgeObligationRequest, String> {
    if status != "sent" && !status.is_empty() {
        return Err(lang
            .pick(
                "état inconnu : « envoyé » ou rien. Rien n'a été enregistré.",
                "unknown state: “sent” or nothing. Nothing was saved.",
            )
            .to_owned());
    }
    let key = key.trim();
    if key.is_empty() || key.chars().count() > MAX_KEY_CHARS || key.chars().any(char::is_control) {
        return Err(lang
            .pick(
                "compte rendu inconnu : rechargez la page puis recommencez. Rien n'a été enregistré.",
                "unknown report: reload the page, then try again. Nothing was saved.",
            )
            .to_owned());
    }
    Ok(AcknowledgeObligationRequest {
        structure_id: structure_id.to_owned(),
        obligation_key: key.to_owned(),
        status: status.to_owned(),
    })
}

fn text_error(value: &str, lang: Lang, what_fr: &str, what_en: &str) -> Option<String> {
    let count = value.trim().chars().count();
    if count == 0 {
        Some(match lang {
            Lang::Fr => format!("indiquez {what_fr}."),
            Lang::En => format!("give {what_en}."),
        })
    } else if count > MAX_TITLE_CHARS {
        Some(match lang {
            Lang::Fr => format!("{count} caractères : 300 au plus."),
            Lang::En => format!("{count} characters: 300 at most."),
        })
    } else {
        None
    }
}

fn amount_error(lang: Lang) -> String {
    lang.pick(
        "un montant en euros, par exemple 12500 ou 12 500 ou 1234,50.",
        "an amount in euros, for example 12500 or 12 500 or 1234.50.",
    )
    .to_owned()
}

impl ApplicationForm {
    /// The request, or `None` with the errors set.
    pub fn check(&mut self, structure_id: &str, lang: Lang) -> Option<RecordApplicationRequest> {
        self.funder_error = text_error(&self.funder, lang, "le financeur", "the funder");
        self.title_error = text_error(&self.title, lang, "l'intitulé du projet", "the project's title");
        let amount = if self.amount.trim().is_empty() {
            Some(0)
        } else {
            parse_euros(&self.amount)
        };
        self.amount_error = amount.is_none().then(|| amount_error(lang));
        if self.funder_error.is_some() || self.title_error.is_some() {
            return None;
        }
        Some(RecordApplicationRequest {
            structure_id: structure_id.to_owned(),
            funder: self.funder.trim().to_owned(),
            title: self.title.trim().to_owned(),
            amount_asked_cents: amount?,
            ..RecordApplicationRequest::default()
        })
    }
}

impl DecisionForm {
    /// The request, or `None` with the errors set; `pending` are the ids
    /// of the structure's applications awaiting a decision.
    pub fn check(&mut self, structure_id: &str, pending: &[String], lang: Lang) -> Option<RecordGrantRequest> {
        self.grant_error = (!pending.contains(&self.grant_id)).then(|| {
            lang.pick("choisissez la candidature décidée.", "choose the application decided.")
                .to_owned()
        });
        let won = match self.outcome.as_str() {
            "won" => Some(true),
            "refused" => Some(false),
            _ => None,
        };
        self.outcome_error = won.is_none().then(|| {
            lang.pick("choisissez obtenue ou refusée.", "choose won or refused.")
                .to_owned()
        });
        let won = won.unwrap_or(false);
        let amount = if won { parse_euros(&self.amount) } else { Some(0) };
        self.amount_error = amount.is_none().then(|| amount_error(lang));
        let year_end = if won {
            NaiveDate::parse_from_str(self.year_end.trim(), "%Y-%m-%d").ok()
        } else {
            None
        };
        self.year_end_error = (won && year_end.is_none()).then(|| {
            lang.pick(
                "la date de fin de l'exercice financé, sous la forme 2026-12-31 (année-mois-jour) : le compte rendu financier est dû six mois après.",
                "the last day of the financial year funded, as 2026-12-31 (year-month-day): the financial report is due six months later.",
            )
            .to_owned()
        });
        if self.grant_error.is_some()
            || self.outcome_error.is_some()
            || self.amount_error.is_some()
            || self.year_end_error.is_some()
        {
            return None;
        }
        Some(RecordGrantRequest {
            structure_id: structure_id.to_owned(),
            grant_id: self.grant_id.clone(),
            outcome: self.outcome.clone(),
            amount_granted_cents: amount.unwrap_or(0),
            financial_year_end: year_end.map(date_to_pb),
            ..RecordGrantRequest::default()
        })
    }
}

fn field(fields: &std::collections::HashMap<String, String>, name: &str) -> String {
    fields.get(name).cloned().unwrap_or_default()
}

/// Shows the page again with the forms as typed (422).
async fn again(
    console: &Console,
    session: &crate::session::Session,
    clients: &mut crate::services::Clients,
    id: &str,
    grants: GrantForms,
) -> Result<Response, PageError> {
    let forms = Forms {
        grants,
        ..Forms::default()
    };
    show_again(console, session, clients, id, forms).await
}

/// `POST /structures/<id>/subventions/candidature`: an application to a funder.
pub async fn record_application(
    State(console): State<Arc<Console>>,
    Path(id): Path<String>,
    form: SignedInForm,
) -> Response {
    let (session, mut clients, fields) = form.into_parts();
    let result = async {
        let lang = session.lang;
        let mut application = ApplicationForm {
            funder: field(&fields, "funder"),
            title: field(&fields, "title"),
            amount: field(&fields, "amount"),
            ..ApplicationForm::default()
        };
        let Some(request) = application.check(&id, lang) else {
            let forms = GrantForms {
                application,
                ..GrantForms::default()
            };
            return again(&console, &session, &mut clients, &id, forms).await;
        };
        let answer = clients.alerting.record_application(request).await;
        if let FormAnswer::Refused(message) = form_answer(answer, lang)? {
            // The service's message names the field, in the page's language.
            application.error = Some(message);
            let forms = GrantForms {
                application,
                ..GrantForms::default()
            };
            return again(&console, &session, &mut clients, &id, forms).await;
        }
        let message = match lang {
            Lang::Fr => format!(
                "Votre candidature auprès de {} est enregistrée : « {} », en attente de décision.",
                application.funder.trim(),
                application.title.trim()
            ),
            Lang::En => format!(
                "Your application to {} is saved: “{}”, awaiting a decision.",
                application.funder.trim(),
                application.title.trim()
            ),
        };
        done(&console, &session, message, &format!("/structures/{id}#subventions"))
    }
    .await;
    result.unwrap_or_else(|error| error_page(&console, Some(&session), &error))
}

/// `POST /structures/<id>/subventions/decision`: obtenue or refusée.
pub async fn record_decision(
    State(console): State<Arc<Console>>,
    Path(id): Path<String>,
    form: SignedInForm,
) -> Response {
    let (session, mut clients, fields) = form.into_parts();
    let result = async {
        let lang = session.lang;
        let mut decision = DecisionForm {
            grant_id: field(&fields, "grant_id"),
            outcome: field(&fields, "outcome"),
            amount: field(&fields, "amount"),
            year_end: field(&fields, "year_end"),
            ..DecisionForm::default()
        };
        // The structure's pending applications (404 when out of reach, as the page).
        let pending: Vec<String> = clients
            .alerting
            .list_grants(vigie_proto::alerting::v1::ListGrantsRequest {
                structure_id: id.clone(),
                network: String::new(),
            })
            .await?
            .into_inner()
            .grants
            .into_iter()
            .filter(|g| g.stage == "applied")
            .map(|g| g.grant_id)
            .collect();
        let Some(request) = decision.check(&id, &pending, lang) else {
            let forms = GrantForms {
                decision,
                ..GrantForms::default()
            };
            return again(&console, &session, &mut clients, &id, forms).await;
        };
        let grant = match form_answer(clients.alerting.record_grant(request).await, lang)? {
            FormAnswer::Accepted(grant) => grant,
            FormAnswer::Refused(message) => {
                decision.error = Some(message);
                let forms = GrantForms {
                    decision,
                    ..GrantForms::default()
                };
                return again(&console, &session, &mut clients, &id, forms).await;
            }
        };
        let message = match (lang, grant.stage.as_str()) {
            (Lang::Fr, "won") => format!(
                "Subvention obtenue enregistrée : {} — {}, {}. Ses obligations de compte rendu sont dans la liste.",
                grant.funder,
                grant.title,
                euros(grant.amount_granted_cents)
            ),
            (Lang::Fr, _) => format!("Refus enregistré : {} — {}.", grant.funder, grant.title),
            (Lang::En, "won") => format!(
                "Grant won saved: {} — {}, {}. Its reporting duties are in the list.",
                grant.funder,
                grant.title,
                euros(grant.amount_granted_cents)
            ),
            (Lang::En, _) => format!("Refusal saved: {} — {}.", grant.funder, grant.title),
        };
        done(&console, &session, message, &format!("/structures/{id}#subventions"))
    }
    .await;
    result.unwrap_or_else(|error| error_page(&console, Some(&session), &error))
}

/// `POST /structures/<id>/subventions/envoye`: a duty marked « envoyé » to
/// its funder (`status=sent`: no more reminders of it), or taken back
/// (`status` empty). A refusal is shown in the page (422).
pub async fn mark_sent(State(console): State<Arc<Console>>, Path(id): Path<String>, form: SignedInForm) -> Response {
    let (session, mut clients, fields) = form.into_parts();
    let result = async {
        let lang = session.lang;
        let refused = |message: String| GrantForms {
            duty_error: Some(message),
            ..GrantForms::default()
        };
        let request = match sent_request(&id, &field(&fields, "key"), &field(&fields, "status"), lang) {
            Ok(request) => request,
            Err(message) => return again(&console, &session, &mut clients, &id, refused(message)).await,
        };
        let sent = request.status == "sent";
        let duty = match form_answer(clients.alerting.acknowledge_obligation(request).await, lang)? {
            FormAnswer::Accepted(duty) => duty,
            FormAnswer::Refused(message) => {
                return again(&console, &session, &mut clients, &id, refused(message)).await;
            }
        };
        let what = duty_words(&duty);
        let message = match (lang, sent) {
            (Lang::Fr, true) => format!("Compte rendu marqué comme envoyé : {what}. Vigie n'en fera plus le rappel."),
            (Lang::Fr, false) => format!("Compte rendu de nouveau à envoyer : {what}."),
            (Lang::En, true) => format!("Report marked as sent: {what}. Vigie will no longer remind you of it."),
            (Lang::En, false) => format!("Report to send again: {what}."),
        };
        done(&console, &session, message, &format!("/structures/{id}#obligations"))
    }
    .await;
    result.unwrap_or_else(|error| error_page(&console, Some(&session), &error))
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigie_proto::alerting::v1::{DutyAtRisk, FunderStats, Grant};

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn obligation(due: NaiveDate, funder: &str) -> Obligation {
        Obligation {
            structure_id: "S1".into(),
            duty: "compte rendu financier (Cerfa n° 15059)".into(),
            funder: funder.into(),
            title: "Insertion".into(),
            due: Some(date_to_pb(due)),
            draft: Some(date_to_pb(due - chrono::Days::new(14))),
            ..Obligation::default()
        }
    }

    #[test]
    fn the_section_shows_the_pipeline_grants_and_duties_to_come_in_words() {
        let grants = ListGrantsResponse {
            grants: vec![
                Grant {
                    grant_id: "G1".into(),
                    funder: "Région Bretagne".into(),
                    title: "Insertion".into(),
                    stage: "won".into(),
                    amount_asked_cents: 1_500_000,
                    amount_granted_cents: 1_250_000,
                    ..Grant::default()
                },
                Grant {
                    grant_id: "G2".into(),
                    funder: "CAF".into(),
                    title: "Jeunesse".into(),
                    stage: "applied".into(),
                    amount_asked_cents: 300_000,
                    ..Grant::default()
                },
            ],
            pipeline: Some(Pipeline {
                applied: 2,
                pending: 1,
                won: 1,
                refused: 0,
                amount_asked_cents: 1_800_000,
                amount_granted_cents: 1_250_000,
            }),
        };
        let today = d(2027, 1, 4);
        let duties = [
            obligation(d(2027, 1, 3), "Passé"),
            obligation(d(2027, 6, 30), "Région Bretagne"),
        ];
        let view = structure_grants(&grants, &duties, today, Lang::Fr);
        assert_eq!(view.pipeline.granted, "12\u{202f}500\u{a0}€");
        assert_eq!(view.grants[0].stage, "obtenue");
        assert_eq!(view.grants[1].granted, "—");
        assert_eq!(view.pending, vec![("G2".to_owned(), "CAF — Jeunesse".to_owned())]);
        assert_eq!(view.duties.len(), 1, "a past duty is not « next »");
        assert_eq!(view.duties[0].due, "30 juin 2027 (dans 177 jours)");
        assert_eq!(view.duties[0].draft, "16 juin 2027");
        assert!(view.duties[0].duty.contains("15059") && view.duties[0].duty.contains("Région Bretagne"));
        let many: Vec<_> = (0..10).map(|i| obligation(d(2027, 2, 1 + i), "X")).collect();
        let view = structure_grants(&grants, &many, today, Lang::En);
        assert_eq!((view.duties.len(), view.more_duties), (SHOWN_DUTIES, 2));
        assert_eq!(view.grants[1].stage, "applied, awaiting a decision");
    }

    #[test]
    fn the_views_read_rates_and_reasons_in_words() {
        let stats = GrantStatsResponse {
            pipeline: None,
            by_funder: vec![
                FunderStats {
                    funder: "Région Bretagne".into(),
                    programme: "Insertion".into(),
                    pipeline: None,
                    success_rate_per_mille: Some(667),
                },
                FunderStats {
                    funder: "CAF".into(),
                    programme: "Jeunesse".into(),
                    pipeline: None,
                    success_rate_per_mille: None,
                },
            ],
            at_risk: vec![DutyAtRisk {
                obligation: Some(obligation(d(2027, 1, 10), "Région Bretagne")),
                structure_name: "Les Jardins".into(),
                reason: "spof".into(),
            }],
        };
        let views = grant_views(&stats, d(2027, 1, 4), Lang::Fr);
        assert_eq!(views.funders[0].rate, "66,7\u{a0}%");
        assert_eq!(views.funders[1].rate, "—");
        assert_eq!(views.pipeline.asked, "0\u{a0}€");
        let risk = &views.at_risk[0];
        assert_eq!(risk.due, "10 janvier 2027 (dans 6 jours)");
        assert!(risk.why.contains("une seule personne"));
        assert_eq!(
            reason_words("orphan", Lang::En),
            "nobody can write the reports to funders"
        );
        assert!(reason_words("holders_leaving", Lang::Fr).contains("partent"));
        assert_eq!(rate_words(Some(1000), Lang::En), "100.0\u{a0}%");
    }

    #[test]
    fn the_application_form_says_what_is_missing() {
        let mut empty = ApplicationForm::default();
        assert!(empty.check("S1", Lang::Fr).is_none());
        assert!(empty.funder_error.is_some() && empty.title_error.is_some() && empty.amount_error.is_none());
        let mut bad_amount = ApplicationForm {
            funder: "CAF".into(),
            title: "Jeunesse".into(),
            amount: "beaucoup".into(),
            ..ApplicationForm::default()
        };
        assert!(bad_amount.check("S1", Lang::Fr).is_none());
        assert!(bad_amount.amount_error.is_some());
        let mut long = ApplicationForm {
            funder: "x".repeat(301),
            title: "Jeunesse".into(),
            ..ApplicationForm::default()
        };
        assert!(long.check("S1", Lang::Fr).is_none());
        assert!(long.funder_error.unwrap().contains("301"));
        let mut good = ApplicationForm {
            funder: " CAF ".into(),
            title: "Jeunesse".into(),
            amount: "3 000".into(),
            ..ApplicationForm::default()
        };
        let request = good.check("S1", Lang::Fr).unwrap();
        assert_eq!(
            (
                request.funder.as_str(),
                request.amount_asked_cents,
                request.structure_id.as_str()
            ),
            ("CAF", 300_000, "S1")
        );
    }

    #[test]
    fn the_decision_form_needs_an_application_an_outcome_and_for_a_grant_won_its_amount_and_year() {
        let pending = vec!["G2".to_owned()];
        let mut empty = DecisionForm::default();
        assert!(empty.check("S1", &pending, Lang::Fr).is_none());
        assert!(empty.grant_error.is_some() && empty.outcome_error.is_some());
        let mut won = DecisionForm {
            grant_id: "G2".into(),
            outcome: "won".into(),
            amount: "12 500".into(),
            year_end: "31/12/2026".into(),
            ..DecisionForm::default()
        };
        assert!(won.check("S1", &pending, Lang::Fr).is_none());
        assert!(won.year_end_error.is_some() && won.amount_error.is_none());
        won.year_end = "2026-12-31".into();
        let request = won.check("S1", &pending, Lang::Fr).unwrap();
        assert_eq!(request.amount_granted_cents, 1_250_000);
        assert_eq!(request.financial_year_end, Some(date_to_pb(d(2026, 12, 31))));
        let mut refused = DecisionForm {
            grant_id: "G2".into(),
            outcome: "refused".into(),
            ..DecisionForm::default()
        };
        let request = refused.check("S1", &pending, Lang::Fr).unwrap();
        assert_eq!(
            (request.outcome.as_str(), request.financial_year_end),
            ("refused", None)
        );
        let mut other = DecisionForm {
            grant_id: "G9".into(),
            ..refused
        };
        assert!(other.check("S1", &pending, Lang::Fr).is_none());
        assert!(other.grant_error.is_some());
    }

    #[test]
    fn a_duty_sent_says_when_and_the_envoye_form_admits_sent_or_nothing() {
        let mut o = obligation(d(2027, 1, 10), "CAF");
        o.key = "G1:financial_report_6_months:2026-07-10".into();
        assert_eq!(sent_words(&o, Lang::Fr), None);
        o.status = "sent".into();
        assert_eq!(sent_words(&o, Lang::En).as_deref(), Some("Sent"));
        o.sent_on = Some(date_to_pb(d(2026, 12, 3)));
        assert_eq!(sent_words(&o, Lang::Fr).as_deref(), Some("Envoyé le 3 décembre 2026"));
        let view = structure_grants(&ListGrantsResponse::default(), &[o.clone()], d(2027, 1, 4), Lang::Fr);
        let line = &view.duties[0];
        assert_eq!(line.key, o.key);
        assert_eq!(line.sent.as_deref(), Some("Envoyé le 3 décembre 2026"));
        assert!(
            !line.duty.contains("envoyé"),
            "the state has its own column: {}",
            line.duty
        );

        let request = sent_request("S1", &format!(" {} ", o.key), "sent", Lang::Fr).unwrap();
        assert_eq!(
            (
                request.structure_id.as_str(),
                request.obligation_key.as_str(),
                request.status.as_str()
            ),
            ("S1", o.key.as_str(), "sent")
        );
        assert_eq!(sent_request("S1", &o.key, "", Lang::Fr).unwrap().status, "");
        assert!(sent_request("S1", &o.key, "déposé", Lang::Fr)
            .unwrap_err()
            .contains("état inconnu"));
        for key in ["", "  ", "a\nb", &"k".repeat(301)] {
            assert!(
                sent_request("S1", key, "sent", Lang::En)
                    .unwrap_err()
                    .contains("unknown report"),
                "{key:?}"
            );
        }
        assert!(sent_request("S1", &"k".repeat(300), "sent", Lang::Fr).is_ok());
    }
}
