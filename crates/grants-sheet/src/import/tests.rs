//! The import's parser and validator, column by column.

use chrono::NaiveDate;

use super::*;
use crate::validate::{REFUSED, WON};

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

const TODAY: (i32, u32, u32) = (2026, 12, 3);

fn today() -> NaiveDate {
    d(TODAY.0, TODAY.1, TODAY.2)
}

const HEADER: &str = "structure,financeur,intitulé,appel,date de dépôt,montant demandé,issue,date de décision,\
montant accordé,fin d'exercice,début de convention,fin de convention,référence,objet,subvention publique,clé";

fn file(rows: &[&str]) -> String {
    let mut out = String::from(HEADER);
    for row in rows {
        out.push('\n');
        out.push_str(row);
    }
    out.push('\n');
    out
}

fn parse_str(text: &str) -> Parsed {
    parse(text.as_bytes(), today())
}

/// The problems rendered as the service reports them.
fn problems(text: &str) -> Vec<String> {
    parse_str(text).problems.iter().map(|p| p.render("f.csv").fr).collect()
}

const WON_ROW: &str = "S1,Région Bretagne,Projet jardin,,15/01/2026,20 000,obtenu,01/03/2026,12 500,31/12/2026,,,CONV-1,Jardins partagés,oui,";

#[test]
fn a_won_row_is_a_decision_with_every_field() {
    let parsed = parse_str(&file(&[WON_ROW]));
    assert_eq!(parsed.problems, vec![]);
    let [row] = &parsed.rows[..] else { panic!("{parsed:?}") };
    assert_eq!(row.line, 2);
    let RowAction::Decision(g) = &row.action else { panic!() };
    assert_eq!(g.structure_id, "S1");
    assert_eq!(g.funder, "Région Bretagne");
    assert_eq!(g.title, "Projet jardin");
    assert_eq!(g.outcome, "won");
    assert_eq!(g.applied_on, Some(d(2026, 1, 15)));
    assert_eq!(g.amount_asked, 2_000_000);
    assert_eq!(g.decided_on, Some(d(2026, 3, 1)));
    assert_eq!(g.amount_granted, 1_250_000);
    assert_eq!(g.financial_year_end, Some(d(2026, 12, 31)));
    assert_eq!(g.reference, "CONV-1");
    assert_eq!(g.purpose, "Jardins partagés");
    assert_eq!(g.public_subsidy, Some(true));
    assert_eq!(
        g.idempotency_key,
        derived_key("S1", "Région Bretagne", "Projet jardin", Some(d(2026, 1, 15)))
    );
    assert!(g.idempotency_key.starts_with(DERIVED_KEY_PREFIX));
    assert!(g.idempotency_key.len() <= crate::validate::MAX_KEY_CHARS);
}

#[test]
fn an_empty_outcome_is_a_pending_application_and_refused_needs_no_amount() {
    let parsed = parse_str(&file(&[
        "S1,CAF,Accueil,,2026-02-01,5000,,,,,,,,,,",
        "S1,Fondation X,Atelier,,,,refusé,2026-05-01,,,,,,,non,k-2",
    ]));
    assert_eq!(parsed.problems, vec![]);
    let RowAction::Application(a) = &parsed.rows[0].action else {
        panic!()
    };
    assert_eq!(a.applied_on, Some(d(2026, 2, 1)));
    assert_eq!(a.amount_asked, 500_000);
    assert!(a.idempotency_key.starts_with(DERIVED_KEY_PREFIX));
    let RowAction::Decision(g) = &parsed.rows[1].action else {
        panic!()
    };
    assert_eq!(g.outcome, "refused");
    assert_eq!(g.public_subsidy, Some(false));
    assert_eq!(g.idempotency_key, "k-2");
    assert_eq!(parsed.rows[1].line, 3);
}

#[test]
fn a_row_with_a_call_needs_no_funder_nor_title_and_has_no_key() {
    let parsed = parse_str(&file(&["S1,,,C42,,,,,,,,,,,,my-key"]));
    assert_eq!(parsed.problems, vec![]);
    let RowAction::Application(a) = &parsed.rows[0].action else {
        panic!()
    };
    assert_eq!(a.call_id, "C42");
    assert_eq!(a.idempotency_key, "");
    assert_eq!(parsed.rows[0].call_id(), "C42");
    assert_eq!(parsed.rows[0].structure_id(), "S1");
}

