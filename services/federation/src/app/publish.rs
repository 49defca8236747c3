//! Publishing the region's snapshot: on a significant change (checked often)
//! and on schedule (at least every `publish_every`, or when the date moves).

use chrono::{DateTime, Datelike, SecondsFormat, Utc};
use vigie_federation_domain::aggregate::aggregate;
use vigie_federation_domain::change::significant;
use vigie_federation_domain::secrecy::publish;
use vigie_platform::events::Outbox;

use super::{FederationApp, FederationError};
use crate::storage::{self, Published, RegionRow};
use crate::{convert, events};

/// What a publication pass did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublishOutcome {
    /// A snapshot with this sequence number was appended to the outbox.
    Published(u64),
    /// Nothing significant changed and the schedule was not due.
    Unchanged,
}

impl FederationApp {
    /// Computes the region's snapshot and publishes it when it changed
    /// significantly, when the last one is older than `publish_every`, when
    /// the date moved, or when `force` is set. The snapshot, the outbox row
    /// and the region's own national view commit together: a crash at any
    /// point publishes it once or not at all (then again at the next pass).
    ///
    /// # Errors
    /// Database or outbox failures.
    pub async fn publish_if_due(&self, force: bool) -> Result<PublishOutcome, FederationError> {
        let now = self.now();
        let today = now.date_naive();
        let mut tx = self.db.begin().await?;
        let facts = storage::facts(&mut tx, today, today.year()).await?;
        let snapshot = publish(&aggregate(&facts, today), self.settings.threshold);
        let previous = storage::published(&mut tx).await?;
        let previous_snapshot = match &previous {
            Some(p) => {
                let payload: vigie_proto::federation::v1::RegionSnapshot =
                    prost::Message::decode(p.bytes.as_slice()).map_err(|e| FederationError::Corrupt(e.to_string()))?;
                Some(convert::snapshot_from_pb(&payload).map_err(FederationError::Corrupt)?)
            }
            None => None,
        };
        let due = previous.as_ref().is_none_or(|p| {
            p.evaluated_on != today
                || DateTime::parse_from_rfc3339(&p.computed_at).map_or(true, |at| {
                    now.signed_duration_since(at.with_timezone(&Utc))
                        .to_std()
                        .is_ok_and(|age| age >= self.settings.publish_every)
                })
        });
        if !force && !due && !significant(previous_snapshot.as_ref(), &snapshot) {
            return Ok(PublishOutcome::Unchanged);
        }
        let sequence = previous.as_ref().map_or(1, |p| p.sequence + 1);
        let payload = convert::snapshot_to_pb(&self.settings.region, today, sequence, now, &snapshot);
        let bytes = prost::Message::encode_to_vec(&payload);
        let computed_at = now.to_rfc3339_opts(SecondsFormat::Secs, true);
        let recorded = storage::save_published(
            &mut tx,
            &Published {
                sequence,
                computed_at: computed_at.clone(),
                evaluated_on: today,
                bytes: bytes.clone(),
            },
            previous.as_ref().map(|p| p.sequence),
        )
        .await?;
        if !recorded {
            // Another replica published this sequence meanwhile: its
            // snapshot stands, this one is dropped with the transaction.
            return Ok(PublishOutcome::Unchanged);
        }
        // The region's own national view: `vigie federation rollup` on a
        // regional instance shows exactly what it sent.
        storage::save_region(
            &mut tx,
            &RegionRow {
                region: self.settings.region.clone(),
                sequence,
                evaluated_on: today,
                computed_at: computed_at.clone(),
                received_at: computed_at,
                bytes,
            },
        )
        .await?;
        Outbox::new(events::SOURCE)
            .append(&mut tx, events::region_aggregated(&payload))
            .await
            .map_err(|e| FederationError::Events(e.to_string()))?;
        tx.commit().await?;
        self.relay.notify_one();
        tracing::info!(region = %self.settings.region, sequence, "region snapshot published");
        Ok(PublishOutcome::Published(sequence))
    }
}
