//! Schema of the inventory's own tables (no other service reads them).
//!
//! Every row that belongs to a structure carries its network, so that
//! tenant-scoped queries never need a join. Dates are ISO 8601 text, which
//! sorts correctly and reads the same on SQLite and PostgreSQL.

use vigie_platform::db::Migration;

/// Migrations of the `inventory` component, applied in order at start-up.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "inventory tables",
        sqlite: SCHEMA_V1,
        postgres: SCHEMA_V1,
    },
    Migration {
        version: 2,
        name: "erasure tombstones",
        sqlite: SCHEMA_V2,
        postgres: SCHEMA_V2,
    },
];

// Erased people: ids only (never a name or an email), so that a second
// erasure is recognised and answered idempotently.
const SCHEMA_V2: &str = "
CREATE TABLE inv_erasures (
    person_id TEXT PRIMARY KEY,
    structure_id TEXT NOT NULL,
    network_id TEXT NOT NULL,
    erased_at TEXT NOT NULL
);
";

// The same DDL suits both backends: TEXT and BIGINT only.
const SCHEMA_V1: &str = "
CREATE TABLE inv_networks (
    network_id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL
);
CREATE TABLE inv_structures (
    structure_id TEXT PRIMARY KEY,
    network_id TEXT NOT NULL,
    name TEXT NOT NULL,
    legal_form TEXT NOT NULL,
    siret TEXT,
    rna TEXT,
    region_code TEXT NOT NULL,
    department_code TEXT NOT NULL,
    commune_insee TEXT NOT NULL,
    version BIGINT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX inv_structures_network ON inv_structures (network_id);
CREATE TABLE inv_people (
    person_id TEXT PRIMARY KEY,
    structure_id TEXT NOT NULL,
    network_id TEXT NOT NULL,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL,
    end_date TEXT,
    email TEXT
);
CREATE INDEX inv_people_structure ON inv_people (structure_id);
CREATE TABLE inv_functions (
    structure_id TEXT NOT NULL,
    code TEXT NOT NULL,
    network_id TEXT NOT NULL,
    criticality BIGINT NOT NULL,
    tools TEXT NOT NULL,
    PRIMARY KEY (structure_id, code)
);
CREATE TABLE inv_holdings (
    person_id TEXT NOT NULL,
    function_code TEXT NOT NULL,
    structure_id TEXT NOT NULL,
    network_id TEXT NOT NULL,
    level BIGINT NOT NULL,
    last_practised TEXT,
    evidence TEXT NOT NULL,
    PRIMARY KEY (person_id, function_code)
);
CREATE INDEX inv_holdings_structure ON inv_holdings (structure_id);
CREATE TABLE inv_assessments (
    structure_id TEXT PRIMARY KEY,
    network_id TEXT NOT NULL,
    evaluated_on TEXT NOT NULL,
    band TEXT NOT NULL,
    score BIGINT,
    fingerprint TEXT NOT NULL
);
";
