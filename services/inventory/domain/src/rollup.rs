//! Roll-ups of fragility assessments per network, region, department or
//! federation: counts by band, mean score, and for each function the share of
//! structures where it is an orphan or a single point of failure.
//!
//! The caller chooses the grouping key (network id, region code…); this module
//! only aggregates, in integers as long as possible, so that the result does
//! not depend on the order of the rows.

use std::collections::BTreeMap;
use vigie_fragility_model::fragility::{Assessment, Band};

/// How one function fares across the inventoried structures of a group.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionShare {
    /// Function code (catalogue or custom).
    pub code: String,
    /// Number of inventoried structures of the group that record the function.
    pub structures: u64,
    /// Share of the group's inventoried structures where the function is an
    /// orphan, 0–1.
    pub orphan_share: f64,
    /// Share of the group's inventoried structures where the function is a
    /// single point of failure, 0–1.
    pub spof_share: f64,
}

/// Aggregate of the assessments sharing one key.
///
/// Shares are taken over the group's *inventoried* structures (band other
/// than `unknown`), not over every structure nor over the structures that
/// record the function: a structure that has not been inventoried tells us
/// nothing, and counting it would dilute the shares; dividing by the
/// structures that record the function would hide that a function is missing
/// from many inventories, which `structures` shows instead.
#[derive(Debug, Clone, PartialEq)]
pub struct RollupGroup {
    /// The grouping key (network id, region code…).
    pub key: String,
    /// Number of structures in the group, inventoried or not.
    pub structures: u64,
    /// Structures not inventoried yet.
    pub unknown: u64,
    /// Structures in band `low`.
    pub low: u64,
    /// Structures in band `moderate`.
    pub moderate: u64,
    /// Structures in band `high`.
    pub high: u64,
    /// Structures in band `critical`.
    pub critical: u64,
    /// Mean score of the inventoried structures; `None` when there is none.
    pub mean_score: Option<f64>,
    /// Every function recorded by at least one inventoried structure of the
    /// group, sorted by code.
    pub functions: Vec<FunctionShare>,
}

#[derive(Default)]
struct FunctionTally {
    recording: u64,
    orphan: u64,
    spof: u64,
}

#[derive(Default)]
struct GroupTally {
    structures: u64,
    unknown: u64,
    low: u64,
    moderate: u64,
    high: u64,
    critical: u64,
    scored: u64,
    score_sum: u64,
    functions: BTreeMap<String, FunctionTally>,
}

/// Groups assessments by key; groups are sorted by key, their functions by
/// code. A key given several times accumulates all its rows.
pub fn rollup<'a>(rows: impl IntoIterator<Item = (String, &'a Assessment)>) -> Vec<RollupGroup> {
    let mut tally = Rollup::default();
    for (key, assessment) in rows {
        tally.add(key, assessment);
    }
    tally.finish()
}

/// A roll-up fed one assessment at a time, so that a whole instance can be
/// grouped while its structures are read a chunk at a time: only the
/// groups' counts are held, never the assessments.
#[derive(Default)]
pub struct Rollup {
    groups: BTreeMap<String, GroupTally>,
}

impl Rollup {
    /// Counts `assessment` in the group `key`.
    pub fn add(&mut self, key: String, assessment: &Assessment) {
        let group = self.groups.entry(key).or_default();
        group.structures += 1;
        match assessment.band {
            Band::Unknown => group.unknown += 1,
            Band::Low => group.low += 1,
            Band::Moderate => group.moderate += 1,
            Band::High => group.high += 1,
            Band::Critical => group.critical += 1,
        }
        if assessment.band == Band::Unknown {
            return;
        }
        if let Some(score) = assessment.score {
            group.scored += 1;
            group.score_sum += u64::from(score);
        }
        for f in &assessment.functions {
            let tally = group.functions.entry(f.code.clone()).or_default();
            tally.recording += 1;
            match f.holders.len() {
                0 => tally.orphan += 1,
                1 => tally.spof += 1,
                _ => {}
            }
        }
    }

