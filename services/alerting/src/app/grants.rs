//! After the deadline (issue 16, docs/grants.md): a structure's applications,
//! the grants it won or was refused, and the reporting duties each grant
//! brings (derived by `vigie_alerting_domain::grants`, the dates written in
//! agreements winning). Every write is one transaction; those about a call
//! or an existing application are idempotent.

use std::collections::{BTreeMap, HashMap};

use chrono::{Months, NaiveDate};
use sqlx::AnyConnection;
use vigie_alerting_domain::grants::obligations::{obligations, AgreementDate, Obligation};
use vigie_alerting_domain::grants::rules::{Rule, DEFAULT_DRAFT_DAYS};
use vigie_alerting_domain::grants::stats::Stage;
use vigie_alerting_domain::grants::{Agreement, Grant};

use vigie_platform::events::Outbox;
use vigie_proto::events::v1::GrantRecorded;

use super::AlertingApp;
use crate::convert::date_to_pb;
use crate::error::AlertingError;
use crate::events;
use crate::storage::{self, AgreementDateRow, GrantRow};

/// Largest amount accepted: 100 M€, in cents.
pub const MAX_AMOUNT_CENTS: i64 = 100_000_000 * 100;
/// Longest funder or title.
pub const MAX_TITLE_CHARS: usize = 300;
/// Longest agreement reference.
pub const MAX_REFERENCE_CHARS: usize = 100;
/// Longest purpose.
pub const MAX_PURPOSE_CHARS: usize = 2000;
/// Longest label of an agreement date.
pub const MAX_LABEL_CHARS: usize = 200;
/// Dates are accepted within this many years of today.
pub const MAX_YEARS_AWAY: u32 = 10;
/// Largest number of draft days a network may set.
pub const MAX_DRAFT_DAYS: u32 = 90;

/// Stage of an application without a decision.
pub const APPLIED: &str = "applied";
/// Stage of a grant won.
pub const WON: &str = "won";
/// Stage of an application refused.
pub const REFUSED: &str = "refused";

/// An application to record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplicationInput {
    /// The structure.
    pub structure_id: String,
    /// An imported call, or empty.
    pub call_id: String,
    /// Funder (required without a call).
    pub funder: String,
    /// Title (required without a call).
    pub title: String,
    /// Date of submission (default today).
    pub applied_on: Option<NaiveDate>,
    /// Cents asked.
    pub amount_asked: i64,
}

/// A decision (or a grant won without an application recorded) to record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GrantInput {
    /// The structure.
    pub structure_id: String,
    /// The application decided, or empty.
    pub grant_id: String,
    /// The call, or empty.
    pub call_id: String,
    /// Funder.
    pub funder: String,
    /// Title.
    pub title: String,
    /// `won` or `refused`.
    pub outcome: String,
    /// Cents granted.
    pub amount_granted: i64,
    /// Date of the decision (default today).
    pub decided_on: Option<NaiveDate>,
    /// Last day of the financial year granted for (won).
    pub financial_year_end: Option<NaiveDate>,
    /// First day of a multi-year agreement.
    pub agreement_start: Option<NaiveDate>,
    /// Last day of a multi-year agreement.
    pub agreement_end: Option<NaiveDate>,
    /// The agreement's reference.
    pub reference: String,
    /// Its purpose.
    pub purpose: String,
    /// A public subsidy (default true).
    pub public_subsidy: Option<bool>,
    /// Cents asked, when no application was recorded.
    pub amount_asked: i64,
}

/// A date of an agreement to set: moves an obligation (`obligation_key`) or
/// adds one to a grant (`grant_id`, with a label).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgreementDateInput {
    /// The structure.
    pub structure_id: String,
    /// The obligation moved.
    pub obligation_key: String,
    /// The grant whose agreement adds a date.
    pub grant_id: String,
    /// The date.
    pub due: Option<NaiveDate>,
    /// What the agreement asks for.
    pub label: String,
}

