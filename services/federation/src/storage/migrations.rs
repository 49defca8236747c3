//! Schema of the federation service's own tables.
//!
//! Regional side: a read model of the instance's own events reduced to what
//! aggregates need — no name, no person (`fe_structures`, `fe_deadlines`,
//! `fe_acks`, `fe_activity`), and the last snapshot published (`fe_published`).
//! National side (also written by a regional instance for its own region, so
//! `vigie federation rollup` works everywhere): the latest snapshot received
//! from each region (`fe_regions`).
//!
//! Version 2 (issue 16), regional side: the grants decided (`fe_grants`: stage,
//! amount and date, keyed by grant id so a later decision replaces the earlier)
//! and the reporting duties (`fe_duties`: due date and whether marked sent). No
//! funder, no title, no person: only what the counts need.

use vigie_platform::db::Migration;

macro_rules! schema_v1 {
    ($binary:literal) => {
        concat!(
            "
CREATE TABLE fe_structures (
    structure_id TEXT PRIMARY KEY,
    network_id TEXT NOT NULL,
    department_code TEXT NOT NULL,
    version BIGINT NOT NULL,
    band TEXT NOT NULL DEFAULT 'unknown',
    score BIGINT,
    orphan_functions TEXT NOT NULL DEFAULT '',
    single_functions TEXT NOT NULL DEFAULT '',
    director_dependency DOUBLE PRECISION NOT NULL DEFAULT 0,
    funding_holders BIGINT NOT NULL DEFAULT 0,
    assessed_on TEXT
);
CREATE TABLE fe_deadlines (
    structure_id TEXT NOT NULL,
    call_id TEXT NOT NULL,
    stage_kind TEXT NOT NULL,
    deadline TEXT NOT NULL,
    PRIMARY KEY (structure_id, call_id, stage_kind, deadline)
);
CREATE INDEX fe_deadlines_deadline ON fe_deadlines (deadline);
CREATE TABLE fe_acks (
    structure_id TEXT NOT NULL,
    call_id TEXT NOT NULL,
    status TEXT NOT NULL,
    PRIMARY KEY (structure_id, call_id)
);
CREATE TABLE fe_activity (
    structure_id TEXT NOT NULL,
    year BIGINT NOT NULL,
    measure TEXT NOT NULL,
    value BIGINT NOT NULL,
    PRIMARY KEY (structure_id, year, measure)
);
CREATE TABLE fe_published (
    id BIGINT PRIMARY KEY,
    sequence BIGINT NOT NULL,
    evaluated_on TEXT NOT NULL,
    computed_at TEXT NOT NULL,
    snapshot ",
            $binary,
            " NOT NULL
);
CREATE TABLE fe_regions (
    region TEXT PRIMARY KEY,
    sequence BIGINT NOT NULL,
    evaluated_on TEXT NOT NULL,
    computed_at TEXT NOT NULL,
    received_at TEXT NOT NULL,
    snapshot ",
            $binary,
            " NOT NULL
);
"
        )
    };
}

/// Grants and reporting duties of the regional read model (same text on
/// both backends).
const GRANTS_AND_DUTIES: &str = "
CREATE TABLE fe_grants (
    grant_id TEXT PRIMARY KEY,
    structure_id TEXT NOT NULL,
    stage TEXT NOT NULL,
    amount_cents BIGINT NOT NULL,
    decided_on TEXT NOT NULL
);
CREATE INDEX fe_grants_decided_on ON fe_grants (decided_on);
CREATE TABLE fe_duties (
    structure_id TEXT NOT NULL,
    obligation_key TEXT NOT NULL,
    due TEXT NOT NULL,
    due_learned_on TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT '',
    status_on TEXT,
    PRIMARY KEY (structure_id, obligation_key)
);
CREATE INDEX fe_duties_due ON fe_duties (due);
";

/// Migrations of the `federation` component.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "federation read model, published and received snapshots",
        sqlite: schema_v1!("BLOB"),
        postgres: schema_v1!("BYTEA"),
    },
    Migration {
        version: 2,
        name: "federation read model: grants and reporting duties",
        sqlite: GRANTS_AND_DUTIES,
        postgres: GRANTS_AND_DUTIES,
    },
];
