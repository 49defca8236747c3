//! Many events in one transaction: [`Consumer::process_batch`].
//!
//! One transaction per event costs a commit (an fsync on SQLite, a round
//! trip on PostgreSQL) and the inbox INSERT per event; a batch pays them
//! once. The guarantees are those of [`Consumer::process`]: the inbox rows
//! of the applied events commit together with the handler's effects, so a
//! crash anywhere in a batch leaves either all of it or none of it, and the
//! redelivery of a committed event is a duplicate.

use sqlx::{Any, Row, Transaction};
use std::collections::HashSet;
use tracing::Instrument;

use super::{guarded, Consumer, HandlerError, Outcome};
use crate::db::multi_row::{insert_rows_returning, Value};
use crate::events::envelope::{format_time, now};
use crate::events::{trace, Envelope};

impl Consumer {
    /// Applies `envelopes` once each, in their order, in ONE transaction:
    /// inserts their inbox rows (one multi-row statement learns which are
    /// new), runs [`EventHandler::handle_batch`](super::EventHandler::handle_batch)
    /// on the new ones and commits; returns one result per envelope, in the
    /// same order. An event present twice in the batch is applied once (the
    /// second is a duplicate).
    ///
    /// - A transient failure (or a panic) rolls everything back: every
    ///   envelope gets an error and is retried.
    /// - A permanent failure rolls back and the events are applied again one
    ///   by one with [`Consumer::process`], so that only the poison event
    ///   fails permanently; the first transient failure there stops the
    ///   batch (the later events get a transient error, so the order holds).
    pub async fn process_batch(&self, envelopes: &[Envelope]) -> Vec<Result<Outcome, HandlerError>> {
        if envelopes.len() < 2 {
            return self.process_one_by_one(envelopes).await;
        }
        let span = tracing::info_span!(
            "consumer.process_batch",
            otel.kind = "consumer",
            consumer = %self.name(),
            events = envelopes.len(),
        );
        trace::set_parent(&span, envelopes[0].traceparent.as_deref());
        match self.process_batch_in_transaction(envelopes).instrument(span).await {
            Ok(outcomes) => {
                for (envelope, outcome) in envelopes.iter().zip(&outcomes) {
                    self.metrics
                        .consumed(&envelope.event_type, self.name(), outcome.as_str());
                }
                outcomes.into_iter().map(Ok).collect()
            }
            Err(HandlerError::Transient(error)) => {
                let reason = format!("{error:#}");
                envelopes
                    .iter()
                    .map(|envelope| {
                        self.metrics.failed(&envelope.event_type, self.name(), "transient");
                        Err(HandlerError::Transient(anyhow::anyhow!("batch rolled back: {reason}")))
                    })
                    .collect()
            }
            Err(HandlerError::Permanent(error)) => {
                tracing::warn!(
                    consumer = %self.name(),
                    events = envelopes.len(),
                    error = %format!("{error:#}"),
                    "batch failed permanently, applying its events one by one"
                );
                self.process_one_by_one(envelopes).await
            }
        }
    }

    /// [`Consumer::process`] on each envelope in order, stopping at the
    /// first transient failure.
    async fn process_one_by_one(&self, envelopes: &[Envelope]) -> Vec<Result<Outcome, HandlerError>> {
        let mut results = Vec::with_capacity(envelopes.len());
        let mut stopped = false;
        for envelope in envelopes {
            if stopped {
                results.push(Err(HandlerError::Transient(anyhow::anyhow!(
                    "not attempted: an earlier event of the batch failed"
                ))));
                continue;
            }
            let result = self.process(envelope).await;
            stopped = matches!(&result, Err(error) if error.is_transient());
            results.push(result);
        }
        results
    }

    async fn process_batch_in_transaction(&self, envelopes: &[Envelope]) -> Result<Vec<Outcome>, HandlerError> {
        let mut tx = self.db.begin().await?;
        let new_ids = self.insert_inbox_rows(&mut tx, envelopes).await?;
        let mut applied_ids = HashSet::with_capacity(new_ids.len());
        let mut fresh = Vec::with_capacity(new_ids.len());
        let outcomes: Vec<Outcome> = envelopes
            .iter()
            .map(|envelope| {
                let id = envelope.id.to_string();
                if new_ids.contains(&id) && applied_ids.insert(id) {
                    fresh.push(envelope);
                    Outcome::Applied
                } else {
                    Outcome::Duplicate
                }
            })
            .collect();
        if fresh.is_empty() {
            tx.rollback().await?;
            return Ok(outcomes);
        }
        guarded(self.handler.handle_batch(&mut tx, &fresh)).await?;
        tx.commit().await?;
        for envelope in fresh {
            self.handler.after_commit(&self.db, envelope).await;
        }
        Ok(outcomes)
    }

    /// Inserts the inbox rows of `envelopes` in `tx`; returns the ids that
    /// were not there yet.
    async fn insert_inbox_rows(
        &self,
        tx: &mut Transaction<'static, Any>,
        envelopes: &[Envelope],
    ) -> Result<HashSet<String>, HandlerError> {
        let mut seen = HashSet::with_capacity(envelopes.len());
        let unique: Vec<&Envelope> = envelopes.iter().filter(|e| seen.insert(e.id)).collect();
        let processed_at = format_time(&now());
        let rows = unique
            .iter()
            .map(|envelope| {
                vec![
                    Value::from(self.name()),
                    Value::from(envelope.id.to_string()),
                    Value::from(envelope.event_type.as_str()),
                    Value::from(processed_at.as_str()),
                ]
            })
            .collect();
        let returned = insert_rows_returning(
            tx,
            "vigie_inbox",
            &["consumer", "event_id", "event_type", "processed_at"],
            "ON CONFLICT (consumer, event_id) DO NOTHING RETURNING event_id",
            rows,
        )
        .await?;
        let mut new_ids = HashSet::with_capacity(returned.len());
        for row in returned {
            new_ids.insert(row.try_get::<String, _>(0)?);
        }
        Ok(new_ids)
    }
}
