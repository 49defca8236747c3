//! A test's own database on either engine the services run on.
//!
//! Every service suite runs its scenarios twice, on a SQLite file and on
//! PostgreSQL (ADR 0002): this is the one place that makes either kind of
//! database and keeps it alive as long as the test needs it.

use anyhow::Result;
use tempfile::TempDir;

use crate::{sqlite_url, PgDatabase};

/// The database engines a service runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file (the embedded server, `vigie dev`).
    Sqlite,
    /// A PostgreSQL database (`vigie serve`).
    Postgres,
}

/// An empty database for one test: a SQLite file `<name>.db` in its own
/// temporary directory, or a fresh PostgreSQL database. It is removed when
/// the value is dropped, so a harness keeps it in a field declared after its
/// connection pool (fields drop in order).
#[derive(Debug)]
pub struct TestDatabase {
    url: String,
    backend: Backend,
    _keep: Keep,
}

/// What removes the database on drop.
#[derive(Debug)]
enum Keep {
    Sqlite(#[allow(dead_code)] TempDir),
    Postgres(#[allow(dead_code)] PgDatabase),
}

impl TestDatabase {
    /// Creates the database; `name` names the SQLite file (several services
    /// of one test each have their own).
    ///
    /// # Errors
    /// When the temporary directory cannot be made, or PostgreSQL is
    /// unreachable or refuses to create the database.
    pub async fn create(backend: Backend, name: &str) -> Result<TestDatabase> {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir()?;
                Ok(TestDatabase {
                    url: sqlite_url(dir.path(), name),
                    backend,
                    _keep: Keep::Sqlite(dir),
                })
            }
            Backend::Postgres => {
                let pg = PgDatabase::try_create().await?;
                Ok(TestDatabase {
                    url: pg.url().to_owned(),
                    backend,
                    _keep: Keep::Postgres(pg),
                })
            }
        }
    }

    /// The URL to connect to (`sqlite://…?mode=rwc` or `postgres://…`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Its engine.
    pub fn backend(&self) -> Backend {
        self.backend
    }
}