#[test]
fn every_problem_of_every_row_is_reported_with_its_line() {
    let out = problems(&file(&[
        WON_ROW,
        ",Région,Projet,,,,,,,,,,,,,",
        "S1,Région,Projet 2,,32/01/2026,douze,gagné,,,,,,,,peut-être,",
        "S1,Région,Projet 3,,,,obtenu,,10 000,,,,,,,",
    ]));
    assert_eq!(
        out,
        vec![
            "f.csv:3: structure manquant",
            "f.csv:4: date de dépôt « 32/01/2026 » : cette date n'existe pas",
            "f.csv:4: montant demandé « douze » : attendu un montant en euros, par exemple 12500, 12 500 ou 12 500,50 €",
            "f.csv:4: issue « gagné » inconnue : vide (en attente), obtenu ou refusé",
            "f.csv:4: subvention publique « peut-être » : attendu oui ou non",
            "f.csv:5: fin d'exercice manquante (la subvention obtenue la demande)",
        ]
    );
}

#[test]
fn each_column_names_itself_in_its_problems() {
    let cases: &[(&str, &str)] = &[
        ("S1,,Projet,,,,,,,,,,,,,", "financeur manquant"),
        ("S1,Région,,,,,,,,,,,,,,", "intitulé manquant"),
        (
            &format!("{},Région,P,,,,,,,,,,,,,", "s".repeat(101)),
            "structure : au plus 100",
        ),
        (
            &format!("S1,Région,P,{},,,,,,,,,,,,", "c".repeat(101)),
            "appel : au plus 100",
        ),
        (
            &format!("S1,{},P,,,,,,,,,,,,,", "f".repeat(301)),
            "financeur : au plus 300",
        ),
        ("S1,Région,P,,2001-01-01,,,,,,,,,,,", "date de dépôt 2001-01-01"),
        ("S1,Région,P,,,-5,,,,,,,,,,", "montant demandé « -5 »"),
        (
            "S1,Région,P,,,200000000,,,,,,,,,,",
            "montant demandé : 20000000000 centimes hors bornes",
        ),
        (
            "S1,Région,P,,,,obtenu,2026-13-01,10,2026-12-31,,,,,,",
            "date de décision « 2026-13-01 »",
        ),
        (
            "S1,Région,P,,,,obtenu,,1.5.2,2026-12-31,,,,,,",
            "montant accordé « 1.5.2 »",
        ),
        ("S1,Région,P,,,,obtenu,,10,31/12,,,,,,", "fin d'exercice « 31/12 »"),
        (
            "S1,Région,P,,,,obtenu,,10,2026-12-31,2026-01-01,,,,,",
            "convention : préciser son début et sa fin",
        ),
        (
            "S1,Région,P,,,,obtenu,,10,2026-12-31,2027-01-01,2026-01-01,,,,",
            "fin de convention 2026-01-01",
        ),
        (
            "S1,Région,P,,,,obtenu,,10,2026-12-31,x,,,,,",
            "début de convention « x »",
        ),
        (
            &format!("S1,Région,P,,,,obtenu,,10,2026-12-31,,,{},,,", "r".repeat(101)),
            "référence de convention : au plus 100",
        ),
        (
            &format!("S1,Région,P,,,,obtenu,,10,2026-12-31,,,,{},,", "o".repeat(2001)),
            "objet : au plus 2000",
        ),
        (
            &format!("S1,Région,P,,,,,,,,,,,,,{}", "k".repeat(101)),
            "clé d'idempotence : au plus 100",
        ),
        (
            "S1,Région,P,,,,,,,,,,,,,\"a\tb\"",
            "clé d'idempotence : caractère de contrôle",
        ),
        (
            "S1,Région,P,,,,,,10,,,,,,,",
            "issue vide (candidature en attente) mais montant accordé renseigné",
        ),
        (
            "S1,Région,P,,,,,2026-01-01,,2026-12-31,,,,,,",
            "mais date de décision, fin d'exercice renseigné",
        ),
    ];
    for (row, expected) in cases {
        let out = problems(&file(&[row]));
        assert!(
            out.len() == 1 && out[0].starts_with("f.csv:2: ") && out[0].contains(expected),
            "{row}: {out:?} should say {expected}"
        );
    }
}

