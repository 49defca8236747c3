use super::*;
use crate::fixtures::{date, facilitator};
use crate::model::{FacilitatorKind, Modality};

fn place() -> StructurePlace {
    StructurePlace {
        structure_id: "S1".to_owned(),
        network: "N1".to_owned(),
        commune_insee: "35238".to_owned(),
        department_code: "35".to_owned(),
    }
}

/// Payroll help for S1 (Rennes), 60 minutes, on Wednesday 2027-03-17.
fn need() -> Need {
    Need {
        structure: place(),
        function: "payroll".to_owned(),
        estimated_minutes: 60,
        on: date(2027, 3, 17),
        modality: Modality::Either,
    }
}

/// A facilitator of S1's department, with the given skills.
fn in_department(id: &str, functions: &[&str]) -> Facilitator {
    Facilitator {
        territory_codes: vec!["35".to_owned()],
        functions: functions.iter().map(|f| (*f).to_owned()).collect(),
        ..facilitator(id)
    }
}

fn load(committed: u32, past: u32) -> FacilitatorLoad {
    FacilitatorLoad {
        committed_internal_minutes: committed,
        past_interventions_with_structure: past,
    }
}

fn loads(entries: &[(&str, FacilitatorLoad)]) -> BTreeMap<String, FacilitatorLoad> {
    entries.iter().map(|(id, l)| ((*id).to_owned(), *l)).collect()
}

fn ids(ranked: &[Ranked]) -> Vec<&str> {
    ranked.iter().map(|r| r.facilitator_id.as_str()).collect()
}

fn ranked_ids(need: &Need, facilitators: &[Facilitator], l: &BTreeMap<String, FacilitatorLoad>) -> Vec<String> {
    rank(need, facilitators, l)
        .into_iter()
        .map(|r| r.facilitator_id)
        .collect()
}

// ----- eligibility -----

#[test]
fn each_way_of_serving_the_structure_is_eligible() {
    let employer = Facilitator {
        employer_structure_id: Some("S1".to_owned()),
        ..facilitator("A")
    };
    let served = Facilitator {
        served_structures: vec!["S0".to_owned(), "S1".to_owned()],
        ..facilitator("B")
    };
    let commune = Facilitator {
        territory_codes: vec!["35238".to_owned()],
        ..facilitator("C")
    };
    let department = in_department("D", &[]);
    let elsewhere = Facilitator {
        employer_structure_id: Some("S2".to_owned()),
        served_structures: vec!["S3".to_owned()],
        territory_codes: vec!["35047".to_owned(), "22".to_owned()],
        ..facilitator("E")
    };
    let all = [employer, served, commune, department, elsewhere];
    assert_eq!(ranked_ids(&need(), &all, &BTreeMap::new()), ["A", "B", "C", "D"]);
}

#[test]
fn epci_codes_do_not_match_without_a_commune_table() {
    // Rennes Métropole contains Rennes (35238), but nothing here says so.
    let epci_only = Facilitator {
        territory_codes: vec!["243500139".to_owned()],
        ..facilitator("A")
    };
    assert!(rank(&need(), std::slice::from_ref(&epci_only), &BTreeMap::new()).is_empty());
    let epci_and_department = Facilitator {
        territory_codes: vec!["243500139".to_owned(), "35".to_owned()],
        ..epci_only
    };
    let ranked = rank(&need(), &[epci_and_department], &BTreeMap::new());
    assert_eq!(ranked.len(), 1);
    assert_eq!(
        ranked[0].reasons[1],
        "intervient dans le département de la structure (35)"
    );
}

#[test]
fn a_commune_code_is_not_taken_for_a_department_prefix() {
    // 35047 is in department 35 but is not Rennes; a department code 352 does not exist.
    let neighbour = Facilitator {
        territory_codes: vec!["35047".to_owned()],
        ..facilitator("A")
    };
    assert!(rank(&need(), &[neighbour], &BTreeMap::new()).is_empty());
}

#[test]
fn funding_ended_the_day_before_is_not_eligible_but_ending_on_the_day_is() {
    let ended = Facilitator {
        funding_end: Some(date(2027, 3, 16)),
        ..in_department("A", &[])
    };
    let last_day = Facilitator {
        funding_end: Some(date(2027, 3, 17)),
        ..in_department("B", &[])
    };
    let later = Facilitator {
        funding_end: Some(date(2027, 12, 31)),
        ..in_department("C", &[])
    };
    assert_eq!(
        ranked_ids(&need(), &[ended, last_day, later], &BTreeMap::new()),
        ["B", "C"]
    );
}

