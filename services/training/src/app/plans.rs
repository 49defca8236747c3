//! Training plans: for each orphan or single-point-of-failure function, who
//! should learn it, with which training and session, and the fragility
//! predicted afterwards (computed by the inventory's own `assess`).

use chrono::NaiveDate;
use prost::Message;
use vigie_fragility_model::model::{StructureInventory, StructureRecord};
use vigie_inventory_snapshot::structure_from_pb;
use vigie_platform::words;
use vigie_proto::inventory::v1 as inv;
use vigie_training_domain::plan::{network_plan, plan, NetworkPlanLine, Plan, PlanParams, SessionSeats};

use crate::error::TrainingError;
use crate::storage;

use super::TrainingApp;

impl TrainingApp {
    /// The plan of one structure on `at` (today by default).
    ///
    /// # Errors
    /// [`TrainingError::NotFound`] when the structure is not (yet) known from
    /// the inventory's events.
    pub async fn plan(
        &self,
        structure_id: &str,
        at: Option<NaiveDate>,
    ) -> Result<(StructureInventory, Plan), TrainingError> {
        let at = at.unwrap_or_else(|| self.today());
        let (inventories, trainings, seats) = self.plan_inputs(Some(structure_id), None).await?;
        let inventory = inventories.into_iter().next().ok_or_else(|| {
            TrainingError::NotFound(words!("structure « {structure_id} »", "structure “{structure_id}”"))
        })?;
        let plan = plan(
            &inventory,
            &trainings,
            &seats,
            at,
            &self.fragility,
            &PlanParams::default(),
        );
        Ok((inventory, plan))
    }

    /// Which trainings to organise where, for how many people, in a network.
    ///
    /// # Errors
    /// Storage errors.
    pub async fn network_plan(
        &self,
        network: &str,
        at: Option<NaiveDate>,
    ) -> Result<Vec<NetworkPlanLine>, TrainingError> {
        let at = at.unwrap_or_else(|| self.today());
        let (inventories, trainings, seats) = self.plan_inputs(None, Some(network)).await?;
        let plans: Vec<(StructureRecord, Plan)> = inventories
            .iter()
            .map(|inventory| {
                (
                    inventory.structure.clone(),
                    plan(
                        inventory,
                        &trainings,
                        &seats,
                        at,
                        &self.fragility,
                        &PlanParams::default(),
                    ),
                )
            })
            .collect();
        Ok(network_plan(&plans))
    }

    async fn plan_inputs(
        &self,
        structure: Option<&str>,
        network: Option<&str>,
    ) -> Result<
        (
            Vec<StructureInventory>,
            Vec<vigie_training_domain::model::Training>,
            Vec<SessionSeats>,
        ),
        TrainingError,
    > {
        let mut conn = self.db.pool().acquire().await?;
        let snapshots = storage::snapshots(&mut conn, structure, network).await?;
        let trainings = storage::trainings(&mut conn).await?;
        let seats = storage::sessions(&mut conn, None)
            .await?
            .into_iter()
            .map(|s| SessionSeats {
                seats_left: s.session.capacity.saturating_sub(s.enrolled),
                session: s.session,
            })
            .collect();
        let inventories = snapshots
            .iter()
            .map(|bytes| {
                let structure = inv::Structure::decode(bytes.as_slice()).map_err(|e| {
                    TrainingError::Invalid(words!("instantané illisible : {e}", "unreadable snapshot: {e}"))
                })?;
                structure_from_pb(&structure).map_err(TrainingError::Invalid)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok((inventories, trainings, seats))
    }
}