/// An obligation with the grant it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObligationView {
    /// The duty.
    pub obligation: Obligation,
    /// The grant's funder ("" for a structure-wide duty).
    pub funder: String,
    /// The grant's title ("" for a structure-wide duty).
    pub title: String,
}

/// Counts and amounts of a pipeline (the domain's, shared with the views).
pub use vigie_alerting_domain::grants::stats::Pipeline;

/// The pipeline of `grants`.
pub fn pipeline(grants: &[GrantRow]) -> Pipeline {
    let mut p = Pipeline::default();
    for g in grants {
        p.add(Stage::from_code(&g.stage), g.amount_asked, g.amount_granted);
    }
    p
}

fn invalid(message: impl Into<String>) -> AlertingError {
    AlertingError::Invalid(message.into())
}

fn amount(cents: i64, field: &str) -> Result<i64, AlertingError> {
    if !(0..=MAX_AMOUNT_CENTS).contains(&cents) {
        return Err(invalid(format!(
            "{field} : {cents} centimes hors bornes (de 0 à 100 000 000 €)"
        )));
    }
    Ok(cents)
}

fn bounded_text(value: &str, max: usize, field: &str, required: bool) -> Result<String, AlertingError> {
    let value = value.trim();
    if required && value.is_empty() {
        return Err(invalid(format!("{field} manquant")));
    }
    if value.chars().count() > max {
        return Err(invalid(format!("{field} : au plus {max} caractères")));
    }
    if value.chars().any(|c| c.is_control() && c != '\n') {
        return Err(invalid(format!("{field} : caractère de contrôle refusé")));
    }
    Ok(value.to_owned())
}

/// `date` is within [`MAX_YEARS_AWAY`] years of `today`.
fn near(date: NaiveDate, today: NaiveDate, field: &str) -> Result<NaiveDate, AlertingError> {
    let years = Months::new(12 * MAX_YEARS_AWAY);
    let low = today.checked_sub_months(years).unwrap_or(NaiveDate::MIN);
    let high = today.checked_add_months(years).unwrap_or(NaiveDate::MAX);
    if date < low || date > high {
        return Err(invalid(format!(
            "{field} {date} : attendu à moins de {MAX_YEARS_AWAY} ans d'aujourd'hui"
        )));
    }
    Ok(date)
}

/// Validates an application (French messages naming the field).
///
/// # Errors
/// [`AlertingError::Invalid`] for the first invalid field.
pub fn validate_application(input: &ApplicationInput, today: NaiveDate) -> Result<ApplicationInput, AlertingError> {
    let with_call = !input.call_id.trim().is_empty();
    Ok(ApplicationInput {
        structure_id: input.structure_id.trim().to_owned(),
        call_id: input.call_id.trim().to_owned(),
        funder: bounded_text(&input.funder, MAX_TITLE_CHARS, "financeur", !with_call)?,
        title: bounded_text(&input.title, MAX_TITLE_CHARS, "intitulé", !with_call)?,
        applied_on: Some(near(input.applied_on.unwrap_or(today), today, "date de dépôt")?),
        amount_asked: amount(input.amount_asked, "montant demandé")?,
    })
}

