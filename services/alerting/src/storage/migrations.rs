//! Schema of the alerting service's tables (prefix `al_`). The read model of
//! structures (`al_structures`, `al_people`) is fed by inventory events: the
//! alerting service never reads the inventory's tables.
//!
//! Timestamps are RFC 3339 text in UTC to the second (they sort as text),
//! dates are `YYYY-MM-DD`, lists are JSON arrays. The binary snapshot column
//! is the only DDL difference between the backends.

use vigie_platform::db::Migration;

macro_rules! schema_v1 {
    ($binary:literal) => {
        concat!(
            "
CREATE TABLE al_calls (
    call_id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    source_ref TEXT NOT NULL,
    title TEXT NOT NULL,
    funders TEXT NOT NULL,
    programmes TEXT NOT NULL,
    info_url TEXT NOT NULL,
    application_url TEXT NOT NULL,
    themes TEXT NOT NULL,
    audiences TEXT NOT NULL,
    perimeter_name TEXT NOT NULL,
    perimeter_scale TEXT NOT NULL,
    areas TEXT NOT NULL,
    exclusions TEXT NOT NULL,
    unresolved TEXT NOT NULL,
    recurrence TEXT NOT NULL,
    cancelled BIGINT NOT NULL,
    revision BIGINT NOT NULL,
    next_deadline TEXT,
    raw TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (source, source_ref)
);
CREATE INDEX al_calls_next_deadline ON al_calls (next_deadline);
CREATE TABLE al_stages (
    call_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    revision BIGINT NOT NULL,
    deadline TEXT NOT NULL,
    deadline_time TEXT,
    timezone TEXT NOT NULL,
    wording TEXT NOT NULL,
    withdrawn BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (call_id, kind)
);
CREATE TABLE al_stage_revisions (
    call_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    revision BIGINT NOT NULL,
    deadline TEXT NOT NULL,
    deadline_time TEXT,
    timezone TEXT NOT NULL,
    wording TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    import_id TEXT NOT NULL,
    PRIMARY KEY (call_id, kind, revision)
);
CREATE TABLE al_imports (
    import_id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    file_name TEXT NOT NULL,
    received_at TEXT NOT NULL,
    payload ",
            $binary,
            " NOT NULL,
    calls BIGINT NOT NULL,
    problems TEXT NOT NULL
);
CREATE TABLE al_structures (
    structure_id TEXT PRIMARY KEY,
    network_id TEXT NOT NULL,
    legal_form TEXT NOT NULL,
    commune_insee TEXT NOT NULL,
    department_code TEXT NOT NULL,
    region_code TEXT NOT NULL,
    version BIGINT NOT NULL,
    snapshot ",
            $binary,
            " NOT NULL
);
CREATE INDEX al_structures_network ON al_structures (network_id);
CREATE TABLE al_people (
    person_id TEXT PRIMARY KEY,
    structure_id TEXT NOT NULL
);
CREATE INDEX al_people_structure ON al_people (structure_id);
CREATE TABLE al_policies (
    network_id TEXT PRIMARY KEY,
    offsets TEXT NOT NULL,
    local_hour TEXT NOT NULL,
    timezone TEXT NOT NULL,
    referent_name TEXT NOT NULL,
    referent_email TEXT NOT NULL,
    webhook_url TEXT NOT NULL,
    webhook_secret TEXT NOT NULL
);
CREATE TABLE al_preferences (
    scope_kind TEXT NOT NULL,
    scope_id TEXT NOT NULL,
    themes TEXT NOT NULL,
    opted_out BIGINT NOT NULL,
    PRIMARY KEY (scope_kind, scope_id)
);
CREATE TABLE al_unsubscribed (
    recipient TEXT PRIMARY KEY,
    person_id TEXT,
    at TEXT NOT NULL
);
CREATE TABLE al_acks (
    structure_id TEXT NOT NULL,
    call_id TEXT NOT NULL,
    status TEXT NOT NULL,
    at TEXT NOT NULL,
    via TEXT NOT NULL,
    PRIMARY KEY (structure_id, call_id)
);
CREATE TABLE al_messages (
    message_id TEXT PRIMARY KEY,
    recipient TEXT NOT NULL,
    person_id TEXT,
    channel TEXT NOT NULL,
    address TEXT NOT NULL,
    local_date TEXT NOT NULL,
    subject TEXT NOT NULL,
    body_text TEXT NOT NULL,
    body_html TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at TEXT NOT NULL,
    last_error TEXT NOT NULL,
    created_at TEXT NOT NULL,
    sent_at TEXT
);
CREATE INDEX al_messages_pending ON al_messages (status, next_attempt_at);
CREATE INDEX al_messages_recipient_day ON al_messages (recipient, channel, local_date);
CREATE TABLE al_send_log (
    recipient TEXT NOT NULL,
    call_id TEXT NOT NULL,
    stage_kind TEXT NOT NULL,
    revision BIGINT NOT NULL,
    offset_days BIGINT NOT NULL,
    channel TEXT NOT NULL,
    person_id TEXT,
    structure_id TEXT NOT NULL,
    due_at TEXT NOT NULL,
    late BIGINT NOT NULL,
    escalation TEXT NOT NULL,
    message_id TEXT NOT NULL,
    claimed_at TEXT NOT NULL,
    PRIMARY KEY (recipient, call_id, stage_kind, revision, offset_days, channel)
);
CREATE INDEX al_send_log_structure ON al_send_log (structure_id, call_id);
CREATE INDEX al_send_log_message ON al_send_log (message_id);
CREATE TABLE al_escalations (
    structure_id TEXT NOT NULL,
    call_id TEXT NOT NULL,
    stage_kind TEXT NOT NULL,
    reason TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (structure_id, call_id)
);
"
        )
    };
}

