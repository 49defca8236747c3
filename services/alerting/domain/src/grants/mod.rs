//! After the deadline (issue 16): the grants a structure won and the
//! reporting duties each one brings, with the rule that derives every date
//! named, so that a person can check it against the law or the agreement.
//!
//! - [`rules`]: the rules themselves (the six-month rule of loi n° 2000-321,
//!   art. 10; one report per year of a multi-year agreement; the audit and
//!   publication duties above 153,000 € of public subsidies in a financial
//!   year) and the calendar arithmetic they share.
//! - [`obligations`]: every obligation of a structure from its grants, each
//!   with its internal draft date, and the edits written in an agreement,
//!   which win over the derived dates.
//! - [`stats`]: the views — pipeline, record by funder and programme,
//!   duties at risk this fortnight.

pub mod calendar;
pub mod obligations;
pub mod remind;
pub mod rules;
pub mod stats;

use chrono::NaiveDate;

/// Amounts in euro cents: no rounding on sums.
pub type Cents = u64;

/// A grant a structure won.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// Stable id of the grant (`G…`).
    pub grant_id: String,
    /// The structure that received it.
    pub structure_id: String,
    /// Who pays (« Région Bretagne », « CAF du Finistère »).
    pub funder: String,
    /// What it is for.
    pub title: String,
    /// Amount granted.
    pub amount: Cents,
    /// A public subsidy (State, local authorities, public bodies): counts
    /// towards the 153,000 € threshold.
    pub public: bool,
    /// Last day of the financial year for which it was granted.
    pub financial_year_end: NaiveDate,
    /// A multi-year agreement (CPO): its period.
    pub agreement: Option<Agreement>,
}

/// The period of a multi-year agreement (convention pluriannuelle
/// d'objectifs), both days included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Agreement {
    /// First day.
    pub start: NaiveDate,
    /// Last day.
    pub end: NaiveDate,
}
