//! The demo data of alerting loaded by `vigie dev --demo`: an
//! Aides-territoires page (the real format, read by the real connector)
//! whose deadlines fall a few days to a few weeks after `today`, and a sheet
//! of grants (the import's own format, read by `ImportGrants`' code) so that
//! the « Subventions » sections are not empty at first try.

use chrono::{Datelike, Days, Months, NaiveDate};
use serde_json::json;

/// File name under which the demo page is imported.
pub const DEMO_FILE: &str = "demo-aides-territoires.json";

/// `(id, name, financers, categories, audiences, perimeter, scale, days until the deadline, pre-deposit days)`.
type DemoCall = (
    u32,
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
    &'static [&'static str],
    &'static str,
    &'static str,
    u64,
    Option<u64>,
);

const CALLS: &[DemoCall] = &[
    (
        910_001,
        "Fonds pour le développement de la vie associative (FDVA) — fonctionnement et innovation",
        &["Ministère chargé de la vie associative"],
        &["Solidarités / Vie associative"],
        &["Associations"],
        "France",
        "Pays",
        12,
        None,
    ),
    (
        910_002,
        "Appel à projets « Inclusion numérique des publics fragiles »",
        &["Agence nationale de la cohésion des territoires"],
        &[
            "Numérique / Inclusion numérique",
            "Solidarités / Lutte contre la précarité",
        ],
        &["Associations", "Entreprises de l'économie sociale et solidaire"],
        "France",
        "Pays",
        26,
        Some(9),
    ),
    (
        910_003,
        "Soutien régional aux têtes de réseau de l'ESS",
        &["Région Bretagne"],
        &["Économie sociale et solidaire / Structuration des réseaux"],
        &["Associations", "Entreprises de l'économie sociale et solidaire"],
        "Bretagne",
        "Région",
        6,
        None,
    ),
    (
        910_004,
        "Dispositif local d'accompagnement (DLA) — appel à candidatures",
        &["France Active", "Banque des Territoires"],
        &["Économie sociale et solidaire / Accompagnement"],
        &["Associations", "Entreprises de l'économie sociale et solidaire"],
        "Île-de-France",
        "Région",
        19,
        None,
    ),
    (
        910_005,
        "Fonds d'innovation sociale en Auvergne-Rhône-Alpes",
        &["Région Auvergne-Rhône-Alpes", "Bpifrance"],
        &["Économie sociale et solidaire / Innovation sociale"],
        &["Entreprises de l'économie sociale et solidaire", "Associations"],
        "Auvergne-Rhône-Alpes",
        "Région",
        45,
        Some(30),
    ),
    (
        910_006,
        "Transition numérique des structures de l'économie sociale et solidaire",
        &["Ministère de l'Économie"],
        &["Numérique / Équipement et usages"],
        &[
            "Entreprises de l'économie sociale et solidaire",
            "Associations",
            "Fondations",
            "Mutuelles",
        ],
        "France",
        "Pays",
        33,
        None,
    ),
];

/// The demo page: an Aides-territoires envelope with deadlines after `today`.
pub fn aides_territoires_page(today: NaiveDate) -> Vec<u8> {
    let date = |days: u64| today.checked_add_days(Days::new(days)).unwrap_or(today).to_string();
    let results: Vec<serde_json::Value> = CALLS
        .iter()
        .map(
            |(id, name, financers, categories, audiences, perimeter, scale, deadline, predeposit)| {
                json!({
                    "id": id,
                    "slug": format!("demo-{id}"),
                    "url": format!("/aides/demo-{id}/"),
                    "name": name,
                    "name_initial": name,
                    "financers": financers,
                    "instructors": [],
                    "programs": [],
                    "categories": categories,
                    "targeted_audiences": audiences,
                    "aid_types": ["Subvention"],
                    "recurrence": "Ponctuelle",
                    "perimeter": perimeter,
                    "perimeter_scale": scale,
                    "start_date": today.to_string(),
                    "predeposit_date": predeposit.map(date),
                    "submission_deadline": date(*deadline),
                    "is_call_for_project": true,
                    "origin_url": "",
                    "application_url": format!("https://demarches.example.org/demo-{id}"),
                    "date_created": today.to_string(),
                    "date_updated": today.to_string(),
                })
            },
        )
        .collect();
    let page = json!({ "count": results.len(), "previous": null, "next": null, "results": results });
    serde_json::to_vec_pretty(&page).unwrap_or_default()
}

/// File name under which the demo grants are imported (in its problems).
pub const DEMO_GRANTS_FILE: &str = "demo-subventions.csv";

