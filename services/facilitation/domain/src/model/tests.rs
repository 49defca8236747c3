use super::*;
use crate::fixtures::{date, facilitator};

#[test]
fn facilitator_kind_codes_round_trip() {
    let codes: Vec<&str> = FacilitatorKind::ALL.iter().map(|k| k.as_str()).collect();
    assert_eq!(
        codes,
        [
            "conseiller_numerique",
            "mediateur",
            "coordinateur",
            "internal_referent",
            "trusted_peer"
        ]
    );
    for &k in FacilitatorKind::ALL {
        assert_eq!(k.as_str().parse::<FacilitatorKind>(), Ok(k));
        assert_eq!(k.to_string(), k.as_str());
    }
    let labels: Vec<&str> = FacilitatorKind::ALL.iter().map(|k| k.label_fr()).collect();
    assert_eq!(
        labels,
        [
            "conseiller numérique",
            "médiateur numérique",
            "coordinateur",
            "référent numérique interne",
            "pair de confiance"
        ]
    );
    assert_eq!(
        "Mediateur".parse::<FacilitatorKind>().map_err(|e| e.to_string()),
        Err(
            "valeur inconnue « Mediateur » (attendu : conseiller_numerique, mediateur, coordinateur, \
             internal_referent, trusted_peer)"
                .to_owned()
        )
    );
}

#[test]
fn request_codes_round_trip() {
    let beneficiaries: Vec<&str> = Beneficiary::ALL.iter().map(|b| b.as_str()).collect();
    assert_eq!(beneficiaries, ["internal", "external"]);
    let urgencies: Vec<&str> = Urgency::ALL.iter().map(|u| u.as_str()).collect();
    assert_eq!(urgencies, ["low", "normal", "high"]);
    let modalities: Vec<&str> = Modality::ALL.iter().map(|m| m.as_str()).collect();
    assert_eq!(modalities, ["on_site", "remote", "either"]);
    for &b in Beneficiary::ALL {
        assert_eq!(b.as_str().parse::<Beneficiary>(), Ok(b));
    }
    for &u in Urgency::ALL {
        assert_eq!(u.as_str().parse::<Urgency>(), Ok(u));
    }
    for &m in Modality::ALL {
        assert_eq!(m.as_str().parse::<Modality>(), Ok(m));
    }
    assert_eq!(Beneficiary::Internal.label_fr(), "fonction interne d'une structure");
    assert_eq!(Urgency::High.label_fr(), "haute");
    assert_eq!(Modality::OnSite.label_fr(), "sur place");
    assert_eq!(
        "interne".parse::<Beneficiary>().map_err(|e| e.expected),
        Err("internal, external")
    );
    assert_eq!(
        "urgent".parse::<Urgency>().map_err(|e| e.expected),
        Err("low, normal, high")
    );
    assert_eq!(
        "onsite".parse::<Modality>().map_err(|e| e.expected),
        Err("on_site, remote, either")
    );
}

fn with(weekly_minutes: u32, internal_share: f64) -> Facilitator {
    Facilitator {
        weekly_minutes,
        internal_share,
        ..facilitator("F")
    }
}

#[test]
fn internal_minutes_are_floored() {
    assert_eq!(with(2100, 0.3).internal_minutes_per_week(), 630);
    assert_eq!(with(600, 0.5).internal_minutes_per_week(), 300);
    // 0.0005 × 1000 = 0.5: floored, not rounded.
    assert_eq!(with(1000, 0.0005).internal_minutes_per_week(), 0);
    assert_eq!(with(1050, 1.0 / 3.0).internal_minutes_per_week(), 350);
    assert_eq!(with(100, 0.335).internal_minutes_per_week(), 33);
    assert_eq!(with(3600, 1.0).internal_minutes_per_week(), 3600);
    assert_eq!(with(3600, 0.0).internal_minutes_per_week(), 0);
}

#[test]
fn binary_rounding_does_not_lose_a_minute() {
    let naive = f64::from(std::hint::black_box(100_u32)) * 0.29;
    assert!(naive.floor() < 29.0, "premise: the naive product is just below 29");
    assert_eq!(with(100, 0.29).internal_minutes_per_week(), 29);
}

