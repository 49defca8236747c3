use chrono::NaiveDate;
use vigie_inventory_set::generate::{generate, GenerateParams};

use super::*;

fn inventories() -> Vec<StructureInventory> {
    generate(GenerateParams {
        structures: 120,
        seed: 5,
        today: NaiveDate::from_ymd_opt(2026, 11, 28).unwrap_or_default(),
    })
    .inventories
}

#[test]
fn a_snapshot_reads_back_as_the_inventory_it_was_written_from() {
    let inventories = inventories();
    assert!(inventories.iter().any(|i| i.structure.siret.is_some()));
    assert!(inventories
        .iter()
        .any(|i| i.people.iter().any(|p| p.end_date.is_some())));
    assert!(inventories
        .iter()
        .any(|i| i.holdings.iter().any(|h| h.last_practised.is_none())));
    for (version, inventory) in (1..).zip(&inventories) {
        let message = structure_to_pb(inventory, version);
        assert_eq!(message.version, version as u64);
        assert_eq!(structure_from_pb(&message).as_ref(), Ok(inventory));
    }
}

#[test]
fn a_catalogue_function_carries_its_french_label() {
    let payroll = inventories()
        .iter()
        .flat_map(|inventory| structure_to_pb(inventory, 1).functions)
        .find(|f| f.code == "payroll")
        .map(|f| f.label);
    assert_eq!(payroll.as_deref(), Some("Paie et déclarations sociales (DSN)"));
}

#[test]
fn a_negative_version_is_sent_as_zero() {
    let inventory = inventories().remove(0);
    assert_eq!(structure_to_pb(&inventory, -3).version, 0);
}

#[test]
fn an_unknown_code_is_named_with_its_structure() {
    let inventory = inventories().remove(0);
    let mut message = structure_to_pb(&inventory, 1);
    message.legal_form = "guilde".to_owned();
    let error = structure_from_pb(&message).err().map(|w| w.fr);
    let expected = format!(
        "forme juridique « guilde » inconnu dans l'instantané de {}",
        inventory.structure.id
    );
    assert_eq!(error, Some(expected));

    let mut message = structure_to_pb(&inventory, 1);
    if let Some(person) = message.people.first_mut() {
        person.role = "roi".to_owned();
        let error = structure_from_pb(&message).err().map(|w| w.en);
        assert_eq!(
            error.as_deref().map(|e| e.starts_with("unknown role “roi”")),
            Some(true),
            "{error:?}"
        );
    }
}

#[test]
fn every_band_has_its_message() {
    let messages: Vec<pb::Band> = Band::ALL.iter().map(|b| band_to_pb(*b)).collect();
    assert_eq!(
        messages,
        [
            pb::Band::Unknown,
            pb::Band::Low,
            pb::Band::Moderate,
            pb::Band::High,
            pb::Band::Critical
        ]
    );
}