/// Days until the report due of the demo grant at risk: within the
/// fortnight the coordinator's « à risque » looks at.
pub const DEMO_DUE_IN_DAYS: u64 = 10;

/// A demo structure as the grants need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoStructure {
    /// Its identifier.
    pub id: String,
    /// Its network.
    pub network: String,
    /// People who hold `funder_reporting` (level 3 or more, practised within a
    /// year, not gone), as the inventory says.
    pub reporting_holders: usize,
}

/// `(funder, title, asked €, outcome, granted €)`: the demo's applications,
/// dealt to the structures in turn; « obtenu » ones are for the current
/// financial year (their report is due in more than six months, so they
/// send no reminder).
const GRANTS: &[(&str, &str, u32, &str, u32)] = &[
    ("Conseil régional", "Emploi associatif", 20_000, "obtenu", 15_000),
    ("Fondation de France", "Numérique solidaire", 8_000, "refusé", 0),
    ("CAF", "Accueil de loisirs", 5_000, "", 0),
    (
        "Fonds pour le développement de la vie associative (FDVA)",
        "Fonctionnement",
        6_000,
        "obtenu",
        4_500,
    ),
    ("Conseil régional", "Emploi associatif", 18_000, "refusé", 0),
    ("Fondation de France", "Numérique solidaire", 10_000, "obtenu", 7_500),
    ("CAF", "Accueil de loisirs", 4_000, "obtenu", 3_000),
    (
        "Fonds pour le développement de la vie associative (FDVA)",
        "Fonctionnement",
        7_000,
        "",
        0,
    ),
];

/// Structures that get demo grants besides the one at risk (a few per network).
const GRANTED_STRUCTURES: usize = 8;

/// The demo grants as an import sheet (CSV) for `structures` (in the
/// inventory's order), on `today`: applications, wins and refusals across
/// four funders on the first structures of each network, and one grant won
/// whose financial report is due in [`DEMO_DUE_IN_DAYS`] days on the first
/// structure whose reports to funders rest on one person (or, failing one,
/// on nobody), so that it is a duty at risk this fortnight.
pub fn grants_sheet(structures: &[DemoStructure], today: NaiveDate) -> Vec<u8> {
    let mut sheet = String::from(
        "structure,financeur,intitulé,date de dépôt,montant demandé,issue,date de décision,montant accordé,fin d'exercice\n",
    );
    // Applications were made in the year, decided a month later.
    let applied = today.checked_sub_days(Days::new(60)).unwrap_or(today);
    let decided = today.checked_sub_days(Days::new(30)).unwrap_or(today);
    let year_end = NaiveDate::from_ymd_opt(today.year(), 12, 31).unwrap_or(today);
    let (chosen, at_risk) = choose(structures);
    for (i, s) in chosen.iter().enumerate() {
        // Two rows each, taken in turn from GRANTS.
        for (funder, title, asked, outcome, granted) in
            [GRANTS[(2 * i) % GRANTS.len()], GRANTS[(2 * i + 1) % GRANTS.len()]]
        {
            sheet.push_str(&row(
                &s.id, funder, title, applied, asked, outcome, decided, granted, year_end,
            ));
        }
    }
    if let Some(s) = at_risk {
        // The report is due six months after the financial year's end.
        let due = today.checked_add_days(Days::new(DEMO_DUE_IN_DAYS)).unwrap_or(today);
        let ended = due.checked_sub_months(Months::new(6)).unwrap_or(today);
        let applied = ended.checked_sub_months(Months::new(12)).unwrap_or(ended);
        let decided = applied.checked_add_days(Days::new(45)).unwrap_or(applied);
        sheet.push_str(&row(
            &s.id,
            "Conseil départemental",
            "Insertion par le numérique",
            applied,
            12_000,
            "obtenu",
            decided,
            10_000,
            ended,
        ));
    }
    sheet.into_bytes()
}

/// The structures given grants, and the one given the grant at risk.
fn choose(structures: &[DemoStructure]) -> (Vec<&DemoStructure>, Option<&DemoStructure>) {
    let at_risk = structures
        .iter()
        .find(|s| s.reporting_holders == 1)
        .or_else(|| structures.iter().find(|s| s.reporting_holders == 0));
    // One network after the other in turn, so that every network shows some.
    let mut networks: Vec<&str> = structures.iter().map(|s| s.network.as_str()).collect();
    networks.sort_unstable();
    networks.dedup();
    let mut chosen: Vec<&DemoStructure> = Vec::new();
    for round in 0.. {
        let before = chosen.len();
        for network in &networks {
            if let Some(s) = structures
                .iter()
                .filter(|s| s.network == *network && Some(*s) != at_risk)
                .nth(round)
            {
                chosen.push(s);
            }
        }
        if chosen.len() >= GRANTED_STRUCTURES || chosen.len() == before {
            break;
        }
    }
    chosen.truncate(GRANTED_STRUCTURES);
    (chosen, at_risk)
}

