#![allow(clippy::unwrap_used)]

use super::*;
use crate::call::Scale;
use crate::territory::official;

fn code(scale: Scale, code: &str) -> TerritoryCode {
    TerritoryCode {
        scale,
        code: code.to_owned(),
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn structure(legal_form: &str, commune: &str) -> StructureProfile {
    StructureProfile {
        structure_id: "S1".to_owned(),
        network: "reseau-bretagne".to_owned(),
        legal_form: legal_form.to_owned(),
        place: official().place_of_commune(commune).unwrap(),
    }
}

fn call(audiences: &[&str], themes: &[&str], areas: Vec<TerritoryCode>) -> CallProfile {
    CallProfile {
        call_id: "C1".to_owned(),
        audiences: strings(audiences),
        themes: strings(themes),
        areas,
        exclusions: Vec::new(),
    }
}

fn prefs(themes: &[&str], opted_out: bool) -> Preferences {
    Preferences {
        themes: strings(themes),
        audiences: Vec::new(),
        opted_out,
    }
}

// ---------------------------------------------------------------- audiences

#[test]
fn audiences_contain_the_legal_form_or_are_not_said() {
    assert!(audience_matches(&[], "association"));
    assert!(audience_matches(&strings(&["association", "scop"]), "association"));
    assert!(audience_matches(&strings(&["association", "scop"]), "scop"));
    assert!(!audience_matches(&strings(&["association", "scop"]), "mutual"));
    assert!(!audience_matches(
        &strings(&["commune", "epci", "department"]),
        "association"
    ));
    assert!(audience_matches(&strings(&["Esus_Company"]), "esus_company"));
    assert!(!audience_matches(&strings(&["scic"]), "scop"));
}

// ---------------------------------------------------------------- preferences

#[test]
fn effective_preferences_without_any_is_everything() {
    assert_eq!(Preferences::effective(None, None), Preferences::default());
    assert_eq!(Preferences::default(), prefs(&[], false));
}

#[test]
fn the_network_preferences_apply_when_the_structure_has_none() {
    let network = prefs(&["Culture"], false);
    assert_eq!(Preferences::effective(Some(&network), None), network);
}

#[test]
fn the_structure_preferences_replace_the_network_themes() {
    let network = prefs(&["Culture"], false);
    let own = prefs(&["Sport"], false);
    assert_eq!(Preferences::effective(Some(&network), Some(&own)), own);
    assert_eq!(Preferences::effective(None, Some(&own)), own);
    // An explicit empty list widens to every theme.
    let everything = prefs(&[], false);
    assert_eq!(Preferences::effective(Some(&network), Some(&everything)), everything);
}

#[test]
fn an_opt_out_at_either_level_wins() {
    let network_out = prefs(&["Culture"], true);
    let own_in = prefs(&["Sport"], false);
    assert_eq!(
        Preferences::effective(Some(&network_out), Some(&own_in)),
        prefs(&["Sport"], true)
    );
    assert_eq!(
        Preferences::effective(Some(&network_out), None),
        prefs(&["Culture"], true)
    );
    let network_in = prefs(&["Culture"], false);
    let own_out = prefs(&[], true);
    assert_eq!(
        Preferences::effective(Some(&network_in), Some(&own_out)),
        prefs(&[], true)
    );
    assert_eq!(Preferences::effective(None, Some(&own_out)), prefs(&[], true));
    assert!(!Preferences::effective(Some(&network_in), Some(&own_in)).opted_out);
}

// ---------------------------------------------------------------- themes

#[test]
fn no_preferred_theme_means_every_theme() {
    assert!(theme_matches(&strings(&["Culture / Patrimoine"]), &[]));
    assert!(theme_matches(&[], &[]));
    assert!(theme_matches(&strings(&["Sport"]), &strings(&["", " / "])));
}

#[test]
fn a_theme_matches_itself_and_its_sub_themes() {
    let culture = strings(&["Culture"]);
    assert!(theme_matches(&strings(&["Culture"]), &culture));
    assert!(theme_matches(&strings(&["Culture / Patrimoine"]), &culture));
    assert!(theme_matches(
        &strings(&["Sport", "Culture / Spectacle vivant"]),
        &culture
    ));
    assert!(!theme_matches(&strings(&["Sport / Équipements"]), &culture));
    // A prefix without the level separator is another theme.
    assert!(!theme_matches(&strings(&["Culturel / Patrimoine"]), &culture));
    assert!(!theme_matches(&strings(&["Agriculture"]), &culture));
}

#[test]
fn a_sub_theme_preference_is_narrower() {
    let heritage = strings(&["Culture / Patrimoine"]);
    assert!(theme_matches(&strings(&["Culture / Patrimoine"]), &heritage));
    assert!(theme_matches(
        &strings(&["Culture / Patrimoine / Monuments"]),
        &heritage
    ));
    assert!(!theme_matches(&strings(&["Culture"]), &heritage));
    assert!(!theme_matches(&strings(&["Culture / Spectacle vivant"]), &heritage));
}

#[test]
fn themes_are_compared_folded() {
    assert!(theme_matches(
        &strings(&["education / Jeunesse"]),
        &strings(&["Éducation"])
    ));
    assert!(theme_matches(
        &strings(&["SOLIDARITÉ/Inclusion"]),
        &strings(&["solidarite / inclusion"])
    ));
    assert!(theme_matches(
        &strings(&["Nature / environnement|Qualité de l'air"]),
        &strings(&["nature / Environnement"])
    ));
    assert!(theme_matches(
        &strings(&["Économie sociale et solidaire|Insertion"]),
        &strings(&["economie sociale ET solidaire / insertion"])
    ));
    assert!(theme_matches(
        &strings(&["Santé  /  Prévention"]),
        &strings(&["Sante / Prevention"])
    ));
}

#[test]
fn a_call_without_theme_passes_the_theme_filter() {
    assert!(theme_matches(&[], &strings(&["Culture"])));
    assert!(theme_matches(&strings(&["", " "]), &strings(&["Culture"])));
}

// ---------------------------------------------------------------- matches

#[test]
fn a_call_matches_when_audience_territory_themes_and_subscription_agree() {
    let t = official();
    let s = structure("association", "35238");
    let c = call(
        &["association", "scop"],
        &["Culture / Patrimoine"],
        vec![code(Scale::Region, "53")],
    );
    let all = Preferences::default();
    assert!(matches(&c, &s, &all, t));
    assert!(matches(&c, &s, &prefs(&["culture"], false), t));
    // Each condition alone can refuse.
    assert!(!matches(&c, &structure("mutual", "35238"), &all, t));
    assert!(!matches(&c, &structure("association", "44109"), &all, t));
    assert!(!matches(&c, &s, &prefs(&["Sport"], false), t));
    assert!(!matches(&c, &s, &prefs(&[], true), t));
    let excluded = CallProfile {
        exclusions: vec![code(Scale::Commune, "35238")],
        ..c.clone()
    };
    assert!(!matches(&excluded, &s, &all, t));
    let nowhere = CallProfile {
        areas: Vec::new(),
        ..c.clone()
    };
    assert!(!matches(&nowhere, &s, &all, t));
    // Audiences not said: any legal form.
    let open = CallProfile {
        audiences: Vec::new(),
        ..c.clone()
    };
    assert!(matches(&open, &structure("foundation", "35238"), &all, t));
    // Territory aside.
    assert!(matches_without_territory(&c, &structure("association", "44109"), &all));
    assert!(!matches_without_territory(&c, &s, &prefs(&[], true)));
}

#[test]
fn public_body_audiences_do_not_match_ess_structures() {
    let c = call(&["commune", "epci"], &[], vec![code(Scale::Country, "FR")]);
    for form in ["association", "scop", "scic", "mutual", "foundation", "esus_company"] {
        assert!(
            !matches(&c, &structure(form, "35238"), &Preferences::default(), official()),
            "{form}"
        );
    }
}

// ---------------------------------------------------------------- index

/// A small deterministic generator (xorshift64*), enough for sampling.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &'a [String]) -> &'a str {
        &items[self.below(items.len())]
    }
}

