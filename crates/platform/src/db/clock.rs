//! The write clock of a SQLite file: tells an in-process cache, without a
//! query, that nothing was written since it read.
//!
//! In embedded mode the process is the only writer of its SQLite files, and
//! every write goes through the write pool's ONE connection (the read pool
//! is `query_only`). So "no write since my read" is "the write connection
//! was not handed out since my read, and was not out during it". The clock
//! counts hand-outs — a hook on the write pool ticks it before the
//! connection reaches any caller (a new connection or an idle one) — and
//! looks at the pool's own count of idle connections for "out right now".
//!
//! A reader takes a [`Stamp`] before reading ([`WriteClock::stamp`]: `None`
//! while the writer holds the connection, whose commit may land during the
//! read), reads, and keeps what it read under that stamp only if
//! [`WriteClock::still`] says no hand-out happened meanwhile. Later, the
//! same call says whether the kept value is still the database's state.
//! Any write (or a statement through [`super::Db::pool`]) invalidates every
//! stamp: coarse, but exact whatever the code that writes.
//!
//! PostgreSQL has no such clock: other replicas write the same database.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use sqlx::AnyPool;

/// The state of the write connection when a read started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp(u64);

/// Counts the hand-outs of a SQLite file's write connection; cheap to clone.
#[derive(Debug, Clone)]
pub struct WriteClock {
    handouts: Arc<AtomicU64>,
    writer: AnyPool,
}

impl WriteClock {
    /// The clock of `writer`, ticked by the hook [`Ticks::tick`] installed
    /// on that pool.
    pub(super) fn new(ticks: &Ticks, writer: AnyPool) -> WriteClock {
        WriteClock {
            handouts: Arc::clone(&ticks.0),
            writer,
        }
    }

    /// A stamp to read under, `None` while the write connection is out (a
    /// write may be about to commit).
    pub fn stamp(&self) -> Option<Stamp> {
        // The count first: a hand-out after it shows in `still`, one before
        // it has already taken the connection out of the idle queue.
        let stamp = Stamp(self.handouts.load(Ordering::SeqCst));
        let out = self.writer.size() as usize > self.writer.num_idle();
        (!out).then_some(stamp)
    }

    /// Whether the write connection was not handed out since `stamp` was
    /// taken: what was read after taking it is still the committed state.
    pub fn still(&self, stamp: Stamp) -> bool {
        self.handouts.load(Ordering::SeqCst) == stamp.0
    }
}

/// The counter the write pool's hooks tick.
#[derive(Debug, Clone, Default)]
pub(super) struct Ticks(Arc<AtomicU64>);

impl Ticks {
    /// Records a hand-out of the write connection (called before the caller
    /// gets it, so before anything it writes).
    pub(super) fn tick(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}
