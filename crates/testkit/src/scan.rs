//! Scans every text and binary value of a database's tables: the proof that
//! an erased person's name or email is held nowhere (docs/security.md,
//! "Personal data").

use anyhow::Result;
use sqlx::{AnyPool, Column, Row};

/// One stored value: `table.column` and its bytes (text as UTF-8).
#[derive(Debug, Clone)]
pub struct StoredValue {
    /// The table.
    pub table: String,
    /// The column.
    pub column: String,
    /// The value (text as UTF-8 bytes, blobs as they are).
    pub bytes: Vec<u8>,
}

impl StoredValue {
    /// Whether the value contains `needle` (never for an empty needle).
    pub fn contains(&self, needle: &str) -> bool {
        contains(&self.bytes, needle)
    }
}

/// Whether `haystack` contains the UTF-8 bytes of `needle` (never for an
/// empty needle).
pub fn contains(haystack: &[u8], needle: &str) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// The names of the tables (SQLite or PostgreSQL's current schema) whose
/// name matches the SQL `LIKE` pattern `like`.
///
/// # Errors
/// A database error.
pub async fn tables(pool: &AnyPool, like: &str) -> Result<Vec<String>> {
    let rows = match sqlx::query("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE $1")
        .bind(like.to_owned())
        .fetch_all(pool)
        .await
    {
        Ok(rows) => rows,
        Err(_) => {
            sqlx::query(
                "SELECT CAST(table_name AS TEXT) AS name FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_name LIKE $1",
            )
            .bind(like.to_owned())
            .fetch_all(pool)
            .await?
        }
    };
    rows.iter().map(|r| Ok(r.try_get::<String, _>("name")?)).collect()
}

/// Every text or binary value of every table matching `like` (`%` for all).
///
/// # Errors
/// A database error.
pub async fn stored_values(pool: &AnyPool, like: &str) -> Result<Vec<StoredValue>> {
    let mut values = Vec::new();
    for table in tables(pool, like).await? {
        if table.starts_with("sqlite_") {
            continue;
        }
        for row in sqlx::query(&format!("SELECT * FROM {table}")).fetch_all(pool).await? {
            for (index, column) in row.columns().iter().enumerate() {
                let bytes = if let Ok(Some(text)) = row.try_get::<Option<String>, _>(index) {
                    text.into_bytes()
                } else if let Ok(Some(bytes)) = row.try_get::<Option<Vec<u8>>, _>(index) {
                    bytes
                } else {
                    continue;
                };
                values.push(StoredValue {
                    table: table.clone(),
                    column: column.name().to_owned(),
                    bytes,
                });
            }
        }
    }
    Ok(values)
}
