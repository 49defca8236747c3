//! After the deadline (issue 16, docs/grants.md): a structure's applications,
//! the grants it won or was refused, and the reporting duties each grant
//! brings (derived by `vigie_alerting_domain::grants`, the dates written in
//! agreements winning). Every write is one transaction; those about a call
//! or an existing application are idempotent.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use sqlx::{Any, AnyConnection, Transaction};
use vigie_alerting_domain::grants::obligations::{obligations, AgreementDate, Obligation};
use vigie_alerting_domain::grants::rules::{Rule, DEFAULT_DRAFT_DAYS};
use vigie_alerting_domain::grants::stats::Stage;
use vigie_alerting_domain::grants::{Agreement, Grant};
use vigie_platform::words;
use vigie_platform::words::Words;

use vigie_platform::events::Outbox;
use vigie_proto::events::v1::GrantRecorded;

use super::views::GrantRecord;
use super::AlertingApp;
use crate::convert::date_to_pb;
use crate::error::AlertingError;
use crate::events;
use crate::storage::{self, AgreementDateRow};

// The inputs, bounds and validation rules live in the domain (one home for
// RecordGrant and the import of a sheet); re-exported for the adapters.
use vigie_grants_sheet::validate::{bounded_text, field, near};
pub use vigie_grants_sheet::validate::{
    validate_application, validate_grant, ApplicationInput, GrantInput, APPLIED, MAX_AMOUNT_CENTS, MAX_DRAFT_DAYS,
    MAX_KEY_CHARS, MAX_LABEL_CHARS, MAX_PURPOSE_CHARS, MAX_REFERENCE_CHARS, MAX_TITLE_CHARS, MAX_YEARS_AWAY, REFUSED,
    WON,
};

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

/// What recording an application or a decision did (counted by the import).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// A new row.
    Created,
    /// An existing row changed.
    Updated,
    /// Nothing to do: the same again.
    Unchanged,
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
pub fn pipeline(grants: &[GrantRecord]) -> Pipeline {
    let mut p = Pipeline::default();
    for g in grants {
        p.add(Stage::from_code(&g.stage), g.amount_asked, g.amount_granted);
    }
    p
}

/// A refusal by the grants domain (`vigie-grants-sheet`).
fn invalid(message: Words) -> AlertingError {
    AlertingError::Invalid(message)
}

/// A new grant id: `G` and a time-ordered UUID.
fn new_grant_id() -> String {
    format!("G{}", uuid::Uuid::now_v7().simple())
}