/// When each stage's current revision became known (reminders due before
/// it are caught up, not late). Same DDL on both backends.
const SCHEMA_V2: &str = "ALTER TABLE al_stages ADD COLUMN known_since TEXT;";

/// Audiences a structure or network also qualifies for (JSON list).
const SCHEMA_V3: &str = "ALTER TABLE al_preferences ADD COLUMN audiences TEXT NOT NULL DEFAULT '[]';";

/// Messages of a day, looked up once per dispatch pass.
const SCHEMA_V4: &str = "CREATE INDEX al_messages_day ON al_messages (local_date);";

/// Incremental dispatch: until when reminders were planned, which structure
/// snapshots were planned, and when policies and preferences changed (their
/// structures are caught up at the next pass).
const SCHEMA_V5: &str = "
CREATE TABLE al_dispatch_state (
    id BIGINT PRIMARY KEY,
    planned_until TEXT NOT NULL
);
ALTER TABLE al_structures ADD COLUMN planned_version BIGINT;
ALTER TABLE al_policies ADD COLUMN changed_at TEXT;
ALTER TABLE al_preferences ADD COLUMN changed_at TEXT;
";

/// Leases of messages (one delivery per message whatever the number of
/// replicas, docs/alerting.md), the network of each message (webhook
/// deliveries are grouped and signed per network), and the index of the
/// leased query (pending, due, in order) replacing `al_messages_pending`.
const SCHEMA_V6: &str = "
ALTER TABLE al_messages ADD COLUMN lease_owner TEXT;
ALTER TABLE al_messages ADD COLUMN lease_until TEXT;
ALTER TABLE al_messages ADD COLUMN network TEXT NOT NULL DEFAULT '';
DROP INDEX al_messages_pending;
CREATE INDEX al_messages_due ON al_messages (status, next_attempt_at, message_id);
";

/// Generations of the calendar feed URLs: revoking a scope's feed bumps its
/// generation, and only URLs of the current one open the feed.
const SCHEMA_V7: &str = "
CREATE TABLE al_feed_generations (
    scope_kind TEXT NOT NULL,
    scope_id TEXT NOT NULL,
    generation BIGINT NOT NULL,
    changed_at TEXT NOT NULL,
    PRIMARY KEY (scope_kind, scope_id)
);
";

