//! Schema of the facilitation service's own tables. The read model of
//! structures (`fa_structures`, `fa_people`) is fed by inventory events: the
//! facilitation service never reads the inventory's tables.
//!
//! Durations are integer minutes so both backends store them exactly; the
//! binary snapshot column is the only DDL difference.

use vigie_platform::db::Migration;

/// The schema, with the type of binary columns for each backend.
macro_rules! schema_v1 {
    ($binary:literal) => {
        concat!(
            "
CREATE TABLE fa_facilitators (
    facilitator_id TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    kind TEXT NOT NULL,
    employer_structure_id TEXT,
    served_structures TEXT NOT NULL,
    territory_codes TEXT NOT NULL,
    functions TEXT NOT NULL,
    weekly_minutes BIGINT NOT NULL,
    internal_share DOUBLE PRECISION NOT NULL,
    funding_programme TEXT NOT NULL,
    funding_end TEXT
);
CREATE TABLE fa_capacity (
    facilitator_id TEXT NOT NULL,
    week_start TEXT NOT NULL,
    capacity BIGINT NOT NULL,
    committed BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (facilitator_id, week_start)
);
CREATE TABLE fa_requests (
    request_id TEXT PRIMARY KEY,
    origin TEXT NOT NULL,
    structure_id TEXT NOT NULL,
    network_id TEXT NOT NULL,
    function_code TEXT NOT NULL,
    description TEXT NOT NULL,
    urgency TEXT NOT NULL,
    modality TEXT NOT NULL,
    due_on TEXT,
    estimated_minutes BIGINT NOT NULL,
    status TEXT NOT NULL,
    facilitator_id TEXT,
    week_start TEXT,
    reasons TEXT NOT NULL,
    declined_by TEXT NOT NULL,
    created_on TEXT NOT NULL,
    open_key TEXT UNIQUE
);
CREATE INDEX fa_requests_structure ON fa_requests (structure_id);
CREATE TABLE fa_interventions (
    intervention_key TEXT PRIMARY KEY,
    request_id TEXT NOT NULL,
    facilitator_id TEXT NOT NULL,
    structure_id TEXT NOT NULL,
    network_id TEXT NOT NULL,
    function_code TEXT NOT NULL,
    minutes BIGINT NOT NULL,
    beneficiary TEXT NOT NULL,
    on_date TEXT NOT NULL,
    person_id TEXT,
    autonomy_after BIGINT
);
CREATE INDEX fa_interventions_on ON fa_interventions (on_date);
CREATE TABLE fa_structures (
    structure_id TEXT PRIMARY KEY,
    network_id TEXT NOT NULL,
    commune_insee TEXT NOT NULL,
    department_code TEXT NOT NULL,
    version BIGINT NOT NULL,
    snapshot ",
            $binary,
            " NOT NULL
);
CREATE TABLE fa_people (
    person_id TEXT PRIMARY KEY,
    structure_id TEXT NOT NULL
);
CREATE INDEX fa_people_structure ON fa_people (structure_id);
"
        )
    };
}

/// Timestamps of requests (RFC 3339, UTC, to the second: they sort as
/// text), escalation, the CRA vocabulary of interventions, and the last
/// fragility of each structure. Same DDL on both backends.
const SCHEMA_V2: &str = "
ALTER TABLE fa_requests ADD COLUMN created_at TEXT;
ALTER TABLE fa_requests ADD COLUMN offered_at TEXT;
ALTER TABLE fa_requests ADD COLUMN accepted_at TEXT;
ALTER TABLE fa_requests ADD COLUMN closed_at TEXT;
ALTER TABLE fa_requests ADD COLUMN escalated_at TEXT;
ALTER TABLE fa_requests ADD COLUMN overdue_at TEXT;
ALTER TABLE fa_interventions ADD COLUMN activity_type TEXT NOT NULL DEFAULT 'individuel';
ALTER TABLE fa_interventions ADD COLUMN place TEXT NOT NULL DEFAULT 'autre';
ALTER TABLE fa_interventions ADD COLUMN themes TEXT NOT NULL DEFAULT '';
ALTER TABLE fa_interventions ADD COLUMN autonomy_before BIGINT;
CREATE INDEX fa_requests_status ON fa_requests (status);
CREATE TABLE fa_fragility (
    structure_id TEXT PRIMARY KEY,
    network_id TEXT NOT NULL,
    band TEXT NOT NULL,
    exposed_functions TEXT NOT NULL
);
";

/// The kind of each request (help, fragility or co-submission) and the call
/// of co-submission proposals opened on an alerting escalation. Same DDL on
/// both backends.
const SCHEMA_V3: &str = "
ALTER TABLE fa_requests ADD COLUMN kind TEXT NOT NULL DEFAULT 'help';
ALTER TABLE fa_requests ADD COLUMN call_id TEXT;
ALTER TABLE fa_requests ADD COLUMN call_title TEXT;
ALTER TABLE fa_requests ADD COLUMN call_deadline TEXT;
ALTER TABLE fa_requests ADD COLUMN call_url TEXT;
UPDATE fa_requests SET kind = 'fragility' WHERE origin = 'proposal';
";

/// Migrations of the `facilitation` component.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "facilitators, capacity, requests, interventions and inventory read model",
        sqlite: schema_v1!("BLOB"),
        postgres: schema_v1!("BYTEA"),
    },
    Migration {
        version: 2,
        name: "request timestamps and escalation, CRA vocabulary of interventions, fragility read model",
        sqlite: SCHEMA_V2,
        postgres: SCHEMA_V2,
    },
    Migration {
        version: 3,
        name: "request kind and the call of co-submission proposals",
        sqlite: SCHEMA_V3,
        postgres: SCHEMA_V3,
    },
];
