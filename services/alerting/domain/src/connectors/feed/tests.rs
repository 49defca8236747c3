#![allow(clippy::unwrap_used)]

use super::*;
use crate::call::{ImportProblem, Severity};

const RSS: &[u8] = include_bytes!("../../../tests/fixtures/feed_region.rss.xml");
const ATOM: &[u8] = include_bytes!("../../../tests/fixtures/feed_reseau.atom.xml");

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

fn region() -> FeedMapping {
    FeedMapping {
        audiences: vec!["association".to_owned(), "Entreprises privées".to_owned()],
        funders: vec!["Région Bretagne".to_owned()],
        perimeter_name: "Bretagne".to_owned(),
        perimeter_scale: "Région".to_owned(),
        ..FeedMapping::new("region-bretagne")
    }
}

fn reseau() -> FeedMapping {
    FeedMapping {
        deadline_element: Some("aap:dateCloture".to_owned()),
        ..FeedMapping::new("reseau-ess")
    }
}

fn stages(call: &CallDraft) -> Vec<(StageKind, NaiveDate, Option<NaiveTime>, &str)> {
    call.stages
        .iter()
        .map(|s| (s.kind, s.date, s.time, s.wording.as_str()))
        .collect()
}

#[test]
fn rss_items_with_deadlines_in_their_text() {
    let parsed = parse_feed(RSS, "region.xml", &region());
    let refs: Vec<_> = parsed.calls.iter().map(|c| c.source_ref.as_str()).collect();
    assert_eq!(
        refs,
        [
            "bzh-aide-4812",
            "https://www.bretagne.bzh/aides/fiches/pass-asso-emploi/",
            "bzh-aide-4790",
            "https://www.bretagne.bzh/aides/fiches/culture-lien-social/",
        ]
    );
    assert_eq!(
        parsed.problems,
        [
            ImportProblem {
                position: "region.xml:item 3".to_owned(),
                message: words!(
                    "aucune date limite de dépôt reconnue : appel sans échéance",
                    "no submission deadline recognised: call without a deadline"
                ),
                severity: Severity::Warning,
            },
            ImportProblem {
                position: "region.xml:item 4".to_owned(),
                message: words!("titre manquant", "missing title"),
                severity: Severity::Error,
            },
        ]
    );

    let ess = &parsed.calls[0];
    assert_eq!(ess.source, "feed:region-bretagne");
    assert_eq!(
        ess.title,
        "Appel à projets « Économie sociale et solidaire et transitions » 2027"
    );
    assert_eq!(
        ess.info_url,
        "https://www.bretagne.bzh/aides/fiches/aap-ess-transitions-2027/"
    );
    assert_eq!(ess.application_url, "");
    assert_eq!(ess.themes, ["Économie sociale et solidaire", "Transition écologique"]);
    assert_eq!(ess.audiences, ["association", "esus_company", "scic", "scop"]);
    assert_eq!(ess.funders, ["Région Bretagne"]);
    assert_eq!(ess.perimeter.name, "Bretagne");
    assert_eq!(ess.perimeter.scale_label, "Région");
    assert_eq!(ess.recurrence, None);
    assert!(!ess.cancelled);
    assert_eq!(
        stages(ess),
        [(
            StageKind::Submission,
            day("2027-03-14"),
            None,
            "Date limite de dépôt des dossiers : 14/03/2027"
        )]
    );
    assert_eq!(ess.stages[0].timezone, DEFAULT_TZ);
    assert!(
        ess.raw.starts_with("<item>\n      <title>Appel à projets"),
        "{}",
        ess.raw
    );
    assert!(ess.raw.ends_with("</description>\n    </item>"), "{}", ess.raw);

    let pass = &parsed.calls[1];
    assert_eq!(
        stages(pass),
        [
            (
                StageKind::PreDeposit,
                day("2027-03-01"),
                None,
                "Date limite de pré-dépôt : 1er mars 2027"
            ),
            (
                StageKind::Submission,
                day("2027-04-30"),
                NaiveTime::from_hms_opt(12, 0, 0),
                "Clôture des candidatures le 30 avril 2027 à 12h00"
            ),
        ]
    );
    assert_eq!(pass.themes, ["Vie associative", "Emploi"]);

    let permanent = &parsed.calls[2];
    assert!(permanent.stages.is_empty());

    let culture = &parsed.calls[3];
    assert_eq!(culture.title, "Fonds « Culture et lien social » & éducation populaire");
    assert_eq!(culture.info_url, culture.source_ref, "the link is the id without guid");
    assert_eq!(
        stages(culture),
        [(
            StageKind::Submission,
            day("2027-06-15"),
            None,
            "Date limite : 15 juin 2027"
        )]
    );
}

