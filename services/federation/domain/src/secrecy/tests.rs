use super::property_tests::{check, today};
use super::*;
use crate::aggregate::aggregate;
use crate::facts::{Activity, Band, StructureFacts};

fn s(network: &str, department: &str, band: Band) -> StructureFacts {
    StructureFacts {
        network: network.into(),
        department: department.into(),
        band,
        ..Default::default()
    }
}

/// `n` structures of one network, department and band.
fn many(n: usize, network: &str, department: &str, band: Band) -> Vec<StructureFacts> {
    (0..n).map(|_| s(network, department, band)).collect()
}

fn publish_facts(facts: &[StructureFacts], k: u32) -> (RawSnapshot, PublishedSnapshot) {
    let raw = aggregate(facts, today());
    let published = publish(&raw, Threshold::new(k).unwrap());
    check(&raw, &published, u64::from(k), "hand-made region");
    (raw, published)
}

#[test]
fn threshold_is_never_below_three_and_says_why_in_french() {
    let err = Threshold::new(2).unwrap_err();
    assert_eq!(err, SecrecyError::ThresholdTooLow { got: 2 });
    assert_eq!(
        err.to_string(),
        "le seuil de secret statistique doit être au moins 3 (reçu 2)"
    );
    assert_eq!(Threshold::new(3).unwrap().get(), 3);
    assert_eq!(Threshold::default().get(), DEFAULT_THRESHOLD);
    assert_eq!(DEFAULT_THRESHOLD, 5);
}

#[test]
fn empty_region_publishes_empty_partitions() {
    let published = publish(&RawSnapshot::default(), Threshold::default());
    assert_eq!(
        published,
        PublishedSnapshot {
            threshold: 5,
            ..Default::default()
        }
    );
}

#[test]
fn a_region_without_small_cells_is_published_as_is() {
    let mut facts = many(6, "n1", "01", Band::Low);
    facts.extend(many(5, "n2", "01", Band::High));
    let (_, p) = publish_facts(&facts, 5);
    assert_eq!(p.networks[0].structures, Cell::shown(6));
    assert_eq!(
        p.networks[0].bands,
        [
            Cell::shown(0),
            Cell::shown(6),
            Cell::shown(0),
            Cell::shown(0),
            Cell::shown(0)
        ]
    );
    assert_eq!(p.networks[1].bands[3], Cell::shown(5));
    assert_eq!(p.departments[0].structures, Cell::shown(11));
    assert_eq!(
        p.departments[0].director_dependent,
        Cell::shown(0),
        "a zero is published"
    );
}

#[test]
fn a_department_with_four_structures_appears_only_as_suppressed_and_no_total_recomputes_it() {
    // Department 01 has 4 structures, spread over both networks; 69 and 38 are large.
    let mut facts = many(2, "n1", "01", Band::Low);
    facts.extend(many(2, "n2", "01", Band::Critical));
    facts.extend(many(6, "n1", "69", Band::Low));
    facts.extend(many(6, "n2", "69", Band::Moderate));
    facts.extend(many(7, "n1", "38", Band::High));
    for f in facts.iter_mut().take(3) {
        f.director_dependency = 0.8;
        f.orphan_functions = vec!["payroll".into()];
        f.activity = Activity {
            minutes_internal: 120,
            ..Default::default()
        };
    }
    let (raw, p) = publish_facts(&facts, 5);
    let d01 = p.departments.iter().find(|g| g.key == "01").unwrap();
    let cells = super::grid::published_cells(d01);
    assert!(
        cells.iter().all(|c| *c == Cell::hidden()),
        "every cell of 01 is suppressed, value 0"
    );
    assert_eq!((d01.score_mean, d01.score_median), (None, None));
    // The networks publish the region total of structures (21 + 2…): the
    // departments must hide a second count, so 21 − 69 − 38 is not 01.
    assert_eq!(p.networks.iter().filter(|g| g.structures.suppressed).count(), 0);
    let hidden_counts = p.departments.iter().filter(|g| g.structures.suppressed).count();
    assert!(hidden_counts >= 2, "a second department count is hidden");
    // And that second department's bands do not give its count back.
    for g in p.departments.iter().filter(|g| g.structures.suppressed) {
        assert!(g.bands.iter().any(|c| c.suppressed), "bands of {}", g.key);
    }
    // The only total of structures an adversary holds (the networks') minus the
    // published departments leaves more than 01's four. `check` above proves
    // the general case: no hidden cell is fixed by any combination of totals.
    let raw_total: u64 = raw.networks.iter().map(|g| g.structures).sum();
    let published_departments: u64 = p.departments.iter().map(|g| g.structures.value).sum();
    assert!(
        raw_total - published_departments > 4,
        "the difference covers more than department 01"
    );
}

