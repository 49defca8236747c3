#![allow(clippy::unwrap_used)]

use chrono::{NaiveDate, NaiveTime};

use super::*;
use crate::call::{ImportProblem, Severity};
use crate::connectors::aides_territoires;
use crate::model::DEFAULT_TZ;

const FIXTURE: &[u8] = include_bytes!("../../../tests/fixtures/etalab_dispositifs.csv");

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

fn code(scale: Scale, code: &str) -> TerritoryCode {
    TerritoryCode {
        scale,
        code: code.to_owned(),
    }
}

const HEADER: &str = "id,titre,promesse,description,eligibilite,types_aides,porteurs,programmes_parents,url_source,cibles,eligibilite_geographique,eligibilite_geographique_exclusions,date_ouverture,date_cloture,date_mise_a_jour";

/// A valid row whose columns can be replaced: `row(&[("cibles", "x")])`.
fn row(changes: &[(&str, &str)]) -> String {
    let mut values: Vec<String> = [
        "id-1",
        "Titre",
        "",
        "Description",
        "Critères",
        "financement",
        "[{ nom: 'ADEME', roles: [ 'financeur' ] }]",
        "",
        "https://exemple.fr/aide",
        "associations",
        "REG-53",
        "",
        "",
        "2027-03-14",
        "2027-01-01T00:00:00Z",
    ]
    .map(str::to_owned)
    .to_vec();
    for (column, value) in changes {
        let index = COLUMNS.iter().position(|c| c == column).unwrap();
        values[index] = (*value).to_owned();
    }
    raw_record(&values)
}

/// One CSV record with RFC 4180 quoting but *without* neutralisation: test
/// files hold what an outside producer would write (`=cmd…` raw).
fn raw_record(values: &[String]) -> String {
    let quoted: Vec<String> = values
        .iter()
        .map(|value| {
            if value.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", value.replace('"', "\"\""))
            } else {
                value.clone()
            }
        })
        .collect();
    format!("{}\n", quoted.join(","))
}

fn parse_rows(rows: &[String]) -> Parsed {
    let doc = format!("{HEADER}\n{}", rows.concat());
    parse_csv(doc.as_bytes(), "aides.csv")
}

