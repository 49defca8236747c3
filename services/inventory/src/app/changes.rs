//! The common tail of every change: assess the structures a transaction
//! touched, record the assessments whose result changed, and append the
//! matching events — all inside the caller's transaction.

use chrono::NaiveDate;
use sqlx::{Any, Transaction};
use tracing::Instrument;
use vigie_fragility_model::explain::Lang;
use vigie_fragility_model::fragility::{assess, Assessment, Band};

use super::views::VersionedInventory;
use crate::convert::{fragility_to_pb, structure_to_pb};
use crate::error::InventoryError;
use crate::events;
use crate::storage::{self, NewAssessment, StoredAssessment};

use super::Inventory;

/// How many events a change appended.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Appended {
    /// `structure.inventoried` events.
    pub inventoried: u64,
    /// `structure.fragility_assessed` events.
    pub assessed: u64,
}

impl Appended {
    /// Total events.
    pub fn total(&self) -> u64 {
        self.inventoried + self.assessed
    }
}

/// A canonical text of everything a reader sees in an assessment except the
/// evaluation date: an event is published when, and only when, it changes.
pub fn fingerprint(a: &Assessment) -> String {
    let key_person = a
        .top_key_person
        .as_ref()
        .map(|kp| format!("{}:{:.6}", kp.person_id, kp.share))
        .unwrap_or_default();
    let functions: Vec<String> = a
        .functions
        .iter()
        .map(|f| format!("{}={}@{:.6}", f.code, f.holders.join("+"), f.risk))
        .collect();
    format!(
        "{}|{:?}|{:?}|{}|{}|{}|{:.6}|{}",
        a.band.as_str(),
        a.score,
        a.truck_factor,
        a.orphan_functions.join(";"),
        a.spof_functions.join(";"),
        key_person,
        a.director_dependency,
        functions.join(";")
    )
}

/// Which assessments [`Inventory::assess_changes`] publishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Publish {
    /// Only those whose result changed (every change, the daily re-assessment).
    Changed,
    /// Every one, unchanged results too (a resync restates the current state).
    All,
}

impl Inventory {
    /// Publishes `structure.inventoried` for each changed structure, then
    /// re-assesses them on `today` and publishes `fragility_assessed` where the
    /// result differs from the recorded one.
    ///
    /// # Errors
    /// [`InventoryError`] on storage or outbox failure (the caller rolls back).
    pub(crate) async fn record_changes(
        &self,
        tx: &mut Transaction<'_, Any>,
        changed: &[VersionedInventory],
        today: NaiveDate,
    ) -> Result<Appended, InventoryError> {
        let mut drafts: Vec<_> = changed
            .iter()
            .map(|stored| events::structure_inventoried(structure_to_pb(stored)))
            .collect();
        let inventoried = drafts.len() as u64;
        let assessed = self
            .assess_changes(tx, changed, today, Publish::Changed, &mut drafts)
            .await?;
        events::append(tx, drafts).await?;
        Ok(Appended { inventoried, assessed })
    }

    /// Assesses `structures` on `today`; records and publishes those whose
    /// result changed (daily re-assessment). Returns the number of
    /// `fragility_assessed` events.
    pub(crate) async fn reassess(
        &self,
        tx: &mut Transaction<'_, Any>,
        structures: &[VersionedInventory],
        today: NaiveDate,
    ) -> Result<u64, InventoryError> {
        let mut drafts = Vec::new();
        let assessed = self
            .assess_changes(tx, structures, today, Publish::Changed, &mut drafts)
            .await?;
        events::append(tx, drafts).await?;
        Ok(assessed)
    }

    /// Assesses `structures`, records the results that changed and adds the
    /// events `publish` asks for to `drafts`; returns how many. Runs in a
    /// `fragility.assess` span (counts only: no structure ids), the last step
    /// of the trace of a change that came as an event (a training completed…).
    pub(super) async fn assess_changes(
        &self,
        tx: &mut Transaction<'_, Any>,
        structures: &[VersionedInventory],
        today: NaiveDate,
        publish: Publish,
        drafts: &mut Vec<vigie_platform::events::EventDraft>,
    ) -> Result<u64, InventoryError> {
        let span = tracing::info_span!(
            "fragility.assess",
            otel.kind = "internal",
            structures = structures.len(),
            changed = tracing::field::Empty,
        );
        let changed = self
            .assess_and_record(tx, structures, today, publish, drafts)
            .instrument(span.clone())
            .await?;
        span.record("changed", changed);
        Ok(changed)
    }

    async fn assess_and_record(
        &self,
        tx: &mut Transaction<'_, Any>,
        structures: &[VersionedInventory],
        today: NaiveDate,
        publish: Publish,
        drafts: &mut Vec<vigie_platform::events::EventDraft>,
    ) -> Result<u64, InventoryError> {
        let ids: Vec<String> = structures.iter().map(|s| s.inventory.structure.id.clone()).collect();
        let previous = storage::load_assessments(tx, &ids).await?;
        let mut to_save = Vec::new();
        let mut events = 0;
        for stored in structures {
            let inv = &stored.inventory;
            let assessment = assess(inv, today, &self.params);
            let print = fingerprint(&assessment);
            let before = previous.get(&inv.structure.id);
            let unchanged = before.is_some_and(|b| b.fingerprint == print);
            if unchanged && publish == Publish::Changed {
                continue;
            }
            let previous_band = before.map(|b| (b.band.parse::<Band>().unwrap_or(Band::Unknown), b.score));
            drafts.push(events::fragility_assessed(
                fragility_to_pb(inv, &assessment, Lang::Fr),
                previous_band,
            ));
            events += 1;
            if unchanged {
                continue;
            }
            to_save.push(NewAssessment {
                structure_id: inv.structure.id.clone(),
                network: inv.structure.network.clone(),
                stored: StoredAssessment {
                    band: assessment.band.as_str().to_owned(),
                    score: assessment.score.map(i64::from),
                    fingerprint: print,
                    evaluated_on: today,
                },
            });
        }
        storage::save_assessments(tx, &to_save).await?;
        Ok(events)
    }
}