/// Codes of the committed table, by kind of line.
struct Codes {
    regions: Vec<String>,
    departments: Vec<String>,
    epcis: Vec<String>,
    communes: Vec<String>,
    aliases: Vec<String>,
    /// (commune, department) pairs, to pick exclusions inside areas.
    commune_departments: Vec<(String, String)>,
}

fn codes() -> Codes {
    let mut c = Codes {
        regions: Vec::new(),
        departments: Vec::new(),
        epcis: Vec::new(),
        communes: Vec::new(),
        aliases: Vec::new(),
        commune_departments: Vec::new(),
    };
    for line in include_str!("../../data/territory.tsv")
        .lines()
        .filter(|l| !l.starts_with('#'))
    {
        let fields: Vec<&str> = line.split('\t').collect();
        match fields[0] {
            "R" => c.regions.push(fields[1].to_owned()),
            "D" => c.departments.push(fields[1].to_owned()),
            "E" => c.epcis.push(fields[1].to_owned()),
            "C" => {
                c.communes.push(fields[1].to_owned());
                c.commune_departments.push((fields[1].to_owned(), fields[2].to_owned()));
            }
            "A" => c.aliases.push(fields[1].to_owned()),
            _ => {}
        }
    }
    c
}

fn random_area(rng: &mut Rng, c: &Codes) -> TerritoryCode {
    match rng.below(20) {
        0 => code(Scale::Country, "FR"),
        1..=3 => code(Scale::Region, rng.pick(&c.regions)),
        4..=8 => code(Scale::Department, rng.pick(&c.departments)),
        9..=13 => code(Scale::Epci, rng.pick(&c.epcis)),
        14..=17 => code(Scale::Commune, rng.pick(&c.communes)),
        18 => code(Scale::Commune, rng.pick(&c.aliases)),
        _ => code(Scale::Department, "99"),
    }
}