#[test]
fn small_cell_is_suppressed_with_its_complement_in_the_partition() {
    // Director dependency: 2 in n1 (primary), 7 in n2, 9 in n3.
    let mut facts = many(8, "n1", "01", Band::Low);
    facts.extend(many(8, "n2", "01", Band::Low));
    facts.extend(many(10, "n3", "01", Band::Low));
    for (i, f) in facts.iter_mut().enumerate() {
        let dependent = i < 2 || (8..15).contains(&i) || (16..25).contains(&i);
        f.director_dependency = if dependent { 0.7 } else { 0.1 };
    }
    let (_, p) = publish_facts(&facts, 5);
    let dd: Vec<Cell> = p.networks.iter().map(|g| g.director_dependent).collect();
    assert_eq!(
        dd,
        [Cell::hidden(), Cell::hidden(), Cell::shown(9)],
        "the smallest non-zero (7) is the complement"
    );
    assert_eq!(
        p.departments[0].director_dependent,
        Cell::shown(18),
        "the total alone says nothing of n1"
    );
}

#[test]
fn band_suppressed_inside_a_group_takes_a_second_band_with_it() {
    // n1: 7 Low, 3 Moderate, 6 High. Moderate is small; the smallest other
    // non-zero band (High, 6) is hidden too, otherwise 16 − 7 − 6 = 3.
    let mut facts = many(7, "n1", "01", Band::Low);
    facts.extend(many(3, "n1", "01", Band::Moderate));
    facts.extend(many(6, "n1", "01", Band::High));
    let (_, p) = publish_facts(&facts, 5);
    let bands = p.networks[0].bands;
    assert_eq!(bands[1], Cell::shown(7));
    assert!(bands[2].suppressed && bands[3].suppressed);
    assert_eq!(p.networks[0].structures, Cell::shown(16));
}

#[test]
fn two_small_bands_are_not_left_with_a_small_known_sum() {
    // n1: 9 Low, 1 High, 1 Critical, count published: the hidden pair would
    // add up to 2 and read as "1 and 1", so Low is hidden as well.
    let mut facts = many(9, "n1", "01", Band::Low);
    facts.push(s("n1", "01", Band::High));
    facts.push(s("n1", "01", Band::Critical));
    let (_, p) = publish_facts(&facts, 5);
    let bands = p.networks[0].bands;
    assert!(bands[1].suppressed && bands[3].suppressed && bands[4].suppressed);
}

#[test]
fn activity_sums_are_protected_by_their_contributors() {
    // 600 minutes from 2 structures: suppressed although the sum is large;
    // 5 minutes from 5 structures: published.
    let mut facts = many(6, "n1", "01", Band::Low);
    facts.extend(many(6, "n2", "02", Band::Low));
    facts.extend(many(6, "n3", "03", Band::Low));
    for f in &mut facts[..2] {
        f.activity.minutes_external = 300;
    }
    for f in &mut facts[6..11] {
        f.activity.training_completions = 1;
    }
    let (_, p) = publish_facts(&facts, 5);
    assert!(p.networks[0].minutes_external.suppressed);
    assert_eq!(p.networks[1].training_completions, Cell::shown(5));
    assert_eq!(p.networks[1].minutes_external, Cell::shown(0));
}

#[test]
fn lone_figure_with_no_complement_is_hidden_in_the_other_partition_too() {
    // Low lives only in department 02 and there it is hidden inside its group
    // (9 = 7 Low + 2 Critical). Department 01 has no Low at all, so 02's Low is
    // the region's Low total, which the networks would give back: n1's Low
    // (7) must go too.
    let mut facts = many(5, "n2", "01", Band::Moderate);
    facts.extend(many(7, "n1", "02", Band::Low));
    facts.extend(many(2, "n2", "02", Band::Critical));
    let (_, p) = publish_facts(&facts, 5);
    let d02 = &p.departments[1];
    assert!(d02.bands[1].suppressed, "02's Low is hidden with its Critical");
    assert!(
        p.networks[0].bands[1].suppressed,
        "n1's Low is hidden so the total is unknown"
    );
}

