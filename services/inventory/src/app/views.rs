//! What the inventory's use cases hand to the adapters (gRPC, events):
//! storage fills these types and the gRPC layer encodes them; neither sees the
//! other's rows.

use vigie_fragility_model::model::StructureInventory;

/// A structure's inventory with its version.
#[derive(Debug, Clone, PartialEq)]
pub struct VersionedInventory {
    /// The inventory.
    pub inventory: StructureInventory,
    /// Incremented at each change; carried by events so consumers can ignore
    /// stale snapshots.
    pub version: i64,
}
