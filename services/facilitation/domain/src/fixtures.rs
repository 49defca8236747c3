//! Builders shared by the unit tests of this crate.

use crate::model::{Facilitator, FacilitatorKind};
use chrono::NaiveDate;

/// A calendar date; panics on an invalid one (tests only).
pub(crate) fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    match NaiveDate::from_ymd_opt(y, m, d) {
        Some(date) => date,
        None => panic!("invalid test date {y}-{m}-{d}"),
    }
}

/// A médiateur `id` with 10 h a week, half of it internal (300 min), no
/// structure, territory, skill or funding end: tests add what they need.
pub(crate) fn facilitator(id: &str) -> Facilitator {
    Facilitator {
        id: id.to_owned(),
        display_name: format!("Nom {id}"),
        kind: FacilitatorKind::Mediateur,
        employer_structure_id: None,
        served_structures: Vec::new(),
        territory_codes: Vec::new(),
        functions: Vec::new(),
        weekly_minutes: 600,
        internal_share: 0.5,
        funding_programme: String::new(),
        funding_end: None,
    }
}
