//! The SQLite read pool (`Db::reader`, `Db::begin_read`) on a real file:
//! readers run in parallel with each other and with the single writer, see
//! every committed write, read one consistent snapshot per transaction,
//! never write, never starve the writer, and leave the file intact.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sqlx::Row;
use tokio::task::JoinHandle;
use tokio::time::timeout;
use vigie_platform::db::clock::{Stamp, WriteClock};
use vigie_platform::db::Db;

/// Longer than any wait below should be; a blocked reader or writer fails the
/// test instead of hanging it.
const PATIENCE: Duration = Duration::from_secs(10);

/// A fresh SQLite file with the counter at 0 and no items, in its own
/// directory (kept alive by the caller).
async fn counter_db() -> (tempfile::TempDir, Db) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("reads.sqlite");
    let db = Db::connect(&format!("sqlite://{}", path.display())).await.unwrap();
    for sql in [
        "CREATE TABLE counter (id BIGINT PRIMARY KEY, n BIGINT NOT NULL)",
        "CREATE TABLE items (n BIGINT PRIMARY KEY)",
        "INSERT INTO counter (id, n) VALUES (1, 0)",
    ] {
        sqlx::query(sql).execute(db.pool()).await.unwrap();
    }
    (dir, db)
}

async fn read_counter(executor: impl sqlx::Executor<'_, Database = sqlx::Any>) -> i64 {
    sqlx::query("SELECT n FROM counter WHERE id = 1")
        .fetch_one(executor)
        .await
        .unwrap()
        .try_get(0)
        .unwrap()
}

/// One write transaction: a new item and the counter set to the item count.
async fn write_one(db: &Db, n: i64) {
    let mut tx = db.begin().await.unwrap();
    sqlx::query("INSERT INTO items (n) VALUES ($1)")
        .bind(n)
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query("UPDATE counter SET n = $1 WHERE id = 1")
        .bind(n)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

/// Four tasks running `read` on the file until the test sets `done`: the
/// readers the concurrency tests put beside the writer.
fn spawn_readers<T, F, Fut>(db: &Db, done: &Arc<AtomicBool>, read: F) -> Vec<JoinHandle<T>>
where
    F: Fn(Db, Arc<AtomicBool>) -> Fut,
    Fut: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    (0..4).map(|_| tokio::spawn(read(db.clone(), done.clone()))).collect()
}

#[tokio::test]
async fn several_read_transactions_are_open_at_once_beside_a_write() {
    let (_dir, db) = counter_db().await;
    // Two read snapshots held together: with one connection for everything
    // the second would wait for the first until the acquire timeout.
    let mut first = timeout(PATIENCE, db.begin_read()).await.unwrap().unwrap();
    let mut second = timeout(PATIENCE, db.begin_read()).await.unwrap().unwrap();
    assert_eq!(read_counter(&mut *first).await, 0);
    assert_eq!(read_counter(&mut *second).await, 0);
    // The writer is not held back by open readers (WAL).
    timeout(PATIENCE, write_one(&db, 1)).await.unwrap();
    // Each open snapshot keeps the state it started with…
    assert_eq!(read_counter(&mut *first).await, 0);
    assert_eq!(read_counter(&mut *second).await, 0);
    first.commit().await.unwrap();
    second.commit().await.unwrap();
    // …and a new read sees the commit.
    assert_eq!(read_counter(db.reader()).await, 1);
}

#[tokio::test]
async fn every_read_after_a_commit_sees_it() {
    let (_dir, db) = counter_db().await;
    for n in 1..=200 {
        write_one(&db, n).await;
        assert_eq!(read_counter(db.reader()).await, n, "read after commit {n}");
    }
}

#[tokio::test]
async fn readers_cannot_write() {
    let (_dir, db) = counter_db().await;
    let refused = sqlx::query("INSERT INTO items (n) VALUES (99)")
        .execute(db.reader())
        .await;
    assert!(refused.is_err(), "a write through the read pool must fail");
    let mut snapshot = db.begin_read().await.unwrap();
    let refused = sqlx::query("UPDATE counter SET n = 99").execute(&mut *snapshot).await;
    assert!(refused.is_err(), "a write in a read transaction must fail");
    drop(snapshot);
    assert_eq!(read_counter(db.pool()).await, 0);
}

