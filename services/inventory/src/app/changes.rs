//! The common tail of every change: assess the structures a transaction
//! touched, record the assessments whose result changed, and append the
//! matching events — all inside the caller's transaction.
//!
//! The work is in three steps so that an import can compute a batch's
//! events on another core while its rows are written: read the previous
//! assessments ([`Inventory::previous_assessments`]), compute the events and
//! assessments ([`prepare_changes`], CPU only), write them
//! ([`Inventory::write_prepared`]).

use std::collections::HashMap;

use chrono::NaiveDate;
use sqlx::{Any, Transaction};
use tracing::Instrument;
use vigie_fragility_model::explain::Lang;
use vigie_fragility_model::fragility::{assess, Assessment, Band, FragilityParams};
use vigie_platform::events::EventDraft;

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

/// The events and assessments of a change, computed and not yet written.
#[derive(Debug, Default)]
pub(crate) struct Prepared {
    /// `structure.inventoried`, one per changed structure, in order.
    inventoried: Vec<EventDraft>,
    /// `fragility_assessed`, after all of them (as consumers always saw).
    assessed: Vec<EventDraft>,
    to_save: Vec<NewAssessment>,
    appended: Appended,
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
        let previous = self.previous_assessments(tx, changed).await?;
        let prepared = assess_span(changed.len()).in_scope(|| prepare_changes(&self.params, changed, &previous, today));
        self.write_prepared(tx, prepared).await
    }

    /// The recorded assessments of `changed`, read before their change is
    /// written (a change never touches `inv_assessments` itself).
    ///
    /// # Errors
    /// [`InventoryError`] on a storage error.
    pub(crate) async fn previous_assessments(
        &self,
        tx: &mut Transaction<'_, Any>,
        changed: &[VersionedInventory],
    ) -> Result<HashMap<String, StoredAssessment>, InventoryError> {
        let ids: Vec<String> = changed.iter().map(|s| s.inventory.structure.id.clone()).collect();
        Ok(storage::load_assessments(tx, &ids).await?)
    }

    /// Writes what [`prepare_changes`] computed: the assessments
    /// that changed, then the events (in their order) to the outbox.
    ///
    /// # Errors
    /// [`InventoryError`] on storage or outbox failure (the caller rolls back).
    pub(crate) async fn write_prepared(
        &self,
        tx: &mut Transaction<'_, Any>,
        prepared: Prepared,
    ) -> Result<Appended, InventoryError> {
        storage::save_assessments(tx, &prepared.to_save).await?;
        let mut drafts = prepared.inventoried;
        drafts.extend(prepared.assessed);
        events::append(tx, drafts).await?;
        Ok(prepared.appended)
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
        drafts: &mut Vec<EventDraft>,
    ) -> Result<u64, InventoryError> {
        let previous = self.previous_assessments(tx, structures).await?;
        let span = assess_span(structures.len());
        let mut prepared = Prepared::default();
        let changed = span.in_scope(|| assess_into(&self.params, structures, &previous, today, publish, &mut prepared));
        span.record("changed", changed);
        storage::save_assessments(tx, &prepared.to_save)
            .instrument(span)
            .await?;
        drafts.append(&mut prepared.assessed);
        Ok(changed)
    }
}

/// The events and assessments of `changed` ([`Inventory::record_changes`]),
/// computed without touching the database (CPU only: an import runs it on
/// a blocking thread beside the writes of the same structures). Call it
/// within [`assess_span`].
pub(crate) fn prepare_changes(
    params: &FragilityParams,
    changed: &[VersionedInventory],
    previous: &HashMap<String, StoredAssessment>,
    today: NaiveDate,
) -> Prepared {
    let mut prepared = Prepared {
        inventoried: changed
            .iter()
            .map(|stored| events::structure_inventoried(structure_to_pb(&stored.inventory, stored.version)))
            .collect(),
        appended: Appended {
            inventoried: changed.len() as u64,
            assessed: 0,
        },
        ..Prepared::default()
    };
    prepared.appended.assessed = assess_into(params, changed, previous, today, Publish::Changed, &mut prepared);
    tracing::Span::current().record("changed", prepared.appended.assessed);
    prepared
}

/// Assesses `structures` against their `previous` assessments: adds the
/// `fragility_assessed` events `publish` asks for and the assessments
/// to record to `into`; returns how many events.
fn assess_into(
    params: &FragilityParams,
    structures: &[VersionedInventory],
    previous: &HashMap<String, StoredAssessment>,
    today: NaiveDate,
    publish: Publish,
    into: &mut Prepared,
) -> u64 {
    let mut events = 0;
    for stored in structures {
        let inv = &stored.inventory;
        let assessment = assess(inv, today, params);
        let print = fingerprint(&assessment);
        let before = previous.get(&inv.structure.id);
        let unchanged = before.is_some_and(|b| b.fingerprint == print);
        if unchanged && publish == Publish::Changed {
            continue;
        }
        let previous_band = before.map(|b| (b.band.parse::<Band>().unwrap_or(Band::Unknown), b.score));
        into.assessed.push(events::fragility_assessed(
            fragility_to_pb(inv, &assessment, Lang::Fr),
            previous_band,
        ));
        events += 1;
        if unchanged {
            continue;
        }
        into.to_save.push(NewAssessment {
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
    events
}

/// The `fragility.assess` span of `structures` assessed (counts only: no
/// structure ids), the last step of the trace of a change that came as an
/// event (a training completed…); `changed` is recorded once known.
pub(crate) fn assess_span(structures: usize) -> tracing::Span {
    tracing::info_span!(
        "fragility.assess",
        otel.kind = "internal",
        structures = structures,
        changed = tracing::field::Empty,
    )
}
