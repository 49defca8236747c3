//! Demo facilitators for `vigie dev --demo`: two conseillers numériques per
//! network of the demo federation, each intervening in every department
//! where that network has structures, able to support every vital function
//! of the catalogue, with 30 % of their 35 hours reserved for structures'
//! internal needs.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate};
use vigie_facilitation_domain::facilitators_csv::FACILITATORS_HEADER;
use vigie_fragility_model::catalogue::CATALOGUE;

/// First names and last names of the demo facilitators: 8 × 7 distinct
/// combinations, taken in turn (two per network).
const FIRST_NAMES: &[&str] = &["Camille", "Karim", "Léa", "Yann", "Inès", "Théo", "Awa", "Hugo"];
const LAST_NAMES: &[&str] = &["Martin", "Benali", "Dubois", "Le Gall", "Moreau", "Lambert", "Diallo"];

/// `facilitators.csv` for structures given as `(network, department code)`;
/// funding ends at the end of next year.
pub fn facilitators(structures: &[(String, String)], today: NaiveDate) -> Vec<u8> {
    let mut departments: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (network, department) in structures {
        departments
            .entry(network.as_str())
            .or_default()
            .insert(department.as_str());
    }
    let functions: Vec<&str> = CATALOGUE.iter().map(|entry| entry.code).collect();
    let funding_end = NaiveDate::from_ymd_opt(today.year() + 1, 12, 31).unwrap_or(today);
    let mut csv = FACILITATORS_HEADER.join(",");
    csv.push('\n');
    let mut index = 0;
    for (network, departments) in &departments {
        let territory: Vec<&str> = departments.iter().copied().collect();
        for n in 1..=2 {
            let name = format!(
                "{} {}",
                FIRST_NAMES[index % FIRST_NAMES.len()],
                LAST_NAMES[index % LAST_NAMES.len()]
            );
            index += 1;
            csv.push_str(&format!(
                "CN-{network}-{n},{name},conseiller_numerique,,,{},{},35,30%,Conseiller numérique France Services,{funding_end}\n",
                territory.join(";"),
                functions.join(";"),
            ));
        }
    }
    csv.into_bytes()
}
