//! Pure domain of the Vigie alerting service (issue 3): the stages of a project
//! call, the normalisation of the French display labels sent by
//! Aides-territoires, the connectors' parsing, the territory tree and the
//! matching of calls to structures, the planning of deadline reminders in local
//! time, the send-log key that makes a second send impossible, the messages and
//! the iCalendar feed.
//!
//! Nothing here does I/O: the service stores calls and the send log and feeds
//! these functions with plain data, so every rule is unit-tested directly.

pub mod call;
pub mod connectors;
pub mod grants;
pub mod ical;
pub mod matching;
pub mod message;
pub mod model;
pub mod plan;
pub mod reminders;
pub mod territory;
#[cfg(test)]
mod test_fixtures;
pub mod url;
