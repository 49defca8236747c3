//! Pure domain of the Vigie training service (issue 5): the catalogue of
//! trainings mapped to vital functions and its sessions (validated from CSV,
//! all or nothing), what a completion raises in the inventory, and the
//! training plan that turns a structure's orphan and single-point-of-failure
//! functions into learners, trainings and sessions — with the fragility
//! predicted afterwards by the inventory's own [`assess`].
//!
//! Nothing here does I/O: the service feeds these functions with what it
//! stored and what it learnt from the inventory's events, so every rule is
//! unit-tested directly.
//!
//! [`assess`]: vigie_fragility_model::fragility::assess

pub mod catalogue;
pub mod completion;
pub mod model;
pub mod plan;

#[cfg(test)]
mod fixtures;

/// Time zones of sessions (IANA names), re-exported so that callers need no
/// direct dependency to name them.
pub use chrono_tz::Tz;
