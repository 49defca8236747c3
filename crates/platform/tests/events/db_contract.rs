//! The storage contract, run unchanged on SQLite and PostgreSQL.

use sqlx::Row;
use vigie_platform::db::{Backend, Db, DbError, Migration};

use crate::support::{count, on_sqlite_and_postgres, TestDb};

const SCHEMA: &[Migration] = &[
    Migration {
        version: 1,
        name: "samples",
        // Two statements in one script; only the DDL types differ.
        sqlite: "CREATE TABLE samples (id TEXT PRIMARY KEY, n BIGINT NOT NULL, x REAL, data BLOB, note TEXT);
                 CREATE INDEX samples_n ON samples (n);",
        postgres:
            "CREATE TABLE samples (id TEXT PRIMARY KEY, n BIGINT NOT NULL, x DOUBLE PRECISION, data BYTEA, note TEXT);
                   CREATE INDEX samples_n ON samples (n);",
    },
    Migration {
        version: 2,
        name: "tags",
        sqlite: "CREATE TABLE tags (sample_id TEXT NOT NULL REFERENCES samples (id), tag TEXT NOT NULL)",
        postgres: "CREATE TABLE tags (sample_id TEXT NOT NULL REFERENCES samples (id), tag TEXT NOT NULL)",
    },
];

on_sqlite_and_postgres! {
    storage_contract:
        storage_contract_on_sqlite,
        storage_contract_on_postgres
}

async fn storage_contract(backend: Backend) {
    let test_db = TestDb::new(backend).await;
    let db = &test_db.db;
    assert_eq!(db.backend(), backend);

    // Migrations: applied once, recorded, idempotent.
    db.migrate("contract", SCHEMA).await.unwrap();
    db.migrate("contract", SCHEMA).await.unwrap();
    let recorded = count(db, "SELECT COUNT(*) FROM vigie_migrations WHERE component = 'contract'").await;
    assert_eq!(recorded, 2);
    let name: String = sqlx::query("SELECT name FROM vigie_migrations WHERE component = $1 AND version = $2")
        .bind("contract")
        .bind(2_i64)
        .fetch_one(db.pool())
        .await
        .unwrap()
        .get(0);
    assert_eq!(name, "tags");

    // `$n` placeholders, out of order and repeated, with every type of the dialect.
    let mut tx = db.begin().await.unwrap();
    sqlx::query("INSERT INTO samples (note, id, n, x, data) VALUES ($5, $1, $2, $3, $4)")
        .bind("a")
        .bind(42_i64)
        .bind(1.5_f64)
        .bind(vec![0_u8, 1, 2, 255])
        .bind(Option::<String>::None)
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query("INSERT INTO samples (id, n, x, data, note) VALUES ($1, $2, $2, NULL, $1)")
        .bind("b")
        .bind(7_i64)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let row = sqlx::query("SELECT id, n, x, data, note FROM samples WHERE id = $1 AND n > $2")
        .bind("a")
        .bind(0_i64)
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(row.get::<String, _>(0), "a");
    assert_eq!(row.get::<i64, _>(1), 42);
    assert_eq!(row.get::<f64, _>(2), 1.5);
    assert_eq!(row.get::<Vec<u8>, _>(3), vec![0, 1, 2, 255]);
    assert_eq!(row.get::<Option<String>, _>(4), None);
    let note: Option<String> = sqlx::query("SELECT note FROM samples WHERE id = $1")
        .bind("b")
        .fetch_one(db.pool())
        .await
        .unwrap()
        .get(0);
    assert_eq!(note.as_deref(), Some("b"));

    // Dropped transactions roll back.
    {
        let mut tx = db.begin().await.unwrap();
        sqlx::query("INSERT INTO samples (id, n) VALUES ($1, $2)")
            .bind("c")
            .bind(1_i64)
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    assert_eq!(count(db, "SELECT COUNT(*) FROM samples").await, 2);

    // Constraint violations are recognisable on both backends.
    let duplicate = sqlx::query("INSERT INTO samples (id, n) VALUES ($1, $2)")
        .bind("a")
        .bind(1_i64)
        .execute(db.pool())
        .await;
    let error = DbError::from(duplicate.unwrap_err());
    assert!(error.is_unique_violation(), "{error:?}");
    let orphan = sqlx::query("INSERT INTO tags (sample_id, tag) VALUES ($1, $2)")
        .bind("zz")
        .bind("t")
        .execute(db.pool())
        .await;
    let error = DbError::from(orphan.unwrap_err());
    assert!(error.is_foreign_key_violation(), "{error:?}");
    assert!(!error.is_unique_violation());

    // ON CONFLICT DO NOTHING reports whether a row was inserted.
    let inserted = sqlx::query("INSERT INTO samples (id, n) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING")
        .bind("a")
        .bind(3_i64)
        .execute(db.pool())
        .await
        .unwrap()
        .rows_affected();
    assert_eq!(inserted, 0);

    // A failing migration is rolled back entirely and not recorded.
    let broken = [Migration {
        version: 3,
        name: "broken",
        sqlite: "CREATE TABLE half (id TEXT); INSERT INTO nowhere VALUES (1);",
        postgres: "CREATE TABLE half (id TEXT); INSERT INTO nowhere VALUES (1);",
    }];
    let failed = db.migrate("contract", &[SCHEMA[0], SCHEMA[1], broken[0]]).await;
    assert!(
        matches!(failed, Err(DbError::Migration { version: 3, .. })),
        "{failed:?}"
    );
    assert_eq!(
        count(db, "SELECT COUNT(*) FROM vigie_migrations WHERE component = 'contract'").await,
        2
    );
    assert!(
        sqlx::query("SELECT COUNT(*) FROM half")
            .fetch_one(db.pool())
            .await
            .is_err(),
        "table of the failed migration exists"
    );

    // A released migration cannot be renamed, versions must increase.
    let renamed = Migration {
        name: "renamed",
        ..SCHEMA[0]
    };
    assert!(matches!(
        db.migrate("contract", &[renamed]).await,
        Err(DbError::MigrationHistory { .. })
    ));
    assert!(matches!(
        db.migrate("other", &[SCHEMA[1], SCHEMA[0]]).await,
        Err(DbError::MigrationHistory { .. })
    ));
}

#[tokio::test]
async fn concurrent_migrations_on_postgres_apply_once() {
    let test_db = TestDb::new(Backend::Postgres).await;
    // Separate pools, as separate replicas starting together would have.
    let mut replicas = Vec::new();
    for _ in 0..4 {
        replicas.push(Db::connect(&test_db.url).await.unwrap());
    }
    let runs = replicas.iter().map(|db| db.migrate("contract", SCHEMA));
    for result in futures::future::join_all(runs).await {
        result.unwrap();
    }
    assert_eq!(
        count(
            &test_db.db,
            "SELECT COUNT(*) FROM vigie_migrations WHERE component = 'contract'"
        )
        .await,
        2
    );
}
