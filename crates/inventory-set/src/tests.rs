#![allow(clippy::unwrap_used)]

use super::*;
use chrono::NaiveDate;

const S_H: &str = "structure_id,name,network,legal_form,siret,rna,region_code,department_code,commune_insee\n";
const P_H: &str = "person_id,structure_id,display_name,role,end_date,email\n";
const F_H: &str = "structure_id,function,criticality,tools\n";
const H_H: &str = "person_id,function,level,last_practised\n";

/// A valid base set; lines are noted to keep error expectations readable.
const S_OK: &str = "\
S2,Association Les Jardins Partagés de Rennes,reseau-bretagne,association,,W351234567,53,35,35238
S1,\"SCOP Bois, Terre et Paille\",reseau-occitanie,scop,73282932000074,,76,31,31555
";
const P_OK: &str = "\
P1,S1,Camille Martin,director,,camille@example.org
P3,S1,Léa Dubois,employee,2026-06-30,
P2,S2,Hugo Petit,volunteer,,
";
const F_OK: &str = "\
S1,payroll,,Silae; net-entreprises.fr ;
S1,billetterie,2,
S2,communication,,
";
const H_OK: &str = "\
P3,payroll,3,2026-01-15
P1,payroll,4,
P1,billetterie,2,
P2,communication,3,2025-09-01
";

fn files(s: &str, p: &str, f: &str, h: &str) -> CsvSetFiles {
    CsvSetFiles {
        structures: s.as_bytes().to_vec(),
        people: p.as_bytes().to_vec(),
        functions: f.as_bytes().to_vec(),
        holdings: h.as_bytes().to_vec(),
    }
}

/// The base set with each file's rows replaced by the given ones (headers kept).
fn with_rows(s: &str, p: &str, f: &str, h: &str) -> CsvSetFiles {
    files(
        &format!("{S_H}{s}"),
        &format!("{P_H}{p}"),
        &format!("{F_H}{f}"),
        &format!("{H_H}{h}"),
    )
}

fn base() -> CsvSetFiles {
    with_rows(S_OK, P_OK, F_OK, H_OK)
}

fn errors(files: &CsvSetFiles) -> Vec<String> {
    match parse_set(files) {
        Ok(set) => panic!("expected errors, parsed {} structures", set.len()),
        Err(errs) => errs.iter().map(ToString::to_string).collect(),
    }
}

fn parsed(files: &CsvSetFiles) -> ParsedSet {
    match parse_set(files) {
        Ok(set) => set,
        Err(errs) => panic!("unexpected errors: {errs:#?}"),
    }
}

fn date(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d)
}

#[test]
fn valid_set_is_parsed_sorted_and_complete() {
    let set = parsed(&base()).inventories();
    let ids: Vec<&str> = set.iter().map(|i| i.structure.id.as_str()).collect();
    assert_eq!(ids, ["S1", "S2"]);

    let s1 = &set[0];
    assert_eq!(
        s1.structure,
        StructureRecord {
            id: "S1".into(),
            name: "SCOP Bois, Terre et Paille".into(),
            network: "reseau-occitanie".into(),
            legal_form: LegalForm::Scop,
            siret: Some("73282932000074".into()),
            rna: None,
            region_code: "76".into(),
            department_code: "31".into(),
            commune_insee: "31555".into(),
        }
    );
    assert_eq!(
        s1.people,
        vec![
            PersonRecord {
                id: "P1".into(),
                structure_id: "S1".into(),
                display_name: "Camille Martin".into(),
                role: Role::Director,
                end_date: None,
                email: Some("camille@example.org".into()),
            },
            PersonRecord {
                id: "P3".into(),
                structure_id: "S1".into(),
                display_name: "Léa Dubois".into(),
                role: Role::Employee,
                end_date: date(2026, 6, 30),
                email: None,
            },
        ]
    );
    assert_eq!(
        s1.functions,
        vec![
            FunctionRecord {
                structure_id: "S1".into(),
                code: "billetterie".into(),
                criticality: 2,
                tools: vec![],
            },
            FunctionRecord {
                structure_id: "S1".into(),
                code: "payroll".into(),
                criticality: 3,
                tools: vec!["Silae".into(), "net-entreprises.fr".into()],
            },
        ]
    );
    let holdings: Vec<(&str, &str, u8, Option<NaiveDate>)> = s1
        .holdings
        .iter()
        .map(|h| (h.person_id.as_str(), h.function.as_str(), h.level, h.last_practised))
        .collect();
    assert_eq!(
        holdings,
        [
            ("P1", "billetterie", 2, None),
            ("P1", "payroll", 4, None),
            ("P3", "payroll", 3, date(2026, 1, 15)),
        ]
    );
    assert!(s1.holdings.iter().all(|h| h.evidence == Evidence::Import));

    let s2 = &set[1];
    assert_eq!(s2.structure.rna.as_deref(), Some("W351234567"));
    assert_eq!(s2.structure.siret, None);
    assert_eq!(s2.people.len(), 1);
    assert_eq!(s2.functions[0].criticality, 1, "catalogue default of communication");
    assert_eq!(s2.holdings[0].last_practised, date(2025, 9, 1));
}

