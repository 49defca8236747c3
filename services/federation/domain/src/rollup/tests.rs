use super::*;
use crate::aggregate::aggregate;
use crate::facts::{Activity, Band, StructureFacts};
use crate::secrecy::{publish, PublishedFunction, Threshold};

fn date(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 6, d).unwrap()
}

/// A region of `sizes[i]` structures in network `{prefix}{i}`, spread over
/// the departments `deps`, some with small cells.
fn region(prefix: &str, sizes: &[usize], deps: &[&str]) -> PublishedSnapshot {
    let mut facts = Vec::new();
    for (i, n) in sizes.iter().enumerate() {
        for j in 0..*n {
            facts.push(StructureFacts {
                network: format!("{prefix}{i}"),
                department: deps[j % deps.len()].to_owned(),
                band: Band::ALL[(i + j) % 3 + usize::from(j % 7 == 0) * 2],
                score: Some((10 * i + 3 * j) as u32 % 100),
                director_dependency: if j % 4 == 0 { 0.9 } else { 0.0 },
                orphan_functions: if j % 3 == 0 { vec!["payroll".into()] } else { vec![] },
                single_holder_functions: vec!["accounting".into()],
                reporting_fragile: j % 2 == 0,
                open_duties: vec![date(1) + chrono::Duration::days(j as i64 % 40)],
                activity: Activity {
                    grants_won: u64::from(j % 3 != 0),
                    grants_refused: u64::from(j % 5 == 0),
                    amount_granted_euros: if j % 3 != 0 { 1_000 * (j as u64 + 1) } else { 0 },
                    ..Default::default()
                },
                ..Default::default()
            });
        }
    }
    publish(&aggregate(&facts, date(1)), Threshold::default())
}

/// Reads one cell of a group.
type Accessor = Box<dyn Fn(&PublishedGroup) -> Cell>;

fn data<'a>(region: &'a str, on: NaiveDate, stale: bool, snapshot: &'a PublishedSnapshot) -> RegionData<'a> {
    RegionData {
        region,
        evaluated_on: on,
        stale,
        snapshot,
    }
}

/// Σ of the unsuppressed values of `cell` over a region's networks, and how
/// many were suppressed.
fn own_sum(s: &PublishedSnapshot, cell: impl Fn(&PublishedGroup) -> Cell) -> (u64, u32) {
    let cells: Vec<Cell> = s.networks.iter().map(cell).collect();
    (
        cells.iter().filter(|c| !c.suppressed).map(|c| c.value).sum(),
        cells.iter().filter(|c| c.suppressed).count() as u32,
    )
}

#[test]
fn by_region_is_the_sum_of_each_regions_own_unsuppressed_network_cells() {
    let a = region("a", &[12, 3, 8, 30], &["01", "69", "38"]);
    let b = region("b", &[6, 2, 25], &["13", "83"]);
    let regions = [data("ara", date(1), false, &a), data("paca", date(2), false, &b)];
    let rows = rollup(&regions, By::Region);
    assert_eq!(rows.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(), ["ara", "paca"]);
    for (row, snapshot) in rows.iter().zip([&a, &b]) {
        assert_eq!(row.region, row.key);
        let f = row.figures.as_ref().unwrap();
        let accessors: Vec<(Cell, Accessor)> = vec![
            (f.structures, Box::new(|g| g.structures)),
            (f.bands[0], Box::new(|g| g.bands[0])),
            (f.bands[1], Box::new(|g| g.bands[1])),
            (f.bands[2], Box::new(|g| g.bands[2])),
            (f.bands[3], Box::new(|g| g.bands[3])),
            (f.bands[4], Box::new(|g| g.bands[4])),
            (f.director_dependent, Box::new(|g| g.director_dependent)),
            (f.deadline_at_risk, Box::new(|g| g.deadline_at_risk)),
            (f.reminders_sent, Box::new(|g| g.reminders_sent)),
            (f.training_completions, Box::new(|g| g.training_completions)),
            (f.reporting_at_risk, Box::new(|g| g.reporting_at_risk)),
            (f.grants_won, Box::new(|g| g.grants_won)),
            (f.grants_refused, Box::new(|g| g.grants_refused)),
            (f.amount_granted_euros, Box::new(|g| g.amount_granted_euros)),
        ];
        let mut left_out = 0;
        for (summed, cell) in &accessors {
            let (value, hidden) = own_sum(snapshot, cell);
            assert_eq!(summed.value, value);
            assert_eq!(summed.suppressed, hidden as usize == snapshot.networks.len());
            left_out += hidden;
        }
        for code in ["accounting", "payroll"] {
            let summed = f.functions.iter().find(|x| x.function == code).unwrap();
            let pick = |g: &PublishedGroup| g.functions.iter().find(|x| x.function == code).unwrap().clone();
            let (orphan, ho) = own_sum(snapshot, |g| pick(g).orphan);
            let (single, hs) = own_sum(snapshot, |g| pick(g).single_holder);
            assert_eq!((summed.orphan.value, summed.single_holder.value), (orphan, single));
            left_out += ho + hs;
        }
        // minutes were not in the list above: add their hidden cells too
        left_out += own_sum(snapshot, |g| g.reminders_acknowledged).1
            + own_sum(snapshot, |g| g.minutes_internal).1
            + own_sum(snapshot, |g| g.minutes_external).1;
        assert_eq!(row.suppressed_cells, left_out);
        assert!(row.suppressed_cells > 0, "the fixture has suppressed cells");
        assert!(f.amount_granted_euros.value > 0, "the fixture publishes grants");
        assert_eq!(
            (f.score_q1, f.score_median, f.score_q3),
            (None, None, None),
            "quartiles do not add up"
        );
    }
    assert_eq!(rows[1].data_date, date(2));
}

