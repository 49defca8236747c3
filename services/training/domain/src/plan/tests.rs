use super::*;
use crate::completion::Raise;
use crate::fixtures::{date, local, session, shift, training, Builder};
use vigie_fragility_model::fragility::Band;
use vigie_fragility_model::model::{Evidence, HoldingRecord, Role};

const EPS: f64 = 1e-12;

fn at() -> NaiveDate {
    date(2027, 1, 15)
}

fn run(inventory: &StructureInventory, trainings: &[Training], sessions: &[SessionSeats]) -> Plan {
    plan(
        inventory,
        trainings,
        sessions,
        at(),
        &FragilityParams::default(),
        &PlanParams::default(),
    )
}

fn run_with(inventory: &StructureInventory, trainings: &[Training], params: &PlanParams) -> Plan {
    plan(inventory, trainings, &[], at(), &FragilityParams::default(), params)
}

fn item<'a>(plan: &'a Plan, function: &str) -> &'a PlanItem {
    match plan.items.iter().find(|i| i.function == function) {
        Some(item) => item,
        None => panic!("no item for {function}"),
    }
}

fn candidate_ids(item: &PlanItem) -> Vec<&str> {
    item.candidates.iter().map(|c| c.person_id.as_str()).collect()
}

fn training_ids(item: &PlanItem) -> Vec<&str> {
    item.trainings.iter().map(|t| t.training_id.as_str()).collect()
}

fn holders<'a>(a: &'a Assessment, function: &str) -> Vec<&'a str> {
    match a.functions.iter().find(|f| f.code == function) {
        Some(f) => f.holders.iter().map(String::as_str).collect(),
        None => panic!("no function {function}"),
    }
}

fn seats(s: Session, seats_left: u32) -> SessionSeats {
    SessionSeats { session: s, seats_left }
}

/// Payroll (criticality 3) held by nobody; `a` at level 1, `b` at level 2.
fn payroll_orphan_a1_b2() -> StructureInventory {
    Builder::new("S")
        .person("a", Role::Employee, None)
        .person("b", Role::Employee, None)
        .function("payroll", 3)
        .level("a", "payroll", 1)
        .level("b", "payroll", 2)
        .build()
}

fn many() -> PlanParams {
    PlanParams {
        learners_for_orphan: 10,
        learners_for_spof: 10,
    }
}

#[test]
fn default_params_train_two_for_an_orphan_and_one_for_a_spof() {
    assert_eq!(
        PlanParams::default(),
        PlanParams {
            learners_for_orphan: 2,
            learners_for_spof: 1
        }
    );
    let inv = Builder::new("S")
        .person("boss", Role::Director, None)
        .person("a", Role::Employee, None)
        .person("b", Role::Employee, None)
        .person("c", Role::Employee, None)
        .function("payroll", 3)
        .function("scheduling", 3)
        .level("boss", "scheduling", 4)
        .level("a", "payroll", 1)
        .level("b", "payroll", 1)
        .level("c", "payroll", 1)
        .level("a", "scheduling", 1)
        .level("b", "scheduling", 1)
        .level("c", "scheduling", 1)
        .build();
    let p = run(&inv, &[], &[]);
    assert_eq!(candidate_ids(item(&p, "payroll")), ["a", "b"]);
    // a and b are not upgraded (no training), so they still hold nothing.
    assert_eq!(candidate_ids(item(&p, "scheduling")), ["a"]);
}

#[test]
fn exposure_codes_and_labels() {
    assert_eq!(Exposure::Orphan.as_str(), "orphan");
    assert_eq!(Exposure::Spof.as_str(), "spof");
    assert_eq!(Exposure::Orphan.label_fr(), "personne ne la maîtrise");
    assert_eq!(Exposure::Spof.label_fr(), "une seule personne la maîtrise");
}

