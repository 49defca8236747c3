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

use async_trait::async_trait;
use prost::Message;
use sqlx::{Any, Transaction};
use vigie_facilitation_domain::matching::StructurePlace;
use vigie_facilitation_domain::report::FragileStructure;
use vigie_inventory_domain::catalogue::label_fr;
use vigie_platform::events::{Envelope, EventHandler, HandlerError};
use vigie_proto::events::v1::{FragilityAssessed, StructureInventoried};
use vigie_proto::inventory::v1::{Band, StructureFragility};

use crate::app::{open_proposal, FacilitationApp};
use crate::storage::{self, Snapshot};

/// Type (and subject) of the inventory snapshot event.
pub const STRUCTURE_INVENTORIED: &str = "vigie.inventory.structure.inventoried.v1";
/// Type (and subject) of the inventory fragility event.
pub const FRAGILITY_ASSESSED: &str = "vigie.inventory.structure.fragility_assessed.v1";

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
        vec![STRUCTURE_INVENTORIED.to_owned(), FRAGILITY_ASSESSED.to_owned()]
    }

    async fn handle(&self, tx: &mut Transaction<'_, Any>, envelope: &Envelope) -> Result<(), HandlerError> {
        match envelope.event_type.as_str() {
            STRUCTURE_INVENTORIED => inventoried(tx, envelope).await,
            FRAGILITY_ASSESSED => self.fragility(tx, envelope).await,
            _ => Ok(()),
        }
    }
}

async fn inventoried(tx: &mut Transaction<'_, Any>, envelope: &Envelope) -> Result<(), HandlerError> {
    let event = StructureInventoried::decode(envelope.payload.clone())
        .map_err(|error| HandlerError::Permanent(anyhow::anyhow!("undecodable StructureInventoried: {error}")))?;
    let structure = event
        .structure
        .ok_or_else(|| HandlerError::Permanent(anyhow::anyhow!("StructureInventoried without a structure")))?;
    let version = i64::try_from(structure.version).unwrap_or(i64::MAX);
    let held = storage::structure_version(tx, &structure.structure_id)
        .await
        .map_err(|e| HandlerError::Transient(e.into()))?;
    if held.is_some_and(|held| held >= version) {
        return Ok(()); // stale or replayed snapshot
    }
    let snapshot = Snapshot {
        place: StructurePlace {
            structure_id: structure.structure_id.clone(),
            network: structure.network.clone(),
            commune_insee: structure.commune_insee.clone(),
            department_code: structure.department_code.clone(),
        },
        version,
        people: structure.people.iter().map(|p| p.person_id.clone()).collect(),
        bytes: structure.encode_to_vec(),
    };
    storage::save_snapshot(tx, &snapshot)
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
        let event = FragilityAssessed::decode(envelope.payload.clone())
            .map_err(|error| HandlerError::Permanent(anyhow::anyhow!("undecodable FragilityAssessed: {error}")))?;
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