/// Validates a decision (French messages naming the field).
///
/// # Errors
/// [`AlertingError::Invalid`] for the first invalid field.
pub fn validate_grant(input: &GrantInput, today: NaiveDate) -> Result<GrantInput, AlertingError> {
    let outcome = input.outcome.trim();
    if outcome != WON && outcome != REFUSED {
        return Err(invalid(format!(
            "issue « {outcome} » inconnue : won (obtenu) ou refused (refusé)"
        )));
    }
    let won = outcome == WON;
    let known = !input.call_id.trim().is_empty() || !input.grant_id.trim().is_empty();
    let financial_year_end = match (input.financial_year_end, won) {
        (Some(end), _) => Some(near(end, today, "fin d'exercice")?),
        (None, true) => return Err(invalid("fin d'exercice manquante (la subvention obtenue la demande)")),
        (None, false) => None,
    };
    match (input.agreement_start, input.agreement_end) {
        (None, None) => {}
        (Some(start), Some(end)) => {
            near(start, today, "début de convention")?;
            if end <= start {
                return Err(invalid(format!(
                    "fin de convention {end} : attendue après le début {start}"
                )));
            }
            let limit = start
                .checked_add_months(Months::new(12 * MAX_YEARS_AWAY))
                .unwrap_or(NaiveDate::MAX);
            if end > limit {
                return Err(invalid(format!(
                    "fin de convention {end} : une convention dure au plus {MAX_YEARS_AWAY} ans"
                )));
            }
        }
        _ => return Err(invalid("convention : préciser son début et sa fin (les deux)")),
    }
    Ok(GrantInput {
        structure_id: input.structure_id.trim().to_owned(),
        grant_id: input.grant_id.trim().to_owned(),
        call_id: input.call_id.trim().to_owned(),
        funder: bounded_text(&input.funder, MAX_TITLE_CHARS, "financeur", !known)?,
        title: bounded_text(&input.title, MAX_TITLE_CHARS, "intitulé", !known)?,
        outcome: outcome.to_owned(),
        amount_granted: if won {
            amount(input.amount_granted, "montant accordé")?
        } else {
            0
        },
        decided_on: Some(near(input.decided_on.unwrap_or(today), today, "date de décision")?),
        financial_year_end,
        agreement_start: input.agreement_start,
        agreement_end: input.agreement_end,
        reference: bounded_text(&input.reference, MAX_REFERENCE_CHARS, "référence de convention", false)?,
        purpose: bounded_text(&input.purpose, MAX_PURPOSE_CHARS, "objet", false)?,
        public_subsidy: Some(input.public_subsidy.unwrap_or(true)),
        amount_asked: amount(input.amount_asked, "montant demandé")?,
    })
}

/// A new grant id: `G` and a time-ordered UUID.
fn new_grant_id() -> String {
    format!("G{}", uuid::Uuid::now_v7().simple())
}

/// The domain grant of a grant won.
fn domain_grant(row: &GrantRow) -> Option<Grant> {
    if row.stage != WON {
        return None;
    }
    Some(Grant {
        grant_id: row.grant_id.clone(),
        structure_id: row.structure_id.clone(),
        funder: row.funder.clone(),
        title: row.title.clone(),
        amount: u64::try_from(row.amount_granted).unwrap_or(0),
        public: row.public_subsidy,
        financial_year_end: row.financial_year_end?,
        agreement: match (row.agreement_start, row.agreement_end) {
            (Some(start), Some(end)) => Some(Agreement { start, end }),
            _ => None,
        },
    })
}

fn domain_date(row: &AgreementDateRow) -> AgreementDate {
    match (row.kind.as_str(), &row.grant_id) {
        ("adds", Some(grant_id)) => AgreementDate::Adds {
            grant_id: grant_id.clone(),
            due: row.due,
            label: row.label.clone(),
        },
        _ => AgreementDate::Moves {
            key: row.obligation_key.clone(),
            due: row.due,
        },
    }
}

