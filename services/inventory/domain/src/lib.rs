//! Pure domain of the Vigie inventory: vital functions, people and holdings,
//! the fragility index of `docs/fragility.md`, roll-ups, and the validation of
//! the CSV set (and the CSV reading shared with other imports, `tabular`).
//! Nothing here does I/O, so every rule is unit-tested directly.

pub mod catalogue;
pub mod csv_set;
pub mod explain;
pub mod fragility;
pub mod generate;
pub mod ids;
pub mod model;
pub mod rollup;
pub mod tabular;
