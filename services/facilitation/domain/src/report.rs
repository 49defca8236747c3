//! Measures of facilitators' time: minutes on structures' internal needs
//! versus minutes with external beneficiaries, per facilitator and period,
//! and the activity-report (CRA) export of interventions.
//!
//! ## Report
//!
//! [`report`] keeps the interventions whose day is within `from..=to` (both
//! ends included) and, when a network is given, whose `network` is that one;
//! it gives one line per facilitator who has at least one such intervention,
//! sorted by facilitator id. Facilitators without an intervention in range do
//! not appear: "serving a network" is not a property of a facilitator (shared
//! posts span networks), so a zero line could not be justified.
//!
//! ## Activity-report export
//!
//! [`activity_csv`] writes one row per intervention in the vocabulary of the
//! national tools (`coop_cra_enums.json`, from the Coop de la médiation
//! numérique) where it applies:
//! - `type_activite` is always `individuel` (`TypeActivite.Individuel`): an
//!   intervention helps one structure or one person; collective workshops are
//!   recorded in the national tools, not in Vigie;
//! - `duree_minutes` is the recorded duration (the CRA's `duree` accepts any
//!   custom number of minutes besides its presets);
//! - `type_lieu` is always `autre` (`TypeLieu.Autre`): an [`Intervention`]
//!   does not record its place, and `autre` is the one value that claims
//!   nothing — `lieu_activite` would say it happened at the facilitator's
//!   registered place, `a_distance` that it was remote;
//! - `beneficiaire` is Vigie's addition, which the CRA lacks:
//!   `structure_interne` for a structure's internal function,
//!   `personne_externe` for an external person.
//!
//! Rows are sorted by date, then facilitator id, then structure id (stable:
//! equal keys keep the order given).

use crate::csv_out::push_row;
use crate::model::{Beneficiary, Facilitator};
use chrono::NaiveDate;
use std::collections::BTreeMap;

/// Header of [`report_csv`].
pub const REPORT_HEADER: [&str; 5] = [
    "facilitator_id",
    "display_name",
    "internal_minutes",
    "external_minutes",
    "internal_share",
];

/// Header of [`activity_csv`].
pub const ACTIVITY_HEADER: [&str; 7] = [
    "date",
    "type_activite",
    "duree_minutes",
    "type_lieu",
    "beneficiaire",
    "structure_id",
    "facilitator_id",
];

/// CRA `TypeActivite` of every exported intervention.
pub const TYPE_ACTIVITE: &str = "individuel";
/// CRA `TypeLieu` of every exported intervention (the place is not recorded).
pub const TYPE_LIEU: &str = "autre";

/// One recorded intervention of a facilitator for a structure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Intervention {
    /// Who helped.
    pub facilitator_id: String,
    /// The structure concerned (for an external beneficiary, the structure
    /// whose public the person belongs to).
    pub structure_id: String,
    /// The structure's network.
    pub network: String,
    /// Duration, in minutes.
    pub minutes: u32,
    /// A structure's internal function or an external person.
    pub beneficiary: Beneficiary,
    /// The day it took place.
    pub on: NaiveDate,
}

/// One facilitator's time over a period.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportLine {
    /// The facilitator's id.
    pub facilitator_id: String,
    /// Their display name (their id when they are not among the facilitators
    /// given, e.g. removed since).
    pub display_name: String,
    /// Minutes on structures' internal functions.
    pub internal_minutes: u64,
    /// Minutes with external beneficiaries.
    pub external_minutes: u64,
    /// `internal / (internal + external)`; `None` when both are 0.
    pub internal_share: Option<f64>,
}

/// The French CRA-style code of a beneficiary kind, for [`activity_csv`].
pub fn beneficiaire_code(beneficiary: Beneficiary) -> &'static str {
    match beneficiary {
        Beneficiary::Internal => "structure_interne",
        Beneficiary::External => "personne_externe",
    }
}

/// Internal and external minutes per facilitator over `from..=to`, for one
/// network or all; see the module documentation for who appears.
pub fn report(
    interventions: &[Intervention],
    facilitators: &[Facilitator],
    network: Option<&str>,
    from: NaiveDate,
    to: NaiveDate,
) -> Vec<ReportLine> {
    // Facilitator id → (internal, external).
    let mut sums: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for i in interventions {
        if i.on < from || i.on > to || network.is_some_and(|n| n != i.network) {
            continue;
        }
        let sum = sums.entry(i.facilitator_id.as_str()).or_default();
        match i.beneficiary {
            Beneficiary::Internal => sum.0 += u64::from(i.minutes),
            Beneficiary::External => sum.1 += u64::from(i.minutes),
        }
    }
    let names: BTreeMap<&str, &str> = facilitators
        .iter()
        .map(|f| (f.id.as_str(), f.display_name.as_str()))
        .collect();
    sums.into_iter()
        .map(|(id, (internal, external))| {
            let total = internal + external;
            ReportLine {
                facilitator_id: id.to_owned(),
                display_name: names.get(id).copied().unwrap_or(id).to_owned(),
                internal_minutes: internal,
                external_minutes: external,
                // u64 → f64 is exact below 2^53 minutes (17 billion years).
                internal_share: (total > 0).then(|| internal as f64 / total as f64),
            }
        })
        .collect()
}

/// The report as CSV ([`REPORT_HEADER`]; the share with 4 decimals, empty
/// when `None`), lines in the order given.
pub fn report_csv(lines: &[ReportLine]) -> String {
    let mut out = String::new();
    push_row(&mut out, &REPORT_HEADER);
    for l in lines {
        let internal = l.internal_minutes.to_string();
        let external = l.external_minutes.to_string();
        let share = l.internal_share.map(|s| format!("{s:.4}")).unwrap_or_default();
        push_row(
            &mut out,
            &[&l.facilitator_id, &l.display_name, &internal, &external, &share],
        );
    }
    out
}

/// The interventions as an activity-report compatible CSV
/// ([`ACTIVITY_HEADER`]); see the module documentation for the mapping.
pub fn activity_csv(interventions: &[Intervention]) -> String {
    let mut sorted: Vec<&Intervention> = interventions.iter().collect();
    sorted.sort_by(|a, b| (a.on, &a.facilitator_id, &a.structure_id).cmp(&(b.on, &b.facilitator_id, &b.structure_id)));
    let mut out = String::new();
    push_row(&mut out, &ACTIVITY_HEADER);
    for i in sorted {
        let date = i.on.format("%Y-%m-%d").to_string();
        let minutes = i.minutes.to_string();
        push_row(
            &mut out,
            &[
                &date,
                TYPE_ACTIVITE,
                &minutes,
                TYPE_LIEU,
                beneficiaire_code(i.beneficiary),
                &i.structure_id,
                &i.facilitator_id,
            ],
        );
    }
    out
}

#[cfg(test)]
mod tests;