#[test]
fn capacity_exactly_equal_is_enough_one_minute_less_is_not() {
    // 600 min × 0.5 = 300 internal minutes a week; the need is 60.
    let f = [in_department("A", &[])];
    let at = |committed| rank(&need(), &f, &loads(&[("A", load(committed, 0))]));
    let exact = at(240);
    assert_eq!(ids(&exact), ["A"]);
    assert_eq!(exact[0].remaining_internal_minutes, 60);
    assert!(at(241).is_empty(), "59 minutes left for a 60-minute need");
    assert!(at(300).is_empty());
    assert!(at(5000).is_empty(), "over-committed: never below 0");
}

#[test]
fn a_zero_minute_need_fits_even_a_full_week() {
    let zero = Need {
        estimated_minutes: 0,
        ..need()
    };
    let f = [in_department("A", &[])];
    let ranked = rank(&zero, &f, &loads(&[("A", load(900, 0))]));
    assert_eq!(ids(&ranked), ["A"]);
    assert_eq!(ranked[0].remaining_internal_minutes, 0);
    assert_eq!(ranked[0].score, DEPARTMENT_WEIGHT);
}

#[test]
fn no_internal_share_means_no_internal_need_can_be_met() {
    let external_only = Facilitator {
        internal_share: 0.0,
        ..in_department("A", &["payroll"])
    };
    assert!(rank(&need(), &[external_only], &BTreeMap::new()).is_empty());
}

#[test]
fn a_missing_load_means_nothing_committed_and_no_past_help() {
    let ranked = rank(&need(), &[in_department("A", &[])], &loads(&[("Z", load(300, 9))]));
    assert_eq!(ranked[0].remaining_internal_minutes, 300);
    assert_eq!(ranked[0].reasons[3], "n'a encore jamais aidé la structure");
}

#[test]
fn no_facilitator_no_ranking() {
    assert!(rank(&need(), &[], &BTreeMap::new()).is_empty());
}

// ----- scores and order -----

#[test]
fn scores_follow_the_documented_weights() {
    let f = Facilitator {
        employer_structure_id: Some("S1".to_owned()),
        functions: vec!["payroll".to_owned()],
        ..facilitator("A")
    };
    // 300 internal minutes, 75 committed: 225 left, a share of 0.75; 7 past helps count as 5.
    let ranked = rank(&need(), &[f], &loads(&[("A", load(75, 7))]));
    assert_eq!(ranked[0].score, 1000.0 + 100.0 + 7.5 + 5.0);
    assert_eq!(ranked[0].remaining_internal_minutes, 225);
    assert_eq!(
        ranked[0].reasons,
        [
            "compétence déclarée sur la fonction « Paie et déclarations sociales (DSN) »",
            "salarié de la structure",
            "225 min disponibles cette semaine sur 300 min réservées au soutien interne",
            "a déjà aidé la structure 7 fois",
        ]
    );
}

#[test]
fn reasons_for_each_link_and_a_custom_function() {
    let custom = Need {
        function: "cantine_planning".to_owned(),
        ..need()
    };
    let served = Facilitator {
        served_structures: vec!["S1".to_owned()],
        ..facilitator("A")
    };
    let commune = Facilitator {
        territory_codes: vec!["35238".to_owned()],
        ..facilitator("B")
    };
    let ranked = rank(&custom, &[served, commune], &loads(&[("A", load(0, 1))]));
    assert_eq!(
        ranked[0].reasons,
        [
            "pas de compétence déclarée sur la fonction « Cantine planning » (aide générale)",
            "intervient déjà pour la structure (poste partagé)",
            "300 min disponibles cette semaine sur 300 min réservées au soutien interne",
            "a déjà aidé la structure une fois",
        ]
    );
    assert_eq!(ranked[0].score, 100.0 + 10.0 + 1.0);
    assert_eq!(
        ranked[1].reasons[1],
        "intervient sur la commune de la structure (35238)"
    );
    assert_eq!(ranked[1].score, 60.0 + 10.0);
}

#[test]
fn the_closest_link_counts_once() {
    let everywhere = Facilitator {
        employer_structure_id: Some("S1".to_owned()),
        served_structures: vec!["S1".to_owned()],
        territory_codes: vec!["35238".to_owned(), "35".to_owned()],
        ..facilitator("A")
    };
    let ranked = rank(&need(), &[everywhere], &BTreeMap::new());
    assert_eq!(ranked[0].score, STRUCTURE_WEIGHT + CAPACITY_WEIGHT);
    assert_eq!(ranked[0].reasons[1], "salarié de la structure");
}

