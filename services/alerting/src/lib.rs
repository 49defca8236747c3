//! The alerting service: project calls read from funding portals, matched to
//! the structures of the network, and deadline reminders that are never lost
//! nor sent twice.
//!
//! - the pure domain lives in `vigie-alerting-domain`;
//! - [`sources`]: connectors that fetch calls (Aides-territoires API);
//! - [`channels`]: email over SMTP, signed webhooks, signed links.

pub mod channels;
pub mod sources;