/// Records the application of a structure for a call if it has none
/// (acknowledging a call « déposé »), in the caller's transaction; returns
/// whether one was recorded.
///
/// # Errors
/// Storage errors.
pub(crate) async fn apply_for_call(
    conn: &mut AnyConnection,
    structure_id: &str,
    call: &storage::StoredCall,
    applied_on: NaiveDate,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<bool, AlertingError> {
    let row = GrantRow {
        grant_id: new_grant_id(),
        structure_id: structure_id.to_owned(),
        call_id: call.call_id.clone(),
        funder: call.funders.join(", "),
        title: call.title.clone(),
        stage: APPLIED.to_owned(),
        applied_on: Some(applied_on),
        public_subsidy: true,
        ..GrantRow::default()
    };
    Ok(storage::insert_grant(conn, &row, at).await?)
}

impl AlertingApp {
    async fn known_structure(&self, conn: &mut AnyConnection, structure_id: &str) -> Result<(), AlertingError> {
        if structure_id.is_empty() || storage::structure_version(conn, structure_id).await?.is_none() {
            return Err(AlertingError::NotFound(format!("structure « {structure_id} »")));
        }
        Ok(())
    }

    async fn known_call(&self, conn: &mut AnyConnection, call_id: &str) -> Result<storage::StoredCall, AlertingError> {
        storage::call(conn, call_id)
            .await?
            .ok_or_else(|| AlertingError::NotFound(format!("appel « {call_id} »")))
    }

    /// Records an application; for a call, the structure's existing
    /// application for it is returned unchanged.
    ///
    /// # Errors
    /// [`AlertingError::Invalid`] for an invalid field, [`AlertingError::NotFound`]
    /// for an unknown structure or call; storage errors.
    pub async fn record_application(&self, input: &ApplicationInput) -> Result<GrantRow, AlertingError> {
        let input = validate_application(input, self.today())?;
        let mut tx = self.db.begin().await?;
        self.known_structure(&mut tx, &input.structure_id).await?;
        let mut row = GrantRow {
            grant_id: new_grant_id(),
            structure_id: input.structure_id.clone(),
            call_id: input.call_id.clone(),
            funder: input.funder.clone(),
            title: input.title.clone(),
            stage: APPLIED.to_owned(),
            applied_on: input.applied_on,
            amount_asked: input.amount_asked,
            public_subsidy: true,
            ..GrantRow::default()
        };
        if !input.call_id.is_empty() {
            let call = self.known_call(&mut tx, &input.call_id).await?;
            if row.funder.is_empty() {
                row.funder = call.funders.join(", ");
            }
            if row.title.is_empty() {
                row.title = call.title.clone();
            }
        }
        let now = self.now();
        if !storage::insert_grant(&mut tx, &row, now).await? {
            // The structure's application for that call exists: the amount
            // asked completes it when it was unknown, nothing else changes.
            let mut existing = storage::grant_for_call(&mut tx, &row.structure_id, &row.call_id)
                .await?
                .ok_or_else(|| AlertingError::NotFound(format!("candidature à l'appel « {} »", row.call_id)))?;
            if existing.amount_asked == 0 && row.amount_asked > 0 {
                existing.amount_asked = row.amount_asked;
                storage::update_grant(&mut tx, &existing, now).await?;
            }
            row = existing;
        }
        tx.commit().await?;
        Ok(row)
    }

    /// Records a decision: on an application (its id, or the structure's
    /// application for a call, created when missing), or a new grant. A
    /// change appends `alerting.grant.recorded` in the same transaction; the
    /// same decision again records and publishes nothing.
    ///
    /// # Errors
    /// [`AlertingError::Invalid`] for an invalid field, [`AlertingError::NotFound`]
    /// for an unknown structure, call or application; storage errors.
    pub async fn record_grant(&self, input: &GrantInput) -> Result<GrantRow, AlertingError> {
        let input = validate_grant(input, self.today())?;
        let mut tx = self.db.begin().await?;
        self.known_structure(&mut tx, &input.structure_id).await?;
        let now = self.now();
        let existing = if !input.grant_id.is_empty() {
            Some(
                storage::grant(&mut tx, &input.structure_id, &input.grant_id)
                    .await?
                    .ok_or_else(|| AlertingError::NotFound(format!("candidature « {} »", input.grant_id)))?,
            )
        } else if !input.call_id.is_empty() {
            let call = self.known_call(&mut tx, &input.call_id).await?;
            apply_for_call(&mut tx, &input.structure_id, &call, self.today(), now).await?;
            storage::grant_for_call(&mut tx, &input.structure_id, &input.call_id).await?
        } else {
            None
        };
        let base = existing.unwrap_or_else(|| GrantRow {
            grant_id: new_grant_id(),
            structure_id: input.structure_id.clone(),
            ..GrantRow::default()
        });
        let row = GrantRow {
            funder: if input.funder.is_empty() {
                base.funder.clone()
            } else {
                input.funder.clone()
            },
            title: if input.title.is_empty() {
                base.title.clone()
            } else {
                input.title.clone()
            },
            stage: input.outcome.clone(),
            amount_asked: if input.amount_asked > 0 {
                input.amount_asked
            } else {
                base.amount_asked
            },
            decided_on: input.decided_on,
            amount_granted: input.amount_granted,
            financial_year_end: input.financial_year_end,
            agreement_start: input.agreement_start,
            agreement_end: input.agreement_end,
            reference: input.reference.clone(),
            purpose: input.purpose.clone(),
            public_subsidy: input.public_subsidy.unwrap_or(true),
            ..base.clone()
        };
        let changed = if base.stage.is_empty() {
            storage::insert_grant(&mut tx, &row, now).await?
        } else if row != base {
            storage::update_grant(&mut tx, &row, now).await?;
            true
        } else {
            false
        };
        if changed {
            let event = GrantRecorded {
                structure_id: row.structure_id.clone(),
                grant_id: row.grant_id.clone(),
                call_id: row.call_id.clone(),
                funder: row.funder.clone(),
                stage: row.stage.clone(),
                amount_granted_cents: row.amount_granted,
                financial_year_end: row.financial_year_end.map(date_to_pb),
                public_subsidy: row.public_subsidy,
                on: Some(date_to_pb(self.today())),
            };
            Outbox::new(events::SOURCE)
                .append(&mut tx, events::grant_recorded(&event))
                .await
                .map_err(|e| AlertingError::Events(e.to_string()))?;
        }
        tx.commit().await?;
        if changed {
            self.relay.notify_one();
        }
        Ok(row)
    }

    /// The structures of a network, by id.
    ///
    /// # Errors
    /// Storage errors.
    pub async fn structures_of_network(&self, network: &str) -> Result<Vec<String>, AlertingError> {
        let mut conn = self.db.pool().acquire().await?;
        Ok(storage::structures_of_network(&mut conn, network)
            .await?
            .into_iter()
            .map(|s| s.structure_id)
            .collect())
    }

    /// The applications and grants of these structures (all with `None`).
    ///
    /// # Errors
    /// Storage errors.
    pub async fn grants(&self, structures: Option<&[String]>) -> Result<Vec<GrantRow>, AlertingError> {
        let mut conn = self.db.pool().acquire().await?;
        Ok(storage::grants_of(&mut conn, structures).await?)
    }

    /// The reporting duties of these structures (all with `None`), by due
    /// date, each with its draft date at its network's draft days.
    ///
    /// # Errors
    /// Storage errors.
    pub async fn obligations(&self, structures: Option<&[String]>) -> Result<Vec<ObligationView>, AlertingError> {
        let mut conn = self.db.pool().acquire().await?;
        self.obligations_on(&mut conn, structures).await
    }

    pub(super) async fn obligations_on(
        &self,
        conn: &mut AnyConnection,
        structures: Option<&[String]>,
    ) -> Result<Vec<ObligationView>, AlertingError> {
        let rows = storage::grants_of(conn, structures).await?;
        let dates = storage::agreement_dates_of(conn, structures).await?;
        // Networks only: the snapshots are not needed (the dispatch pass reads this every minute).
        let networks: HashMap<String, String> = storage::structure_networks(conn).await?;
        let draft: HashMap<String, u32> = storage::draft_days(conn).await?.into_iter().collect();
        let mut by_network: BTreeMap<&str, (Vec<Grant>, Vec<AgreementDate>)> = BTreeMap::new();
        for row in &rows {
            if let Some(grant) = domain_grant(row) {
                let network = networks.get(&row.structure_id).map_or("", String::as_str);
                by_network.entry(network).or_default().0.push(grant);
            }
        }
        for date in &dates {
            let network = networks.get(&date.structure_id).map_or("", String::as_str);
            by_network.entry(network).or_default().1.push(domain_date(date));
        }
        let by_id: HashMap<&str, &GrantRow> = rows.iter().map(|r| (r.grant_id.as_str(), r)).collect();
        let mut all: Vec<ObligationView> = Vec::new();
        for (network, (grants, dates)) in by_network {
            let days = draft.get(network).copied().unwrap_or(DEFAULT_DRAFT_DAYS);
            for obligation in obligations(&grants, &dates, days) {
                let grant = obligation.grant_id.as_deref().and_then(|id| by_id.get(id));
                all.push(ObligationView {
                    funder: grant.map(|g| g.funder.clone()).unwrap_or_default(),
                    title: grant.map(|g| g.title.clone()).unwrap_or_default(),
                    obligation,
                });
            }
        }
        all.sort_by(|a, b| {
            a.obligation
                .due
                .cmp(&b.obligation.due)
                .then_with(|| a.obligation.key.cmp(&b.obligation.key))
        });
        Ok(all)
    }

    /// Sets a date written in an agreement: moves a derived obligation of the
    /// structure, or adds one to a grant it won; returns the obligation.
    ///
    /// # Errors
    /// [`AlertingError::Invalid`] for an invalid field, [`AlertingError::NotFound`]
    /// for an unknown structure, obligation or grant; storage errors.
    pub async fn set_agreement_date(&self, input: &AgreementDateInput) -> Result<ObligationView, AlertingError> {
        let today = self.today();
        let structure_id = input.structure_id.trim().to_owned();
        let key = input.obligation_key.trim();
        let grant_id = input.grant_id.trim();
        let due = near(
            input.due.ok_or_else(|| invalid("échéance manquante"))?,
            today,
            "échéance",
        )?;
        let label = bounded_text(&input.label, MAX_LABEL_CHARS, "libellé", !grant_id.is_empty())?;
        let mut tx = self.db.begin().await?;
        self.known_structure(&mut tx, &structure_id).await?;
        let only = [structure_id.clone()];
        let row = match (key.is_empty(), grant_id.is_empty()) {
            (false, true) => {
                let current = self.obligations_on(&mut tx, Some(&only)).await?;
                let Some(found) = current.iter().find(|o| o.obligation.key == key) else {
                    return Err(AlertingError::NotFound(format!("obligation « {key} »")));
                };
                if found.obligation.rule == Rule::Agreement {
                    return Err(invalid(
                        "obligation : une date de la convention se remplace en l'ajoutant de nouveau (--grant)",
                    ));
                }
                AgreementDateRow {
                    structure_id: structure_id.clone(),
                    obligation_key: key.to_owned(),
                    grant_id: None,
                    kind: "moves".to_owned(),
                    due,
                    label,
                }
            }
            (true, false) => {
                let grant = storage::grant(&mut tx, &structure_id, grant_id)
                    .await?
                    .filter(|g| g.stage == WON)
                    .ok_or_else(|| AlertingError::NotFound(format!("subvention obtenue « {grant_id} »")))?;
                AgreementDateRow {
                    structure_id: structure_id.clone(),
                    obligation_key: format!("{}:{}:{due}", grant.grant_id, Rule::Agreement.code()),
                    grant_id: Some(grant.grant_id),
                    kind: "adds".to_owned(),
                    due,
                    label,
                }
            }
            _ => return Err(invalid(
                "préciser l'obligation déplacée ou la subvention dont la convention ajoute une date (l'une des deux)",
            )),
        };
        storage::save_agreement_date(&mut tx, &row, self.now()).await?;
        let after = self.obligations_on(&mut tx, Some(&only)).await?;
        tx.commit().await?;
        after
            .into_iter()
            .find(|o| o.obligation.key == row.obligation_key)
            .ok_or_else(|| AlertingError::NotFound(format!("obligation « {} »", row.obligation_key)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn won() -> GrantInput {
        GrantInput {
            structure_id: "S1".into(),
            funder: "Région".into(),
            title: "Projet".into(),
            outcome: "won".into(),
            amount_granted: 1_000_000,
            financial_year_end: Some(d(2026, 12, 31)),
            ..GrantInput::default()
        }
    }

    #[test]
    fn invalid_grants_are_refused_naming_the_field() {
        let today = d(2026, 12, 3);
        let err = |i: GrantInput| validate_grant(&i, today).unwrap_err().to_string();
        assert!(err(GrantInput {
            amount_granted: -1,
            ..won()
        })
        .contains("montant accordé"));
        assert!(err(GrantInput {
            amount_granted: MAX_AMOUNT_CENTS + 1,
            ..won()
        })
        .contains("montant accordé"));
        assert!(err(GrantInput {
            financial_year_end: Some(d(2040, 12, 31)),
            ..won()
        })
        .contains("fin d'exercice"));
        assert!(err(GrantInput {
            financial_year_end: None,
            ..won()
        })
        .contains("fin d'exercice"));
        assert!(err(GrantInput {
            agreement_start: Some(d(2027, 1, 1)),
            agreement_end: Some(d(2026, 12, 31)),
            ..won()
        })
        .contains("fin de convention"));
        assert!(err(GrantInput {
            agreement_start: Some(d(2026, 1, 1)),
            agreement_end: Some(d(2036, 1, 2)),
            ..won()
        })
        .contains("10 ans"));
        assert!(err(GrantInput {
            agreement_start: Some(d(2026, 1, 1)),
            ..won()
        })
        .contains("convention"));
        assert!(err(GrantInput {
            funder: "x".repeat(301),
            ..won()
        })
        .contains("financeur"));
        assert!(err(GrantInput {
            title: " ".into(),
            ..won()
        })
        .contains("intitulé"));
        assert!(err(GrantInput {
            outcome: "maybe".into(),
            ..won()
        })
        .contains("issue"));
        let ok = validate_grant(&won(), today).unwrap();
        assert_eq!(ok.public_subsidy, Some(true));
        assert_eq!(ok.decided_on, Some(today));
        // A refusal needs neither amount nor year.
        let refused = validate_grant(
            &GrantInput {
                outcome: "refused".into(),
                amount_granted: 5,
                financial_year_end: None,
                ..won()
            },
            today,
        )
        .unwrap();
        assert_eq!(refused.amount_granted, 0);
    }

    #[test]
    fn applications_need_a_call_or_a_funder_and_title() {
        let today = d(2026, 12, 3);
        let err = |i: ApplicationInput| validate_application(&i, today).unwrap_err().to_string();
        assert!(err(ApplicationInput {
            structure_id: "S1".into(),
            title: "x".into(),
            ..ApplicationInput::default()
        })
        .contains("financeur"));
        assert!(err(ApplicationInput {
            structure_id: "S1".into(),
            call_id: "C1".into(),
            amount_asked: -5,
            ..ApplicationInput::default()
        })
        .contains("montant demandé"));
        let ok = validate_application(
            &ApplicationInput {
                structure_id: "S1".into(),
                call_id: "C1".into(),
                ..ApplicationInput::default()
            },
            today,
        )
        .unwrap();
        assert_eq!(ok.applied_on, Some(today));
    }

    #[test]
    fn the_pipeline_counts_stages_and_amounts() {
        let row = |stage: &str, asked: i64, granted: i64| GrantRow {
            stage: stage.into(),
            amount_asked: asked,
            amount_granted: granted,
            ..GrantRow::default()
        };
        let p = pipeline(&[row(APPLIED, 100, 0), row(WON, 200, 150), row(REFUSED, 50, 0)]);
        assert_eq!(
            p,
            Pipeline {
                applied: 3,
                pending: 1,
                won: 1,
                refused: 1,
                amount_asked: 350,
                amount_granted: 150
            }
        );
    }
}
