//! Multi-row statements (`db::multi_row`), run unchanged on SQLite and
//! PostgreSQL: on PostgreSQL the rows travel as one JSON parameter and the
//! keys as one array literal, so hostile text must come back unchanged.

use sqlx::Row;
use vigie_platform::db::multi_row::{execute_for_keys, fetch_for_keys, insert_rows, insert_rows_returning, Value};
use vigie_platform::db::{Backend, Migration};

use crate::support::{count, on_sqlite_and_postgres, TestDb};

const SCHEMA: &[Migration] = &[Migration {
    version: 1,
    name: "rows",
    sqlite: "CREATE TABLE mr_rows (id TEXT PRIMARY KEY, n BIGINT, data BLOB NOT NULL, note TEXT)",
    postgres: "CREATE TABLE mr_rows (id TEXT PRIMARY KEY, n BIGINT, data BYTEA NOT NULL, note TEXT)",
}];

/// Ids a parser could stumble on: quotes, backslashes, the array literal's
/// own punctuation, control characters, non-ASCII, the empty string.
const HOSTILE: &[&str] = &[
    "plain",
    "with \"quotes\"",
    "back\\slash\\",
    "{braces},commas",
    "NULL",
    "tab\tnew\nline\r",
    "accentué — « guillemets » 🚀",
    "",
    "\\x41",
    "'; DROP TABLE mr_rows; --",
];

on_sqlite_and_postgres! {
    multi_row_statements_keep_every_value:
        multi_row_statements_keep_every_value_on_sqlite,
        multi_row_statements_keep_every_value_on_postgres
}

async fn multi_row_statements_keep_every_value(backend: Backend) {
    let test_db = TestDb::new(backend).await;
    let db = &test_db.db;
    db.migrate("multi_row", SCHEMA).await.unwrap();
    let ids: Vec<String> = HOSTILE
        .iter()
        .map(|s| (*s).to_owned())
        .chain((0..12_000).map(|n| format!("row-{n}")))
        .collect();
    let row_of = |n: usize, id: &str| {
        vec![
            Value::from(id),
            if n.is_multiple_of(3) {
                Value::Int(None)
            } else {
                Value::from(i64::try_from(n).unwrap() - 6_000)
            },
            Value::Bytes(id.as_bytes().iter().rev().copied().chain([0, 255]).collect()),
            if n.is_multiple_of(2) {
                Value::Text(None)
            } else {
                Value::from(format!("note {id}"))
            },
        ]
    };
    let columns = ["id", "n", "data", "note"];
    let mut tx = db.begin().await.unwrap();
    // More rows than one statement carries on either backend.
    let rows = ids.iter().enumerate().map(|(n, id)| row_of(n, id)).collect();
    insert_rows(&mut tx, "mr_rows", &columns, "", rows).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(count(db, "SELECT COUNT(*) FROM mr_rows").await, 12_010);

    let mut conn = db.pool().acquire().await.unwrap();
    let found = fetch_for_keys(&mut conn, "SELECT id, n, data, note FROM mr_rows WHERE id IN", &ids)
        .await
        .unwrap();
    assert_eq!(found.len(), ids.len());
    for row in found {
        let id: String = row.get(0);
        let n = ids.iter().position(|i| *i == id).expect("a stored id is one given");
        let expected = row_of(n, &id);
        assert_eq!(Value::Int(row.get(1)), expected[1], "{id:?}");
        assert_eq!(Value::Bytes(row.get(2)), expected[2], "{id:?}");
        assert_eq!(Value::Text(row.get(3)), expected[3], "{id:?}");
    }
    // Keys that match nothing, and none at all.
    let absent = vec!["absent".to_owned(), "plain ".to_owned()];
    assert!(fetch_for_keys(&mut conn, "SELECT id FROM mr_rows WHERE id IN", &absent)
        .await
        .unwrap()
        .is_empty());
    assert!(fetch_for_keys(&mut conn, "SELECT id FROM mr_rows WHERE id IN", &[])
        .await
        .unwrap()
        .is_empty());

    // An upsert returning what it inserted: the hostile ids exist already.
    let again: Vec<Vec<Value>> = HOSTILE
        .iter()
        .chain(&["new \"one\""])
        .map(|id| {
            vec![
                Value::from(*id),
                Value::from(1_i64),
                Value::Bytes(vec![]),
                Value::Text(None),
            ]
        })
        .collect();
    let returned = insert_rows_returning(
        &mut conn,
        "mr_rows",
        &columns,
        "ON CONFLICT (id) DO NOTHING RETURNING id",
        again,
    )
    .await
    .unwrap();
    let returned: Vec<String> = returned.iter().map(|row| row.get(0)).collect();
    assert_eq!(returned, vec!["new \"one\"".to_owned()]);

    let hostile: Vec<String> = HOSTILE.iter().map(|s| (*s).to_owned()).collect();
    let deleted = execute_for_keys(&mut conn, "DELETE FROM mr_rows WHERE id IN", &hostile)
        .await
        .unwrap();
    assert_eq!(deleted, 10);
    // SQLite's write pool has one connection.
    drop(conn);
    assert_eq!(count(db, "SELECT COUNT(*) FROM mr_rows").await, 12_001);
}
