use super::*;
use crate::fixtures::date;

const H: &str = "facilitator_id,display_name,kind,employer_structure_id,served_structures,territory_codes,functions,\
                 weekly_hours,internal_share,funding_programme,funding_end\n";

/// A valid row, to vary one cell at a time.
const ROW: [&str; 11] = [
    "F9",
    "Awa Diallo",
    "conseiller_numerique",
    "S1",
    "S2;S3",
    "35238;243500139;35",
    "payroll;cantine_2",
    "35",
    "0.3",
    "France Services",
    "2027-06-30",
];

/// `row` with cell `col` replaced by `value`, as a CSV line (every cell quoted).
fn vary(row: &[&str], col: usize, value: &str) -> String {
    let cells: Vec<String> = row
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let c = if i == col { value } else { c };
            format!("\"{}\"", c.replace('"', "\"\""))
        })
        .collect();
    format!("{}\n", cells.join(","))
}

fn errors(body: &str) -> Vec<String> {
    match parse_facilitators(body.as_bytes()) {
        Ok(f) => panic!("expected errors, parsed {} facilitators", f.len()),
        Err(errs) => errs.iter().map(ToString::to_string).collect(),
    }
}

fn parsed(body: &str) -> Vec<Facilitator> {
    match parse_facilitators(body.as_bytes()) {
        Ok(f) => f,
        Err(errs) => panic!("unexpected errors: {errs:#?}"),
    }
}

/// The single facilitator of a file made of the valid row with one cell changed.
fn one(col: usize, value: &str) -> Facilitator {
    let mut all = parsed(&format!("{H}{}", vary(&ROW, col, value)));
    assert_eq!(all.len(), 1);
    all.remove(0)
}

/// The errors of a file made of the valid row with one cell changed (line 2).
fn errors_of(col: usize, value: &str) -> Vec<String> {
    errors(&format!("{H}{}", vary(&ROW, col, value)))
}

#[test]
fn a_valid_file_is_parsed_and_sorted_by_id() {
    let body = format!(
        "{H}\
         F2,Léo Martin,mediateur,,,22,,\"17,5\",30 %,,\n\
         {}\
         F10,Chloé Petit,trusted_peer,S4,,,accounts_access,1,1,,\n",
        vary(&ROW, 0, "F1")
    );
    let all = parsed(&body);
    let ids: Vec<&str> = all.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(ids, ["F1", "F10", "F2"], "byte order");
    assert_eq!(
        all[0],
        Facilitator {
            id: "F1".to_owned(),
            display_name: "Awa Diallo".to_owned(),
            kind: FacilitatorKind::ConseillerNumerique,
            employer_structure_id: Some("S1".to_owned()),
            served_structures: vec!["S2".to_owned(), "S3".to_owned()],
            territory_codes: vec!["35238".to_owned(), "243500139".to_owned(), "35".to_owned()],
            functions: vec!["payroll".to_owned(), "cantine_2".to_owned()],
            weekly_minutes: 2100,
            internal_share: 0.3,
            funding_programme: "France Services".to_owned(),
            funding_end: Some(date(2027, 6, 30)),
        }
    );
    assert_eq!(
        all[2],
        Facilitator {
            id: "F2".to_owned(),
            display_name: "Léo Martin".to_owned(),
            kind: FacilitatorKind::Mediateur,
            employer_structure_id: None,
            served_structures: vec![],
            territory_codes: vec!["22".to_owned()],
            functions: vec![],
            weekly_minutes: 1050,
            internal_share: 0.3,
            funding_programme: String::new(),
            funding_end: None,
        }
    );
    assert_eq!(all[1].kind, FacilitatorKind::TrustedPeer);
    assert_eq!(all[1].weekly_minutes, 60);
    assert_eq!(all[1].internal_share, 1.0);
}

#[test]
fn every_kind_is_accepted() {
    for &k in FacilitatorKind::ALL {
        assert_eq!(one(2, k.as_str()).kind, k);
    }
}

