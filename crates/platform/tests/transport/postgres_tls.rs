//! PostgreSQL over TLS (sqlx + rustls): `verify-full` with the test's CA
//! connects and migrates; a wrong CA or a server without TLS is refused.

use vigie_platform::db::{Db, Migration};
use vigie_testkit::{PgTls, TestCa};

/// Whether the current connection is encrypted, per the server itself.
async fn connection_is_tls(db: &Db) -> bool {
    let ssl: i64 = sqlx::query_scalar(
        "SELECT CAST(CASE WHEN ssl THEN 1 ELSE 0 END AS BIGINT) FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
    )
    .fetch_one(db.pool())
    .await
    .expect("pg_stat_ssl");
    ssl == 1
}

#[tokio::test]
async fn verify_full_with_the_right_ca_connects_encrypted_and_migrates() {
    vigie_testkit::init_test_logging();
    let mut ca = TestCa::new("vigie test database CA").unwrap();
    let cert = ca.issue(&["localhost", "127.0.0.1"]).unwrap();
    let server = PgTls::start(Some(&cert)).await.unwrap();
    let url = server.url(
        "localhost",
        &format!("sslmode=verify-full&sslrootcert={}", ca.ca_file().display()),
    );
    let db = Db::connect(&url)
        .await
        .unwrap_or_else(|e| panic!("{e:#}\n{}", server.log()));
    assert!(connection_is_tls(&db).await);
    let migrations = [Migration {
        version: 1,
        name: "tls probe",
        sqlite: "CREATE TABLE tls_probe (id BIGINT PRIMARY KEY)",
        postgres: "CREATE TABLE tls_probe (id BIGINT PRIMARY KEY)",
    }];
    db.migrate("transport", &migrations).await.unwrap();
    sqlx::query("INSERT INTO tls_probe (id) VALUES (1)")
        .execute(db.pool())
        .await
        .unwrap();
    let count: i64 = sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM tls_probe")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(count, 1);
    db.close().await;
}

#[tokio::test]
async fn verify_full_with_another_ca_is_refused() {
    vigie_testkit::init_test_logging();
    let mut ca = TestCa::new("vigie test database CA").unwrap();
    let stranger = TestCa::new("someone else's CA").unwrap();
    let cert = ca.issue(&["localhost", "127.0.0.1"]).unwrap();
    let server = PgTls::start(Some(&cert)).await.unwrap();
    let url = server.url(
        "localhost",
        &format!("sslmode=verify-full&sslrootcert={}", stranger.ca_file().display()),
    );
    let error = Db::connect(&url)
        .await
        .expect_err("a certificate from another CA must be refused");
    assert!(format!("{error:?}").contains("UnknownIssuer"), "{error:?}");
}

#[tokio::test]
async fn verify_full_refuses_a_certificate_for_another_name() {
    vigie_testkit::init_test_logging();
    let mut ca = TestCa::new("vigie test database CA").unwrap();
    let cert = ca.issue(&["db.other.example"]).unwrap();
    let server = PgTls::start(Some(&cert)).await.unwrap();
    let ca_param = format!("sslrootcert={}", ca.ca_file().display());
    let url = server.url("localhost", &format!("sslmode=verify-full&{ca_param}"));
    let error = Db::connect(&url).await.expect_err("the name must be checked");
    assert!(format!("{error:?}").contains("NotValidForName"), "{error:?}");
}

#[tokio::test]
async fn require_against_a_server_without_tls_is_refused() {
    vigie_testkit::init_test_logging();
    let server = PgTls::start(None).await.unwrap();
    let error = Db::connect(&server.url("127.0.0.1", "sslmode=require"))
        .await
        .expect_err("sslmode=require must not fall back to cleartext");
    assert!(format!("{error:?}").contains("Tls"), "{error:?}");
    // The same server in cleartext (prefer falls back): the control case.
    let db = Db::connect(&server.url("127.0.0.1", "")).await.unwrap();
    assert!(!connection_is_tls(&db).await);
    db.close().await;
}