#[test]
fn row_error_display_is_file_line_message() {
    let e = RowError {
        file: "structures.csv".into(),
        line: 3,
        message: vigie_tabular::words!(
            "SIRET 73282932000075 invalide (clé de contrôle)",
            "invalid SIRET 73282932000075 (check digit)"
        ),
    };
    assert_eq!(
        e.to_string(),
        "structures.csv:3: SIRET 73282932000075 invalide (clé de contrôle)"
    );
    assert_eq!(
        e.line_in(true),
        "structures.csv:3: invalid SIRET 73282932000075 (check digit)"
    );
}

#[test]
fn bad_siret_is_reported_with_its_line() {
    let s = S_OK.replace("73282932000074", "73282932000075");
    assert_eq!(
        errors(&with_rows(&s, P_OK, F_OK, H_OK)),
        ["structures.csv:3: SIRET 73282932000075 invalide (clé de contrôle)"]
    );
}

#[test]
fn a_broken_structure_does_not_cascade_to_its_people() {
    // S1 has a bad SIRET but its id is valid: people, functions and holdings
    // referring to it must not add "unknown structure" errors.
    let s = S_OK.replace("73282932000074", "1234");
    let errs = errors(&with_rows(&s, P_OK, F_OK, H_OK));
    assert_eq!(errs.len(), 1, "{errs:#?}");
    assert!(errs[0].starts_with("structures.csv:3: SIRET « 1234 »"), "{errs:#?}");
}

#[test]
fn structures_file_is_required() {
    for content in ["", "\u{feff}", "  \n\n"] {
        let mut f = base();
        f.structures = content.as_bytes().to_vec();
        let errs = errors(&f);
        assert_eq!(
            errs[0],
            "structures.csv:1: fichier vide ou absent : il doit commencer par l'en-tête \
             « structure_id,name,network,legal_form,siret,rna,region_code,department_code,commune_insee »"
        );
        // Without structures.csv no reference can be judged: no cascade.
        assert_eq!(errs.len(), 1, "{errs:#?}");
    }
}

#[test]
fn other_files_may_be_absent_or_header_only() {
    let set = parsed(&files(&format!("{S_H}{S_OK}"), "", "", ""));
    assert_eq!(set.len(), 2);
    assert!(set
        .inventories()
        .iter()
        .all(|i| i.people.is_empty() && i.functions.is_empty()));

    let set = parsed(&files(&format!("{S_H}{S_OK}"), P_H, F_H, H_H));
    assert!(set
        .inventories()
        .iter()
        .all(|i| i.people.is_empty() && i.holdings.is_empty()));
}

#[test]
fn header_only_structures_gives_an_empty_set() {
    assert_eq!(parsed(&files(S_H, "", "", "")).inventories(), vec![]);
}

#[test]
fn wrong_header_names_the_expected_one() {
    let mut f = base();
    f.people = format!("person_id,structure,display_name,role,end_date,email\n{P_OK}").into_bytes();
    let errs = errors(&f);
    assert_eq!(
        errs,
        [
            "people.csv:1: en-tête invalide : attendu « person_id,structure_id,display_name,role,end_date,email », \
          trouvé « person_id,structure,display_name,role,end_date,email »"
        ]
    );
    // Holdings reference people: with people.csv unreadable they are not
    // reported as unknown persons (one root cause, one error).
}

#[test]
fn missing_column_in_header_is_an_error() {
    let mut f = base();
    f.holdings = format!("person_id,function,level\n{H_OK}").into_bytes();
    let errs = errors(&f);
    assert_eq!(
        errs,
        [
            "holdings.csv:1: en-tête invalide : attendu « person_id,function,level,last_practised », \
          trouvé « person_id,function,level »"
        ]
    );
}

