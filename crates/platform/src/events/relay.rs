//! The relay: publishes committed outbox rows, in order, at least once.
//!
//! Loop: read the oldest unpublished rows (`seq` order, in batches of
//! [`RelayOptions::batch_size`], 256 by default), hand the batch to
//! [`Publisher::publish_batch`] (JetStream pipelines it: every message sent,
//! then the `PubAck`s awaited in order), then mark the confirmed events —
//! the longest prefix of the batch whose every event was confirmed — with
//! one UPDATE listing their `seq`s (a list, not a range: on PostgreSQL a
//! lower `seq` may commit later, and must not be marked before it was
//! published). A crash
//! between confirmation and marking republishes those events on the next
//! run — harmless: JetStream drops them by `Nats-Msg-Id` within the 2-minute
//! duplicate window, and consumers' inboxes drop anything later. A failure
//! stops the pass at that event: it and the rest of its batch stay pending
//! (later rows wait: order is kept; some may already be stored by the
//! broker, their retry is deduplicated), `attempts`/`last_error` are
//! recorded on the failed row, and the relay retries with exponential
//! backoff (capped at 5 s) forever: the outbox is the system of record, an
//! event is never dropped.
//!
//! The relay wakes up when notified (a service calls
//! [`RelayHandle::notify`] after committing a transaction that appended
//! events) and every poll interval (1 s), which also picks up rows committed
//! by other processes or replicas.
//!
//! Several replicas on one PostgreSQL schema: each pass holds an advisory
//! lock, so one relay publishes at a time and the order holds
//! across replicas; the others skip their pass. Were two relays ever to
//! publish the same rows (e.g. a lock lost with its connection mid-pass),
//! `Nats-Msg-Id` deduplication and the inboxes make it harmless. On SQLite
//! (embedded mode) one process owns the file, so no lock is needed.
//!
//! Order: events are published in `seq` (insertion) order. Transactions that
//! touch the same rows commit in order, so per-aggregate order holds;
//! unrelated concurrent transactions may commit out of `seq` order, and a
//! later `seq` may then be published first.

use std::sync::Arc;
use std::time::Duration;

use sqlx::{Any, Row, Transaction};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::backoff::Backoff;
use super::gauges;
use super::metrics::{EventMetrics, RELAY};
use super::outbox::{self, PendingEvent};
use super::{trace, Envelope, PublishError, Publisher};
use crate::db::{Backend, Db, DbError};

/// Largest batch: its marking must fit in one statement's bound parameters.
const MAX_BATCH_SIZE: i64 = 10_000;

/// Tuning of a [`Relay`].
#[derive(Debug, Clone)]
pub struct RelayOptions {
    /// Rows read per query and published as one batch (pipelined by
    /// JetStream), then marked with one statement. Default 256; clamped to
    /// 1..=10,000.
    pub batch_size: i64,
    /// How often to look for rows even without notification.
    pub poll_interval: Duration,
    /// First retry delay after a failure; doubles up to `backoff_max`.
    pub backoff_initial: Duration,
    /// Longest retry delay.
    pub backoff_max: Duration,
}

impl Default for RelayOptions {
    fn default() -> Self {
        RelayOptions {
            batch_size: 256,
            poll_interval: Duration::from_secs(1),
            backoff_initial: Duration::from_millis(100),
            backoff_max: Duration::from_secs(5),
        }
    }
}

/// Why a relay pass stopped early.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// Reading or marking the outbox failed.
    #[error("outbox access failed")]
    Db(#[from] DbError),
    /// An event was not confirmed; it stays pending.
    #[error("event {event_id} ({event_type}) not published")]
    Publish {
        /// Id of the event that failed.
        event_id: uuid::Uuid,
        /// Its type.
        event_type: String,
        /// The publisher's error.
        #[source]
        source: PublishError,
    },
}

/// Wakes a running relay; cheap to clone.
#[derive(Debug, Clone)]
pub struct RelayHandle {
    notify: Arc<Notify>,
}

impl RelayHandle {
    /// Asks the relay to look for new rows now (call after each commit that
    /// appended events). Notifications while a pass runs are not lost: the
    /// relay runs one more pass.
    pub fn notify(&self) {
        self.notify.notify_one();
    }
}

/// Publishes the outbox of one database through a [`Publisher`].
pub struct Relay {
    db: Db,
    publisher: Arc<dyn Publisher>,
    notify: Arc<Notify>,
    options: RelayOptions,
    metrics: EventMetrics,
    /// Service whose outbox this is, for the backlog gauges (none: not sampled).
    outbox_name: Option<String>,
}

