//! The federation service (issue 12, docs/federation.md).
//!
//! In a regional instance it keeps a read model of the instance's own events
//! ([`handlers::RegionalReadModel`]: no name, no person) and publishes
//! aggregate snapshots under statistical secrecy
//! (`vigie.federation.region.aggregated.v1`), the only subject that leaves a
//! region. In the national instance it keeps the latest snapshot of each
//! region ([`handlers::RegionSnapshots`]) and serves the roll-ups.

pub mod app;
pub mod convert;
pub mod events;
pub mod grpc;
pub mod handlers;
pub mod metrics;
pub mod service;
pub mod storage;