#[test]
fn items_are_orphans_and_spofs_by_weighted_risk_then_code() {
    let t = at();
    let inv = Builder::new("S")
        .person("e", Role::Employee, None)
        .person("v", Role::Volunteer, None)
        .person("l", Role::Employee, Some(shift(t, 30)))
        .person("x", Role::Employee, None)
        .person("y", Role::Employee, None)
        .function("payroll", 3)
        .function("scheduling", 3)
        .function("communication", 1)
        .function("invoicing", 2)
        .function("accounting", 2)
        .function("data_protection", 1)
        .function("funder_reporting", 2)
        .level("e", "scheduling", 3)
        .level("v", "invoicing", 3)
        .level("x", "accounting", 3)
        .level("y", "accounting", 4)
        .level("l", "funder_reporting", 4)
        .build();
    let p = run(&inv, &[], &[]);
    let got: Vec<(&str, u8, Exposure)> = p
        .items
        .iter()
        .map(|i| (i.function.as_str(), i.criticality, i.exposure))
        .collect();
    assert_eq!(
        got,
        [
            ("payroll", 3, Exposure::Orphan),
            ("funder_reporting", 2, Exposure::Spof),
            ("communication", 1, Exposure::Orphan),
            ("data_protection", 1, Exposure::Orphan),
            ("invoicing", 2, Exposure::Spof),
            ("scheduling", 3, Exposure::Spof),
        ]
    );
    let risks: Vec<f64> = p.items.iter().map(|i| i.weighted_risk).collect();
    for (got, want) in risks.iter().zip([3.0, 2.0, 1.0, 1.0, 0.6, 0.45]) {
        assert!((got - want).abs() < EPS, "{risks:?}");
    }
    assert_eq!(p.structure_id, "S");
    assert_eq!(p.evaluated_on, t);
    assert_eq!(p.current, assess(&inv, t, &FragilityParams::default()));
}

#[test]
fn candidates_are_active_staying_non_holders_at_level_1_or_2() {
    let t = at();
    let inv = Builder::new("S")
        .person("a", Role::Employee, None)
        .person("b", Role::Volunteer, None)
        .person("c", Role::Employee, None)
        .person("d", Role::Employee, None)
        .person("e", Role::Employee, Some(shift(t, 100)))
        .person("f", Role::Employee, Some(shift(t, 365)))
        .person("g", Role::Contractor, Some(shift(t, 366)))
        .person("h", Role::Employee, Some(shift(t, -1)))
        .person("i", Role::Employee, None)
        .person("k", Role::Employee, None)
        .function("payroll", 3)
        .function("invoicing", 2)
        .level("a", "payroll", 1)
        .level("b", "payroll", 2)
        .level("c", "payroll", 0)
        // Level 3 practised too long ago: not a holder, but not at 1–2 either.
        .holding("d", "payroll", 3, Some(shift(t, -400)))
        .level("e", "payroll", 2)
        .level("f", "payroll", 2)
        .level("g", "payroll", 2)
        .level("h", "payroll", 1)
        .level("i", "invoicing", 2)
        // Duplicate records: the highest level counts (3 → not a candidate).
        .holding("k", "payroll", 3, Some(shift(t, -400)))
        .level("k", "payroll", 1)
        .level("ghost", "payroll", 1)
        .build();
    let p = run_with(&inv, &[], &many());
    let payroll = item(&p, "payroll");
    assert_eq!(candidate_ids(payroll), ["a", "b", "g"]);
    let levels: Vec<u8> = payroll.candidates.iter().map(|c| c.level).collect();
    assert_eq!(levels, [1, 2, 2]);
    assert_eq!(payroll.candidates[0].display_name, "Nom a");
    assert!(payroll.trainings.is_empty());
}

