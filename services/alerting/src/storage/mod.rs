//! Persistence of the alerting service (PostgreSQL or SQLite through
//! `sqlx::Any`, see docs/adr/0002-one-sql-dialect.md). Functions take a
//! connection so the application decides the transaction.

mod calls;
mod columns;
mod duties;
mod grants;
mod migrations;
mod sends;
mod settings;
mod structures;

use chrono::{DateTime, NaiveDate, Utc};

pub use calls::*;
pub use duties::*;
pub use grants::*;
pub use migrations::MIGRATIONS;
pub use sends::*;
pub use settings::*;
pub use structures::*;
pub use vigie_platform::db::StorageError;

fn parse_timestamp(table: &'static str, column: &'static str, value: &str) -> Result<DateTime<Utc>, StorageError> {
    DateTime::parse_from_rfc3339(value)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| StorageError::corrupt(table, column, value))
}

fn parse_date(table: &'static str, column: &'static str, value: &str) -> Result<NaiveDate, StorageError> {
    value
        .parse::<NaiveDate>()
        .map_err(|_| StorageError::corrupt(table, column, value))
}

fn to_json(values: &[String]) -> String {
    serde_json::to_string(values).unwrap_or_else(|_| "[]".to_owned())
}

fn from_json(table: &'static str, column: &'static str, value: &str) -> Result<Vec<String>, StorageError> {
    serde_json::from_str(value).map_err(|_| StorageError::corrupt(table, column, value))
}

/// At most this many bound parameters per statement (see docs/benchmarks.md:
/// `sqlx::Any` binding on SQLite grows worse than linearly past it).
const MAX_PARAMS: usize = 400;
