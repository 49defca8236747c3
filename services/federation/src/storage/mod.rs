//! Persistence of the federation service (PostgreSQL or SQLite through
//! `sqlx::Any`, docs/adr/0002-one-sql-dialect.md). Functions take a
//! connection so the application decides the transaction. Dates are stored
//! as `YYYY-MM-DD`, times as RFC 3339.

mod grants;
mod migrations;
mod read_model;
mod snapshots;

pub use grants::{save_duty_due, save_duty_status, save_grant, GrantDecision, SENT};
pub use migrations::MIGRATIONS;
pub use read_model::*;
pub use snapshots::*;
pub use vigie_platform::db::StorageError;

/// The activity measures kept per structure and year (`fe_activity.measure`).
pub mod measure {
    /// Reminders claimed for the structure.
    pub const REMINDERS_SENT: &str = "reminders_sent";
    /// Acknowledgements of calls by the structure.
    pub const REMINDERS_ACKNOWLEDGED: &str = "reminders_acknowledged";
    /// Facilitation minutes on the structure's own needs.
    pub const MINUTES_INTERNAL: &str = "minutes_internal";
    /// Facilitation minutes for its external beneficiaries.
    pub const MINUTES_EXTERNAL: &str = "minutes_external";
    /// Training completions of its members.
    pub const TRAINING_COMPLETIONS: &str = "training_completions";
}

fn parse_date(table: &'static str, column: &'static str, text: &str) -> Result<chrono::NaiveDate, StorageError> {
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| StorageError::corrupt(table, column, text))
}