#[test]
fn holders_are_never_candidates() {
    // A SPOF whose holder also has a stale level-2 record: still a holder.
    let inv = Builder::new("S")
        .person("a", Role::Employee, None)
        .person("b", Role::Employee, None)
        .function("payroll", 3)
        .level("a", "payroll", 4)
        .holding("a", "payroll", 2, Some(date(2020, 1, 1)))
        .level("b", "payroll", 2)
        .build();
    let p = run_with(&inv, &[], &many());
    assert_eq!(item(&p, "payroll").exposure, Exposure::Spof);
    assert_eq!(candidate_ids(item(&p, "payroll")), ["b"]);
}

#[test]
fn candidates_rank_by_fewest_functions_held_then_byte_order() {
    // payroll is a SPOF of `boss`; "p10" and "p2" hold nothing (byte order
    // puts "p10" first), "Z" holds one function, "b" two.
    let inv = Builder::new("S")
        .person("boss", Role::Director, None)
        .person("b", Role::Employee, None)
        .person("p2", Role::Employee, None)
        .person("Z", Role::Employee, None)
        .person("p10", Role::Employee, None)
        .function("payroll", 3)
        .function("accounting", 2)
        .function("invoicing", 2)
        .level("boss", "payroll", 4)
        .level("b", "accounting", 3)
        .level("boss", "accounting", 3)
        .level("b", "invoicing", 3)
        .level("Z", "invoicing", 3)
        .level("b", "payroll", 2)
        .level("p2", "payroll", 1)
        .level("Z", "payroll", 2)
        .level("p10", "payroll", 1)
        .build();
    let all = run_with(&inv, &[], &many());
    let payroll = item(&all, "payroll");
    assert_eq!(candidate_ids(payroll), ["p10", "p2", "Z", "b"]);
    let held: Vec<usize> = payroll.candidates.iter().map(|c| c.functions_held).collect();
    assert_eq!(held, [0, 0, 1, 2]);
    // The default keeps the first one for a SPOF.
    assert_eq!(candidate_ids(item(&run(&inv, &[], &[]), "payroll")), ["p10"]);
}

#[test]
fn matching_trainings_meet_the_prerequisite_reach_3_and_are_ordered_by_preference() {
    let inv = payroll_orphan_a1_b2();
    let trainings = [
        training("TA", Some(100.0), &[("payroll", 2, 3)]),
        training("TB", Some(200.0), &[("payroll", 1, 3)]),
        training("TC", Some(10.0), &[("payroll", 1, 2)]),
        training("TD", Some(10.0), &[("invoicing", 0, 4)]),
        training("TE", None, &[("payroll", 1, 4)]),
        training("TF", Some(500.0), &[("payroll", 0, 4)]),
        training("TG", Some(10.0), &[("payroll", 3, 4)]),
        training("TH", Some(100.0), &[("payroll", 1, 3)]),
    ];
    let p = run(&inv, &trainings, &[]);
    let payroll = item(&p, "payroll");
    // Goal 4 first (known cost before unknown), then goal 3 by cost, then id.
    assert_eq!(training_ids(payroll), ["TF", "TE", "TA", "TH", "TB"]);
    let learners: Vec<Vec<&str>> = payroll
        .trainings
        .iter()
        .map(|t| t.learners.iter().map(String::as_str).collect())
        .collect();
    assert_eq!(
        learners,
        [
            vec!["a", "b"],
            vec!["a", "b"],
            vec!["b"],
            vec!["a", "b"],
            vec!["a", "b"]
        ]
    );
    assert_eq!(payroll.trainings[0].title, "Formation TF");
    assert_eq!(payroll.chosen_training("a").map(|t| t.training_id.as_str()), Some("TF"));
    assert_eq!(payroll.chosen_training("b").map(|t| t.training_id.as_str()), Some("TF"));
    assert_eq!(payroll.chosen_training("nobody"), None);
}