fn random_place(rng: &mut Rng, c: &Codes) -> Place {
    let some = |s: &str| Some(s.to_owned());
    match rng.below(20) {
        0..=11 => Place {
            commune: some(rng.pick(&c.communes)),
            ..Place::default()
        },
        12 => Place {
            commune: some(rng.pick(&c.aliases)),
            ..Place::default()
        },
        13..=14 => Place {
            department: some(rng.pick(&c.departments)),
            ..Place::default()
        },
        15 => Place {
            region: some(rng.pick(&c.regions)),
            ..Place::default()
        },
        16 => Place {
            commune: some("99999"),
            department: some(rng.pick(&c.departments)),
            region: None,
        },
        17 => Place {
            commune: some("99999"),
            department: some("99"),
            region: some(rng.pick(&c.regions)),
        },
        18 => Place::default(),
        _ => Place {
            commune: some("00000"),
            department: some("00"),
            region: some("00"),
        },
    }
}

/// Structures concentrated on a few departments (so that calls hit many of
/// them), plus a spread over the whole country.
fn sample_structures(rng: &mut Rng, c: &Codes, n: usize) -> Vec<StructureProfile> {
    let focus = ["35", "44", "56", "2A", "2B", "974"];
    let focused: Vec<String> = c
        .commune_departments
        .iter()
        .filter(|(_, d)| focus.contains(&d.as_str()))
        .map(|(commune, _)| commune.clone())
        .collect();
    (0..n)
        .map(|i| {
            let place = if rng.below(2) == 0 {
                match rng.below(6) {
                    0 => Place {
                        department: Some(focus[rng.below(focus.len())].to_owned()),
                        ..Place::default()
                    },
                    _ => Place {
                        commune: Some(rng.pick(&focused).to_owned()),
                        ..Place::default()
                    },
                }
            } else {
                random_place(rng, c)
            };
            StructureProfile {
                structure_id: format!("S{i}"),
                network: "n".to_owned(),
                legal_form: "association".to_owned(),
                place,
            }
        })
        .collect()
}

