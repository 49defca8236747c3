//! Personal-data rights: `vigie.inventory.person.erased.v1` (docs/security.md,
//! "Personal data"), applied to this service's read model by the shared
//! `vigie_inventory_readmodel::PersonErasures`: the person leaves
//! `tr_people` and the snapshots of `tr_structures`, and their id becomes a
//! stable pseudonym in `tr_enrolments` (counts and session history stay).

use vigie_inventory_readmodel::{PersonErasures, ReadModelTables};

pub use vigie_inventory_readmodel::{PseudonymKey, PERSON_ERASED};

/// This service's read-model tables.
pub(crate) const TABLES: ReadModelTables = ReadModelTables {
    people: "tr_people",
    structures: "tr_structures",
    pseudonymised: &[("tr_enrolments", "person_id")],
};

/// The durable consumer's name: state on the bus, never renamed.
const CONSUMER: &str = "training-erasures";

/// The consumer applying `person.erased` to this service's tables, with the
/// deployment's pseudonym key.
pub fn person_erasures(key: PseudonymKey) -> PersonErasures {
    PersonErasures::new(CONSUMER, TABLES, key)
}