#[test]
fn the_chosen_training_is_the_first_that_fits_each_learner() {
    // Only b meets TA's prerequisite; TA (goal 4) is b's choice, a gets TB.
    let inv = payroll_orphan_a1_b2();
    let trainings = [
        training("TA", Some(900.0), &[("payroll", 2, 4)]),
        training("TB", Some(100.0), &[("payroll", 1, 3)]),
    ];
    let p = run(&inv, &trainings, &[]);
    let chosen: Vec<(&str, &str)> = p
        .assignments()
        .iter()
        .map(|a| (a.person_id, a.training.training_id.as_str()))
        .collect();
    assert_eq!(chosen, [("a", "TB"), ("b", "TA")]);
    let upgraded = upgraded_inventory(&inv, &p, &trainings, at());
    let levels: Vec<(&str, u8)> = upgraded
        .holdings
        .iter()
        .map(|h| (h.person_id.as_str(), h.level))
        .collect();
    assert_eq!(levels, [("a", 3), ("b", 4)]);
}

#[test]
fn a_candidate_without_matching_training_stays_listed_without_upgrade() {
    let inv = payroll_orphan_a1_b2();
    let trainings = [training("T", Some(100.0), &[("payroll", 2, 3)])];
    let p = run(&inv, &trainings, &[]);
    let payroll = item(&p, "payroll");
    assert_eq!(candidate_ids(payroll), ["a", "b"]);
    assert_eq!(training_ids(payroll), ["T"]);
    assert_eq!(payroll.trainings[0].learners, ["b"]);
    assert_eq!(p.assignments().len(), 1);
    // Only b becomes a holder: from orphan (critical) to SPOF (high).
    assert_eq!(holders(&p.predicted, "payroll"), ["b"]);
    assert_eq!(p.current.band, Band::Critical);
    assert_eq!(p.predicted.band, Band::High);
}

#[test]
fn next_session_is_the_earliest_instant_after_the_date_with_seats() {
    let inv = Builder::new("S")
        .person("a", Role::Employee, None)
        .person("b", Role::Employee, None)
        .function("payroll", 3)
        .level("a", "payroll", 1)
        .level("b", "payroll", 1)
        .build();
    let trainings = [
        training("T", None, &[("payroll", 1, 3)]),
        training("U", None, &[("payroll", 1, 3)]),
    ];
    let reunion = |s: Session| Session {
        timezone: crate::Tz::Indian__Reunion,
        ..s
    };
    let sessions = [
        seats(
            session("past", "T", local(2027, 1, 14, 9, 0), local(2027, 1, 14, 12, 0)),
            5,
        ),
        // Starting on `at` itself is too late to enrol.
        seats(
            session("today", "T", local(2027, 1, 15, 18, 0), local(2027, 1, 15, 20, 0)),
            5,
        ),
        seats(
            session("full", "T", local(2027, 1, 17, 9, 0), local(2027, 1, 17, 12, 0)),
            0,
        ),
        // Paris 08:00 is 07:00 UTC; Réunion 10:00 is 06:00 UTC: Réunion is
        // earlier although its local time is later.
        seats(
            session("paris", "T", local(2027, 1, 20, 8, 0), local(2027, 1, 20, 12, 0)),
            1,
        ),
        seats(
            reunion(session(
                "reunion",
                "T",
                local(2027, 1, 20, 10, 0),
                local(2027, 1, 20, 12, 0),
            )),
            1,
        ),
        seats(
            session("later", "T", local(2027, 1, 24, 8, 0), local(2027, 1, 24, 12, 0)),
            30,
        ),
        // A start that does not exist (refused by validation) is skipped.
        seats(
            session("u-gap", "U", local(2027, 3, 28, 2, 30), local(2027, 3, 28, 4, 0)),
            3,
        ),
        // The same instant: the smaller id wins.
        seats(
            session("u-y", "U", local(2027, 3, 28, 4, 0), local(2027, 3, 28, 6, 0)),
            3,
        ),
        seats(
            session("u-x", "U", local(2027, 3, 28, 4, 0), local(2027, 3, 28, 6, 0)),
            3,
        ),
    ];
    let p = run(&inv, &trainings, &sessions);
    let payroll = item(&p, "payroll");
    let next: Vec<(&str, Option<&str>, Option<NaiveDateTime>)> = payroll
        .trainings
        .iter()
        .map(|t| (t.training_id.as_str(), t.next_session.as_deref(), t.next_session_starts))
        .collect();
    assert_eq!(
        next,
        [
            ("T", Some("reunion"), Some(local(2027, 1, 20, 10, 0))),
            ("U", Some("u-x"), Some(local(2027, 3, 28, 4, 0))),
        ]
    );
    // Seats are not reserved: both learners are offered the 1-seat session.
    assert_eq!(payroll.trainings[0].learners, ["a", "b"]);

    // Without any usable session: none.
    let p = run(&inv, &trainings, &sessions[..3]);
    let none: Vec<(Option<&str>, Option<NaiveDateTime>)> = item(&p, "payroll")
        .trainings
        .iter()
        .map(|t| (t.next_session.as_deref(), t.next_session_starts))
        .collect();
    assert_eq!(none, [(None, None), (None, None)]);
}