#[test]
fn french_amounts() {
    let cents = |s: &str| parse_euros(s, field::AMOUNT).unwrap();
    assert_eq!(cents(""), None);
    assert_eq!(cents("12500"), Some(1_250_000));
    assert_eq!(cents("12 500"), Some(1_250_000));
    assert_eq!(cents("12\u{a0}500,50"), Some(1_250_050));
    assert_eq!(cents("12\u{202f}500 €"), Some(1_250_000));
    assert_eq!(cents("12 500 €"), Some(1_250_000));
    assert_eq!(cents("12500€"), Some(1_250_000));
    assert_eq!(cents("12500 EUR"), Some(1_250_000));
    assert_eq!(cents("12500,5"), Some(1_250_050));
    assert_eq!(cents("12500.5"), Some(1_250_050));
    assert_eq!(cents("12500.55"), Some(1_250_055));
    assert_eq!(cents("12.500"), Some(1_250_000));
    assert_eq!(cents("1.234.567,89"), Some(123_456_789));
    assert_eq!(cents("0"), Some(0));
    for bad in [
        "-5",
        "12,555",
        "abc",
        "12 500,50,1",
        "€",
        "1e5",
        "1234567890123",
        "12.50.3",
    ] {
        let err = parse_euros(bad, field::AMOUNT_GRANTED).unwrap_err();
        assert!(err.starts_with("montant accordé « "), "{bad}: {err}");
    }
}

#[test]
fn dates_as_people_and_spreadsheets_write_them() {
    let date = |s: &str| parse_date(s, field::DUE).unwrap();
    assert_eq!(date(""), None);
    assert_eq!(date("15/01/2026"), Some(d(2026, 1, 15)));
    assert_eq!(date("5/1/2026"), Some(d(2026, 1, 5)));
    assert_eq!(date("15-01-2026"), Some(d(2026, 1, 15)));
    assert_eq!(date("15.01.2026"), Some(d(2026, 1, 15)));
    assert_eq!(date("2026-01-15"), Some(d(2026, 1, 15)));
    assert_eq!(date(" 2028-02-29 "), Some(d(2028, 2, 29)));
    for bad in [
        "2027-02-29",
        "31/04/2026",
        "2026/01",
        "15/01/26",
        "hier",
        "2026-01-15T00:00",
        "1/2/3/2026",
    ] {
        assert!(
            parse_date(bad, field::YEAR_END)
                .unwrap_err()
                .starts_with("fin d'exercice « "),
            "{bad}"
        );
    }
}

#[test]
fn yes_no_and_outcomes_in_french_and_english() {
    for yes in ["oui", "Oui", "OUI", "yes", "vrai", "true", "1", "x"] {
        assert_eq!(parse_yes_no(yes, field::PUBLIC).unwrap(), Some(true), "{yes}");
    }
    for no in ["non", "Non", "no", "faux", "false", "0"] {
        assert_eq!(parse_yes_no(no, field::PUBLIC).unwrap(), Some(false), "{no}");
    }
    assert_eq!(parse_yes_no(" ", field::PUBLIC).unwrap(), None);
    assert!(parse_yes_no("peut-être", field::PUBLIC).is_err());
    for won in ["obtenu", "Obtenue", "accordé", "won", "granted"] {
        assert_eq!(parse_outcome(won).unwrap(), Some(WON), "{won}");
    }
    for refused in ["refusé", "REFUSÉE", "refuse", "rejeté", "refused"] {
        assert_eq!(parse_outcome(refused).unwrap(), Some(REFUSED), "{refused}");
    }
    for pending in ["", "en attente", "déposé", "pending"] {
        assert_eq!(parse_outcome(pending).unwrap(), None, "{pending}");
    }
    assert!(parse_outcome("peut-être").is_err());
}

#[test]
fn semicolons_a_bom_and_crlf_are_read() {
    let text = format!(
        "\u{feff}{}\r\n{}\r\n",
        HEADER.replace(',', ";"),
        "S1;Région;Projet;;15/01/2026;12 500,50 €;obtenu;;12 500,50;31/12/2026;;;;;;"
    );
    let parsed = parse_str(&text);
    assert_eq!(parsed.problems, vec![]);
    let RowAction::Decision(g) = &parsed.rows[0].action else {
        panic!()
    };
    assert_eq!(g.amount_granted, 1_250_050);
    assert_eq!(g.amount_asked, 1_250_050);
    assert_eq!(parsed.rows[0].line, 2);
}

