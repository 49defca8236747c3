//! The platform's own tables, created in each service's database by
//! `db.migrate("events", events::MIGRATIONS)`.
//!
//! - `vigie_outbox`: events appended in the producers' transactions; `seq`
//!   gives the publication order; `published_at` stays NULL until the broker
//!   confirmed (or every in-process consumer committed); `attempts` and
//!   `last_error` show a stuck relay at a glance.
//! - `vigie_inbox`: one row per (consumer, event) processed, committed with
//!   the handler's effects — the idempotency record.
//! - `vigie_dead_letters`: events a consumer gave up on, in the embedded mode
//!   (with JetStream they go to the `vigie.deadletter.<consumer>` subject);
//!   since v2 with `deliveries` (attempts, replays included) and
//!   `replay_requested_at` (set by `vigie events dead-letters replay`, see
//!   `dead_letters.rs`).

use crate::db::Migration;

/// Migrations of the `events` component.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "outbox, inbox and dead letters",
        sqlite: SQLITE_V1,
        postgres: POSTGRES_V1,
    },
    Migration {
        version: 2,
        name: "dead letter deliveries and replay requests",
        sqlite: V2,
        postgres: V2,
    },
];

/// Same SQL on both engines.
const V2: &str = "
ALTER TABLE vigie_dead_letters ADD COLUMN deliveries BIGINT NOT NULL DEFAULT 1;
ALTER TABLE vigie_dead_letters ADD COLUMN replay_requested_at TEXT;
";

/// The version 1 tables, with the types that differ between the engines
/// (the sequence column, binary payloads): one text for both, so the two
/// scripts cannot drift apart.
macro_rules! events_v1 {
    ($sequence:literal, $binary:literal) => {
        concat!(
            "
CREATE TABLE vigie_outbox (
    seq ",
            $sequence,
            ",
    id TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL,
    event_type TEXT NOT NULL,
    subject TEXT NOT NULL,
    event_time TEXT NOT NULL,
    traceparent TEXT,
    payload ",
            $binary,
            " NOT NULL,
    published_at TEXT,
    attempts BIGINT NOT NULL DEFAULT 0,
    last_error TEXT
);
CREATE INDEX vigie_outbox_pending ON vigie_outbox (seq) WHERE published_at IS NULL;
CREATE TABLE vigie_inbox (
    consumer TEXT NOT NULL,
    event_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    processed_at TEXT NOT NULL,
    PRIMARY KEY (consumer, event_id)
);
CREATE TABLE vigie_dead_letters (
    consumer TEXT NOT NULL,
    event_id TEXT NOT NULL,
    source TEXT NOT NULL,
    event_type TEXT NOT NULL,
    subject TEXT NOT NULL,
    event_time TEXT NOT NULL,
    traceparent TEXT,
    payload ",
            $binary,
            " NOT NULL,
    error TEXT NOT NULL,
    failed_at TEXT NOT NULL,
    PRIMARY KEY (consumer, event_id)
);
"
        )
    };
}

const SQLITE_V1: &str = events_v1!("INTEGER PRIMARY KEY AUTOINCREMENT", "BLOB");

const POSTGRES_V1: &str = events_v1!("BIGSERIAL PRIMARY KEY", "BYTEA");
