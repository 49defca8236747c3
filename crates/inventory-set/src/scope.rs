//! Who may import what. The federation imports any structure; a network's
//! coordinator imports only for her networks: every structure of the set
//! must be declared in one of them, an existing structure must already be
//! there (a set cannot take a structure from another network), and a person
//! may not be taken from a structure of another network. Every refusal names
//! its row, `FILE:LINE`, like the set's own errors.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use vigie_tabular::{words, RowError};

/// The structures an import may touch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportScope {
    /// Any structure (the federation).
    Instance,
    /// Structures of these networks only (their coordinators).
    Networks(BTreeSet<String>),
}

/// The line of each value of column `column` in a CSV file whose header is
/// line 1 (the first occurrence wins); an unreadable file gives what it could
/// read (the set's own validation has already refused a broken one).
pub fn lines_of(bytes: &[u8], column: &str) -> HashMap<String, u64> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
    let Some(index) = reader.headers().ok().and_then(|headers| {
        headers
            .iter()
            .position(|h| h.trim_start_matches('\u{feff}').trim() == column)
    }) else {
        return HashMap::new();
    };
    let mut lines = HashMap::new();
    for record in reader.records().map_while(Result::ok) {
        if let (Some(value), Some(position)) = (record.get(index), record.position()) {
            lines.entry(value.trim().to_owned()).or_insert(position.line());
        }
    }
    lines
}

/// Where the refused rows are, read from the set's files once.
#[derive(Debug, Default)]
pub struct SetLines {
    /// `structure_id` → its line in `structures.csv`.
    pub structures: HashMap<String, u64>,
    /// `person_id` → its line in `people.csv`.
    pub people: HashMap<String, u64>,
}