#[test]
fn the_fixture_is_read() {
    let parsed = parse_csv(FIXTURE, "dispositifs.csv");
    assert_eq!(parsed.problems, []);
    assert_eq!(parsed.calls.len(), 4);

    let fonds = &parsed.calls[0];
    assert_eq!(fonds.source, "etalab");
    assert_eq!(fonds.source_ref, "8f2c1d3e-6a4b-4c2e-9f1a-2b7d5e8c9a10");
    assert_eq!(fonds.title, "Fonds régional pour l'innovation sociale");
    assert_eq!(
        fonds.funders,
        ["Région Bretagne"],
        "France Active is animateur, not financeur"
    );
    assert_eq!(fonds.programmes, ["Stratégie régionale ESS 2027"]);
    assert_eq!(
        fonds.info_url,
        "https://www.bretagne.bzh/aides/fiches/innovation-sociale/"
    );
    assert_eq!(fonds.application_url, "");
    assert!(fonds.themes.is_empty());
    assert_eq!(fonds.audiences, ["association", "esus_company", "scic", "scop"]);
    assert_eq!(
        fonds.perimeter,
        Perimeter {
            name: String::new(),
            scale_label: String::new(),
            codes: vec![code(Scale::Region, "53")],
            exclusions: vec![],
        }
    );
    assert_eq!(fonds.recurrence, None);
    assert_eq!(
        fonds.stages,
        [Stage {
            kind: StageKind::Submission,
            date: day("2027-03-14"),
            time: None,
            timezone: DEFAULT_TZ,
            wording: "date_cloture: 2027-03-14T23:59:59+01:00".to_owned(),
        }],
        "the last second of the day is a whole-day deadline"
    );
    assert!(!fonds.cancelled);
    let raw: serde_json::Value = serde_json::from_str(&fonds.raw).unwrap();
    assert_eq!(
        raw["promesse"],
        "Financez l'amorçage de votre projet d'innovation sociale"
    );
    assert!(
        fonds.raw.starts_with(r#"{"id":"8f2c1d3e"#),
        "header order: {}",
        fonds.raw
    );

    let reunion = &parsed.calls[1];
    assert_eq!(reunion.funders, ["Région Réunion", "DEETS de La Réunion"]);
    assert!(reunion.programmes.is_empty());
    assert_eq!(reunion.audiences, ["association"]);
    assert_eq!(reunion.perimeter.codes, [code(Scale::Department, "974")]);
    assert_eq!(reunion.stages[0].timezone, chrono_tz::Indian::Reunion);
    assert_eq!(reunion.stages[0].date, day("2027-04-30"));
    assert_eq!(reunion.stages[0].time, NaiveTime::from_hms_opt(12, 0, 0));

    let national = &parsed.calls[2];
    assert_eq!(national.funders, ["Agence nationale de la cohésion des territoires"]);
    assert_eq!(
        national.programmes,
        ["France Services Numérique", "Plan d'inclusion numérique"]
    );
    assert_eq!(
        national.audiences,
        [
            "association",
            "commune",
            "department",
            "epci",
            "public_establishment",
            "region"
        ]
    );
    assert_eq!(national.perimeter.codes, [code(Scale::Country, "FR")]);
    assert_eq!(
        national.perimeter.exclusions,
        [code(Scale::Department, "2A"), code(Scale::Department, "2B")]
    );
    assert!(national.stages.is_empty(), "no date_cloture: no stage");

    let trophees = &parsed.calls[3];
    assert_eq!(
        trophees.funders,
        ["Conseil départemental d'Ille-et-Vilaine", "Rennes Métropole"]
    );
    assert_eq!(
        trophees.audiences,
        ["association", "esus_company", "scic", "scop"],
        "particuliers: none of ours"
    );
    assert_eq!(
        trophees.perimeter.codes,
        [
            code(Scale::Department, "35"),
            code(Scale::Epci, "243500139"),
            code(Scale::Commune, "35238")
        ]
    );
    assert_eq!(trophees.stages[0].date, day("2027-05-15"));
    assert_eq!(
        trophees.stages[0].time,
        NaiveTime::from_hms_opt(12, 0, 0),
        "10:00 UTC is 12:00 in Paris in May"
    );
    assert_eq!(trophees.stages[0].wording, "date_cloture: 2027-05-15T10:00:00Z");
}

#[test]
fn import_then_export_gives_the_file_back() {
    let parsed = parse_csv(FIXTURE, "dispositifs.csv");
    assert_eq!(write_csv(&parsed.calls), String::from_utf8_lossy(FIXTURE));
}

#[test]
fn export_then_import_gives_the_calls_back() {
    let calls = parse_csv(FIXTURE, "dispositifs.csv").calls;
    let again = parse_csv(write_csv(&calls).as_bytes(), "export.csv");
    assert_eq!(again.problems, []);
    assert_eq!(again.calls, calls);
}

#[test]
fn edited_calls_are_exported_from_the_model() {
    let mut calls = parse_csv(FIXTURE, "dispositifs.csv").calls;
    let call = &mut calls[0];
    call.funders = vec!["Région Bretagne".to_owned(), "Banque des Territoires".to_owned()];
    call.audiences = vec!["association".to_owned(), "foundation".to_owned(), "commune".to_owned()];
    call.perimeter.codes = vec![code(Scale::Department, "29"), code(Scale::Department, "35")];
    call.perimeter.exclusions = vec![code(Scale::Commune, "29019")];
    call.programmes = vec!["A".to_owned(), "B".to_owned()];
    call.stages[0].date = day("2027-03-21");
    call.stages[0].time = NaiveTime::from_hms_opt(12, 0, 0);
    let csv = write_csv(&calls[..1]);
    let again = parse_csv(csv.as_bytes(), "export.csv");
    assert_eq!(again.problems, []);
    let back = &again.calls[0];
    assert_eq!(back.funders, calls[0].funders);
    assert_eq!(
        back.audiences,
        [
            "association",
            "commune",
            "department",
            "epci",
            "public_establishment",
            "region"
        ]
    );
    assert_eq!(back.perimeter, calls[0].perimeter);
    assert_eq!(back.programmes, ["A", "B"]);
    assert_eq!(
        (back.stages[0].date, back.stages[0].time),
        (day("2027-03-21"), NaiveTime::from_hms_opt(12, 0, 0))
    );
    assert_eq!(back.stages[0].wording, "date_cloture: 2027-03-21T12:00:00+01:00");
    assert!(
        csv.contains(
            r#"[{ nom: ""Région Bretagne"", roles: [ ""financeur"" ] }, { nom: ""Banque des Territoires"", roles: [ ""financeur"" ] }]"#
        ),
        "{csv}"
    );
    assert!(
        csv.contains(",associations|secteur public,DEP-29|DEP-35,COM-29019,"),
        "{csv}"
    );
    assert!(
        csv.contains("Critères") || csv.contains("Structure de l'ESS"),
        "unmodelled columns from raw"
    );
}

#[test]
fn calls_of_other_sources_are_exported() {
    let page = include_bytes!("../../../tests/fixtures/aides_territoires_page1.json");
    let calls = aides_territoires::parse_page(page, "p", aides_territoires::DEFAULT_BASE_URL)
        .unwrap()
        .parsed
        .calls;
    let csv = write_csv(&calls);
    let mut reader = csv::ReaderBuilder::new().from_reader(csv.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
    assert_eq!(header, COLUMNS);
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 3);
    let fdva = &rows[0];
    assert_eq!(&fdva[0], "aides-territoires:163421");
    assert_eq!(
        &fdva[3],
        "<p>Le FDVA soutient le fonctionnement global et les projets innovants des petites associations.</p>"
    );
    assert_eq!(
        &fdva[4],
        "<p>Associations de moins de deux salariés, déclarées depuis au moins un an.</p>"
    );
    assert_eq!(
        &fdva[6],
        "[{ nom: \"Ministère des Sports, de la Jeunesse et de la Vie associative\", roles: [ \"financeur\" ] }]"
    );
    assert_eq!(&fdva[9], "associations");
    assert_eq!(&fdva[10], "", "a perimeter known by name only has no code");
    assert_eq!(&fdva[12], "2027-01-15");
    assert_eq!(&fdva[13], "2027-03-14T23:59:59+01:00");
    assert_eq!(&fdva[14], "2026-12-02T16:40:51+01:00");
    assert_eq!(&rows[1][9], "professionnels|associations|secteur public");
    assert_eq!(&rows[2][13], "", "no deadline");
}

#[test]
fn whole_days_and_times_are_exported_with_their_offset() {
    let stage = |date: &str, time: Option<NaiveTime>, timezone| Stage {
        kind: StageKind::Submission,
        date: day(date),
        time,
        timezone,
        wording: String::new(),
    };
    assert_eq!(
        format_stage(&stage("2027-03-14", None, DEFAULT_TZ)),
        "2027-03-14T23:59:59+01:00"
    );
    assert_eq!(
        format_stage(&stage("2027-07-14", None, DEFAULT_TZ)),
        "2027-07-14T23:59:59+02:00"
    );
    assert_eq!(
        format_stage(&stage("2027-03-28", NaiveTime::from_hms_opt(2, 30, 0), DEFAULT_TZ)),
        "2027-03-28T02:30:00",
        "a time in the spring gap has no offset"
    );
    assert_eq!(
        format_stage(&stage(
            "2027-04-30",
            NaiveTime::from_hms_opt(12, 0, 0),
            chrono_tz::Indian::Reunion
        )),
        "2027-04-30T12:00:00+04:00"
    );
}

#[test]
fn bad_rows_are_errors_naming_their_column() {
    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[("id", " ")], "colonne « id » : valeur obligatoire absente"),
        (&[("titre", "")], "colonne « titre » : valeur obligatoire absente"),
        (&[("cibles", "")], "colonne « cibles » : valeur obligatoire absente"),
        (
            &[("cibles", "associations|entreprises")],
            "colonne « cibles » : bénéficiaire inconnu « entreprises » (attendu professionnels, particuliers, associations, secteur public)",
        ),
        (
            &[("eligibilite_geographique", "")],
            "colonne « eligibilite_geographique » : valeur obligatoire absente",
        ),
        (
            &[("eligibilite_geographique", "Bretagne")],
            "colonne « eligibilite_geographique » : code géographique invalide « Bretagne » (attendu PAYS-99100, REG-53, DEP-35, EPCI-243500139 ou COM-35238)",
        ),
        (
            &[("eligibilite_geographique", "REG-53|")],
            "colonne « eligibilite_geographique » : code géographique vide (barre verticale en trop ?)",
        ),
        (
            &[("eligibilite_geographique_exclusions", "DEP-355")],
            "colonne « eligibilite_geographique_exclusions » : code géographique invalide « DEP-355 » (attendu PAYS-99100, REG-53, DEP-35, EPCI-243500139 ou COM-35238)",
        ),
        (
            &[("date_cloture", "14/03/2027")],
            "colonne « date_cloture » : date invalide « 14/03/2027 » (attendu AAAA-MM-JJ ou AAAA-MM-JJTHH:MM:SS+01:00)",
        ),
        (
            &[("date_ouverture", "2027-13-01")],
            "colonne « date_ouverture » : date invalide « 2027-13-01 » (attendu AAAA-MM-JJ ou AAAA-MM-JJTHH:MM:SS+01:00)",
        ),
        (
            &[("date_mise_a_jour", "hier")],
            "colonne « date_mise_a_jour » : date invalide « hier » (attendu AAAA-MM-JJ ou AAAA-MM-JJTHH:MM:SS+01:00)",
        ),
        (
            &[("porteurs", "[{ nom: 'ADEME', roles: [ 'financeur' }]")],
            "colonne « porteurs » : liste de porteurs illisible : « ] » attendu au caractère 39, « } » trouvé (attendu [{ nom: 'ADEME', roles: [ 'financeur' ] }])",
        ),
        (
            &[("porteurs", "ADEME")],
            "colonne « porteurs » : liste de porteurs illisible : une liste est attendue (attendu [{ nom: 'ADEME', roles: [ 'financeur' ] }])",
        ),
        (
            &[("porteurs", "[{ siren: '385290309' }]")],
            "colonne « porteurs » : liste de porteurs illisible : porteur sans nom (attendu [{ nom: 'ADEME', roles: [ 'financeur' ] }])",
        ),
    ];
    for (changes, message) in cases {
        let parsed = parse_rows(&[row(changes)]);
        assert!(parsed.calls.is_empty(), "{changes:?}");
        let problems: Vec<_> = parsed
            .problems
            .iter()
            .map(|p| (p.position.as_str(), p.message.fr.as_str(), p.severity))
            .collect();
        assert_eq!(problems, [("aides.csv:2", *message, Severity::Error)], "{changes:?}");
    }
}