    /// The groups, sorted by key, their functions by code.
    pub fn finish(self) -> Vec<RollupGroup> {
        self.groups
            .into_iter()
            .map(|(key, g)| {
                let inventoried = g.structures - g.unknown;
                // Counts fit easily in f64's 53-bit mantissa; the ratios are exact
                // up to one rounding, whatever the row order.
                let share = |count: u64| count as f64 / inventoried as f64;
                RollupGroup {
                    key,
                    structures: g.structures,
                    unknown: g.unknown,
                    low: g.low,
                    moderate: g.moderate,
                    high: g.high,
                    critical: g.critical,
                    mean_score: (g.scored > 0).then(|| g.score_sum as f64 / g.scored as f64),
                    // Non-empty only when some structure is inventoried, so
                    // `inventoried > 0` whenever `share` is called.
                    functions: g
                        .functions
                        .into_iter()
                        .map(|(code, t)| FunctionShare {
                            code,
                            structures: t.recording,
                            orphan_share: share(t.orphan),
                            spof_share: share(t.spof),
                        })
                        .collect(),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigie_fragility_model::fragility::fixtures::{date, Builder};
    use vigie_fragility_model::fragility::{assess, FragilityParams};
    use vigie_fragility_model::model::{Role, StructureInventory};

    const EPS: f64 = 1e-12;

    fn run(inv: &StructureInventory) -> Assessment {
        assess(inv, date(2026, 6, 15), &FragilityParams::default())
    }

    /// Four structures:
    /// - A: payroll orphan (critical), scheduling SPOF.
    /// - B: payroll SPOF, scheduling held twice.
    /// - C: communication only, held twice (low).
    /// - D: nothing recorded (unknown).
    fn sample() -> Vec<Assessment> {
        let a = Builder::new("A")
            .person("a1", "A1", Role::Employee, None)
            .function("payroll", 3)
            .function("scheduling", 3)
            .holds("a1", "scheduling")
            .build();
        let b = Builder::new("B")
            .person("b1", "B1", Role::Employee, None)
            .person("b2", "B2", Role::Employee, None)
            .function("payroll", 3)
            .function("scheduling", 3)
            .holds("b1", "payroll")
            .holds("b1", "scheduling")
            .holds("b2", "scheduling")
            .build();
        let c = Builder::new("C")
            .person("c1", "C1", Role::Employee, None)
            .person("c2", "C2", Role::Employee, None)
            .function("communication", 1)
            .holds("c1", "communication")
            .holds("c2", "communication")
            .build();
        let d = Builder::new("D").build();
        [a, b, c, d].iter().map(run).collect()
    }

    fn shares(group: &RollupGroup) -> Vec<(&str, u64, f64, f64)> {
        group
            .functions
            .iter()
            .map(|f| (f.code.as_str(), f.structures, f.orphan_share, f.spof_share))
            .collect()
    }

    #[test]
    fn sample_assessments_are_what_the_rollup_tests_assume() {
        let s = sample();
        let bands: Vec<Band> = s.iter().map(|a| a.band).collect();
        assert_eq!(bands, [Band::Critical, Band::High, Band::Low, Band::Unknown]);
        let scores: Vec<Option<u32>> = s.iter().map(|a| a.score).collect();
        // A: (3 + 3·0.15)/6 = 57.5 → 58; B: (3·0.15 + 3·0.0225)/6 = 8.625 → 9;
        // C: 0.0225 → 2.
        assert_eq!(scores, [Some(58), Some(9), Some(2), None]);
    }

    #[test]
    fn one_group_counts_means_and_shares() {
        let s = sample();
        let groups = rollup(s.iter().map(|a| ("net".to_owned(), a)));
        assert_eq!(groups.len(), 1);
        let g = &groups[0];
        assert_eq!(g.key, "net");
        assert_eq!(g.structures, 4);
        assert_eq!((g.unknown, g.low, g.moderate, g.high, g.critical), (1, 1, 0, 1, 1));
        let mean = match g.mean_score {
            Some(m) => m,
            None => panic!("no mean"),
        };
        assert!((mean - 23.0).abs() < EPS, "(58 + 9 + 2) / 3, unknown excluded: {mean}");
        // Shares over the 3 inventoried structures.
        assert_eq!(
            shares(g),
            [
                ("communication", 1, 0.0, 0.0),
                ("payroll", 2, 1.0 / 3.0, 1.0 / 3.0),
                ("scheduling", 2, 0.0, 1.0 / 3.0),
            ]
        );
    }

    #[test]
    fn groups_are_sorted_by_key_and_split() {
        let s = sample();
        let keys = ["north", "south", "north", "east"];
        let groups = rollup(keys.iter().zip(&s).map(|(k, a)| ((*k).to_owned(), a)));
        let summary: Vec<(&str, u64, Option<f64>)> = groups
            .iter()
            .map(|g| (g.key.as_str(), g.structures, g.mean_score))
            .collect();
        assert_eq!(
            summary,
            [("east", 1, None), ("north", 2, Some(30.0)), ("south", 1, Some(9.0))]
        );
        let east = &groups[0];
        assert_eq!(east.unknown, 1);
        assert!(east.functions.is_empty());
        let north = &groups[1];
        assert_eq!((north.critical, north.low), (1, 1));
        assert_eq!(
            shares(north),
            [
                ("communication", 1, 0.0, 0.0),
                ("payroll", 1, 0.5, 0.0),
                ("scheduling", 1, 0.0, 0.5),
            ]
        );
        let south = &groups[2];
        assert_eq!(shares(south), [("payroll", 1, 0.0, 1.0), ("scheduling", 1, 0.0, 0.0)]);
    }

    #[test]
    fn row_order_does_not_matter() {
        let s = sample();
        let keys = ["n", "s", "n", "n"];
        let forward = rollup(keys.iter().zip(&s).map(|(k, a)| ((*k).to_owned(), a)));
        let backward = rollup(keys.iter().zip(&s).rev().map(|(k, a)| ((*k).to_owned(), a)));
        assert_eq!(forward, backward);
        assert_eq!(forward.len(), 2);
    }

    #[test]
    fn fed_in_chunks_it_equals_the_whole_rollup() {
        let s = sample();
        let keys = ["n", "s", "n", "s"];
        let mut fed = Rollup::default();
        for chunk in keys.iter().zip(&s).collect::<Vec<_>>().chunks(3) {
            for (k, a) in chunk {
                fed.add((**k).to_owned(), a);
            }
        }
        assert_eq!(
            fed.finish(),
            rollup(keys.iter().zip(&s).map(|(k, a)| ((*k).to_owned(), a)))
        );
    }

    #[test]
    fn empty_input_gives_no_group() {
        assert!(rollup(std::iter::empty::<(String, &Assessment)>()).is_empty());
    }

    #[test]
    fn only_unknown_structures_have_no_mean_and_no_functions() {
        let unknown = run(&Builder::new("X").build());
        let groups = rollup([("k".to_owned(), &unknown), ("k".to_owned(), &unknown)]);
        assert_eq!(groups.len(), 1);
        assert_eq!((groups[0].structures, groups[0].unknown), (2, 2));
        assert_eq!(groups[0].mean_score, None);
        assert!(groups[0].functions.is_empty());
    }
}