#[test]
fn semicolon_separated_file_gets_a_hint() {
    let mut f = base();
    f.functions = b"structure_id;function;criticality;tools\nS1;payroll;;\n".to_vec();
    let errs = errors(&f);
    assert_eq!(errs.len(), 1, "{errs:#?}");
    assert!(
        errs[0].ends_with("le séparateur doit être la virgule, pas le point-virgule"),
        "{errs:#?}"
    );
}

#[test]
fn broken_functions_header_does_not_cascade_to_holdings() {
    let mut f = base();
    f.functions = b"structure_id,code,criticality,tools\nS1,payroll,,\n".to_vec();
    let errs = errors(&f);
    assert_eq!(errs.len(), 1, "{errs:#?}");
    assert!(errs[0].starts_with("functions.csv:1: en-tête invalide"));
}

#[test]
fn bom_is_accepted_in_every_file() {
    let bom = "\u{feff}";
    let f = files(
        &format!("{bom}{S_H}{S_OK}"),
        &format!("{bom}{P_H}{P_OK}"),
        &format!("{bom}{F_H}{F_OK}"),
        &format!("{bom}{H_H}{H_OK}"),
    );
    assert_eq!(parsed(&f), parsed(&base()));
}

#[test]
fn blank_lines_are_skipped_and_lines_stay_physical() {
    let s = format!(
        "\n{S_H}\n   \nS1,Asso,reseau-x,association,,,53,35,35238\n,,,,,,,,\n\nS2,Asso 2,reseau-x,association,,,53,35,3523\n"
    );
    // Line 1 blank, header line 2, blank 3 and 4, S1 line 5, ",,,," line 6,
    // blank 7, S2 line 8.
    let errs = errors(&files(&s, "", "", ""));
    assert_eq!(errs.len(), 1, "{errs:#?}");
    assert!(
        errs[0].starts_with("structures.csv:8: code commune INSEE « 3523 » invalide"),
        "{errs:#?}"
    );
}

#[test]
fn crlf_line_endings_are_accepted() {
    let f = base();
    // With blank CRLF lines too: line numbers must stay physical.
    let s = format!("{S_H}\n\nS1,Asso,reseau-x,association,,,53,35,3523\n");
    let errs = errors(&CsvSetFiles {
        structures: s.replace('\n', "\r\n").into_bytes(),
        ..CsvSetFiles::default()
    });
    assert_eq!(errs.len(), 1, "{errs:#?}");
    assert!(errs[0].starts_with("structures.csv:4: "), "{errs:#?}");

    let crlf = |b: &[u8]| String::from_utf8_lossy(b).replace('\n', "\r\n").into_bytes();
    let g = CsvSetFiles {
        structures: crlf(&f.structures),
        people: crlf(&f.people),
        functions: crlf(&f.functions),
        holdings: crlf(&f.holdings),
    };
    assert_eq!(parsed(&g), parsed(&f));
}

#[test]
fn quoting_commas_quotes_and_spaces() {
    // RFC 4180: a quoted value starts with its quote; spaces after the closing
    // quote and around unquoted values are trimmed.
    let s = "S1 ,\" Compagnie \"\"Les Inattendus\"\", Rennes\"  ,  reseau-bretagne\u{a0},association,,,53,35,35238\n";
    let set = parsed(&files(&format!("{S_H}{s}"), "", "", "")).inventories();
    let st = &set[0].structure;
    assert_eq!(st.id, "S1");
    assert_eq!(st.name, "Compagnie \"Les Inattendus\", Rennes");
    assert_eq!(st.network, "reseau-bretagne", "non-breaking space trimmed too");
}

#[test]
fn multi_line_quoted_value_is_an_error_at_its_first_line() {
    let s =
        "S1,\"Asso\nsur deux lignes\",reseau-x,association,,,53,35,35238\nS2,Asso,reseau-x,association,,,53,35,352\n";
    let errs = errors(&files(&format!("{S_H}{s}"), "", "", ""));
    assert_eq!(errs.len(), 2, "{errs:#?}");
    assert!(
        errs[0].starts_with("structures.csv:2: colonne « name » : caractère de contrôle interdit"),
        "{errs:#?}"
    );
    // The next row starts on physical line 4.
    assert!(errs[1].starts_with("structures.csv:4: code commune INSEE"), "{errs:#?}");
}

