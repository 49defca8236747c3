//! Batched multi-row statements: one statement per few hundred rows instead of
//! one per row, which is what makes importing 100,000 structures take seconds.

use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::{Any, AnyConnection};

/// A value bound into a batched statement.
#[derive(Debug, Clone)]
pub enum Value {
    /// A text column (NULL when `None`).
    Text(Option<String>),
    /// An integer column (NULL when `None`).
    Int(Option<i64>),
}

impl From<&str> for Value {
    fn from(value: &str) -> Self {
        Value::Text(Some(value.to_owned()))
    }
}

impl From<String> for Value {
    fn from(value: String) -> Self {
        Value::Text(Some(value))
    }
}

impl From<Option<String>> for Value {
    fn from(value: Option<String>) -> Self {
        Value::Text(value)
    }
}

impl From<i64> for Value {
    fn from(value: i64) -> Self {
        Value::Int(Some(value))
    }
}

impl From<Option<i64>> for Value {
    fn from(value: Option<i64>) -> Self {
        Value::Int(value)
    }
}

/// Parameters per statement. Both engines accept far more (SQLite 32,766,
/// PostgreSQL 65,535), but binding through `sqlx::Any` on SQLite grows worse
/// than linearly with the parameter count: measured on 20,000 structures,
/// ~3,500 parameters per statement took 4× longer than ~400 (see
/// docs/benchmarks.md), and much smaller statements pay per-statement costs.
const MAX_PARAMS: usize = 400;
/// Rows per statement for narrow tables.
const MAX_ROWS: usize = 100;

/// Inserts `rows` into `table` (`columns` in order), batching rows into
/// multi-row `INSERT … VALUES` statements. `suffix` is appended to each
/// statement (e.g. an `ON CONFLICT` clause).
///
/// # Errors
/// The first database error; the caller's transaction is then rolled back.
pub async fn insert_batched(
    conn: &mut AnyConnection,
    table: &str,
    columns: &[&str],
    suffix: &str,
    rows: Vec<Vec<Value>>,
) -> Result<(), sqlx::Error> {
    let per_statement = (MAX_PARAMS / columns.len()).clamp(1, MAX_ROWS);
    for chunk in rows.chunks(per_statement) {
        let sql = insert_sql(table, columns, chunk.len(), suffix);
        let mut query = sqlx::query(&sql);
        for row in chunk {
            debug_assert_eq!(row.len(), columns.len());
            for value in row {
                query = bind(query, value.clone());
            }
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Runs `sql_prefix ($1, $2, …)` for `keys` in batches, e.g.
/// `DELETE FROM inv_people WHERE structure_id IN`.
///
/// # Errors
/// The first database error.
pub async fn execute_for_keys(conn: &mut AnyConnection, sql_prefix: &str, keys: &[String]) -> Result<u64, sqlx::Error> {
    let mut affected = 0;
    for chunk in keys.chunks(MAX_ROWS) {
        let placeholders = (1..=chunk.len())
            .map(|n| format!("${n}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!("{sql_prefix} ({placeholders})");
        let mut query = sqlx::query(&sql);
        for key in chunk {
            query = query.bind(key.clone());
        }
        affected += query.execute(&mut *conn).await?.rows_affected();
    }
    Ok(affected)
}

fn insert_sql(table: &str, columns: &[&str], rows: usize, suffix: &str) -> String {
    let mut sql = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
    let mut n = 0;
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for column in 0..columns.len() {
            if column > 0 {
                sql.push_str(", ");
            }
            n += 1;
            sql.push('$');
            sql.push_str(&n.to_string());
        }
        sql.push(')');
    }
    if !suffix.is_empty() {
        sql.push(' ');
        sql.push_str(suffix);
    }
    sql
}

fn bind<'q>(query: Query<'q, Any, AnyArguments<'q>>, value: Value) -> Query<'q, Any, AnyArguments<'q>> {
    match value {
        Value::Text(text) => query.bind(text),
        Value::Int(int) => query.bind(int),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_sql_numbers_placeholders_across_rows() {
        assert_eq!(
            insert_sql("t", &["a", "b"], 2, "ON CONFLICT DO NOTHING"),
            "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4) ON CONFLICT DO NOTHING"
        );
    }
}
