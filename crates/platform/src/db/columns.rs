//! A stored row read into the domain's types: each column taken by name and,
//! where the domain has a narrower type than the storage dialect (codes
//! stored as text, dates and instants as text, counts as `BIGINT`),
//! converted — a value that does not convert is a [`StorageError::Corrupt`]
//! naming its `table.column`, never a panic nor a silent default.
//!
//! ```ignore
//! let c = Columns::of(&row, "fa_interventions");
//! Intervention { place: c.parsed("place")?, minutes: c.integer("minutes")?, on: c.date("on_date")?, … }
//! ```

use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::any::AnyRow;
use sqlx::Row;

use super::StorageError;

/// The columns of one row of `table`.
#[derive(Clone, Copy)]
pub struct Columns<'r> {
    row: &'r AnyRow,
    table: &'static str,
}

impl<'r> Columns<'r> {
    /// The columns of `row`, read from `table` (named in errors).
    pub fn of(row: &'r AnyRow, table: &'static str) -> Self {
        Columns { row, table }
    }

    /// Column `column` as the dialect gives it (`String`, `i64`, `f64`,
    /// `Vec<u8>`, or an `Option` of them).
    ///
    /// # Errors
    /// [`StorageError::Database`] when the column is missing or of another type.
    pub fn get<T>(&self, column: &'static str) -> Result<T, StorageError>
    where
        T: sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any>,
    {
        Ok(self.row.try_get(column)?)
    }

    /// Text column `column` parsed as `T` (a code, a date `YYYY-MM-DD`…).
    ///
    /// # Errors
    /// [`StorageError::Corrupt`] when the text does not parse.
    pub fn parsed<T: FromStr>(&self, column: &'static str) -> Result<T, StorageError> {
        let text: String = self.get(column)?;
        self.parse(column, text)
    }

    /// Nullable text column `column` parsed as `T`; `NULL` is `None`.
    ///
    /// # Errors
    /// [`StorageError::Corrupt`] when a text does not parse.
    pub fn opt_parsed<T: FromStr>(&self, column: &'static str) -> Result<Option<T>, StorageError> {
        let text: Option<String> = self.get(column)?;
        text.map(|text| self.parse(column, text)).transpose()
    }

    /// A `YYYY-MM-DD` date.
    ///
    /// # Errors
    /// [`StorageError::Corrupt`] when the text is not a date.
    pub fn date(&self, column: &'static str) -> Result<NaiveDate, StorageError> {
        self.parsed(column)
    }

    /// A date that may be `NULL`.
    ///
    /// # Errors
    /// [`StorageError::Corrupt`] when a text is not a date.
    pub fn opt_date(&self, column: &'static str) -> Result<Option<NaiveDate>, StorageError> {
        self.opt_parsed(column)
    }

    /// An RFC 3339 instant.
    ///
    /// # Errors
    /// [`StorageError::Corrupt`] when the text is not an RFC 3339 instant.
    pub fn instant(&self, column: &'static str) -> Result<DateTime<Utc>, StorageError> {
        let text: String = self.get(column)?;
        self.instant_of(column, text)
    }

    /// An instant that may be `NULL`.
    ///
    /// # Errors
    /// [`StorageError::Corrupt`] when a text is not an RFC 3339 instant.
    pub fn opt_instant(&self, column: &'static str) -> Result<Option<DateTime<Utc>>, StorageError> {
        let text: Option<String> = self.get(column)?;
        text.map(|text| self.instant_of(column, text)).transpose()
    }

    /// Integer column `column` as `T` (minutes, a level, a revision, a number
    /// of attempts).
    ///
    /// # Errors
    /// [`StorageError::Corrupt`] when the value does not fit in `T`.
    pub fn integer<T: TryFrom<i64>>(&self, column: &'static str) -> Result<T, StorageError> {
        let value: i64 = self.get(column)?;
        T::try_from(value).map_err(|_| StorageError::corrupt(self.table, column, value))
    }

    /// A boolean stored as an integer (not 0 is true).
    ///
    /// # Errors
    /// [`StorageError::Database`] when the column is missing or not an integer.
    pub fn flag(&self, column: &'static str) -> Result<bool, StorageError> {
        Ok(self.get::<i64>(column)? != 0)
    }

    /// A list of strings stored as a JSON array.
    ///
    /// # Errors
    /// [`StorageError::Corrupt`] when the text is not a JSON array of strings.
    pub fn list(&self, column: &'static str) -> Result<Vec<String>, StorageError> {
        let text: String = self.get(column)?;
        serde_json::from_str(&text).map_err(|_| StorageError::corrupt(self.table, column, text))
    }

    fn instant_of(&self, column: &'static str, text: String) -> Result<DateTime<Utc>, StorageError> {
        DateTime::parse_from_rfc3339(&text)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| StorageError::corrupt(self.table, column, text))
    }

