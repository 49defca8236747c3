//! Events of other services that the inventory applies.
//!
//! `vigie.training.enrolment.completed.v1`: a completed training raises the
//! person's holdings (never lowers them), with evidence "training" and the
//! completion date as last practice. Applied in the consumer's transaction,
//! with its inbox row, so a redelivered event changes nothing.
//!
//! `vigie.facilitation.intervention.recorded.v1`: a facilitator's
//! intervention left a member of the structure autonomous on a function; the
//! holding is raised the same way, with evidence "facilitation" and the
//! intervention date as last practice.

use async_trait::async_trait;
use prost::Message;
use sqlx::{Any, Transaction};
use vigie_inventory_domain::model::{Evidence, HoldingRecord};
use vigie_platform::events::{Envelope, EventHandler, HandlerError};
use vigie_proto::events::v1::{InterventionRecorded, TrainingCompleted};

use crate::app::{HoldingChange, Inventory};
use crate::convert::date_from_pb;
use crate::error::InventoryError;

/// Type (and subject) of the training completion event.
pub const TRAINING_COMPLETED: &str = "vigie.training.enrolment.completed.v1";

/// Type (and subject) of the facilitation event of an intervention that left
/// a person autonomous on a function.
pub const INTERVENTION_RECORDED: &str = "vigie.facilitation.intervention.recorded.v1";

/// Raises holdings when a training is completed.
pub struct TrainingCompletedHandler {
    app: Inventory,
}

impl TrainingCompletedHandler {
    /// A handler applying completions to `app`'s inventory.
    pub fn new(app: Inventory) -> Self {
        TrainingCompletedHandler { app }
    }
}

#[async_trait]
impl EventHandler for TrainingCompletedHandler {
    fn name(&self) -> &str {
        "inventory-training-completed"
    }

    fn event_types(&self) -> Vec<String> {
        vec![TRAINING_COMPLETED.to_owned()]
    }

    async fn handle(&self, tx: &mut Transaction<'_, Any>, envelope: &Envelope) -> Result<(), HandlerError> {
        let event = TrainingCompleted::decode(envelope.payload.clone())
            .map_err(|error| HandlerError::Permanent(anyhow::anyhow!("undecodable TrainingCompleted: {error}")))?;
        let completed_on = event
            .completed_on
            .as_ref()
            .map(date_from_pb)
            .transpose()
            .map_err(|error| HandlerError::Permanent(anyhow::anyhow!("{error}")))?;
        for raise in &event.raises {
            let Ok(level) = u8::try_from(raise.level) else {
                return Err(HandlerError::Permanent(anyhow::anyhow!(
                    "level {} out of range",
                    raise.level
                )));
            };
            let holding = HoldingRecord {
                person_id: event.person_id.clone(),
                function: raise.function.clone(),
                level,
                last_practised: completed_on,
                evidence: Evidence::Training,
            };
            let today = self.app.today();
            match self
                .app
                .apply_holding(
                    tx,
                    HoldingChange {
                        holding,
                        raise_only: true,
                    },
                    today,
                )
                .await
            {
                Ok(_) => {}
                // The person left the structure, or the structure no longer
                // records this function: nothing to raise, and retrying
                // would not help.
                Err(InventoryError::NotFound(what)) => {
                    tracing::info!(what = %what, person_id = %event.person_id, "training completion not applicable");
                }
                Err(InventoryError::Invalid(message)) => {
                    return Err(HandlerError::Permanent(anyhow::anyhow!(message)));
                }
                Err(other) => return Err(HandlerError::Transient(anyhow::anyhow!(other.to_string()))),
            }
        }
        Ok(())
    }
}

/// Raises a holding when a facilitation intervention left a person autonomous.
pub struct InterventionRecordedHandler {
    app: Inventory,
}

impl InterventionRecordedHandler {
    /// A handler applying interventions to `app`'s inventory.
    pub fn new(app: Inventory) -> Self {
        InterventionRecordedHandler { app }
    }
}

#[async_trait]
impl EventHandler for InterventionRecordedHandler {
    fn name(&self) -> &str {
        "inventory-facilitation-intervention"
    }

    fn event_types(&self) -> Vec<String> {
        vec![INTERVENTION_RECORDED.to_owned()]
    }

    async fn handle(&self, tx: &mut Transaction<'_, Any>, envelope: &Envelope) -> Result<(), HandlerError> {
        let event = InterventionRecorded::decode(envelope.payload.clone())
            .map_err(|error| HandlerError::Permanent(anyhow::anyhow!("undecodable InterventionRecorded: {error}")))?;
        let on = event
            .on
            .as_ref()
            .map(date_from_pb)
            .transpose()
            .map_err(|error| HandlerError::Permanent(anyhow::anyhow!("{error}")))?;
        let Ok(level) = u8::try_from(event.autonomy_after) else {
            return Err(HandlerError::Permanent(anyhow::anyhow!(
                "level {} out of range",
                event.autonomy_after
            )));
        };
        let holding = HoldingRecord {
            person_id: event.person_id.clone(),
            function: event.function.clone(),
            level,
            last_practised: on,
            evidence: Evidence::Facilitation,
        };
        let today = self.app.today();
        match self
            .app
            .apply_holding(
                tx,
                HoldingChange {
                    holding,
                    raise_only: true,
                },
                today,
            )
            .await
        {
            Ok(_) => Ok(()),
            // The person left the structure, or the structure no longer
            // records this function: nothing to raise, and retrying would
            // not help.
            Err(InventoryError::NotFound(what)) => {
                tracing::info!(what = %what, person_id = %event.person_id, "facilitation intervention not applicable");
                Ok(())
            }
            Err(InventoryError::Invalid(message)) => Err(HandlerError::Permanent(anyhow::anyhow!(message))),
            Err(other) => Err(HandlerError::Transient(anyhow::anyhow!(other.to_string()))),
        }
    }
}
