//! The SQLite read pool: several read-only connections beside the single
//! write connection.
//!
//! In WAL mode a reader never blocks the writer and the writer never blocks
//! readers: each read transaction sees the database as of its start (the last
//! commit before it), so readers in parallel cost no correctness. What they
//! must not do is write — a second writer would bring back the `SQLITE_BUSY`
//! upgrades the single write connection avoids — so every reader runs with
//! `PRAGMA query_only = ON`: a write statement fails instead of taking the
//! write lock.
//!
//! The read pool is sized on the machine's cores (each SQLite connection
//! runs its statements on its own worker thread), between
//! [`MIN_READERS`] and [`MAX_READERS`].

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

use super::{ACQUIRE_TIMEOUT, SQLITE_BUSY_TIMEOUT_MS};

/// Fewest read connections, even on one core: a long listing must not hold
/// back every single-structure read.
pub const MIN_READERS: u32 = 2;
/// Most read connections: beyond the cores they only add threads.
pub const MAX_READERS: u32 = 8;

/// How many read connections to open on this machine.
pub fn read_pool_size() -> u32 {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    u32::try_from(cores)
        .unwrap_or(MAX_READERS)
        .clamp(MIN_READERS, MAX_READERS)
}

/// Opens the read pool of the SQLite file of `options` (already in WAL mode).
///
/// # Errors
/// [`sqlx::Error`] when the file cannot be opened.
pub async fn sqlite_pool(options: AnyConnectOptions) -> Result<AnyPool, sqlx::Error> {
    AnyPoolOptions::new()
        .max_connections(read_pool_size())
        .acquire_timeout(ACQUIRE_TIMEOUT)
        // A SQLite connection cannot drop; a ping is a worker round trip.
        .test_before_acquire(false)
        .after_connect(|conn, _meta| {
            Box::pin(async move {
                // A reader waits (instead of failing) while a checkpoint or
                // recovery holds the WAL index.
                conn.execute(format!("PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}").as_str())
                    .await?;
                conn.execute("PRAGMA query_only = ON").await?;
                Ok(())
            })
        })
        .connect_with(options)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_pool_size_stays_within_bounds() {
        let size = read_pool_size();
        assert!((MIN_READERS..=MAX_READERS).contains(&size));
    }
}