#[test]
fn score_statistics_need_k_scored_structures_of_an_unsuppressed_group() {
    let mut facts = many(6, "n1", "01", Band::Low);
    for (f, score) in facts.iter_mut().zip([10, 20, 40, 80, 90]) {
        f.score = Some(score);
    }
    let mut few = many(6, "n2", "01", Band::Low);
    few[0].score = Some(50);
    facts.extend(few);
    let (_, p) = publish_facts(&facts, 5);
    let g = &p.networks[0];
    assert_eq!(
        (g.score_mean, g.score_q1, g.score_median, g.score_q3),
        (Some(48.0), Some(20.0), Some(40.0), Some(80.0))
    );
    assert_eq!(p.networks[1].score_mean, None, "one score is not enough");
    let (_, small) = publish_facts(&facts[..4], 3);
    assert_eq!(
        small.networks[0].score_mean.map(|m| m * 10.0),
        Some(375.0),
        "mean of 10, 20, 40, 80 at k = 3"
    );
}

#[test]
fn dominance_is_more_than_85_percent_of_the_sum() {
    assert!(!dominated(100, 85), "exactly 85 % is published");
    assert!(dominated(100, 86));
    assert!(dominated(1_000, 1_000), "a lone contributor always dominates");
    assert!(!dominated(0, 0), "an empty sum has nobody to protect");
    assert!(!dominated(u64::MAX, u64::MAX / 2), "no overflow on huge sums");
    assert_eq!(DOMINANCE_PERCENT, 85);
}

#[test]
fn an_amount_one_structure_dominates_is_hidden_with_enough_complement() {
    // n1: 90,000 € of 100,000 € come from one structure (90 %): hidden although
    // five structures won. Its complement n2 (5 × 1,000 €) would leave the two
    // hidden cells at 105,000 € of which 90,000 € (85.7 %) from that one
    // structure, so n3 (60,000 €, 40,000 € from one: 67 %) is hidden too. n4
    // is published; grant counts follow their own (contributor) rule.
    let mut facts = many(6, "n1", "01", Band::Low);
    facts.extend(many(6, "n2", "02", Band::Low));
    facts.extend(many(6, "n3", "03", Band::Low));
    facts.extend(many(6, "n4", "04", Band::Low));
    let amounts: [&[u64]; 4] = [
        &[90_000, 3_000, 3_000, 2_000, 2_000],
        &[1_000; 5],
        &[40_000, 5_000, 5_000, 5_000, 5_000],
        &[20_000; 5],
    ];
    for (n, amounts) in amounts.iter().enumerate() {
        for (f, euros) in facts[6 * n..].iter_mut().zip(*amounts) {
            f.activity.grants_won = 1;
            f.activity.amount_granted_euros = *euros;
        }
    }
    facts[23].activity.grants_refused = 2;
    let (_, p) = publish_facts(&facts, 5);
    let amount: Vec<Cell> = p.networks.iter().map(|g| g.amount_granted_euros).collect();
    assert_eq!(
        amount,
        [Cell::hidden(), Cell::hidden(), Cell::hidden(), Cell::shown(100_000)]
    );
    assert_eq!(p.departments[3].amount_granted_euros, Cell::shown(100_000));
    assert!(p.departments[..3].iter().all(|g| g.amount_granted_euros.suppressed));
    for g in &p.networks {
        assert_eq!(g.grants_won, Cell::shown(5), "five winners in {}", g.key);
    }
    assert!(p.networks[3].grants_refused.suppressed, "one structure refused");
}

#[test]
fn reporting_risk_is_a_count_like_deadline_risk() {
    // 6 structures at risk in n1, 2 in n2 (small: hidden with its complement).
    let mut facts = many(8, "n1", "01", Band::Low);
    facts.extend(many(8, "n2", "01", Band::Low));
    facts.extend(many(6, "n3", "02", Band::Low));
    for (i, f) in facts.iter_mut().enumerate() {
        if i < 6 || (8..10).contains(&i) {
            f.reporting_fragile = true;
            f.open_duties = vec![today() + chrono::Duration::days(12)];
        }
    }
    let (_, p) = publish_facts(&facts, 5);
    let risk: Vec<Cell> = p.networks.iter().map(|g| g.reporting_at_risk).collect();
    assert_eq!(risk, [Cell::hidden(), Cell::hidden(), Cell::shown(0)]);
    assert_eq!(p.departments[0].reporting_at_risk, Cell::shown(8));
}