#[tokio::test]
async fn a_busy_writer_and_busy_readers_keep_a_consistent_file() {
    let (_dir, db) = counter_db().await;
    let writes = 400;
    let done = Arc::new(AtomicBool::new(false));
    let readers = spawn_readers(&db, &done, |db, done| async move {
        let (mut reads, mut last) = (0u64, 0i64);
        while !done.load(Ordering::Relaxed) {
            // Two statements in one snapshot always agree, whatever
            // the writer commits between them.
            let mut snapshot = db.begin_read().await.unwrap();
            let counter = read_counter(&mut *snapshot).await;
            let items: i64 = sqlx::query("SELECT COUNT(*) FROM items")
                .fetch_one(&mut *snapshot)
                .await
                .unwrap()
                .try_get(0)
                .unwrap();
            snapshot.commit().await.unwrap();
            assert_eq!(counter, items, "a snapshot mixed two commits");
            assert!(counter >= last, "a later read saw an older state");
            last = counter;
            reads += 1;
        }
        reads
    });
    // The writer finishes all its transactions while readers hammer the file.
    let writer = {
        let db = db.clone();
        tokio::spawn(async move {
            for n in 1..=writes {
                write_one(&db, n).await;
            }
        })
    };
    timeout(Duration::from_secs(60), writer)
        .await
        .expect("the writer was starved")
        .unwrap();
    done.store(true, Ordering::Relaxed);
    for reader in readers {
        assert!(reader.await.unwrap() > 0, "every reader ran");
    }
    assert_eq!(read_counter(db.reader()).await, writes);
    let check: String = sqlx::query("PRAGMA integrity_check")
        .fetch_one(db.pool())
        .await
        .unwrap()
        .try_get(0)
        .unwrap();
    assert_eq!(check, "ok");
}

#[tokio::test]
async fn the_erasure_checkpoint_completes_while_readers_read() {
    let (dir, db) = counter_db().await;
    for n in 1..=50 {
        write_one(&db, n).await;
    }
    let done = Arc::new(AtomicBool::new(false));
    let readers = spawn_readers(&db, &done, |db, done| async move {
        while !done.load(Ordering::Relaxed) {
            read_counter(db.reader()).await;
        }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    write_one(&db, 51).await;
    let checkpoint = timeout(PATIENCE, db.checkpoint()).await.expect("checkpoint hung");
    done.store(true, Ordering::Relaxed);
    for reader in readers {
        reader.await.unwrap();
    }
    checkpoint.expect("the checkpoint must complete (WAL truncated) despite readers");
    let wal = std::fs::metadata(dir.path().join("reads.sqlite-wal"))
        .map(|m| m.len())
        .unwrap_or(0);
    assert_eq!(wal, 0, "the WAL is truncated");
}

#[tokio::test]
async fn an_in_memory_database_reads_through_its_only_connection() {
    let db = Db::connect("sqlite::memory:").await.unwrap();
    sqlx::query("CREATE TABLE t (n BIGINT)")
        .execute(db.pool())
        .await
        .unwrap();
    sqlx::query("INSERT INTO t (n) VALUES (7)")
        .execute(db.pool())
        .await
        .unwrap();
    let n: i64 = sqlx::query("SELECT n FROM t")
        .fetch_one(db.reader())
        .await
        .unwrap()
        .try_get(0)
        .unwrap();
    assert_eq!(n, 7);
}

/// The write clock (`Db::write_clock`) of a SQLite file: a stamp taken with
/// nothing written since stays valid; any use of the write connection —
/// a transaction, committed or not, a statement on `Db::pool` — ends it; no
/// stamp is given while a write transaction is open (its commit could land
/// during the read).
#[tokio::test]
async fn the_write_clock_sees_every_use_of_the_write_connection() {
    let (_dir, db) = counter_db().await;
    let clock = db.write_clock().expect("a SQLite file has a write clock").clone();
    let stamp = stamp_when_idle(&clock).await;
    assert_eq!(read_counter(db.reader()).await, 0);
    assert!(clock.still(stamp), "reads do not move the clock");

    write_one(&db, 1).await;
    assert!(!clock.still(stamp), "a committed transaction moves the clock");

    let stamp = stamp_when_idle(&clock).await;
    let tx = db.begin().await.unwrap();
    assert!(!clock.still(stamp), "an open transaction has moved the clock");
    assert!(clock.stamp().is_none(), "no stamp while a transaction is open");
    drop(tx);
    let stamp = stamp_when_idle(&clock).await;

    read_counter(db.pool()).await;
    assert!(!clock.still(stamp), "a statement on the write pool moves the clock");
}

/// A stamp, once the write connection is back in the pool (sqlx returns it
/// from a task, after a ping, once the statement or transaction is done).
async fn stamp_when_idle(clock: &WriteClock) -> Stamp {
    timeout(PATIENCE, async {
        loop {
            if let Some(stamp) = clock.stamp() {
                break stamp;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    })
    .await
    .expect("the write connection comes back")
}

#[tokio::test]
async fn postgres_and_memory_have_no_write_clock() {
    let memory = Db::connect("sqlite::memory:").await.unwrap();
    assert!(memory.write_clock().is_none());
    let pg = vigie_testkit::PgDatabase::create().await;
    let db = Db::connect(pg.url()).await.unwrap();
    assert!(db.write_clock().is_none(), "other replicas write PostgreSQL");
}