/// The identifiers of the structures [`grants_sheet`] names: the import
/// needs alerting to know them first.
pub fn grant_structures(structures: &[DemoStructure]) -> Vec<String> {
    let (chosen, at_risk) = choose(structures);
    chosen.into_iter().chain(at_risk).map(|s| s.id.clone()).collect()
}

/// One line of the sheet (amounts in whole euros; no decision date nor
/// amount granted for a pending application).
#[allow(clippy::too_many_arguments)] // one column each, named at the call
fn row(
    structure: &str,
    funder: &str,
    title: &str,
    applied: NaiveDate,
    asked: u32,
    outcome: &str,
    decided: NaiveDate,
    granted: u32,
    year_end: NaiveDate,
) -> String {
    let (decided, granted, year_end) = match outcome {
        "obtenu" => (decided.to_string(), granted.to_string(), year_end.to_string()),
        "refusé" => (decided.to_string(), String::new(), String::new()),
        _ => (String::new(), String::new(), String::new()),
    };
    format!("{structure},{funder},{title},{applied},{asked},{outcome},{decided},{granted},{year_end}\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigie_grants_sheet::import::{parse, RowAction};

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn structures() -> Vec<DemoStructure> {
        let mut all = Vec::new();
        for (n, network) in ["reseau-a", "reseau-b", "reseau-c"].iter().enumerate() {
            for k in 0..5 {
                all.push(DemoStructure {
                    id: format!("S{n}{k}"),
                    network: (*network).to_owned(),
                    reporting_holders: if n == 1 && k == 3 { 1 } else { 2 },
                });
            }
        }
        all
    }

    #[test]
    fn the_demo_sheet_is_a_valid_import_with_wins_refusals_and_pending_across_four_funders() {
        let today = d(2026, 12, 3);
        let sheet = grants_sheet(&structures(), today);
        let parsed = parse(&sheet, today);
        assert!(parsed.problems.is_empty(), "{:?}", parsed.problems);
        assert_eq!(parsed.rows.len(), 2 * GRANTED_STRUCTURES + 1);
        assert_eq!(grant_structures(&structures()).len(), GRANTED_STRUCTURES + 1);
        let text = String::from_utf8(sheet).unwrap();
        for (funder, ..) in GRANTS {
            assert!(text.contains(funder), "{funder}");
        }
        let count = |word: &str| text.lines().filter(|l| l.contains(&format!(",{word},"))).count();
        assert!(count("obtenu") >= 3 && count("refusé") >= 2, "{text}");
        assert!(
            parsed
                .rows
                .iter()
                .any(|r| matches!(r.action, RowAction::Application(_))),
            "a pending one"
        );
        // Every network has some.
        for network in ["S0", "S1", "S2"] {
            assert!(text.lines().any(|l| l.starts_with(network)), "{network}");
        }
    }

    #[test]
    fn the_grant_at_risk_is_on_the_single_reporter_and_due_in_ten_days() {
        let today = d(2026, 12, 3);
        let text = String::from_utf8(grants_sheet(&structures(), today)).unwrap();
        let at_risk: Vec<&str> = text
            .lines()
            .filter(|l| l.contains("Insertion par le numérique"))
            .collect();
        assert_eq!(at_risk.len(), 1);
        // Due 13 December 2026: the financial year ended 13 June 2026.
        assert!(
            at_risk[0].starts_with("S13,") && at_risk[0].ends_with(",2026-06-13"),
            "{}",
            at_risk[0]
        );
        assert!(!text
            .lines()
            .skip(1)
            .any(|l| l.starts_with("S13,") && !l.contains("Insertion")));
        // Nobody holds it anywhere: the first structure without a holder.
        let mut none = structures();
        for s in &mut none {
            s.reporting_holders = if s.id == "S21" { 0 } else { 3 };
        }
        let text = String::from_utf8(grants_sheet(&none, today)).unwrap();
        assert!(text.lines().any(|l| l.starts_with("S21,") && l.contains("Insertion")));
        // The other wins are for this year: their report is due next summer.
        assert!(text
            .lines()
            .filter(|l| l.contains(",obtenu,") && !l.contains("Insertion"))
            .all(|l| l.ends_with(",2026-12-31")));
    }
}
