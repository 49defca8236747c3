//! The facilitation service: digital facilitators (conseillers numériques,
//! médiateurs, coordinateurs, internal referents, trusted peers) mobilised for
//! the internal needs of structures, within the share of their time reserved
//! for it, and the proof of the time they spend on it.
//!
//! - the pure domain lives in `vigie-facilitation-domain`;
//! - [`app`]: use cases; [`storage`]: SQL; [`events`]: what it publishes;
//! - [`handlers`]: the read model of the inventory, fed by its events, which
//!   also opens proactive proposals on fragile structures;
//! - [`grpc`]: the `vigie.facilitation.v1` API; [`service`]: wiring;
//! - `testing` (feature `testing`, dev-only): the service on its own
//!   database, for its contract suite and the cross-service scenarios.

pub mod app;
pub mod convert;
pub mod demo;
pub mod erasure;
pub mod error;
pub mod events;
pub mod grpc;
pub mod handlers;
pub mod service;
pub mod storage;
#[cfg(feature = "testing")]
pub mod testing;
