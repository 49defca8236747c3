use super::*;
use crate::fixtures::{date, facilitator};

fn iv(facilitator: &str, network: &str, minutes: u32, beneficiary: Beneficiary, on: NaiveDate) -> Intervention {
    Intervention {
        facilitator_id: facilitator.to_owned(),
        structure_id: format!("S-{network}"),
        network: network.to_owned(),
        minutes,
        beneficiary,
        on,
    }
}

use Beneficiary::{External, Internal};

/// March 2027 for two facilitators and two networks, plus edges of the month.
fn interventions() -> Vec<Intervention> {
    vec![
        iv("F2", "N1", 60, Internal, date(2027, 3, 1)),
        iv("F1", "N1", 90, Internal, date(2027, 3, 31)),
        iv("F1", "N1", 30, External, date(2027, 3, 15)),
        iv("F1", "N2", 45, Internal, date(2027, 3, 10)),
        iv("F2", "N1", 120, External, date(2027, 3, 2)),
        iv("F1", "N1", 600, Internal, date(2027, 2, 28)),
        iv("F1", "N1", 600, External, date(2027, 4, 1)),
        iv("F3", "N2", 15, External, date(2027, 3, 20)),
    ]
}

fn facilitators() -> Vec<Facilitator> {
    vec![
        Facilitator {
            display_name: "Awa Diallo".to_owned(),
            ..facilitator("F1")
        },
        Facilitator {
            display_name: "Léo Martin".to_owned(),
            ..facilitator("F2")
        },
    ]
}

fn line(id: &str, name: &str, internal: u64, external: u64, share: Option<f64>) -> ReportLine {
    ReportLine {
        facilitator_id: id.to_owned(),
        display_name: name.to_owned(),
        internal_minutes: internal,
        external_minutes: external,
        internal_share: share,
    }
}

#[test]
fn sums_per_facilitator_over_an_inclusive_range_all_networks() {
    let lines = report(
        &interventions(),
        &facilitators(),
        None,
        date(2027, 3, 1),
        date(2027, 3, 31),
    );
    assert_eq!(
        lines,
        [
            line("F1", "Awa Diallo", 135, 30, Some(135.0 / 165.0)),
            line("F2", "Léo Martin", 60, 120, Some(60.0 / 180.0)),
            line("F3", "F3", 0, 15, Some(0.0)),
        ]
    );
}

#[test]
fn the_network_filter_keeps_only_that_network() {
    let lines = report(
        &interventions(),
        &facilitators(),
        Some("N1"),
        date(2027, 3, 1),
        date(2027, 3, 31),
    );
    assert_eq!(
        lines,
        [
            line("F1", "Awa Diallo", 90, 30, Some(0.75)),
            line("F2", "Léo Martin", 60, 120, Some(60.0 / 180.0)),
        ]
    );
    let n2 = report(
        &interventions(),
        &facilitators(),
        Some("N2"),
        date(2027, 3, 1),
        date(2027, 3, 31),
    );
    assert_eq!(
        n2,
        [
            line("F1", "Awa Diallo", 45, 0, Some(1.0)),
            line("F3", "F3", 0, 15, Some(0.0))
        ]
    );
    assert!(report(
        &interventions(),
        &facilitators(),
        Some("N9"),
        date(2027, 1, 1),
        date(2027, 12, 31)
    )
    .is_empty());
}

#[test]
fn both_ends_of_the_range_are_included() {
    let one_day = |d| report(&interventions(), &facilitators(), None, d, d);
    assert_eq!(
        one_day(date(2027, 2, 28)),
        [line("F1", "Awa Diallo", 600, 0, Some(1.0))]
    );
    assert_eq!(one_day(date(2027, 4, 1)), [line("F1", "Awa Diallo", 0, 600, Some(0.0))]);
    assert_eq!(
        report(
            &interventions(),
            &facilitators(),
            Some("N1"),
            date(2027, 3, 2),
            date(2027, 3, 30)
        ),
        [
            line("F1", "Awa Diallo", 0, 30, Some(0.0)),
            line("F2", "Léo Martin", 0, 120, Some(0.0))
        ],
        "the 1st and the 31st are just outside"
    );
    assert!(one_day(date(2027, 3, 3)).is_empty());
}