#[test]
fn skill_dominates_everything_else() {
    // Skilled, department only, nearly full week, never helped…
    let skilled = in_department("Z", &["payroll"]);
    // …against unskilled but employed by the structure, free, and its regular helper.
    let close = Facilitator {
        employer_structure_id: Some("S1".to_owned()),
        functions: vec!["accounting".to_owned()],
        ..facilitator("A")
    };
    let l = loads(&[("Z", load(240, 0)), ("A", load(0, 50))]);
    assert_eq!(ranked_ids(&need(), &[close, skilled], &l), ["Z", "A"]);
}

#[test]
fn territory_closeness_beats_capacity_and_continuity() {
    let employer = Facilitator {
        employer_structure_id: Some("S1".to_owned()),
        ..facilitator("E")
    };
    let served = Facilitator {
        served_structures: vec!["S1".to_owned()],
        ..facilitator("S")
    };
    let commune = Facilitator {
        territory_codes: vec!["35238".to_owned()],
        ..facilitator("C")
    };
    let department = in_department("D", &[]);
    // The closer, the busier and the less known: closeness still wins.
    let l = loads(&[
        ("E", load(240, 0)),
        ("S", load(240, 0)),
        ("C", load(120, 2)),
        ("D", load(0, 40)),
    ]);
    assert_eq!(
        ranked_ids(&need(), &[department, commune, served, employer], &l),
        ["E", "S", "C", "D"]
    );
}

#[test]
fn more_capacity_left_ranks_higher_at_equal_skill_and_territory() {
    let f = [
        in_department("A", &[]),
        in_department("B", &[]),
        in_department("C", &[]),
    ];
    let l = loads(&[("A", load(200, 0)), ("B", load(0, 0)), ("C", load(100, 0))]);
    let ranked = rank(&need(), &f, &l);
    assert_eq!(ids(&ranked), ["B", "C", "A"]);
}

#[test]
fn past_help_ranks_higher_at_equal_capacity() {
    let f = [in_department("A", &[]), in_department("B", &[])];
    let l = loads(&[("A", load(0, 1)), ("B", load(0, 3))]);
    assert_eq!(ranked_ids(&need(), &f, &l), ["B", "A"]);
    // Beyond the cap, more past help adds nothing: a tie, by id.
    let capped = loads(&[("A", load(0, 5)), ("B", load(0, 12))]);
    assert_eq!(ranked_ids(&need(), &f, &capped), ["A", "B"]);
}

#[test]
fn capacity_and_continuity_trade_off_as_documented() {
    // A: full week (10), never helped (0) = 10. B: half week (5) and 4 past helps (4) = 9.
    let f = [in_department("A", &[]), in_department("B", &[])];
    let l = loads(&[("B", load(150, 4))]);
    assert_eq!(ranked_ids(&need(), &f, &l), ["A", "B"]);
    // With 6 past helps (capped at 5), B ties A at 10: the id decides.
    let l = loads(&[("B", load(150, 6))]);
    let ranked = rank(&need(), &f, &l);
    assert_eq!(ranked[0].score, ranked[1].score);
    assert_eq!(ids(&ranked), ["A", "B"]);
}

#[test]
fn ties_are_broken_by_id_in_byte_order() {
    let f = [
        in_department("b", &["payroll"]),
        in_department("B", &["payroll"]),
        in_department("a", &["payroll"]),
        in_department("A10", &["payroll"]),
        in_department("A2", &["payroll"]),
    ];
    assert_eq!(ranked_ids(&need(), &f, &BTreeMap::new()), ["A10", "A2", "B", "a", "b"]);
}

#[test]
fn the_ranking_does_not_depend_on_input_order() {
    let mut f = vec![
        in_department("A", &[]),
        in_department("B", &["payroll"]),
        Facilitator {
            employer_structure_id: Some("S1".to_owned()),
            ..facilitator("C")
        },
        in_department("D", &["payroll"]),
    ];
    let l = loads(&[("D", load(30, 2)), ("A", load(0, 1))]);
    let forward = rank(&need(), &f, &l);
    f.reverse();
    assert_eq!(rank(&need(), &f, &l), forward);
    assert_eq!(ids(&forward), ["D", "B", "C", "A"]);
}

#[test]
fn ineligible_facilitators_are_never_ranked_however_good() {
    let perfect_but_full = Facilitator {
        employer_structure_id: Some("S1".to_owned()),
        functions: vec!["payroll".to_owned()],
        ..facilitator("A")
    };
    let perfect_but_unfunded = Facilitator {
        funding_end: Some(date(2027, 1, 1)),
        ..perfect_but_full.clone()
    };
    let perfect_but_unfunded = Facilitator {
        id: "B".to_owned(),
        ..perfect_but_unfunded
    };
    let modest = in_department("C", &[]);
    let l = loads(&[("A", load(250, 10))]);
    assert_eq!(
        ranked_ids(&need(), &[perfect_but_full, perfect_but_unfunded, modest], &l),
        ["C"]
    );
}