#[test]
fn header_and_empty_file_use_the_shared_reader_messages() {
    assert_eq!(
        errors(""),
        ["facilitators.csv:1: fichier vide ou absent : il doit commencer par l'en-tête « facilitator_id,display_name,\
          kind,employer_structure_id,served_structures,territory_codes,functions,weekly_hours,internal_share,\
          funding_programme,funding_end »"]
    );
    assert_eq!(
        errors("facilitator_id,display_name\nF1,x\n"),
        [
            "facilitators.csv:1: en-tête invalide : attendu « facilitator_id,display_name,kind,employer_structure_id,\
          served_structures,territory_codes,functions,weekly_hours,internal_share,funding_programme,funding_end », \
          trouvé « facilitator_id,display_name »"
        ]
    );
    assert_eq!(parsed(H), vec![], "a header alone is an empty list");
    assert_eq!(
        errors(&format!("{H}F1,Nom,mediateur\n")),
        [
            "facilitators.csv:2: 3 colonnes au lieu de 11 (en-tête : facilitator_id,display_name,kind,\
          employer_structure_id,served_structures,territory_codes,functions,weekly_hours,internal_share,\
          funding_programme,funding_end)"
        ]
    );
}

#[test]
fn mandatory_cells() {
    assert_eq!(
        errors_of(0, ""),
        ["facilitators.csv:2: colonne « facilitator_id » vide (identifiant obligatoire)"]
    );
    assert_eq!(
        errors_of(1, ""),
        ["facilitators.csv:2: colonne « display_name » vide (valeur obligatoire)"]
    );
    assert_eq!(
        errors_of(2, ""),
        [
            "facilitators.csv:2: colonne « kind » vide (type obligatoire : conseiller_numerique, mediateur, \
          coordinateur, internal_referent ou trusted_peer)"
        ]
    );
    assert_eq!(
        errors_of(7, ""),
        [
            "facilitators.csv:2: colonne « weekly_hours » vide (temps de travail hebdomadaire obligatoire, en heures, \
          ex. 35 ou 17.5)"
        ]
    );
    assert_eq!(
        errors_of(8, ""),
        [
            "facilitators.csv:2: colonne « internal_share » vide (part du temps réservée au soutien interne \
          obligatoire, ex. 0.3 ou 30%)"
        ]
    );
}

#[test]
fn unknown_kind_lists_the_codes() {
    assert_eq!(
        errors_of(2, "Conseiller numérique"),
        ["facilitators.csv:2: type d'accompagnant « Conseiller numérique » inconnu (attendu : conseiller_numerique, \
          mediateur, coordinateur, internal_referent, trusted_peer)"]
    );
}

#[test]
fn optional_cells_may_be_empty() {
    let f = one(3, "");
    assert_eq!(f.employer_structure_id, None);
    assert_eq!(one(4, "").served_structures, Vec::<String>::new());
    assert_eq!(one(5, "").territory_codes, Vec::<String>::new());
    assert_eq!(one(6, "").functions, Vec::<String>::new());
    assert_eq!(one(9, "").funding_programme, "");
    assert_eq!(one(10, "").funding_end, None);
}

#[test]
fn ids_and_texts_are_bounded() {
    assert_eq!(
        errors_of(0, &"x".repeat(101)),
        ["facilitators.csv:2: colonne « facilitator_id » : valeur trop longue (101 caractères, 100 au maximum)"]
    );
    assert_eq!(
        errors_of(3, &"s".repeat(101)),
        ["facilitators.csv:2: colonne « employer_structure_id » : valeur trop longue (101 caractères, 100 au maximum)"]
    );
    assert_eq!(
        errors_of(1, "Awa\tDiallo"),
        [
            "facilitators.csv:2: colonne « display_name » : caractère de contrôle interdit (retour à la ligne, \
          tabulation…) dans « Awa\\tDiallo »"
        ]
    );
    assert_eq!(
        errors_of(9, &"p".repeat(201)),
        ["facilitators.csv:2: colonne « funding_programme » : valeur trop longue (201 caractères, 200 au maximum)"]
    );
}