fn sample_call(rng: &mut Rng, c: &Codes, i: usize) -> CallProfile {
    let focus_areas = [
        code(Scale::Region, "53"),
        code(Scale::Region, "52"),
        code(Scale::Region, "94"),
        code(Scale::Department, "35"),
        code(Scale::Department, "974"),
        code(Scale::Epci, "243500741"),
        code(Scale::Epci, "243500139"),
    ];
    let mut areas: Vec<TerritoryCode> = (0..rng.below(4))
        .map(|_| {
            if rng.below(2) == 0 {
                focus_areas[rng.below(focus_areas.len())].clone()
            } else {
                random_area(rng, c)
            }
        })
        .collect();
    if i.is_multiple_of(10) {
        areas.push(code(Scale::Country, "FR"));
    }
    let mut exclusions: Vec<TerritoryCode> = Vec::new();
    for _ in 0..rng.below(3) {
        exclusions.push(match rng.below(4) {
            // Inside the focus, so that exclusions bite.
            0 => focus_areas[rng.below(focus_areas.len())].clone(),
            1 => {
                let (commune, _) = c
                    .commune_departments
                    .iter()
                    .filter(|(_, d)| d == "35" || d == "2A")
                    .nth(rng.below(300))
                    .unwrap();
                code(Scale::Commune, commune)
            }
            _ => random_area(rng, c),
        });
    }
    CallProfile {
        call_id: format!("C{i}"),
        audiences: Vec::new(),
        themes: Vec::new(),
        areas,
        exclusions,
    }
}

#[test]
fn the_index_gives_exactly_the_naive_scan() {
    let t = official();
    let c = codes();
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let structures = sample_structures(&mut rng, &c, 3_000);
    let index = MatchIndex::new(&structures, t);
    assert_eq!(index.len(), 3_000);
    assert!(!index.is_empty());
    let (mut total, mut with_exclusions, mut non_empty) = (0, 0, 0);
    for i in 0..400 {
        let call = sample_call(&mut rng, &c, i);
        let naive: Vec<usize> = (0..structures.len())
            .filter(|&s| t.covers(&call.areas, &call.exclusions, &structures[s].place))
            .collect();
        let indexed = index.candidates(&call, t);
        assert_eq!(indexed, naive, "call {i}: {call:?}");
        total += naive.len();
        non_empty += usize::from(!naive.is_empty());
        if !call.exclusions.is_empty() {
            let without = CallProfile {
                exclusions: Vec::new(),
                ..call.clone()
            };
            if index.candidates(&without, t).len() > naive.len() {
                with_exclusions += 1;
            }
        }
    }
    // The sample exercises the interesting cases.
    assert!(non_empty > 200, "{non_empty} calls with candidates");
    assert!(total > 100_000, "{total} candidates");
    assert!(
        with_exclusions > 20,
        "{with_exclusions} calls where exclusions removed structures"
    );
}

