use chrono::{NaiveTime, TimeZone};

use super::*;
use crate::plan::RecipientKind;
use crate::test_fixtures::{contacts, date, person, utc};

/// A director and one holder of funder_reporting per end date given.
fn structure(holders: Vec<Option<NaiveDate>>) -> StructureRecipients {
    let mut people = vec![person("dir", RecipientKind::Director)];
    for i in 0..holders.len() {
        people.push(person(&format!("h{i}"), RecipientKind::Holder));
    }
    StructureRecipients {
        structure_id: "S1".into(),
        network: "net".into(),
        people,
        holder_end_dates: holders,
    }
}

/// A compte rendu financier due 2027-06-30, drafted 14 days before.
fn duty() -> Duty {
    Duty {
        key: "G1:financial_report_6_months:2026-12-31".into(),
        structure_id: "S1".into(),
        rule: Rule::FinancialReport,
        due: date(2027, 6, 30),
        draft: date(2027, 6, 16),
        known_since: None,
    }
}

/// `d`'s reminders in `window` to a director and two holders who stay,
/// under the default policy.
fn planned(d: &Duty, window: Window) -> Vec<DutyAlert> {
    plan_duty(
        d,
        &structure(vec![None, None]),
        &contacts(),
        &ReminderPolicy::default(),
        window,
    )
}

fn everything() -> Window {
    Window::Between(utc(2020, 1, 1, 0), utc(2030, 1, 1, 0))
}

/// (step, offset, local date, instant) of the director's reminders.
fn schedule(alerts: &[DutyAlert]) -> Vec<(Step, u32, NaiveDate, DateTime<Utc>)> {
    alerts
        .iter()
        .filter(|a| a.recipient.id == "person:dir")
        .map(|a| (a.step, a.offset_days, a.local_date, a.due_at))
        .collect()
}

#[test]
fn j30_14_7_2_and_the_draft_date_at_nine_paris_time() {
    let alerts = planned(&duty(), everything());
    // Summer time: 09:00 Paris is 07:00 UTC.
    assert_eq!(
        schedule(&alerts),
        vec![
            (Step::Due, 30, date(2027, 5, 31), utc(2027, 5, 31, 7)),
            (Step::Due, 14, date(2027, 6, 16), utc(2027, 6, 16, 7)),
            (Step::Due, 7, date(2027, 6, 23), utc(2027, 6, 23, 7)),
            (Step::Due, 2, date(2027, 6, 28), utc(2027, 6, 28, 7)),
            (Step::Draft, 14, date(2027, 6, 16), utc(2027, 6, 16, 7)),
        ]
    );
    assert!(alerts.iter().all(|a| a.revision == revision_of(date(2027, 6, 30))));
    assert!(alerts.iter().all(|a| a.escalation.is_none()), "two holders stay");
}

#[test]
fn across_the_spring_change_the_local_hour_stays_nine() {
    // Due 2027-04-10, drafted 2027-03-20 (winter time); J-7 on 2027-04-03 (summer time).
    let d = Duty {
        due: date(2027, 4, 10),
        draft: date(2027, 3, 20),
        ..duty()
    };
    let alerts = planned(&d, everything());
    let got = schedule(&alerts);
    assert!(
        got.contains(&(Step::Draft, 21, date(2027, 3, 20), utc(2027, 3, 20, 8))),
        "{got:?}"
    );
    assert!(
        got.contains(&(Step::Due, 7, date(2027, 4, 3), utc(2027, 4, 3, 7))),
        "{got:?}"
    );
    assert!(
        got.contains(&(Step::Due, 30, date(2027, 3, 11), utc(2027, 3, 11, 8))),
        "{got:?}"
    );
}

#[test]
fn the_networks_zone_and_hour_apply() {
    let policy = ReminderPolicy {
        offsets_days: vec![7],
        local_hour: NaiveTime::from_hms_opt(8, 30, 0).unwrap(),
        timezone: chrono_tz::America::Cayenne,
    };
    let alerts = plan_duty(
        &duty(),
        &structure(vec![None, None]),
        &contacts(),
        &policy,
        everything(),
    );
    // Cayenne is UTC−3 all year.
    assert_eq!(
        schedule(&alerts),
        vec![
            (
                Step::Due,
                7,
                date(2027, 6, 23),
                Utc.with_ymd_and_hms(2027, 6, 23, 11, 30, 0).unwrap()
            ),
            (
                Step::Draft,
                14,
                date(2027, 6, 16),
                Utc.with_ymd_and_hms(2027, 6, 16, 11, 30, 0).unwrap()
            ),
        ]
    );
}

#[test]
fn no_draft_reminder_when_the_draft_date_is_the_due_date() {
    let d = Duty {
        draft: date(2027, 6, 30),
        ..duty()
    };
    let alerts = planned(&d, everything());
    assert!(alerts.iter().all(|a| a.step == Step::Due));
    assert_eq!(schedule(&alerts).len(), 4);
}

#[test]
fn holders_and_director_receive_them() {
    let alerts = planned(&duty(), Window::Between(utc(2027, 6, 23, 0), utc(2027, 6, 24, 0)));
    let mut who: Vec<&str> = alerts.iter().map(|a| a.recipient.id.as_str()).collect();
    who.sort_unstable();
    assert_eq!(who, vec!["person:dir", "person:h0", "person:h1"]);
}