/// The domain grant of a grant won.
fn domain_grant(row: &GrantRecord) -> Option<Grant> {
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
    call: &super::views::CallRecord,
    applied_on: NaiveDate,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<bool, AlertingError> {
    let row = GrantRecord {
        grant_id: new_grant_id(),
        structure_id: structure_id.to_owned(),
        call_id: call.call_id.clone(),
        funder: call.funders.join(", "),
        title: call.title.clone(),
        stage: APPLIED.to_owned(),
        applied_on: Some(applied_on),
        public_subsidy: true,
        ..GrantRecord::default()
    };
    Ok(storage::insert_grant(conn, &row, at).await?)
}

impl AlertingApp {
    async fn known_structure(&self, conn: &mut AnyConnection, structure_id: &str) -> Result<(), AlertingError> {
        if structure_id.is_empty() || storage::structure_version(conn, structure_id).await?.is_none() {
            return Err(AlertingError::NotFound(words!(
                "structure « {structure_id} »",
                "structure “{structure_id}”"
            )));
        }
        Ok(())
    }

    async fn known_call(
        &self,
        conn: &mut AnyConnection,
        call_id: &str,
    ) -> Result<super::views::CallRecord, AlertingError> {
        storage::call(conn, call_id)
            .await?
            .ok_or_else(|| AlertingError::NotFound(words!("appel « {call_id} »", "call “{call_id}”")))
    }

    /// Records an application; for a call, the structure's existing
    /// application for it is returned (its amount asked completed when it
    /// was unknown); with an idempotency key, the structure's application
    /// recorded with that key.
    ///
    /// # Errors
    /// [`AlertingError::Invalid`] for an invalid field, [`AlertingError::NotFound`]
    /// for an unknown structure or call; storage errors.
    pub async fn record_application(&self, input: &ApplicationInput) -> Result<GrantRecord, AlertingError> {
        let input = validate_application(input, self.today()).map_err(invalid)?;
        let mut tx = self.db.begin().await?;
        self.known_structure(&mut tx, &input.structure_id).await?;
        let (row, _) = self.application_in(&mut tx, &input, self.now()).await?;
        tx.commit().await?;
        Ok(row)
    }

    /// [`Self::record_application`] of a validated input, in the caller's
    /// transaction (the import writes many in one); says what it changed.
    pub(crate) async fn application_in(
        &self,
        tx: &mut Transaction<'_, Any>,
        input: &ApplicationInput,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(GrantRecord, Change), AlertingError> {
        let with_call = !input.call_id.is_empty();
        let mut row = GrantRecord {
            grant_id: new_grant_id(),
            structure_id: input.structure_id.clone(),
            call_id: input.call_id.clone(),
            funder: input.funder.clone(),
            title: input.title.clone(),
            stage: APPLIED.to_owned(),
            applied_on: input.applied_on,
            amount_asked: input.amount_asked,
            public_subsidy: true,
            // A call is its own key (one application per structure and call).
            idempotency_key: if with_call {
                String::new()
            } else {
                input.idempotency_key.clone()
            },
            ..GrantRecord::default()
        };
        if with_call {
            let call = self.known_call(tx, &input.call_id).await?;
            if row.funder.is_empty() {
                row.funder = call.funders.join(", ");
            }
            if row.title.is_empty() {
                row.title = call.title.clone();
            }
        }
        if !with_call && !row.idempotency_key.is_empty() {
            if let Some(existing) = storage::grant_by_key(tx, &row.structure_id, &row.idempotency_key).await? {
                // The same key is the same application: its description
                // follows the latest sending while no decision was taken; a
                // decision is never undone by an application sent again.
                if existing.stage != APPLIED {
                    return Ok((existing, Change::Unchanged));
                }
                let updated = GrantRecord {
                    funder: row.funder,
                    title: row.title,
                    applied_on: row.applied_on,
                    amount_asked: row.amount_asked,
                    ..existing.clone()
                };
                if updated == existing {
                    return Ok((existing, Change::Unchanged));
                }
                storage::update_grant(tx, &updated, now).await?;
                return Ok((updated, Change::Updated));
            }
        }
        if storage::insert_grant(tx, &row, now).await? {
            return Ok((row, Change::Created));
        }
        // The structure's application for that call (or with that key,
        // recorded concurrently) exists: the amount asked completes it when
        // it was unknown, nothing else changes.
        let found = if with_call {
            storage::grant_for_call(tx, &row.structure_id, &row.call_id).await?
        } else {
            storage::grant_by_key(tx, &row.structure_id, &row.idempotency_key).await?
        };
        let mut existing = found.ok_or_else(|| {
            AlertingError::NotFound(words!(
                "candidature à l'appel « {} »",
                "application to call “{}”",
                row.call_id
            ))
        })?;
        if existing.amount_asked == 0 && row.amount_asked > 0 {
            existing.amount_asked = row.amount_asked;
            storage::update_grant(tx, &existing, now).await?;
            return Ok((existing, Change::Updated));
        }
        Ok((existing, Change::Unchanged))
    }

    /// Records a decision: on an application (its id, or the structure's
    /// application for a call, created when missing), on the grant recorded
    /// with the same idempotency key, or a new grant. A change publishes
    /// `vigie.alerting.grant.recorded` in the same transaction; the same
    /// decision again records and publishes nothing, a different one under
    /// the same key updates the grant (docs/grants.md).
    ///
    /// # Errors
    /// [`AlertingError::Invalid`] for an invalid field, [`AlertingError::NotFound`]
    /// for an unknown structure, call or application; storage errors.
    pub async fn record_grant(&self, input: &GrantInput) -> Result<GrantRecord, AlertingError> {
        let input = validate_grant(input, self.today()).map_err(invalid)?;
        let mut tx = self.db.begin().await?;
        self.known_structure(&mut tx, &input.structure_id).await?;
        let (row, change) = self.grant_in(&mut tx, &input, self.now()).await?;
        tx.commit().await?;
        if change != Change::Unchanged {
            self.relay.notify_one();
        }
        Ok(row)
    }

    /// [`Self::record_grant`] of a validated input, in the caller's
    /// transaction (the import writes many in one), its event appended to
    /// the outbox when it changed something; says what it changed. The
    /// caller wakes the relay after its commit.
    pub(crate) async fn grant_in(
        &self,
        tx: &mut Transaction<'_, Any>,
        input: &GrantInput,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(GrantRecord, Change), AlertingError> {
        let mut applied_now = false;
        // A call or an application id identifies the grant by itself; the
        // key only serves a grant Vigie knows nothing else of.
        let keyed = input.grant_id.is_empty() && input.call_id.is_empty() && !input.idempotency_key.is_empty();
        let existing = if !input.grant_id.is_empty() {
            Some(
                storage::grant(tx, &input.structure_id, &input.grant_id)
                    .await?
                    .ok_or_else(|| {
                        AlertingError::NotFound(words!("candidature « {} »", "application “{}”", input.grant_id))
                    })?,
            )
        } else if !input.call_id.is_empty() {
            let call = self.known_call(tx, &input.call_id).await?;
            applied_now = apply_for_call(tx, &input.structure_id, &call, self.today(), now).await?;
            storage::grant_for_call(tx, &input.structure_id, &input.call_id).await?
        } else if keyed {
            storage::grant_by_key(tx, &input.structure_id, &input.idempotency_key).await?
        } else {
            None
        };
        let base = existing.unwrap_or_else(|| GrantRecord {
            grant_id: new_grant_id(),
            structure_id: input.structure_id.clone(),
            idempotency_key: if keyed {
                input.idempotency_key.clone()
            } else {
                String::new()
            },
            ..GrantRecord::default()
        });
        let row = GrantRecord {
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
            applied_on: input.applied_on.or(base.applied_on),
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
        let change = if base.stage.is_empty() {
            if !storage::insert_grant(tx, &row, now).await? {
                // The same key recorded by a concurrent request, committed
                // in between: that one is the grant.
                let first = storage::grant_by_key(tx, &input.structure_id, &input.idempotency_key)
                    .await?
                    .ok_or_else(|| {
                        AlertingError::NotFound(words!(
                            "clé d'idempotence « {} »",
                            "idempotency key “{}”",
                            input.idempotency_key
                        ))
                    })?;
                return Ok((first, Change::Unchanged));
            }
            Change::Created
        } else if row != base {
            storage::update_grant(tx, &row, now).await?;
            if applied_now {
                Change::Created
            } else {
                Change::Updated
            }
        } else if applied_now {
            Change::Created
        } else {
            Change::Unchanged
        };
        if change != Change::Unchanged {
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
                .append(tx, events::grant_recorded(&event))
                .await
                .map_err(|e| AlertingError::Events(e.to_string()))?;
        }
        Ok((row, change))
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
    pub async fn grants(&self, structures: Option<&[String]>) -> Result<Vec<GrantRecord>, AlertingError> {
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
        let by_id: HashMap<&str, &GrantRecord> = rows.iter().map(|r| (r.grant_id.as_str(), r)).collect();
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
            input
                .due
                .ok_or_else(|| AlertingError::Invalid(words!("échéance manquante", "due date missing")))?,
            today,
            field::DUE,
        )
        .map_err(invalid)?;
        let label = bounded_text(&input.label, MAX_LABEL_CHARS, field::LABEL, !grant_id.is_empty()).map_err(invalid)?;
        let mut tx = self.db.begin().await?;
        self.known_structure(&mut tx, &structure_id).await?;
        let only = [structure_id.clone()];
        let row = match (key.is_empty(), grant_id.is_empty()) {
            (false, true) => {
                let current = self.obligations_on(&mut tx, Some(&only)).await?;
                let Some(found) = current.iter().find(|o| o.obligation.key == key) else {
                    return Err(AlertingError::NotFound(words!(
                        "obligation « {key} »",
                        "obligation “{key}”"
                    )));
                };
                if found.obligation.rule == Rule::Agreement {
                    return Err(AlertingError::Invalid(words!(
                        "obligation : une date de la convention se remplace en l'ajoutant de nouveau (--grant)",
                        "obligation: a date of the agreement is replaced by adding it again (--grant)"
                    )));
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
                    .ok_or_else(|| {
                        AlertingError::NotFound(words!("subvention obtenue « {grant_id} »", "won grant “{grant_id}”"))
                    })?;
                AgreementDateRow {
                    structure_id: structure_id.clone(),
                    obligation_key: format!("{}:{}:{due}", grant.grant_id, Rule::Agreement.code()),
                    grant_id: Some(grant.grant_id),
                    kind: "adds".to_owned(),
                    due,
                    label,
                }
            }
            _ => {
                return Err(AlertingError::Invalid(words!(
                "préciser l'obligation déplacée ou la subvention dont la convention ajoute une date (l'une des deux)",
                "give the obligation moved or the grant whose agreement adds a date (one of the two)"
            )))
            }
        };
        storage::save_agreement_date(&mut tx, &row, self.now()).await?;
        let after = self.obligations_on(&mut tx, Some(&only)).await?;
        tx.commit().await?;
        after
            .into_iter()
            .find(|o| o.obligation.key == row.obligation_key)
            .ok_or_else(|| AlertingError::NotFound(words!("obligation « {} »", "obligation “{}”", row.obligation_key)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pipeline_counts_stages_and_amounts() {
        let row = |stage: &str, asked: i64, granted: i64| GrantRecord {
            stage: stage.into(),
            amount_asked: asked,
            amount_granted: granted,
            ..GrantRecord::default()
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