#[test]
fn english_and_reordered_headers_and_missing_optional_columns() {
    let text = "Title,Funder,structure_id,Outcome,Amount granted,Financial year end,Public subsidy\n\
                Projet,Région,S1,won,1000,2026-12-31,no\n";
    let parsed = parse_str(text);
    assert_eq!(parsed.problems, vec![]);
    let RowAction::Decision(g) = &parsed.rows[0].action else {
        panic!()
    };
    assert_eq!((g.structure_id.as_str(), g.title.as_str()), ("S1", "Projet"));
    assert_eq!(g.public_subsidy, Some(false));
    // Accents, case and underscores do not matter.
    let loose = "STRUCTURE;Financeur;intitule;date_de_depot;Fin d’exercice\nS1;R;P;01/02/2026;\n";
    assert_eq!(parse_str(loose).problems, vec![]);
}

#[test]
fn a_bad_header_is_one_problem_naming_every_column() {
    let out = problems("structure,financeur,titre,financeur\nS1,R,P,R\n");
    assert_eq!(out.len(), 1, "{out:?}");
    assert!(out[0].starts_with("f.csv:1: en-tête : "), "{out:?}");
    assert!(out[0].contains("inconnue(s) « titre »"), "{out:?}");
    assert!(out[0].contains("en double « financeur »"), "{out:?}");
    assert!(out[0].contains("manquante(s) « intitulé »"), "{out:?}");
}

#[test]
fn an_empty_file_and_blank_lines() {
    assert_eq!(problems(""), vec!["f.csv: fichier vide : la première ligne doit nommer les colonnes (structure, financeur, intitulé, appel, date de dépôt, montant demandé, issue, date de décision, montant accordé, fin d'exercice, début de convention, fin de convention, référence, objet, subvention publique, clé)"]);
    // Blank lines and rows of empty cells (a spreadsheet's) are skipped,
    // and the lines after them keep their numbers.
    let text = format!("{HEADER}\n\n,,,,,,,,,,,,,,,\n,Région,Projet,,,,,,,,,,,,,\n");
    assert_eq!(problems(&text), vec!["f.csv:4: structure manquant"]);
    let header_only = parse_str(&format!("{HEADER}\n"));
    assert_eq!(header_only, Parsed::default());
}

#[test]
fn rows_given_twice_are_refused_naming_the_first() {
    let out = problems(&file(&[
        "S1,Région,Projet,,15/01/2026,,,,,,,,,,,",
        "S1,région , projet ,,2026-01-15,,obtenu,,10,2026-12-31,,,,,,",
        "S2,Région,Projet,,15/01/2026,,,,,,,,,,,",
        "S1,Région,Projet,,16/01/2026,,,,,,,,,,,",
        "S1,A,B,,,,,,,,,,,,,k",
        "S1,C,D,,,,,,,,,,,,,k",
        "S1,,,C1,,,,,,,,,,,,",
        "S1,,,C1,,,refusé,,,,,,,,,",
    ]));
    assert_eq!(
        out,
        vec![
            "f.csv:3: ligne en double de la ligne 2 (même structure et même clé (ou mêmes financeur, intitulé et date de dépôt))",
            "f.csv:7: ligne en double de la ligne 6 (même structure et même clé (ou mêmes financeur, intitulé et date de dépôt))",
            "f.csv:9: ligne en double de la ligne 8 (même structure et même appel « C1 »)",
        ]
    );
}

#[test]
fn derived_keys_are_stable_and_fold_case_and_spaces() {
    let k = derived_key("S1", "Région  Bretagne", "Projet", Some(d(2026, 1, 15)));
    assert_eq!(
        k,
        derived_key(" S1 ", "région bretagne", " PROJET ", Some(d(2026, 1, 15)))
    );
    assert_ne!(k, derived_key("S2", "Région Bretagne", "Projet", Some(d(2026, 1, 15))));
    assert_ne!(k, derived_key("S1", "Région Bretagne", "Projet", None));
    assert_ne!(
        k,
        derived_key("S1", "Région Bretagne", "Projet 2", Some(d(2026, 1, 15)))
    );
    // Separators cannot be forged by moving text between fields.
    assert_ne!(derived_key("S1", "a b", "c", None), derived_key("S1", "a", "b c", None));
    // Pinned: a key stored by one version must be found by the next.
    assert_eq!(derived_key("S1", "F", "T", None).len(), DERIVED_KEY_PREFIX.len() + 32);
    assert_eq!(derived_key("S1", "F", "T", None), derived_key("S1", "F", "T", None));
}

