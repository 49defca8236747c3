//! One storage layer over PostgreSQL and SQLite.
//!
//! Vigie runs the same service code in two modes (see the architecture
//! brief): embedded, on SQLite files, and distributed, on PostgreSQL. Rather
//! than one repository implementation per backend, every service writes its
//! queries once, through [`sqlx::Any`], in a small SQL dialect that both
//! engines understand:
//!
//! - identifiers, dates and timestamps are `TEXT` (UUIDs as hyphenated text,
//!   instants as RFC 3339 UTC with a fixed precision, which sorts correctly);
//!   integers are `BIGINT` (decode as `i64`), floats `DOUBLE PRECISION` on
//!   PostgreSQL and `REAL` on SQLite, binary data `BYTEA`/`BLOB` (decode as
//!   `Vec<u8>`), booleans as `BIGINT` 0/1;
//! - placeholders are `$1, $2, …` — native on PostgreSQL, and accepted by
//!   SQLite as numbered parameters (the contract tests check it on both);
//! - `INSERT … ON CONFLICT … DO NOTHING / DO UPDATE`, `RETURNING`, partial
//!   indexes and `CREATE … IF NOT EXISTS` exist on both;
//! - only the DDL differs (auto-increment keys, blob and float type names):
//!   a [`Migration`] carries one script per backend — and the aggregation
//!   of many rows into one value (`json_group_array` on SQLite, `text[]`
//!   on PostgreSQL, read by [`text_array`]), which a read may choose by
//!   `AnyConnection::backend_name` (ADR 0002, amendment);
//! - aggregate results that PostgreSQL types as `NUMERIC` (e.g. `SUM` of a
//!   `BIGINT`) are not decodable through `Any`: cast them (`CAST(… AS BIGINT)`).
//!
//! The same contract test suite runs on both backends, so a query that works
//! on one and not the other fails a test, not a deployment.
//!
//! SQLite allows one writer at a time. A pool of several connections makes
//! concurrent write transactions fail with `SQLITE_BUSY` whenever a deferred
//! transaction tries to upgrade its lock, so the SQLite write pool
//! ([`Db::pool`], [`Db::begin`]) has exactly ONE connection: transactions
//! queue in the pool instead of failing. The consequence for callers: never
//! acquire a second write connection (or call [`Db::pool`]) while holding a
//! transaction on a SQLite [`Db`] — it would wait for itself until the
//! acquire timeout.
//!
//! Reads that need no transaction go to [`Db::reader`]: on a SQLite file, a
//! second pool of read-only connections (`PRAGMA query_only`), which WAL lets
//! run in parallel with each other and with the writer, each seeing the last
//! committed state when its statement starts (see [`reader`]). On PostgreSQL
//! and on an in-memory SQLite database it is the same pool as [`Db::pool`].
//! A SQLite file also has a [`clock::WriteClock`] ([`Db::write_clock`]): it
//! tells an in-process cache that nothing was written since it read, without
//! a query.
//!
//! No pool pings a connection before handing it out (`test_before_acquire`,
//! a round trip per acquire: on SQLite a hand-off to the connection's worker
//! thread, for a connection that cannot drop). sqlx still pings each one
//! when it comes back to the pool; a PostgreSQL connection idle for more
//! than [`PING_AFTER_IDLE`] is pinged before use (a server or proxy may
//! have closed it meanwhile).
//!
//! Erasure on SQLite (docs/security.md, "Personal data"): every connection
//! runs with `secure_delete` on, so deleted or rewritten rows are zeroed in
//! their pages instead of lingering in free space; [`Db::checkpoint`] folds
//! the WAL back into the main file and truncates it after an erasure, so the
//! old pages do not survive in `-wal` either. New SQLite files are created
//! `0600` (SQLite gives the `-wal` and `-shm` files the main file's mode).

//! PostgreSQL connections are encrypted with rustls when the URL asks for it
//! (`?sslmode=verify-full&sslrootcert=/etc/vigie/db-ca.pem`); a remote host
//! without `verify-full` is reported at connection (see [`transport`]).

pub mod clock;
pub mod columns;
mod migrate;
pub mod multi_row;
pub mod reader;
mod storage_error;
pub mod text_array;
pub mod transport;

use std::str::FromStr;
use std::sync::Once;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{Any, AnyPool, Executor, Transaction};

use clock::{Ticks, WriteClock};

pub use migrate::Migration;
pub use storage_error::StorageError;

/// Pool size on PostgreSQL.
const POSTGRES_POOL_SIZE: u32 = 10;
/// How long a caller waits for a pooled connection before getting an error.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);
/// SQLite: how long a statement waits for another process's lock.
const SQLITE_BUSY_TIMEOUT_MS: u32 = 5_000;
/// PostgreSQL: a pooled connection idle longer than this is pinged before
/// use; a busy pool never pings.
pub const PING_AFTER_IDLE: Duration = Duration::from_secs(5);

