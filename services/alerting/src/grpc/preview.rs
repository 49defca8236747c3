//! `PreviewAlerts` and `PreviewAlertsStream`: who sees which reminders, and
//! the stream that plans, converts and sends them message by message.
//!
//! The stream never holds more than one message being filled plus
//! [`QUEUED_MESSAGES`] waiting for the client: a slow reader makes the sender
//! wait (the channel is bounded), so a whole instance's week of reminders
//! crosses the server in a few MiB beyond the plan's compact entries.

use std::collections::HashMap;

use prost::Message as _;
use tokio::sync::mpsc;
use tonic::Status;
use vigie_platform::auth::Visibility;
use vigie_proto::alerting::v1 as pb;

use super::{alert_to_pb, paging, without_people_alert, AlertingApi};
use crate::app::{PreviewAlert, PreviewPlan};

/// Messages computed ahead of the client: enough to keep the link busy, few enough to stay small.
pub const QUEUED_MESSAGES: usize = 2;

/// Alerts materialised from the plan per pass (a few hundred KiB of full alerts).
const ALERTS_PER_PASS: usize = 2_000;

/// What the caller may see of the reminders.
pub struct PreviewFilter {
    /// The structures whose reminders the caller may see (`None` = all).
    pub visible_structures: Option<HashMap<String, String>>,
    /// Whose people's names and addresses the caller may see.
    pub people: Visibility,
    /// Structure → network, when `people` needs it.
    pub networks: HashMap<String, String>,
}

impl PreviewFilter {
    /// The alert as the caller may see it, or `None` when its structure is hidden.
    pub fn apply(&self, alert: &PreviewAlert) -> Option<pb::Alert> {
        if self
            .visible_structures
            .as_ref()
            .is_some_and(|v| !v.contains_key(&alert.alert.structure_id))
        {
            return None;
        }
        let alert = alert_to_pb(alert);
        Some(
            if AlertingApi::sees_people(&self.people, &self.networks, &alert.structure_id) {
                alert
            } else {
                without_people_alert(alert)
            },
        )
    }
}

/// Sends the plan's visible alerts in messages of at most about
/// [`paging::MESSAGE_BYTES`], in order, then at least one (possibly empty)
/// message. Stops when the client goes away.
pub async fn send(
    mut plan: PreviewPlan,
    filter: PreviewFilter,
    tx: mpsc::Sender<Result<pb::PreviewAlertsResponse, Status>>,
) {
    let mut alerts = Vec::new();
    let mut size = 0;
    let mut sent_any = false;
    while !plan.is_done() {
        let chunk = match plan.next_chunk(ALERTS_PER_PASS).await {
            Ok(chunk) => chunk,
            Err(e) => {
                let _ = tx.send(Err(e.into())).await;
                return;
            }
        };
        for alert in chunk.iter().filter_map(|a| filter.apply(a)) {
            // The repeated field's tag and length prefix: at most 6 bytes more.
            let len = alert.encoded_len() + 6;
            if !alerts.is_empty() && size + len > paging::MESSAGE_BYTES {
                let message = pb::PreviewAlertsResponse {
                    alerts: std::mem::take(&mut alerts),
                };
                if tx.send(Ok(message)).await.is_err() {
                    return;
                }
                sent_any = true;
                size = 0;
            }
            size += len;
            alerts.push(alert);
        }
    }
    if !alerts.is_empty() || !sent_any {
        let _ = tx.send(Ok(pb::PreviewAlertsResponse { alerts })).await;
    }
}
