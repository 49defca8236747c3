//! What the facilitation's use cases hand to the adapters (gRPC, handlers):
//! storage fills these types, the gRPC layer encodes them; neither sees the
//! other's rows.

use chrono::{DateTime, NaiveDate, Utc};

/// The call a co-submission proposal is about (from an alerting escalation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRef {
    /// The alerting service's id of the call.
    pub call_id: String,
    /// Its title.
    pub title: String,
    /// The escalated stage's deadline (local date).
    pub deadline: NaiveDate,
    /// Where to read or apply (may be empty).
    pub url: String,
}

/// A help request (asked by a structure) or a proactive proposal (opened on
/// a fragility event or an alerting escalation).
#[derive(Debug, Clone, PartialEq)]
pub struct HelpRequest {
    /// Its id (UUID v7, so ids sort by creation).
    pub request_id: String,
    /// `request` or `proposal`.
    pub origin: String,
    /// The structure helped.
    pub structure_id: String,
    /// Its network.
    pub network_id: String,
    /// The vital function concerned.
    pub function: String,
    /// What the structure needs.
    pub description: String,
    /// low, normal, high.
    pub urgency: String,
    /// on_site, remote, either.
    pub modality: String,
    /// Deadline.
    pub due_on: Option<NaiveDate>,
    /// Minutes reserved when offered.
    pub estimated_minutes: u32,
    /// offered, accepted, unassigned, closed.
    pub status: String,
    /// The facilitator it is offered to or accepted by.
    pub facilitator_id: Option<String>,
    /// That facilitator's name (read only).
    pub facilitator_name: Option<String>,
    /// The week whose minutes are reserved.
    pub week_start: Option<NaiveDate>,
    /// Why this facilitator, or why nobody (plain French).
    pub reasons: Vec<String>,
    /// Facilitators who declined.
    pub declined_by: Vec<String>,
    /// Creation date.
    pub created_on: NaiveDate,
    /// While a proposal is open (unique): `structure/function` for a
    /// fragility proposal, `structure/call:<call id>` for a co-submission
    /// one; else `None`.
    pub open_key: Option<String>,
    /// When it was created (absent on requests older than schema v2).
    pub created_at: Option<DateTime<Utc>>,
    /// When it was last offered.
    pub offered_at: Option<DateTime<Utc>>,
    /// When its facilitator accepted it.
    pub accepted_at: Option<DateTime<Utc>>,
    /// When an internal intervention closed it.
    pub closed_at: Option<DateTime<Utc>>,
    /// When it escalated to the network's coordinator.
    pub escalated_at: Option<DateTime<Utc>>,
    /// When it was found unanswered past the delay with no coordinator to
    /// escalate to (it stays offered).
    pub overdue_at: Option<DateTime<Utc>>,
    /// help, fragility or co-submission.
    pub kind: String,
    /// The call of a co-submission proposal.
    pub call: Option<CallRef>,
}
