//! The training service: an ESS-specific catalogue of trainings mapped to
//! vital functions, sessions and enrolments, completions that raise
//! competences in the inventory, and plans that cut fragility.
//!
//! - the pure domain lives in `vigie-training-domain`;
//! - [`app`]: use cases; [`storage`]: SQL; [`events`]: what it publishes;
//! - [`handlers`]: the read model of the inventory, fed by its events;
//! - [`grpc`]: the `vigie.training.v1` API; [`service`]: wiring;
//! - `testing` (feature `testing`, dev-only): the service on its own
//!   database, for its contract suite and the cross-service scenarios.

pub mod app;
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
