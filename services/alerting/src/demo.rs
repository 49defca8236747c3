//! The demo catalogue of calls loaded by `vigie dev --demo`: an
//! Aides-territoires page (the real format, read by the real connector)
//! whose deadlines fall a few days to a few weeks after `today`.

use chrono::{Days, NaiveDate};
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
