use super::*;
use crate::fixtures::{date, facilitator};
use crate::model::{ActivityType, PlaceType};
use chrono::TimeZone;

fn iv(facilitator: &str, network: &str, minutes: u32, beneficiary: Beneficiary, on: NaiveDate) -> Intervention {
    Intervention {
        facilitator_id: facilitator.to_owned(),
        structure_id: format!("S-{network}"),
        network: network.to_owned(),
        function: "payroll".to_owned(),
        minutes,
        beneficiary,
        on,
        activity_type: ActivityType::Individuel,
        place: PlaceType::Autre,
        themes: Vec::new(),
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
        response_hours_median: None,
        resolution_hours_median: None,
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
        ReportLine {
            response_hours_median: Some(1.5),
            ..line("F1", "Awa Diallo", 135, 30, Some(135.0 / 165.0))
        },
        line("F2", "Martin, Léo", 60, 120, Some(1.0 / 3.0)),
        line("F3", "=HYPERLINK(\"x\")", 0, 0, None),
        ReportLine {
            resolution_hours_median: Some(26.25),
            ..line("F4", "Zoé", 10, 0, Some(1.0))
        },
    ];
    assert_eq!(
        report_csv(&lines),
        "facilitator_id,display_name,internal_minutes,external_minutes,internal_share,response_hours_median,resolution_hours_median\n\
         F1,Awa Diallo,135,30,0.8182,1.50,\n\
         F2,\"Martin, Léo\",60,120,0.3333,,\n\
         F3,\"'=HYPERLINK(\"\"x\"\")\",0,0,,,\n\
         F4,Zoé,10,0,1.0000,,26.25\n"
    );
    assert_eq!(
        report_csv(&[]),
        "facilitator_id,display_name,internal_minutes,external_minutes,internal_share,response_hours_median,resolution_hours_median\n"
    );
}

#[test]
fn activity_csv_is_exact_and_sorted_by_date() {
    let mut list = interventions();
    list.truncate(5);
    assert_eq!(
        activity_csv(&list),
        "date,type_activite,duree_minutes,type_lieu,thematiques,beneficiaire,structure_id,facilitator_id\n\
         2027-03-01,individuel,60,autre,,structure_interne,S-N1,F2\n\
         2027-03-02,individuel,120,autre,,personne_externe,S-N1,F2\n\
         2027-03-10,individuel,45,autre,,structure_interne,S-N2,F1\n\
         2027-03-15,individuel,30,autre,,personne_externe,S-N1,F1\n\
         2027-03-31,individuel,90,autre,,structure_interne,S-N1,F1\n"
    );
    assert_eq!(
        activity_csv(&[]),
        "date,type_activite,duree_minutes,type_lieu,thematiques,beneficiaire,structure_id,facilitator_id\n"
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
        "date,type_activite,duree_minutes,type_lieu,thematiques,beneficiaire,structure_id,facilitator_id\n\
         2027-03-01,individuel,20,autre,,personne_externe,S5,F1\n\
         2027-03-01,individuel,30,autre,,personne_externe,S1,F2\n\
         2027-03-01,individuel,40,autre,,personne_externe,S1,F2\n\
         2027-03-01,individuel,10,autre,,structure_interne,S9,F2\n"
    );
}

#[test]
fn activity_vocabulary_comes_from_the_cra_enums() {
    // TypeActivite and TypeLieu `db` codes of coop_cra_enums.json.
    let codes: Vec<&str> = ActivityType::ALL.iter().map(|t| t.as_str()).collect();
    assert_eq!(codes, ["individuel", "collectif"]);
    let places: Vec<&str> = PlaceType::ALL.iter().map(|t| t.as_str()).collect();
    assert_eq!(places, ["lieu_activite", "domicile", "a_distance", "autre"]);
    assert_eq!(beneficiaire_code(Internal), "structure_interne");
    assert_eq!(beneficiaire_code(External), "personne_externe");
}

#[test]
fn activity_csv_uses_the_recorded_type_place_and_themes() {
    let mut i = iv("F1", "N1", 90, Internal, date(2027, 3, 4));
    i.activity_type = ActivityType::Collectif;
    i.place = PlaceType::ADistance;
    i.themes = vec!["bureautique".to_owned(), "email".to_owned()];
    let mut j = iv("F2", "N1", 30, External, date(2027, 3, 5));
    j.place = PlaceType::Domicile;
    assert_eq!(
        activity_csv(&[j, i]),
        "date,type_activite,duree_minutes,type_lieu,thematiques,beneficiaire,structure_id,facilitator_id\n\
         2027-03-04,collectif,90,a_distance,bureautique;email,structure_interne,S-N1,F1\n\
         2027-03-05,individuel,30,domicile,,personne_externe,S-N1,F2\n"
    );
}