#[test]
fn atom_entries_with_a_deadline_element() {
    let parsed = parse_feed(ATOM, "reseau.atom", &reseau());
    assert_eq!(parsed.calls.len(), 2);
    let fondation = &parsed.calls[0];
    assert_eq!(fondation.source, "feed:reseau-ess");
    assert_eq!(fondation.source_ref, "tag:reseau-ess.example,2027:veille/118");
    assert_eq!(fondation.title, "Fondation de France – Vivre ensemble 2027");
    assert_eq!(
        fondation.info_url, "https://reseau-ess.example/veille/118",
        "the enclosure is not the page"
    );
    assert_eq!(fondation.themes, ["Solidarités", "lien-social"]);
    assert_eq!(
        stages(fondation),
        [(
            StageKind::Submission,
            day("2027-09-30"),
            NaiveTime::from_hms_opt(17, 0, 0),
            "aap:dateCloture: 2027-09-30T17:00:00+02:00"
        )],
        "the element wins over the text of the summary"
    );
    assert!(fondation.audiences.is_empty());
    assert_eq!(fondation.perimeter, Perimeter::default());

    let numerique = &parsed.calls[1];
    assert_eq!(numerique.info_url, "https://reseau-ess.example/veille/121");
    assert_eq!(
        stages(numerique),
        [
            (
                StageKind::LetterOfIntent,
                day("2027-02-15"),
                None,
                "Lettre d'intention avant le 15 février 2027"
            ),
            (
                StageKind::Submission,
                day("2027-04-02"),
                None,
                "Date de clôture : 2027-04-02"
            ),
        ],
        "an unreadable element falls back to the text"
    );
    assert_eq!(
        parsed.problems,
        [ImportProblem {
            position: "reseau.atom:item 2".to_owned(),
            message: words!(
                "date limite illisible dans <aap:dateCloture> : « bientôt »",
                "unreadable deadline in <aap:dateCloture>: “bientôt”"
            ),
            severity: Severity::Warning,
        }]
    );
}

#[test]
fn deadline_in_an_attribute_matched_by_local_name() {
    let doc = r#"<rss version="2.0"><channel>
        <item><title>A</title><guid>a</guid><echeance jour="2027-03-14" /></item>
        <item><title>B</title><guid>b</guid><echeance>2027-03-15</echeance></item>
        </channel></rss>"#;
    let mapping = FeedMapping {
        deadline_element: Some("echeance".to_owned()),
        deadline_attribute: Some("jour".to_owned()),
        ..FeedMapping::new("x")
    };
    let parsed = parse_feed(doc.as_bytes(), "f.xml", &mapping);
    assert_eq!(
        stages(&parsed.calls[0]),
        [(StageKind::Submission, day("2027-03-14"), None, "echeance: 2027-03-14")]
    );
    assert!(parsed.calls[1].stages.is_empty(), "no attribute: no deadline");
    assert_eq!(parsed.problems.len(), 1);
    assert_eq!(parsed.problems[0].position, "f.xml:item 2");
}

#[test]
fn deadline_elements_in_rfc_2822_or_french() {
    let paris = DEFAULT_TZ;
    assert_eq!(
        parse_date_value("Sun, 14 Mar 2027 12:00:00 +0100", paris),
        Some((day("2027-03-14"), NaiveTime::from_hms_opt(12, 0, 0)))
    );
    assert_eq!(
        parse_date_value("Sun, 14 Mar 2027 23:59:59 +0100", paris),
        Some((day("2027-03-14"), None))
    );
    assert_eq!(parse_date_value("14/03/2027", paris), Some((day("2027-03-14"), None)));
    assert_eq!(
        parse_date_value("le 14 mars 2027 à 17h", paris),
        Some((day("2027-03-14"), NaiveTime::from_hms_opt(17, 0, 0)))
    );
    assert_eq!(parse_date_value("2027-03-14", paris), Some((day("2027-03-14"), None)));
    assert_eq!(parse_date_value("bientôt", paris), None);
    assert_eq!(parse_date_value("", paris), None);
}

