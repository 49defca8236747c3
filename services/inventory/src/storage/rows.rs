//! Batched multi-row statements: one statement per few hundred rows instead of
//! one per row, which is what makes importing 100,000 structures take seconds.

use sqlx::any::AnyArguments;
use sqlx::any::AnyRow;
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

/// How statements name their parameters on one connection's backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Placeholders {
    /// `$1, $2, …`: PostgreSQL's only form.
    Numbered,
    /// `?, ?, …`: bound in order. On SQLite, sqlx looks up the name of every
    /// named parameter when binding (`sqlite3_bind_parameter_name`, a linear
    /// scan of the statement's parameter list), so `$N` costs grow with the
    /// square of the parameters of a multi-row statement; anonymous `?`
    /// parameters have no name to look up.
    Anonymous,
}

impl Placeholders {
    fn of(conn: &AnyConnection) -> Placeholders {
        if conn.backend_name() == "PostgreSQL" {
            Placeholders::Numbered
        } else {
            Placeholders::Anonymous
        }
    }

    /// Parameters one statement carries: PostgreSQL saves a round trip per
    /// statement (its limit is 65,535); SQLite has no round trip, and its
    /// statements are prepared once per row count and cached by sqlx, so the
    /// size only needs to amortise the per-statement work (measured in
    /// docs/benchmarks.md, « Import of a generated inventory »).
    fn max_params(self) -> usize {
        match self {
            Placeholders::Numbered => 8_000,
            Placeholders::Anonymous => 4_000,
        }
    }

    /// Appends the placeholder of the `n`-th parameter (from 1).
    fn push(self, sql: &mut String, n: usize) {
        match self {
            Placeholders::Numbered => {
                sql.push('$');
                sql.push_str(&n.to_string());
            }
            Placeholders::Anonymous => sql.push('?'),
        }
    }

    /// `(p1, p2, …)` for `count` parameters numbered from `first`.
    fn push_tuple(self, sql: &mut String, first: usize, count: usize) {
        sql.push('(');
        for n in first..first + count {
            if n > first {
                sql.push_str(", ");
            }
            self.push(sql, n);
        }
        sql.push(')');
    }
}

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
    let style = Placeholders::of(conn);
    let per_statement = (style.max_params() / columns.len()).max(1);
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<Vec<Value>> = rows.by_ref().take(per_statement).collect();
        let sql = insert_sql(style, table, columns, chunk.len(), suffix);
        let mut query = sqlx::query(&sql);
        for row in chunk {
            debug_assert_eq!(row.len(), columns.len());
            for value in row {
                query = bind(query, value);
            }
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Runs `sql_prefix (p1, p2, …)` for `keys` in batches, e.g.
/// `DELETE FROM inv_people WHERE structure_id IN`.
///
/// # Errors
/// The first database error.
pub async fn execute_for_keys(conn: &mut AnyConnection, sql_prefix: &str, keys: &[String]) -> Result<u64, sqlx::Error> {
    let style = Placeholders::of(conn);
    let mut affected = 0;
    for chunk in keys.chunks(style.max_params()) {
        let sql = in_list_sql(style, sql_prefix, chunk.len());
        let mut query = sqlx::query(&sql);
        for key in chunk {
            query = query.bind(key.clone());
        }
        affected += query.execute(&mut *conn).await?.rows_affected();
    }
    Ok(affected)
}

/// Runs `sql_prefix (p1, p2, …)` for `keys` in batches and returns every
/// row, e.g. `SELECT person_id, structure_id FROM inv_people WHERE person_id IN`.
///
/// # Errors
/// The first database error.
pub async fn fetch_for_keys(
    conn: &mut AnyConnection,
    sql_prefix: &str,
    keys: &[String],
) -> Result<Vec<AnyRow>, sqlx::Error> {
    let style = Placeholders::of(conn);
    let mut rows = Vec::new();
    for chunk in keys.chunks(style.max_params()) {
        let sql = in_list_sql(style, sql_prefix, chunk.len());
        let mut query = sqlx::query(&sql);
        for key in chunk {
            query = query.bind(key.clone());
        }
        rows.extend(query.fetch_all(&mut *conn).await?);
    }
    Ok(rows)
}

/// `sql_prefix (p1, …, p<keys>)`.
fn in_list_sql(style: Placeholders, sql_prefix: &str, keys: usize) -> String {
    let mut sql = format!("{sql_prefix} ");
    style.push_tuple(&mut sql, 1, keys);
    sql
}

fn insert_sql(style: Placeholders, table: &str, columns: &[&str], rows: usize, suffix: &str) -> String {
    let mut sql = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        style.push_tuple(&mut sql, row * columns.len() + 1, columns.len());
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
            insert_sql(Placeholders::Numbered, "t", &["a", "b"], 2, "ON CONFLICT DO NOTHING"),
            "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4) ON CONFLICT DO NOTHING"
        );
    }

    #[test]
    fn insert_sql_leaves_sqlite_placeholders_anonymous() {
        assert_eq!(
            insert_sql(Placeholders::Anonymous, "t", &["a", "b"], 2, ""),
            "INSERT INTO t (a, b) VALUES (?, ?), (?, ?)"
        );
    }
}
