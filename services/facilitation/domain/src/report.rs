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
//! - `type_activite` is the recorded [`ActivityType`] (`TypeActivite`:
//!   `individuel` or `collectif`; `individuel` when the facilitator gave none);
//! - `duree_minutes` is the recorded duration (the CRA's `duree` accepts any
//!   custom number of minutes besides its presets);
//! - `type_lieu` is the recorded [`PlaceType`] (`TypeLieu`: `lieu_activite`,
//!   `domicile`, `a_distance`, `autre`; `autre`, the one value that claims
//!   nothing, when none was given);
//! - `thematiques` are the recorded `Thematique` codes, `;`-separated (may be
//!   empty);
//! - `beneficiaire` is Vigie's addition, which the CRA lacks:
//!   `structure_interne` for a structure's internal function,
//!   `personne_externe` for an external person.
//!
//! ## Response and resolution times
//!
//! [`with_times`] adds to the report, per facilitator, the median **response
//! time** (from the last offer of a request to their acceptance, for the
//! acceptances within the period) and the median **resolution time** (from
//! the creation of a request to its closing by an internal intervention of
//! theirs, for the closings within the period), in hours; see
//! [`RequestTiming`]. A median of an even count is the mean of the two middle
//! values.
//!
//! ## Fragile structures never helped
//!
//! [`unhelped`] lists the structures of a network whose last assessment is
//! `critical` or `high` and whose exposed functions (orphan or single-holder)
//! had no intervention on that structure and function within the period —
//! with those functions.
//!
//! Rows are sorted by date, then facilitator id, then structure id (stable:
//! equal keys keep the order given).

use crate::model::{ActivityType, Beneficiary, Facilitator, PlaceType};
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::BTreeMap;
use vigie_csv_out::push_row;

/// Header of [`report_csv`].
pub const REPORT_HEADER: [&str; 7] = [
    "facilitator_id",
    "display_name",
    "internal_minutes",
    "external_minutes",
    "internal_share",
    "response_hours_median",
    "resolution_hours_median",
];

/// Header of [`unhelped_csv`].
pub const UNHELPED_HEADER: [&str; 3] = ["structure_id", "band", "functions"];

/// Header of [`activity_csv`].
pub const ACTIVITY_HEADER: [&str; 8] = [
    "date",
    "type_activite",
    "duree_minutes",
    "type_lieu",
    "thematiques",
    "beneficiaire",
    "structure_id",
    "facilitator_id",
];

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
    /// The vital function of the request it answers.
    pub function: String,
    /// Duration, in minutes.
    pub minutes: u32,
    /// A structure's internal function or an external person.
    pub beneficiary: Beneficiary,
    /// The day it took place.
    pub on: NaiveDate,
    /// Individual or collective (CRA `TypeActivite`).
    pub activity_type: ActivityType,
    /// Where it took place (CRA `TypeLieu`).
    pub place: PlaceType,
    /// CRA `Thematique` codes.
    pub themes: Vec<String>,
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
    /// Median hours from offer to acceptance ([`with_times`]).
    pub response_hours_median: Option<f64>,
    /// Median hours from request to closing ([`with_times`]).
    pub resolution_hours_median: Option<f64>,
}

/// The timestamps of one request that the times are measured from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestTiming {
    /// The facilitator it was accepted by or closed by (the last one it was
    /// offered to).
    pub facilitator_id: String,
    /// The request's network.
    pub network: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was last offered (before the acceptance).
    pub offered_at: Option<DateTime<Utc>>,
    /// When the facilitator accepted it.
    pub accepted_at: Option<DateTime<Utc>>,
    /// When an internal intervention closed it.
    pub closed_at: Option<DateTime<Utc>>,
}

/// A structure's last fragility assessment, as the read model keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FragileStructure {
    /// The structure.
    pub structure_id: String,
    /// Its network.
    pub network: String,
    /// The band code (`critical`, `high`, `moderate`, `low`, `unknown`).
    pub band: String,
    /// Its orphan or single-holder functions.
    pub exposed_functions: Vec<String>,
}

/// A fragile structure with exposed functions nobody helped on in the period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unhelped {
    /// The structure.
    pub structure_id: String,
    /// `critical` or `high`.
    pub band: String,
    /// Its exposed functions without an intervention in the period.
    pub functions: Vec<String>,
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
                response_hours_median: None,
                resolution_hours_median: None,
            }
        })
        .collect()
}

/// The median of `values` (`None` when empty); an even count gives the mean
/// of the two middle values.
pub fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) / 2.0
    } else {
        values[mid]
    })
}

