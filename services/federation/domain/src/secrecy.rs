//! Statistical secrecy: which figures of a region may be published.
//!
//! The true figures ([`RawSnapshot`]) are grouped twice — per network and per
//! department — and both groupings are partitions of the same structures. A
//! figure is a *cell*; every cell belongs to a *measure* (structures, each
//! band, director dependency, deadline risk, each activity sum, each
//! function's orphan and single-holder counts). With `k` the threshold
//! (default 5, never below 3):
//!
//! 1. **Group.** A group with fewer than `k` structures is suppressed entirely:
//!    every cell, and no score statistics.
//! 2. **Primary.** A count cell with `1 ≤ n < k` structures is suppressed. A
//!    zero is published: there is nobody to protect. An activity cell is a sum
//!    (reminders, minutes, completions, grants won or refused); it is
//!    suppressed when `1 ≤ c < k` structures contributed to it, whatever the
//!    size of the sum. The amount granted is a *magnitude*: besides, it is
//!    suppressed when one structure holds more than 85 % of it (dominance:
//!    the others would read its grant within 15 %, and any contributor
//!    subtracting its own amount would learn the rest).
//! 3. **Secondary, inside a group.** `structures = Σ bands`. If exactly one of
//!    those six cells is suppressed, the other five give it back: the smallest
//!    non-zero unsuppressed band cell is suppressed too (or, when no band is
//!    left, the structure count). When the structure count is published, the
//!    suppressed bands must also not add up to `1..k-1`: their sum is known, so
//!    two bands of one structure each would be read as "1 and 1".
//! 4. **Secondary, across a partition.** For each measure the network cells and
//!    the department cells add up to the same region total, so the total is
//!    known as soon as one partition has no suppressed cell. In each partition,
//!    when exactly one cell of a measure is suppressed, or the suppressed cells
//!    hold together `1..k-1` contributors (or, for the amount, are dominated
//!    together by one structure), the smallest non-zero unsuppressed
//!    cell of that measure in the same partition is suppressed too. When the
//!    partition has no such cell left (every other cell is zero), the region
//!    total *is* the suppressed figure; it stays hidden only if the other
//!    partition does not publish every cell of that measure, so the smallest
//!    non-zero unsuppressed cell of the *other* partition is suppressed (and
//!    rule 4 then protects that one in its own partition). Why this is safe:
//!    afterwards the only equation tying the suppressed cells together is
//!    `Σ suppressed(networks) − Σ suppressed(departments) = published
//!    difference`, with at least two unknowns, so no single one is determined.
//!    The one case left alone is a measure whose region total is zero: every
//!    cell is then zero, which anyone reads from the other partition and which
//!    says nothing about a group.
//!
//! Rules 3 and 4 are applied again until nothing changes (see `suppress.rs` for
//! why this ends). They look at one equation at a time, and equations share
//! cells (a band is in its group and in its measure), so an **audit** follows
//! (`audit.rs`): the hidden cells are the unknowns of every equation an
//! adversary can write from the published figures, and any cell that linear
//! algebra pins down gets a neighbour hidden too (a band of its group, a cell
//! of its measure, else the smallest count or band that breaks the chain);
//! rules 3–4 and the audit run again until the audit finds nothing. A
//! suppressed cell always carries `value = 0`: the true value never leaves the
//! region.
//!
//! 5. **Scores.** Mean and quartiles (linear interpolation between order
//!    statistics, "type 7", numpy's default) are published only for a group
//!    that is not suppressed and has at least `k` scored structures; they are
//!    rounded to one decimal.

mod audit;
mod grid;
mod stats;
mod suppress;

pub(crate) use stats::round1 as stats_round1;

use crate::aggregate::RawSnapshot;

/// Plain cells of a group ([`PublishedGroup::plain_cells`]).
pub const PLAIN_CELLS: usize = 17;

/// Dominance rule of magnitudes (the amount granted): a cell where one
/// structure holds more than this percentage of the sum is suppressed.
pub const DOMINANCE_PERCENT: u64 = 85;

/// Whether one part `largest` holds more than [`DOMINANCE_PERCENT`] % of `value`.
pub fn dominated(value: u64, largest: u64) -> bool {
    largest > 0 && u128::from(largest) * 100 > u128::from(value) * u128::from(DOMINANCE_PERCENT)
}

/// Default threshold `k`: cells counting fewer structures are suppressed.
pub const DEFAULT_THRESHOLD: u32 = 5;
/// The lowest threshold a region may configure.
pub const MIN_THRESHOLD: u32 = 3;

/// One published figure. `suppressed ⇒ value == 0`, always.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Cell {
    /// The figure (0 when suppressed).
    pub value: u64,
    /// Whether the figure was withheld by statistical secrecy.
    pub suppressed: bool,
    /// Only in roll-ups: a sum that left suppressed cells out, hence a lower
    /// bound of the true total (never set in a published snapshot).
    pub partial: bool,
}

impl Cell {
    /// A published figure.
    pub fn shown(value: u64) -> Cell {
        Cell {
            value,
            suppressed: false,
            partial: false,
        }
    }

    /// A withheld figure (value 0 on the wire).
    pub fn hidden() -> Cell {
        Cell {
            value: 0,
            suppressed: true,
            partial: false,
        }
    }
}

/// Errors of the secrecy settings.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecrecyError {
    /// The configured threshold is below [`MIN_THRESHOLD`].
    #[error("le seuil de secret statistique doit être au moins {min} (reçu {got})", min = MIN_THRESHOLD)]
    ThresholdTooLow {
        /// The rejected value.
        got: u32,
    },
}

/// The secrecy threshold `k`, checked once: never below [`MIN_THRESHOLD`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Threshold(u32);