#[test]
fn out_of_range_shares_are_clamped() {
    assert_eq!(with(600, 1.5).internal_minutes_per_week(), 600);
    assert_eq!(with(600, -0.2).internal_minutes_per_week(), 0);
    assert_eq!(with(600, f64::NAN).internal_minutes_per_week(), 0);
    assert_eq!(with(u32::MAX, 1.0).internal_minutes_per_week(), u32::MAX);
}

#[test]
fn week_start_is_the_iso_monday() {
    // 2026-06-29 is a Monday.
    for d in 29..=30 {
        assert_eq!(week_start(date(2026, 6, d)), date(2026, 6, 29), "{d}");
    }
    for d in 1..=5 {
        assert_eq!(week_start(date(2026, 7, d)), date(2026, 6, 29), "July {d}");
    }
    assert_eq!(week_start(date(2026, 7, 6)), date(2026, 7, 6));
}

#[test]
fn week_start_across_year_boundaries() {
    // 2027-01-01 is a Friday of ISO week 2026-W53, which starts on 2026-12-28.
    assert_eq!(week_start(date(2027, 1, 1)), date(2026, 12, 28));
    assert_eq!(week_start(date(2027, 1, 3)), date(2026, 12, 28));
    assert_eq!(week_start(date(2027, 1, 4)), date(2027, 1, 4));
    // 2025-12-31 is a Wednesday of ISO week 2026-W01, which starts on 2025-12-29.
    assert_eq!(week_start(date(2025, 12, 31)), date(2025, 12, 29));
    assert_eq!(week_start(date(2026, 1, 1)), date(2025, 12, 29));
    // Leap day.
    assert_eq!(week_start(date(2028, 2, 29)), date(2028, 2, 28));
    assert_eq!(week_start(date(2028, 3, 1)), date(2028, 2, 28));
}

#[test]
fn week_start_at_the_earliest_date_does_not_panic() {
    let start = week_start(NaiveDate::MIN);
    assert!(start <= NaiveDate::MIN);
}

#[test]
fn cra_codes_parse_and_themes_are_validated() {
    assert_eq!("collectif".parse::<ActivityType>().ok(), Some(ActivityType::Collectif));
    assert_eq!("a_distance".parse::<PlaceType>().ok(), Some(PlaceType::ADistance));
    assert!("ailleurs".parse::<PlaceType>().is_err());
    assert!("groupe".parse::<ActivityType>().is_err());
    assert_eq!(
        parse_themes(&[" email", "bureautique", "", "email"]).ok(),
        Some(vec!["email".to_owned(), "bureautique".to_owned()])
    );
    let err = parse_themes(&["email", "cuisine"]).err().map(|e| e.value);
    assert_eq!(err.as_deref(), Some("cuisine"));
    assert_eq!(parse_themes::<&str>(&[]).ok(), Some(vec![]));
}

#[test]
fn the_activity_vocabulary_is_the_cra_kernels_in_its_order() {
    use vigie_activity_report as cra;
    let activity: Vec<&str> = ActivityType::ALL.iter().map(|a| a.as_str()).collect();
    assert_eq!(activity, cra::codes(cra::ACTIVITY_TYPES).collect::<Vec<_>>());
    let places: Vec<&str> = PlaceType::ALL.iter().map(|p| p.as_str()).collect();
    assert_eq!(places, cra::codes(cra::PLACES).collect::<Vec<_>>());
    for kind in ActivityType::ALL {
        assert_eq!(
            cra::find(cra::ACTIVITY_TYPES, kind.as_str()).map(|t| t.fr),
            Some(kind.label_fr())
        );
    }
    for place in PlaceType::ALL {
        assert_eq!(
            cra::find(cra::PLACES, place.as_str()).map(|t| t.fr),
            Some(place.label_fr())
        );
    }
    let every_theme: Vec<&str> = cra::codes(cra::THEMES).collect();
    assert_eq!(
        parse_themes(&every_theme).ok(),
        Some(every_theme.iter().map(|t| (*t).to_owned()).collect())
    );
}
