//! The read model of the inventory, fed by its events, in one consumer so
//! the stream's order holds between its two types (one durable filtered on
//! `vigie.inventory.structure.>`):
//!
//! - `structure.inventoried` replaces the copy of a structure (place, people)
//!   when its version is newer (an older or replayed snapshot changes nothing);
//! - `structure.fragility_assessed` with a band `critical` or `high` opens a
//!   proactive proposal for the most exposed orphan or single-holder function,
//!   offered to the best facilitator. One open proposal per structure and
//!   function (unique key), and the inbox makes a replayed event a duplicate.
//!   Every assessment, whatever its band, replaces the structure's row in
//!   `fa_fragility` (band and exposed functions), read by the report.
//!
//! A second consumer, [`AlertingEscalations`], opens co-submission proposals
//! on the alerting service's deadline escalations.

use async_trait::async_trait;
use chrono::{Days, NaiveDate};
use prost::Message;
use sqlx::{Any, Transaction};
use vigie_facilitation_domain::matching::StructurePlace;
use vigie_facilitation_domain::report::FragileStructure;
use vigie_fragility_model::catalogue::label_fr;
use vigie_inventory_readmodel::{batch_changes, NewSnapshot};
use vigie_platform::event_types;
use vigie_platform::events::{Envelope, Event, EventHandler, HandlerError};
use vigie_proto::events::v1::{DeadlineEscalated, FragilityAssessed, StructureInventoried};
use vigie_proto::inventory::v1::{Band, StructureFragility};

use crate::app::views::CallRef;
use crate::app::{open_call_proposal, open_proposal, CallProposal, FacilitationApp};
use crate::convert::date_from_pb;
use crate::erasure::TABLES;
use crate::storage::{self, Snapshot};

/// Type (and subject) of the inventory snapshot event, for the callers that
/// match on strings.
pub use vigie_inventory_readmodel::STRUCTURE_INVENTORIED;
/// Type (and subject) of the inventory fragility event: [`FragilityAssessed`]'s [`Event::TYPE`], named here
/// for the callers that match on strings.
pub const FRAGILITY_ASSESSED: &str = FragilityAssessed::TYPE;

/// Keeps `fa_structures` and `fa_people` up to date and opens proactive
/// proposals on fragile structures.
pub struct InventoryReadModel {
    app: FacilitationApp,
}

impl InventoryReadModel {
    /// A read model whose proposals use `app`'s clock.
    pub fn new(app: FacilitationApp) -> Self {
        InventoryReadModel { app }
    }
}

#[async_trait]
impl EventHandler for InventoryReadModel {
    fn name(&self) -> &str {
        "facilitation-inventory"
    }

    fn event_types(&self) -> Vec<String> {
        event_types![StructureInventoried, FragilityAssessed]
    }

    async fn handle(&self, tx: &mut Transaction<'_, Any>, envelope: &Envelope) -> Result<(), HandlerError> {
        self.handle_batch(tx, &[envelope]).await
    }

    /// In stream order: each run of consecutive snapshots written at once
    /// (multi-row statements), each assessment on its own (it reads the
    /// snapshots before it).
    async fn handle_batch(&self, tx: &mut Transaction<'_, Any>, envelopes: &[&Envelope]) -> Result<(), HandlerError> {
        let mut rest = envelopes;
        while let Some(first) = rest.first() {
            if first.is::<StructureInventoried>() {
                let run = rest
                    .iter()
                    .position(|e| !e.is::<StructureInventoried>())
                    .unwrap_or(rest.len());
                inventoried(tx, &rest[..run]).await?;
                rest = &rest[run..];
            } else {
                if first.is::<FragilityAssessed>() {
                    self.fragility(tx, first).await?;
                }
                rest = &rest[1..];
            }
        }
        Ok(())
    }
}

/// Writes the end state of a run of snapshots.
async fn inventoried(tx: &mut Transaction<'_, Any>, envelopes: &[&Envelope]) -> Result<(), HandlerError> {
    let changes = batch_changes(tx, envelopes, &TABLES).await?;
    let snapshots: Vec<Snapshot> = changes
        .structures
        .iter()
        .map(|NewSnapshot { structure, version }| Snapshot {
            place: StructurePlace {
                structure_id: structure.structure_id.clone(),
                network: structure.network.clone(),
                commune_insee: structure.commune_insee.clone(),
                department_code: structure.department_code.clone(),
            },
            version: *version,
            bytes: structure.encode_to_vec(),
        })
        .collect();
    storage::save_snapshots(tx, &snapshots, &changes)
        .await
        .map_err(|e| HandlerError::Transient(e.into()))
}

/// The most exposed orphan or single-holder function: highest risk, then
/// highest criticality, then code.
pub fn most_exposed(fragility: &StructureFragility) -> Option<String> {
    let exposed = |code: &str| {
        fragility.orphan_functions.iter().any(|f| f == code) || fragility.spof_functions.iter().any(|f| f == code)
    };
    fragility
        .functions
        .iter()
        .filter(|f| exposed(&f.code))
        .max_by(|a, b| {
            a.risk
                .total_cmp(&b.risk)
                .then(a.criticality.cmp(&b.criticality))
                .then(b.code.cmp(&a.code))
        })
        .map(|f| f.code.clone())
        .or_else(|| fragility.orphan_functions.first().cloned())
        .or_else(|| fragility.spof_functions.first().cloned())
}

