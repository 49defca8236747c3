//! What the inventory's use cases hand to the adapters (gRPC, events):
//! storage fills these types and the gRPC layer encodes them; neither sees the
//! other's rows.

use vigie_fragility_model::model::StructureInventory;

/// A structure as a listing first sees it: enough to decide whether the
/// caller may see it, and to check later that it has not moved since.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedStructure {
    /// Structure id.
    pub id: String,
    /// Its network when listed.
    pub network: String,
}

/// A structure's inventory with its version.
#[derive(Debug, Clone, PartialEq)]
pub struct VersionedInventory {
    /// The inventory.
    pub inventory: StructureInventory,
    /// Incremented at each change; carried by events so consumers can ignore
    /// stale snapshots.
    pub version: i64,
}
