//! The stored forms of values, read back: ISO 8601 dates, RFC 3339
//! instants, 0/1 flags and counters are text or integers in both backends
//! (docs/adr/0002-one-sql-dialect.md), so every row mapping turns them back
//! the same way, and a value that does not parse names its table and column.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::any::AnyRow;
use sqlx::Row;

use super::{from_json, parse_date, parse_timestamp, StorageError};

/// The typed columns of one row of `table`.
pub(super) struct Columns<'r> {
    row: &'r AnyRow,
    table: &'static str,
}

impl<'r> Columns<'r> {
    /// The columns of `row`, read from `table` (named in corrupt-value errors).
    pub fn of(row: &'r AnyRow, table: &'static str) -> Self {
        Columns { row, table }
    }

    /// A `YYYY-MM-DD` date.
    pub fn date(&self, column: &'static str) -> Result<NaiveDate, StorageError> {
        let value: String = self.row.try_get(column)?;
        parse_date(self.table, column, &value)
    }

    /// A date that may be NULL.
    pub fn opt_date(&self, column: &'static str) -> Result<Option<NaiveDate>, StorageError> {
        let value: Option<String> = self.row.try_get(column)?;
        value.map(|v| parse_date(self.table, column, &v)).transpose()
    }

    /// An RFC 3339 instant.
    pub fn instant(&self, column: &'static str) -> Result<DateTime<Utc>, StorageError> {
        let value: String = self.row.try_get(column)?;
        parse_timestamp(self.table, column, &value)
    }

    /// An instant that may be NULL.
    pub fn opt_instant(&self, column: &'static str) -> Result<Option<DateTime<Utc>>, StorageError> {
        let value: Option<String> = self.row.try_get(column)?;
        value.map(|v| parse_timestamp(self.table, column, &v)).transpose()
    }

    /// A list of strings stored as JSON.
    pub fn list(&self, column: &'static str) -> Result<Vec<String>, StorageError> {
        let value: String = self.row.try_get(column)?;
        from_json(self.table, column, &value)
    }

    /// A boolean stored as an integer (not 0 is true).
    pub fn flag(&self, column: &'static str) -> Result<bool, StorageError> {
        Ok(self.row.try_get::<i64, _>(column)? != 0)
    }

    /// A revision or a number of attempts, stored as an integer (one past
    /// `u32::MAX` cannot happen; it would read as `u32::MAX`).
    pub fn count(&self, column: &'static str) -> Result<u32, StorageError> {
        Ok(u32::try_from(self.row.try_get::<i64, _>(column)?).unwrap_or(u32::MAX))
    }
}
