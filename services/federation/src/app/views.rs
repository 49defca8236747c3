//! The national views: roll-ups of the latest snapshots, and the regions
//! with the date of their data.

use chrono::{DateTime, Utc};
use vigie_federation_domain::rollup::{rollup, By, RegionData, RollupRow};
use vigie_federation_domain::secrecy::PublishedSnapshot;

use super::{FederationApp, FederationError};
use crate::convert;
use crate::storage::{self, RegionRow};

/// One region as the national instance knows it.
#[derive(Debug, Clone)]
pub struct RegionView {
    /// Its latest snapshot's row.
    pub row: RegionRow,
    /// Whether it is older than the configured delay.
    pub stale: bool,
    /// Networks and departments it holds.
    pub networks: u32,
    /// Departments.
    pub departments: u32,
}

impl FederationApp {
    fn stale(&self, row: &RegionRow, now: DateTime<Utc>) -> bool {
        DateTime::parse_from_rfc3339(&row.computed_at).map_or(true, |at| {
            now.signed_duration_since(at.with_timezone(&Utc))
                .to_std()
                .is_ok_and(|age| age > self.settings.stale_after)
        })
    }

    async fn latest(&self) -> Result<Vec<(RegionRow, PublishedSnapshot)>, FederationError> {
        let mut conn = self.db.reader().acquire().await?;
        let rows = storage::regions(&mut conn).await?;
        rows.into_iter()
            .map(|row| {
                let payload: vigie_proto::federation::v1::RegionSnapshot = prost::Message::decode(row.bytes.as_slice())
                    .map_err(|e| FederationError::Corrupt(e.to_string()))?;
                let snapshot = convert::snapshot_from_pb(&payload).map_err(FederationError::Corrupt)?;
                Ok((row, snapshot))
            })
            .collect()
    }

    /// The regions, by id, with the date of their data.
    ///
    /// # Errors
    /// Database failures or a corrupt stored snapshot.
    pub async fn regions(&self) -> Result<Vec<RegionView>, FederationError> {
        let now = self.now();
        Ok(self
            .latest()
            .await?
            .into_iter()
            .map(|(row, snapshot)| RegionView {
                stale: self.stale(&row, now),
                networks: u32::try_from(snapshot.networks.len()).unwrap_or(u32::MAX),
                departments: u32::try_from(snapshot.departments.len()).unwrap_or(u32::MAX),
                row,
            })
            .collect())
    }

    /// The roll-up of the latest snapshots.
    ///
    /// # Errors
    /// Database failures or a corrupt stored snapshot.
    pub async fn rollup(&self, by: By) -> Result<Vec<RollupRow>, FederationError> {
        let now = self.now();
        let latest = self.latest().await?;
        let regions: Vec<RegionData<'_>> = latest
            .iter()
            .map(|(row, snapshot)| RegionData {
                region: &row.region,
                evaluated_on: row.evaluated_on,
                stale: self.stale(row, now),
                snapshot,
            })
            .collect();
        Ok(rollup(&regions, by))
    }
}
