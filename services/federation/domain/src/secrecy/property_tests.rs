//! Seeded random regions: no suppressed cell can be recomputed from what is
//! published. The checker is shared with the hand-written cases of `tests.rs`.

use super::grid::{published_cells, Grid, Work, AMOUNT_GRANTED, BANDS, STRUCTURES};
use super::*;
use crate::aggregate::{aggregate, RawGroup};
use crate::facts::{Activity, Band, StructureFacts};
use chrono::NaiveDate;

/// xorshift64*: enough randomness for test data, reproducible from its seed.
pub(super) struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// True with probability `percent` %.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

const FUNCTIONS: [&str; 4] = ["accounting", "funding_applications", "payroll", "treasury"];

pub(super) fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 6, 1).unwrap_or_default()
}

/// A random region: a few networks and departments of uneven sizes, skewed
/// bands, sparse functions and activity — small cells are common on purpose.
fn random_region(rng: &mut Rng) -> Vec<StructureFacts> {
    let networks = 1 + rng.below(6);
    let departments = 1 + rng.below(6);
    let structures = rng.below(70);
    (0..structures)
        .map(|_| {
            // Squaring skews towards the first groups: some big, some tiny.
            let skewed = |rng: &mut Rng, n: u64| {
                let r = rng.below(n * n);
                n - 1 - (r as f64).sqrt() as u64
            };
            let band = Band::ALL[skewed(rng, 5) as usize];
            let pick = |rng: &mut Rng, percent: u64| -> Vec<String> {
                FUNCTIONS
                    .iter()
                    .filter(|_| rng.chance(percent))
                    .map(|f| (*f).to_owned())
                    .collect()
            };
            let activity =
                |rng: &mut Rng, percent: u64, max: u64| if rng.chance(percent) { 1 + rng.below(max) } else { 0 };
            StructureFacts {
                network: format!("n{}", skewed(rng, networks)),
                department: format!("{:02}", 1 + skewed(rng, departments)),
                band,
                score: (band != Band::Unknown).then(|| rng.below(101) as u32),
                orphan_functions: pick(rng, 15),
                single_holder_functions: pick(rng, 25),
                director_dependency: rng.below(101) as f64 / 100.0,
                funding_holders: rng.below(3) as u32,
                open_deadlines: (0..rng.below(3))
                    .map(|_| today() + chrono::Duration::days(rng.below(60) as i64))
                    .collect(),
                reporting_fragile: rng.chance(50),
                open_duties: (0..rng.below(3))
                    .map(|_| today() + chrono::Duration::days(rng.below(60) as i64 - 5))
                    .collect(),
                activity: {
                    let grants_won = activity(rng, 35, 3);
                    // Amounts of a few thousand euros, and now and then one
                    // large enough to dominate its group.
                    let amount_granted_euros = match grants_won {
                        0 => 0,
                        _ if rng.chance(10) => 200_000 + rng.below(800_000),
                        _ => 1_000 + rng.below(40_000),
                    };
                    Activity {
                        reminders_sent: activity(rng, 40, 6),
                        reminders_acknowledged: activity(rng, 20, 3),
                        minutes_internal: activity(rng, 30, 300),
                        minutes_external: activity(rng, 10, 300),
                        training_completions: activity(rng, 25, 4),
                        grants_won,
                        grants_refused: activity(rng, 20, 2),
                        amount_granted_euros,
                    }
                },
            }
        })
        .collect()
}

/// One suppressed cell: (partition, group, measure).
type At = (usize, usize, usize);