#[test]
fn an_upgraded_learner_counts_as_holding_for_the_next_functions() {
    // communication (orphan, 1.0) comes before payroll (SPOF of the
    // director, 0.45). a and b learn communication; for payroll, c, who
    // holds nothing, then ranks before them although "a" < "c".
    let inv = Builder::new("S")
        .person("boss", Role::Director, None)
        .person("a", Role::Employee, None)
        .person("b", Role::Employee, None)
        .person("c", Role::Employee, None)
        .function("communication", 1)
        .function("payroll", 3)
        .level("boss", "payroll", 4)
        .level("a", "communication", 1)
        .level("b", "communication", 1)
        .level("a", "payroll", 2)
        .level("b", "payroll", 2)
        .level("c", "payroll", 2)
        .build();
    let trainings = [
        training("TC", Some(100.0), &[("communication", 1, 3)]),
        training("TP", Some(100.0), &[("payroll", 1, 3)]),
    ];
    let p = run(&inv, &trainings, &[]);
    assert_eq!(candidate_ids(item(&p, "communication")), ["a", "b"]);
    assert_eq!(candidate_ids(item(&p, "payroll")), ["c"]);
    let wide = run_with(&inv, &trainings, &many());
    let ranked: Vec<(&str, usize)> = item(&wide, "payroll")
        .candidates
        .iter()
        .map(|c| (c.person_id.as_str(), c.functions_held))
        .collect();
    assert_eq!(ranked, [("c", 0), ("a", 1), ("b", 1)]);
    // Without trainings nobody is upgraded, and a comes first on id.
    assert_eq!(candidate_ids(item(&run(&inv, &[], &[]), "payroll")), ["a"]);
}

#[test]
fn a_training_raising_several_functions_counts_for_the_later_items() {
    // T raises payroll and invoicing. a and b learn payroll with it, which
    // also makes them hold invoicing: they are no longer candidates there,
    // and c, the one left, gets TI.
    let inv = Builder::new("S")
        .person("a", Role::Employee, None)
        .person("b", Role::Employee, None)
        .person("c", Role::Employee, None)
        .function("payroll", 3)
        .function("invoicing", 2)
        .level("a", "payroll", 1)
        .level("b", "payroll", 1)
        .level("a", "invoicing", 1)
        .level("c", "invoicing", 2)
        .build();
    let trainings = [
        training("T", Some(300.0), &[("payroll", 1, 3), ("invoicing", 0, 3)]),
        training("TI", Some(100.0), &[("invoicing", 1, 3)]),
    ];
    let p = run(&inv, &trainings, &[]);
    assert_eq!(
        p.items.iter().map(|i| i.function.as_str()).collect::<Vec<_>>(),
        ["payroll", "invoicing"]
    );
    assert_eq!(candidate_ids(item(&p, "payroll")), ["a", "b"]);
    let invoicing = item(&p, "invoicing");
    assert_eq!(candidate_ids(invoicing), ["c"]);
    assert_eq!(invoicing.candidates[0].functions_held, 0);
    // c meets both prerequisites; TI is cheaper.
    assert_eq!(training_ids(invoicing), ["TI", "T"]);
    assert_eq!(
        invoicing.chosen_training("c").map(|t| t.training_id.as_str()),
        Some("TI")
    );
    // The prediction includes the side effect, as the inventory will.
    assert_eq!(holders(&p.predicted, "payroll"), ["a", "b"]);
    assert_eq!(holders(&p.predicted, "invoicing"), ["a", "b", "c"]);
}