#[test]
fn lists_are_trimmed_deduplicated_and_drop_empty_items() {
    assert_eq!(one(4, " S2 ;;S3; S2 ;\u{a0};").served_structures, ["S2", "S3"]);
    assert_eq!(one(5, "35;35238 ; 35").territory_codes, ["35", "35238"]);
    assert_eq!(one(6, ";payroll;payroll;invoicing").functions, ["payroll", "invoicing"]);
    assert_eq!(one(4, ";").served_structures, Vec::<String>::new());
}

#[test]
fn list_items_are_validated_one_message_each() {
    assert_eq!(
        errors_of(4, &format!("S2;{};S3", "s".repeat(101))),
        ["facilitators.csv:2: colonne « served_structures » : valeur trop longue (101 caractères, 100 au maximum)"]
    );
    assert_eq!(
        errors_of(6, "payroll;Paie;compta-2;Paie"),
        [
            "facilitators.csv:2: colonne « functions » : code de fonction « Paie » invalide (attendu : lettres \
             minuscules sans accent, chiffres et _, ex. payroll)",
            "facilitators.csv:2: colonne « functions » : code de fonction « compta-2 » invalide (attendu : lettres \
             minuscules sans accent, chiffres et _, ex. payroll)",
        ]
    );
    assert_eq!(
        errors_of(6, &"a".repeat(101)),
        ["facilitators.csv:2: colonne « functions » : code de fonction trop long (101 caractères, 100 au maximum)"]
    );
}

#[test]
fn custom_and_catalogue_functions_are_accepted() {
    assert_eq!(
        one(6, "funding_applications;cantine_planning").functions,
        ["funding_applications", "cantine_planning"]
    );
}

#[test]
fn territory_codes_of_each_kind() {
    assert_eq!(
        one(5, "2A004;97411;200054781;2B;974").territory_codes,
        ["2A004", "97411", "200054781", "2B", "974"]
    );
    assert_eq!(
        errors_of(5, "35238;243500138;3523X;20;1234;35"),
        [
            "facilitators.csv:2: colonne « territory_codes » (EPCI) : SIREN 243500138 invalide (clé de contrôle)",
            "facilitators.csv:2: colonne « territory_codes » (commune) : code commune INSEE « 3523X » invalide \
             (attendu : 5 caractères : code département (01 à 95, 2A, 2B) puis 3 chiffres, ou 971 à 978 / 984 à 989 \
             puis 2 chiffres, ex. 35238)",
            "facilitators.csv:2: colonne « territory_codes » (département) : code département « 20 » invalide \
             (attendu : 01 à 95 (sauf 20 : la Corse s'écrit 2A ou 2B), 2A, 2B ou 971 à 976)",
            "facilitators.csv:2: colonne « territory_codes » : code de territoire « 1234 » non reconnu (attendu : \
             code commune INSEE à 5 caractères, SIREN d'EPCI à 9 chiffres ou code département à 2 ou 3 caractères, \
             ex. 35238, 243500139 ou 35)",
        ]
    );
}

#[test]
fn epci_siren_must_pass_luhn() {
    // 243500139 (Rennes Métropole) is Luhn-valid; changing its key breaks it.
    assert_eq!(one(5, "243500139").territory_codes, ["243500139"]);
    for key in 0..=9 {
        let code = format!("24350013{key}");
        if key == 9 {
            continue;
        }
        assert_eq!(
            errors_of(5, &code),
            [format!(
                "facilitators.csv:2: colonne « territory_codes » (EPCI) : SIREN {code} invalide (clé de contrôle)"
            )],
        );
    }
    assert_eq!(
        errors_of(5, "243 500 139"),
        [
            "facilitators.csv:2: colonne « territory_codes » : code de territoire « 243 500 139 » non reconnu \
          (attendu : code commune INSEE à 5 caractères, SIREN d'EPCI à 9 chiffres ou code département à 2 ou 3 \
          caractères, ex. 35238, 243500139 ou 35)"
        ]
    );
}

