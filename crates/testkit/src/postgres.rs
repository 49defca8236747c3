//! A fresh PostgreSQL database for one test.

use anyhow::{Context, Result};
use sqlx::{Connection, Executor, PgConnection};

/// Default administrative URL (trust authentication on loopback).
const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A database `vigie_test_<uuid>` created for one test and dropped (best
/// effort, terminating leftover connections) when the value is dropped.
///
/// The administrative URL comes from `VIGIE_TEST_DATABASE_URL` (default
/// `postgres://postgres@127.0.0.1:5432/postgres`); its role must be allowed
/// to create databases.
#[derive(Debug)]
pub struct PgDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl PgDatabase {
    /// Creates the database.
    ///
    /// # Panics
    /// When PostgreSQL is unreachable or refuses; see [`PgDatabase::try_create`].
    pub async fn create() -> PgDatabase {
        match Self::try_create().await {
            Ok(database) => database,
            Err(error) => panic!("cannot create a test database: {error:#}"),
        }
    }

    /// Creates the database.
    ///
    /// # Errors
    /// When PostgreSQL is unreachable or refuses to create the database.
    pub async fn try_create() -> Result<PgDatabase> {
        let admin_url = std::env::var("VIGIE_TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_ADMIN_URL.to_owned());
        let name = format!("vigie_test_{}", uuid::Uuid::now_v7().simple());
        let mut admin = PgConnection::connect(&admin_url)
            .await
            .context("connecting to the administrative database")?;
        admin
            .execute(format!(r#"CREATE DATABASE "{name}""#).as_str())
            .await
            .with_context(|| format!("creating database {name}"))?;
        let _ = admin.close().await;
        let url = with_database(&admin_url, &name);
        Ok(PgDatabase { admin_url, name, url })
    }

    /// The URL of the new database (`postgres://…/vigie_test_…`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The database name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        // Drop may run inside a Tokio runtime, where blocking on a future
        // panics: do the work on a separate thread with its own small runtime.
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        let dropper = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let mut admin = PgConnection::connect(&admin_url).await.ok()?;
                let sql = format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#);
                admin.execute(sql.as_str()).await.ok()?;
                admin.close().await.ok()
            })
        });
        let _ = dropper.join();
    }
}

/// Replaces the database name (the URL path) of a PostgreSQL URL, keeping
/// any query string.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{database}?{query}"),
        None => format!("{base}/{database}"),
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn replaces_the_database_of_a_url() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "db1"),
            "postgres://postgres@127.0.0.1:5432/db1"
        );
        assert_eq!(with_database("postgres://u:p@h", "db1"), "postgres://u:p@h/db1");
        assert_eq!(
            with_database("postgres://h:1/x?sslmode=disable", "db1"),
            "postgres://h:1/db1?sslmode=disable"
        );
    }
}
