//! The federation service against real databases (SQLite file and
//! PostgreSQL): read model from real envelopes, publication in the outbox,
//! national reception of hostile and replayed snapshots.

mod grants;
mod harness;
mod national;
mod regional;
