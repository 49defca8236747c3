//! The true figures of a region, per network and per department.
//!
//! These never leave the region as they are: [`crate::secrecy::publish`] turns
//! them into what may be published. Every function code seen anywhere in the
//! region appears in every group (zeros included), so that the network cells
//! and the department cells of a function are two full partitions of the same
//! region total — the secrecy rules rely on it.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;

use crate::facts::StructureFacts;

/// A deadline is at risk when it falls within this many days of the evaluation date.
pub const DEADLINE_HORIZON_DAYS: i64 = 30;
/// A reporting duty is at risk when it falls due within this many days.
pub const REPORTING_HORIZON_DAYS: i64 = 30;

/// A summed measure: its total, and how many structures contributed a non-zero
/// value (secrecy protects the contributors, not the size of the sum).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summed {
    /// Σ of the structures' values.
    pub value: u64,
    /// Structures with a non-zero value.
    pub contributors: u64,
    /// The largest value of one structure (the dominance rule of magnitudes).
    pub largest: u64,
}

impl Summed {
    fn add(&mut self, value: u64) {
        self.value = self.value.saturating_add(value);
        self.largest = self.largest.max(value);
        if value > 0 {
            self.contributors += 1;
        }
    }
}

/// Activity of a group over the calendar year of the evaluation date.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ActivityTotals {
    /// Deadline reminders sent.
    pub reminders_sent: Summed,
    /// Deadline reminders acknowledged.
    pub reminders_acknowledged: Summed,
    /// Facilitation minutes on the structures' own needs.
    pub minutes_internal: Summed,
    /// Facilitation minutes for external beneficiaries.
    pub minutes_external: Summed,
    /// Training completions.
    pub training_completions: Summed,
    /// Grants won (decisions of the year).
    pub grants_won: Summed,
    /// Grants refused (decisions of the year).
    pub grants_refused: Summed,
    /// Σ of the amounts won in the year, whole euros (a magnitude).
    pub amount_granted_euros: Summed,
}

/// Orphan and single-holder counts of one function in a group.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FunctionCounts {
    /// Structures where nobody holds the function.
    pub orphan: u64,
    /// Structures where exactly one person holds it.
    pub single_holder: u64,
}

/// True figures of one network or one department.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RawGroup {
    /// Network id or department code.
    pub key: String,
    /// Structures in the group.
    pub structures: u64,
    /// Structures per band: Unknown, Low, Moderate, High, Critical.
    pub bands: [u64; 5],
    /// Scores of the assessed structures, sorted.
    pub scores: Vec<u32>,
    /// Structures whose director dependency is ≥ 0.5.
    pub director_dependent: u64,
    /// Structures with a deadline at risk.
    pub deadline_at_risk: u64,
    /// Structures with a reporting duty at risk.
    pub reporting_at_risk: u64,
    /// Activity sums.
    pub activity: ActivityTotals,
    /// Per function code of the region (every code, zeros included).
    pub functions: BTreeMap<String, FunctionCounts>,
}

/// True figures of a region: two partitions of the same structures.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RawSnapshot {
    /// One group per network, sorted by key.
    pub networks: Vec<RawGroup>,
    /// One group per department, sorted by key.
    pub departments: Vec<RawGroup>,
}

/// Aggregates the facts of a region at the evaluation date `today`.
pub fn aggregate(facts: &[StructureFacts], today: NaiveDate) -> RawSnapshot {
    // Every code seen anywhere, so every group lists every function.
    let codes: BTreeSet<&str> = facts
        .iter()
        .flat_map(|f| f.orphan_functions.iter().chain(&f.single_holder_functions))
        .map(String::as_str)
        .collect();
    let mut networks: BTreeMap<&str, RawGroup> = BTreeMap::new();
    let mut departments: BTreeMap<&str, RawGroup> = BTreeMap::new();
    for f in facts {
        for (map, key) in [
            (&mut networks, f.network.as_str()),
            (&mut departments, f.department.as_str()),
        ] {
            let group = map.entry(key).or_insert_with(|| new_group(key, &codes));
            add(group, f, today);
        }
    }
    let finish = |map: BTreeMap<&str, RawGroup>| {
        map.into_values()
            .map(|mut g| {
                g.scores.sort_unstable();
                g
            })
            .collect()
    };
    RawSnapshot {
        networks: finish(networks),
        departments: finish(departments),
    }
}

fn new_group(key: &str, codes: &BTreeSet<&str>) -> RawGroup {
    RawGroup {
        key: key.to_owned(),
        functions: codes
            .iter()
            .map(|c| ((*c).to_owned(), FunctionCounts::default()))
            .collect(),
        ..Default::default()
    }
}

fn add(group: &mut RawGroup, f: &StructureFacts, today: NaiveDate) {
    group.structures += 1;
    group.bands[f.band.index()] += 1;
    if let Some(score) = f.score {
        group.scores.push(score);
    }
    group.director_dependent += u64::from(f.director_dependent());
    group.deadline_at_risk += u64::from(f.deadline_at_risk(today, DEADLINE_HORIZON_DAYS));
    group.reporting_at_risk += u64::from(f.reporting_at_risk(today, REPORTING_HORIZON_DAYS));
    let a = &mut group.activity;
    a.reminders_sent.add(f.activity.reminders_sent);
    a.reminders_acknowledged.add(f.activity.reminders_acknowledged);
    a.minutes_internal.add(f.activity.minutes_internal);
    a.minutes_external.add(f.activity.minutes_external);
    a.training_completions.add(f.activity.training_completions);
    a.grants_won.add(f.activity.grants_won);
    a.grants_refused.add(f.activity.grants_refused);
    a.amount_granted_euros.add(f.activity.amount_granted_euros);
    // A code listed twice for one structure still counts the structure once.
    let orphan: BTreeSet<&String> = f.orphan_functions.iter().collect();
    let single: BTreeSet<&String> = f.single_holder_functions.iter().collect();
    for code in orphan {
        if let Some(c) = group.functions.get_mut(code) {
            c.orphan += 1;
        }
    }
    for code in single {
        if let Some(c) = group.functions.get_mut(code) {
            c.single_holder += 1;
        }
    }
}

#[cfg(test)]
mod tests;