#[test]
fn wrong_column_count() {
    let s = "S1,Asso,reseau-x,association,,,53,35\nS2,Asso, Rennes,reseau-x,association,,,53,35,35238\n";
    let errs = errors(&files(&format!("{S_H}{s}"), "", "", ""));
    assert_eq!(
        errs,
        [
            "structures.csv:2: 8 colonnes au lieu de 9 (en-tête : \
             structure_id,name,network,legal_form,siret,rna,region_code,department_code,commune_insee)",
            "structures.csv:3: 10 colonnes au lieu de 9 (en-tête : \
             structure_id,name,network,legal_form,siret,rna,region_code,department_code,commune_insee) ; \
             une valeur contenant une virgule doit être entre guillemets",
        ]
    );
}

#[test]
fn non_utf8_file_is_one_error_at_the_first_bad_line() {
    let mut f = base();
    let mut people = format!("{P_H}P1,S1,Camille,director,,\n").into_bytes();
    people.extend_from_slice(b"P2,S1,L\xe9a,employee,,\nP3,S1,Z\xe9,employee,,\n");
    f.people = people;
    let errs = errors(&f);
    assert_eq!(
        errs,
        [
            "people.csv:3: le fichier n'est pas encodé en UTF-8 (caractère invalide sur cette ligne) : \
          enregistrez-le au format « CSV UTF-8 »"
        ]
    );
}

#[test]
fn structure_field_rules() {
    let s = "\
S1,,reseau-x,asso,,,53,35,35238
S2,Asso,,association,,w351234567,05,20,2A004
S3,Asso,reseau-x,association,,,53,35,31555
S4,Asso,reseau-x,scic,35600000000048,,94,2A,2A004
S5,Asso,reseau-x,mutual,,,,,
";
    let errs = errors(&files(&format!("{S_H}{s}"), "", "", ""));
    assert_eq!(
        errs,
        [
            "structures.csv:2: colonne « name » vide (valeur obligatoire)",
            "structures.csv:2: forme juridique « asso » inconnue (attendu : association, scop, scic, mutual, foundation, esus_company)",
            "structures.csv:3: colonne « network » vide (identifiant obligatoire)",
            "structures.csv:3: numéro RNA « w351234567 » invalide (attendu : W majuscule suivi de 9 caractères, ex. W351234567 ou W2A1001234)",
            "structures.csv:3: code région « 05 » invalide (attendu : un des 18 codes de région actuels : 01, 02, 03, 04, 06, 11, 24, 27, 28, 32, 44, 52, 53, 75, 76, 84, 93, 94)",
            "structures.csv:3: code département « 20 » invalide (attendu : 01 à 95 (sauf 20 : la Corse s'écrit 2A ou 2B), 2A, 2B ou 971 à 976)",
            "structures.csv:4: la commune 31555 n'est pas dans le département 35 (son code devrait commencer par 35)",
            "structures.csv:6: colonne « region_code » vide (valeur obligatoire)",
            "structures.csv:6: colonne « department_code » vide (valeur obligatoire)",
            "structures.csv:6: colonne « commune_insee » vide (valeur obligatoire)",
        ]
    );
}

#[test]
fn id_rules_apply_to_every_id_column() {
    let long = "S".repeat(101);
    let s = format!("{long},Asso,reseau-x,association,,,53,35,35238\n,Asso,reseau-x,association,,,53,35,35238\nS\u{7}1,Asso,reseau-x,association,,,53,35,35238\n");
    let errs = errors(&files(&format!("{S_H}{s}"), "", "", ""));
    assert_eq!(
        errs,
        [
            "structures.csv:2: colonne « structure_id » : valeur trop longue (101 caractères, 100 au maximum)",
            "structures.csv:3: colonne « structure_id » vide (identifiant obligatoire)",
            "structures.csv:4: colonne « structure_id » : caractère de contrôle interdit (retour à la ligne, tabulation…) dans « S\\u{7}1 »",
        ]
    );
    let errs = errors(&with_rows(S_OK, ",S1,X,director,,\n", "", ",payroll,3,\n"));
    assert_eq!(
        errs,
        [
            "people.csv:2: colonne « person_id » vide (identifiant obligatoire)",
            "holdings.csv:2: colonne « person_id » vide (identifiant obligatoire)",
        ]
    );
}