#[test]
fn extra_fields_invalid_utf8_and_bounds() {
    let out = problems(&file(&["S1,Région,Projet,,,,,,,,,,,,,,,surplus"]));
    assert_eq!(
        out,
        vec!["f.csv:2: 18 champs pour 16 colonnes d'en-tête (un séparateur en trop ?)"]
    );
    // A row ending early (a workbook's row stops at its last cell) reads
    // its missing cells as empty.
    assert_eq!(problems(&file(&["S1,Région,Projet"])), Vec::<String>::new());
    // Trailing empty fields are harmless (a spreadsheet's export).
    assert_eq!(
        problems(&file(&["S1,Région,Projet,,,,,,,,,,,,,,,"])),
        Vec::<String>::new()
    );
    let mut bytes = file(&["S1,Région,Projet,,,,,,,,,,,,,"]).into_bytes();
    bytes.extend_from_slice(b"S1,R\xe9gion,P2,,,,,,,,,,,,,\n");
    let parsed = parse(&bytes, today());
    assert_eq!(parsed.problems.len(), 1);
    assert_eq!(parsed.problems[0].line, 3);
    assert!(parsed.problems[0].message.contains("UTF-8"));
    let big = vec![b' '; MAX_IMPORT_BYTES + 1];
    let out = parse(&big, today()).problems;
    assert_eq!(out.len(), 1);
    assert!(out[0].message.contains("20 Mio"), "{out:?}");
}

#[test]
fn more_rows_than_allowed_stop_the_reading() {
    let mut text = String::from("structure,financeur,intitulé\n");
    for i in 0..=MAX_IMPORT_ROWS {
        text.push_str(&format!("S1,F,T{i}\n"));
    }
    let parsed = parse_str(&text);
    assert_eq!(parsed.problems.len(), 1);
    assert_eq!(parsed.problems[0].line, MAX_IMPORT_ROWS as u64 + 2);
    assert!(parsed.problems[0].message.contains("100000"));
}

#[test]
fn problems_render_with_the_file_or_the_sheet() {
    let p = Problem {
        line: 12,
        message: vigie_words::words!("m", "e"),
    };
    assert_eq!(p.render("grants.csv"), "grants.csv:12: m");
    assert_eq!(p.render("grants.csv").en, "grants.csv:12: e");
    assert_eq!(p.render("grants.xlsx/Subventions"), "grants.xlsx/Subventions:12: m");
    let whole = Problem {
        line: 0,
        message: vigie_words::Words::same("m"),
    };
    assert_eq!(whole.render("grants.csv"), "grants.csv: m");
}

#[test]
fn the_template_header_is_read_back() {
    let header = header_fr().join(",");
    assert_eq!(header, HEADER);
    let en: Vec<&str> = COLUMNS.iter().map(|c| c.en).collect();
    let parsed = parse_str(&format!("{}\nS1,F,T,,,,,,,,,,,,,\n", en.join(",")));
    assert_eq!(parsed.problems, vec![]);
    assert!(COLUMNS.iter().all(|c| !c.help_fr.is_empty()));
}

#[test]
fn euros_are_shown_the_french_way_and_read_back() {
    assert_eq!(euros_fr(1_250_000), "12\u{202f}500\u{a0}€");
    assert_eq!(euros_fr(123_450), "1\u{202f}234,50\u{a0}€");
    assert_eq!(euros_fr(0), "0\u{a0}€");
    assert_eq!(euros_fr(99_900), "999\u{a0}€");
    assert_eq!(euros_fr(100_000_000), "1\u{202f}000\u{202f}000\u{a0}€");
    assert_eq!(euros_fr(-5_00), "-5\u{a0}€");
    for cents in [0, 1, 99, 100, 123_456, 1_000_000_000] {
        assert_eq!(parse_euros(&euros_fr(cents), field::AMOUNT), Ok(Some(cents)), "{cents}");
    }
}

/// Random and mutated files: never a panic, and every problem says in both
/// languages what is wrong (a message written in French only would read
/// the same in English).
#[test]
fn hostile_files_never_panic_and_every_problem_has_its_english() {
    let applied = "S2,Département,Projet,,15/01/2026,5 000,,,,,,,,,,k-2";
    let valid = file(&[WON_ROW, applied]);
    vigie_mutate::for_each_case(0x6A47, &[valid.as_bytes()], 400, |damaged| {
        for problem in parse(damaged, today()).problems {
            let words = problem.render("f.csv");
            assert!(words.fr.starts_with("f.csv"), "{words}");
            assert_ne!(words.en, words.fr, "every problem has its English form: {words}");
        }
    });
}