impl std::fmt::Debug for Relay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Relay")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// Whether a pass waits for the PostgreSQL relay lock or skips when busy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LockMode {
    Wait,
    Try,
}

impl Relay {
    /// A relay for the outbox in `db`, publishing through `publisher`.
    pub fn new(db: Db, publisher: Arc<dyn Publisher>) -> Relay {
        Relay {
            db,
            publisher,
            notify: Arc::new(Notify::new()),
            options: RelayOptions::default(),
            metrics: EventMetrics::new(),
            outbox_name: None,
        }
    }

    /// Replaces the tuning.
    pub fn with_options(mut self, options: RelayOptions) -> Relay {
        self.options = options;
        self
    }

    /// Uses an existing `Notify` (e.g. one already handed to the
    /// application service) as the wake-up signal.
    pub fn with_notify(mut self, notify: Arc<Notify>) -> Relay {
        self.notify = notify;
        self
    }

    /// Reports the outbox backlog in the `vigie.outbox.pending` and
    /// `vigie.outbox.lag` gauges, labelled `outbox=<service>`, while the
    /// relay runs (a query every few seconds, `gauges.rs`).
    pub fn with_metrics_name(mut self, service: impl Into<String>) -> Relay {
        self.outbox_name = Some(service.into());
        self
    }

    /// A handle to wake the relay.
    pub fn handle(&self) -> RelayHandle {
        RelayHandle {
            notify: self.notify.clone(),
        }
    }

    /// The wake-up signal itself (`notify_one()` it after a commit).
    pub fn notifier(&self) -> Arc<Notify> {
        self.notify.clone()
    }

