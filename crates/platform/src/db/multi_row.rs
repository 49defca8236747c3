//! Multi-row statements: many rows per statement, within the limits of
//! both backends — the one home of the placeholders, sizes and binding that
//! the import, the consumers' inboxes and read models, the outbox and the
//! reminders' claims share.
//!
//! Placeholders differ by backend ([`Placeholders`]): PostgreSQL numbers
//! them (`$1`); on SQLite they are anonymous (`?`), because sqlx looks up
//! the name of every named parameter when binding
//! (`sqlite3_bind_parameter_name`, a scan of the statement's parameter
//! list), which made `$N` statements cost the square of their parameters
//! and held them to 400 parameters.
//!
//! [`insert_rows`] and the key lists ([`fetch_for_keys`],
//! [`execute_for_keys`]) go further on PostgreSQL: the rows or keys travel
//! as one parameter ([`postgres`]), so the statement's text is the same
//! whatever their count.

use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::Query;
use sqlx::{Any, AnyConnection};

mod postgres;

/// One bound value of a row given to [`insert_rows`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// `TEXT` (NULL when `None`).
    Text(Option<String>),
    /// `BIGINT` (NULL when `None`).
    Int(Option<i64>),
    /// `BYTEA` / `BLOB`.
    Bytes(Vec<u8>),
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

impl From<Vec<u8>> for Value {
    fn from(value: Vec<u8>) -> Self {
        Value::Bytes(value)
    }
}

/// How statements name their parameters on one connection's backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placeholders {
    /// `$1, $2, …`: PostgreSQL's only form.
    Numbered,
    /// `?, ?, …`: bound in order, SQLite.
    Anonymous,
}

impl Placeholders {
    /// The form of `conn`'s backend.
    pub fn of(conn: &AnyConnection) -> Placeholders {
        if conn.backend_name() == "PostgreSQL" {
            Placeholders::Numbered
        } else {
            Placeholders::Anonymous
        }
    }

    /// Parameters one statement carries: PostgreSQL saves a round trip per
    /// statement (its limit is 65,535); SQLite has no round trip, its
    /// statements only need to amortise the per-statement work (its limit
    /// is 32,766). Measured in docs/benchmarks.md (« Import of a generated
    /// inventory », « Consumers »).
    pub fn max_params(self) -> usize {
        match self {
            Placeholders::Numbered => 8_000,
            Placeholders::Anonymous => 4_000,
        }
    }

    /// Rows of `columns` bound values one statement carries (at least one).
    pub fn rows_per_statement(self, columns: usize) -> usize {
        (self.max_params() / columns.max(1)).max(1)
    }

    /// `(p1, …, p<columns><tail>), (…)`: the placeholders of a multi-row
    /// `VALUES` list of `rows` rows; `tail` is appended to each row
    /// (constant columns, e.g. `", NULL"`).
    pub fn values_list(self, rows: usize, columns: usize, tail: &str) -> String {
        let mut sql = String::with_capacity(rows * (columns * 6 + tail.len() + 4));
        for row in 0..rows {
            if row > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            self.push_list(&mut sql, row * columns + 1, columns);
            sql.push_str(tail);
            sql.push(')');
        }
        sql
    }

    /// `(p1, …, p<count>)`, e.g. for an `IN` list.
    pub fn in_list(self, count: usize) -> String {
        let mut sql = String::with_capacity(count * 6 + 2);
        sql.push('(');
        self.push_list(&mut sql, 1, count);
        sql.push(')');
        sql
    }

    /// `p<first>, …` for `count` parameters.
    fn push_list(self, sql: &mut String, first: usize, count: usize) {
        for n in first..first + count {
            if n > first {
                sql.push_str(", ");
            }
            match self {
                Placeholders::Numbered => {
                    sql.push('$');
                    sql.push_str(&n.to_string());
                }
                Placeholders::Anonymous => sql.push('?'),
            }
        }
    }
}