/// Checks every guarantee of the module documentation on one publication;
/// panics with `context` and the broken rule.
pub(super) fn check(raw: &RawSnapshot, published: &PublishedSnapshot, k: u64, context: &str) {
    let truth = Grid::from_raw(raw);
    let raws: [&[RawGroup]; 2] = [&raw.networks, &raw.departments];
    let shown: [Vec<Vec<Cell>>; 2] = [
        published.networks.iter().map(published_cells).collect(),
        published.departments.iter().map(published_cells).collect(),
    ];
    let groups = [&published.networks, &published.departments];
    let measures = truth.measures();
    for p in 0..2 {
        assert_eq!(shown[p].len(), truth.parts[p].len(), "{context}: group count");
        for (g, cells) in shown[p].iter().enumerate() {
            assert_eq!(cells.len(), measures, "{context}: every group lists every function");
            let group = &groups[p][g];
            assert_eq!(group.key, raws[p][g].key);
            for (m, c) in cells.iter().enumerate() {
                let w = truth.parts[p][g][m];
                if c.suppressed {
                    assert_eq!(c.value, 0, "{context}: suppressed value on the wire ({p},{g},{m})");
                } else {
                    assert_eq!(
                        c.value, w.value,
                        "{context}: published value is the true one ({p},{g},{m})"
                    );
                    assert!(
                        !(1..k).contains(&c.value),
                        "{context}: published small cell ({p},{g},{m}) = {}",
                        c.value
                    );
                }
            }
            // Dominance: no published amount is more than 85 % one structure's.
            let amount = raws[p][g].activity.amount_granted_euros;
            if !cells[AMOUNT_GRANTED].suppressed {
                assert!(
                    u128::from(amount.largest) * 100 <= u128::from(amount.value) * 85,
                    "{context}: dominated amount published in {} ({} of {})",
                    group.key,
                    amount.largest,
                    amount.value
                );
                assert!(
                    !(1..k).contains(&amount.contributors),
                    "{context}: amount of fewer than k structures published in {}",
                    group.key
                );
            }
            // Rule 1 and rule 5.
            let raw_group = &raws[p][g];
            if raw_group.structures < k {
                assert!(
                    cells.iter().all(|c| c.suppressed),
                    "{context}: small group {} published",
                    group.key
                );
            }
            let scored = raw_group.structures >= k && raw_group.scores.len() as u64 >= k;
            assert_eq!(
                group.score_median.is_some(),
                scored,
                "{context}: score statistics of {}",
                group.key
            );
            // Rule 3: structures = Σ bands.
            let hidden_bands: Vec<u64> = BANDS
                .filter(|b| cells[*b].suppressed)
                .map(|b| truth.parts[p][g][b].value)
                .collect();
            if cells[STRUCTURES].suppressed {
                assert!(
                    !hidden_bands.is_empty(),
                    "{context}: the bands give back the count of {}",
                    group.key
                );
            } else {
                assert_ne!(hidden_bands.len(), 1, "{context}: one hidden band in {}", group.key);
                assert!(
                    !(1..k).contains(&hidden_bands.iter().sum()),
                    "{context}: small hidden bands in {}",
                    group.key
                );
            }
        }
    }
    // Rule 4, per measure and partition.
    for m in 0..measures {
        let total: u64 = truth.parts[0].iter().map(|cells| cells[m].value).sum();
        for p in 0..2 {
            let hidden: Vec<Work> = (0..shown[p].len())
                .filter(|g| shown[p][*g][m].suppressed)
                .map(|g| truth.parts[p][g][m])
                .collect();
            let other_hidden = shown[1 - p].iter().filter(|cells| cells[m].suppressed).count();
            let published_non_zero = shown[p].iter().any(|cells| !cells[m].suppressed && cells[m].value > 0);
            // The two documented exceptions: a measure that is zero everywhere,
            // and a lone hidden figure that is the region total while the other
            // partition hides some cell too.
            let exempt = total == 0 || (!published_non_zero && other_hidden > 0);
            assert!(
                hidden.len() != 1 || exempt,
                "{context}: measure {m} has one hidden cell in partition {p}"
            );
            if other_hidden == 0 {
                let sum: u64 = hidden.iter().map(|w| w.contributors).sum();
                assert!(
                    !(1..k).contains(&sum),
                    "{context}: measure {m}, partition {p}: hidden cells sum to {sum}"
                );
                if m == AMOUNT_GRANTED {
                    // Their total is known: no structure may hold most of it.
                    let parts: Vec<_> = (0..shown[p].len())
                        .filter(|g| shown[p][*g][m].suppressed)
                        .map(|g| raws[p][g].activity.amount_granted_euros)
                        .collect();
                    let value: u64 = parts.iter().map(|a| a.value).sum();
                    let largest = parts.iter().map(|a| a.largest).max().unwrap_or(0);
                    assert!(
                        u128::from(largest) * 100 <= u128::from(value) * 85,
                        "{context}: partition {p}: the hidden amounts ({value}) are {largest} from one structure"
                    );
                }
            }
        }
    }
    no_hidden_cell_is_determined(&truth, &shown, context);
}

