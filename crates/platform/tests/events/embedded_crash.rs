//! Embedded mode across `SIGKILL`: a worker process appends events and
//! delivers them in process; it is killed mid-stream (twice), then run to
//! completion. Every committed event must be applied exactly once and
//! nothing may be left unpublished — also when the events come in bulk and
//! the consumer applies dozens per transaction (killed mid-batch).

use std::collections::HashSet;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use sqlx::Row;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;
use uuid::Uuid;
use vigie_platform::db::Db;

const WORKER: &str = env!("CARGO_BIN_EXE_vigie-crash-worker");
const TOTAL: usize = 300;

/// How the worker produces: events per transaction, milliseconds between two.
#[derive(Clone, Copy)]
struct Pace {
    per_tx: usize,
    pause_ms: u64,
}

/// Starts the worker producing at `pace`, waits until it reported
/// `applied_before_kill` more applications, and kills it. Returns false if
/// it finished first.
async fn run_and_kill(dir: &Path, applied_before_kill: usize, pace: Pace) -> bool {
    let mut child = Command::new(WORKER)
        .arg(dir)
        .arg(TOTAL.to_string())
        .arg(pace.pause_ms.to_string())
        .arg(pace.per_tx.to_string())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("worker starts");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut applied = 0;
    let killed = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await.expect("worker output") {
            if line.starts_with("applied ") {
                applied += 1;
                if applied >= applied_before_kill {
                    return true;
                }
            } else if line == "done" {
                return false;
            }
        }
        false
    })
    .await
    .expect("worker makes progress");
    child.kill().await.expect("kill");
    killed
}

#[tokio::test]
async fn embedded_delivery_survives_sigkill() {
    survives_two_kills(Pace { per_tx: 1, pause_ms: 2 }).await;
}

#[tokio::test]
async fn embedded_delivery_survives_sigkill_mid_batch() {
    // 40 applications in: in the middle of the second batch of 30. The
    // producer takes a second for its ten batches, so that the consumer,
    // slowed by a loaded machine, still reaches 40 before the last one (at
    // 20 ms between batches a busy CI machine produced everything first).
    survives_two_kills(Pace {
        per_tx: 30,
        pause_ms: 100,
    })
    .await;
}

async fn survives_two_kills(pace: Pace) {
    vigie_testkit::init_test_logging();
    let dir = tempfile::tempdir().unwrap();

    assert!(
        run_and_kill(dir.path(), 40, pace).await,
        "first kill happened mid-stream"
    );
    let producer = Db::connect(&format!("sqlite://{}", dir.path().join("producer.db").display()))
        .await
        .unwrap();
    let produced: i64 = sqlx::query("SELECT COUNT(*) FROM produced")
        .fetch_one(producer.pool())
        .await
        .unwrap()
        .get(0);
    assert!(
        (produced as usize) < TOTAL,
        "killed before producing everything ({produced})"
    );
    producer.close().await;

    assert!(
        run_and_kill(dir.path(), 40, pace).await,
        "second kill happened mid-stream"
    );

    let output = tokio::time::timeout(
        Duration::from_secs(60),
        Command::new(WORKER)
            .arg(dir.path())
            .arg(TOTAL.to_string())
            .arg("0")
            .stdout(Stdio::piped())
            .output(),
    )
    .await
    .expect("worker completes in time")
    .expect("worker runs");
    assert!(
        output.status.success(),
        "worker failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).ends_with("done\n"));

    let producer = Db::connect(&format!("sqlite://{}", dir.path().join("producer.db").display()))
        .await
        .unwrap();
    let consumer = Db::connect(&format!("sqlite://{}", dir.path().join("consumer.db").display()))
        .await
        .unwrap();
    let ids = |rows: Vec<sqlx::any::AnyRow>| -> HashSet<Uuid> {
        rows.iter()
            .map(|row| Uuid::parse_str(&row.get::<String, _>(0)).unwrap())
            .collect()
    };
    let produced = ids(sqlx::query("SELECT event_id FROM produced")
        .fetch_all(producer.pool())
        .await
        .unwrap());
    let outbox = ids(sqlx::query("SELECT id FROM vigie_outbox")
        .fetch_all(producer.pool())
        .await
        .unwrap());
    let unpublished: i64 = sqlx::query("SELECT COUNT(*) FROM vigie_outbox WHERE published_at IS NULL")
        .fetch_one(producer.pool())
        .await
        .unwrap()
        .get(0);
    assert_eq!(produced.len(), TOTAL);
    assert_eq!(outbox, produced, "every state change has its event and vice versa");
    assert_eq!(unpublished, 0);

    let rows = sqlx::query("SELECT event_id, n FROM received")
        .fetch_all(consumer.pool())
        .await
        .unwrap();
    assert_eq!(rows.len(), TOTAL);
    for row in &rows {
        assert_eq!(
            row.get::<i64, _>(1),
            1,
            "event {} applied more than once",
            row.get::<String, _>(0)
        );
    }
    let received = ids(rows);
    assert_eq!(received, produced, "every committed event applied");
    let inbox: i64 = sqlx::query("SELECT COUNT(*) FROM vigie_inbox")
        .fetch_one(consumer.pool())
        .await
        .unwrap()
        .get(0);
    assert_eq!(inbox as usize, TOTAL);
}
