//! Pure domain of the federation service (issue 12): what a region publishes
//! about its structures, under statistical secrecy, and how the national
//! instance sums what the regions published. No I/O, no clock.
//!
//! The pipeline, in the order the service calls it:
//! [`facts`] (one line per structure, no name, no person) →
//! [`aggregate::aggregate`] (true figures per network and per department, never
//! published as such) → [`secrecy::publish`] (the figures that may leave the
//! region) → [`change::significant`] (publish now or wait for the schedule) →
//! on the national side, [`rollup::rollup`] (sums of the regions' snapshots).

pub mod aggregate;
pub mod change;
pub mod facts;
pub mod rollup;
pub mod secrecy;
