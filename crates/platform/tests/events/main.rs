//! Integration tests of the storage layer and the event backbone, against a
//! real PostgreSQL, real SQLite files and real `nats-server` processes (one
//! per test). Silent unless `TEST_LOG=1`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod batches;
mod db_contract;
mod embedded;
mod embedded_crash;
mod envelope;
mod jetstream_consumer_crash;
mod jetstream_delivery;
mod jetstream_origin;
mod jetstream_outage;
mod jetstream_poison;
mod jetstream_relay_crash;
mod jetstream_replay;
mod jetstream_restart;
mod jetstream_streams;
mod metrics;
mod multi_row;
mod outbox_relay;
mod postgres_sessions;
mod relay_batches;
mod sqlite_erasure;
mod sqlite_read_pool;
mod throughput;