#[test]
fn malformed_xml_is_an_error_at_its_line_and_earlier_items_are_kept() {
    let doc =
        "<rss><channel>\n<item><title>A</title><guid>a</guid></item>\n<item><title>B</titl>\n</item></channel></rss>";
    let parsed = parse_feed(doc.as_bytes(), "casse.xml", &FeedMapping::new("x"));
    assert_eq!(parsed.calls.len(), 1);
    let problem = parsed.problems.last().unwrap();
    assert_eq!(problem.severity, Severity::Error);
    assert_eq!(problem.position, "casse.xml:3");
    assert_eq!(
        problem.message,
        "XML mal formé dans l'item 2 : balise fermante </titl> au lieu de </title>"
    );
    assert_eq!(
        problem.message.en,
        "malformed XML in item 2: closing tag </titl> instead of </title>"
    );
}

#[test]
fn truncated_and_foreign_documents() {
    let mapping = FeedMapping::new("x");
    let truncated = parse_feed(b"<rss><channel>\n<item><title>A</title>", "t.xml", &mapping);
    assert!(truncated.calls.is_empty());
    assert_eq!(truncated.problems.len(), 1);
    assert_eq!(truncated.problems[0].position, "t.xml:2");
    assert_eq!(truncated.problems[0].severity, Severity::Error);

    let html = parse_feed(
        b"<!DOCTYPE html>\n<html><body>Maintenance</body></html>",
        "h.xml",
        &mapping,
    );
    assert_eq!(
        html.problems,
        [ImportProblem {
            position: "h.xml:2".to_owned(),
            message: words!(
                "ni un flux RSS ni un flux Atom (élément racine <html>)",
                "neither an RSS nor an Atom feed (root element <html>)"
            ),
            severity: Severity::Error,
        }]
    );
    let empty = parse_feed(b"", "e.xml", &mapping);
    assert_eq!(empty.problems[0].to_string(), "e.xml:1: flux vide : ni RSS ni Atom");
    let latin1 = parse_feed(
        b"<rss><channel>\n<item><title>Aide \xe9t\xe9</title></item></channel></rss>",
        "l.xml",
        &mapping,
    );
    assert_eq!(latin1.problems[0].to_string(), "l.xml:2: le flux n'est pas en UTF-8");
    let amp = parse_feed(
        b"<rss><channel><item><title>R&D</title></item></channel></rss>",
        "a.xml",
        &mapping,
    );
    assert_eq!(amp.problems.len(), 1);
    assert_eq!(amp.problems[0].severity, Severity::Error);
    assert!(
        amp.problems[0].message.starts_with("XML mal formé dans l'item 1"),
        "{}",
        amp.problems[0].message
    );
    let empty_root = parse_feed(b"<?xml version=\"1.0\"?><rss/>", "v.xml", &mapping);
    assert_eq!(empty_root, Parsed::default());
}

#[test]
fn items_need_an_identity() {
    let doc = "<rss><channel><item><title>Sans lien</title><description>Date limite : 14/03/2027</description></item></channel></rss>";
    let parsed = parse_feed(doc.as_bytes(), "f.xml", &FeedMapping::new("x"));
    assert!(parsed.calls.is_empty());
    assert_eq!(
        parsed.problems[0].to_string(),
        "f.xml:item 1: ni guid, ni id, ni lien : l'item n'a pas d'identifiant stable"
    );
}

#[test]
fn entities_and_self_closed_items() {
    let doc = "<rss><channel><item/><item><title>Caf&#233; &amp; th&eacute;</title><guid>g</guid><description>D&#xE9;p&ocirc;t</description></item></channel></rss>";
    let parsed = parse_feed(doc.as_bytes(), "f.xml", &FeedMapping::new("x"));
    assert_eq!(parsed.problems[0].to_string(), "f.xml:item 1: titre manquant");
    assert_eq!(parsed.calls[0].title, "Café & thé");
}

