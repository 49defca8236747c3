//! The migration runner: versioned scripts per component, applied once.
//!
//! Each component (a service, or the platform's `events` tables) owns a list
//! of [`Migration`]s. Applied versions are recorded in `vigie_migrations`, so
//! start-up can always call [`Db::migrate`](super::Db::migrate): it applies
//! what is missing and nothing else. A migration runs in one transaction
//! (DDL is transactional on both PostgreSQL and SQLite), so it is applied
//! entirely or not at all.

use chrono::{SecondsFormat, Utc};
use sqlx::{Any, Row, Transaction};

use super::{Backend, Db, DbError};

/// One versioned schema change of a component, with a script per backend.
///
/// A script may hold several statements separated by `;` (it is run as a
/// multi-statement batch, without bind parameters).
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// Version, strictly increasing within a component (1, 2, 3…).
    pub version: i64,
    /// Short description, recorded; must not change once released.
    pub name: &'static str,
    /// Script for SQLite.
    pub sqlite: &'static str,
    /// Script for PostgreSQL.
    pub postgres: &'static str,
}

const CREATE_HISTORY: &str = "CREATE TABLE IF NOT EXISTS vigie_migrations (
    component TEXT NOT NULL,
    version BIGINT NOT NULL,
    name TEXT NOT NULL,
    applied_at TEXT NOT NULL,
    PRIMARY KEY (component, version)
)";

/// Serialises migration runs of one schema across processes; released at
/// commit or rollback.
const PG_LOCK: &str = "SELECT pg_advisory_xact_lock(hashtext('vigie_migrations.' || current_schema()))";

pub(super) async fn run(db: &Db, component: &str, migrations: &[Migration]) -> Result<(), DbError> {
    check_order(component, migrations)?;
    for migration in migrations {
        let mut tx = db.begin().await?;
        lock_history(db.backend(), &mut tx).await?;
        let recorded: Option<String> =
            sqlx::query("SELECT name FROM vigie_migrations WHERE component = $1 AND version = $2")
                .bind(component)
                .bind(migration.version)
                .fetch_optional(&mut *tx)
                .await?
                .map(|row| row.try_get::<String, _>(0))
                .transpose()?;
        match recorded {
            Some(name) if name == migration.name => {
                tx.rollback().await?;
                continue;
            }
            Some(name) => {
                return Err(DbError::MigrationHistory {
                    component: component.to_owned(),
                    reason: format!(
                        "version {} was applied as {name:?} but is now named {:?}",
                        migration.version, migration.name
                    ),
                })
            }
            None => {}
        }
        let script = match db.backend() {
            Backend::Sqlite => migration.sqlite,
            Backend::Postgres => migration.postgres,
        };
        let failed = |source| DbError::Migration {
            component: component.to_owned(),
            version: migration.version,
            name: migration.name.to_owned(),
            source,
        };
        sqlx::raw_sql(script).execute(&mut *tx).await.map_err(failed)?;
        sqlx::query("INSERT INTO vigie_migrations (component, version, name, applied_at) VALUES ($1, $2, $3, $4)")
            .bind(component)
            .bind(migration.version)
            .bind(migration.name)
            .bind(Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true))
            .execute(&mut *tx)
            .await
            .map_err(failed)?;
        tx.commit().await.map_err(failed)?;
        tracing::info!(
            component,
            version = migration.version,
            name = migration.name,
            "migration applied"
        );
    }
    Ok(())
}

/// Takes the cross-process lock (PostgreSQL) and makes sure the history
/// table exists. The lock comes first: concurrent `CREATE TABLE IF NOT
/// EXISTS` can still collide on PostgreSQL's catalog.
async fn lock_history(backend: Backend, tx: &mut Transaction<'static, Any>) -> Result<(), DbError> {
    if backend == Backend::Postgres {
        sqlx::query(PG_LOCK).execute(&mut **tx).await?;
    }
    sqlx::query(CREATE_HISTORY).execute(&mut **tx).await?;
    Ok(())
}

fn check_order(component: &str, migrations: &[Migration]) -> Result<(), DbError> {
    let increasing = migrations.windows(2).all(|pair| pair[0].version < pair[1].version);
    if !increasing || migrations.first().is_some_and(|m| m.version < 1) {
        return Err(DbError::MigrationHistory {
            component: component.to_owned(),
            reason: "versions must be positive and strictly increasing".to_owned(),
        });
    }
    Ok(())
}