#[test]
fn predicted_is_the_assessment_of_the_inventory_after_the_completions() {
    let t = at();
    let inv = Builder::new("S")
        .person("boss", Role::Director, None)
        .person("a", Role::Employee, None)
        .person("b", Role::Volunteer, None)
        .person("c", Role::Employee, None)
        .function("funding_applications", 3)
        .function("payroll", 3)
        .function("communication", 1)
        .level("boss", "funding_applications", 4)
        .level("boss", "payroll", 3)
        .holding("a", "payroll", 2, Some(date(2026, 3, 1)))
        .level("a", "funding_applications", 1)
        .level("b", "communication", 1)
        .level("c", "communication", 2)
        .build();
    let trainings = [
        training("TF", Some(0.0), &[("funding_applications", 1, 3)]),
        training("TP", Some(800.0), &[("payroll", 2, 4)]),
        training("TC", None, &[("communication", 1, 3)]),
    ];
    let p = run(&inv, &trainings, &[]);
    // The inventory after each completion, written out by hand.
    let mut expected = inv.clone();
    let done = |person: &str, function: &str, level: u8| HoldingRecord {
        person_id: person.to_owned(),
        function: function.to_owned(),
        level,
        last_practised: Some(t),
        evidence: Evidence::Training,
    };
    expected.holdings = vec![
        expected.holdings[0].clone(),
        expected.holdings[1].clone(),
        done("a", "payroll", 4),
        done("a", "funding_applications", 3),
        done("b", "communication", 3),
        done("c", "communication", 3),
    ];
    let upgraded = upgraded_inventory(&inv, &p, &trainings, t);
    assert_eq!(upgraded, expected);
    assert_eq!(p.predicted, assess(&expected, t, &FragilityParams::default()));
    // "27 high → 3 low": the orphan and both SPOFs get a second holder.
    assert_eq!((p.current.band, p.current.score), (Band::High, Some(27)));
    assert_eq!((p.predicted.band, p.predicted.score), (Band::Low, Some(3)));
    assert!(p.predicted.orphan_functions.is_empty() && p.predicted.spof_functions.is_empty());
}

#[test]
fn upgraded_inventory_dates_the_completion_and_skips_unknown_trainings() {
    let inv = Builder::new("S")
        .person("a", Role::Employee, None)
        .function("payroll", 3)
        .level("a", "payroll", 1)
        .build();
    let trainings = [training("T", None, &[("payroll", 1, 3)])];
    let p = run(&inv, &trainings, &[]);
    let later = date(2027, 3, 1);
    let up = upgraded_inventory(&inv, &p, &trainings, later);
    assert_eq!(up.holdings[0].last_practised, Some(later));
    assert_eq!(up.holdings[0].level, 3);
    // A catalogue without the chosen training raises nothing.
    assert_eq!(upgraded_inventory(&inv, &p, &[], later), inv);
    assert_eq!(
        crate::completion::raises(&trainings[0]),
        [Raise {
            function: "payroll".into(),
            level: 3
        }]
    );
}