#[test]
fn the_index_handles_every_kind_of_place() {
    let t = official();
    let place = |commune: Option<&str>, department: Option<&str>, region: Option<&str>| Place {
        commune: commune.map(str::to_owned),
        department: department.map(str::to_owned),
        region: region.map(str::to_owned),
    };
    let places = [
        place(Some("35238"), None, None),       // 0 Rennes
        place(Some("75111"), None, None),       // 1 Paris, by its arrondissement
        place(None, Some("35"), None),          // 2 department 35 only
        place(None, None, Some("53")),          // 3 region 53 only
        place(None, None, None),                // 4 unknown
        place(Some("97411"), None, None),       // 5 Saint-Denis (La Réunion)
        place(Some("2B033"), None, None),       // 6 Bastia
        place(Some("35238"), Some("35"), None), // 7 Rennes again
    ];
    let structures: Vec<StructureProfile> = places
        .iter()
        .enumerate()
        .map(|(i, p)| StructureProfile {
            structure_id: format!("S{i}"),
            network: "n".to_owned(),
            legal_form: "association".to_owned(),
            place: p.clone(),
        })
        .collect();
    let index = MatchIndex::new(&structures, t);
    let run = |areas: Vec<TerritoryCode>, exclusions: Vec<TerritoryCode>| {
        index.candidates(
            &CallProfile {
                areas,
                exclusions,
                ..CallProfile::default()
            },
            t,
        )
    };
    assert_eq!(
        run(vec![code(Scale::Country, "FR")], vec![]),
        vec![0, 1, 2, 3, 4, 5, 6, 7]
    );
    assert_eq!(
        run(vec![code(Scale::Country, "FR")], vec![code(Scale::Region, "53")]),
        vec![1, 5, 6]
    );
    assert_eq!(run(vec![code(Scale::Commune, "35238")], vec![]), vec![0, 2, 3, 7]);
    assert_eq!(
        run(vec![code(Scale::Region, "53"), code(Scale::Department, "35")], vec![]),
        vec![0, 2, 3, 7]
    );
    assert_eq!(
        run(vec![code(Scale::Department, "35")], vec![code(Scale::Commune, "35238")]),
        vec![2, 3]
    );
    assert_eq!(run(vec![code(Scale::Department, "75")], vec![]), vec![1]);
    assert_eq!(run(vec![code(Scale::Department, "974")], vec![]), vec![5]);
    assert_eq!(
        run(vec![code(Scale::Region, "94")], vec![code(Scale::Department, "2A")]),
        vec![6]
    );
    assert_eq!(run(vec![], vec![]), Vec::<usize>::new());
    assert_eq!(run(vec![code(Scale::Commune, "99999")], vec![]), Vec::<usize>::new());
    assert!(MatchIndex::new(&[], t).is_empty());
    assert_eq!(
        MatchIndex::new(&[], t).candidates(&call(&[], &[], vec![code(Scale::Country, "FR")]), t),
        Vec::<usize>::new()
    );
}

#[test]
fn themes_fold_level_by_level() {
    let folded = |t: &str| ThemeChars::new(t).collect::<String>();
    assert_eq!(folded("Culture / Patrimoine"), "culture / patrimoine");
    assert_eq!(
        folded("  Économie  sociale//Insertion | Emploi "),
        "economie sociale / insertion / emploi"
    );
    assert_eq!(folded("/ Culture /"), "culture");
    assert_eq!(
        folded("Nature / environnement|Qualité de l'air"),
        "nature / environnement / qualite de l air"
    );
    assert_eq!(folded("Œuvres-d’art"), "oeuvres d art");
    assert_eq!(folded(" / | "), "");
    assert!(is_blank(" | "));
    assert!(!is_blank("a"));
}

#[test]
fn an_association_with_the_esus_approval_also_gets_esus_calls() {
    let t = official();
    let call = CallProfile {
        call_id: "c".into(),
        audiences: vec!["esus_company".into()],
        themes: vec![],
        areas: vec![code(Scale::Country, "FR")],
        exclusions: vec![],
    };
    let structure = StructureProfile {
        structure_id: "S".into(),
        network: "n".into(),
        legal_form: "association".into(),
        place: Place {
            commune: Some("35238".into()),
            department: Some("35".into()),
            region: Some("53".into()),
        },
    };
    assert!(!matches(&call, &structure, &Preferences::default(), t));
    let esus = Preferences {
        audiences: vec!["esus_company".into()],
        ..Preferences::default()
    };
    assert!(matches(&call, &structure, &esus, t));
    // The structure's own list replaces its network's.
    let own = Preferences::default();
    assert!(Preferences::effective(Some(&esus), Some(&own)).audiences.is_empty());
    assert_eq!(
        Preferences::effective(Some(&esus), None).audiences,
        vec!["esus_company"]
    );
}
