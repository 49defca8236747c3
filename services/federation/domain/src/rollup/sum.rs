//! Sums of published cells and groups.

use std::collections::BTreeMap;

use crate::secrecy::{stats_round1, Cell, PublishedFunction, PublishedGroup, PLAIN_CELLS};

/// The sum of published cells.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct CellSum {
    value: u64,
    cells: u32,
    /// Suppressed cells, left out of `value`.
    pub left_out: u32,
}

impl CellSum {
    pub fn add(&mut self, c: Cell) {
        self.cells += 1;
        if c.suppressed {
            self.left_out += 1;
        } else {
            self.value = self.value.saturating_add(c.value);
        }
    }

    /// Suppressed only when every summed cell was (and there was one);
    /// `partial` when some were left out.
    pub fn cell(self) -> Cell {
        if self.cells > 0 && self.left_out == self.cells {
            Cell::hidden()
        } else {
            Cell {
                partial: self.left_out > 0,
                ..Cell::shown(self.value)
            }
        }
    }
}

/// The sum of published groups, cell by cell.
#[derive(Default)]
pub(super) struct GroupSum<'a> {
    groups: Vec<&'a PublishedGroup>,
    cells: [CellSum; PLAIN_CELLS],
    functions: BTreeMap<&'a str, [CellSum; 2]>,
}

impl<'a> GroupSum<'a> {
    pub fn add(&mut self, g: &'a PublishedGroup) {
        self.groups.push(g);
        for (sum, c) in self.cells.iter_mut().zip(g.plain_cells()) {
            sum.add(c);
        }
        for f in &g.functions {
            let [orphan, single] = self.functions.entry(&f.function).or_default();
            orphan.add(f.orphan);
            single.add(f.single_holder);
        }
    }

    /// The summed group named `key`, and the number of cells left out.
    pub fn finish(&self, key: &str) -> (PublishedGroup, u32) {
        let left_out = self.cells.iter().map(|s| s.left_out).sum::<u32>()
            + self.functions.values().flatten().map(|s| s.left_out).sum::<u32>();
        let functions = self
            .functions
            .iter()
            .map(|(f, [o, s])| PublishedFunction {
                function: (*f).to_owned(),
                orphan: o.cell(),
                single_holder: s.cell(),
            })
            .collect();
        let mut g = PublishedGroup {
            score_mean: self.weighted_mean(),
            ..PublishedGroup::from_plain_cells(key.to_owned(), self.cells.map(CellSum::cell), functions)
        };
        // A row of a single group is that group's own published figures:
        // its quartiles stay. Quartiles of several groups cannot be summed.
        if let [only] = self.groups.as_slice() {
            g.score_mean = only.score_mean;
            g.score_q1 = only.score_q1;
            g.score_median = only.score_median;
            g.score_q3 = only.score_q3;
        }
        (g, left_out)
    }

    /// Mean of the groups' means weighted by their published structure
    /// counts; a group whose count is suppressed has no known weight and is
    /// left out.
    fn weighted_mean(&self) -> Option<f64> {
        let (mut num, mut den) = (0.0, 0u64);
        for g in &self.groups {
            if let (Some(mean), false) = (g.score_mean, g.structures.suppressed) {
                num += mean * g.structures.value as f64;
                den += g.structures.value;
            }
        }
        (den > 0).then(|| stats_round1(num / den as f64))
    }
}
