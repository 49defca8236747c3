//! Multi-row statements: many rows per round trip, within the limits of
//! both backends.
//!
//! PostgreSQL accepts 65,535 bound parameters per statement and bundled
//! SQLite 32,766, but binding through `sqlx::Any` on SQLite grows worse than
//! linearly past a few hundred (docs/benchmarks.md) and SQLite has no round
//! trip to save, so statements are cut smaller there.

use sqlx::any::AnyRow;
use sqlx::AnyConnection;

/// Bound parameters per statement on PostgreSQL.
const POSTGRES_PARAMS: usize = 4_000;
/// Bound parameters per statement on SQLite.
const SQLITE_PARAMS: usize = 400;

/// How many rows of `columns` bound values one statement carries on this
/// connection's backend (at least one).
pub fn rows_per_statement(conn: &AnyConnection, columns: usize) -> usize {
    let params = if conn.backend_name() == "PostgreSQL" {
        POSTGRES_PARAMS
    } else {
        SQLITE_PARAMS
    };
    (params / columns.max(1)).max(1)
}

/// `($first, …), (…)`: the placeholders of a multi-row `VALUES` list of
/// `rows` rows of `columns` values, numbered from `first` (parameters
/// before it are shared by every row, e.g. a consumer name).
pub fn values_list(rows: usize, columns: usize, first: usize) -> String {
    let mut sql = String::with_capacity(rows * columns * 6);
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for column in 0..columns {
            if column > 0 {
                sql.push_str(", ");
            }
            sql.push('$');
            sql.push_str(&(first + row * columns + column).to_string());
        }
        sql.push(')');
    }
    sql
}

/// `$first, …`: `count` placeholders for an `IN (…)` list.
pub fn in_list(count: usize, first: usize) -> String {
    (first..first + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One bound value of a row given to [`insert_rows`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// `TEXT`.
    Text(String),
    /// `BIGINT`.
    Int(i64),
    /// `BYTEA` / `BLOB`.
    Bytes(Vec<u8>),
}

/// Inserts `rows` (each of the same number of [`Value`]s) with as few
/// statements as the backend allows: `{head} VALUES (…), (…) {tail}`, e.g.
/// head `INSERT INTO t (a, b)` and tail `ON CONFLICT (a) DO NOTHING`. A
/// statement may not touch one conflict key twice on PostgreSQL (`DO
/// UPDATE`): the caller keeps keys unique.
///
/// # Errors
/// The database error of the first statement that failed.
pub async fn insert_rows(
    conn: &mut AnyConnection,
    head: &str,
    tail: &str,
    rows: &[Vec<Value>],
) -> Result<(), sqlx::Error> {
    let Some(columns) = rows.first().map(Vec::len) else {
        return Ok(());
    };
    for chunk in rows.chunks(rows_per_statement(conn, columns)) {
        let sql = format!("{head} VALUES {} {tail}", values_list(chunk.len(), columns, 1));
        let mut query = sqlx::query(&sql);
        for value in chunk.iter().flatten() {
            query = match value {
                Value::Text(text) => query.bind(text.clone()),
                Value::Int(int) => query.bind(*int),
                Value::Bytes(bytes) => query.bind(bytes.clone()),
            };
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Runs `{head} IN (…)` for every key, as few statements as the backend
/// allows, e.g. head `DELETE FROM t WHERE id`; returns the rows of all.
///
/// # Errors
/// The database error of the first statement that failed.
pub async fn for_keys(conn: &mut AnyConnection, head: &str, keys: &[String]) -> Result<Vec<AnyRow>, sqlx::Error> {
    let mut rows = Vec::new();
    for chunk in keys.chunks(rows_per_statement(conn, 1)) {
        let sql = format!("{head} IN ({})", in_list(chunk.len(), 1));
        let mut query = sqlx::query(&sql);
        for key in chunk {
            query = query.bind(key.clone());
        }
        rows.extend(query.fetch_all(&mut *conn).await?);
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::{in_list, values_list};

    #[test]
    fn placeholders_are_numbered_across_rows() {
        assert_eq!(values_list(2, 3, 1), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(values_list(1, 2, 3), "($3, $4)");
        assert_eq!(in_list(3, 2), "$2, $3, $4");
    }
}
