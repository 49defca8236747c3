//! Consumers of the federation service.
//!
//! [`RegionalReadModel`] (regional side) reduces the instance's own events to
//! the facts aggregates need — no name and no person is stored.
//! [`RegionSnapshots`] (national side) keeps the latest snapshot of each
//! region.

use async_trait::async_trait;
use chrono::Datelike;
use sqlx::{Any, Transaction};
use vigie_platform::event_types;
use vigie_platform::events::{Envelope, Event, EventHandler, HandlerError};
use vigie_proto::dates::date_from_pb;
use vigie_proto::events::v1::{
    CallAcknowledged, FacilitationTimeRecorded, FragilityAssessed, GrantRecorded, ObligationAcknowledged,
    ObligationReminded, ReminderSent, StructureInventoried, TrainingCompleted,
};
use vigie_proto::federation::v1::RegionSnapshot;

use crate::convert;
use crate::storage::{self, measure};

fn permanent(what: &str, error: impl std::fmt::Display) -> HandlerError {
    HandlerError::Permanent(anyhow::anyhow!("{what}: {error}"))
}

fn transient(error: storage::StorageError) -> HandlerError {
    HandlerError::Transient(error.into())
}

fn date(value: Option<&vigie_proto::common::v1::Date>, what: &str) -> Result<chrono::NaiveDate, HandlerError> {
    value
        .and_then(date_from_pb)
        .ok_or_else(|| permanent(what, "missing or invalid date"))
}

/// Longest identifier (structure, grant, obligation key) a grant or duty event
/// may carry: an event beyond it is malformed, not truncated.
const MAX_ID: usize = 200;

fn id<'a>(value: &'a str, what: &str) -> Result<&'a str, HandlerError> {
    if value.is_empty() || value.len() > MAX_ID {
        return Err(permanent(
            what,
            format!("identifiant vide ou de plus de {MAX_ID} octets"),
        ));
    }
    Ok(value)
}

/// Keeps `fe_structures`, `fe_deadlines`, `fe_acks`, `fe_activity`, and
/// (issue 16) `fe_grants` and `fe_duties`.
pub struct RegionalReadModel;

#[async_trait]
impl EventHandler for RegionalReadModel {
    fn name(&self) -> &str {
        "federation-region"
    }

    fn event_types(&self) -> Vec<String> {
        event_types![
            StructureInventoried,
            FragilityAssessed,
            ReminderSent,
            CallAcknowledged,
            FacilitationTimeRecorded,
            TrainingCompleted,
            GrantRecorded,
            ObligationReminded,
            ObligationAcknowledged,
        ]
    }

    async fn handle(&self, tx: &mut Transaction<'_, Any>, envelope: &Envelope) -> Result<(), HandlerError> {
        let conn = &mut **tx;
        match envelope.event_type.as_str() {
            StructureInventoried::TYPE => {
                let event = envelope.decode::<StructureInventoried>()?;
                let s = event
                    .structure
                    .ok_or_else(|| permanent("StructureInventoried", "no structure"))?;
                let version = i64::try_from(s.version).unwrap_or(i64::MAX);
                storage::save_place(conn, &s.structure_id, &s.network, &s.department_code, version)
                    .await
                    .map_err(transient)?;
            }
            FragilityAssessed::TYPE => {
                let event = envelope.decode::<FragilityAssessed>()?;
                let assessment = convert::assessment(&event).map_err(|e| permanent("FragilityAssessed", e))?;
                storage::save_assessment(conn, &assessment).await.map_err(transient)?;
            }
            ReminderSent::TYPE => {
                let event = envelope.decode::<ReminderSent>()?;
                let deadline = date(event.deadline.as_ref(), "ReminderSent.deadline")?;
                let sent_on = date(event.sent_on.as_ref(), "ReminderSent.sent_on")?;
                storage::save_deadline(conn, &event.structure_id, &event.call_id, &event.stage_kind, deadline)
                    .await
                    .map_err(transient)?;
                storage::add_activity(conn, &event.structure_id, sent_on.year(), measure::REMINDERS_SENT, 1)
                    .await
                    .map_err(transient)?;
            }
            CallAcknowledged::TYPE => {
                let event = envelope.decode::<CallAcknowledged>()?;
                let on = date(event.on.as_ref(), "CallAcknowledged.on")?;
                storage::save_ack(conn, &event.structure_id, &event.call_id, &event.status)
                    .await
                    .map_err(transient)?;
                storage::add_activity(conn, &event.structure_id, on.year(), measure::REMINDERS_ACKNOWLEDGED, 1)
                    .await
                    .map_err(transient)?;
            }
            FacilitationTimeRecorded::TYPE => {
                let event = envelope.decode::<FacilitationTimeRecorded>()?;
                let on = date(event.on.as_ref(), "FacilitationTimeRecorded.on")?;
                let which = match event.beneficiary.as_str() {
                    "internal" => measure::MINUTES_INTERNAL,
                    "external" => measure::MINUTES_EXTERNAL,
                    other => return Err(permanent("FacilitationTimeRecorded.beneficiary", other)),
                };
                storage::add_activity(conn, &event.structure_id, on.year(), which, u64::from(event.minutes))
                    .await
                    .map_err(transient)?;
            }
            TrainingCompleted::TYPE => {
                let event = envelope.decode::<TrainingCompleted>()?;
                let on = date(event.completed_on.as_ref(), "TrainingCompleted.completed_on")?;
                storage::add_activity(conn, &event.structure_id, on.year(), measure::TRAINING_COMPLETIONS, 1)
                    .await
                    .map_err(transient)?;
            }
            GrantRecorded::TYPE => grant_recorded(conn, envelope).await?,
            ObligationReminded::TYPE => obligation_reminded(conn, envelope).await?,
            ObligationAcknowledged::TYPE => obligation_acknowledged(conn, envelope).await?,
            other => return Err(permanent("unexpected event type", other)),
        }
        Ok(())
    }
}

