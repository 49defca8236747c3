//! The input of the federation domain: one line of facts per structure.
//!
//! The service builds these from its read model. They carry no identifier of
//! the structure and nothing about a person: only the structure's network and
//! department (the two ways its figures are grouped) and counts, so nothing
//! downstream can leak an identity even by mistake.

use chrono::NaiveDate;

/// Fragility band of a structure (docs/fragility.md), in increasing order of
/// concern. `Unknown` is a structure never assessed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Band {
    /// Never assessed, or assessed without enough data for a band.
    #[default]
    Unknown,
    /// Low fragility.
    Low,
    /// Moderate fragility.
    Moderate,
    /// High fragility.
    High,
    /// Critical fragility.
    Critical,
}

impl Band {
    /// Every band, in the order of the `bands` arrays of the aggregates.
    pub const ALL: [Band; 5] = [Band::Unknown, Band::Low, Band::Moderate, Band::High, Band::Critical];

    /// Position of the band in the `bands` arrays (`Unknown` = 0 … `Critical` = 4).
    pub fn index(self) -> usize {
        match self {
            Band::Unknown => 0,
            Band::Low => 1,
            Band::Moderate => 2,
            Band::High => 3,
            Band::Critical => 4,
        }
    }
}

/// Director dependency from which a structure counts as director dependent:
/// its directors hold alone at least half of the vital weight.
pub const DIRECTOR_DEPENDENT_FROM: f64 = 0.5;

/// What a region knows about one structure, reduced to what the aggregates need.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StructureFacts {
    /// Network id of the structure.
    pub network: String,
    /// INSEE department code of the structure.
    pub department: String,
    /// Fragility band (`Unknown` when never assessed).
    pub band: Band,
    /// Fragility score; `None` when never assessed / unknown band.
    pub score: Option<u32>,
    /// Vital-function codes nobody holds.
    pub orphan_functions: Vec<String>,
    /// Vital-function codes held by exactly one person.
    pub single_holder_functions: Vec<String>,
    /// 0..=1: Σ of the key-person shares of the directors.
    pub director_dependency: f64,
    /// Holders of `funding_applications` (0 when the function is absent).
    pub funding_holders: u32,
    /// Deadlines of the calls not acknowledged as submitted or not concerned.
    pub open_deadlines: Vec<NaiveDate>,
    /// Whether `funder_reporting` rests on nobody or one person (orphan or
    /// single-holder code of its assessment; true while never assessed).
    pub reporting_fragile: bool,
    /// Due dates of its reporting duties not marked sent to the funder.
    pub open_duties: Vec<NaiveDate>,
    /// Activity counts of the calendar year of the evaluation date.
    pub activity: Activity,
}

/// Activity of one structure over the calendar year of the evaluation date.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Activity {
    /// Deadline reminders sent to the structure.
    pub reminders_sent: u64,
    /// Of which the structure acknowledged.
    pub reminders_acknowledged: u64,
    /// Facilitation minutes spent on the structure's own needs.
    pub minutes_internal: u64,
    /// Facilitation minutes spent by the structure for external beneficiaries.
    pub minutes_external: u64,
    /// Training completions of the structure's members.
    pub training_completions: u64,
    /// Grants won (decisions recorded in the year).
    pub grants_won: u64,
    /// Grants refused (decisions recorded in the year).
    pub grants_refused: u64,
    /// Σ of the amounts won in the year, whole euros.
    pub amount_granted_euros: u64,
}

impl StructureFacts {
    /// Whether the directors hold alone at least half of the vital weight.
    pub fn director_dependent(&self) -> bool {
        self.director_dependency >= DIRECTOR_DEPENDENT_FROM
    }

    /// Whether a funding deadline falls within `horizon_days` of `today`
    /// (both ends included) while the submission rests on nobody or one person.
    /// A deadline already past is no longer a risk to act on.
    pub fn deadline_at_risk(&self, today: NaiveDate, horizon_days: i64) -> bool {
        if self.funding_holders > 1 {
            return false;
        }
        within(&self.open_deadlines, today, horizon_days)
    }

    /// Whether a reporting duty not marked sent falls due within
    /// `horizon_days` of `today` (both ends included) while `funder_reporting`
    /// rests on nobody or one person. A duty already past due is late, no
    /// longer "coming due": the alerting service's escalation deals with it.
    pub fn reporting_at_risk(&self, today: NaiveDate, horizon_days: i64) -> bool {
        self.reporting_fragile && within(&self.open_duties, today, horizon_days)
    }
}

fn within(dates: &[NaiveDate], today: NaiveDate, horizon_days: i64) -> bool {
    let last = today + chrono::Duration::days(horizon_days);
    dates.iter().any(|d| *d >= today && *d <= last)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 3, d).unwrap()
    }

    #[test]
    fn band_default_is_unknown_and_indexes_follow_the_order() {
        assert_eq!(Band::default(), Band::Unknown);
        for (i, b) in Band::ALL.iter().enumerate() {
            assert_eq!(b.index(), i);
        }
        assert!(Band::Low < Band::Critical);
    }

    #[test]
    fn director_dependent_from_one_half_included() {
        let mut f = StructureFacts {
            director_dependency: 0.49,
            ..Default::default()
        };
        assert!(!f.director_dependent());
        f.director_dependency = 0.5;
        assert!(f.director_dependent());
        f.director_dependency = 1.0;
        assert!(f.director_dependent());
    }

    #[test]
    fn deadline_at_risk_within_thirty_days_with_at_most_one_holder() {
        let today = day(1);
        let at = |d: NaiveDate, holders: u32| StructureFacts {
            open_deadlines: vec![d],
            funding_holders: holders,
            ..Default::default()
        };
        // both ends of the window count
        assert!(at(today, 0).deadline_at_risk(today, 30));
        assert!(at(day(31), 1).deadline_at_risk(today, 30));
        // one day too far, one day too late, or two holders: no risk
        assert!(!at(NaiveDate::from_ymd_opt(2025, 4, 1).unwrap(), 1).deadline_at_risk(today, 30));
        assert!(!at(NaiveDate::from_ymd_opt(2025, 2, 28).unwrap(), 0).deadline_at_risk(today, 30));
        assert!(!at(day(10), 2).deadline_at_risk(today, 30));
        // no open deadline at all
        assert!(!StructureFacts::default().deadline_at_risk(today, 30));
    }

    #[test]
    fn reporting_at_risk_within_thirty_days_when_reporting_rests_on_at_most_one() {
        let today = day(1);
        let at = |d: NaiveDate, fragile: bool| StructureFacts {
            open_duties: vec![d],
            reporting_fragile: fragile,
            ..Default::default()
        };
        assert!(at(today, true).reporting_at_risk(today, 30), "today included");
        assert!(at(day(31), true).reporting_at_risk(today, 30), "day 30 included");
        assert!(!at(NaiveDate::from_ymd_opt(2025, 4, 1).unwrap(), true).reporting_at_risk(today, 30));
        assert!(!at(NaiveDate::from_ymd_opt(2025, 2, 28).unwrap(), true).reporting_at_risk(today, 30));
        assert!(!at(day(10), false).reporting_at_risk(today, 30), "two holders or more");
        // the call deadlines are another risk, not a reporting one
        let calls_only = StructureFacts {
            open_deadlines: vec![day(10)],
            reporting_fragile: true,
            ..Default::default()
        };
        assert!(!calls_only.reporting_at_risk(today, 30));
        // and a duty is not a call deadline
        assert!(!at(day(10), true).deadline_at_risk(today, 30));
    }
}