/// The database engine behind a [`Db`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file (embedded mode).
    Sqlite,
    /// A PostgreSQL server (distributed mode).
    Postgres,
}

impl Backend {
    /// Which backend a URL designates: `sqlite:…` or `postgres://…`
    /// (`postgresql://…`).
    ///
    /// # Errors
    /// [`DbError::UnsupportedUrl`] for any other scheme.
    pub fn from_url(url: &str) -> Result<Backend, DbError> {
        let scheme = url.split(':').next().unwrap_or_default();
        match scheme {
            "sqlite" => Ok(Backend::Sqlite),
            "postgres" | "postgresql" => Ok(Backend::Postgres),
            // The scheme only: the rest of a URL may hold a password.
            other => Err(DbError::UnsupportedUrl(other.to_owned())),
        }
    }
}

/// Errors of the storage layer.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// A database error (connection, query, constraint…).
    #[error(transparent)]
    Sqlx(#[from] sqlx::Error),
    /// The URL scheme is neither `sqlite:` nor `postgres://`.
    #[error("unsupported database url scheme {0:?} (expected sqlite: or postgres://)")]
    UnsupportedUrl(String),
    /// A migration failed; nothing of it was applied.
    #[error("migration {component} v{version} ({name}) failed")]
    Migration {
        /// Component whose migration failed.
        component: String,
        /// Version of the failed migration.
        version: i64,
        /// Name of the failed migration.
        name: String,
        /// The underlying error.
        #[source]
        source: sqlx::Error,
    },
    /// The migration list or the recorded history is inconsistent (versions
    /// out of order, or an applied version whose name changed).
    #[error("inconsistent migrations for {component}: {reason}")]
    MigrationHistory {
        /// Component concerned.
        component: String,
        /// What is wrong.
        reason: String,
    },
    /// A value given to the storage layer is not acceptable.
    #[error("invalid value: {0}")]
    Invalid(String),
}

impl DbError {
    /// Whether the error is a unique (or primary key) constraint violation,
    /// on either backend.
    pub fn is_unique_violation(&self) -> bool {
        self.database_error().is_some_and(|error| error.is_unique_violation())
    }

    /// Whether the error is a foreign key constraint violation.
    pub fn is_foreign_key_violation(&self) -> bool {
        self.database_error()
            .is_some_and(|error| error.is_foreign_key_violation())
    }

    fn database_error(&self) -> Option<&dyn sqlx::error::DatabaseError> {
        match self {
            DbError::Sqlx(sqlx::Error::Database(error)) => Some(error.as_ref()),
            DbError::Migration {
                source: sqlx::Error::Database(error),
                ..
            } => Some(error.as_ref()),
            _ => None,
        }
    }
}

/// A connection pool to a SQLite or PostgreSQL database; cheap to clone.
#[derive(Debug, Clone)]
pub struct Db {
    /// Every write and transaction (one connection on SQLite).
    pool: AnyPool,
    /// Reads outside a transaction (read-only connections on a SQLite file,
    /// the same pool otherwise).
    reader: AnyPool,
    /// Hand-outs of the write connection of a SQLite file.
    write_clock: Option<WriteClock>,
    backend: Backend,
}

