//! Consumers of the federation service.
//!
//! [`RegionalReadModel`] (regional side) reduces the instance's own events to
//! the facts aggregates need — no name and no person is stored.
//! [`RegionSnapshots`] (national side) keeps the latest snapshot of each
//! region.

use async_trait::async_trait;
use chrono::Datelike;
use prost::Message;
use sqlx::{Any, Transaction};
use vigie_platform::events::{Envelope, EventHandler, HandlerError};
use vigie_proto::dates::date_from_pb;
use vigie_proto::events::v1::{
    CallAcknowledged, FacilitationTimeRecorded, FragilityAssessed, ReminderSent, StructureInventoried,
    TrainingCompleted,
};
use vigie_proto::federation::v1::RegionSnapshot;

use crate::convert;
use crate::events::{consumed, REGION_AGGREGATED};
use crate::storage::{self, measure};

fn permanent(what: &str, error: impl std::fmt::Display) -> HandlerError {
    HandlerError::Permanent(anyhow::anyhow!("{what}: {error}"))
}

fn transient(error: storage::StorageError) -> HandlerError {
    HandlerError::Transient(error.into())
}

fn decode<M: Message + Default>(envelope: &Envelope, name: &str) -> Result<M, HandlerError> {
    M::decode(envelope.payload.clone()).map_err(|e| permanent(&format!("undecodable {name}"), e))
}

fn date(value: Option<&vigie_proto::common::v1::Date>, what: &str) -> Result<chrono::NaiveDate, HandlerError> {
    value
        .and_then(date_from_pb)
        .ok_or_else(|| permanent(what, "missing or invalid date"))
}

/// Keeps `fe_structures`, `fe_deadlines`, `fe_acks` and `fe_activity`.
pub struct RegionalReadModel;

#[async_trait]
impl EventHandler for RegionalReadModel {
    fn name(&self) -> &str {
        "federation-region"
    }

    fn event_types(&self) -> Vec<String> {
        [
            consumed::STRUCTURE_INVENTORIED,
            consumed::FRAGILITY_ASSESSED,
            consumed::REMINDER_SENT,
            consumed::CALL_ACKNOWLEDGED,
            consumed::TIME_RECORDED,
            consumed::TRAINING_COMPLETED,
        ]
        .map(str::to_owned)
        .to_vec()
    }

    async fn handle(&self, tx: &mut Transaction<'_, Any>, envelope: &Envelope) -> Result<(), HandlerError> {
        let conn = &mut **tx;
        match envelope.event_type.as_str() {
            consumed::STRUCTURE_INVENTORIED => {
                let event: StructureInventoried = decode(envelope, "StructureInventoried")?;
                let s = event
                    .structure
                    .ok_or_else(|| permanent("StructureInventoried", "no structure"))?;
                let version = i64::try_from(s.version).unwrap_or(i64::MAX);
                storage::save_place(conn, &s.structure_id, &s.network, &s.department_code, version)
                    .await
                    .map_err(transient)?;
            }
            consumed::FRAGILITY_ASSESSED => {
                let event: FragilityAssessed = decode(envelope, "FragilityAssessed")?;
                let assessment = convert::assessment(&event).map_err(|e| permanent("FragilityAssessed", e))?;
                storage::save_assessment(conn, &assessment).await.map_err(transient)?;
            }
            consumed::REMINDER_SENT => {
                let event: ReminderSent = decode(envelope, "ReminderSent")?;
                let deadline = date(event.deadline.as_ref(), "ReminderSent.deadline")?;
                let sent_on = date(event.sent_on.as_ref(), "ReminderSent.sent_on")?;
                storage::save_deadline(conn, &event.structure_id, &event.call_id, &event.stage_kind, deadline)
                    .await
                    .map_err(transient)?;
                storage::add_activity(conn, &event.structure_id, sent_on.year(), measure::REMINDERS_SENT, 1)
                    .await
                    .map_err(transient)?;
            }
            consumed::CALL_ACKNOWLEDGED => {
                let event: CallAcknowledged = decode(envelope, "CallAcknowledged")?;
                let on = date(event.on.as_ref(), "CallAcknowledged.on")?;
                storage::save_ack(conn, &event.structure_id, &event.call_id, &event.status)
                    .await
                    .map_err(transient)?;
                storage::add_activity(conn, &event.structure_id, on.year(), measure::REMINDERS_ACKNOWLEDGED, 1)
                    .await
                    .map_err(transient)?;
            }
            consumed::TIME_RECORDED => {
                let event: FacilitationTimeRecorded = decode(envelope, "FacilitationTimeRecorded")?;
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
            consumed::TRAINING_COMPLETED => {
                let event: TrainingCompleted = decode(envelope, "TrainingCompleted")?;
                let on = date(event.completed_on.as_ref(), "TrainingCompleted.completed_on")?;
                storage::add_activity(conn, &event.structure_id, on.year(), measure::TRAINING_COMPLETIONS, 1)
                    .await
                    .map_err(transient)?;
            }
            other => return Err(permanent("unexpected event type", other)),
        }
        Ok(())
    }
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
        vec![REGION_AGGREGATED.to_owned()]
    }

    async fn handle(&self, tx: &mut Transaction<'_, Any>, envelope: &Envelope) -> Result<(), HandlerError> {
        let snapshot: RegionSnapshot = decode(envelope, "RegionSnapshot")?;
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
