//! The version checks of the answer cache on PostgreSQL, coalesced: calls
//! that arrive while a check is running wait for the next one, which reads
//! every version they asked for in one statement (`… WHERE structure_id IN
//! (…)`). At 64 callers the database then sees one small query per round
//! instead of 64 — the version round trip per call was what held
//! `GetStructure`/`GetFragility` to a fifth of the health check
//! (docs/benchmarks.md, « Reads »).
//!
//! A call that finds no round running leads one, but first yields once to
//! the runtime: the requests that arrived in the same burst (64 callers on
//! one HTTP/2 connection) register and share its statement — at 64 callers
//! that alone took the distributed reads from 0.46–0.60 to 0.61–0.79 of the
//! health check; a lone caller pays one task switch.
//!
//! Read-after-write is kept: a call's version is read by a statement that
//! starts after the call was registered, so it sees every change committed
//! before the call began, as the lone lookup did. One statement runs at a
//! time; a call waits for at most the one running and its own.
//!
//! If the coalesced statement fails (or its task dies), each waiting call
//! checks its structure alone, which reports its own error.
//!
//! On PostgreSQL, rounds keep their connection between them instead of
//! giving it back to the pool: sqlx tests a connection at each release with
//! a round trip to the server, which cost as much as the lookup itself (a
//! lone caller paid two round trips a call). It goes back to the pool once
//! no round has used it for [`LINGER`], after a failed statement (not
//! reused), and at least every [`HOLD_AT_MOST`] under a load that never
//! pauses, so that the pool still tests and recycles it (its maximum
//! lifetime). On SQLite (in memory: one connection for everything) each
//! round takes its own.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use sqlx::pool::PoolConnection;
use sqlx::{Any, Row};
use tokio::sync::oneshot;
use vigie_platform::db::multi_row::fetch_for_keys;
use vigie_platform::db::{Backend, Db};

use crate::storage::{self, StorageError};

/// The answer to one waiting call: the version read (`None`: no such
/// structure), or `Err(())` when the coalesced statement failed.
type Answer = Result<Option<i64>, ()>;

/// Coalesces version lookups; shared by every clone of the service.
#[derive(Default)]
pub(super) struct VersionChecks {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Calls registered for the next statement, by structure.
    waiting: HashMap<String, Vec<oneshot::Sender<Answer>>>,
    /// Whether statements are being run (by a leading call, then a task).
    running: bool,
    /// The connection kept for the next round (PostgreSQL), since when it
    /// has been kept, and when its last round ended.
    held: Option<(PoolConnection<Any>, Instant, Instant)>,
    /// Whether a task watches `held`, to give it back once idle.
    release_armed: bool,
}

/// How long rounds may keep one connection before giving it back.
const HOLD_AT_MOST: Duration = Duration::from_secs(1);

/// How long a kept connection may stay idle: a call within it (a console
/// user's next click, a lone client's next call) skips the pool's test of a
/// connection given back; an idle one goes back to the pool.
const LINGER: Duration = Duration::from_millis(100);

impl VersionChecks {
    /// The stored version of structure `id` (`None`: there is none), read
    /// after this call began.
    ///
    /// # Errors
    /// [`StorageError`] when the lookup fails.
    pub async fn version(self: &Arc<Self>, db: &Db, id: &str) -> Result<Option<i64>, StorageError> {
        let (answer, receiver) = oneshot::channel();
        let lead = {
            let mut state = self.lock();
            state.waiting.entry(id.to_owned()).or_default().push(answer);
            !std::mem::replace(&mut state.running, true)
        };
        if lead {
            // A lone call reads its version itself (no hand-off between
            // tasks); whoever registered meanwhile is served by a task the
            // guard starts when this round ends (or is abandoned).
            let leading = Leading {
                checks: Arc::clone(self),
                db: db.clone(),
            };
            // Let the calls already ready on this thread register first
            // (requests arrive in bursts on one connection): one statement
            // then serves them too.
            tokio::task::yield_now().await;
            self.round(db).await;
            drop(leading);
        }
        match receiver.await {
            Ok(Ok(version)) => Ok(version),
            // The coalesced statement failed or its round was abandoned:
            // alone.
            Ok(Err(())) | Err(_) => storage::version_of(&mut *db.reader().acquire().await?, id).await,
        }
    }

    /// Runs rounds until no call is waiting.
    async fn run(self: Arc<Self>, db: Db) {
        while self.round(&db).await {}
    }