#[test]
fn nothing_to_plan_when_no_function_is_exposed_or_none_is_recorded() {
    let inv = Builder::new("S")
        .person("a", Role::Employee, None)
        .person("b", Role::Employee, None)
        .function("payroll", 3)
        .level("a", "payroll", 3)
        .level("b", "payroll", 4)
        .build();
    let trainings = [training("T", None, &[("payroll", 0, 4)])];
    let p = run(&inv, &trainings, &[]);
    assert!(p.items.is_empty());
    assert_eq!(p.predicted, p.current);
    let empty = Builder::new("S").person("a", Role::Employee, None).build();
    let p = run(&empty, &trainings, &[]);
    assert!(p.items.is_empty());
    assert_eq!(p.current.band, Band::Unknown);
    assert_eq!(p.predicted.band, Band::Unknown);
}

#[test]
fn the_plan_does_not_depend_on_input_order() {
    let inv = Builder::new("S")
        .person("boss", Role::Director, None)
        .person("a", Role::Employee, None)
        .person("b", Role::Employee, None)
        .person("c", Role::Volunteer, None)
        .function("payroll", 3)
        .function("scheduling", 3)
        .function("communication", 1)
        .level("boss", "payroll", 4)
        .level("a", "payroll", 2)
        .level("b", "payroll", 2)
        .level("a", "scheduling", 1)
        .level("c", "scheduling", 2)
        .level("c", "communication", 1)
        .build();
    let trainings = vec![
        training("T1", Some(100.0), &[("payroll", 1, 3), ("communication", 0, 3)]),
        training("T2", Some(100.0), &[("payroll", 1, 3)]),
        training("T3", None, &[("scheduling", 1, 4)]),
        training("T4", Some(50.0), &[("scheduling", 1, 4), ("communication", 1, 3)]),
    ];
    let sessions = vec![
        seats(
            session("s1", "T1", local(2027, 2, 1, 9, 0), local(2027, 2, 1, 12, 0)),
            3,
        ),
        seats(
            session("s2", "T1", local(2027, 2, 1, 9, 0), local(2027, 2, 1, 12, 0)),
            3,
        ),
        seats(
            session("s3", "T4", local(2027, 3, 1, 9, 0), local(2027, 3, 1, 12, 0)),
            3,
        ),
    ];
    let reference = run(&inv, &trainings, &sessions);
    assert!(!reference.items.is_empty());
    let mut shuffled = inv.clone();
    shuffled.people.reverse();
    shuffled.functions.reverse();
    shuffled.holdings.reverse();
    let mut t = trainings.clone();
    t.reverse();
    let mut s = sessions.clone();
    s.reverse();
    assert_eq!(run(&shuffled, &t, &s), reference);
}

#[test]
fn assignments_list_learners_with_a_chosen_training_in_item_order() {
    let inv = Builder::new("S")
        .person("a", Role::Employee, None)
        .person("b", Role::Employee, None)
        .person("c", Role::Employee, None)
        .function("payroll", 3)
        .function("communication", 1)
        .level("a", "payroll", 1)
        .level("b", "payroll", 1)
        .level("c", "communication", 1)
        .build();
    let trainings = [
        training("TP", None, &[("payroll", 1, 3)]),
        training("TC", None, &[("communication", 2, 3)]),
    ];
    let p = run(&inv, &trainings, &[]);
    let got: Vec<(&str, &str, &str)> = p
        .assignments()
        .iter()
        .map(|a| (a.function, a.person_id, a.training.training_id.as_str()))
        .collect();
    // c is a candidate for communication but TC's prerequisite is 2.
    assert_eq!(got, [("payroll", "a", "TP"), ("payroll", "b", "TP")]);
    assert_eq!(candidate_ids(item(&p, "communication")), ["c"]);
}

/// A structure in `department` whose listed people are all level-1
/// candidates on `function`, an orphan or (with a director holding it) a
/// SPOF.
fn exposed(id: &str, department: &str, function: &str, learners: &[&str], spof: bool) -> StructureInventory {
    let mut b = Builder::in_department(id, department).function(function, 3);
    if spof {
        b = b.person("boss", Role::Director, None).level("boss", function, 4);
    }
    for l in learners {
        b = b.person(l, Role::Employee, None).level(l, function, 1);
    }
    b.build()
}

