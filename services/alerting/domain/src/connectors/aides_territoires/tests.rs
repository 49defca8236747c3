#![allow(clippy::unwrap_used)]

use chrono::NaiveDate;

use super::*;
use crate::call::Severity;
use crate::model::{Recurrence, DEFAULT_TZ};

const PAGE_1: &[u8] = include_bytes!("../../../tests/fixtures/aides_territoires_page1.json");
const PAGE_2: &[u8] = include_bytes!("../../../tests/fixtures/aides_territoires_page2.json");
const BASE: &str = DEFAULT_BASE_URL;

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

fn page_of(items: &str) -> String {
    format!(r#"{{"count": 1, "next": null, "previous": null, "results": [{items}]}}"#)
}

fn one(aid: &str) -> Parsed {
    parse_page(page_of(aid).as_bytes(), "p", BASE).unwrap().parsed
}

#[test]
fn first_page_of_the_fixture() {
    let page = parse_page(PAGE_1, "aides-territoires:page 1", BASE).unwrap();
    assert_eq!(page.count, Some(6));
    assert_eq!(
        page.next.as_deref(),
        Some("https://aides-territoires.beta.gouv.fr/api/aids/?page=2&itemsPerPage=3&targeted_audiences=association")
    );
    assert_eq!(page.previous, None);
    assert_eq!(page.parsed.calls.len(), 3);

    let fdva = &page.parsed.calls[0];
    assert_eq!(fdva.source, "aides-territoires");
    assert_eq!(fdva.source_ref, "163421");
    assert_eq!(
        fdva.title,
        "Fonds pour le développement de la vie associative (FDVA) – Fonctionnement et innovation 2027"
    );
    assert_eq!(
        fdva.funders,
        ["Ministère des Sports, de la Jeunesse et de la Vie associative"]
    );
    assert_eq!(fdva.programmes, ["Fonds pour le développement de la vie associative"]);
    assert_eq!(
        fdva.info_url,
        "https://aides-territoires.beta.gouv.fr/aides/7a3f-fonds-pour-le-developpement-de-la-vie-associative-fdva-fonctionnement-et-innovation/"
    );
    assert_eq!(fdva.application_url, "https://lecompteasso.associations.gouv.fr/");
    assert_eq!(
        fdva.themes,
        [
            "Solidarités / Vie associative",
            "Solidarités / Économie sociale et solidaire"
        ]
    );
    assert_eq!(fdva.audiences, ["association"]);
    assert_eq!(fdva.perimeter.name, "Bretagne");
    assert_eq!(fdva.perimeter.scale_label, "Région");
    assert!(fdva.perimeter.codes.is_empty());
    assert_eq!(fdva.recurrence, Some(Recurrence::Recurring));
    assert_eq!(
        fdva.stages,
        [Stage {
            kind: StageKind::Submission,
            date: day("2027-03-14"),
            time: None,
            timezone: DEFAULT_TZ,
            wording: "submission_deadline: 2027-03-14".to_owned(),
        }]
    );
    assert!(!fdva.cancelled);
    assert!(fdva.raw.starts_with("{\n      \"id\": 163421,"), "{}", fdva.raw);
    assert!(fdva.raw.ends_with("\"is_live\": true\n    }"), "{}", fdva.raw);
    let raw: serde_json::Value = serde_json::from_str(&fdva.raw).unwrap();
    assert_eq!(raw.as_object().map(|aid| aid.len()), Some(44));

    let tiers_lieux = &page.parsed.calls[1];
    assert_eq!(
        tiers_lieux.audiences,
        ["association", "commune", "epci", "esus_company", "scic", "scop"]
    );
    assert_eq!(tiers_lieux.recurrence, Some(Recurrence::Oneoff));
    assert_eq!(tiers_lieux.perimeter.scale_label, "Département");
    assert_eq!(
        tiers_lieux.application_url, "https://www.ille-et-vilaine.fr/aap-tiers-lieux-inclusion-numerique",
        "origin_url when application_url is null"
    );
    assert!(tiers_lieux.programmes.is_empty());
    let kinds: Vec<_> = tiers_lieux
        .stages
        .iter()
        .map(|s| (s.kind, s.date, s.wording.as_str()))
        .collect();
    assert_eq!(
        kinds,
        [
            (StageKind::PreDeposit, day("2027-01-31"), "predeposit_date: 2027-01-31"),
            (
                StageKind::Submission,
                day("2027-04-02"),
                "submission_deadline: 2027-04-02"
            ),
        ]
    );

    let dla = &page.parsed.calls[2];
    assert_eq!(dla.recurrence, Some(Recurrence::Ongoing));
    assert!(dla.stages.is_empty());
    assert_eq!(
        dla.application_url, "https://www.info-dla.fr/",
        "empty application_url falls back"
    );
    assert_eq!(dla.perimeter.scale_label, "Pays");
    assert_eq!(dla.funders.len(), 3);
    assert_eq!(dla.audiences, ["association", "esus_company", "scic", "scop"]);

    assert_eq!(
        page.parsed.problems,
        [ImportProblem {
            position: "aides-territoires:page 1:item 3 (id 121005)".to_owned(),
            message: words!(
                "public visé inconnu « Coopératives d'activité et d'emploi » ignoré",
                "unknown targeted audience “Coopératives d'activité et d'emploi” ignored"
            ),
            severity: Severity::Warning,
        }],
        "Particuliers is known and out of scope: not reported"
    );
    assert!(!page.parsed.has_errors());
}

#[test]
fn second_page_reports_its_bad_item_and_reads_the_others() {
    let page = parse_page(PAGE_2, "aides-territoires:page 2", BASE).unwrap();
    assert_eq!(page.next, None);
    assert!(page.previous.is_some());
    let refs: Vec<_> = page.parsed.calls.iter().map(|c| c.source_ref.as_str()).collect();
    assert_eq!(refs, ["165002", "166871"]);
    assert_eq!(
        page.parsed.problems,
        [ImportProblem {
            position: "aides-territoires:page 2:item 1 (id 170233)".to_owned(),
            message: words!(
                "champ « submission_deadline » : date invalide « 2027-02-30 » (attendu AAAA-MM-JJ)",
                "field “submission_deadline”: invalid date “2027-02-30” (expected YYYY-MM-DD)"
            ),
            severity: Severity::Error,
        }]
    );
    let reemploi = &page.parsed.calls[0];
    assert_eq!(
        reemploi.audiences,
        ["association", "esus_company", "public_establishment", "scic", "scop"]
    );
    assert_eq!(reemploi.perimeter.name, "Rennes Métropole");
    assert_eq!(reemploi.perimeter.scale_label, "EPCI");
    assert_eq!(reemploi.stages.len(), 2);
    let fonds = &page.parsed.calls[1];
    assert_eq!(
        fonds.title, "Fonds de confiance – amorçage des projets ESS",
        "name_initial when name is null"
    );
    assert_eq!(fonds.recurrence, None);
    assert_eq!(
        fonds.info_url,
        format!("{BASE}/aides/3b77-fonds-de-confiance-france-active/")
    );
    assert_eq!(fonds.application_url, "");
}

#[test]
fn saved_pages_in_one_file() {
    let doc = format!(
        "[{}, {}]",
        String::from_utf8_lossy(PAGE_1),
        String::from_utf8_lossy(PAGE_2)
    );
    let parsed = parse_file(doc.as_bytes(), "export.json", BASE);
    assert_eq!(parsed.calls.len(), 5);
    let positions: Vec<_> = parsed
        .problems
        .iter()
        .map(|p| (p.position.as_str(), p.severity))
        .collect();
    assert_eq!(
        positions,
        [
            ("export.json:page 1:item 3 (id 121005)", Severity::Warning),
            ("export.json:page 2:item 1 (id 170233)", Severity::Error),
        ]
    );
    assert!(parsed.has_errors());
}

#[test]
fn one_envelope_in_a_file() {
    let parsed = parse_file(PAGE_2, "page2.json", BASE);
    assert_eq!(parsed.calls.len(), 2);
    assert_eq!(parsed.problems[0].position, "page2.json:page 1:item 1 (id 170233)");
}

#[test]
fn a_bare_array_of_aids() {
    let doc = r#"[{"id": 1, "name": "Un"}, {"name": "Sans id"}, {"id": 3, "name": "Trois"}]"#;
    let parsed = parse_file(doc.as_bytes(), "aids.json", BASE);
    let refs: Vec<_> = parsed.calls.iter().map(|c| c.source_ref.as_str()).collect();
    assert_eq!(refs, ["1", "3"]);
    assert_eq!(parsed.problems.len(), 1);
    assert_eq!(
        parsed.problems[0].to_string(),
        "aids.json:item 2: champ « id » manquant"
    );
    assert_eq!(parsed.calls[0].raw, r#"{"id": 1, "name": "Un"}"#);
}

#[test]
fn empty_arrays_and_pages() {
    assert_eq!(parse_file(b"[]", "vide.json", BASE), Parsed::default());
    let page = parse_page(
        br#"{"count": 0, "next": null, "previous": null, "results": []}"#,
        "p",
        BASE,
    )
    .unwrap();
    assert_eq!(page.count, Some(0));
    assert_eq!(page.parsed, Parsed::default());
}

#[test]
fn a_file_that_is_not_json_gives_its_line() {
    let doc = b"[\n  {\"count\": 1,\n   \"results\": [\n    {\"id\": 1 \"name\": \"x\"}\n  ]}\n]";
    let parsed = parse_file(doc, "casse.json", BASE);
    assert!(parsed.calls.is_empty());
    assert_eq!(parsed.problems.len(), 1);
    assert_eq!(parsed.problems[0].position, "casse.json:4");
    assert_eq!(parsed.problems[0].message, "JSON invalide (ligne 4, colonne 14)");
    assert_eq!(parsed.problems[0].severity, Severity::Error);

    let truncated = parse_file(b"{\"count\": 1, \"results\": [", "tronque.json", BASE);
    assert_eq!(truncated.problems[0].position, "tronque.json:1");
    assert!(truncated.problems[0].message.starts_with("JSON tronqué"));

    let scalar = parse_file(b"42", "nombre.json", BASE);
    assert_eq!(scalar.problems[0].position, "nombre.json:1");
    assert_eq!(scalar.problems[0].severity, Severity::Error);
    let empty = parse_file(b"", "vide.json", BASE);
    assert_eq!(empty.problems[0].position, "vide.json:1");
}

#[test]
fn a_page_in_a_file_that_is_not_an_envelope() {
    let doc = format!(r#"[{}, {{"results": 3}}]"#, String::from_utf8_lossy(PAGE_2));
    let parsed = parse_file(doc.as_bytes(), "f.json", BASE);
    assert_eq!(parsed.calls.len(), 2);
    let last = parsed.problems.last().unwrap();
    assert_eq!(last.position, "f.json:page 2");
    assert!(
        last.message.starts_with("la page n'est pas une enveloppe"),
        "{}",
        last.message
    );
}

#[test]
fn documents_that_are_not_envelopes_are_refused() {
    for doc in [
        &b"{\"detail\": \"Jeton invalide\"}"[..],
        b"[]",
        b"{\"results\": {}}",
        b"{\"count\": \"beaucoup\", \"results\": []}",
        b"null",
    ] {
        let problem = parse_page(doc, "aides-territoires:page 4", BASE).unwrap_err();
        assert_eq!(problem.position, "aides-territoires:page 4");
        assert_eq!(problem.severity, Severity::Error);
        assert!(
            problem.message.starts_with("la page n'est pas une enveloppe"),
            "{}",
            problem.message
        );
    }
    let problem = parse_page(b"<html>502 Bad Gateway</html>", "aides-territoires:page 2", BASE).unwrap_err();
    assert_eq!(problem.message, "page illisible : JSON invalide (ligne 1, colonne 1)");
}

#[test]
fn bad_items_are_errors_at_their_position() {
    let cases = [
        (r#"{"name": "x"}"#, "p:item 1", "champ « id » manquant"),
        (r#"{"id": null, "name": "x"}"#, "p:item 1", "champ « id » manquant"),
        (
            r#"{"id": 1.5, "name": "x"}"#,
            "p:item 1",
            "champ « id » : nombre entier attendu",
        ),
        (
            r#"{"id": [], "name": "x"}"#,
            "p:item 1",
            "champ « id » : nombre entier attendu",
        ),
        (r#""pas une aide""#, "p:item 1", "l'aide n'est pas un objet JSON"),
        (
            r#"{"id": 7}"#,
            "p:item 1 (id 7)",
            "champs « name » et « name_initial » absents ou vides",
        ),
        (
            r#"{"id": 7, "name": "  ", "name_initial": null}"#,
            "p:item 1 (id 7)",
            "champs « name » et « name_initial » absents ou vides",
        ),
        (
            r#"{"id": 7, "name": 3}"#,
            "p:item 1 (id 7)",
            "champ « name » : texte attendu",
        ),
        (
            r#"{"id": 7, "name": "x", "submission_deadline": "14/03/2027"}"#,
            "p:item 1 (id 7)",
            "champ « submission_deadline » : date invalide « 14/03/2027 » (attendu AAAA-MM-JJ)",
        ),
        (
            r#"{"id": 7, "name": "x", "predeposit_date": "2027-3-4"}"#,
            "p:item 1 (id 7)",
            "champ « predeposit_date » : date invalide « 2027-3-4 » (attendu AAAA-MM-JJ)",
        ),
        (
            r#"{"id": 7, "name": "x", "submission_deadline": "2027-03-14T12:00:00"}"#,
            "p:item 1 (id 7)",
            "champ « submission_deadline » : date invalide « 2027-03-14T12:00:00 » (attendu AAAA-MM-JJ)",
        ),
        (
            r#"{"id": 7, "name": "x", "submission_deadline": 20270314}"#,
            "p:item 1 (id 7)",
            "champ « submission_deadline » : texte attendu",
        ),
        (
            r#"{"id": 7, "name": "x", "financers": "ADEME"}"#,
            "p:item 1 (id 7)",
            "champ « financers » : liste de textes attendue",
        ),
        (
            r#"{"id": 7, "name": "x", "categories": [1]}"#,
            "p:item 1 (id 7)",
            "champ « categories » : liste de textes attendue",
        ),
        (
            r#"{"id": 7, "name": "x", "targeted_audiences": [{"id": 3}]}"#,
            "p:item 1 (id 7)",
            "champ « targeted_audiences » : liste de textes attendue",
        ),
    ];
    for (aid, position, message) in cases {
        let parsed = one(aid);
        assert!(parsed.calls.is_empty(), "{aid}");
        let problems: Vec<_> = parsed
            .problems
            .iter()
            .map(|p| (p.position.as_str(), p.message.fr.as_str(), p.severity))
            .collect();
        assert_eq!(problems, [(position, message, Severity::Error)], "{aid}");
    }
}

#[test]
fn string_ids_and_minimal_aids() {
    let parsed = one(r#"{"id": " 42 ", "name": " Appel minimal "}"#);
    assert!(parsed.problems.is_empty());
    let call = &parsed.calls[0];
    assert_eq!(call.source_ref, "42");
    assert_eq!(call.title, "Appel minimal");
    assert!(call.funders.is_empty() && call.themes.is_empty() && call.audiences.is_empty());
    assert_eq!(call.info_url, "");
    assert_eq!(call.perimeter, Perimeter::default());
    assert_eq!(call.recurrence, None);
    assert!(call.stages.is_empty());
}

#[test]
fn null_fields_are_absent() {
    let parsed = one(
        r#"{"id": 5, "name": "x", "financers": null, "programs": null, "categories": null,
            "targeted_audiences": null, "recurrence": null, "perimeter": null, "perimeter_scale": null,
            "predeposit_date": null, "submission_deadline": null, "url": null, "application_url": null,
            "origin_url": null, "start_date": "n'importe quoi"}"#,
    );
    assert!(parsed.problems.is_empty(), "{:?}", parsed.problems);
    let call = &parsed.calls[0];
    assert!(call.stages.is_empty());
    assert_eq!(call.application_url, "");
    assert_eq!(call.perimeter, Perimeter::default());
    let blank = one(r#"{"id": 5, "name": "x", "submission_deadline": "  ", "financers": ["", " ADEME ", null]}"#);
    assert!(blank.problems.is_empty());
    assert!(blank.calls[0].stages.is_empty());
    assert_eq!(blank.calls[0].funders, ["ADEME"]);
}

#[test]
fn named_objects_in_lists_are_read() {
    let parsed = one(r#"{"id": 5, "name": "x", "financers": [{"id": 12, "name": "Région Bretagne", "logo": null}]}"#);
    assert_eq!(parsed.calls[0].funders, ["Région Bretagne"]);
}

#[test]
fn labels_are_normalised_and_unknown_ones_reported() {
    let parsed = one(r#"{"id": 9, "name": "x", "recurrence": "Parfois",
            "targeted_audiences": ["Associations", "associations", "Mutuelles", "Fondations", "Régions",
                                   "Départements", "Intercommunalités / Pays", "Agriculteurs", "Clubs"]}"#);
    let call = &parsed.calls[0];
    assert_eq!(
        call.audiences,
        ["association", "department", "epci", "foundation", "mutual", "region"]
    );
    assert_eq!(call.recurrence, None);
    let messages: Vec<_> = parsed
        .problems
        .iter()
        .map(|p| (p.severity, p.message.fr.as_str()))
        .collect();
    assert_eq!(
        messages,
        [
            (Severity::Warning, "public visé inconnu « Clubs » ignoré"),
            (Severity::Warning, "récurrence inconnue « Parfois » ignorée"),
        ]
    );
    assert_eq!(parsed.problems[0].position, "p:item 1 (id 9)");
    for (label, recurrence) in [
        ("Ponctuelle", Recurrence::Oneoff),
        ("Permanente", Recurrence::Ongoing),
        ("Récurrente", Recurrence::Recurring),
        ("récurrente", Recurrence::Recurring),
    ] {
        let parsed = one(&format!(r#"{{"id": 1, "name": "x", "recurrence": "{label}"}}"#));
        assert_eq!(parsed.calls[0].recurrence, Some(recurrence), "{label}");
        assert!(parsed.problems.is_empty());
    }
}

#[test]
fn a_predeposit_after_the_deadline_is_a_warning() {
    let parsed = one(r#"{"id": 3, "name": "x", "predeposit_date": "2027-05-01", "submission_deadline": "2027-04-01"}"#);
    assert_eq!(parsed.calls[0].stages.len(), 2);
    assert_eq!(
        parsed.problems,
        [ImportProblem {
            position: "p:item 1 (id 3)".to_owned(),
            message: words!(
                "pré-dépôt (2027-05-01) après la date limite de dépôt (2027-04-01)",
                "pre-deposit (2027-05-01) after the submission deadline (2027-04-01)"
            ),
            severity: Severity::Warning,
        }]
    );
}

#[test]
fn urls_are_made_absolute_against_the_base() {
    assert_eq!(
        absolute("http://127.0.0.1:8080/", "/aides/x/"),
        "http://127.0.0.1:8080/aides/x/"
    );
    assert_eq!(
        absolute("http://127.0.0.1:8080", "aides/x/"),
        "http://127.0.0.1:8080/aides/x/"
    );
    assert_eq!(absolute(BASE, "https://ailleurs.fr/a"), "https://ailleurs.fr/a");
    let parsed = parse_page(
        page_of(r#"{"id": 1, "name": "x", "url": "/aides/x/"}"#).as_bytes(),
        "p",
        "http://h:1",
    )
    .unwrap();
    assert_eq!(parsed.parsed.calls[0].info_url, "http://h:1/aides/x/");
}

#[test]
fn leap_days_and_whole_days_in_paris() {
    let parsed = one(r#"{"id": 1, "name": "x", "submission_deadline": "2028-02-29"}"#);
    let stage = &parsed.calls[0].stages[0];
    assert_eq!(stage.date, day("2028-02-29"));
    assert_eq!(stage.time, None);
    assert_eq!(stage.timezone, chrono_tz::Europe::Paris);
    let parsed = one(r#"{"id": 1, "name": "x", "submission_deadline": "2027-02-29"}"#);
    assert!(parsed.has_errors());
}

#[test]
fn empty_next_is_the_last_page() {
    let page = parse_page(br#"{"count": 1, "next": "", "previous": "", "results": []}"#, "p", BASE).unwrap();
    assert_eq!(page.next, None);
    assert_eq!(page.previous, None);
    let page = parse_page(br#"{"results": []}"#, "p", BASE).unwrap();
    assert_eq!((page.count, page.next), (None, None));
}

/// The aid of the security review: an `application_url` with CRLF lines that
/// became a whole extra `VEVENT` in every subscribed calendar.
#[test]
fn hostile_urls_are_dropped_with_a_warning_and_the_aid_kept() {
    let aid = r#"{"id": 7, "name": "Appel", "url": "javascript:alert(1)",
        "application_url": "https://x.fr/\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nATTACH:https://x.fr/a.exe",
        "origin_url": "https://origine.fr/appel"}"#;
    let parsed = one(aid);
    assert_eq!(parsed.calls.len(), 1);
    let call = &parsed.calls[0];
    assert_eq!(call.info_url, "");
    assert_eq!(call.application_url, "https://origine.fr/appel", "origin_url stands in");
    let messages: Vec<(&str, Severity)> = parsed
        .problems
        .iter()
        .map(|p| (p.message.fr.as_str(), p.severity))
        .collect();
    assert_eq!(
        messages,
        [
            (
                "champ « url » : URL « javascript:alert(1) » ignorée : \
                 seules les adresses http:// ou https:// sont acceptées",
                Severity::Warning
            ),
            (
                "champ « application_url » : URL « https://x.fr/\\r\\nEND:VEVENT\\r\\nBEGIN:VEVENT\\r\\nATTACH:https://x.fr/a.exe » \
                 ignorée : adresse contenant un caractère de contrôle (retour à la ligne, tabulation…)",
                Severity::Warning
            ),
        ]
    );
    assert!(parsed.problems.iter().all(|p| p.position == "p:item 1 (id 7)"));
    assert_eq!(
        parsed.problems[0].message.en,
        "field “url”: URL “javascript:alert(1)” ignored: only http:// or https:// URLs are accepted"
    );
}

/// Nesting far past serde_json's recursion limit (128) is an error at the
/// document or item, never a stack overflow.
#[test]
fn deeply_nested_json_is_a_clear_error() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let parsed = parse_file(deep.as_bytes(), "aides.json", BASE);
    assert!(parsed.calls.is_empty());
    assert_eq!(parsed.problems.len(), 1);
    assert!(
        parsed.problems[0].position.starts_with("aides.json:"),
        "{:?}",
        parsed.problems
    );
    let nested_aid = format!(
        r#"{{"id": 1, "name": "x", "categories": {}1{}}}"#,
        "[".repeat(50_000),
        "]".repeat(50_000)
    );
    let page = parse_page(page_of(&nested_aid).as_bytes(), "p", BASE).unwrap();
    assert!(page.parsed.calls.is_empty());
    assert_eq!(page.parsed.problems.len(), 1);
    assert_eq!(page.parsed.problems[0].position, "p:item 1");
    assert!(
        page.parsed.problems[0].message.starts_with("JSON invalide"),
        "{:?}",
        page.parsed.problems
    );
    let open = "{\"a\":".repeat(100_000);
    let parsed = parse_file(open.as_bytes(), "aides.json", BASE);
    assert_eq!(parsed.problems.len(), 1);
}

/// Random and mutated pages and files (from the fixtures): never a panic,
/// every problem positioned in the file, every URL kept passes the one check.
#[test]
fn hostile_documents_never_panic() {
    vigie_mutate::for_each_case(0xA1DE5, &[PAGE_1, PAGE_2], 300, |doc| {
        let parsed = parse_file(doc, "aides.json", BASE);
        for problem in &parsed.problems {
            assert!(problem.position.starts_with("aides.json:"), "{problem:?}");
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
        match parse_page(doc, "p", BASE) {
            Ok(page) => {
                assert!(page.parsed.problems.iter().all(|p| p.position.starts_with("p:item ")));
                assert!(page
                    .parsed
                    .problems
                    .iter()
                    .all(|p| !p.message.en.is_empty() && p.message.en != p.message.fr));
            }
            Err(problem) => assert!(!problem.message.en.is_empty() && problem.message.en != problem.message.fr),
        }
    });
}
