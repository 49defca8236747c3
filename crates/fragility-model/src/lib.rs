//! What a structure's vital digital functions are and how fragile they are:
//! the catalogue of vital functions and its level scale, the plain data of
//! an inventory (structures, people, functions, holdings), the fragility
//! index of `docs/fragility.md` with its parameters, the rule of who holds a
//! function (`holding`), and the plain-sentence explanation of an assessment.
//!
//! A kernel crate: the inventory computes the index, and the other services
//! read the same words and rules (training plans, facilitation matching,
//! federation labels, alerting's reminder recipients) without depending on
//! the inventory service. Nothing here does I/O, so every rule is unit-tested
//! directly.

pub mod catalogue;
pub mod explain;
pub mod fragility;
pub mod holding;
pub mod model;
