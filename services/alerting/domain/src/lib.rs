//! Pure domain of the Vigie alerting service (issue 3): the stages of a project
//! call, the normalisation of the French display labels sent by
//! Aides-territoires, the planning of deadline reminders in local time, the
//! send-log key that makes a second send impossible, and the iCalendar feed.
//!
//! Nothing here does I/O: the service stores calls and the send log and feeds
//! these functions with plain data, so every rule is unit-tested directly.

pub mod ical;
pub mod model;
pub mod reminders;
