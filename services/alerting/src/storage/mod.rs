//! Persistence of the alerting service (PostgreSQL or SQLite through
//! `sqlx::Any`, see docs/adr/0002-one-sql-dialect.md). Functions take a
//! connection so the application decides the transaction.

mod calls;
mod duties;
mod grants;
mod migrations;
mod sends;
mod settings;
mod structures;

pub use calls::*;
pub use duties::*;
pub use grants::*;
pub use migrations::MIGRATIONS;
pub use sends::*;
pub use settings::*;
pub use structures::*;
pub use vigie_platform::db::StorageError;

fn to_json(values: &[String]) -> String {
    serde_json::to_string(values).unwrap_or_else(|_| "[]".to_owned())
}

/// At most this many bound parameters per statement (see docs/benchmarks.md:
/// `sqlx::Any` binding on SQLite grows worse than linearly past it).
const MAX_PARAMS: usize = 400;
