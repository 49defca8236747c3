//! The alerting service: project calls read from funding portals, matched to
//! the structures of the network, and deadline reminders that are never lost
//! nor sent twice.
//!
//! - the pure domain lives in `vigie-alerting-domain`;
//! - [`app`]: use cases; [`storage`]: SQL; [`events`]: what it publishes;
//! - [`handlers`]: the read model of the inventory, fed by its events;
//! - [`sources`]: connectors that fetch calls (Aides-territoires API, feeds);
//! - [`channels`]: email over SMTP, signed webhooks, signed links;
//! - [`grpc`]: the `vigie.alerting.v1` API; [`http`]: calendar feeds and
//!   acknowledgement links; [`service`]: wiring.

pub mod app;
pub mod channels;
pub mod convert;
pub mod delivery;
pub mod demo;
pub mod error;
pub mod events;
pub mod grpc;
pub mod handlers;
pub mod http;
pub mod public_url;
pub mod service;
pub mod sources;
pub mod storage;

/// Where Aides-territoires publishes (relative links of its aids are resolved against it).
pub const AIDES_TERRITOIRES_BASE: &str = "https://aides-territoires.beta.gouv.fr";