#[test]
fn weekly_hours_accept_both_decimal_separators() {
    assert_eq!(one(7, "35").weekly_minutes, 2100);
    assert_eq!(one(7, "17.5").weekly_minutes, 1050);
    assert_eq!(one(7, "17,5").weekly_minutes, 1050);
    assert_eq!(one(7, "7,25").weekly_minutes, 435);
    assert_eq!(one(7, "0.1").weekly_minutes, 6);
    assert_eq!(one(7, "60").weekly_minutes, 3600, "the maximum is included");
    assert_eq!(one(7, "60.00").weekly_minutes, 3600);
}

#[test]
fn weekly_hours_out_of_range_or_malformed() {
    for bad in [
        "0", "0.0", "60.01", "61", "-5", "+35", "35h", "1e1", "NaN", "inf", "35.", ".5", "1.2.3", "17.33",
    ] {
        assert_eq!(
            errors_of(7, bad),
            [format!(
                "facilitators.csv:2: heures hebdomadaires « {bad} » invalides (attendu : un nombre d'heures \
                 supérieur à 0 et au plus 60, à la minute près, ex. 35, 17.5 ou 7,25)"
            )],
            "{bad}"
        );
    }
}

#[test]
fn internal_share_as_decimal() {
    assert_eq!(one(8, "0").internal_share, 0.0);
    assert_eq!(one(8, "1").internal_share, 1.0);
    assert_eq!(one(8, "0.25").internal_share, 0.25);
    assert_eq!(one(8, "0,25").internal_share, 0.25);
    assert_eq!(one(8, "1.0").internal_share, 1.0);
}

#[test]
fn internal_share_as_percentage() {
    assert_eq!(one(8, "30%").internal_share, 0.3);
    assert_eq!(one(8, "30 %").internal_share, 0.3);
    assert_eq!(one(8, "30\u{202f}%").internal_share, 0.3, "narrow no-break space");
    assert_eq!(one(8, "12,5 %").internal_share, 0.125);
    assert_eq!(one(8, "0%").internal_share, 0.0);
    assert_eq!(one(8, "100%").internal_share, 1.0);
    // The percentage and the decimal give the same minutes.
    assert_eq!(one(8, "29%").internal_share, one(8, "0.29").internal_share);
}

#[test]
fn internal_share_out_of_range_or_malformed() {
    for bad in [
        "1.01",
        "2",
        "-0.1",
        "100.5%",
        "150%",
        "%",
        "30%%",
        "0.3%x",
        "trente",
        "30 pourcent",
        ",3",
    ] {
        assert_eq!(
            errors_of(8, bad),
            [format!(
                "facilitators.csv:2: part interne « {bad} » invalide (attendu : un nombre entre 0 et 1 ou un \
                 pourcentage entre 0 % et 100 %, ex. 0.3, 0,25 ou 30%)"
            )],
            "{bad}"
        );
    }
}

#[test]
fn funding_end_is_a_strict_date() {
    assert_eq!(one(10, "2028-02-29").funding_end, Some(date(2028, 2, 29)));
    assert_eq!(
        errors_of(10, "30/06/2027"),
        [
            "facilitators.csv:2: colonne « funding_end » : date « 30/06/2027 » invalide (format attendu AAAA-MM-JJ, \
          ex. 2026-06-30)"
        ]
    );
    assert_eq!(
        errors_of(10, "2027-02-29"),
        ["facilitators.csv:2: colonne « funding_end » : la date 2027-02-29 n'existe pas"]
    );
}

#[test]
fn duplicate_ids_name_the_first_line() {
    let body = format!(
        "{H}{}\n{}{}{}",
        vary(&ROW, 0, "F1"),
        vary(&ROW, 0, "F2"),
        vary(&ROW, 0, "F1"),
        vary(&ROW, 0, "F1"),
    );
    assert_eq!(
        errors(&body),
        [
            "facilitators.csv:5: facilitator_id « F1 » en double (déjà défini ligne 2)",
            "facilitators.csv:6: facilitator_id « F1 » en double (déjà défini ligne 2)",
        ]
    );
}