#[test]
fn on_site_prefers_a_facilitator_whose_territory_covers_the_structure() {
    // F-SHARED serves S1 as a shared post (closer link, 100) but lists no
    // territory; F-DEP only covers the department (30).
    let shared = Facilitator {
        served_structures: vec!["S1".to_owned()],
        functions: vec!["payroll".to_owned()],
        ..facilitator("F-SHARED")
    };
    let dep = in_department("F-DEP", &["payroll"]);
    let list = [shared, dep];
    let either = rank(&need(), &list, &BTreeMap::new());
    assert_eq!(either[0].facilitator_id, "F-SHARED");
    assert_eq!(either[0].reasons.len(), 4);
    let remote = rank(
        &Need {
            modality: Modality::Remote,
            ..need()
        },
        &list,
        &BTreeMap::new(),
    );
    assert_eq!(remote, either, "remote changes nothing");
    let on_site = Need {
        modality: Modality::OnSite,
        ..need()
    };
    let ranked = rank(&on_site, &list, &BTreeMap::new());
    assert_eq!(ranked[0].facilitator_id, "F-DEP");
    assert!((ranked[0].score - (SKILL_WEIGHT + DEPARTMENT_WEIGHT + CAPACITY_WEIGHT + ON_SITE_WEIGHT)).abs() < 1e-9);
    assert!(ranked[0].reasons[4].contains("sur place"), "{:?}", ranked[0].reasons);
    assert!(
        ranked[1].reasons[4].contains("ne couvre pas"),
        "{:?}",
        ranked[1].reasons
    );
    // Skill still outranks being able to come.
    let unskilled = in_department("F-DEP", &[]);
    let skilled_shared = Facilitator {
        served_structures: vec!["S1".to_owned()],
        functions: vec!["payroll".to_owned()],
        ..facilitator("F-SHARED")
    };
    let ranked = rank(&on_site, &[unskilled, skilled_shared], &BTreeMap::new());
    assert_eq!(ranked[0].facilitator_id, "F-SHARED");
    // An employer covers on site.
    let employee = Facilitator {
        employer_structure_id: Some("S1".to_owned()),
        ..facilitator("F-EMP")
    };
    assert!(covers_on_site(&employee, &place()));
}

#[test]
fn the_coordinator_is_the_closest_of_the_network() {
    let coordinator = |id: &str| Facilitator {
        kind: FacilitatorKind::Coordinateur,
        ..facilitator(id)
    };
    let other = StructurePlace {
        structure_id: "S2".to_owned(),
        network: "N1".to_owned(),
        commune_insee: "29019".to_owned(),
        department_code: "29".to_owned(),
    };
    let foreign = StructurePlace {
        structure_id: "S3".to_owned(),
        network: "N2".to_owned(),
        commune_insee: "69123".to_owned(),
        department_code: "69".to_owned(),
    };
    let network_wide = Facilitator {
        territory_codes: vec!["29".to_owned()],
        ..coordinator("C-A")
    };
    let lyon = Facilitator {
        territory_codes: vec!["69".to_owned()],
        ..coordinator("C-B")
    };
    let mediator_on_s1 = in_department("M-1", &[]);
    let places = [place(), other.clone(), foreign];
    let list = [network_wide.clone(), lyon.clone(), mediator_on_s1];
    // Only C-A serves a structure of N1 (S2): a mediator never receives escalations.
    assert_eq!(
        coordinator_for(&place(), &places, &list, date(2027, 3, 17)).map(|f| f.id.as_str()),
        Some("C-A")
    );
    // One serving S1 itself wins over one serving another structure of the network.
    let direct = Facilitator {
        served_structures: vec!["S1".to_owned()],
        ..coordinator("C-Z")
    };
    let list = [network_wide, lyon.clone(), direct];
    assert_eq!(
        coordinator_for(&place(), &places, &list, date(2027, 3, 17)).map(|f| f.id.as_str()),
        Some("C-Z")
    );
    // Funding ended: not a coordinator any more; none left → None.
    let ended = Facilitator {
        funding_end: Some(date(2027, 1, 1)),
        served_structures: vec!["S1".to_owned()],
        ..coordinator("C-OLD")
    };
    assert!(coordinator_for(&place(), &places, &[ended, lyon], date(2027, 3, 17)).is_none());
}