#[test]
fn people_field_rules() {
    let p = "\
P1,S9,Camille,director,,
P2,S1,,directeur,30/06/2026,camille
P3,S1,Léa,employee,2026-02-30,a@b.fr
";
    let errs = errors(&with_rows(S_OK, p, "", ""));
    assert_eq!(
        errs,
        [
            "people.csv:2: structure « S9 » inconnue (absente de structures.csv)",
            "people.csv:3: colonne « display_name » vide (valeur obligatoire)",
            "people.csv:3: rôle « directeur » inconnu (attendu : director, employee, volunteer, board_member, facilitator, contractor)",
            "people.csv:3: colonne « end_date » : date « 30/06/2026 » invalide (format attendu AAAA-MM-JJ, ex. 2026-06-30)",
            "people.csv:3: colonne « email » : adresse « camille » invalide (attendu : une seule adresse, ex. prenom.nom@exemple.fr)",
            "people.csv:4: colonne « end_date » : la date 2026-02-30 n'existe pas",
        ]
    );
}

#[test]
fn function_field_rules() {
    let f = "\
S1,payroll,4,
S1,billetterie,,
S1,Paie,2,
S9,accounting,,
S2,scheduling,0,
S2,communication,,Site;Facebook\tpage
";
    let errs = errors(&with_rows(S_OK, P_OK, f, ""));
    assert_eq!(
        errs,
        [
            "functions.csv:2: criticité « 4 » invalide (attendu : 1, 2 ou 3)",
            "functions.csv:3: fonction « billetterie » hors catalogue : sa criticité est obligatoire (1, 2 ou 3)",
            "functions.csv:4: code de fonction « Paie » invalide (attendu : lettres minuscules sans accent, chiffres et _, ex. payroll)",
            "functions.csv:5: structure « S9 » inconnue (absente de structures.csv)",
            "functions.csv:6: criticité « 0 » invalide (attendu : 1, 2 ou 3)",
            "functions.csv:7: colonne « tools » : caractère de contrôle interdit (retour à la ligne, tabulation…) dans « Facebook\\tpage »",
        ]
    );
}

#[test]
fn explicit_criticality_overrides_the_catalogue() {
    let set = parsed(&with_rows(S_OK, "", "S2,communication,3,\n", ""));
    assert_eq!(set.inventories()[1].functions[0].criticality, 3);
}

#[test]
fn holding_field_rules() {
    let h = "\
P1,payroll,5,
P9,payroll,3,
P2,payroll,3,
P3,payroll,three,2026-13-01
P1,billetterie,,
";
    let errs = errors(&with_rows(S_OK, P_OK, F_OK, h));
    assert_eq!(
        errs,
        [
            "holdings.csv:2: niveau « 5 » invalide (attendu : 0, 1, 2, 3 ou 4)",
            "holdings.csv:3: personne « P9 » inconnue (absente de people.csv)",
            // payroll is declared for S1 only; P2 belongs to S2.
            "holdings.csv:4: fonction « payroll » non déclarée dans functions.csv pour la structure « S2 » de « P2 »",
            "holdings.csv:5: niveau « three » invalide (attendu : 0, 1, 2, 3 ou 4)",
            "holdings.csv:5: colonne « last_practised » : la date 2026-13-01 n'existe pas",
            "holdings.csv:6: colonne « level » vide (niveau obligatoire : 0, 1, 2, 3 ou 4)",
        ]
    );
}

#[test]
fn impossible_last_practised_date() {
    let errs = errors(&with_rows(S_OK, P_OK, F_OK, "P1,payroll,3,2025-04-31\n"));
    assert_eq!(
        errs,
        ["holdings.csv:2: colonne « last_practised » : la date 2025-04-31 n'existe pas"]
    );
}

#[test]
fn duplicates_name_the_first_line() {
    let s = format!("{S_OK}S1,Autre,reseau-x,association,,,53,35,35238\n");
    let p = format!("{P_OK}P1,S2,Autre,volunteer,,\n");
    let f = format!("{F_OK}S1,payroll,,\n");
    let h = format!("{H_OK}P1,payroll,1,\n");
    let errs = errors(&with_rows(&s, &p, &f, &h));
    assert_eq!(
        errs,
        [
            "structures.csv:4: structure_id « S1 » en double (déjà défini ligne 3)",
            "people.csv:5: person_id « P1 » en double (déjà défini ligne 2)",
            "functions.csv:5: fonction « payroll » en double pour la structure « S1 » (déjà déclarée ligne 2)",
            "holdings.csv:6: niveau de « P1 » sur « payroll » en double (déjà donné ligne 3)",
        ]
    );
}