impl Db {
    /// Connects to `url`.
    ///
    /// - `sqlite://PATH` (or `sqlite:PATH`, `sqlite::memory:`): the file is
    ///   created if missing; WAL journal, 5 s busy timeout, foreign keys on,
    ///   and a pool of one connection (see the module documentation);
    /// - `postgres://…`: a pool of 10 connections; TLS as the URL's
    ///   `sslmode` says (`verify-full` recommended, `sslrootcert=FILE` for a
    ///   private CA); a warning is logged when a remote host is reached
    ///   without `verify-full` ([`transport::weakness`]).
    ///
    /// # Errors
    /// [`DbError::UnsupportedUrl`] for another scheme; [`DbError::Sqlx`] when
    /// the database cannot be opened or reached.
    pub async fn connect(url: &str) -> Result<Db, DbError> {
        install_drivers();
        let backend = Backend::from_url(url)?;
        let pool = match backend {
            Backend::Sqlite => {
                create_private_file(url)?;
                let url = sqlite_create_if_missing(url);
                let options = AnyConnectOptions::from_str(&url)?;
                let ticks = Ticks::default();
                let on_acquire = ticks.clone();
                let on_connect = ticks.clone();
                let writer = AnyPoolOptions::new()
                    .max_connections(1)
                    .acquire_timeout(ACQUIRE_TIMEOUT)
                    .test_before_acquire(false)
                    .before_acquire(move |_conn, _meta| {
                        on_acquire.tick();
                        Box::pin(async { Ok(true) })
                    })
                    .after_connect(move |conn, _meta| {
                        on_connect.tick();
                        Box::pin(async move {
                            // `journal_mode` is persistent in the file; the others
                            // are per connection.
                            conn.execute("PRAGMA journal_mode = WAL").await?;
                            conn.execute(format!("PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}").as_str())
                                .await?;
                            conn.execute("PRAGMA foreign_keys = ON").await?;
                            // Deleted content is overwritten with zeros (erasure).
                            conn.execute("PRAGMA secure_delete = ON").await?;
                            Ok(())
                        })
                    })
                    .connect_with(options.clone())
                    .await?;
                // The write pool's first connection has put the file in WAL
                // mode: readers can open now.
                let (reader, write_clock) = if sqlite_path(&url).is_some() {
                    let clock = WriteClock::new(&ticks, writer.clone());
                    (reader::sqlite_pool(options).await?, Some(clock))
                } else {
                    // An in-memory database exists once per connection: its
                    // reads take the write connection, which the clock counts.
                    (writer.clone(), None)
                };
                return Ok(Db {
                    pool: writer,
                    reader,
                    write_clock,
                    backend,
                });
            }
            Backend::Postgres => {
                if let Some(weak) = transport::weakness(url, std::env::var("PGSSLMODE").ok().as_deref()) {
                    tracing::warn!(
                        host = %weak.host,
                        sslmode = weak.sslmode.as_str(),
                        "database reached over the network without certificate verification: use sslmode=verify-full"
                    );
                }
                let options = AnyConnectOptions::from_str(url)?;
                AnyPoolOptions::new()
                    .max_connections(POSTGRES_POOL_SIZE)
                    .acquire_timeout(ACQUIRE_TIMEOUT)
                    .test_before_acquire(false)
                    .before_acquire(|conn, meta| {
                        Box::pin(async move {
                            if meta.idle_for > PING_AFTER_IDLE {
                                sqlx::Connection::ping(conn).await?;
                            }
                            Ok(true)
                        })
                    })
                    // Vigie's statements are short and many: compiling one
                    // with LLVM costs more than running it. Right after a
                    // large import (no statistics yet) a 500-structure read
                    // was costed above `jit_above_cost` and spent 1.1 s of
                    // its 1.3 s in JIT compilation (docs/operations.md).
                    .after_connect(|conn, _meta| Box::pin(async move { conn.execute("SET jit = off").await.map(drop) }))
                    .connect_with(options)
                    .await?
            }
        };
        Ok(Db {
            reader: pool.clone(),
            pool,
            write_clock: None,
            backend,
        })
    }

    /// The write pool, for statements outside a transaction that write (or
    /// must see the writer's own state). On SQLite it holds the only write
    /// connection: never use it while holding a transaction.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// The read pool, for reads outside a transaction: on a SQLite file,
    /// read-only connections that run in parallel with each other and with
    /// the writer, and see every transaction committed before the statement
    /// starts; a write through it fails (`query_only`). Safe to use while
    /// holding a transaction (it never waits for the write connection), but
    /// it does not see that transaction's uncommitted changes.
    pub fn reader(&self) -> &AnyPool {
        &self.reader
    }

    /// The write clock of a SQLite file ([`clock`]), `None` on PostgreSQL
    /// (other replicas write) and in memory: there, a cached read must be
    /// checked against the database.
    pub fn write_clock(&self) -> Option<&WriteClock> {
        self.write_clock.as_ref()
    }

