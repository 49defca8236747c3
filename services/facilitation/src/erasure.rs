//! Personal-data rights: `vigie.inventory.person.erased.v1` (docs/security.md,
//! "Personal data"), applied to this service's read model by the shared
//! `vigie_inventory_readmodel::PersonErasures`: the person leaves
//! `fa_people` and the snapshots of `fa_structures`, and their id becomes a
//! stable pseudonym in `fa_interventions` (the activity report keeps its minutes).

use vigie_inventory_readmodel::{PersonErasures, ReadModelTables};

pub use vigie_inventory_readmodel::{PseudonymKey, PERSON_ERASED};

/// This service's read-model tables.
pub(crate) const TABLES: ReadModelTables = ReadModelTables {
    people: "fa_people",
    structures: "fa_structures",
    pseudonymised: &[("fa_interventions", "person_id")],
};

/// The durable consumer's name: state on the bus, never renamed.
const CONSUMER: &str = "facilitation-erasures";

/// The consumer applying `person.erased` to this service's tables, with the
/// deployment's pseudonym key.
pub fn person_erasures(key: PseudonymKey) -> PersonErasures {
    PersonErasures::new(CONSUMER, TABLES, key)
}