#[test]
fn by_network_lists_disjoint_networks_of_two_regions_as_published() {
    let a = region("a", &[12, 3], &["01"]);
    let b = region("b", &[6, 7], &["13"]);
    let regions = [data("paca", date(2), false, &b), data("ara", date(1), false, &a)];
    let rows = rollup(&regions, By::Network);
    let keys: Vec<(&str, &str)> = rows.iter().map(|r| (r.region.as_str(), r.key.as_str())).collect();
    assert_eq!(
        keys,
        [("ara", "a0"), ("ara", "a1"), ("paca", "b0"), ("paca", "b1")],
        "sorted by (region, key)"
    );
    assert_eq!(
        rows[0].figures.as_ref(),
        Some(&a.networks[0]),
        "the published group as is"
    );
    assert_eq!(
        rows[1].figures.as_ref().unwrap().structures,
        Cell::hidden(),
        "a1 (3 structures) stays hidden"
    );
    assert!(
        rows[1].suppressed_cells >= 13,
        "every cell of a1 is counted as left out"
    );
    assert_eq!(rows[2].data_date, date(2));
}

#[test]
fn by_function_sums_every_network_of_every_region() {
    let a = region("a", &[12, 9], &["01"]);
    let b = region("b", &[6], &["13"]);
    let rows = rollup(
        &[data("ara", date(3), false, &a), data("paca", date(1), true, &b)],
        By::Function,
    );
    assert_eq!(
        rows.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(),
        ["accounting", "payroll"]
    );
    let accounting = &rows[0];
    assert_eq!(accounting.region, "");
    assert_eq!(accounting.figures, None);
    assert_eq!(
        accounting.single_holder,
        Cell::shown(12 + 9 + 6),
        "every structure has one accounting holder"
    );
    assert_eq!(
        (accounting.data_date, accounting.stale),
        (date(1), true),
        "oldest date, stale if any"
    );
}

#[test]
fn a_stale_region_keeps_its_last_data_and_flags_its_rows() {
    let a = region("a", &[12], &["01", "69"]);
    let b = region("b", &[10], &["69"]);
    let regions = [data("ara", date(5), false, &a), data("bfc", date(1), true, &b)];
    let by_region = rollup(&regions, By::Region);
    assert_eq!(by_region[1].key, "bfc");
    assert!(by_region[1].stale && !by_region[0].stale);
    assert_eq!(
        by_region[1].figures.as_ref().unwrap().structures,
        Cell::shown(10),
        "its data is still counted"
    );
    assert_eq!(by_region[1].data_date, date(1));
    // Department 69 is in both regions (a border case): its row sums both and
    // carries the older date and the stale flag.
    let by_department = rollup(&regions, By::Department);
    let d69 = by_department.iter().find(|r| r.key == "69").unwrap();
    assert_eq!(d69.region, "");
    assert_eq!(d69.figures.as_ref().unwrap().structures, Cell::shown(6 + 10));
    assert_eq!((d69.data_date, d69.stale), (date(1), true));
    let d01 = by_department.iter().find(|r| r.key == "01").unwrap();
    assert_eq!((d01.data_date, d01.stale), (date(5), false));
    assert_eq!(
        d01.figures.as_ref(),
        Some(&a.departments[0]),
        "a department of one region is its own group"
    );
}

