//! Test harness shared by every Vigie integration test binary.
//!
//! Tests run against the real thing — a real `nats-server`, a real PostgreSQL,
//! real SQLite files — because the guarantees we care about (awaited acks,
//! deduplication, redelivery, transactional inboxes) live in those servers,
//! not in our code. Each helper gives a test its own isolated resource so tests
//! can run in parallel and be killed at any point:
//!
//! - [`NatsServer`]: a private `nats-server -js` process on a free loopback
//!   port with its own store directory; it can be stopped and restarted on the
//!   same port and store (to test broker outages) and is killed on drop;
//! - [`ConfiguredNats`]: a `nats-server` run from a shipped deploy/nats file,
//!   its `$VARIABLES` in the environment, on free ports, restartable;
//! - [`PgDatabase`]: a fresh PostgreSQL database dropped (best effort) on drop;
//! - [`TestDatabase`]: a test's own database on either [`Backend`] (a SQLite
//!   file or a fresh PostgreSQL database), what the service suites run on;
//! - [`on_both_backends!`] and [`isolation_on_sqlite!`]: a suite's scenarios
//!   and its isolation matrix as tests;
//! - [`PgTls`]: a private PostgreSQL cluster with or without TLS, for transport tests;
//! - [`TestCa`]: a certificate authority made by the test, and the
//!   certificates it issues (TLS tests of PostgreSQL, NATS and SMTP);
//! - [`sqlite_url`]: a SQLite URL for a file inside a test's temporary directory;
//! - [`init_test_logging`]: logs to the test output, silent unless `TEST_LOG=1`;
//! - [`eventually`]: waits (bounded) until an asynchronous condition holds —
//!   the alternative to sleeping "long enough";
//! - [`TestCa`]: a certificate authority generated in the test, for TLS on loopback;
//! - [`OtlpReceiver`]: a real OTLP/gRPC receiver (traces and metrics), what a
//!   collector sees of the processes under test.
//!
//! Environment overrides: `VIGIE_NATS_SERVER` (path of the `nats-server`
//! binary, default `/usr/sbin/nats-server`) and `VIGIE_TEST_DATABASE_URL`
//! (administrative PostgreSQL URL, default
//! `postgres://postgres@127.0.0.1:5432/postgres`).

mod backends;
mod database;
mod logging;
pub mod memory;
mod nats;
mod nats_conf;
mod nats_jwt;
mod oidc;
mod otlp;
mod pg_tls;
mod pki;
mod postgres;
pub mod scan;
mod server_process;
mod smtp;
mod wait;

use std::path::Path;

pub use backends::ContractHarness;
pub use database::{Backend, TestDatabase};
pub use logging::init_test_logging;
pub use nats::{NatsServer, NatsServerConfig, NatsServerTls};
pub use nats_conf::ConfiguredNats;
pub use nats_jwt::NatsOperator;
pub use oidc::{tamper_payload, CodeUser, Logout, OidcIssuer, TestKey, TokenBuilder};
pub use otlp::{OtlpReceiver, ReceivedMetric, ReceivedSpan};
pub use pg_tls::PgTls;
pub use pki::{IssuedCert, PemFiles, PemPair, TestCa, TestPki};
pub use postgres::PgDatabase;
pub use smtp::{MailPart, ReceivedMail, SmtpServer, SmtpServerOptions, SmtpServerTls};
pub use wait::eventually;

/// The URL of a SQLite database file `<name>.db` inside `dir` (created on
/// first connection by `vigie_platform::db::Db::connect`).
pub fn sqlite_url(dir: &Path, name: &str) -> String {
    format!("sqlite://{}?mode=rwc", dir.join(format!("{name}.db")).display())
}
