//! Shared fixtures: databases on both backends, a recording test handler,
//! exactly-once assertions.

#![allow(dead_code)]

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result};
use async_nats::jetstream::message::StreamMessage;
use async_trait::async_trait;
use sqlx::{Any, Row, Transaction};
use tempfile::TempDir;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;
use vigie_platform::db::{Backend, Db, Migration};
use vigie_platform::events::jetstream::{run_jetstream_consumer, ConsumerError, ConsumerOptions, DEAD_LETTER_STREAM};
use vigie_platform::events::Consumer;
use vigie_platform::events::{self, Envelope, EventDraft, EventHandler, HandlerError, Outbox};
use vigie_testkit::{sqlite_url, PgDatabase};

/// Event type used by most tests (stream `VIGIE_INVENTORY`).
pub const EVENT_TYPE: &str = "vigie.inventory.structure.inventoried.v1";
/// `ce-source` of test events.
pub const SOURCE: &str = "/vigie/inventory";
/// Generous bound for anything asynchronous to happen.
pub const WAIT: Duration = Duration::from_secs(30);

/// Payload that makes [`TestHandler`] fail permanently.
pub const POISON: &[u8] = b"poison";
/// Payload that makes [`TestHandler`] fail transiently, every time.
pub const FLAKY: &[u8] = b"flaky";

/// The test consumer's effect table: one row per event, `n` incremented at
/// each application — exactly once in effect means `n = 1` everywhere.
pub const RECEIVED: &[Migration] = &[Migration {
    version: 1,
    name: "received",
    sqlite: "CREATE TABLE received (event_id TEXT PRIMARY KEY, n BIGINT NOT NULL)",
    postgres: "CREATE TABLE received (event_id TEXT PRIMARY KEY, n BIGINT NOT NULL)",
}];

/// A database for one test, on either backend; keeps its storage alive.
pub struct TestDb {
    pub db: Db,
    pub url: String,
    _storage: Storage,
}

impl TestDb {
    /// The PostgreSQL database name (panics for SQLite).
    pub fn pg_name(&self) -> String {
        match &self._storage {
            Storage::Postgres(database) => database.name().to_owned(),
            Storage::Sqlite(_) => panic!("not a PostgreSQL database"),
        }
    }
}

enum Storage {
    Sqlite(TempDir),
    Postgres(PgDatabase),
}

impl TestDb {
    /// A fresh, empty database.
    pub async fn new(backend: Backend) -> TestDb {
        vigie_testkit::init_test_logging();
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temporary directory");
                let url = sqlite_url(dir.path(), "test");
                let db = Db::connect(&url).await.expect("sqlite connection");
                TestDb {
                    db,
                    url,
                    _storage: Storage::Sqlite(dir),
                }
            }
            Backend::Postgres => {
                let database = PgDatabase::create().await;
                let url = database.url().to_owned();
                let db = Db::connect(&url).await.expect("postgres connection");
                TestDb {
                    db,
                    url,
                    _storage: Storage::Postgres(database),
                }
            }
        }
    }

    /// A fresh database with the event tables.
    pub async fn producer(backend: Backend) -> TestDb {
        let test_db = TestDb::new(backend).await;
        test_db
            .db
            .migrate("events", events::MIGRATIONS)
            .await
            .expect("events migrations");
        test_db
    }

    /// A fresh database with the event tables and the `received` table.
    pub async fn consumer(backend: Backend) -> TestDb {
        let test_db = TestDb::producer(backend).await;
        test_db.db.migrate("test", RECEIVED).await.expect("test migrations");
        test_db
    }
}

