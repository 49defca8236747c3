//! Pure domain of the Vigie inventory that no other service shares: roll-ups
//! of fragility assessments per network, region or department.
//!
//! What other services share with the inventory lives in kernel crates
//! (ADR 0004): the vital-function catalogue, model and fragility index in
//! `vigie-fragility-model`, the CSV set and its generator in
//! `vigie-inventory-set`, CSV reading in `vigie-tabular`, French identifiers
//! in `vigie-french-ids`. Nothing here does I/O.

pub mod rollup;