    /// Answers the calls registered so far with one statement; returns
    /// whether calls are waiting (otherwise nothing runs any more).
    async fn round(self: &Arc<Self>, db: &Db) -> bool {
        let (round, held) = {
            let mut state = self.lock();
            if state.waiting.is_empty() {
                // (A `held` connection lingers: the next round takes it, or
                // the release armed by the last round gives it back.)
                state.running = false;
                return false;
            }
            (std::mem::take(&mut state.waiting), state.held.take())
        };
        let ids: Vec<String> = round.keys().cloned().collect();
        let since = held.as_ref().map_or_else(Instant::now, |(_, since, _)| *since);
        let (versions, conn) = read_versions(db, held.map(|(conn, _, _)| conn), &ids).await;
        if let Some(conn) = conn.filter(|_| db.backend() == Backend::Postgres && since.elapsed() < HOLD_AT_MOST) {
            let mut state = self.lock();
            state.held = Some((conn, since, Instant::now()));
            if state.waiting.is_empty() && !std::mem::replace(&mut state.release_armed, true) {
                self.release_when_idle();
            }
        }
        for (id, answers) in round {
            let answer = match &versions {
                Ok(versions) => Ok(versions.get(&id).copied()),
                Err(()) => Err(()),
            };
            for sender in answers {
                // A caller that left no longer waits: nothing to do.
                let _ = sender.send(answer);
            }
        }
        true
    }

    /// Gives the kept connection back to the pool once it has been idle for
    /// [`LINGER`]; stops watching when a round takes it (that round watches
    /// again when it leaves no call waiting).
    fn release_when_idle(self: &Arc<Self>) {
        let checks = Arc::clone(self);
        tokio::spawn(async move {
            let mut wait = LINGER;
            loop {
                tokio::time::sleep(wait).await;
                let mut state = checks.lock();
                let idle_for = match &state.held {
                    Some((_, _, used)) if state.waiting.is_empty() => used.elapsed(),
                    // Taken by a round, or about to be.
                    _ => {
                        state.release_armed = false;
                        return;
                    }
                };
                if idle_for >= LINGER {
                    state.release_armed = false;
                    let idle = state.held.take();
                    drop(state);
                    // Back to the pool (which tests it) outside the lock.
                    drop(idle);
                    return;
                }
                wait = LINGER - idle_for;
            }
        });
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding this lock leaves only plain data behind.
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The round run by a call itself. When it ends — done, or abandoned
/// because the caller left — the calls registered meanwhile get a task of
/// their own, or the checks stop running.
struct Leading {
    checks: Arc<VersionChecks>,
    db: Db,
}

impl Drop for Leading {
    fn drop(&mut self) {
        let mut state = self.checks.lock();
        if state.waiting.is_empty() {
            state.running = false;
            return;
        }
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                drop(state);
                runtime.spawn(Arc::clone(&self.checks).run(self.db.clone()));
            }
            // No runtime any more (shutting down): whoever calls next leads.
            Err(_) => {
                state.running = false;
                state.waiting.clear();
                state.held = None;
            }
        }
    }
}

/// The versions of `ids` that exist, in one statement (a few for thousands),
/// on `held` or a connection of the pool; the connection comes back when the
/// statement succeeded.
async fn read_versions(
    db: &Db,
    held: Option<PoolConnection<Any>>,
    ids: &[String],
) -> (Result<HashMap<String, i64>, ()>, Option<PoolConnection<Any>>) {
    let mut conn = match held {
        Some(conn) => conn,
        None => match db.reader().acquire().await {
            Ok(conn) => conn,
            Err(error) => return (failed(error.into()), None),
        },
    };
    let read = async {
        if let [id] = ids {
            // Alone: the lookup by key, kept prepared (one round trip).
            let version = storage::version_of(&mut conn, id).await?;
            return Ok(version.map(|v| HashMap::from([(id.clone(), v)])).unwrap_or_default());
        }
        let rows = fetch_for_keys(
            &mut conn,
            "SELECT structure_id, version FROM inv_structures WHERE structure_id IN",
            ids,
        )
        .await?;
        rows.iter()
            .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
            .collect::<Result<HashMap<String, i64>, StorageError>>()
    };
    match read.await {
        Ok(versions) => (Ok(versions), Some(conn)),
        // A connection whose statement failed goes back to the pool, which
        // tests it, rather than serving the next round.
        Err(error) => (failed(error), None),
    }
}

/// A failed statement, logged: each waiting call then checks alone.
fn failed<T>(error: StorageError) -> Result<T, ()> {
    tracing::debug!(error = %error, "coalesced version check failed, each call checks alone");
    Err(())
}
