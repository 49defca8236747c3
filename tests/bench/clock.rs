//! A settable clock, handed to the application so that a scenario can
//! move time to each date it measures.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};

/// Whole seconds since the epoch, shared by its clones.
#[derive(Clone)]
pub struct Clock(Arc<AtomicI64>);

impl Clock {
    /// A clock at `t`.
    pub fn at(t: DateTime<Utc>) -> Clock {
        let clock = Clock(Arc::new(AtomicI64::new(0)));
        clock.set(t);
        clock
    }

    pub fn set(&self, t: DateTime<Utc>) {
        self.0.store(t.timestamp(), Ordering::SeqCst);
    }

    pub fn now(&self) -> DateTime<Utc> {
        Utc.timestamp_opt(self.0.load(Ordering::SeqCst), 0)
            .single()
            .unwrap_or_default()
    }
}