fn hours(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    // Milliseconds fit f64 exactly for any realistic span; negative spans
    // (clock moved back) count as 0.
    (to - from).num_milliseconds().max(0) as f64 / 3_600_000.0
}

/// Adds the median response and resolution times of [`RequestTiming`]s of
/// `network` within `from..=to` (by the day of the acceptance or closing,
/// UTC) to `lines`; a facilitator with times but no intervention gets a line
/// with zero minutes. Lines stay sorted by facilitator id.
pub fn with_times(
    mut lines: Vec<ReportLine>,
    timings: &[RequestTiming],
    facilitators: &[Facilitator],
    network: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Vec<ReportLine> {
    let within = |t: Option<DateTime<Utc>>| t.filter(|t| (from..=to).contains(&t.date_naive()));
    let mut samples: BTreeMap<&str, (Vec<f64>, Vec<f64>)> = BTreeMap::new();
    for t in timings.iter().filter(|t| t.network == network) {
        if let (Some(offered), Some(accepted)) = (t.offered_at, within(t.accepted_at)) {
            samples
                .entry(&t.facilitator_id)
                .or_default()
                .0
                .push(hours(offered, accepted));
        }
        if let Some(closed) = within(t.closed_at) {
            samples
                .entry(&t.facilitator_id)
                .or_default()
                .1
                .push(hours(t.created_at, closed));
        }
    }
    for (id, (mut response, mut resolution)) in samples {
        let index = match lines.binary_search_by(|l| l.facilitator_id.as_str().cmp(id)) {
            Ok(i) => i,
            Err(i) => {
                let name = facilitators
                    .iter()
                    .find(|f| f.id == id)
                    .map_or(id, |f| f.display_name.as_str());
                lines.insert(
                    i,
                    ReportLine {
                        facilitator_id: id.to_owned(),
                        display_name: name.to_owned(),
                        internal_minutes: 0,
                        external_minutes: 0,
                        internal_share: None,
                        response_hours_median: None,
                        resolution_hours_median: None,
                    },
                );
                i
            }
        };
        lines[index].response_hours_median = median(&mut response);
        lines[index].resolution_hours_median = median(&mut resolution);
    }
    lines
}

/// The fragile (`critical` or `high`) structures of `network` with exposed
/// functions that no intervention of the period (`from..=to`) addressed on
/// that structure, sorted by structure id; functions in their stored order.
pub fn unhelped(
    fragile: &[FragileStructure],
    interventions: &[Intervention],
    network: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Vec<Unhelped> {
    let mut out: Vec<Unhelped> = fragile
        .iter()
        .filter(|s| s.network == network && (s.band == "critical" || s.band == "high"))
        .filter_map(|s| {
            let functions: Vec<String> = s
                .exposed_functions
                .iter()
                .filter(|f| {
                    !interventions
                        .iter()
                        .any(|i| i.structure_id == s.structure_id && &i.function == *f && i.on >= from && i.on <= to)
                })
                .cloned()
                .collect();
            (!functions.is_empty()).then(|| Unhelped {
                structure_id: s.structure_id.clone(),
                band: s.band.clone(),
                functions,
            })
        })
        .collect();
    out.sort_by(|a, b| a.structure_id.cmp(&b.structure_id));
    out
}

/// [`unhelped`] as CSV ([`UNHELPED_HEADER`], functions `;`-separated).
pub fn unhelped_csv(list: &[Unhelped]) -> String {
    let mut out = String::new();
    push_row(&mut out, &UNHELPED_HEADER);
    for u in list {
        push_row(&mut out, &[&u.structure_id, &u.band, &u.functions.join(";")]);
    }
    out
}

/// The report as CSV ([`REPORT_HEADER`]; the share with 4 decimals, the
/// medians in hours with 2, empty when `None`), lines in the order given.
pub fn report_csv(lines: &[ReportLine]) -> String {
    let mut out = String::new();
    push_row(&mut out, &REPORT_HEADER);
    for l in lines {
        let internal = l.internal_minutes.to_string();
        let external = l.external_minutes.to_string();
        let share = l.internal_share.map(|s| format!("{s:.4}")).unwrap_or_default();
        let response = l.response_hours_median.map(|h| format!("{h:.2}")).unwrap_or_default();
        let resolution = l.resolution_hours_median.map(|h| format!("{h:.2}")).unwrap_or_default();
        push_row(
            &mut out,
            &[
                &l.facilitator_id,
                &l.display_name,
                &internal,
                &external,
                &share,
                &response,
                &resolution,
            ],
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
        let themes = i.themes.join(";");
        push_row(
            &mut out,
            &[
                &date,
                i.activity_type.as_str(),
                &minutes,
                i.place.as_str(),
                &themes,
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