/// After the deadline (issue 16, docs/grants.md): applications and grants
/// (one row per application, its stage and decision; amounts in cents; one
/// application per structure and call), the dates written in agreements
/// (moving a derived duty, or adding one), and each network's draft days.
const SCHEMA_V8: &str = "
CREATE TABLE al_grants (
    grant_id TEXT PRIMARY KEY,
    structure_id TEXT NOT NULL,
    call_id TEXT NOT NULL,
    funder TEXT NOT NULL,
    title TEXT NOT NULL,
    stage TEXT NOT NULL,
    applied_on TEXT,
    amount_asked BIGINT NOT NULL,
    decided_on TEXT,
    amount_granted BIGINT NOT NULL,
    financial_year_end TEXT,
    agreement_start TEXT,
    agreement_end TEXT,
    reference TEXT NOT NULL,
    purpose TEXT NOT NULL,
    public_subsidy BIGINT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX al_grants_structure ON al_grants (structure_id);
CREATE UNIQUE INDEX al_grants_call ON al_grants (structure_id, call_id) WHERE call_id <> '';
CREATE TABLE al_agreement_dates (
    structure_id TEXT NOT NULL,
    obligation_key TEXT NOT NULL,
    grant_id TEXT,
    kind TEXT NOT NULL,
    due TEXT NOT NULL,
    label TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (structure_id, obligation_key)
);
ALTER TABLE al_policies ADD COLUMN draft_days BIGINT;
";

/// Reporting duties marked « envoyé » (issue 16): one row per structure and
/// obligation key; `status` `sent`, or empty once taken back (the row stays,
/// so a second identical acknowledgement is recognised and publishes nothing).
const SCHEMA_V9: &str = "
CREATE TABLE al_obligation_acks (
    structure_id TEXT NOT NULL,
    obligation_key TEXT NOT NULL,
    status TEXT NOT NULL,
    sent_on TEXT,
    at TEXT NOT NULL,
    PRIMARY KEY (structure_id, obligation_key)
);
";

/// Version 10 (issue 16): the idempotency key a client chooses for a
/// grant without call nor application id, and the key an import derives for
/// such a row; unique per structure when not empty (`''` = no key), so a
/// retry or a re-import finds the grant first recorded instead of adding one.
const SCHEMA_V10: &str = "
ALTER TABLE al_grants ADD COLUMN idempotency_key TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX al_grants_key ON al_grants (structure_id, idempotency_key) WHERE idempotency_key <> '';
";

/// Version 11 (issue 16, measured by `vigie-bench grants`): the send log by
/// call id. A claim pass reads the rows of every open duty's key
/// (`claimed_keys`, `reminders_sent_for`: `call_id IN (…)`, 400 keys a
/// statement); the primary key leads with the recipient, so each statement
/// scanned the whole log — statements × rows, both growing with the duties:
/// 18–34 s for the J-7 pass of 2,000 structures on PostgreSQL.
const SCHEMA_V11: &str = "
CREATE INDEX al_send_log_call ON al_send_log (call_id);
";

/// Migrations of the `alerting` component.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "calls, stages and revisions, imports, structures read model, policies, preferences, acknowledgements, \
               messages, send log, escalations",
        sqlite: schema_v1!("BLOB"),
        postgres: schema_v1!("BYTEA"),
    },
    Migration {
        version: 2,
        name: "when each stage revision became known",
        sqlite: SCHEMA_V2,
        postgres: SCHEMA_V2,
    },
    Migration {
        version: 3,
        name: "audiences a structure or network also qualifies for",
        sqlite: SCHEMA_V3,
        postgres: SCHEMA_V3,
    },
    Migration {
        version: 4,
        name: "index of messages by local date",
        sqlite: SCHEMA_V4,
        postgres: SCHEMA_V4,
    },
    Migration {
        version: 5,
        name: "incremental dispatch: planned-until mark, planned snapshot versions, policy and preference changes",
        sqlite: SCHEMA_V5,
        postgres: SCHEMA_V5,
    },
    Migration {
        version: 6,
        name: "message leases, network of each message, index of due messages",
        sqlite: SCHEMA_V6,
        postgres: SCHEMA_V6,
    },
    Migration {
        version: 7,
        name: "generations of the calendar feed urls (revocation per scope)",
        sqlite: SCHEMA_V7,
        postgres: SCHEMA_V7,
    },
    Migration {
        version: 8,
        name: "applications and grants, dates written in agreements, draft days per network",
        sqlite: SCHEMA_V8,
        postgres: SCHEMA_V8,
    },
    Migration {
        version: 9,
        name: "reporting duties acknowledged as sent",
        sqlite: SCHEMA_V9,
        postgres: SCHEMA_V9,
    },
    // Issue 16, idempotency key and import of grants.
    Migration {
        version: 10,
        name: "idempotency key of a grant, unique per structure",
        sqlite: SCHEMA_V10,
        postgres: SCHEMA_V10,
    },
    // Issue 16, benchmarks: the send log by call id (claim passes with duties).
    Migration {
        version: 11,
        name: "index of the send log by call id",
        sqlite: SCHEMA_V11,
        postgres: SCHEMA_V11,
    },
];