#[test]
fn every_bad_column_of_a_row_is_reported() {
    let parsed = parse_rows(&[row(&[("titre", ""), ("cibles", "tous"), ("date_cloture", "bientôt")])]);
    let messages: Vec<_> = parsed.problems.iter().map(|p| p.message.fr.as_str()).collect();
    assert_eq!(messages.len(), 3, "{messages:?}");
    assert!(messages[0].starts_with("colonne « titre »"));
    assert!(messages[1].starts_with("colonne « cibles »"));
    assert!(messages[2].starts_with("colonne « date_cloture »"));
}

#[test]
fn positions_are_the_lines_where_rows_start() {
    let multiline = row(&[("id", "id-2"), ("description", "Première ligne\nseconde ligne")]);
    let rows = [
        row(&[]),
        multiline,
        row(&[("id", "id-3"), ("titre", "")]),
        row(&[("id", "id-1")]),
        "id-4,trop,court\n".to_owned(),
        row(&[("id", "id-5")]),
    ];
    let parsed = parse_rows(&rows);
    // header: line 1; id-1: 2; id-2: 3 and 4 (a quoted line break); id-3: 5…
    let refs: Vec<_> = parsed.calls.iter().map(|c| c.source_ref.as_str()).collect();
    assert_eq!(refs, ["id-1", "id-2", "id-5"]);
    let problems: Vec<_> = parsed.problems.iter().map(ToString::to_string).collect();
    assert_eq!(
        problems,
        [
            "aides.csv:5: colonne « titre » : valeur obligatoire absente",
            "aides.csv:6: colonne « id » : identifiant « id-1 » déjà lu ligne 2",
            "aides.csv:7: 3 champs au lieu de 15",
        ]
    );
}