/// A decision on a grant: its stage, amount and date, nothing else (the
/// funder and the title stay in the alerting service).
async fn grant_recorded(conn: &mut sqlx::AnyConnection, envelope: &Envelope) -> Result<(), HandlerError> {
    let event = envelope.decode::<GrantRecorded>()?;
    let won = match event.stage.as_str() {
        "won" => true,
        "refused" => false,
        other => return Err(permanent("GrantRecorded.stage", format!("étape inconnue {other:?}"))),
    };
    let amount_cents = u64::try_from(event.amount_granted_cents)
        .map_err(|_| permanent("GrantRecorded.amount_granted_cents", "montant négatif"))?;
    let decision = storage::GrantDecision {
        grant_id: id(&event.grant_id, "GrantRecorded.grant_id")?.to_owned(),
        structure_id: id(&event.structure_id, "GrantRecorded.structure_id")?.to_owned(),
        won,
        amount_cents: if won { amount_cents } else { 0 },
        on: date(event.on.as_ref(), "GrantRecorded.on")?,
    };
    storage::save_grant(conn, &decision).await.map_err(transient)?;
    Ok(())
}

/// A reminder of a reporting duty: the region learns the duty and its due date.
async fn obligation_reminded(conn: &mut sqlx::AnyConnection, envelope: &Envelope) -> Result<(), HandlerError> {
    let event = envelope.decode::<ObligationReminded>()?;
    let structure = id(&event.structure_id, "ObligationReminded.structure_id")?;
    let key = id(&event.obligation_key, "ObligationReminded.obligation_key")?;
    let due = date(event.due.as_ref(), "ObligationReminded.due")?;
    let sent_on = date(event.sent_on.as_ref(), "ObligationReminded.sent_on")?;
    storage::save_duty_due(conn, structure, key, due, sent_on)
        .await
        .map_err(transient)
}

/// A duty marked sent (no longer at risk) or taken back (at risk again).
async fn obligation_acknowledged(conn: &mut sqlx::AnyConnection, envelope: &Envelope) -> Result<(), HandlerError> {
    let event = envelope.decode::<ObligationAcknowledged>()?;
    let structure = id(&event.structure_id, "ObligationAcknowledged.structure_id")?;
    let key = id(&event.obligation_key, "ObligationAcknowledged.obligation_key")?;
    if event.status != storage::SENT && !event.status.is_empty() {
        return Err(permanent(
            "ObligationAcknowledged.status",
            format!("statut inconnu {:?}", event.status),
        ));
    }
    let on = date(event.on.as_ref(), "ObligationAcknowledged.on")?;
    if let Some(due) = event.due.as_ref().and_then(date_from_pb) {
        storage::save_duty_due(conn, structure, key, due, on)
            .await
            .map_err(transient)?;
    }
    storage::save_duty_status(conn, structure, key, &event.status, on)
        .await
        .map_err(transient)
}

/// Keeps the latest snapshot of each region (`fe_regions`), national side.
/// A snapshot is checked before it is kept: a malformed one, or one that
/// carries a value in a suppressed cell, goes to the dead letters.
pub struct RegionSnapshots {
    clock: crate::app::Now,
}

impl RegionSnapshots {
    /// The consumer, stamping receptions with `clock`.
    pub fn new(clock: crate::app::Now) -> Self {
        RegionSnapshots { clock }
    }
}

#[async_trait]
impl EventHandler for RegionSnapshots {
    fn name(&self) -> &str {
        "federation-national"
    }

    fn event_types(&self) -> Vec<String> {
        event_types![RegionSnapshot]
    }

    async fn handle(&self, tx: &mut Transaction<'_, Any>, envelope: &Envelope) -> Result<(), HandlerError> {
        let snapshot = envelope.decode::<RegionSnapshot>()?;
        // The envelope's subject is the region as the transport vouches for
        // it (on the national hub, the stream source the server recorded,
        // never the payload): a region cannot speak for another.
        if snapshot.region != envelope.subject {
            return Err(permanent(
                "RegionSnapshot",
                format!(
                    "region {:?} sent by the source of {:?}",
                    snapshot.region, envelope.subject
                ),
            ));
        }
        let row = convert::received(&snapshot, &(self.clock)()).map_err(|e| permanent("RegionSnapshot", e))?;
        if storage::save_region(tx, &row).await.map_err(transient)? {
            tracing::info!(region = %row.region, sequence = row.sequence, "region snapshot received");
        }
        Ok(())
    }
}