#[test]
fn reporting_on_one_person_escalates_to_the_referent_from_j14() {
    let alerts = plan_duty(
        &duty(),
        &structure(vec![None]),
        &contacts(),
        &ReminderPolicy::default(),
        everything(),
    );
    let mut referent: Vec<(Step, u32)> = alerts
        .iter()
        .filter(|a| a.recipient.kind == RecipientKind::Referent)
        .map(|a| (a.step, a.offset_days))
        .collect();
    referent.sort_unstable();
    assert_eq!(
        referent,
        vec![(Step::Due, 2), (Step::Due, 7), (Step::Due, 14), (Step::Draft, 14)]
    );
    assert!(alerts
        .iter()
        .filter(|a| a.offset_days == 30)
        .all(|a| a.escalation.is_none()));
    assert!(alerts
        .iter()
        .filter(|a| a.offset_days <= 14)
        .all(|a| a.escalation == Some(EscalationReason::Spof)));
    assert!(alerts
        .iter()
        .filter(|a| a.recipient.kind == RecipientKind::Referent)
        .all(|a| a.recipient.id == "referent:net:S1"));
}

#[test]
fn escalation_reasons_of_reporting() {
    let reason = |holders: Vec<Option<NaiveDate>>| {
        plan_duty(
            &duty(),
            &structure(holders),
            &contacts(),
            &ReminderPolicy::default(),
            Window::Between(utc(2027, 6, 28, 0), utc(2027, 6, 29, 0)),
        )
        .first()
        .and_then(|a| a.escalation)
    };
    assert_eq!(reason(vec![]), Some(EscalationReason::Orphan));
    assert_eq!(reason(vec![None]), Some(EscalationReason::Spof));
    assert_eq!(
        reason(vec![Some(date(2027, 6, 1)), Some(date(2027, 6, 29))]),
        Some(EscalationReason::HoldersLeaving)
    );
    assert_eq!(reason(vec![Some(date(2027, 6, 1)), None]), None);
    // Without a referent configured, the people only.
    let alone = plan_duty(
        &duty(),
        &structure(vec![]),
        &NetworkContacts::default(),
        &ReminderPolicy::default(),
        everything(),
    );
    assert!(alone.iter().all(|a| a.recipient.kind == RecipientKind::Director));
}

#[test]
fn the_webhook_receives_every_reminder() {
    let contacts = NetworkContacts {
        webhook_url: "https://hooks.example.org/vigie".into(),
        ..NetworkContacts::default()
    };
    let alerts = plan_duty(
        &duty(),
        &structure(vec![None, None]),
        &contacts,
        &ReminderPolicy::default(),
        everything(),
    );
    let hooks: Vec<&DutyAlert> = alerts.iter().filter(|a| a.recipient.channel == "webhook").collect();
    assert_eq!(hooks.len(), 5);
    assert_eq!(hooks[0].recipient.id, "webhook:net:S1");
}

#[test]
fn none_once_the_due_date_has_passed_and_late_after_an_outage() {
    let s = structure(vec![None, None]);
    let at = |now| {
        let mut got: Vec<(Step, u32, bool)> =
            plan_duty(&duty(), &s, &contacts(), &ReminderPolicy::default(), Window::DueAt(now))
                .iter()
                .filter(|a| a.recipient.id == "person:dir")
                .map(|a| (a.step, a.offset_days, a.late))
                .collect();
        got.sort_unstable();
        got
    };
    // On the 30th at 21:59 UTC (23:59 Paris) the day still counts; not at 22:00.
    assert_eq!(at(utc(2027, 6, 30, 21)).len(), 5);
    assert!(at(utc(2027, 6, 30, 22)).is_empty());
    // Down since before J-14, back on the 24th: J-30, J-14, draft and J-7 due, all late.
    assert_eq!(
        at(utc(2027, 6, 24, 12)),
        vec![
            (Step::Due, 7, true),
            (Step::Due, 14, true),
            (Step::Due, 30, true),
            (Step::Draft, 14, true)
        ]
    );
    // A grant recorded on the 20th: what fell due before is caught up, not late.
    let recorded = Duty {
        known_since: Some(utc(2027, 6, 20, 10)),
        ..duty()
    };
    let caught: Vec<(u32, bool)> = plan_duty(
        &recorded,
        &s,
        &contacts(),
        &ReminderPolicy::default(),
        Window::DueAt(utc(2027, 6, 24, 12)),
    )
    .iter()
    .filter(|a| a.recipient.id == "person:dir" && a.step == Step::Due)
    .map(|a| (a.offset_days, a.late))
    .collect();
    assert_eq!(caught, vec![(30, false), (14, false), (7, true)]);
}

#[test]
fn a_moved_date_is_a_new_revision_that_tells_the_former_date() {
    let before = revision_of(date(2027, 6, 30));
    let after = revision_of(date(2027, 4, 30));
    assert_ne!(before, after);
    assert_eq!(date_of_revision(before), Some(date(2027, 6, 30)));
    assert_eq!(date_of_revision(after), Some(date(2027, 4, 30)));
    let moved = Duty {
        due: date(2027, 4, 30),
        draft: date(2027, 4, 16),
        ..duty()
    };
    let alerts = planned(&moved, everything());
    assert!(alerts.iter().all(|a| a.revision == after && a.due == date(2027, 4, 30)));
    assert_eq!(Step::Due.code(), "report");
    assert_eq!(Step::Draft.code(), "report_draft");
}
