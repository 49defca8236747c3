//! Pure domain of the federation service (issue 12): what a region publishes
//! about its structures, under statistical secrecy, and how the national
//! instance sums what the regions published. No I/O, no clock.