#[test]
fn a_duplicate_of_an_invalid_row_is_still_a_duplicate() {
    let body = format!("{H}{}{}", vary(&ROW, 7, "0"), vary(&ROW, 1, ""));
    assert_eq!(
        errors(&body),
        [
            "facilitators.csv:2: heures hebdomadaires « 0 » invalides (attendu : un nombre d'heures supérieur à 0 et \
             au plus 60, à la minute près, ex. 35, 17.5 ou 7,25)",
            "facilitators.csv:3: facilitator_id « F9 » en double (déjà défini ligne 2)",
            "facilitators.csv:3: colonne « display_name » vide (valeur obligatoire)",
        ]
    );
}

#[test]
fn every_error_of_every_row_in_line_then_column_order() {
    let bad_row = ["", "", "chef", "", "", "99", "Paie", "0", "2", "", "demain"];
    let body = format!(
        "{H}{}{}{}",
        vary(&ROW, 0, "F1"),
        vary(&bad_row, 99, ""),
        vary(&ROW, 5, "3523X"),
    );
    assert_eq!(
        errors(&body),
        [
            "facilitators.csv:3: colonne « facilitator_id » vide (identifiant obligatoire)",
            "facilitators.csv:3: colonne « display_name » vide (valeur obligatoire)",
            "facilitators.csv:3: type d'accompagnant « chef » inconnu (attendu : conseiller_numerique, mediateur, \
             coordinateur, internal_referent, trusted_peer)",
            "facilitators.csv:3: colonne « territory_codes » (département) : code département « 99 » invalide \
             (attendu : 01 à 95 (sauf 20 : la Corse s'écrit 2A ou 2B), 2A, 2B ou 971 à 976)",
            "facilitators.csv:3: colonne « functions » : code de fonction « Paie » invalide (attendu : lettres \
             minuscules sans accent, chiffres et _, ex. payroll)",
            "facilitators.csv:3: heures hebdomadaires « 0 » invalides (attendu : un nombre d'heures supérieur à 0 et \
             au plus 60, à la minute près, ex. 35, 17.5 ou 7,25)",
            "facilitators.csv:3: part interne « 2 » invalide (attendu : un nombre entre 0 et 1 ou un pourcentage \
             entre 0 % et 100 %, ex. 0.3, 0,25 ou 30%)",
            "facilitators.csv:3: colonne « funding_end » : date « demain » invalide (format attendu AAAA-MM-JJ, \
             ex. 2026-06-30)",
            "facilitators.csv:4: colonne « territory_codes » (commune) : code commune INSEE « 3523X » invalide \
             (attendu : 5 caractères : code département (01 à 95, 2A, 2B) puis 3 chiffres, ou 971 à 978 / 984 à 989 \
             puis 2 chiffres, ex. 35238)",
        ]
    );
}

#[test]
fn all_or_nothing_one_bad_row_rejects_the_file() {
    let body = format!("{H}{}{}", vary(&ROW, 0, "F1"), vary(&ROW, 8, "120%"));
    assert!(parse_facilitators(body.as_bytes()).is_err());
}

#[test]
fn blank_lines_keep_physical_line_numbers() {
    let body = format!("{H}\n{}\n,,,,,,,,,,\n{}", vary(&ROW, 0, "F1"), vary(&ROW, 0, ""));
    assert_eq!(
        errors(&body),
        ["facilitators.csv:6: colonne « facilitator_id » vide (identifiant obligatoire)"]
    );
}

/// Random and mutated files: never a panic, every error
/// `facilitators.csv:LINE: message`.
#[test]
fn hostile_files_never_panic_and_errors_are_positioned() {
    let body = format!("{H}{}", vary(&ROW, 0, "F1"));
    vigie_mutate::for_each_case(0xFAC1, &[body.as_bytes()], 400, |damaged| {
        if let Err(errors) = parse_facilitators(damaged) {
            assert!(!errors.is_empty());
            for error in errors {
                assert_eq!(error.file, "facilitators.csv", "{error}");
                assert!(error.line >= 1 && !error.message.is_empty(), "{error}");
                assert!(
                    !error.message.en.is_empty() && error.message.en != error.message.fr,
                    "every message has its English form: {error}"
                );
            }
        }
    });
}
