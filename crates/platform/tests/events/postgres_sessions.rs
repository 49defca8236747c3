//! Settings of every PostgreSQL session a `Db` opens.

use sqlx::Row;
use vigie_platform::db::Db;

/// JIT compilation costs more than Vigie's short statements: right after a
/// large import a 500-structure read spent 1.1 s of 1.3 s compiling. Every
/// connection of the pool, not only the first, has it off.
#[tokio::test]
async fn every_postgres_connection_has_jit_off() {
    let pg = vigie_testkit::PgDatabase::create().await;
    let db = Db::connect(pg.url()).await.unwrap();
    // Hold several connections at once so the pool opens more than one.
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(db.pool().acquire().await.unwrap());
    }
    for conn in &mut held {
        let jit: String = sqlx::query("SHOW jit").fetch_one(&mut **conn).await.unwrap().get(0);
        assert_eq!(jit, "off");
    }
}
