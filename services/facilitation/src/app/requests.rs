//! Help requests from a structure, and the facilitator's answer.

use chrono::NaiveDate;
use vigie_facilitation_domain::model::{Modality, Urgency};
use vigie_platform::words;
use vigie_platform::words::Words;

use super::views::HelpRequest;
use crate::error::FacilitationError;
use crate::storage;

use super::matching::{offer, unassigned};
use super::{code_or, FacilitationApp, ACCEPTED, CLOSED, DEFAULT_MINUTES, ESCALATED, KIND_HELP, OFFERED, UNASSIGNED};

/// What a structure asks.
#[derive(Debug, Clone, Default)]
pub struct HelpInput {
    /// The structure.
    pub structure_id: String,
    /// The vital function concerned.
    pub function: String,
    /// What is needed.
    pub description: String,
    /// low, normal (default), high.
    pub urgency: Option<String>,
    /// on_site, remote, either (default).
    pub modality: Option<String>,
    /// Deadline.
    pub due: Option<NaiveDate>,
    /// Estimated minutes (default 120).
    pub estimated_minutes: Option<u32>,
}

impl FacilitationApp {
    /// Creates a help request and offers it to the best ranked facilitator
    /// with enough internal time left this week (reserving it); without one
    /// the request is kept `unassigned`, with the reason.
    ///
    /// # Errors
    /// [`FacilitationError::NotFound`] for a structure the inventory has not
    /// published; [`FacilitationError::Invalid`] for a malformed request.
    pub async fn request_help(&self, input: HelpInput) -> Result<HelpRequest, FacilitationError> {
        let structure_id = input.structure_id.trim();
        let function = input.function.trim();
        if function.is_empty() {
            return Err(FacilitationError::Invalid(words!(
                "la fonction est requise",
                "the function is required"
            )));
        }
        if input.description.trim().is_empty() {
            return Err(FacilitationError::Invalid(words!(
                "la description est requise",
                "the description is required"
            )));
        }
        let urgency = code_or(input.urgency.as_deref(), Urgency::Normal, |text| {
            words!(
                "urgence « {text} » inconnue (low, normal, high)",
                "unknown urgency “{text}” (low, normal, high)"
            )
        })?
        .as_str()
        .to_owned();
        let modality = code_or(input.modality.as_deref(), Modality::Either, |text| {
            words!(
                "modalité « {text} » inconnue (on_site, remote, either)",
                "unknown modality “{text}” (on_site, remote, either)"
            )
        })?
        .as_str()
        .to_owned();
        let minutes = input.estimated_minutes.filter(|m| *m > 0).unwrap_or(DEFAULT_MINUTES);
        let today = self.today();
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let place = storage::structure_place(&mut tx, structure_id).await?.ok_or_else(|| {
            FacilitationError::NotFound(words!(
                "structure « {structure_id} » (absente de l'inventaire)",
                "structure “{structure_id}” (not in the inventory)"
            ))
        })?;
        let mut row = HelpRequest {
            description: input.description.trim().to_owned(),
            urgency,
            modality,
            due_on: input.due,
            estimated_minutes: minutes,
            ..unassigned("request", KIND_HELP, &place, function, today, now)
        };
        offer(&mut tx, &mut row, &place, today, now).await?;
        storage::insert_request(&mut tx, &row).await?;
        tx.commit().await?;
        Ok(row)
    }

    /// The offered facilitator accepts, or declines: the reserved minutes
    /// are released and the request is offered to the next ranked one.
    ///
    /// # Errors
    /// [`FacilitationError::NotFound`] for an unknown request;
    /// [`FacilitationError::Conflict`] when it is not waiting for an answer.
    pub async fn respond(&self, request_id: &str, accept: bool) -> Result<HelpRequest, FacilitationError> {
        let request_id = request_id.trim();
        let today = self.today();
        let now = self.now();
        let mut tx = self.db.begin().await?;
        if !storage::lock_request(&mut tx, request_id).await? {
            return Err(FacilitationError::NotFound(words!(
                "demande « {request_id} »",
                "request “{request_id}”"
            )));
        }
        let mut row = storage::request(&mut tx, request_id)
            .await?
            .ok_or_else(|| FacilitationError::NotFound(words!("demande « {request_id} »", "request “{request_id}”")))?;
        if row.status != OFFERED {
            return Err(FacilitationError::Conflict(Words::new(
                format!(
                    "la demande « {request_id} » n'attend pas de réponse ({})",
                    status_fr(&row.status)
                ),
                format!(
                    "request “{request_id}” is not waiting for an answer ({})",
                    status_en(&row.status)
                ),
            )));
        }
        let Some(facilitator) = row.facilitator_id.clone() else {
            return Err(FacilitationError::Conflict(words!(
                "la demande « {request_id} » n'est proposée à personne",
                "request “{request_id}” is offered to nobody"
            )));
        };
        if accept {
            row.status = ACCEPTED.to_owned();
            row.accepted_at = Some(now);
        } else {
            if let Some(week) = row.week_start {
                storage::release(&mut tx, &facilitator, week, row.estimated_minutes).await?;
            }
            row.declined_by.push(facilitator);
            let place = storage::structure_place(&mut tx, &row.structure_id)
                .await?
                .ok_or_else(|| {
                    FacilitationError::NotFound(words!("structure « {} »", "structure “{}”", row.structure_id))
                })?;
            offer(&mut tx, &mut row, &place, today, now).await?;
        }
        storage::update_request(&mut tx, &row).await?;
        tx.commit().await?;
        Ok(row)
    }
}

/// A status in French, for messages.
pub fn status_fr(status: &str) -> &str {
    match status {
        OFFERED => "proposée à un facilitateur",
        ACCEPTED => "acceptée",
        UNASSIGNED => "sans facilitateur",
        CLOSED => "close",
        ESCALATED => "transmise au coordinateur",
        other => other,
    }
}

/// A request status in English words, for `--lang en`.
pub fn status_en(status: &str) -> &str {
    match status {
        OFFERED => "offered to a facilitator",
        ACCEPTED => "accepted",
        UNASSIGNED => "without a facilitator",
        CLOSED => "closed",
        ESCALATED => "escalated to the coordinator",
        other => other,
    }
}
