//! The working table of the secrecy rules: every cell of both partitions,
//! indexed by partition, group and measure, with its true value.
//!
//! Measures are numbered so that the rules can treat them alike:
//! `0` structures, `1..=5` the bands, `6` director dependency, `7` deadline
//! risk, `8..=12` the activity sums, `13` reporting risk, `14` grants won,
//! `15` grants refused, `16` amount granted (the one magnitude), then two per
//! function code (orphan, single holder) in code order.

use std::collections::BTreeSet;

use super::{stats, Cell, PublishedFunction, PublishedGroup};
use crate::aggregate::{RawGroup, RawSnapshot, Summed};

pub(crate) const STRUCTURES: usize = 0;
pub(crate) const BANDS: std::ops::RangeInclusive<usize> = 1..=5;
/// The amount granted: the measure the dominance rule applies to.
pub(crate) const AMOUNT_GRANTED: usize = 16;
/// The first function cell: right after the last plain one.
const FUNCTIONS: usize = AMOUNT_GRANTED + 1;

/// One cell while the rules run: the true figures and the verdict so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Work {
    /// True value.
    pub value: u64,
    /// Structures behind the value (the value itself for counts).
    pub contributors: u64,
    /// A magnitude's largest part from one structure (dominance rule); 0 for
    /// counts and activity sums, which the rule does not concern.
    pub largest: u64,
    pub suppressed: bool,
}

impl Work {
    fn count(n: u64) -> Work {
        Work {
            value: n,
            contributors: n,
            largest: 0,
            suppressed: false,
        }
    }

    fn summed(s: Summed) -> Work {
        Work {
            value: s.value,
            contributors: s.contributors,
            largest: 0,
            suppressed: false,
        }
    }

    fn magnitude(s: Summed) -> Work {
        Work {
            largest: s.largest,
            ..Work::summed(s)
        }
    }

    /// The published form: the true value never leaves when suppressed.
    pub fn cell(self) -> Cell {
        if self.suppressed {
            Cell::hidden()
        } else {
            Cell::shown(self.value)
        }
    }
}

/// Both partitions: `parts[0]` the networks, `parts[1]` the departments, in
/// the order of the raw snapshot; each group a row of cells by measure.
pub(crate) struct Grid {
    pub functions: Vec<String>,
    pub parts: [Vec<Vec<Work>>; 2],
}

impl Grid {
    pub fn from_raw(raw: &RawSnapshot) -> Grid {
        // The union of the codes, in case a hand-made snapshot misses some.
        let functions: Vec<String> = raw
            .networks
            .iter()
            .chain(&raw.departments)
            .flat_map(|g| g.functions.keys().cloned())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let row = |g: &RawGroup| row(g, &functions);
        let parts = [
            raw.networks.iter().map(row).collect(),
            raw.departments.iter().map(row).collect(),
        ];
        Grid { functions, parts }
    }

    pub fn measures(&self) -> usize {
        FUNCTIONS + 2 * self.functions.len()
    }

    /// The published group of `raw`, whose cells went through the rules.
    pub fn published_group(&self, raw: &RawGroup, cells: &[Work], k: u64) -> PublishedGroup {
        let c = |m: usize| cells[m].cell();
        // Rule 5: no statistics for a suppressed group or too few scores.
        let scored = raw.structures >= k && raw.scores.len() as u64 >= k;
        let stat = |v: Option<f64>| v.filter(|_| scored).map(stats::round1);
        // The plain measures are numbered as the plain cells are ordered.
        let functions = self
            .functions
            .iter()
            .enumerate()
            .map(|(i, f)| PublishedFunction {
                function: f.clone(),
                orphan: c(FUNCTIONS + 2 * i),
                single_holder: c(FUNCTIONS + 2 * i + 1),
            })
            .collect();
        PublishedGroup {
            score_mean: stat(stats::mean(&raw.scores)),
            score_q1: stat(stats::quantile(&raw.scores, 0.25)),
            score_median: stat(stats::quantile(&raw.scores, 0.5)),
            score_q3: stat(stats::quantile(&raw.scores, 0.75)),
            ..PublishedGroup::from_plain_cells(raw.key.clone(), std::array::from_fn(c), functions)
        }
    }
}

fn row(g: &RawGroup, functions: &[String]) -> Vec<Work> {
    let a = &g.activity;
    let mut cells = vec![Work::count(g.structures)];
    cells.extend(g.bands.iter().map(|n| Work::count(*n)));
    cells.push(Work::count(g.director_dependent));
    cells.push(Work::count(g.deadline_at_risk));
    for s in [
        a.reminders_sent,
        a.reminders_acknowledged,
        a.minutes_internal,
        a.minutes_external,
        a.training_completions,
    ] {
        cells.push(Work::summed(s));
    }
    cells.push(Work::count(g.reporting_at_risk));
    cells.push(Work::summed(a.grants_won));
    cells.push(Work::summed(a.grants_refused));
    cells.push(Work::magnitude(a.amount_granted_euros));
    for f in functions {
        let counts = g.functions.get(f).copied().unwrap_or_default();
        cells.push(Work::count(counts.orphan));
        cells.push(Work::count(counts.single_holder));
    }
    cells
}

/// Every cell of a published group, in the measure order of the grid (tests
/// compare it with the true figures).
#[cfg(test)]
pub(crate) fn published_cells(g: &PublishedGroup) -> Vec<Cell> {
    let mut cells = vec![g.structures];
    cells.extend(g.bands);
    cells.extend([
        g.director_dependent,
        g.deadline_at_risk,
        g.reminders_sent,
        g.reminders_acknowledged,
        g.minutes_internal,
        g.minutes_external,
        g.training_completions,
        g.reporting_at_risk,
        g.grants_won,
        g.grants_refused,
        g.amount_granted_euros,
    ]);
    for f in &g.functions {
        cells.extend([f.orphan, f.single_holder]);
    }
    cells
}
