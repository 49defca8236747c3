//! Pure domain of the Vigie facilitation service (issue 6): the digital
//! facilitators a network can mobilise for its structures' *internal* needs
//! (validated from `facilitators.csv`, all or nothing), the ranking of
//! facilitators for one help request, and the reports that make the time spent
//! on internal needs visible next to the time spent on external beneficiaries,
//! with an export in the vocabulary of the national activity reports (CRA).
//!
//! Nothing here does I/O: the service stores requests, offers and
//! interventions, and feeds these functions with plain data, so every rule is
//! unit-tested directly.

pub mod facilitators_csv;
pub mod matching;
pub mod model;
pub mod report;
pub mod territory;

#[cfg(test)]
mod fixtures;
