//! Schema of the training service's own tables. The read model of
//! structures (`tr_structures`, `tr_people`) is fed by inventory events: the
//! training service never reads the inventory's tables.
//!
//! Money and durations are integers (cents, minutes) so both backends store
//! them exactly; the binary snapshot column is the only DDL difference.

use vigie_platform::db::Migration;

/// The schema, with the type of binary columns for each backend.
macro_rules! schema_v1 {
    ($binary:literal) => {
        concat!(
            "
CREATE TABLE tr_trainings (
    training_id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    provider TEXT NOT NULL,
    modality TEXT NOT NULL,
    duration_minutes BIGINT NOT NULL,
    cost_cents BIGINT,
    funding TEXT NOT NULL
);
CREATE TABLE tr_targets (
    training_id TEXT NOT NULL,
    function_code TEXT NOT NULL,
    prerequisite_level BIGINT NOT NULL,
    goal_level BIGINT NOT NULL,
    PRIMARY KEY (training_id, function_code)
);
CREATE TABLE tr_sessions (
    session_id TEXT PRIMARY KEY,
    training_id TEXT NOT NULL,
    starts_at TEXT NOT NULL,
    ends_at TEXT NOT NULL,
    timezone TEXT NOT NULL,
    commune_insee TEXT,
    remote_url TEXT,
    capacity BIGINT NOT NULL,
    enrolled BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE tr_enrolments (
    session_id TEXT NOT NULL,
    person_id TEXT NOT NULL,
    structure_id TEXT NOT NULL,
    network_id TEXT NOT NULL,
    status TEXT NOT NULL,
    waitlist_seq BIGINT NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL,
    completed_on TEXT,
    PRIMARY KEY (session_id, person_id)
);
CREATE TABLE tr_structures (
    structure_id TEXT PRIMARY KEY,
    network_id TEXT NOT NULL,
    department_code TEXT NOT NULL,
    version BIGINT NOT NULL,
    snapshot ",
            $binary,
            " NOT NULL
);
CREATE INDEX tr_structures_network ON tr_structures (network_id);
CREATE TABLE tr_people (
    person_id TEXT PRIMARY KEY,
    structure_id TEXT NOT NULL,
    network_id TEXT NOT NULL
);
CREATE INDEX tr_people_structure ON tr_people (structure_id);
"
        )
    };
}

/// Migrations of the `training` component.
pub const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    name: "training tables and inventory read model",
    sqlite: schema_v1!("BLOB"),
    postgres: schema_v1!("BYTEA"),
}];