/// A handler that records each application in `received` and in memory.
pub struct TestHandler {
    name: String,
    types: Vec<String>,
    /// Calls of `handle` (including ones that failed or were rolled back).
    pub invocations: AtomicUsize,
    /// Calls per event.
    pub calls: Mutex<HashMap<Uuid, usize>>,
    /// Events in the order `handle` was called for the first time.
    pub order: Mutex<Vec<Uuid>>,
    /// If set, the first call for this event writes, signals `entered` and
    /// never returns (a consumer that hangs or is killed mid-transaction).
    block: Mutex<Option<Uuid>>,
    pub entered: Notify,
    /// The next this-many calls fail transiently before doing anything.
    pub fail_next: AtomicUsize,
    /// Once set, [`POISON`] payloads are applied like any other (the bug
    /// was fixed: a replay succeeds).
    pub cured: AtomicBool,
    /// The most events one `handle_batch` call was given.
    pub largest_batch: AtomicUsize,
    /// If set, the first batch waits this long before being applied (the
    /// next messages arrive meanwhile).
    pub hold_first_batch: Mutex<Option<Duration>>,
}

impl TestHandler {
    pub fn new(name: &str) -> Arc<TestHandler> {
        TestHandler::with_types(name, &[EVENT_TYPE])
    }

    pub fn with_types(name: &str, types: &[&str]) -> Arc<TestHandler> {
        Arc::new(TestHandler {
            name: name.to_owned(),
            types: types.iter().map(|t| (*t).to_owned()).collect(),
            invocations: AtomicUsize::new(0),
            calls: Mutex::new(HashMap::new()),
            order: Mutex::new(Vec::new()),
            block: Mutex::new(None),
            entered: Notify::new(),
            fail_next: AtomicUsize::new(0),
            cured: AtomicBool::new(false),
            largest_batch: AtomicUsize::new(0),
            hold_first_batch: Mutex::new(None),
        })
    }

    pub fn block_once_on(&self, event: Uuid) {
        *self.block.lock().unwrap() = Some(event);
    }

    pub fn invocations(&self) -> usize {
        self.invocations.load(Ordering::SeqCst)
    }

    pub fn calls_for(&self, event: Uuid) -> usize {
        self.calls.lock().unwrap().get(&event).copied().unwrap_or(0)
    }

    pub fn order(&self) -> Vec<Uuid> {
        self.order.lock().unwrap().clone()
    }
}

#[async_trait]
impl EventHandler for TestHandler {
    fn name(&self) -> &str {
        &self.name
    }

    fn event_types(&self) -> Vec<String> {
        self.types.clone()
    }

    async fn handle_batch(&self, tx: &mut Transaction<'_, Any>, envelopes: &[&Envelope]) -> Result<(), HandlerError> {
        self.largest_batch.fetch_max(envelopes.len(), Ordering::SeqCst);
        let hold = self.hold_first_batch.lock().unwrap().take();
        if let Some(hold) = hold {
            tokio::time::sleep(hold).await;
        }
        for envelope in envelopes {
            self.handle(tx, envelope).await?;
        }
        Ok(())
    }

    async fn handle(&self, tx: &mut Transaction<'_, Any>, envelope: &Envelope) -> Result<(), HandlerError> {
        self.invocations.fetch_add(1, Ordering::SeqCst);
        let first = {
            let mut calls = self.calls.lock().unwrap();
            let count = calls.entry(envelope.id).or_insert(0);
            *count += 1;
            *count == 1
        };
        if first {
            self.order.lock().unwrap().push(envelope.id);
        }
        let fail = self
            .fail_next
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if fail {
            return Err(HandlerError::transient(anyhow::anyhow!("database busy")));
        }
        if envelope.payload.as_ref() == POISON && !self.cured.load(Ordering::SeqCst) {
            return Err(HandlerError::permanent(anyhow::anyhow!("poison payload")));
        }
        if envelope.payload.as_ref() == FLAKY {
            return Err(HandlerError::transient(anyhow::anyhow!("flaky dependency")));
        }
        sqlx::query(
            "INSERT INTO received (event_id, n) VALUES ($1, 1) ON CONFLICT (event_id) DO UPDATE SET n = received.n + 1",
        )
        .bind(envelope.id.to_string())
        .execute(&mut **tx)
        .await?;
        let block = {
            let mut block = self.block.lock().unwrap();
            if *block == Some(envelope.id) {
                block.take()
            } else {
                None
            }
        };
        if block.is_some() {
            self.entered.notify_one();
            std::future::pending::<()>().await;
        }
        Ok(())
    }
}