#[test]
fn the_header_is_validated() {
    let parsed = parse_csv(b"id,titre,cibles\nx,y,associations\n", "court.csv");
    assert!(parsed.calls.is_empty());
    assert_eq!(
        parsed.problems,
        [ImportProblem {
            position: "court.csv:1".to_owned(),
            message: words!(
                "en-tête invalide : colonnes obligatoires absentes : description, eligibilite, types_aides, porteurs, eligibilite_geographique, date_mise_a_jour",
                "invalid header: required columns missing: description, eligibilite, types_aides, porteurs, eligibilite_geographique, date_mise_a_jour"
            ),
            severity: Severity::Error,
        }]
    );
    let doubled = format!("{HEADER},titre\n");
    let parsed = parse_csv(doubled.as_bytes(), "double.csv");
    assert_eq!(
        parsed.problems[0].message,
        "en-tête invalide : colonnes en double : titre"
    );
    let parsed = parse_csv(b"", "vide.csv");
    assert_eq!(
        parsed.problems[0].to_string(),
        "vide.csv:1: fichier vide : l'en-tête est obligatoire"
    );
}

#[test]
fn extension_columns_and_any_column_order_are_read() {
    let doc = "url_candidature,date_mise_a_jour,eligibilite_geographique,cibles,porteurs,types_aides,eligibilite,description,titre,id,budget_minimum\n\
               https://depot.exemple.fr,2027-01-01,COM-2A004,secteur public,,financement,x,y,Aide corse,corse-1,10000\n";
    let parsed = parse_csv(doc.as_bytes(), "extension.csv");
    assert_eq!(parsed.problems, []);
    let call = &parsed.calls[0];
    assert_eq!(call.application_url, "https://depot.exemple.fr");
    assert_eq!(call.perimeter.codes, [code(Scale::Commune, "2A004")]);
    assert!(call.funders.is_empty());
    assert!(call.raw.contains(r#""budget_minimum":"10000""#));
    let bad = doc.replace("https://depot.exemple.fr", "depot");
    let parsed = parse_csv(bad.as_bytes(), "extension.csv");
    assert_eq!(parsed.calls.len(), 1, "a bad URL never drops the call");
    assert_eq!(parsed.calls[0].application_url, "");
    assert_eq!(
        parsed.problems,
        [ImportProblem {
            position: "extension.csv:2".to_owned(),
            message: words!(
                "colonne « url_candidature » : URL « depot » ignorée : \
                 seules les adresses http:// ou https:// sont acceptées",
                "column “url_candidature”: URL “depot” ignored: only http:// or https:// URLs are accepted"
            ),
            severity: Severity::Warning,
        }]
    );
}

#[test]
fn hostile_urls_are_dropped_with_a_warning_and_the_call_kept() {
    for (url, reason) in [
        (
            "www.exemple.fr",
            "seules les adresses http:// ou https:// sont acceptées",
        ),
        (
            "javascript:alert(1)",
            "seules les adresses http:// ou https:// sont acceptées",
        ),
        (
            "https://x.fr/\r\nBEGIN:VEVENT\r\nATTACH:https://x.fr/a.exe",
            "adresse contenant un caractère de contrôle (retour à la ligne, tabulation…)",
        ),
        ("https://x.fr/a b", "adresse contenant une espace"),
    ] {
        let parsed = parse_rows(&[row(&[("url_source", url)])]);
        assert_eq!(parsed.calls.len(), 1, "{url:?}");
        assert_eq!(parsed.calls[0].info_url, "", "{url:?}");
        assert_eq!(parsed.problems.len(), 1, "{url:?}");
        assert_eq!(parsed.problems[0].severity, Severity::Warning);
        assert!(parsed.problems[0].message.ends_with(reason), "{:?}", parsed.problems[0]);
        assert!(!parsed.problems[0].message.contains('\n'));
    }
}

/// The row of the security review: 20,000 nested `[` (20 KB) in `porteurs`
/// overflowed the stack and aborted the whole `vigie dev` process.
#[test]
fn twenty_thousand_nested_brackets_are_a_clear_error() {
    let nested = "[".repeat(20_000);
    let parsed = parse_rows(&[row(&[("porteurs", &nested)]), row(&[("id", "id-2")])]);
    assert_eq!(parsed.calls.len(), 1, "the next row is still read");
    assert_eq!(parsed.calls[0].source_ref, "id-2");
    assert_eq!(
        parsed.problems,
        [ImportProblem {
            position: "aides.csv:2".to_owned(),
            message: words!(
                "colonne « porteurs » : liste de porteurs illisible : imbrication trop profonde au caractère \
                 {} (au plus {MAX_PORTEURS_DEPTH} niveaux de [ ] et {{ }}) \
                 (attendu [{{ nom: 'ADEME', roles: [ 'financeur' ] }}])",
                "column “porteurs”: unreadable list of scheme owners: nesting too deep at character \
                 {} (at most {MAX_PORTEURS_DEPTH} levels of [ ] and {{ }}) \
                 (expected [{{ nom: 'ADEME', roles: [ 'financeur' ] }}])",
                MAX_PORTEURS_DEPTH + 1
            ),
            severity: Severity::Error,
        }]
    );
    // Objects nest the same way, and closed nesting is refused too.
    let objects = "{a:".repeat(10_000);
    assert!(parse_porteurs(&objects)
        .unwrap_err()
        .contains("imbrication trop profonde"));
    let closed = format!("{}{}", "[".repeat(100), "]".repeat(100));
    assert!(parse_porteurs(&closed)
        .unwrap_err()
        .contains("imbrication trop profonde"));
    // The depth the schema needs (and some) still reads.
    let deep_enough = format!("{}{}", "[".repeat(MAX_PORTEURS_DEPTH), "]".repeat(MAX_PORTEURS_DEPTH));
    assert!(parse_porteurs(&deep_enough)
        .unwrap_err()
        .contains("chaque porteur est un objet"));
}

#[test]
fn an_oversized_porteurs_cell_is_refused() {
    let names: Vec<String> = (0..5000)
        .map(|n| format!("{{ nom: 'Financeur {n}', roles: ['financeur'] }}"))
        .collect();
    let huge = format!("[{}]", names.join(","));
    assert!(huge.len() > MAX_PORTEURS_CHARS);
    let message = parse_porteurs(&huge).unwrap_err();
    assert!(
        message.contains(&format!("au plus {MAX_PORTEURS_CHARS} sont lus")),
        "{message}"
    );
}

/// Random and mutated files (from the fixture and a valid row): never a
/// panic, every problem positioned `FILE:LINE`, and every call that is read
/// carries only URLs that pass the one URL check.
#[test]
fn hostile_files_never_panic_and_errors_are_positioned() {
    let valid = format!("{HEADER}\n{}", row(&[]));
    vigie_mutate::for_each_case(0xE7A1AB, &[FIXTURE, valid.as_bytes()], 400, |doc| {
        let parsed = parse_csv(doc, "aides.csv");
        for problem in &parsed.problems {
            let (file, line) = problem.position.split_once(':').unwrap();
            assert_eq!(file, "aides.csv");
            assert!(line.parse::<u64>().is_ok(), "{problem:?}");
            assert!(!problem.message.is_empty());
            assert!(
                !problem.message.en.is_empty() && problem.message.en != problem.message.fr,
                "a problem without its English: {problem:?}"
            );
        }
        for call in &parsed.calls {
            for url in [&call.info_url, &call.application_url] {
                assert!(url.is_empty() || crate::url::is_safe_url(url), "{url:?}");
            }
        }
        // What was read exports without panicking, and reads back.
        let _ = parse_csv(write_csv(&parsed.calls).as_bytes(), "export.csv");
    });
}

#[test]
fn exported_titles_are_neutralised() {
    let parsed = parse_rows(&[
        row(&[("titre", "=cmd|' /C calc'!A0")]),
        row(&[("id", "id-2"), ("titre", "=HYPERLINK(\"https://x.fr\",\"clic\")")]),
    ]);
    assert_eq!(parsed.problems, []);
    let exported = write_csv(&parsed.calls);
    let mut reader = csv::ReaderBuilder::new().from_reader(exported.as_bytes());
    let titles: Vec<String> = reader.records().map(|record| record.unwrap()[1].to_owned()).collect();
    assert_eq!(
        titles,
        ["'=cmd|' /C calc'!A0", "'=HYPERLINK(\"https://x.fr\",\"clic\")"]
    );
}

#[test]
fn a_byte_order_mark_and_crlf_are_accepted() {
    let doc = format!("\u{feff}{HEADER}\r\n{}", row(&[]).replace('\n', "\r\n"));
    let parsed = parse_csv(doc.as_bytes(), "bom.csv");
    assert_eq!(parsed.problems, []);
    assert_eq!(parsed.calls[0].source_ref, "id-1");
}

#[test]
fn rows_that_are_not_utf8_are_reported() {
    let text = format!(
        "{HEADER}\n{}{}",
        row(&[("id", "id-1")]),
        row(&[("id", "id-2"), ("titre", "TITRE")])
    );
    let at = text.find("TITRE").unwrap();
    let mut doc = text.into_bytes();
    doc.splice(at..at + 5, b"Aide \xE9t\xE9".iter().copied());
    let parsed = parse_csv(&doc, "latin1.csv");
    assert_eq!(parsed.calls.len(), 1);
    assert_eq!(parsed.problems.len(), 1);
    assert_eq!(
        parsed.problems[0].to_string(),
        "latin1.csv:3: ligne qui n'est pas en UTF-8"
    );
}

#[test]
fn geographic_codes() {
    assert_eq!(parse_cog(""), Ok(vec![]));
    assert_eq!(
        parse_cog("PAYS-99100|REG-53|DEP-35|DEP-2A|DEP-974|EPCI-243500139|COM-35238|COM-2B033|COM-97411"),
        Ok(vec![
            code(Scale::Country, "FR"),
            code(Scale::Region, "53"),
            code(Scale::Department, "35"),
            code(Scale::Department, "2A"),
            code(Scale::Department, "974"),
            code(Scale::Epci, "243500139"),
            code(Scale::Commune, "35238"),
            code(Scale::Commune, "2B033"),
            code(Scale::Commune, "97411"),
        ])
    );
    assert_eq!(
        parse_cog("REG-53|REG-53"),
        Ok(vec![code(Scale::Region, "53")]),
        "deduplicated"
    );
    assert_eq!(parse_cog(" REG-53 | DEP-35 ").map(|c| c.len()), Ok(2));
    for bad in [
        "PAYS-99134",
        "REG-5",
        "DEP-350",
        "DEP-2C",
        "EPCI-24350013",
        "COM-3523",
        "ARR-351",
        "reg-53",
        "53",
        "REG53",
    ] {
        assert!(parse_cog(bad).is_err(), "{bad}");
    }
    for scale_code in parse_cog("PAYS-99100|REG-53|DEP-2A|EPCI-243500139|COM-35238").unwrap() {
        assert_eq!(parse_cog(&cog_of(&scale_code)), Ok(vec![scale_code]));
    }
}

#[test]
fn beneficiaries() {
    assert_eq!(parse_cibles("associations"), Ok(vec!["association".to_owned()]));
    assert_eq!(parse_cibles("particuliers"), Ok(vec![]));
    assert_eq!(
        parse_cibles(" Secteur public "),
        Ok(vec![
            "commune".to_owned(),
            "department".to_owned(),
            "epci".to_owned(),
            "public_establishment".to_owned(),
            "region".to_owned(),
        ])
    );
    assert!(parse_cibles("associations||professionnels").is_err());
    assert!(parse_cibles("associations,professionnels").is_err());
    let mut all = Vec::new();
    for cible in CIBLES {
        for code in cible_codes(cible) {
            assert_eq!(cible_of(code), Some(cible), "{code}");
            all.push(*code);
        }
    }
    assert_eq!(cible_of("mutual"), Some("professionnels"));
    assert_eq!(cible_of("foundation"), Some("associations"));
    assert_eq!(cible_of("inconnu"), None);
}

#[test]
fn porteurs_in_javascript_or_json() {
    let porteurs = parse_porteurs(
        "[{ nom: 'ADEME', siren: '385290309', roles: [ 'instructeur' ]}, { nom: 'BPIFRANCE (BPIFRANCE)', siren: '320252489', roles: [ 'financeur' ]}]",
    )
    .unwrap();
    assert_eq!(funders_of(&porteurs), ["BPIFRANCE (BPIFRANCE)"]);
    let json = parse_porteurs(r#"[{"nom": "Région Bretagne", "siren": 233500016, "roles": ["Financeur"]}]"#).unwrap();
    assert_eq!(funders_of(&json), ["Région Bretagne"], "roles compared without case");
    let single = parse_porteurs("[{ nom: 'Ville de Rennes', roles: 'financeur' },]").unwrap();
    assert_eq!(
        funders_of(&single),
        ["Ville de Rennes"],
        "a role alone and a trailing comma"
    );
    let escaped =
        parse_porteurs(r"[{ nom: 'Conseil départemental d\'Ille-et-Vilaine', roles: ['financeur'] }]").unwrap();
    assert_eq!(funders_of(&escaped), ["Conseil départemental d'Ille-et-Vilaine"]);
    assert_eq!(parse_porteurs(""), Ok(vec![]));
    assert_eq!(parse_porteurs("[]"), Ok(vec![]));
    for bad in [
        "[",
        "[{ nom: 'ADEME' ",
        "[{ nom: 'ADEME }]",
        "[{ nom: 'ADEME' }] en plus",
        "['ADEME']",
        "[{ nom: ['ADEME'] }]",
        "[{ nom: 'ADEME', roles: [{}] }]",
        "[{ : 'ADEME' }]",
        "{ nom: 'ADEME' }",
    ] {
        assert!(parse_porteurs(bad).is_err(), "{bad}");
    }
    let written = format_porteurs(&["L'Atelier \"Réemploi\"".to_owned(), "ADEME".to_owned()]);
    let back = parse_porteurs(&written).unwrap();
    assert_eq!(funders_of(&back), ["L'Atelier \"Réemploi\"", "ADEME"]);
    assert_eq!(format_porteurs(&[]), "");
}

#[test]
fn quoting_follows_rfc_4180() {
    let mut out = String::new();
    vigie_csv_out::push_record(&mut out, ["simple", "a,b", "dit \"oui\"", "deux\nlignes", ""]);
    assert_eq!(out, "simple,\"a,b\",\"dit \"\"oui\"\"\",\"deux\nlignes\",\n");
}