/// Linear algebra over the published figures: the unknowns are the hidden
/// cells; the equations are the ones an adversary has (each measure's two
/// partitions have the same total; `structures = Σ bands` in each group; a
/// set of non-negative unknowns known to add up to zero is all zeros). A cell
/// is recomputable when its unit vector lies in the row space of the system.
fn no_hidden_cell_is_determined(truth: &Grid, shown: &[Vec<Vec<Cell>>; 2], context: &str) {
    let mut unknowns: Vec<At> = Vec::new();
    for (p, part) in shown.iter().enumerate() {
        for (g, cells) in part.iter().enumerate() {
            for (m, c) in cells.iter().enumerate() {
                if c.suppressed {
                    unknowns.push((p, g, m));
                }
            }
        }
    }
    let index = |at: At| unknowns.iter().position(|u| *u == at);
    let mut rows: Vec<Vec<f64>> = Vec::new();
    let mut known_zero: Vec<At> = Vec::new();
    let n = unknowns.len();
    for m in 0..truth.measures() {
        let mut row = vec![0.0; n];
        for (i, (p, _, um)) in unknowns.iter().enumerate() {
            if *um == m {
                row[i] = if *p == 0 { 1.0 } else { -1.0 };
            }
        }
        rows.push(row);
        // Non-negativity: hidden cells whose known sum is zero.
        for p in 0..2 {
            let q = 1 - p;
            if shown[q].iter().all(|cells| !cells[m].suppressed) {
                let published = |part: &Vec<Vec<Cell>>| part.iter().map(|cells| cells[m].value).sum::<u64>();
                if published(&shown[q]) == published(&shown[p]) {
                    known_zero.extend(unknowns.iter().filter(|(up, _, um)| *up == p && *um == m));
                }
            }
        }
    }
    for (p, part) in shown.iter().enumerate() {
        for g in 0..part.len() {
            let mut row = vec![0.0; n];
            if let Some(i) = index((p, g, STRUCTURES)) {
                row[i] = 1.0;
            }
            for b in BANDS {
                if let Some(i) = index((p, g, b)) {
                    row[i] = -1.0;
                }
            }
            rows.push(row);
        }
    }
    for at in &known_zero {
        let mut row = vec![0.0; n];
        if let Some(i) = index(*at) {
            row[i] = 1.0;
        }
        rows.push(row);
    }
    for (i, at) in unknowns.iter().enumerate() {
        let (p, g, m) = *at;
        if known_zero.contains(at) {
            assert_eq!(
                truth.parts[p][g][m].value, 0,
                "{context}: a cell known to be zero is zero"
            );
            continue;
        }
        assert!(!determined(&rows, i), "{context}: hidden cell {at:?} can be recomputed");
    }
}

/// Whether unknown `i` is fixed by the equations `rows` (rank test: adding
/// the unit vector `e_i` does not raise the rank).
fn determined(rows: &[Vec<f64>], i: usize) -> bool {
    let mut with_unit = rows.to_vec();
    let mut e = vec![0.0; rows.first().map_or(0, Vec::len)];
    e[i] = 1.0;
    with_unit.push(e);
    rank(rows.to_vec()) == rank(with_unit)
}