impl InventoryReadModel {
    async fn fragility(&self, tx: &mut Transaction<'_, Any>, envelope: &Envelope) -> Result<(), HandlerError> {
        let event = envelope.decode::<FragilityAssessed>()?;
        let Some(fragility) = event.fragility else {
            return Err(HandlerError::Permanent(anyhow::anyhow!(
                "FragilityAssessed without a fragility"
            )));
        };
        let band = fragility.band();
        // The read model keeps each structure's last assessment (for the
        // "fragile structures never helped" measure), whatever its band.
        let mut exposed: Vec<String> = fragility.orphan_functions.clone();
        for f in &fragility.spof_functions {
            if !exposed.contains(f) {
                exposed.push(f.clone());
            }
        }
        let band_code = match band {
            Band::Critical => "critical",
            Band::High => "high",
            Band::Moderate => "moderate",
            Band::Low => "low",
            _ => "unknown",
        };
        storage::save_fragility(
            tx,
            &FragileStructure {
                structure_id: fragility.structure_id.clone(),
                network: fragility.network.clone(),
                band: band_code.to_owned(),
                exposed_functions: exposed,
            },
        )
        .await
        .map_err(|e| HandlerError::Transient(e.into()))?;
        if band != Band::Critical && band != Band::High {
            return Ok(());
        }
        let Some(function) = most_exposed(&fragility) else {
            return Ok(());
        };
        let Some(place) = storage::structure_place(tx, &fragility.structure_id)
            .await
            .map_err(|e| HandlerError::Transient(e.into()))?
        else {
            // The snapshot precedes the assessment on the stream; retry until
            // the read model has it.
            return Err(HandlerError::Transient(anyhow::anyhow!(
                "structure {} not yet in the read model",
                fragility.structure_id
            )));
        };
        let holders = fragility
            .functions
            .iter()
            .find(|f| f.code == function)
            .map_or(0, |f| f.holder_ids.len());
        let band_fr = if band == Band::Critical { "critique" } else { "élevée" };
        let exposure = if holders == 0 {
            "personne ne l'assure"
        } else {
            "une seule personne l'assure"
        };
        let description = format!(
            "Proposition : fragilité {band_fr}, la fonction « {} » est exposée ({exposure}). Accompagner un membre de la structure jusqu'à l'autonomie.",
            label_fr(&function)
        );
        let opened = open_proposal(tx, &place, &function, description, self.app.today(), self.app.now())
            .await
            .map_err(|e| HandlerError::Transient(anyhow::anyhow!(e.to_string())))?;
        if let Some(row) = opened {
            tracing::info!(
                structure_id = %row.structure_id,
                function = %row.function,
                facilitator = row.facilitator_id.as_deref().unwrap_or("-"),
                "proactive facilitation proposal opened"
            );
        }
        Ok(())
    }
}

/// Type (and subject) of the alerting service's deadline escalation: [`DeadlineEscalated`]'s [`Event::TYPE`], named here
/// for the callers that match on strings.
pub const DEADLINE_ESCALATED: &str = DeadlineEscalated::TYPE;
/// The service whose stream (`VIGIE_ALERTING`) holds [`DEADLINE_ESCALATED`]:
/// consumers ensure it exists before creating their durable consumer.
pub const ALERTING: &str = "alerting";
/// The function submission rests on when an escalation does not name one.
pub const FUNDING_APPLICATIONS: &str = "funding_applications";
/// Days before the deadline by which co-submission support should be done.
pub const CO_SUBMISSION_LEAD_DAYS: u64 = 7;

/// When a co-submission should be done: J-7 before `deadline`, or `today`
/// when that day has passed.
pub fn co_submission_due(deadline: NaiveDate, today: NaiveDate) -> NaiveDate {
    deadline
        .checked_sub_days(Days::new(CO_SUBMISSION_LEAD_DAYS))
        .map_or(today, |due| due.max(today))
}

/// Opens a co-submission proposal when the alerting service escalates a
/// deadline (a call's stage approaching while submission rests on one
/// person, nobody, or people leaving): offered to the best facilitator for
/// the function like a fragility proposal, due at J-7. One open proposal per
/// structure and call (unique key): a replayed event is a duplicate for the
/// inbox, and a repeated escalation (new event, same call) opens nothing and
/// reserves nothing more. A structure the read model does not know yet is a
/// transient error (retried until its snapshot arrives); an escalation whose
/// deadline has already passed opens nothing.
pub struct AlertingEscalations {
    app: FacilitationApp,
}

impl AlertingEscalations {
    /// A consumer whose proposals use `app`'s clock.
    pub fn new(app: FacilitationApp) -> Self {
        AlertingEscalations { app }
    }
}

