use super::*;
use crate::facts::{Activity, Band};

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 6, 1).unwrap()
}

fn s(network: &str, department: &str, band: Band, score: Option<u32>) -> StructureFacts {
    StructureFacts {
        network: network.into(),
        department: department.into(),
        band,
        score,
        ..Default::default()
    }
}

#[test]
fn empty_region_has_no_group() {
    assert_eq!(aggregate(&[], today()), RawSnapshot::default());
}

#[test]
fn groups_are_sorted_by_key_and_partition_the_structures() {
    let facts = vec![
        s("n2", "69", Band::Low, Some(20)),
        s("n1", "69", Band::Critical, Some(90)),
        s("n1", "01", Band::Unknown, None),
        s("n2", "01", Band::Low, Some(10)),
    ];
    let raw = aggregate(&facts, today());
    let keys = |g: &[RawGroup]| g.iter().map(|g| g.key.clone()).collect::<Vec<_>>();
    assert_eq!(keys(&raw.networks), ["n1", "n2"]);
    assert_eq!(keys(&raw.departments), ["01", "69"]);
    assert_eq!(raw.networks[0].structures, 2);
    assert_eq!(raw.networks[0].bands, [1, 0, 0, 0, 1]);
    assert_eq!(raw.networks[1].bands, [0, 2, 0, 0, 0]);
    assert_eq!(raw.networks[1].scores, [10, 20], "scores are sorted");
    assert_eq!(raw.networks[0].scores, [90], "an unscored structure adds no score");
    assert_eq!(raw.departments[1].scores, [20, 90]);
    let total = |g: &[RawGroup]| g.iter().map(|g| g.structures).sum::<u64>();
    assert_eq!(total(&raw.networks), 4);
    assert_eq!(total(&raw.departments), 4);
}

#[test]
fn every_function_code_appears_in_every_group_even_at_zero() {
    let mut a = s("n1", "01", Band::Low, None);
    a.orphan_functions = vec!["payroll".into(), "payroll".into()];
    let mut b = s("n2", "02", Band::Low, None);
    b.single_holder_functions = vec!["accounting".into()];
    let raw = aggregate(&[a, b], today());
    for g in raw.networks.iter().chain(&raw.departments) {
        assert_eq!(
            g.functions.keys().collect::<Vec<_>>(),
            ["accounting", "payroll"],
            "group {}",
            g.key
        );
    }
    let n1 = &raw.networks[0].functions;
    assert_eq!(
        n1["payroll"],
        FunctionCounts {
            orphan: 1,
            single_holder: 0
        },
        "a duplicate code counts once"
    );
    assert_eq!(n1["accounting"], FunctionCounts::default());
    assert_eq!(raw.networks[1].functions["accounting"].single_holder, 1);
}

#[test]
fn director_dependency_and_deadline_risk_are_counted() {
    let mut a = s("n1", "01", Band::Low, None);
    a.director_dependency = 0.5;
    a.open_deadlines = vec![today() + chrono::Duration::days(DEADLINE_HORIZON_DAYS)];
    a.funding_holders = 1;
    let mut b = s("n1", "01", Band::Low, None);
    b.director_dependency = 0.2;
    b.open_deadlines = vec![today() + chrono::Duration::days(DEADLINE_HORIZON_DAYS + 1)];
    let mut c = s("n1", "01", Band::Low, None);
    c.open_deadlines = vec![today()];
    c.funding_holders = 2;
    let raw = aggregate(&[a, b, c], today());
    assert_eq!(raw.networks[0].director_dependent, 1);
    assert_eq!(raw.networks[0].deadline_at_risk, 1);
}

#[test]
fn activity_sums_count_their_contributors() {
    let mut a = s("n1", "01", Band::Low, None);
    a.activity = Activity {
        reminders_sent: 3,
        reminders_acknowledged: 1,
        minutes_internal: 90,
        minutes_external: 0,
        training_completions: 2,
    };
    let mut b = s("n1", "01", Band::Low, None);
    b.activity = Activity {
        reminders_sent: 2,
        minutes_external: 30,
        ..Default::default()
    };
    let c = s("n1", "01", Band::Low, None);
    let raw = aggregate(&[a, b, c], today());
    let t = raw.networks[0].activity;
    assert_eq!(
        t.reminders_sent,
        Summed {
            value: 5,
            contributors: 2
        }
    );
    assert_eq!(
        t.reminders_acknowledged,
        Summed {
            value: 1,
            contributors: 1
        }
    );
    assert_eq!(
        t.minutes_internal,
        Summed {
            value: 90,
            contributors: 1
        }
    );
    assert_eq!(
        t.minutes_external,
        Summed {
            value: 30,
            contributors: 1
        }
    );
    assert_eq!(
        t.training_completions,
        Summed {
            value: 2,
            contributors: 1
        }
    );
}
