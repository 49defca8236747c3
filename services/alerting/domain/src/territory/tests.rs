#![allow(clippy::unwrap_used)]

use super::*;

fn t() -> &'static Territory {
    official()
}

fn code(scale: Scale, code: &str) -> TerritoryCode {
    TerritoryCode {
        scale,
        code: code.to_owned(),
    }
}

fn fr() -> TerritoryCode {
    code(Scale::Country, "FR")
}

fn region(c: &str) -> TerritoryCode {
    code(Scale::Region, c)
}

fn dep(c: &str) -> TerritoryCode {
    code(Scale::Department, c)
}

fn epci(c: &str) -> TerritoryCode {
    code(Scale::Epci, c)
}

fn commune(c: &str) -> TerritoryCode {
    code(Scale::Commune, c)
}

fn at_commune(c: &str) -> Place {
    t().place_of_commune(c).unwrap()
}

fn at_department(d: &str) -> Place {
    Place {
        department: Some(d.to_owned()),
        ..Place::default()
    }
}

fn at_region(r: &str) -> Place {
    Place {
        region: Some(r.to_owned()),
        ..Place::default()
    }
}

fn resolved(name: &str, label: &str) -> Vec<TerritoryCode> {
    match t().resolve(name, label) {
        Ok(codes) => codes,
        Err(e) => panic!("{name:?} / {label:?}: {e}"),
    }
}

fn refused(name: &str, label: &str) -> Words {
    match t().resolve(name, label) {
        Ok(codes) => panic!("{name:?} / {label:?} resolved to {codes:?}"),
        Err(e) => e,
    }
}

const REDON_AGGLO: &str = "243500741"; // CA Redon Agglomération: departments 35, 44, 56; regions 52, 53
const RENNES_METROPOLE: &str = "243500139";

// ---------------------------------------------------------------- the table

#[test]
fn the_committed_table_parses_with_every_level() {
    let table = Territory::parse(OFFICIAL_TABLE).unwrap();
    assert_eq!(table.regions.len(), 26);
    assert_eq!(table.departments.len(), 109);
    assert_eq!(table.communes.len(), 34_969);
    assert_eq!(table.epcis.len(), 1_255);
    assert_eq!(table.aliases.len(), 4_285);
    assert!(
        table.source().starts_with("@etalab/decoupage-administratif@6.0.0"),
        "{}",
        table.source()
    );
    assert!(table.source().contains("sha512-"));
    // official() is the same table, parsed once.
    assert_eq!(t().communes.len(), 34_969);
    assert!(std::ptr::eq(official(), official()));
    assert!(format!("{:?}", t()).contains("communes: 34969"));
}

#[test]
fn every_department_and_region_has_communes() {
    for d in &t().departments {
        assert!(!d.communes.is_empty(), "department {} without commune", d.code);
    }
    for r in &t().regions {
        assert!(!r.departments.is_empty(), "region {} without department", r.code);
    }
}

#[test]
fn the_table_stays_compact() {
    assert!(OFFICIAL_TABLE.len() < 2 * 1024 * 1024, "{} bytes", OFFICIAL_TABLE.len());
}

#[test]
fn a_small_table_parses_in_any_line_order() {
    let text = "# source: test\nC\t35238\t35\tRennes\nE\t243500139\tRennes Métropole\t35238\n\
                D\t35\t53\tIlle-et-Vilaine\nR\t53\tmetro\tBretagne\nA\t35999\t35238\n\n";
    let table = Territory::parse(text).unwrap();
    assert_eq!(table.source(), "test");
    assert_eq!(table.resolve("Rennes", "Commune").unwrap(), vec![commune("35238")]);
    assert_eq!(
        table.place_of_commune("35999").unwrap().commune.as_deref(),
        Some("35238")
    );
    assert!(table.contains(&epci(RENNES_METROPOLE), &commune("35999")));
    assert_eq!(Territory::parse("").unwrap().communes.len(), 0);
}

