//! The inventory service: who holds which vital digital function in each
//! member structure, and the fragility index computed from it.
//!
//! Layers, from the inside out:
//! - the pure domain lives in kernel crates (`vigie-fragility-model`: model,
//!   catalogue, fragility index; `vigie-inventory-set`: the CSV set) and in
//!   `vigie-inventory-domain` (roll-ups, the inventory's alone);
//! - [`app`]: use cases, each one transaction with its events;
//! - [`storage`]: SQL on PostgreSQL or SQLite;
//! - [`events`]: the events it publishes through the outbox;
//! - [`grpc`]: the `vigie.inventory.v1` API;
//! - [`handlers`]: events of other services it applies (training completions);
//! - [`service`]: wiring for the `vigie` binary (migrations, background tasks);
//! - `testing` (feature `testing`, dev-only): a real inventory on its own
//!   database for other services' end-to-end suites.

pub mod app;
pub mod convert;
pub mod error;
pub mod events;
pub mod grpc;
pub mod handlers;
pub mod service;
pub mod storage;
#[cfg(feature = "testing")]
pub mod testing;