#[test]
fn same_function_in_two_structures_is_not_a_duplicate() {
    let set = parsed(&with_rows(
        S_OK,
        P_OK,
        "S1,payroll,,\nS2,payroll,,\n",
        "P1,payroll,3,\nP2,payroll,3,\n",
    ));
    assert_eq!(set.inventories()[0].holdings.len(), 1);
    assert_eq!(set.inventories()[1].holdings.len(), 1);
}

#[test]
fn every_error_of_every_file_in_file_then_line_order() {
    let s = S_OK.replace("73282932000074", "73282932000075");
    let p = format!("{P_OK}P4,S3,Zoé,volunteer,,\n");
    let f = format!("{F_OK}S2,custom_thing,,\n");
    let h = format!("{H_OK}P1,payroll,9,\nP3,billetterie,3,2025-02-29\n");
    let got = parse_set(&with_rows(&s, &p, &f, &h)).unwrap_err();
    let summary: Vec<(&str, u64)> = got.iter().map(|e| (e.file.as_str(), e.line)).collect();
    assert_eq!(
        summary,
        [
            ("structures.csv", 3),
            ("people.csv", 5),
            ("functions.csv", 5),
            ("holdings.csv", 6),
            ("holdings.csv", 6),
            ("holdings.csv", 7),
        ]
    );
}

#[test]
fn file_mut_maps_the_four_names() {
    let mut f = CsvSetFiles::default();
    for (name, byte) in [
        (STRUCTURES_FILE, b's'),
        (PEOPLE_FILE, b'p'),
        (FUNCTIONS_FILE, b'f'),
        (HOLDINGS_FILE, b'h'),
    ] {
        f.file_mut(name).unwrap().push(byte);
    }
    assert!(f.file_mut("other.csv").is_none());
    assert_eq!(f, files("s", "p", "f", "h"));
}

#[test]
fn headers_match_the_constants() {
    for (header, line) in [
        (&STRUCTURES_HEADER[..], S_H),
        (&PEOPLE_HEADER[..], P_H),
        (&FUNCTIONS_HEADER[..], F_H),
        (&HOLDINGS_HEADER[..], H_H),
    ] {
        assert_eq!(format!("{}\n", header.join(",")), line);
    }
}

/// Random and mutated sets (one file of the valid set damaged at a time):
/// never a panic, and every error is `FILE:LINE: message` naming one of the
/// four files.
#[test]
fn hostile_sets_never_panic_and_errors_are_positioned() {
    let bodies = [
        format!("{S_H}{S_OK}"),
        format!("{P_H}{P_OK}"),
        format!("{F_H}{F_OK}"),
        format!("{H_H}{H_OK}"),
    ];
    let valid: Vec<&[u8]> = bodies.iter().map(|body| body.as_bytes()).collect();
    let mut index = 0;
    vigie_mutate::for_each_case(0x5E7, &valid, 400, |damaged| {
        let mut set = files(&bodies[0], &bodies[1], &bodies[2], &bodies[3]);
        let slot = match index % 4 {
            0 => &mut set.structures,
            1 => &mut set.people,
            2 => &mut set.functions,
            _ => &mut set.holdings,
        };
        index += 1;
        *slot = damaged.to_vec();
        if let Err(errors) = parse_set(&set) {
            assert!(!errors.is_empty());
            for error in errors {
                assert!(
                    [STRUCTURES_FILE, PEOPLE_FILE, FUNCTIONS_FILE, HOLDINGS_FILE].contains(&error.file.as_str()),
                    "{error}"
                );
                assert!(error.line >= 1, "{error}");
                assert!(!error.message.is_empty(), "{error}");
                assert!(
                    !error.message.en.is_empty() && error.message.en != error.message.fr,
                    "every message has its English form: {error}"
                );
            }
        }
    });
}

/// A huge cell is repeated cut short: a thousand refused rows must not make
/// a message a thousand times the size of the cell.
#[test]
fn a_huge_cell_is_cut_in_its_message() {
    let role = "x".repeat(100_000);
    let p = P_OK.replace("director", &role);
    let found = errors(&with_rows(S_OK, &p, F_OK, H_OK));
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].starts_with("people.csv:2: rôle « xxx"), "{}", &found[0][..60]);
    assert!(found[0].contains("x… » inconnu"), "cut with …");
    assert!(found[0].len() < 300, "{} bytes", found[0].len());
}
