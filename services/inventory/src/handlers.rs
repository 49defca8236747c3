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
use sqlx::{Any, Transaction};
use vigie_fragility_model::model::{Evidence, HoldingRecord};
use vigie_platform::event_types;
use vigie_platform::events::{Envelope, EventHandler, HandlerError};
use vigie_proto::events::v1::{InterventionRecorded, TrainingCompleted};

use crate::app::{HoldingChange, Inventory};
use crate::convert::date_from_pb;
use crate::error::InventoryError;

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
        event_types![TrainingCompleted]
    }

    async fn handle(&self, tx: &mut Transaction<'_, Any>, envelope: &Envelope) -> Result<(), HandlerError> {
        let event = envelope.decode::<TrainingCompleted>()?;
        let completed_on = date(event.completed_on.as_ref())?;
        for raise in &event.raises {
            let source = Raise {
                person_id: &event.person_id,
                function: &raise.function,
                level: raise.level,
                on: completed_on,
            };
            source.apply(&self.app, tx, Evidence::Training).await?;
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
        event_types![InterventionRecorded]
    }

    async fn handle(&self, tx: &mut Transaction<'_, Any>, envelope: &Envelope) -> Result<(), HandlerError> {
        let event = envelope.decode::<InterventionRecorded>()?;
        let on = date(event.on.as_ref())?;
        let source = Raise {
            person_id: &event.person_id,
            function: &event.function,
            level: event.autonomy_after,
            on,
        };
        source.apply(&self.app, tx, Evidence::Facilitation).await
    }
}

/// A decoded date of an event; an impossible one is a poison message.
fn date(value: Option<&vigie_proto::common::v1::Date>) -> Result<Option<chrono::NaiveDate>, HandlerError> {
    value
        .map(date_from_pb)
        .transpose()
        .map_err(|error| HandlerError::Permanent(anyhow::anyhow!("{error}")))
}

/// One holding another service asks to raise (training completed,
/// intervention left the person autonomous): the same rule for both.
struct Raise<'a> {
    person_id: &'a str,
    function: &'a str,
    level: u32,
    on: Option<chrono::NaiveDate>,
}

impl Raise<'_> {
    /// Raises the holding (never lowers it) with `evidence`, in the
    /// consumer's transaction. A person who left the structure, or a
    /// function it no longer records, is skipped: retrying would not help.
    async fn apply(
        &self,
        app: &Inventory,
        tx: &mut Transaction<'_, Any>,
        evidence: Evidence,
    ) -> Result<(), HandlerError> {
        let Ok(level) = u8::try_from(self.level) else {
            return Err(HandlerError::Permanent(anyhow::anyhow!(
                "level {} out of range",
                self.level
            )));
        };
        let holding = HoldingRecord {
            person_id: self.person_id.to_owned(),
            function: self.function.to_owned(),
            level,
            last_practised: self.on,
            evidence,
        };
        match app
            .apply_holding(
                tx,
                HoldingChange {
                    holding,
                    raise_only: true,
                },
                app.today(),
            )
            .await
        {
            Ok(_) => Ok(()),
            Err(InventoryError::NotFound(what)) => {
                tracing::info!(what = %what, person_id = %self.person_id, evidence = %evidence, "holding raise not applicable");
                Ok(())
            }
            Err(InventoryError::Invalid(message)) => Err(HandlerError::Permanent(anyhow::anyhow!(message))),
            Err(other) => Err(HandlerError::Transient(anyhow::anyhow!(other.to_string()))),
        }
    }
}
