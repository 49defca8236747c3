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
fn activity_sums_count_their_contributors_and_their_largest_part() {
    let mut a = s("n1", "01", Band::Low, None);
    a.activity = Activity {
        reminders_sent: 3,
        reminders_acknowledged: 1,
        minutes_internal: 90,
        minutes_external: 0,
        training_completions: 2,
        ..Default::default()
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
    let summed = |value, contributors, largest| Summed {
        value,
        contributors,
        largest,
    };
    assert_eq!(t.reminders_sent, summed(5, 2, 3));
    assert_eq!(t.reminders_acknowledged, summed(1, 1, 1));
    assert_eq!(t.minutes_internal, summed(90, 1, 90));
    assert_eq!(t.minutes_external, summed(30, 1, 30));
    assert_eq!(t.training_completions, summed(2, 1, 2));
}

#[test]
fn grants_are_summed_with_their_contributors_and_largest_amount() {
    let grants = |won, refused, euros| {
        let mut f = s("n1", "01", Band::Low, None);
        f.activity = Activity {
            grants_won: won,
            grants_refused: refused,
            amount_granted_euros: euros,
            ..Default::default()
        };
        f
    };
    let raw = aggregate(
        &[
            grants(2, 0, 30_000),
            grants(1, 1, 5_000),
            grants(0, 3, 0),
            grants(0, 0, 0),
        ],
        today(),
    );
    let t = raw.networks[0].activity;
    assert_eq!(
        t.grants_won,
        Summed {
            value: 3,
            contributors: 2,
            largest: 2
        }
    );
    assert_eq!(
        t.grants_refused,
        Summed {
            value: 4,
            contributors: 2,
            largest: 3
        }
    );
    assert_eq!(
        t.amount_granted_euros,
        Summed {
            value: 35_000,
            contributors: 2,
            largest: 30_000
        }
    );
    assert_eq!(raw.departments[0].activity, t, "the same structures in the department");
}

#[test]
fn reporting_risk_counts_structures_whose_duty_comes_due_on_at_most_one_person() {
    let duty = |days: i64, fragile: bool| {
        let mut f = s("n1", "01", Band::Low, None);
        f.open_duties = vec![today() + chrono::Duration::days(days)];
        f.reporting_fragile = fragile;
        f
    };
    let mut two_duties = duty(3, true);
    two_duties.open_duties.push(today() + chrono::Duration::days(20));
    let facts = [
        duty(0, true),
        duty(REPORTING_HORIZON_DAYS, true),
        duty(REPORTING_HORIZON_DAYS + 1, true),
        duty(-1, true),
        duty(5, false),
        two_duties,
    ];
    let raw = aggregate(&facts, today());
    assert_eq!(raw.networks[0].reporting_at_risk, 3, "a structure counts once");
    assert_eq!(raw.networks[0].deadline_at_risk, 0, "duties are not call deadlines");
}