#[test]
fn a_reversed_range_is_empty() {
    assert!(report(
        &interventions(),
        &facilitators(),
        None,
        date(2027, 3, 31),
        date(2027, 3, 1)
    )
    .is_empty());
}

#[test]
fn zero_minutes_give_a_line_without_share() {
    let zero = [iv("F1", "N1", 0, Internal, date(2027, 3, 1))];
    assert_eq!(
        report(&zero, &facilitators(), None, date(2027, 3, 1), date(2027, 3, 1)),
        [line("F1", "Awa Diallo", 0, 0, None)]
    );
}

#[test]
fn large_sums_do_not_overflow() {
    let big: Vec<Intervention> = (0..3)
        .map(|_| iv("F1", "N1", u32::MAX, Internal, date(2027, 3, 1)))
        .collect();
    let lines = report(&big, &[], None, date(2027, 3, 1), date(2027, 3, 1));
    assert_eq!(lines[0].internal_minutes, 3 * u64::from(u32::MAX));
}

#[test]
fn report_csv_is_exact() {
    let lines = [
        line("F1", "Awa Diallo", 135, 30, Some(135.0 / 165.0)),
        line("F2", "Martin, Léo", 60, 120, Some(1.0 / 3.0)),
        line("F3", "=HYPERLINK(\"x\")", 0, 0, None),
        line("F4", "Zoé", 10, 0, Some(1.0)),
    ];
    assert_eq!(
        report_csv(&lines),
        "facilitator_id,display_name,internal_minutes,external_minutes,internal_share\n\
         F1,Awa Diallo,135,30,0.8182\n\
         F2,\"Martin, Léo\",60,120,0.3333\n\
         F3,\"'=HYPERLINK(\"\"x\"\")\",0,0,\n\
         F4,Zoé,10,0,1.0000\n"
    );
    assert_eq!(
        report_csv(&[]),
        "facilitator_id,display_name,internal_minutes,external_minutes,internal_share\n"
    );
}

#[test]
fn activity_csv_is_exact_and_sorted_by_date() {
    let mut list = interventions();
    list.truncate(5);
    assert_eq!(
        activity_csv(&list),
        "date,type_activite,duree_minutes,type_lieu,beneficiaire,structure_id,facilitator_id\n\
         2027-03-01,individuel,60,autre,structure_interne,S-N1,F2\n\
         2027-03-02,individuel,120,autre,personne_externe,S-N1,F2\n\
         2027-03-10,individuel,45,autre,structure_interne,S-N2,F1\n\
         2027-03-15,individuel,30,autre,personne_externe,S-N1,F1\n\
         2027-03-31,individuel,90,autre,structure_interne,S-N1,F1\n"
    );
    assert_eq!(
        activity_csv(&[]),
        "date,type_activite,duree_minutes,type_lieu,beneficiaire,structure_id,facilitator_id\n"
    );
}

#[test]
fn activity_csv_orders_a_day_by_facilitator_then_structure_and_keeps_duplicates() {
    let day = date(2027, 3, 1);
    let mut a = iv("F2", "N1", 10, Internal, day);
    a.structure_id = "S9".to_owned();
    let mut b = iv("F1", "N1", 20, External, day);
    b.structure_id = "S5".to_owned();
    let mut c = iv("F2", "N1", 30, External, day);
    c.structure_id = "S1".to_owned();
    let d = Intervention {
        minutes: 40,
        ..c.clone()
    };
    assert_eq!(
        activity_csv(&[a, b, c, d]),
        "date,type_activite,duree_minutes,type_lieu,beneficiaire,structure_id,facilitator_id\n\
         2027-03-01,individuel,20,autre,personne_externe,S5,F1\n\
         2027-03-01,individuel,30,autre,personne_externe,S1,F2\n\
         2027-03-01,individuel,40,autre,personne_externe,S1,F2\n\
         2027-03-01,individuel,10,autre,structure_interne,S9,F2\n"
    );
}

#[test]
fn activity_vocabulary_comes_from_the_cra_enums() {
    // TypeActivite.Individuel and TypeLieu.Autre in coop_cra_enums.json.
    assert_eq!(TYPE_ACTIVITE, "individuel");
    assert_eq!(TYPE_LIEU, "autre");
    assert_eq!(beneficiaire_code(Internal), "structure_interne");
    assert_eq!(beneficiaire_code(External), "personne_externe");
}