impl Threshold {
    /// Checks a configured threshold.
    ///
    /// # Errors
    /// [`SecrecyError::ThresholdTooLow`] when `k < MIN_THRESHOLD`.
    pub fn new(k: u32) -> Result<Threshold, SecrecyError> {
        if k < MIN_THRESHOLD {
            return Err(SecrecyError::ThresholdTooLow { got: k });
        }
        Ok(Threshold(k))
    }

    /// The threshold value.
    pub fn get(self) -> u32 {
        self.0
    }
}

impl Default for Threshold {
    fn default() -> Self {
        Threshold(DEFAULT_THRESHOLD)
    }
}

/// The publishable figures of one network or department.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PublishedGroup {
    /// Network id or department code.
    pub key: String,
    /// Structures in the group.
    pub structures: Cell,
    /// Structures per band: Unknown, Low, Moderate, High, Critical.
    pub bands: [Cell; 5],
    /// Mean score (rule 5).
    pub score_mean: Option<f64>,
    /// First quartile of the scores.
    pub score_q1: Option<f64>,
    /// Median score.
    pub score_median: Option<f64>,
    /// Third quartile of the scores.
    pub score_q3: Option<f64>,
    /// Director-dependent structures.
    pub director_dependent: Cell,
    /// Structures with a deadline at risk.
    pub deadline_at_risk: Cell,
    /// Reminders sent in the year.
    pub reminders_sent: Cell,
    /// Reminders acknowledged in the year.
    pub reminders_acknowledged: Cell,
    /// Facilitation minutes, internal needs.
    pub minutes_internal: Cell,
    /// Facilitation minutes, external beneficiaries.
    pub minutes_external: Cell,
    /// Training completions in the year.
    pub training_completions: Cell,
    /// Structures with a reporting duty at risk.
    pub reporting_at_risk: Cell,
    /// Grants won in the year.
    pub grants_won: Cell,
    /// Grants refused in the year.
    pub grants_refused: Cell,
    /// Σ of the amounts won in the year, whole euros.
    pub amount_granted_euros: Cell,
    /// One entry per function code of the region, sorted by code.
    pub functions: Vec<PublishedFunction>,
}

impl PublishedGroup {
    /// Its seventeen plain cells, in one fixed order: structures, the five
    /// bands, director dependent, deadline at risk, the five activity sums,
    /// reporting at risk, grants won, grants refused, amount granted
    /// (function cells are in `functions`).
    pub fn plain_cells(&self) -> [Cell; PLAIN_CELLS] {
        let b = self.bands;
        [
            self.structures,
            b[0],
            b[1],
            b[2],
            b[3],
            b[4],
            self.director_dependent,
            self.deadline_at_risk,
            self.reminders_sent,
            self.reminders_acknowledged,
            self.minutes_internal,
            self.minutes_external,
            self.training_completions,
            self.reporting_at_risk,
            self.grants_won,
            self.grants_refused,
            self.amount_granted_euros,
        ]
    }

    /// The group `key` of these plain cells, in the order of
    /// [`plain_cells`](Self::plain_cells), and of these functions; without
    /// score statistics, which are not cells.
    pub fn from_plain_cells(
        key: String,
        cells: [Cell; PLAIN_CELLS],
        functions: Vec<PublishedFunction>,
    ) -> PublishedGroup {
        let [structures, b0, b1, b2, b3, b4, director_dependent, deadline_at_risk, reminders_sent, reminders_acknowledged, minutes_internal, minutes_external, training_completions, reporting_at_risk, grants_won, grants_refused, amount_granted_euros] =
            cells;
        PublishedGroup {
            key,
            structures,
            bands: [b0, b1, b2, b3, b4],
            score_mean: None,
            score_q1: None,
            score_median: None,
            score_q3: None,
            director_dependent,
            deadline_at_risk,
            reminders_sent,
            reminders_acknowledged,
            minutes_internal,
            minutes_external,
            training_completions,
            reporting_at_risk,
            grants_won,
            grants_refused,
            amount_granted_euros,
            functions,
        }
    }

    /// Every cell it publishes: the plain ones, then each function's two.
    pub fn all_cells(&self) -> impl Iterator<Item = Cell> + '_ {
        self.plain_cells()
            .into_iter()
            .chain(self.functions.iter().flat_map(|f| [f.orphan, f.single_holder]))
    }
}

/// The publishable counts of one function in a group.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PublishedFunction {
    /// Vital-function code.
    pub function: String,
    /// Structures where nobody holds it.
    pub orphan: Cell,
    /// Structures where one person holds it.
    pub single_holder: Cell,
}

/// What a region publishes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PublishedSnapshot {
    /// The threshold `k` the cells were suppressed with.
    pub threshold: u32,
    /// Per network, sorted by key.
    pub networks: Vec<PublishedGroup>,
    /// Per department, sorted by key.
    pub departments: Vec<PublishedGroup>,
}

/// Applies the secrecy rules (module documentation) to the true figures.
pub fn publish(raw: &RawSnapshot, threshold: Threshold) -> PublishedSnapshot {
    let k = u64::from(threshold.get());
    let mut grid = grid::Grid::from_raw(raw);
    suppress::suppress(&mut grid, k);
    let [networks, departments] = grid.parts.each_ref();
    let publish_part = |raws: &[crate::aggregate::RawGroup], cells: &[Vec<grid::Work>]| {
        raws.iter()
            .zip(cells)
            .map(|(raw, cells)| grid.published_group(raw, cells, k))
            .collect()
    };
    PublishedSnapshot {
        threshold: threshold.get(),
        networks: publish_part(&raw.networks, networks),
        departments: publish_part(&raw.departments, departments),
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod property_tests;
