//! Demo facilitators for `vigie dev --demo`: conseillers numériques for each
//! network of the demo federation — one for two of its structures, plus one
//! — each intervening in every department where that network has
//! structures, able to support every vital function of the catalogue, with
//! 30 % of their 35 hours reserved for structures' internal needs.
//!
//! Why so many: the demo's fragile structures and escalated calls open
//! proposals of two hours each (about three per structure once every call
//! is planned), and an offer reserves its facilitator's week (630 minutes
//! of internal time). With two per network, the larger networks' weeks
//! filled up within minutes and a director's own request found nobody — not
//! what a first try of the demo should show.

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
    let mut sizes: BTreeMap<&str, usize> = BTreeMap::new();
    for (network, department) in structures {
        departments
            .entry(network.as_str())
            .or_default()
            .insert(department.as_str());
        *sizes.entry(network.as_str()).or_default() += 1;
    }
    let functions: Vec<&str> = CATALOGUE.iter().map(|entry| entry.code).collect();
    let funding_end = NaiveDate::from_ymd_opt(today.year() + 1, 12, 31).unwrap_or(today);
    let mut csv = FACILITATORS_HEADER.join(",");
    csv.push('\n');
    let mut index = 0;
    for (network, departments) in &departments {
        let territory: Vec<&str> = departments.iter().copied().collect();
        for n in 1..=facilitators_for(sizes[network]) {
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

/// Facilitators of a network of `structures` structures: one for two, plus
/// one (so at least two).
fn facilitators_for(structures: usize) -> usize {
    structures.div_ceil(2) + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(csv: &[u8]) -> Vec<String> {
        String::from_utf8(csv.to_vec())
            .unwrap()
            .lines()
            .skip(1)
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn a_network_gets_one_facilitator_for_two_structures_plus_one() {
        assert_eq!(facilitators_for(1), 2);
        assert_eq!(facilitators_for(4), 3);
        assert_eq!(facilitators_for(5), 4);
        assert_eq!(facilitators_for(9), 6);
        let today = NaiveDate::from_ymd_opt(2026, 12, 3).unwrap();
        let mut structures = vec![("small".to_owned(), "35".to_owned())];
        structures.extend((0..7).map(|i| ("large".to_owned(), if i % 2 == 0 { "973" } else { "972" }.to_owned())));
        let rows = lines(&facilitators(&structures, today));
        let large: Vec<&String> = rows.iter().filter(|r| r.starts_with("CN-large-")).collect();
        let small: Vec<&String> = rows.iter().filter(|r| r.starts_with("CN-small-")).collect();
        assert_eq!((large.len(), small.len()), (5, 2), "{rows:#?}");
        assert!(large.iter().all(|r| r.contains("972;973")), "{large:#?}");
        // Every facilitator of the demo has a name of their own.
        let names: BTreeSet<&str> = rows.iter().map(|r| r.split(',').nth(1).unwrap()).collect();
        assert_eq!(names.len(), rows.len());
    }
}