/// Appends one event per transaction; returns the ids in commit order.
pub async fn append_events(db: &Db, count: usize, payload: &[u8]) -> Vec<Uuid> {
    let outbox = Outbox::new(SOURCE);
    let mut ids = Vec::with_capacity(count);
    for i in 0..count {
        let mut tx = db.begin().await.expect("begin");
        let draft = EventDraft::new(EVENT_TYPE, format!("structure-{i}"), payload.to_vec());
        ids.push(outbox.append(&mut tx, draft).await.expect("append"));
        tx.commit().await.expect("commit");
    }
    ids
}

/// `received` as a map event id → applications.
pub async fn received(db: &Db) -> Result<HashMap<Uuid, i64>> {
    let rows = sqlx::query("SELECT event_id, n FROM received")
        .fetch_all(db.pool())
        .await?;
    rows.iter()
        .map(|row| {
            let id: String = row.try_get(0)?;
            Ok((Uuid::parse_str(&id)?, row.try_get::<i64, _>(1)?))
        })
        .collect()
}

/// Waits until `received` holds `count` events.
pub async fn wait_received(db: &Db, count: usize) {
    let db = db.clone();
    vigie_testkit::eventually(&format!("{count} received events"), WAIT, || {
        let db = db.clone();
        async move { Ok(received(&db).await?.len() >= count) }
    })
    .await
    .expect("events received");
}

/// Every expected event applied exactly once, nothing else applied, one
/// inbox row each.
pub async fn assert_exactly_once(consumer_db: &Db, consumer: &str, expected: &[Uuid]) {
    let received = received(consumer_db).await.expect("received rows");
    let expected_set: HashSet<Uuid> = expected.iter().copied().collect();
    let received_set: HashSet<Uuid> = received.keys().copied().collect();
    assert_eq!(
        received_set, expected_set,
        "the applied events are exactly the committed ones"
    );
    for (id, n) in &received {
        assert_eq!(*n, 1, "event {id} applied {n} times");
    }
    let inbox: i64 = count(
        consumer_db,
        &format!("SELECT COUNT(*) FROM vigie_inbox WHERE consumer = '{consumer}'"),
    )
    .await;
    assert_eq!(inbox, expected.len() as i64, "one inbox row per event");
}

/// Runs a `SELECT COUNT(*)`-like query returning one BIGINT.
pub async fn count(db: &Db, sql: &str) -> i64 {
    sqlx::query(sql)
        .fetch_one(db.pool())
        .await
        .with_context(|| sql.to_owned())
        .unwrap()
        .try_get(0)
        .unwrap()
}

/// Consumer options for tests: short waits, quick retries.
pub fn fast_consumer_options() -> ConsumerOptions {
    ConsumerOptions {
        ack_wait: Duration::from_secs(1),
        batch: 5,
        retry_initial: Duration::from_millis(50),
        retry_max: Duration::from_millis(500),
        pull_expires: Duration::from_secs(2),
        heartbeat: Duration::from_millis(500),
        resubscribe_max: Duration::from_millis(500),
        publish_timeout: Duration::from_secs(2),
        origin: None,
    }
}

/// A private nats-server with the `VIGIE_INVENTORY` and dead-letter streams.
pub struct Nats {
    pub server: vigie_testkit::NatsServer,
    pub js: async_nats::jetstream::Context,
}