#[test]
fn summed_cell_is_suppressed_only_when_every_contributor_was() {
    let group = |key: &str, structures: Cell, mean: Option<f64>| PublishedGroup {
        key: key.into(),
        structures,
        score_mean: mean,
        functions: vec![PublishedFunction {
            function: "payroll".into(),
            ..Default::default()
        }],
        ..Default::default()
    };
    let hidden = PublishedSnapshot {
        threshold: 5,
        networks: vec![group("n1", Cell::hidden(), None), group("n2", Cell::hidden(), None)],
        departments: vec![],
    };
    let mixed = PublishedSnapshot {
        threshold: 5,
        networks: vec![
            group("n1", Cell::shown(10), Some(40.0)),
            group("n2", Cell::hidden(), Some(99.0)),
            group("n3", Cell::shown(30), Some(60.0)),
        ],
        departments: vec![],
    };
    let rows = rollup(
        &[data("a", date(1), false, &hidden), data("b", date(1), false, &mixed)],
        By::Region,
    );
    let a = rows[0].figures.as_ref().unwrap();
    assert_eq!(a.structures, Cell::hidden());
    assert_eq!(a.score_mean, None);
    let b = rows[1].figures.as_ref().unwrap();
    assert_eq!(
        b.structures,
        Cell {
            partial: true,
            ..Cell::shown(40)
        },
        "a lower bound: n2 is left out"
    );
    assert_eq!(rows[1].suppressed_cells, 1);
    assert_eq!(
        b.score_mean,
        Some(55.0),
        "weighted by published counts, n2 has no known weight"
    );
    assert_eq!(rollup(&[], By::Region), vec![]);
}

#[test]
fn grants_and_reporting_risk_are_summed_like_the_other_cells() {
    let group = |key: &str, won: Cell, amount: Cell, reporting: Cell| PublishedGroup {
        key: key.into(),
        structures: Cell::shown(8),
        grants_won: won,
        amount_granted_euros: amount,
        reporting_at_risk: reporting,
        ..Default::default()
    };
    let a = PublishedSnapshot {
        threshold: 5,
        networks: vec![
            group("a1", Cell::shown(7), Cell::shown(120_000), Cell::shown(5)),
            group("a2", Cell::hidden(), Cell::hidden(), Cell::shown(0)),
        ],
        departments: vec![group("35", Cell::shown(9), Cell::shown(150_000), Cell::shown(5))],
    };
    let b = PublishedSnapshot {
        threshold: 5,
        networks: vec![group("b1", Cell::shown(6), Cell::shown(80_000), Cell::hidden())],
        departments: vec![group("35", Cell::shown(6), Cell::shown(80_000), Cell::hidden())],
    };
    let regions = [data("bretagne", date(1), false, &a), data("pdl", date(1), false, &b)];
    let by_region = rollup(&regions, By::Region);
    let bretagne = by_region[0].figures.as_ref().unwrap();
    let partial = |value| Cell {
        partial: true,
        ..Cell::shown(value)
    };
    assert_eq!(bretagne.grants_won, partial(7), "a2 left out: a lower bound");
    assert_eq!(bretagne.amount_granted_euros, partial(120_000));
    assert_eq!(bretagne.reporting_at_risk, Cell::shown(5));
    let pdl = by_region[1].figures.as_ref().unwrap();
    assert_eq!(pdl.amount_granted_euros, Cell::shown(80_000));
    assert_eq!(pdl.reporting_at_risk, Cell::hidden(), "every part was secret");
    // Department 35 in both regions: the national sum of what each published.
    let d35 = rollup(&regions, By::Department);
    let d35 = d35[0].figures.as_ref().unwrap();
    assert_eq!(d35.amount_granted_euros, Cell::shown(230_000));
    assert_eq!(d35.grants_won, Cell::shown(15));
    assert_eq!(d35.reporting_at_risk, partial(5));
}