fn at(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2027, 3, day, hour, 0, 0)
        .single()
        .unwrap_or_default()
}

fn timing(f: &str, network: &str, created: DateTime<Utc>) -> RequestTiming {
    RequestTiming {
        facilitator_id: f.to_owned(),
        network: network.to_owned(),
        created_at: created,
        offered_at: Some(created),
        accepted_at: None,
        closed_at: None,
    }
}

#[test]
fn medians_of_response_and_resolution_times_per_facilitator() {
    assert_eq!(median(&mut []), None);
    assert_eq!(median(&mut [3.0, 1.0, 2.0]), Some(2.0));
    assert_eq!(median(&mut [4.0, 1.0, 2.0, 10.0]), Some(3.0));
    let timings = vec![
        // F1: answered after 2 h, 4 h and 9 h; one closed 24 h after creation.
        RequestTiming {
            accepted_at: Some(at(1, 10)),
            closed_at: Some(at(2, 8)),
            ..timing("F1", "N1", at(1, 8))
        },
        RequestTiming {
            accepted_at: Some(at(3, 12)),
            ..timing("F1", "N1", at(3, 8))
        },
        RequestTiming {
            accepted_at: Some(at(5, 17)),
            ..timing("F1", "N1", at(5, 8))
        },
        // Re-offered later: measured from the last offer.
        RequestTiming {
            offered_at: Some(at(6, 8)),
            accepted_at: Some(at(6, 9)),
            closed_at: Some(at(8, 8)),
            ..timing("F9", "N1", at(4, 8))
        },
        // Outside the period, or another network: ignored.
        RequestTiming {
            accepted_at: Some(at(20, 8)),
            ..timing("F1", "N1", at(1, 8))
        },
        RequestTiming {
            accepted_at: Some(at(1, 9)),
            ..timing("F1", "N2", at(1, 8))
        },
        // Never accepted nor closed: nothing.
        timing("F2", "N1", at(1, 8)),
    ];
    let base = report(
        &interventions(),
        &facilitators(),
        Some("N1"),
        date(2027, 3, 1),
        date(2027, 3, 10),
    );
    let lines = with_times(
        base,
        &timings,
        &facilitators(),
        "N1",
        date(2027, 3, 1),
        date(2027, 3, 10),
    );
    let ids: Vec<&str> = lines.iter().map(|l| l.facilitator_id.as_str()).collect();
    assert_eq!(ids, ["F1", "F2", "F9"]);
    assert_eq!(lines[0].response_hours_median, Some(4.0));
    assert_eq!(lines[0].resolution_hours_median, Some(24.0));
    assert_eq!(lines[1].response_hours_median, None);
    assert_eq!(lines[1].internal_minutes, 60, "F2's minutes are kept");
    assert_eq!(lines[2].display_name, "F9");
    assert_eq!(lines[2].internal_minutes, 0);
    assert_eq!(lines[2].response_hours_median, Some(1.0));
    assert_eq!(lines[2].resolution_hours_median, Some(96.0));
}

#[test]
fn fragile_structures_never_helped_in_the_period() {
    let fragile = |id: &str, network: &str, band: &str, functions: &[&str]| FragileStructure {
        structure_id: id.to_owned(),
        network: network.to_owned(),
        band: band.to_owned(),
        exposed_functions: functions.iter().map(|f| (*f).to_owned()).collect(),
    };
    let list = [
        fragile("S-B", "N1", "critical", &["payroll", "accounting"]),
        fragile("S-A", "N1", "high", &["payroll"]),
        fragile("S-C", "N1", "moderate", &["payroll"]),
        fragile("S-D", "N2", "critical", &["payroll"]),
        fragile("S-E", "N1", "high", &["payroll"]),
    ];
    let mut helped = iv("F1", "N1", 30, Internal, date(2027, 3, 5));
    helped.structure_id = "S-B".to_owned();
    let mut late = helped.clone();
    late.structure_id = "S-A".to_owned();
    late.on = date(2027, 4, 2);
    let mut done = helped.clone();
    done.structure_id = "S-E".to_owned();
    let out = unhelped(&list, &[helped, late, done], "N1", date(2027, 3, 1), date(2027, 3, 31));
    assert_eq!(
        out,
        [
            Unhelped {
                structure_id: "S-A".to_owned(),
                band: "high".to_owned(),
                functions: vec!["payroll".to_owned()],
            },
            Unhelped {
                structure_id: "S-B".to_owned(),
                band: "critical".to_owned(),
                functions: vec!["accounting".to_owned()],
            },
        ]
    );
    assert_eq!(
        unhelped_csv(&out),
        "structure_id,band,functions\nS-A,high,payroll\nS-B,critical,accounting\n"
    );
}