impl Nats {
    /// Runs `consumer` on the test stream until `shutdown`: the one way the
    /// JetStream tests start a consumer, only the consumer and its options
    /// differ from one test to another.
    pub fn spawn_consumer(
        &self,
        consumer: Consumer,
        options: ConsumerOptions,
        shutdown: &CancellationToken,
    ) -> JoinHandle<Result<(), ConsumerError>> {
        tokio::spawn(run_jetstream_consumer(
            self.js.clone(),
            STREAM,
            consumer,
            options,
            shutdown.clone(),
        ))
    }

    /// Waits until the dead-letter stream holds `count` messages; `what`
    /// names the wait should it time out.
    pub async fn wait_dead_letters(&self, what: &str, count: u64) {
        let js = self.js.clone();
        vigie_testkit::eventually(what, WAIT, || {
            let js = js.clone();
            async move { Ok(stream_messages(&js, DEAD_LETTER_STREAM).await == count) }
        })
        .await
        .unwrap();
    }

    /// The first message of the dead-letter stream (it must be there).
    pub async fn first_dead_letter(&self) -> StreamMessage {
        self.js
            .get_stream(DEAD_LETTER_STREAM)
            .await
            .unwrap()
            .get_raw_message(1)
            .await
            .unwrap()
    }
}

/// Name of the stream the test events go to.
pub const STREAM: &str = "VIGIE_INVENTORY";

pub async fn nats() -> Nats {
    vigie_testkit::init_test_logging();
    let server = vigie_testkit::NatsServer::start().await;
    let js = events::jetstream::connect(&server.url(), "vigie-platform-tests")
        .await
        .expect("nats connection");
    events::jetstream::ensure_stream(&js, "inventory")
        .await
        .expect("streams");
    Nats { server, js }
}

/// Makes the PostgreSQL database `name` refuse connections (and closes the
/// open ones), or accept them again: the consumer's database "down", for
/// real, while the rest of the server stays up.
pub async fn set_database_reachable(name: &str, reachable: bool) {
    use sqlx::{Connection, Executor};
    let admin_url = std::env::var("VIGIE_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let mut admin = sqlx::PgConnection::connect(&admin_url).await.expect("admin connection");
    admin
        .execute(format!(r#"ALTER DATABASE "{name}" ALLOW_CONNECTIONS {reachable}"#).as_str())
        .await
        .expect("alter database");
    if !reachable {
        admin
            .execute(
                format!("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'").as_str(),
            )
            .await
            .expect("terminate backends");
    }
    admin.close().await.expect("close admin connection");
}

/// Number of messages stored in `stream`.
pub async fn stream_messages(js: &async_nats::jetstream::Context, stream: &str) -> u64 {
    js.get_stream(stream)
        .await
        .expect("stream")
        .get_info()
        .await
        .expect("stream info")
        .state
        .messages
}

/// Waits until the outbox has nothing left to publish.
pub async fn wait_outbox_empty(db: &Db) {
    let db = db.clone();
    vigie_testkit::eventually("an empty outbox", WAIT, || {
        let db = db.clone();
        async move { Ok(Outbox::pending(&db).await? == 0) }
    })
    .await
    .expect("outbox drained");
}

/// Awaits a background task for at most 10 s.
pub async fn join<T>(task: tokio::task::JoinHandle<T>) -> T {
    tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .expect("task stops within 10 s")
        .expect("task did not panic")
}

/// The `#[tokio::test]`s `$sqlite` and `$postgres`, each running
/// `$scenario(backend)` on its backend: the pair of one-line tests every
/// scenario run on both backends had, written once.
macro_rules! on_sqlite_and_postgres {
    ($scenario:ident: $sqlite:ident, $postgres:ident) => {
        #[tokio::test]
        async fn $sqlite() {
            $scenario(vigie_platform::db::Backend::Sqlite).await;
        }

        #[tokio::test]
        async fn $postgres() {
            $scenario(vigie_platform::db::Backend::Postgres).await;
        }
    };
}
pub(crate) use on_sqlite_and_postgres;