#[test]
fn network_plan_counts_learners_and_structures_per_training_and_department() {
    let trainings = [
        training("T_PAY", Some(100.0), &[("payroll", 1, 3)]),
        training("T_COM", Some(100.0), &[("communication", 1, 3)]),
    ];
    let inventories = [
        exposed("S1", "35", "payroll", &["a", "b"], false),
        exposed("S2", "35", "payroll", &["a", "c"], true),
        exposed("S3", "69", "payroll", &["d"], true),
        exposed("S4", "35", "communication", &["e", "f"], false),
        exposed("S5", "2A", "communication", &["g"], true),
        exposed("S6", "2A", "payroll", &["h"], true),
        // No matching training: no line.
        exposed("S7", "69", "invoicing", &["i"], false),
    ];
    let plans: Vec<(StructureRecord, Plan)> = inventories
        .iter()
        .map(|inv| (inv.structure.clone(), run(inv, &trainings, &[])))
        .collect();
    let lines = network_plan(&plans);
    let got: Vec<(&str, &str, &str, usize, usize)> = lines
        .iter()
        .map(|l| {
            (
                l.training_id.as_str(),
                l.title.as_str(),
                l.department_code.as_str(),
                l.learners,
                l.structures,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            // S1: a, b; S2: a (one learner for a SPOF) — "a" of S1 and "a"
            // of S2 are different people.
            ("T_PAY", "Formation T_PAY", "35", 3, 2),
            ("T_COM", "Formation T_COM", "35", 2, 1),
            ("T_COM", "Formation T_COM", "2A", 1, 1),
            ("T_PAY", "Formation T_PAY", "2A", 1, 1),
            ("T_PAY", "Formation T_PAY", "69", 1, 1),
        ]
    );
    // The order of the plans does not matter.
    let mut reversed = plans.clone();
    reversed.reverse();
    assert_eq!(network_plan(&reversed), lines);
    assert!(network_plan(&[]).is_empty());
}

#[test]
fn network_plan_counts_a_person_once_per_training() {
    // A hand-made plan where the same learner has the same training for two
    // functions (the planner itself would not propose it twice).
    let inv = exposed("S1", "35", "payroll", &["a"], false);
    let trainings = [training("T", None, &[("payroll", 1, 3), ("accounting", 1, 3)])];
    let mut p = run(&inv, &trainings, &[]);
    let mut again = p.items[0].clone();
    again.function = "accounting".into();
    p.items.push(again);
    assert_eq!(p.assignments().len(), 2);
    let lines = network_plan(&[(inv.structure.clone(), p)]);
    assert_eq!(
        lines,
        [NetworkPlanLine {
            training_id: "T".into(),
            title: "Formation T".into(),
            department_code: "35".into(),
            learners: 1,
            structures: 1,
        }]
    );
}

#[test]
fn a_repeated_person_id_qualifies_only_if_every_record_does() {
    // Malformed input (the import refuses it), handled the same whatever
    // the order: one record leaving within the horizon excludes the id.
    let t = at();
    for leaving_first in [true, false] {
        let (first, second) = if leaving_first {
            (Some(shift(t, 30)), None)
        } else {
            (None, Some(shift(t, 30)))
        };
        let inv = Builder::new("S")
            .person("p", Role::Employee, first)
            .person("p", Role::Employee, second)
            .person("q", Role::Employee, None)
            .person("q", Role::Volunteer, None)
            .function("payroll", 3)
            .level("p", "payroll", 1)
            .level("q", "payroll", 1)
            .build();
        let p = run(&inv, &[], &[]);
        assert_eq!(
            candidate_ids(item(&p, "payroll")),
            ["q"],
            "leaving first: {leaving_first}"
        );
    }
}