#[test]
fn a_corrupt_table_is_refused_with_its_line() {
    let cases = [
        ("X\t1\t2\t3\n", "ligne 1 : type de ligne inconnu « X »"),
        (
            "R\t53\tmetro\n",
            "ligne 1 : 4 champs attendus pour une ligne R, 3 trouvés",
        ),
        ("R\t53\tmetro\t\n", "ligne 1 : champ vide"),
        ("R\t53\tmars\tBretagne\n", "ligne 1 : zone inconnue « mars »"),
        (
            "R\t53\tmetro\tBretagne\nR\t53\tmetro\tBretagne\n",
            "ligne 2 : région 53 en double",
        ),
        (
            "D\t35\t53\tIlle-et-Vilaine\n",
            "ligne 1 : département 35 dans une région inconnue 53",
        ),
        (
            "R\t53\tmetro\tB\nC\t35238\t35\tRennes\n",
            "ligne 2 : commune 35238 dans un département inconnu 35",
        ),
        (
            "R\t53\tmetro\tB\nD\t35\t53\tI\nC\t35238\t35\tRennes\nE\t1\tA\t35238\nE\t2\tB\t35238\n",
            "ligne 5 : commune 35238 membre de deux EPCI (1 et 2)",
        ),
        (
            "R\t53\tmetro\tB\nD\t35\t53\tI\nE\t1\tA\t35238\n",
            "ligne 3 : EPCI 1 : commune membre inconnue « 35238 »",
        ),
        (
            "A\t35999\t35238\n",
            "ligne 1 : alias 35999 vers une commune inconnue 35238",
        ),
        (
            "R\t53\tmetro\tB\nD\t35\t53\tI\nC\t35238\t35\tRennes\nA\t35238\t35238\n",
            "ligne 4 : l'alias 35238 est le code d'une commune actuelle",
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(Territory::parse(text).unwrap_err(), expected, "{text:?}");
    }
}

#[test]
fn an_empty_territory_resolves_and_covers_nothing() {
    let empty = Territory::default();
    assert!(empty.resolve("Rennes", "Commune").is_err());
    assert_eq!(
        empty.resolve("France", "Pays").unwrap_err(),
        "périmètre « France » : table du découpage administratif vide"
    );
    assert!(!empty.covers(&[fr()], &[], &at_commune("35238")));
    assert!(empty.place_of_commune("35238").is_none());
}

// ---------------------------------------------------------------- folding

#[test]
fn folding_ignores_case_accents_hyphens_and_apostrophes() {
    assert_eq!(fold("L'Île-d'Yeu"), "l ile d yeu");
    assert_eq!(fold("  L’ÎLE–D’YEU  "), "l ile d yeu");
    assert_eq!(fold("Œuilly"), "oeuilly");
    assert_eq!(fold("Provence-Alpes-Côte d'Azur"), "provence alpes cote d azur");
    assert_eq!(fold("Saint-Denis (93)"), "saint denis (93)");
    assert_eq!(fold("Département"), "departement");
    assert_eq!(fold(""), "");
}

// ---------------------------------------------------------------- resolution

#[test]
fn each_scale_resolves_by_name() {
    assert_eq!(resolved("Bretagne", "Région"), vec![region("53")]);
    assert_eq!(resolved("Ille-et-Vilaine", "Département"), vec![dep("35")]);
    assert_eq!(resolved("Rennes Métropole", "EPCI"), vec![epci(RENNES_METROPOLE)]);
    assert_eq!(resolved("Rennes", "Commune"), vec![commune("35238")]);
    assert_eq!(resolved("France", "Pays"), vec![fr()]);
}

#[test]
fn the_country_and_europe_give_the_country() {
    for (name, label) in [
        ("France", "Pays"),
        ("France", "National"),
        ("", "France"),
        ("France", "france"),
        ("Europe", "Continent"),
        ("Europe", "Europe"),
        ("Union européenne", "Continent"),
        ("France", ""),
    ] {
        assert_eq!(resolved(name, label), vec![fr()], "{name:?} / {label:?}");
    }
    assert_eq!(
        refused("Allemagne", "Pays"),
        "périmètre « Allemagne » inconnu : pays autre que la France"
    );
    assert_eq!(
        refused("Afrique", "Continent"),
        "périmètre « Afrique » inconnu : continent autre que l'Europe"
    );
}

#[test]
fn overseas_and_mainland_give_their_regions() {
    let codes = |v: Vec<TerritoryCode>| v.into_iter().map(|c| c.code).collect::<Vec<_>>();
    let overseas = [
        "01", "02", "03", "04", "06", "975", "977", "978", "984", "986", "987", "988", "989",
    ];
    assert_eq!(codes(resolved("Outre-mer", "Outre-mer")), overseas);
    assert_eq!(codes(resolved("", "Outre-mer")), overseas);
    assert_eq!(codes(resolved("Outre-mer", "Pays")), overseas);
    assert_eq!(codes(resolved("DROM", "Outre-mer")), ["01", "02", "03", "04", "06"]);
    let mainland = [
        "11", "24", "27", "28", "32", "44", "52", "53", "75", "76", "84", "93", "94",
    ];
    assert_eq!(codes(resolved("France métropolitaine", "Métropole")), mainland);
    assert_eq!(codes(resolved("Métropole", "Métropole")), mainland);
    assert_eq!(codes(resolved("France métropolitaine", "Pays")), mainland);
    assert!(resolved("Outre-mer", "Outre-mer")
        .iter()
        .all(|c| c.scale == Scale::Region));
    assert!(refused("Polynésie", "Outre-mer").contains("aucun ensemble d'outre-mer"));
}

#[test]
fn names_and_labels_are_compared_folded() {
    assert_eq!(resolved("ILLE ET VILAINE", "departement"), vec![dep("35")]);
    assert_eq!(resolved("  bretagne ", "REGION"), vec![region("53")]);
    assert_eq!(resolved("L’Île-d’Yeu", "Commune"), vec![commune("85113")]);
    assert_eq!(resolved("l ile d yeu", "commune"), vec![commune("85113")]);
    assert_eq!(resolved("rennes metropole", "Epci"), vec![epci(RENNES_METROPOLE)]);
    assert_eq!(resolved("Provence Alpes Cote d Azur", "Région"), vec![region("93")]);
    assert_eq!(resolved("Ille-et-Vilaine", "Départemental"), vec![dep("35")]);
    assert_eq!(
        resolved("Rennes Métropole", "Intercommunalité"),
        vec![epci(RENNES_METROPOLE)]
    );
}

#[test]
fn ambiguous_names_are_reported_with_their_codes() {
    assert_eq!(
        refused("Saint-Denis", "Commune"),
        "périmètre « Saint-Denis » ambigu : 4 communes (11339, 30247, 93066, 97411)"
    );
    assert_eq!(
        refused("CC des Quatre Rivières", "EPCI"),
        "périmètre « CC des Quatre Rivières » ambigu : 2 EPCI (247000623, 247400666)"
    );
    // Many homonyms: the list is cut after ten codes.
    let many = refused("Sainte-Colombe", "Commune");
    assert!(
        many.starts_with("périmètre « Sainte-Colombe » ambigu : 12 communes ("),
        "{many}"
    );
    assert!(many.ends_with(", …)"), "{many}");
    // Without a label, homonyms across scales are ambiguous too.
    assert_eq!(
        refused("La Réunion", ""),
        "périmètre « La Réunion » ambigu : 1 région (04), 1 département (974), 1 commune (47222)"
    );
    // The reason reads in English too (it ends up in an import's problems).
    assert_eq!(
        refused("La Réunion", "").en,
        "ambiguous perimeter “La Réunion”: 1 region (04), 1 department (974), 1 commune (47222)"
    );
    assert_eq!(
        refused("Saint-Denis", "Commune").en,
        "ambiguous perimeter “Saint-Denis”: 4 communes (11339, 30247, 93066, 97411)"
    );
}

#[test]
fn a_department_or_a_code_in_parentheses_disambiguates() {
    assert_eq!(resolved("Saint-Denis (93)", "Commune"), vec![commune("93066")]);
    assert_eq!(resolved("Saint-Denis (974)", "Commune"), vec![commune("97411")]);
    assert_eq!(resolved("Saint-Denis(974)", "Commune"), vec![commune("97411")]);
    assert_eq!(resolved("Rennes (35238)", "Commune"), vec![commune("35238")]);
    assert_eq!(resolved("Saint-Denis (93066)", "Commune"), vec![commune("93066")]);
    assert_eq!(resolved("CC des Quatre Rivières (74)", "EPCI"), vec![epci("247400666")]);
    assert_eq!(
        resolved("CC des Quatre Rivières (247000623)", "EPCI"),
        vec![epci("247000623")]
    );
    assert_eq!(resolved("Ille-et-Vilaine (35)", "Département"), vec![dep("35")]);
    assert_eq!(resolved("Bretagne (53)", "Région"), vec![region("53")]);
    assert_eq!(resolved("Bretagne (35)", "Région"), vec![region("53")]);
    assert_eq!(resolved("Ajaccio (2a)", "Commune"), vec![commune("2A004")]);
    // A municipal arrondissement code designates its commune.
    assert_eq!(resolved("Paris (75111)", "Commune"), vec![commune("75056")]);
}

#[test]
fn a_precision_that_matches_nothing_is_an_error() {
    assert_eq!(
        refused("Saint-Denis (35)", "Commune"),
        "périmètre « Saint-Denis (35) » inconnu : aucune commune « Saint-Denis » dans le département 35"
    );
    assert_eq!(
        refused("Rennes (75056)", "Commune"),
        "périmètre « Rennes (75056) » inconnu : le code 75056 n'est pas celui de la commune « Rennes »"
    );
    assert_eq!(
        refused("Saint-Denis (Seine-Saint-Denis)", "Commune"),
        "périmètre « Saint-Denis (Seine-Saint-Denis) » : précision « Seine-Saint-Denis » non reconnue"
    );
    assert_eq!(
        refused("Atlantide (35)", "Commune"),
        "périmètre « Atlantide (35) » inconnu : aucune commune de ce nom"
    );
    assert_eq!(
        refused("Rennes (75056)", "Commune").en,
        "unknown perimeter “Rennes (75056)”: code 75056 is not that of the commune “Rennes”"
    );
    assert_eq!(
        refused("Saint-Denis (35)", "Commune").en,
        "unknown perimeter “Saint-Denis (35)”: no commune “Saint-Denis” in department 35"
    );
}

#[test]
fn the_legacy_scale_suffix_is_ignored() {
    assert_eq!(resolved("Bretagne (Région)", "Région"), vec![region("53")]);
    assert_eq!(
        resolved("Ille-et-Vilaine (Département)", "Département"),
        vec![dep("35")]
    );
    assert_eq!(
        resolved("Rennes (Commune – 35000, 35200, 35700)", "Commune"),
        vec![commune("35238")]
    );
    assert!(refused("Saint-Denis (Commune – 93200, 93210)", "Commune").contains("ambigu : 4 communes"));
}

#[test]
fn official_names_with_parentheses_resolve_whole() {
    assert_eq!(resolved("Château-Chinon (Ville)", "Commune"), vec![commune("58062")]);
    assert_eq!(resolved("Château-Chinon (Campagne)", "Commune"), vec![commune("58063")]);
    assert_eq!(
        resolved("Bors (Canton de Charente-Sud)", "Commune"),
        vec![commune("16053")]
    );
}

#[test]
fn bare_codes_resolve_at_their_scale() {
    assert_eq!(resolved("35", "Département"), vec![dep("35")]);
    assert_eq!(resolved("2a", "Département"), vec![dep("2A")]);
    assert_eq!(resolved("53", "Région"), vec![region("53")]);
    assert_eq!(resolved("35238", "Commune"), vec![commune("35238")]);
    assert_eq!(resolved("243500139", "EPCI"), vec![epci(RENNES_METROPOLE)]);
}

#[test]
fn unknown_names_and_labels_are_errors() {
    assert_eq!(
        refused("Atlantide", "Commune"),
        "périmètre « Atlantide » inconnu : aucune commune de ce nom"
    );
    assert_eq!(
        refused("Atlantide", "EPCI"),
        "périmètre « Atlantide » inconnu : aucun EPCI de ce nom"
    );
    assert_eq!(
        refused("Atlantide", "Département"),
        "périmètre « Atlantide » inconnu : aucun département de ce nom"
    );
    assert_eq!(
        refused("Atlantide", "Région"),
        "périmètre « Atlantide » inconnu : aucune région de ce nom"
    );
    assert_eq!(refused("Atlantide", ""), "périmètre « Atlantide » inconnu");
    // The right name at the wrong scale is not guessed.
    assert_eq!(
        refused("Bretagne", "Département"),
        "périmètre « Bretagne » inconnu : aucun département de ce nom"
    );
    assert_eq!(
        refused("Rennes", "EPCI"),
        "périmètre « Rennes » inconnu : aucun EPCI de ce nom"
    );
    assert_eq!(refused("", "Commune"), "périmètre vide pour l'échelle commune");
    assert_eq!(refused("", ""), "périmètre vide");
    assert_eq!(
        refused("Ille-et-Vilaine", "Canton"),
        "périmètre « Ille-et-Vilaine » : échelle « Canton » inconnue"
    );
    assert_eq!(
        refused("Parc naturel régional d'Armorique", "Ad-hoc"),
        "périmètre « Parc naturel régional d'Armorique » : échelle « Ad-hoc » non prise en charge \
         (composition non publiée par la source)"
    );
    assert!(refused("Loire-Bretagne", "Bassin hydrographique").contains("non prise en charge"));
    assert!(refused("Parc", "Adhoc").contains("non prise en charge"));
}

#[test]
fn without_a_label_every_scale_is_searched() {
    assert_eq!(resolved("Corse", ""), vec![region("94")]);
    // Two communes are named Bretagne too: not guessed.
    assert_eq!(
        refused("Bretagne", ""),
        "périmètre « Bretagne » ambigu : 1 région (53), 2 communes (36024, 90019)"
    );
    assert_eq!(resolved("Ille-et-Vilaine", ""), vec![dep("35")]);
    assert_eq!(resolved("Rennes Métropole", ""), vec![epci(RENNES_METROPOLE)]);
    assert_eq!(resolved("Rennes", ""), vec![commune("35238")]);
    assert_eq!(resolved("Saint-Denis (974)", ""), vec![commune("97411")]);
}

#[test]
fn overseas_and_corsica_resolve() {
    assert_eq!(resolved("La Réunion", "Région"), vec![region("04")]);
    assert_eq!(resolved("La Réunion", "Département"), vec![dep("974")]);
    assert_eq!(resolved("Mayotte", "Département"), vec![dep("976")]);
    assert_eq!(resolved("Guyane", "Région"), vec![region("03")]);
    assert_eq!(resolved("Saint-Barthélemy", "Département"), vec![dep("977")]);
    assert_eq!(resolved("Saint-Barthélemy (977)", "Commune"), vec![commune("97701")]);
    assert_eq!(resolved("Corse", "Région"), vec![region("94")]);
    assert_eq!(resolved("Corse-du-Sud", "Département"), vec![dep("2A")]);
    assert_eq!(resolved("Haute-Corse", "Département"), vec![dep("2B")]);
    assert_eq!(resolved("Ajaccio", "Commune"), vec![commune("2A004")]);
    assert_eq!(resolved("Bastia", "Commune"), vec![commune("2B033")]);
}

#[test]
fn names_of_areas() {
    assert_eq!(t().name_of(&region("53")), Some("Bretagne"));
    assert_eq!(t().name_of(&dep("2a")), Some("Corse-du-Sud"));
    assert_eq!(t().name_of(&epci(RENNES_METROPOLE)), Some("Rennes Métropole"));
    assert_eq!(t().name_of(&commune("75111")), Some("Paris"));
    assert_eq!(t().name_of(&fr()), Some("France"));
    assert_eq!(t().name_of(&commune("99999")), None);
    assert_eq!(t().name_of(&code(Scale::Country, "DE")), None);
}

// ---------------------------------------------------------------- places

#[test]
fn the_place_of_a_commune_has_its_department_and_region() {
    let p = |c: &str, d: &str, r: &str| Place {
        commune: Some(c.to_owned()),
        department: Some(d.to_owned()),
        region: Some(r.to_owned()),
    };
    assert_eq!(t().place_of_commune("35238"), Some(p("35238", "35", "53")));
    assert_eq!(t().place_of_commune(" 35238 "), Some(p("35238", "35", "53")));
    assert_eq!(t().place_of_commune("2A004"), Some(p("2A004", "2A", "94")));
    assert_eq!(t().place_of_commune("2a004"), Some(p("2A004", "2A", "94")));
    assert_eq!(t().place_of_commune("97411"), Some(p("97411", "974", "04")));
    assert_eq!(t().place_of_commune("97701"), Some(p("97701", "977", "977")));
    // Municipal arrondissements and former codes give the current commune.
    assert_eq!(t().place_of_commune("75111"), Some(p("75056", "75", "11")));
    assert_eq!(t().place_of_commune("13201"), Some(p("13055", "13", "93")));
    assert_eq!(t().place_of_commune("01003"), t().place_of_commune("01165"));
    assert_eq!(t().place_of_commune("99999"), None);
    assert_eq!(t().place_of_commune(""), None);
}

// ---------------------------------------------------------------- containment

#[test]
fn containment_across_scales() {
    let yes = [
        (fr(), region("53")),
        (fr(), dep("974")),
        (fr(), commune("97701")),
        (fr(), fr()),
        (region("53"), region("53")),
        (region("53"), dep("35")),
        (region("53"), epci(RENNES_METROPOLE)),
        (region("53"), commune("35238")),
        (dep("35"), epci(RENNES_METROPOLE)),
        (dep("35"), commune("35238")),
        (epci(RENNES_METROPOLE), commune("35238")),
        (commune("35238"), commune("35238")),
        (region("94"), dep("2A")),
        (region("94"), commune("2B033")),
        (region("04"), dep("974")),
        (dep("974"), commune("97411")),
        (dep("75"), commune("75111")),
        // Saint-Barthélemy is one commune, one department and one region.
        (commune("97701"), dep("977")),
        (dep("977"), region("977")),
    ];
    for (outer, inner) in yes {
        assert!(t().contains(&outer, &inner), "{outer:?} ⊃ {inner:?}");
    }
    let no = [
        (region("53"), dep("44")),
        (region("53"), fr()),
        (dep("35"), region("53")),
        (commune("35238"), dep("35")),
        (commune("35238"), epci(RENNES_METROPOLE)),
        (epci(RENNES_METROPOLE), dep("35")),
        (dep("2A"), commune("2B033")),
        (region("94"), dep("974")),
        (dep("35"), commune("44109")),
        // An EPCI straddling departments and regions is in none of them.
        (dep("35"), epci(REDON_AGGLO)),
        (region("53"), epci(REDON_AGGLO)),
        // Unknown codes.
        (dep("99"), commune("35238")),
        (dep("35"), commune("99999")),
        (code(Scale::Country, "DE"), commune("35238")),
    ];
    for (outer, inner) in no {
        assert!(!t().contains(&outer, &inner), "not {outer:?} ⊃ {inner:?}");
    }
}

// ---------------------------------------------------------------- coverage

#[test]
fn a_structure_known_by_its_commune_is_covered_by_every_area_containing_it() {
    let rennes = at_commune("35238");
    for area in [fr(), region("53"), dep("35"), epci(RENNES_METROPOLE), commune("35238")] {
        assert!(t().covers(std::slice::from_ref(&area), &[], &rennes), "{area:?}");
    }
    for area in [region("52"), dep("22"), epci(REDON_AGGLO), commune("35047")] {
        assert!(!t().covers(std::slice::from_ref(&area), &[], &rennes), "{area:?}");
    }
    assert!(t().covers(&[dep("22"), dep("35")], &[], &rennes));
}

#[test]
fn exclusions_containing_the_commune_remove_it() {
    let rennes = at_commune("35238");
    assert!(!t().covers(&[region("53")], &[dep("35")], &rennes));
    assert!(!t().covers(&[region("53")], &[commune("35238")], &rennes));
    assert!(!t().covers(&[fr()], &[epci(RENNES_METROPOLE)], &rennes));
    assert!(!t().covers(&[fr()], &[region("53")], &rennes));
    assert!(t().covers(&[region("53")], &[dep("22")], &rennes));
    assert!(t().covers(&[region("53")], &[commune("35047")], &rennes));
    // Unknown exclusion codes are ignored.
    assert!(t().covers(&[region("53")], &[dep("99")], &rennes));
}

#[test]
fn a_structure_known_by_its_department_only() {
    let d35 = at_department("35");
    // Areas containing the department.
    assert!(t().covers(&[fr()], &[], &d35));
    assert!(t().covers(&[region("53")], &[], &d35));
    assert!(t().covers(&[dep("35")], &[], &d35));
    // Areas inside the department.
    assert!(t().covers(&[commune("35238")], &[], &d35));
    assert!(t().covers(&[epci(RENNES_METROPOLE)], &[], &d35));
    // Areas overlapping it.
    assert!(t().covers(&[epci(REDON_AGGLO)], &[], &d35));
    assert!(t().covers(&[epci(REDON_AGGLO)], &[], &at_department("44")));
    // Areas elsewhere.
    assert!(!t().covers(&[region("52")], &[], &d35));
    assert!(!t().covers(&[dep("22")], &[], &d35));
    assert!(!t().covers(&[commune("44109")], &[], &d35));
    assert!(!t().covers(&[epci(REDON_AGGLO)], &[], &at_department("22")));
    // Exclusions: the whole department, or every commune of the overlap.
    assert!(!t().covers(&[region("53")], &[dep("35")], &d35));
    assert!(!t().covers(&[fr()], &[region("53")], &d35));
    assert!(!t().covers(&[commune("35238")], &[commune("35238")], &d35));
    assert!(!t().covers(&[epci(RENNES_METROPOLE)], &[epci(RENNES_METROPOLE)], &d35));
    assert!(!t().covers(&[epci(RENNES_METROPOLE)], &[dep("35")], &d35));
    assert!(!t().covers(&[epci(REDON_AGGLO)], &[dep("35")], &d35));
    // Partial exclusions leave other communes of the department.
    assert!(t().covers(&[dep("35")], &[commune("35238")], &d35));
    assert!(t().covers(&[region("53")], &[epci(RENNES_METROPOLE)], &d35));
    assert!(t().covers(&[epci(REDON_AGGLO)], &[dep("44"), dep("56")], &d35));
    assert!(t().covers(&[epci(REDON_AGGLO)], &[dep("44")], &at_department("56")));
}

#[test]
fn a_structure_known_by_its_region_only() {
    let r53 = at_region("53");
    assert!(t().covers(&[fr()], &[], &r53));
    assert!(t().covers(&[region("53")], &[], &r53));
    assert!(t().covers(&[dep("35")], &[], &r53));
    assert!(t().covers(&[commune("35238")], &[], &r53));
    assert!(t().covers(&[epci(REDON_AGGLO)], &[], &r53));
    assert!(t().covers(&[epci(REDON_AGGLO)], &[], &at_region("52")));
    assert!(!t().covers(&[dep("44")], &[], &r53));
    assert!(!t().covers(&[fr()], &[region("53")], &r53));
    assert!(!t().covers(&[region("53")], &[dep("22"), dep("29"), dep("35"), dep("56")], &r53));
    assert!(t().covers(&[region("53")], &[dep("22"), dep("29"), dep("35")], &r53));
    assert!(!t().covers(&[epci(REDON_AGGLO)], &[dep("35"), dep("56")], &r53));
    assert!(t().covers(&[epci(REDON_AGGLO)], &[dep("35"), dep("56")], &at_region("52")));
}

#[test]
fn the_most_precise_known_level_of_a_place_is_used() {
    // A commune wins over an inconsistent department.
    let inconsistent = Place {
        commune: Some("35238".to_owned()),
        department: Some("75".to_owned()),
        region: Some("11".to_owned()),
    };
    assert!(t().covers(&[dep("35")], &[], &inconsistent));
    assert!(!t().covers(&[dep("75")], &[], &inconsistent));
    // An unknown commune falls back on the department, then the region.
    let unknown_commune = Place {
        commune: Some("99999".to_owned()),
        department: Some("35".to_owned()),
        region: None,
    };
    assert!(t().covers(&[commune("35238")], &[], &unknown_commune));
    let region_only = Place {
        commune: Some("99999".to_owned()),
        department: Some("99".to_owned()),
        ..at_region("53")
    };
    assert!(t().covers(&[dep("22")], &[], &region_only));
    // Codes are trimmed and case-folded.
    assert!(t().covers(&[dep("2A")], &[], &at_department(" 2a ")));
}

#[test]
fn a_structure_whose_place_is_unknown_is_covered_by_national_calls_only() {
    for nowhere in [
        Place::default(),
        at_department("99"),
        Place {
            commune: Some("00000".to_owned()),
            ..Place::default()
        },
    ] {
        assert!(t().covers(&[fr()], &[], &nowhere));
        assert!(t().covers(&[region("53"), fr()], &[], &nowhere));
        assert!(!t().covers(&[fr()], &[dep("35")], &nowhere));
        assert!(!t().covers(&[region("53")], &[], &nowhere));
    }
}

#[test]
fn no_area_means_nowhere() {
    for place in [
        at_commune("35238"),
        at_department("35"),
        at_region("53"),
        Place::default(),
    ] {
        assert!(!t().covers(&[], &[], &place), "{place:?}");
        assert!(!t().covers(&[], &[dep("22")], &place), "{place:?}");
        // Only unknown codes: nowhere either.
        assert!(
            !t().covers(&[commune("99999"), code(Scale::Country, "DE")], &[], &place),
            "{place:?}"
        );
    }
}

#[test]
fn overseas_and_corsican_structures() {
    let saint_denis = at_commune("97411");
    assert!(t().covers(&[fr()], &[], &saint_denis));
    assert!(t().covers(&[region("04")], &[], &saint_denis));
    assert!(t().covers(&[dep("974")], &[], &saint_denis));
    assert!(t().covers(&resolved("Outre-mer", "Outre-mer"), &[], &saint_denis));
    assert!(!t().covers(&resolved("France métropolitaine", "Métropole"), &[], &saint_denis));
    assert!(!t().covers(&[dep("93")], &[], &saint_denis));
    assert!(t().covers(&resolved("Saint-Denis (974)", "Commune"), &[], &saint_denis));
    assert!(t().covers(&[dep("974")], &[], &at_region("04")));
    assert!(t().covers(&[commune("97411")], &[], &at_department("974")));
    // Corsica: two departments in one region.
    let bastia = at_commune("2B033");
    assert!(t().covers(&[region("94")], &[], &bastia));
    assert!(t().covers(&[dep("2B")], &[], &bastia));
    assert!(!t().covers(&[dep("2A")], &[], &bastia));
    assert!(!t().covers(&[region("94")], &[dep("2B")], &bastia));
    assert!(t().covers(&[commune("2A004")], &[], &at_region("94")));
    assert!(!t().covers(&[commune("2A004")], &[], &at_department("2B")));
    // Collectivities: Saint-Barthélemy.
    assert!(t().covers(&[dep("977")], &[], &at_commune("97701")));
    assert!(!t().covers(&[commune("97701")], &[dep("977")], &at_region("977")));
}

/// Perimeter names come from outside (Aides-territoires, feed mappings):
/// random and mutated names never panic the resolution, whatever the label.
#[test]
fn hostile_perimeter_names_never_panic() {
    let names: &[&[u8]] = &[
        b"Ille-et-Vilaine",
        b"Saint-Denis (974)",
        b"Bretagne",
        b"Rennes Metropole",
    ];
    vigie_mutate::for_each_case(0x7E22, names, 50, |name| {
        let name = String::from_utf8_lossy(name);
        for label in [
            "",
            "Région",
            "Département",
            "Commune",
            "Intercommunalité",
            "Pays",
            "Ad-hoc",
        ] {
            if let Err(message) = t().resolve(&name, label) {
                assert!(!message.is_empty());
                assert!(
                    !message.en.is_empty() && message.en != message.fr,
                    "a reason without its English: {message:?}"
                );
            }
        }
    });
}