    /// Which engine this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Begins a transaction. It rolls back when dropped without
    /// [`Transaction::commit`].
    ///
    /// # Errors
    /// [`DbError::Sqlx`] when no connection is available or `BEGIN` fails.
    pub async fn begin(&self) -> Result<Transaction<'static, Any>, DbError> {
        Ok(self.pool.begin().await?)
    }

    /// Begins a read transaction on [`Db::reader`]: several statements that
    /// must see one state (a structure and its rows) read one snapshot on
    /// SQLite, even if the writer commits between them. It writes nothing;
    /// end it with [`Transaction::commit`] (or drop it).
    ///
    /// # Errors
    /// [`DbError::Sqlx`] when no read connection is available or `BEGIN`
    /// fails.
    pub async fn begin_read(&self) -> Result<Transaction<'static, Any>, DbError> {
        Ok(self.reader.begin().await?)
    }

    /// Applies the `migrations` of `component` that are not applied yet, in
    /// version order, each in its own transaction, and records them in
    /// `vigie_migrations(component, version, name, applied_at)`.
    ///
    /// Idempotent; on PostgreSQL, concurrent calls (several replicas starting
    /// together) are serialised with a transaction-level advisory lock.
    ///
    /// # Errors
    /// [`DbError::Migration`] when a script fails (that migration is rolled
    /// back, earlier ones stay applied); [`DbError::MigrationHistory`] when
    /// versions are not strictly increasing or an applied version changed
    /// name.
    pub async fn migrate(&self, component: &str, migrations: &[Migration]) -> Result<(), DbError> {
        migrate::run(self, component, migrations).await
    }

    /// SQLite: copies the WAL into the main file and truncates it to zero
    /// bytes (`PRAGMA wal_checkpoint(TRUNCATE)`), so that pages written
    /// before an erasure are gone from `-wal`; PostgreSQL: nothing (its own
    /// files are out of reach of the service). Call it after the commit,
    /// never while holding a transaction (see the module documentation).
    ///
    /// # Errors
    /// [`DbError::Sqlx`] when the pragma fails; [`DbError::Invalid`] when a
    /// reader kept the WAL busy (the checkpoint was partial).
    pub async fn checkpoint(&self) -> Result<(), DbError> {
        if self.backend != Backend::Sqlite {
            return Ok(());
        }
        let row = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .fetch_one(&self.pool)
            .await?;
        // (busy, frames in the WAL, frames checkpointed); busy = 1 when a
        // reader or writer prevented the truncation.
        let busy: i64 = sqlx::Row::try_get(&row, 0)?;
        if busy != 0 {
            return Err(DbError::Invalid("wal checkpoint incomplete: database busy".into()));
        }
        Ok(())
    }

    /// Closes every connection of both pools (waiting for borrowed ones).
    pub async fn close(&self) {
        self.reader.close().await;
        self.pool.close().await;
    }
}

/// Registers the PostgreSQL and SQLite drivers with `sqlx::Any` (once per
/// process; [`Db::connect`] calls it).
pub fn install_drivers() {
    static ONCE: Once = Once::new();
    ONCE.call_once(sqlx::any::install_default_drivers);
}

/// Adds `mode=rwc` (create the file if missing) to a SQLite URL that does not
/// choose a mode.
fn sqlite_create_if_missing(url: &str) -> String {
    if url.contains(":memory:") || url.contains("mode=") {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    }
}

/// The file path of a SQLite URL (`sqlite://PATH?…`, `sqlite:PATH`), `None`
/// for an in-memory database.
fn sqlite_path(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && !path.contains(":memory:")).then_some(path)
}

/// Creates the SQLite file of `url` with mode `0600` when it does not exist
/// yet: it holds personal data, and SQLite gives its `-wal` and `-shm` files
/// the same mode. An existing file keeps its mode.
fn create_private_file(url: &str) -> Result<(), DbError> {
    let Some(path) = sqlite_path(url) else {
        return Ok(());
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(error) => Err(DbError::Sqlx(sqlx::Error::Io(error))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_paths_come_from_urls() {
        assert_eq!(sqlite_path("sqlite:///tmp/a.db?mode=rwc"), Some("/tmp/a.db"));
        assert_eq!(sqlite_path("sqlite:data/a.db"), Some("data/a.db"));
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert_eq!(sqlite_path("postgres://h/db"), None);
    }

    #[test]
    fn recognises_backends_without_leaking_urls() {
        assert_eq!(Backend::from_url("sqlite:///tmp/x.db").ok(), Some(Backend::Sqlite));
        assert_eq!(Backend::from_url("sqlite::memory:").ok(), Some(Backend::Sqlite));
        assert_eq!(Backend::from_url("postgres://u:p@h/db").ok(), Some(Backend::Postgres));
        assert_eq!(Backend::from_url("postgresql://h/db").ok(), Some(Backend::Postgres));
        let error = Backend::from_url("mysql://user:secret@h/db")
            .err()
            .map(|e| e.to_string());
        assert!(error.is_some_and(|e| e.contains("mysql") && !e.contains("secret")));
    }

    #[test]
    fn sqlite_urls_create_missing_files() {
        assert_eq!(sqlite_create_if_missing("sqlite:///a.db"), "sqlite:///a.db?mode=rwc");
        assert_eq!(
            sqlite_create_if_missing("sqlite:///a.db?mode=ro"),
            "sqlite:///a.db?mode=ro"
        );
        assert_eq!(
            sqlite_create_if_missing("sqlite:///a.db?cache=shared"),
            "sqlite:///a.db?cache=shared&mode=rwc"
        );
        assert_eq!(sqlite_create_if_missing("sqlite::memory:"), "sqlite::memory:");
    }
}
