//! Escalation: a request still `offered` after the escalation delay (48 h by
//! default) is handed to its network's coordinator — status `escalated`, the
//! coordinator becomes its facilitator, the silent facilitator's reserved
//! minutes are released, and the time is recorded. Without a coordinator it
//! stays offered, marked overdue once (one log line, one reason shown in the
//! proposals); a coordinator imported later still receives it.
//!
//! [`FacilitationApp::escalate_overdue`] takes `now`, so tests need no
//! waiting; the service runs it periodically (`service::run_escalation`).

use std::time::Duration;

use chrono::{DateTime, Utc};
use vigie_facilitation_domain::matching::coordinator_for;

use crate::error::FacilitationError;
use crate::storage;

use super::{FacilitationApp, ESCALATED, OFFERED};

/// Delay after which an unanswered offer escalates: 48 hours.
pub const DEFAULT_ESCALATION_DELAY: Duration = Duration::from_secs(48 * 3600);

/// What one escalation pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EscalationSummary {
    /// Requests handed to a coordinator, by id.
    pub escalated: Vec<String>,
    /// Requests newly found overdue with no coordinator for their network.
    pub without_coordinator: Vec<String>,
}

impl FacilitationApp {
    /// The escalation delay.
    pub fn escalation_delay(&self) -> Duration {
        self.escalation_delay
    }

    /// Escalates every request offered at or before `now − delay` and still
    /// unanswered (one transaction per request).
    ///
    /// # Errors
    /// Storage errors (requests already handled stay handled).
    pub async fn escalate_overdue(&self, now: DateTime<Utc>) -> Result<EscalationSummary, FacilitationError> {
        let delay = chrono::Duration::from_std(self.escalation_delay).unwrap_or(chrono::Duration::MAX);
        let cutoff = now.checked_sub_signed(delay).unwrap_or(DateTime::<Utc>::MIN_UTC);
        let hours = self.escalation_delay.as_secs() / 3600;
        let mut summary = EscalationSummary::default();
        let ids = {
            let mut conn = self.db.pool().acquire().await?;
            storage::overdue_offers(&mut conn, cutoff).await?
        };
        for id in ids {
            let mut tx = self.db.begin().await?;
            if !storage::lock_request(&mut tx, &id).await? {
                continue;
            }
            let Some(mut row) = storage::request(&mut tx, &id).await? else {
                continue;
            };
            let (Some(offered_at), Some(silent)) = (row.offered_at, row.facilitator_id.clone()) else {
                continue;
            };
            if row.status != OFFERED || offered_at > cutoff {
                continue; // answered or re-offered meanwhile
            }
            let Some(place) = storage::structure_place(&mut tx, &row.structure_id).await? else {
                continue;
            };
            let places = storage::network_places(&mut tx, &place.network).await?;
            let facilitators = storage::facilitators(&mut tx).await?;
            let silent_name = row.facilitator_name.clone().unwrap_or_else(|| silent.clone());
            match coordinator_for(&place, &places, &facilitators, now.date_naive()) {
                Some(coordinator) => {
                    if let Some(week) = row.week_start {
                        storage::release(&mut tx, &silent, week, row.estimated_minutes).await?;
                    }
                    row.status = ESCALATED.to_owned();
                    row.escalated_at = Some(now);
                    row.week_start = None;
                    row.facilitator_id = Some(coordinator.id.clone());
                    row.facilitator_name = Some(coordinator.display_name.clone());
                    row.reasons = vec![format!(
                        "sans réponse de {silent_name} ({silent}) depuis plus de {hours} h : transmise le {} au coordinateur {} ({})",
                        vigie_proto::dates::rfc3339(now),
                        coordinator.display_name,
                        coordinator.id
                    )];
                    storage::update_request(&mut tx, &row).await?;
                    tracing::info!(request_id = %id, from = %silent, coordinator = %coordinator.id, "facilitation request escalated");
                    summary.escalated.push(id);
                }
                None if row.overdue_at.is_none() => {
                    row.overdue_at = Some(now);
                    row.reasons.push(format!(
                        "sans réponse de {silent_name} depuis plus de {hours} h et aucun coordinateur ne sert le réseau « {} » : la demande reste proposée",
                        place.network
                    ));
                    storage::update_request(&mut tx, &row).await?;
                    tracing::warn!(request_id = %id, network = %place.network, "unanswered facilitation request: no coordinator to escalate to");
                    summary.without_coordinator.push(id);
                }
                None => continue, // already reported once
            }
            tx.commit().await?;
        }
        Ok(summary)
    }
}