/// Every row of the set outside `scope`: structures declared in another
/// network (`declared`: each structure of the set with its network),
/// existing structures that belong to another network
/// (`existing_networks`: id → current network), people who would leave a
/// structure of another network (`movers`: person → that structure's current
/// network).
pub fn outside_scope(
    scope: &ImportScope,
    declared: &[(String, String)],
    existing_networks: &BTreeMap<String, String>,
    movers: &BTreeMap<String, String>,
    lines: &SetLines,
) -> Vec<RowError> {
    let ImportScope::Networks(allowed) = scope else {
        return Vec::new();
    };
    let yours = allowed.iter().map(String::as_str).collect::<Vec<_>>().join(", ");
    let mut errors = Vec::new();
    let structure_row = |id: &str| lines.structures.get(id).copied().unwrap_or(0);
    for (id, network) in declared {
        if !allowed.contains(network) {
            errors.push(RowError {
                file: "structures.csv".to_owned(),
                line: structure_row(id),
                message: words!(
                    "la structure {id} est déclarée dans le réseau « {network} » : vous ne pouvez importer que pour votre réseau ({yours})",
                    "the structure {id} is declared in the network “{network}”: you may only import for your network ({yours})"
                ),
            });
        } else if let Some(current) = existing_networks.get(id).filter(|current| !allowed.contains(*current)) {
            errors.push(RowError {
                file: "structures.csv".to_owned(),
                line: structure_row(id),
                message: words!(
                    "la structure {id} appartient au réseau « {current} » : seule la fédération peut la changer de réseau",
                    "the structure {id} belongs to the network “{current}”: only the federation may move it to another network"
                ),
            });
        }
    }
    for (person, network) in movers {
        if !allowed.contains(network) {
            errors.push(RowError {
                file: "people.csv".to_owned(),
                line: lines.people.get(person).copied().unwrap_or(0),
                message: words!(
                    "la personne {person} figure dans une structure du réseau « {network} » : seule la fédération peut la déplacer",
                    "the person {person} is in a structure of the network “{network}”: only the federation may move them"
                ),
            });
        }
    }
    errors.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::{generate, GenerateParams};
    use crate::parse_set_owned;
    use vigie_fragility_model::model::StructureInventory;

    fn set() -> (Vec<StructureInventory>, crate::CsvSetFiles) {
        let generated = generate(GenerateParams {
            structures: 6,
            seed: 3,
            today: chrono::NaiveDate::from_ymd_opt(2026, 12, 3).unwrap(),
        });
        let files = generated.to_files().unwrap();
        let parsed = parse_set_owned(files.clone()).unwrap();
        (parsed.inventories(), files)
    }

    fn declared(inventories: &[StructureInventory]) -> Vec<(String, String)> {
        inventories
            .iter()
            .map(|i| (i.structure.id.clone(), i.structure.network.clone()))
            .collect()
    }

    fn networks(list: &[&str]) -> ImportScope {
        ImportScope::Networks(list.iter().map(|n| (*n).to_owned()).collect())
    }

    #[test]
    fn the_federation_imports_anything() {
        let (incoming, _) = set();
        let everywhere: BTreeMap<String, String> = incoming
            .iter()
            .map(|i| (i.structure.id.clone(), "ailleurs".to_owned()))
            .collect();
        assert!(outside_scope(
            &ImportScope::Instance,
            &declared(&incoming),
            &everywhere,
            &everywhere,
            &SetLines::default()
        )
        .is_empty());
    }

    #[test]
    fn a_coordinator_imports_her_networks_only_and_each_refusal_names_its_row() {
        let (incoming, files) = set();
        let lines = SetLines {
            structures: lines_of(&files.structures, "structure_id"),
            people: lines_of(&files.people, "person_id"),
        };
        let first = &incoming[0].structure;
        let mine = networks(&[&first.network]);
        let others: Vec<&StructureInventory> = incoming
            .iter()
            .filter(|i| i.structure.network != first.network)
            .collect();
        assert!(!others.is_empty(), "the generated set spans several networks");
        let errors = outside_scope(&mine, &declared(&incoming), &BTreeMap::new(), &BTreeMap::new(), &lines);
        assert_eq!(errors.len(), others.len(), "{errors:?}");
        for (error, other) in errors.iter().zip(&others) {
            assert_eq!(error.file, "structures.csv");
            assert_eq!(error.line, lines.structures[&other.structure.id]);
            assert!(error.line >= 2);
            assert!(error.message.contains(&other.structure.id) && error.message.contains(&other.structure.network));
        }
        // Her network's structures alone: accepted.
        let own: Vec<StructureInventory> = incoming
            .iter()
            .filter(|i| i.structure.network == first.network)
            .cloned()
            .collect();
        assert!(outside_scope(&mine, &declared(&own), &BTreeMap::new(), &BTreeMap::new(), &lines).is_empty());
        // …unless one is today in another network, or takes someone from there.
        let taken = BTreeMap::from([(first.id.clone(), "reseau-voisin".to_owned())]);
        let errors = outside_scope(&mine, &declared(&own), &taken, &BTreeMap::new(), &lines);
        assert_eq!(errors.len(), 1);
        assert!(errors[0].message.contains("reseau-voisin"), "{}", errors[0].message);
        let person = own[0].people[0].id.clone();
        let moved = BTreeMap::from([(person.clone(), "reseau-voisin".to_owned())]);
        let errors = outside_scope(&mine, &declared(&own), &BTreeMap::new(), &moved, &lines);
        assert_eq!(errors.len(), 1);
        assert_eq!(
            (errors[0].file.as_str(), errors[0].line),
            ("people.csv", lines.people[&person])
        );
        // A move within her networks is hers to make.
        let within = BTreeMap::from([(person, first.network.clone())]);
        assert!(outside_scope(&mine, &declared(&own), &BTreeMap::new(), &within, &lines).is_empty());
    }

    #[test]
    fn lines_follow_quoted_line_breaks_and_a_bom() {
        let csv = "\u{feff}structure_id,name\nS1,\"deux\nlignes\"\nS2,b\n";
        let lines = lines_of(csv.as_bytes(), "structure_id");
        assert_eq!(lines["S1"], 2);
        assert_eq!(lines["S2"], 4);
        assert!(lines_of(b"x,y\n1,2\n", "structure_id").is_empty());
    }
}