#[test]
fn several_dates_for_one_stage_keep_the_first() {
    let doc = "<rss><channel><item><title>T</title><guid>g</guid><description>Date limite : 14/03/2027. Rappel : date limite le 21/03/2027. Date limite : 14 mars 2027</description></item></channel></rss>";
    let parsed = parse_feed(doc.as_bytes(), "f.xml", &FeedMapping::new("x"));
    assert_eq!(parsed.calls[0].stages.len(), 1);
    assert_eq!(parsed.calls[0].stages[0].date, day("2027-03-14"));
    assert_eq!(
        parsed.problems,
        [ImportProblem {
            position: "f.xml:item 1".to_owned(),
            message: words!(
                "plusieurs dates pour « dépôt », la première (2027-03-14) est retenue : « date limite le 21/03/2027 » ignoré",
                "several dates for “submission”, the first (2027-03-14) is kept: “date limite le 21/03/2027” ignored"
            ),
            severity: Severity::Warning,
        }]
    );
}

#[test]
fn the_mapping_can_set_the_zone_and_its_labels() {
    let doc = "<rss><channel><item><title>T</title><guid>g</guid><description>À déposer jusqu'au 14/03/2027 à 16h30</description></item></channel></rss>";
    let mapping = FeedMapping {
        deadline_labels: vec!["jusqu'au".to_owned()],
        timezone: Some("Indian/Reunion".to_owned()),
        themes_from_categories: false,
        ..FeedMapping::new("reunion")
    };
    let parsed = parse_feed(doc.as_bytes(), "f.xml", &mapping);
    let stage = &parsed.calls[0].stages[0];
    assert_eq!(
        (stage.date, stage.time),
        (day("2027-03-14"), NaiveTime::from_hms_opt(16, 30, 0))
    );
    assert_eq!(stage.timezone, chrono_tz::Indian::Reunion);
    assert_eq!(stage.wording, "jusqu'au 14/03/2027 à 16h30");
}

#[test]
fn bad_mappings_are_refused() {
    let mut mapping = FeedMapping::new("mon flux");
    let parsed = parse_feed(RSS, "f.xml", &mapping);
    assert!(parsed.calls.is_empty());
    assert_eq!(parsed.problems[0].position, "f.xml");
    assert!(parsed.problems[0]
        .message
        .contains("nom de source « mon flux » invalide"));
    mapping.source_name = "ok".to_owned();
    mapping.timezone = Some("Europe/Rennes".to_owned());
    assert_eq!(
        mapping.check(),
        Err(words!(
            "correspondance du flux : fuseau horaire inconnu « Europe/Rennes »",
            "feed mapping: unknown time zone “Europe/Rennes”"
        ))
    );
    mapping.timezone = None;
    mapping.deadline_attribute = Some("date".to_owned());
    assert!(mapping.check().is_err());
    mapping.deadline_element = Some("echeance".to_owned());
    assert_eq!(mapping.check(), Ok(()));
}

#[test]
fn unknown_default_audiences_are_reported_once() {
    let mapping = FeedMapping {
        audiences: vec!["scic".to_owned(), "Particuliers".to_owned(), "Clubs".to_owned()],
        ..FeedMapping::new("x")
    };
    let parsed = parse_feed(ATOM, "f.xml", &mapping);
    assert!(parsed.calls.iter().all(|call| call.audiences == ["scic"]));
    let warnings: Vec<_> = parsed.problems.iter().filter(|p| p.position == "f.xml").collect();
    assert_eq!(warnings.len(), 1);
    assert_eq!(
        warnings[0].message,
        "public visé inconnu « Clubs » dans la correspondance du flux, ignoré"
    );
}