#[async_trait]
impl EventHandler for AlertingEscalations {
    fn name(&self) -> &str {
        "facilitation-alerting"
    }

    fn event_types(&self) -> Vec<String> {
        event_types![DeadlineEscalated]
    }

    async fn handle(&self, tx: &mut Transaction<'_, Any>, envelope: &Envelope) -> Result<(), HandlerError> {
        if !envelope.is::<DeadlineEscalated>() {
            return Ok(());
        }
        let permanent = |message: String| HandlerError::Permanent(anyhow::anyhow!(message));
        let event = envelope.decode::<DeadlineEscalated>()?;
        let structure_id = event.structure_id.trim();
        let call_id = event.call_id.trim();
        if structure_id.is_empty() || call_id.is_empty() {
            return Err(permanent("DeadlineEscalated without a structure or a call".to_owned()));
        }
        let deadline = event
            .deadline
            .as_ref()
            .and_then(date_from_pb)
            .ok_or_else(|| permanent(format!("DeadlineEscalated of call {call_id} without a valid deadline")))?;
        let today = self.app.today();
        if deadline < today {
            tracing::info!(structure_id, call_id, %deadline, "deadline escalation received after its deadline: no proposal");
            return Ok(());
        }
        let Some(place) = storage::structure_place(tx, structure_id)
            .await
            .map_err(|e| HandlerError::Transient(e.into()))?
        else {
            // Alerting matches structures from the same inventory events;
            // retry until this read model has the snapshot.
            return Err(HandlerError::Transient(anyhow::anyhow!(
                "structure {structure_id} not yet in the read model"
            )));
        };
        let function = match event.function.trim() {
            "" => FUNDING_APPLICATIONS,
            function => function,
        };
        let due_on = co_submission_due(deadline, today);
        let title = match event.call_title.trim() {
            "" => call_id,
            title => title,
        };
        let proposal = CallProposal {
            function: function.to_owned(),
            description: co_submission_description(&event, title, deadline, due_on),
            call: CallRef {
                call_id: call_id.to_owned(),
                title: title.to_owned(),
                deadline,
                url: event.url.trim().to_owned(),
            },
            due_on,
        };
        let opened = open_call_proposal(tx, &place, proposal, today, self.app.now())
            .await
            .map_err(|e| HandlerError::Transient(anyhow::anyhow!(e.to_string())))?;
        if let Some(row) = opened {
            tracing::info!(
                structure_id = %row.structure_id,
                call_id,
                due_on = %due_on,
                facilitator = row.facilitator_id.as_deref().unwrap_or("-"),
                "co-submission proposal opened on a deadline escalation"
            );
        }
        Ok(())
    }
}

/// The proposal's description, in French: the call, its stage and deadline,
/// why submission is at risk, and by when to help.
fn co_submission_description(event: &DeadlineEscalated, title: &str, deadline: NaiveDate, due: NaiveDate) -> String {
    if event.stage_kind == "report" {
        return report_description(event, title, deadline, due);
    }
    let stage = match event.stage_kind.as_str() {
        "letter_of_intent" => "lettre d'intention",
        "pre_deposit" => "pré-dépôt",
        "internal" => "échéance interne",
        _ => "dépôt",
    };
    let at = match event.time.as_deref().map(str::trim) {
        Some(time) if !time.is_empty() => {
            let zone = match event.timezone.trim() {
                "" => "Europe/Paris",
                zone => zone,
            };
            format!(" à {time} ({zone})")
        }
        _ => String::new(),
    };
    let why = match event.reason.as_str() {
        "orphan" => "personne dans la structure ne sait déposer un dossier",
        "spof" => "une seule personne sait déposer le dossier",
        "holders_leaving" => "les personnes qui savent déposer partent avant l'échéance",
        _ => "le dépôt repose sur une seule personne",
    };
    format!(
        "Co-dépôt : appel « {title} », {stage} le {}{at} ; {why}. Préparer et déposer le dossier avec un membre de la structure d'ici le {}.",
        deadline.format("%d/%m/%Y"),
        due.format("%d/%m/%Y")
    )
}

/// The description of a proposal on a reporting duty (issue 16: stage
/// `report`, function `funder_reporting`; the title names the duty and its
/// funder): a report owed to a funder, not a call to apply to.
fn report_description(event: &DeadlineEscalated, title: &str, deadline: NaiveDate, due: NaiveDate) -> String {
    let why = match event.reason.as_str() {
        "orphan" => "personne dans la structure ne sait rendre compte aux financeurs",
        "spof" => "une seule personne sait rendre compte aux financeurs",
        "holders_leaving" => "les personnes qui savent rendre compte aux financeurs partent avant l'échéance",
        _ => "le compte rendu repose sur une seule personne",
    };
    format!(
        "Compte rendu au financeur : « {title} », à envoyer au plus tard le {} ; {why}. \
         Préparer et envoyer le compte rendu avec un membre de la structure d'ici le {}.",
        deadline.format("%d/%m/%Y"),
        due.format("%d/%m/%Y")
    )
}
