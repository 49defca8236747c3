//! The federation service (issue 12). In a regional instance it keeps a read
//! model of the instance's own events and publishes aggregate snapshots under
//! statistical secrecy; in the national instance it keeps the latest snapshot
//! of each region and serves the roll-ups.