#[test]
fn mappings_load_from_toml() {
    let mapping: FeedMapping = toml::from_str(
        r#"
        source_name = "region-bretagne"
        deadline_element = "dateCloture"
        audiences = ["association", "Entreprises privées"]
        funders = ["Région Bretagne"]
        perimeter_name = "Bretagne"
        perimeter_scale = "Région"
        "#,
    )
    .unwrap();
    assert_eq!(mapping.source(), "feed:region-bretagne");
    assert_eq!(mapping.deadline_element.as_deref(), Some("dateCloture"));
    assert_eq!(
        mapping.deadline_labels,
        FeedMapping::new("x").deadline_labels,
        "defaults"
    );
    assert!(mapping.themes_from_categories);
    assert_eq!(mapping.check(), Ok(()));
    let minimal: FeedMapping = toml::from_str(r#"source_name = "x""#).unwrap();
    assert_eq!(minimal, FeedMapping::new("x"));
    let unknown = toml::from_str::<FeedMapping>("source_name = \"x\"\ndate_limite = \"y\"");
    assert!(unknown.is_err(), "unknown fields are refused");
    assert!(
        toml::from_str::<FeedMapping>("deadline_element = \"y\"").is_err(),
        "source_name is required"
    );
}

fn folded(text: &str) -> Vec<char> {
    text.chars().map(fold_char).collect()
}

#[test]
fn dates_in_text() {
    let cases = [
        ("14/03/2027", Some(("2027-03-14", 10))),
        ("4/3/2027", Some(("2027-03-04", 8))),
        ("14.03.2027", Some(("2027-03-14", 10))),
        ("14-03-2027", Some(("2027-03-14", 10))),
        ("2027-03-14", Some(("2027-03-14", 10))),
        ("14 mars 2027", Some(("2027-03-14", 12))),
        ("1er mars 2027", Some(("2027-03-01", 13))),
        ("1 er mars 2027", None),
        ("14 Février 2027", Some(("2027-02-14", 15))),
        ("14 FÉVR. 2027", Some(("2027-02-14", 13))),
        ("3 sept. 2027", Some(("2027-09-03", 12))),
        ("31 août 2027", Some(("2027-08-31", 12))),
        ("15 décembre 2027", Some(("2027-12-15", 16))),
        ("15 dec 2027", Some(("2027-12-15", 11))),
        ("15\u{a0}juin\u{a0}2027", Some(("2027-06-15", 12))),
        ("31/02/2027", None),
        ("30 février 2027", None),
        ("14/03/27", None),
        ("14/03-2027", None),
        ("114/03/2027", None),
        ("14 marsupial 2027", None),
        ("14 mars", None),
        ("2027-3-14", None),
        ("mars 2027", None),
    ];
    for (text, expected) in cases {
        let got = date_at(&folded(text), 0);
        assert_eq!(got, expected.map(|(date, end)| (day(date), end)), "{text}");
    }
    assert_eq!(date_at(&folded("a14/03/2027"), 1), None, "inside a word");
}

#[test]
fn times_after_dates() {
    let time = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap();
    let cases = [
        (" à 12h00", Some((time(12, 0), 8))),
        (" à 12h", Some((time(12, 0), 6))),
        (" à 9 h 30", Some((time(9, 30), 9))),
        (" à 17 heures", Some((time(17, 0), 12))),
        (", 17:30", Some((time(17, 30), 7))),
        (" avant midi", Some((time(12, 0), 11))),
        (" - 23h59", Some((time(23, 59), 8))),
        (" à 25h00", None),
        (" à 12h75", None),
        (" à 12", None),
        (" à 12:5", None),
        (" à 3 associations", None),
        (". Dépôt", None),
        ("", None),
    ];
    for (text, expected) in cases {
        assert_eq!(time_after(&folded(text), 0), expected, "{text:?}");
    }
}

#[test]
fn the_longest_label_wins_and_labels_do_not_steal_dates() {
    let mapping = FeedMapping::new("x");
    let rules = Rules::new(&mapping, DEFAULT_TZ, Vec::new());
    let found = find_stages(
        "Date limite de pré-dépôt : 01/02/2027\nDate limite : 14/03/2027",
        &rules.labels,
    );
    let kinds: Vec<_> = found.iter().map(|f| (f.kind, f.date, f.wording.as_str())).collect();
    assert_eq!(
        kinds,
        [
            (
                StageKind::PreDeposit,
                day("2027-02-01"),
                "Date limite de pré-dépôt : 01/02/2027"
            ),
            (StageKind::Submission, day("2027-03-14"), "Date limite : 14/03/2027"),
        ]
    );
    let no_date = find_stages("Date limite : à venir. Clôture : 14/03/2027", &rules.labels);
    assert_eq!(no_date.len(), 1, "{no_date:?}");
    assert_eq!(no_date[0].wording, "Clôture : 14/03/2027");
    let far = find_stages(&format!("Date limite {} 14/03/2027", "x".repeat(WINDOW)), &rules.labels);
    assert!(far.is_empty(), "a date too far from its label is not taken");
    let in_word = find_stages("Autoclôture 14/03/2027", &rules.labels);
    assert!(in_word.is_empty(), "labels start at a word");
    assert!(find_stages("", &rules.labels).is_empty());
}

#[test]
fn html_is_reduced_to_text() {
    assert_eq!(
        html_to_text("<p>Date&nbsp;limite :</p><p><strong>14/03/2027</strong> &amp; plus</p>"),
        "\nDate\u{a0}limite :\n\n14/03/2027 & plus\n"
    );
    assert_eq!(html_to_text("a < b et c > d"), "a < b et c > d");
    assert_eq!(html_to_text("fin <non fermé"), "fin <non fermé");
    assert_eq!(
        decode_entities("&#233;&#xE9;&eacute;&inconnu;& seul &;"),
        "ééé&inconnu;& seul &;"
    );
    assert_eq!(collapse("  a \u{a0} b\n\tc "), "a b c");
}

#[test]
fn hostile_links_are_dropped_with_a_warning_and_the_item_kept() {
    let doc = "<rss><channel><item><title>T</title><guid>g</guid>\
               <link>javascript:alert(1)</link><link>https://x.fr/&#13;&#10;ATTACH:a.exe</link>\
               <link>https://bon.fr/appel</link>\
               <description>Date limite : 14/03/2027</description></item></channel></rss>";
    let parsed = parse_feed(doc.as_bytes(), "f.xml", &FeedMapping::new("x"));
    assert_eq!(parsed.calls.len(), 1);
    assert_eq!(parsed.calls[0].info_url, "https://bon.fr/appel");
    let warnings: Vec<String> = parsed.problems.iter().map(ToString::to_string).collect();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(warnings[0].starts_with("f.xml:item 1: lien : URL « javascript:alert(1) » ignorée"));
    assert!(warnings[1].contains("caractère de contrôle"), "{warnings:?}");
    assert!(parsed.problems.iter().all(|p| p.severity == Severity::Warning));
}

/// XML nesting is read with an explicit stack, never by recursion: 100,000
/// nested elements are only a truncated feed.
#[test]
fn deeply_nested_elements_are_a_clear_error() {
    let doc = format!("<rss><channel><item><title>T</title>{}", "<a>".repeat(100_000));
    let parsed = parse_feed(doc.as_bytes(), "f.xml", &FeedMapping::new("x"));
    assert!(parsed.calls.is_empty());
    assert_eq!(parsed.problems.len(), 1);
    assert_eq!(parsed.problems[0].message, "flux tronqué : <a> n'est pas fermé");
}

/// Random and mutated RSS and Atom feeds: never a panic, every problem
/// positioned in the file, every link kept passes the one URL check.
#[test]
fn hostile_feeds_never_panic() {
    let mappings = [region(), reseau()];
    vigie_mutate::for_each_case(0xFEED, &[RSS, ATOM], 300, |doc| {
        for mapping in &mappings {
            let parsed = parse_feed(doc, "f.xml", mapping);
            for problem in &parsed.problems {
                assert!(problem.position.starts_with("f.xml"), "{problem:?}");
                assert!(!problem.message.is_empty());
                assert!(
                    !problem.message.en.is_empty() && problem.message.en != problem.message.fr,
                    "a problem without its English: {problem:?}"
                );
            }
            for call in &parsed.calls {
                assert!(call.info_url.is_empty() || crate::url::is_safe_url(&call.info_url));
            }
        }
    });
}

#[test]
fn huge_elements_are_cut_at_the_field_bound() {
    let filler = "é".repeat(MAX_FIELD_BYTES);
    let doc = format!(
        "<rss><channel><item><title>T{filler}</title><guid>g</guid>\
         <description>Date limite : 14/03/2027 {filler}</description></item></channel></rss>"
    );
    let parsed = parse_feed(doc.as_bytes(), "f.xml", &FeedMapping::new("x"));
    assert_eq!(parsed.calls.len(), 1, "{:?}", parsed.problems);
    let call = &parsed.calls[0];
    assert!(call.title.len() <= MAX_FIELD_BYTES, "{}", call.title.len());
    assert_eq!(call.stages[0].date, day("2027-03-14"));
}