/// Inserts `rows` into `table` (`columns` in order) with as few statements
/// as the backend allows: `INSERT INTO table (columns) VALUES (…), (…)
/// {suffix}` on SQLite, one JSON parameter on PostgreSQL ([`postgres`]);
/// suffix e.g. `ON CONFLICT (a) DO NOTHING`. A statement may not touch one
/// conflict key twice on PostgreSQL (`DO UPDATE`): the caller keeps keys
/// unique. Every row has a value per column, of the same kinds.
///
/// # Errors
/// The database error of the first statement that failed (the caller's
/// transaction is then to be rolled back).
pub async fn insert_rows(
    conn: &mut AnyConnection,
    table: &str,
    columns: &[&str],
    suffix: &str,
    rows: Vec<Vec<Value>>,
) -> Result<(), sqlx::Error> {
    insert_rows_returning(conn, table, columns, suffix, rows).await?;
    Ok(())
}

/// [`insert_rows`] whose `suffix` ends in `RETURNING …`: the rows returned
/// by all its statements.
///
/// # Errors
/// The database error of the first statement that failed.
pub async fn insert_rows_returning(
    conn: &mut AnyConnection,
    table: &str,
    columns: &[&str],
    suffix: &str,
    rows: Vec<Vec<Value>>,
) -> Result<Vec<AnyRow>, sqlx::Error> {
    debug_assert!(
        rows.iter().all(|row| row.len() == columns.len()),
        "a row has a value per column"
    );
    let style = Placeholders::of(conn);
    let per_statement = match style {
        Placeholders::Numbered => POSTGRES_ROWS_PER_STATEMENT,
        Placeholders::Anonymous => style.rows_per_statement(columns.len()),
    };
    let mut returned = Vec::new();
    // One statement built at a time: a large import's JSON is never all
    // held at once.
    for chunk in rows.chunks(per_statement) {
        let statement = match style {
            Placeholders::Numbered => Statement {
                sql: postgres::insert_sql(table, columns, &chunk[0], suffix),
                persistent: true,
                params: Params::One(postgres::json_rows(chunk)),
            },
            // Full statements recur (every chunk of a large batch): kept
            // prepared; an odd-sized last one would only churn the cache.
            Placeholders::Anonymous => Statement {
                sql: format!(
                    "INSERT INTO {table} ({}) VALUES {} {suffix}",
                    columns.join(", "),
                    style.values_list(chunk.len(), columns.len(), "")
                ),
                persistent: chunk.len() == per_statement,
                params: Params::Rows(chunk),
            },
        };
        returned.extend(statement.query().fetch_all(&mut *conn).await?);
    }
    Ok(returned)
}

/// Rows (or keys) one PostgreSQL statement carries in its one parameter:
/// no limit of parameters there, only the statement's size to bound.
const POSTGRES_ROWS_PER_STATEMENT: usize = 5_000;

/// One statement of a multi-row write or key list.
struct Statement<'v> {
    sql: String,
    /// Kept prepared: its text recurs.
    persistent: bool,
    params: Params<'v>,
}

/// What a [`Statement`] binds, borrowed from the caller where it can be.
enum Params<'v> {
    /// Every value of these rows, in order.
    Rows(&'v [Vec<Value>]),
    /// These keys, as text.
    Keys(&'v [String]),
    /// One text: PostgreSQL's JSON rows or array literal.
    One(String),
}

impl Statement<'_> {
    fn query(&self) -> Query<'_, Any, AnyArguments<'_>> {
        let mut query = sqlx::query(&self.sql).persistent(self.persistent);
        match &self.params {
            Params::Rows(rows) => {
                for value in rows.iter().flatten() {
                    query = match value {
                        Value::Text(text) => query.bind(text.as_deref()),
                        Value::Int(int) => query.bind(*int),
                        Value::Bytes(bytes) => query.bind(bytes.as_slice()),
                    };
                }
            }
            Params::Keys(keys) => {
                for key in *keys {
                    query = query.bind(key.as_str());
                }
            }
            Params::One(text) => query = query.bind(text.as_str()),
        }
        query
    }
}