    fn parse<T: FromStr>(&self, column: &'static str, text: String) -> Result<T, StorageError> {
        text.parse()
            .map_err(|_| StorageError::corrupt(self.table, column, text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn row(select: &str) -> AnyRow {
        sqlx::any::install_default_drivers();
        let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect("sqlite::memory:")
            .await
            .expect("in-memory SQLite");
        sqlx::query(select).fetch_one(&mut conn).await.expect("the row")
    }

    fn corrupt_column(result: Result<impl std::fmt::Debug, StorageError>) -> (&'static str, &'static str, String) {
        match result {
            Err(StorageError::Corrupt { table, column, value }) => (table, column, value),
            other => panic!("expected a corrupt value, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn values_convert_to_the_domains_types() {
        let row = row(
            "SELECT '2026-12-04' AS day, NULL AS none, 42 AS minutes, '2026-12-04T10:00:00Z' AS at, \
             'x' AS name, 0 AS off, 4294967296 AS huge, '[\"a\",\"b\"]' AS tags",
        )
        .await;
        let c = Columns::of(&row, "t");
        let day = NaiveDate::from_ymd_opt(2026, 12, 4);
        assert_eq!(c.date("day").ok(), day);
        assert_eq!(c.parsed::<NaiveDate>("day").ok(), day);
        assert_eq!(c.opt_date("none").ok(), Some(None));
        assert_eq!(c.opt_parsed::<NaiveDate>("day").ok().flatten(), day);
        assert_eq!(c.integer::<u32>("minutes").ok(), Some(42));
        assert_eq!(
            corrupt_column(c.integer::<u32>("huge")),
            ("t", "huge", "4294967296".to_owned())
        );
        assert_eq!(c.flag("minutes").ok(), Some(true));
        assert_eq!(c.flag("off").ok(), Some(false));
        assert_eq!(
            c.instant("at").ok().map(|t| t.to_rfc3339()),
            Some("2026-12-04T10:00:00+00:00".to_owned())
        );
        assert_eq!(c.opt_instant("none").ok(), Some(None));
        assert_eq!(c.get::<String>("name").ok().as_deref(), Some("x"));
        assert_eq!(c.list("tags").ok(), Some(vec!["a".to_owned(), "b".to_owned()]));
    }

    #[tokio::test]
    async fn a_value_that_does_not_convert_names_its_table_and_column() {
        let row = row("SELECT '2026-13-01' AS day, -1 AS minutes, 'hier' AS at, '{}' AS tags").await;
        let c = Columns::of(&row, "fa_requests");
        let day = || ("fa_requests", "day", "2026-13-01".to_owned());
        assert_eq!(corrupt_column(c.date("day")), day());
        assert_eq!(corrupt_column(c.opt_date("day")), day());
        assert_eq!(corrupt_column(c.parsed::<NaiveDate>("day")), day());
        assert_eq!(
            corrupt_column(c.integer::<u32>("minutes")),
            ("fa_requests", "minutes", "-1".to_owned())
        );
        let at = || ("fa_requests", "at", "hier".to_owned());
        assert_eq!(corrupt_column(c.instant("at")), at());
        assert_eq!(corrupt_column(c.opt_instant("at")), at());
        assert_eq!(corrupt_column(c.list("tags")), ("fa_requests", "tags", "{}".to_owned()));
        assert!(matches!(c.get::<String>("missing"), Err(StorageError::Database(_))));
    }
}