    /// Runs until `shutdown` is cancelled: a pass on start, then on every
    /// notification or poll interval; after a failure, retries with backoff.
    /// Shutdown is checked between batches, so an in-flight batch is
    /// published and marked (or fails) before the relay returns.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut backoff = Backoff::new(self.options.backoff_initial, self.options.backoff_max);
        tracing::info!("outbox relay started");
        if let Some(name) = self.outbox_name.clone() {
            tokio::spawn(gauges::sample_outbox(self.db.clone(), name, shutdown.clone()));
        }
        loop {
            let pause = match self.pass(LockMode::Try, Some(&shutdown)).await {
                Ok(published) => {
                    backoff.reset();
                    if published > 0 {
                        tracing::debug!(published, "relay pass done");
                    }
                    None
                }
                Err(error) => {
                    let delay = backoff.next_delay();
                    tracing::warn!(error = %error_chain(&error), retry_in = ?delay, "relay pass failed");
                    Some(delay)
                }
            };
            if shutdown.is_cancelled() {
                break;
            }
            match pause {
                // Waiting for a backoff ignores notifications: they would
                // defeat the backoff while the broker is down.
                Some(delay) => tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = tokio::time::sleep(delay) => {}
                },
                None => tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = self.notify.notified() => {}
                    _ = tokio::time::sleep(self.options.poll_interval) => {}
                },
            }
        }
        tracing::info!("outbox relay stopped");
    }

    /// Publishes every event pending now, in order, and returns how many
    /// were published (for tests and the CLI). On PostgreSQL, waits while
    /// another relay holds the lock.
    ///
    /// # Errors
    /// [`RelayError`] at the first failure; the failed event and the ones
    /// after it stay pending.
    pub async fn drain(&self) -> Result<usize, RelayError> {
        self.pass(LockMode::Wait, None).await
    }

    async fn pass(&self, mode: LockMode, shutdown: Option<&CancellationToken>) -> Result<usize, RelayError> {
        let lock = match self.db.backend() {
            Backend::Sqlite => None,
            Backend::Postgres => match RelayLock::acquire(&self.db, mode).await? {
                Some(lock) => Some(lock),
                None => {
                    tracing::debug!("another relay holds the outbox lock, skipping this pass");
                    return Ok(0);
                }
            },
        };
        let result = self.publish_pending(shutdown).await;
        if let Some(lock) = lock {
            lock.release().await;
        }
        result
    }

    async fn publish_pending(&self, shutdown: Option<&CancellationToken>) -> Result<usize, RelayError> {
        let batch_size = self.options.batch_size.clamp(1, MAX_BATCH_SIZE);
        let mut published = 0;
        loop {
            if shutdown.is_some_and(CancellationToken::is_cancelled) {
                return Ok(published);
            }
            let batch = outbox::fetch_pending(&self.db, batch_size).await?;
            if batch.is_empty() {
                return Ok(published);
            }
            let full = batch.len() as i64 >= batch_size;
            published += self.publish_batch(&batch).await?;
            if !full {
                return Ok(published);
            }
        }
    }

    /// Publishes `batch`, marks the confirmed prefix and returns its length;
    /// on a failure, records it on the failed row and returns it (the failed
    /// event and the ones after it stay pending).
    async fn publish_batch(&self, batch: &[PendingEvent]) -> Result<usize, RelayError> {
        // One producer span per event, child of the trace that appended it,
        // kept open until the batch is confirmed.
        let (spans, envelopes): (Vec<tracing::Span>, Vec<Envelope>) = batch
            .iter()
            .map(|event| {
                let span = tracing::info_span!(
                    "relay.publish",
                    otel.kind = "producer",
                    event_type = %event.envelope.event_type,
                    event_id = %event.envelope.id,
                );
                trace::set_parent(&span, event.envelope.traceparent.as_deref());
                let mut envelope = event.envelope.clone();
                // Consumers become children of this publication span when
                // tracing is exported; otherwise the producer's context is
                // passed on as is.
                if let Some(traceparent) = trace::traceparent_of(&span) {
                    envelope.traceparent = Some(traceparent);
                }
                (span, envelope)
            })
            .unzip();

        let mut results = self.publisher.publish_batch(&envelopes).await.into_iter();
        let mut confirmed = 0;
        let mut failure = None;
        while confirmed < envelopes.len() {
            match results.next() {
                Some(Ok(())) => confirmed += 1,
                Some(Err(error)) => {
                    failure = Some(error);
                    break;
                }
                None => {
                    failure = Some(PublishError::Other(anyhow::anyhow!(
                        "the publisher returned no confirmation for the event"
                    )));
                    break;
                }
            }
        }

        if confirmed > 0 {
            let seqs: Vec<i64> = batch[..confirmed].iter().map(|event| event.seq).collect();
            outbox::mark_published(&self.db, &seqs).await?;
            for envelope in &envelopes[..confirmed] {
                self.metrics.published(&envelope.event_type);
            }
        }
        let Some(source) = failure else {
            return Ok(confirmed);
        };

        let event = &batch[confirmed];
        let envelope = &envelopes[confirmed];
        let message = error_chain(&source);
        spans[confirmed].in_scope(|| {
            tracing::warn!(
                event_id = %envelope.id,
                event_type = %envelope.event_type,
                attempts = event.attempts + 1,
                error = %message,
                "event publication failed, will retry"
            );
        });
        self.metrics.failed(&envelope.event_type, RELAY, "publish");
        if let Err(error) = outbox::record_failure(&self.db, event.seq, &message).await {
            tracing::warn!(error = %error_chain(&error), "could not record the publication failure");
        }
        Err(RelayError::Publish {
            event_id: envelope.id,
            event_type: envelope.event_type.clone(),
            source,
        })
    }
}

/// `error: cause: cause…` on one line.
pub(crate) fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The PostgreSQL lock that makes one relay publish at a time per schema.
///
/// A transaction-level advisory lock, held by an otherwise idle transaction
/// for the duration of a pass (the pass itself uses other connections). A
/// transaction, rather than a session lock, so that a relay task cancelled
/// mid-pass cannot leak the lock into the pool: dropping the transaction
/// rolls it back — releasing the lock — before its connection is reused.
struct RelayLock {
    tx: Transaction<'static, Any>,
}

const LOCK_KEY: &str = "hashtext('vigie_outbox_relay.' || current_schema())";

impl RelayLock {
    async fn acquire(db: &Db, mode: LockMode) -> Result<Option<RelayLock>, DbError> {
        let mut tx = db.begin().await?;
        let acquired = match mode {
            LockMode::Wait => {
                sqlx::query(&format!("SELECT pg_advisory_xact_lock({LOCK_KEY})"))
                    .execute(&mut *tx)
                    .await?;
                true
            }
            LockMode::Try => sqlx::query(&format!("SELECT pg_try_advisory_xact_lock({LOCK_KEY})"))
                .fetch_one(&mut *tx)
                .await?
                .try_get::<bool, _>(0)?,
        };
        Ok(acquired.then_some(RelayLock { tx }))
    }

    async fn release(self) {
        if let Err(error) = self.tx.rollback().await {
            // The connection is discarded by the pool; the lock goes with it.
            tracing::warn!(error = %error, "could not release the relay lock");
        }
    }
}
