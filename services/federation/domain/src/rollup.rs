//! The national sums of the regions' latest snapshots.
//!
//! The national instance only ever sees published cells, so a sum can only add
//! what was published: a suppressed cell is left out and counted in
//! `suppressed_cells` (the sum is then a lower bound), and a summed cell is
//! itself `suppressed` only when every cell it sums was. Adding published
//! cells cannot undo the regions' secrecy: it is arithmetic on public figures.

mod sum;

use std::collections::BTreeMap;

use chrono::NaiveDate;

use crate::secrecy::{Cell, PublishedGroup, PublishedSnapshot};
use sum::{CellSum, GroupSum};

/// The latest snapshot of one region, as the national instance keeps it.
#[derive(Clone, Copy, Debug)]
pub struct RegionData<'a> {
    /// Region id (its `[federation] region` setting).
    pub region: &'a str,
    /// The date the figures describe.
    pub evaluated_on: NaiveDate,
    /// Whether the snapshot is older than the configured delay.
    pub stale: bool,
    /// The snapshot itself.
    pub snapshot: &'a PublishedSnapshot,
}

/// The dimension of a roll-up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum By {
    /// One row per region: the sum of its networks.
    Region,
    /// One row per network of each region, as published.
    Network,
    /// One row per department code, summed over regions.
    Department,
    /// One row per function code, summed over every network of every region.
    Function,
}

/// One row of a roll-up.
#[derive(Clone, Debug, PartialEq)]
pub struct RollupRow {
    /// The row's region; empty when summed over regions.
    pub region: String,
    /// Region id, network id, department code or function code.
    pub key: String,
    /// The figures (every dimension but `By::Function`).
    pub figures: Option<PublishedGroup>,
    /// `By::Function`: structures where nobody holds the function.
    pub orphan: Cell,
    /// `By::Function`: structures where one person holds it.
    pub single_holder: Cell,
    /// Cells left out of the sums because suppressed at the source.
    pub suppressed_cells: u32,
    /// The oldest evaluation date among the row's regions.
    pub data_date: NaiveDate,
    /// Whether one of the row's regions is stale.
    pub stale: bool,
}

/// Rows of the roll-up `by`, sorted by (region, key).
pub fn rollup(regions: &[RegionData<'_>], by: By) -> Vec<RollupRow> {
    let mut rows = match by {
        By::Network => by_network(regions),
        By::Region => by_region(regions),
        By::Department => by_department(regions),
        By::Function => by_function(regions),
    };
    rows.sort_by(|a, b| (&a.region, &a.key).cmp(&(&b.region, &b.key)));
    rows
}

fn figures_row(region: &str, key: &str, sum: &GroupSum<'_>, data_date: NaiveDate, stale: bool) -> RollupRow {
    let (figures, suppressed_cells) = sum.finish(key);
    RollupRow {
        region: region.to_owned(),
        key: key.to_owned(),
        figures: Some(figures),
        orphan: Cell::default(),
        single_holder: Cell::default(),
        suppressed_cells,
        data_date,
        stale,
    }
}

fn by_network(regions: &[RegionData<'_>]) -> Vec<RollupRow> {
    let mut rows = Vec::new();
    for r in regions {
        for g in &r.snapshot.networks {
            let mut sum = GroupSum::default();
            sum.add(g);
            rows.push(figures_row(r.region, &g.key, &sum, r.evaluated_on, r.stale));
        }
    }
    rows
}

fn by_region(regions: &[RegionData<'_>]) -> Vec<RollupRow> {
    regions
        .iter()
        .map(|r| {
            // Networks, not departments: both partition the same structures,
            // and adding both would count every structure twice.
            let mut sum = GroupSum::default();
            r.snapshot.networks.iter().for_each(|g| sum.add(g));
            figures_row(r.region, r.region, &sum, r.evaluated_on, r.stale)
        })
        .collect()
}

/// Date and staleness of the regions behind one row.
#[derive(Default)]
struct Provenance {
    oldest: Option<NaiveDate>,
    stale: bool,
}

impl Provenance {
    fn add(&mut self, r: &RegionData<'_>) {
        self.oldest = Some(self.oldest.map_or(r.evaluated_on, |d| d.min(r.evaluated_on)));
        self.stale |= r.stale;
    }

    fn date(&self) -> NaiveDate {
        // Every row has at least one region behind it; the fallback is never used.
        self.oldest.unwrap_or_default()
    }
}

fn by_department(regions: &[RegionData<'_>]) -> Vec<RollupRow> {
    let mut departments: BTreeMap<&str, (GroupSum<'_>, Provenance)> = BTreeMap::new();
    for r in regions {
        for g in &r.snapshot.departments {
            let (sum, from) = departments.entry(&g.key).or_default();
            sum.add(g);
            from.add(r);
        }
    }
    departments
        .iter()
        .map(|(key, (sum, from))| figures_row("", key, sum, from.date(), from.stale))
        .collect()
}

fn by_function(regions: &[RegionData<'_>]) -> Vec<RollupRow> {
    let mut functions: BTreeMap<&str, (CellSum, CellSum, Provenance)> = BTreeMap::new();
    for r in regions {
        for f in r.snapshot.networks.iter().flat_map(|g| &g.functions) {
            let (orphan, single, from) = functions.entry(&f.function).or_default();
            orphan.add(f.orphan);
            single.add(f.single_holder);
            from.add(r);
        }
    }
    functions
        .iter()
        .map(|(key, (orphan, single, from))| RollupRow {
            region: String::new(),
            key: (*key).to_owned(),
            figures: None,
            orphan: orphan.cell(),
            single_holder: single.cell(),
            suppressed_cells: orphan.left_out + single.left_out,
            data_date: from.date(),
            stale: from.stale,
        })
        .collect()
}

#[cfg(test)]
mod tests;