/// Runs `{prefix} (…keys…)` for every key, as few statements as the
/// backend allows, e.g. prefix `SELECT person_id FROM t WHERE structure_id
/// IN`; returns the rows of all.
///
/// # Errors
/// The database error of the first statement that failed.
pub async fn fetch_for_keys(
    conn: &mut AnyConnection,
    prefix: &str,
    keys: &[String],
) -> Result<Vec<AnyRow>, sqlx::Error> {
    let style = Placeholders::of(conn);
    let mut rows = Vec::new();
    for chunk in keys.chunks(keys_per_statement(style)) {
        rows.extend(
            key_statement(style, prefix, chunk)
                .query()
                .fetch_all(&mut *conn)
                .await?,
        );
    }
    Ok(rows)
}

/// Runs `{prefix} (…keys…)` for every key, as few statements as the
/// backend allows, e.g. prefix `DELETE FROM t WHERE id IN`; returns how
/// many rows were affected.
///
/// # Errors
/// The database error of the first statement that failed.
pub async fn execute_for_keys(conn: &mut AnyConnection, prefix: &str, keys: &[String]) -> Result<u64, sqlx::Error> {
    let style = Placeholders::of(conn);
    let mut affected = 0;
    for chunk in keys.chunks(keys_per_statement(style)) {
        affected += key_statement(style, prefix, chunk)
            .query()
            .execute(&mut *conn)
            .await?
            .rows_affected();
    }
    Ok(affected)
}

fn keys_per_statement(style: Placeholders) -> usize {
    match style {
        Placeholders::Numbered => POSTGRES_ROWS_PER_STATEMENT,
        Placeholders::Anonymous => style.max_params(),
    }
}

/// `{prefix} (…)` with `keys`: on PostgreSQL the keys as one array
/// parameter, on SQLite a list of placeholders. Never kept prepared:
/// PostgreSQL plans an unnamed statement with its values, where a cached
/// one turns generic after five runs — a generic plan of an `IN` list, made
/// while the table was small, kept scanning a whole table (alerting's send
/// log, 0.6 s a statement on 50,000 rows).
fn key_statement<'k>(style: Placeholders, prefix: &str, keys: &'k [String]) -> Statement<'k> {
    match style {
        Placeholders::Numbered => Statement {
            sql: postgres::keys_sql(prefix),
            persistent: false,
            params: Params::One(crate::db::text_array::write(keys)),
        },
        Placeholders::Anonymous => Statement {
            sql: format!("{prefix} {}", style.in_list(keys.len())),
            persistent: false,
            params: Params::Keys(keys),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::Placeholders;

    #[test]
    fn postgresql_numbers_its_placeholders_across_rows() {
        let style = Placeholders::Numbered;
        assert_eq!(style.values_list(2, 3, ""), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(style.values_list(2, 1, ", NULL"), "($1, NULL), ($2, NULL)");
        assert_eq!(style.in_list(3), "($1, $2, $3)");
    }

    #[test]
    fn sqlite_placeholders_are_anonymous() {
        let style = Placeholders::Anonymous;
        assert_eq!(style.values_list(2, 2, ""), "(?, ?), (?, ?)");
        assert_eq!(style.values_list(1, 1, ", NULL"), "(?, NULL)");
        assert_eq!(style.in_list(2), "(?, ?)");
    }

    #[test]
    fn a_statement_carries_at_least_one_row() {
        assert_eq!(Placeholders::Numbered.rows_per_statement(3), 2_666);
        assert_eq!(Placeholders::Anonymous.rows_per_statement(0), 4_000);
        assert_eq!(Placeholders::Anonymous.rows_per_statement(5_000), 1);
    }
}