fn rank(mut m: Vec<Vec<f64>>) -> usize {
    let cols = m.first().map_or(0, Vec::len);
    let mut rank = 0;
    for c in 0..cols {
        let Some(pivot) = (rank..m.len()).max_by(|a, b| m[*a][c].abs().total_cmp(&m[*b][c].abs())) else {
            break;
        };
        if m[pivot][c].abs() < 1e-9 {
            continue;
        }
        m.swap(rank, pivot);
        let pivot_row = m[rank].clone();
        for (r, row) in m.iter_mut().enumerate() {
            let f = row[c] / pivot_row[c];
            if r != rank && f != 0.0 {
                row.iter_mut().zip(&pivot_row).skip(c).for_each(|(x, p)| *x -= f * p);
            }
        }
        rank += 1;
    }
    rank
}

#[test]
fn rank_test_sees_a_lone_unknown_and_a_pair() {
    // x0 − x1 = c: neither is fixed; add x1 = c': both are.
    let pair = vec![vec![1.0, -1.0]];
    assert!(!determined(&pair, 0));
    let fixed = vec![vec![1.0, -1.0], vec![0.0, 1.0]];
    assert!(determined(&fixed, 0) && determined(&fixed, 1));
}

#[test]
fn checker_catches_a_lone_suppressed_cell() {
    // A publication with only the primary suppression must fail the checker:
    // otherwise the property test below could not fail either.
    let mut facts: Vec<StructureFacts> = (0..6)
        .map(|i| StructureFacts {
            network: "n1".into(),
            department: format!("0{}", 1 + i % 2),
            ..Default::default()
        })
        .collect();
    facts[0].director_dependency = 0.9;
    let raw = aggregate(&facts, today());
    let mut naive = publish(&raw, Threshold::default());
    // undo the secondary suppressions, keep the primary one (01 has 1 dependent)
    for g in naive.networks.iter_mut().chain(naive.departments.iter_mut()) {
        g.director_dependent = Cell::shown(g.director_dependent.value);
    }
    naive.departments[0].director_dependent = Cell::hidden();
    naive.networks[0].director_dependent = Cell::hidden();
    let caught = std::panic::catch_unwind(|| check(&raw, &naive, 5, "naive"));
    assert!(caught.is_err(), "the checker accepted a recomputable cell");
}

#[test]
fn no_suppressed_cell_can_be_recomputed_in_random_regions() {
    let mut suppressed_seen = 0;
    let (mut dominated_seen, mut amounts_published) = (0, 0);
    for seed in 1..=400u64 {
        let mut rng = Rng::new(seed);
        let k = 3 + rng.below(4) as u32;
        let facts = random_region(&mut rng);
        let raw = aggregate(&facts, today());
        let published = publish(&raw, Threshold::new(k).unwrap());
        assert_eq!(published.threshold, k);
        check(&raw, &published, u64::from(k), &format!("seed {seed}, k {k}"));
        for (truth, shown) in raw.networks.iter().zip(&published.networks) {
            let a = truth.activity.amount_granted_euros;
            // Hidden by dominance alone: enough contributors, one holds most.
            dominated_seen += usize::from(a.contributors >= u64::from(k) && dominated(a.value, a.largest));
            amounts_published += usize::from(!shown.amount_granted_euros.suppressed && a.value > 0);
        }
        suppressed_seen += published
            .departments
            .iter()
            .flat_map(published_cells)
            .filter(|c| c.suppressed)
            .count();
    }
    assert!(
        suppressed_seen > 1000,
        "the random regions exercise suppression ({suppressed_seen} cells)"
    );
    assert!(
        dominated_seen > 20 && amounts_published > 100,
        "the random regions exercise the dominance rule ({dominated_seen} dominated, {amounts_published} published)"
    );
}
