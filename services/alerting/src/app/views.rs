//! What the alerting's use cases hand to the adapters: calls, grants and the
//! send log as the application knows them. Storage fills these records and
//! the gRPC layer encodes them; neither sees the other's rows.

use chrono::{DateTime, NaiveDate, Utc};
use vigie_alerting_domain::call::TerritoryCode;
use vigie_alerting_domain::model::{Recurrence, Stage};

/// The key of the send log: `(recipient, call, stage, revision, offset, channel)`.
/// Notices use offset −1 (the deadline moved) and −2 (the call was cancelled).
pub type SendKeyTuple = (String, String, String, u32, i64, String);

/// One row of the send log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendLogRecord {
    /// `person:<id>`, `referent:<network>:<structure>`, `webhook:<network>:<structure>`.
    pub recipient: String,
    /// The call.
    pub call_id: String,
    /// The stage kind code.
    pub stage_kind: String,
    /// The stage's revision.
    pub revision: u32,
    /// Days before the stage (negative for notices).
    pub offset_days: i64,
    /// `email` or `webhook`.
    pub channel: String,
    /// The person, for people.
    pub person_id: Option<String>,
    /// The structure.
    pub structure_id: String,
    /// When it was due.
    pub due_at: DateTime<Utc>,
    /// Sent late (after an outage).
    pub late: bool,
    /// Escalation reason code, "" when none.
    pub escalation: String,
    /// The message that carries it.
    pub message_id: String,
    /// When it was claimed.
    pub claimed_at: DateTime<Utc>,
}

impl SendLogRecord {
    /// Its key.
    pub fn key(&self) -> SendKeyTuple {
        (
            self.recipient.clone(),
            self.call_id.clone(),
            self.stage_kind.clone(),
            self.revision,
            self.offset_days,
            self.channel.clone(),
        )
    }
}

/// A send-log row with its message's delivery state and the call's title.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    /// The send-log row.
    pub row: SendLogRecord,
    /// Title of the call.
    pub call_title: String,
    /// The message's status.
    pub status: String,
    /// When it was sent.
    pub sent_at: Option<DateTime<Utc>>,
    /// Delivery attempts.
    pub attempts: u32,
    /// Last failure.
    pub last_error: String,
}

/// A stage as stored: the current version and its revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageRecord {
    /// The stage.
    pub stage: Stage,
    /// 1 for the first version, raised at every change.
    pub revision: u32,
    /// The source no longer lists this stage.
    pub withdrawn: bool,
    /// When this revision became known (`None` for stages stored before it was recorded).
    pub known_since: Option<DateTime<Utc>>,
}

/// A call as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRecord {
    /// Stable id (derived from source and source_ref).
    pub call_id: String,
    /// The source.
    pub source: String,
    /// Its id within the source.
    pub source_ref: String,
    /// Title.
    pub title: String,
    /// Funders.
    pub funders: Vec<String>,
    /// Programmes.
    pub programmes: Vec<String>,
    /// Information page.
    pub info_url: String,
    /// Application page.
    pub application_url: String,
    /// Themes verbatim.
    pub themes: Vec<String>,
    /// Audience codes.
    pub audiences: Vec<String>,
    /// The source's perimeter name.
    pub perimeter_name: String,
    /// The source's scale label.
    pub perimeter_scale: String,
    /// Resolved areas.
    pub areas: Vec<TerritoryCode>,
    /// Excluded areas.
    pub exclusions: Vec<TerritoryCode>,
    /// Why the perimeter could not be resolved ("" when resolved).
    pub unresolved: String,
    /// Recurrence.
    pub recurrence: Option<Recurrence>,
    /// Withdrawn by its source.
    pub cancelled: bool,
    /// Raised at every change of a stage.
    pub revision: u32,
    /// The source's item verbatim.
    pub raw: String,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Stages, by kind.
    pub stages: Vec<StageRecord>,
}

impl CallRecord {
    /// The URL to show: the application page, else the information page.
    pub fn url(&self) -> &str {
        if self.info_url.is_empty() {
            &self.application_url
        } else {
            &self.info_url
        }
    }
}

/// An application or grant as stored (validated by the application).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GrantRecord {
    /// `G…`.
    pub grant_id: String,
    /// The structure.
    pub structure_id: String,
    /// The call applied to ("" for one Vigie never imported).
    pub call_id: String,
    /// Who pays.
    pub funder: String,
    /// What for.
    pub title: String,
    /// `applied`, `won` or `refused`.
    pub stage: String,
    /// When it was submitted.
    pub applied_on: Option<NaiveDate>,
    /// Cents asked.
    pub amount_asked: i64,
    /// When it was decided.
    pub decided_on: Option<NaiveDate>,
    /// Cents granted.
    pub amount_granted: i64,
    /// Last day of the financial year granted for.
    pub financial_year_end: Option<NaiveDate>,
    /// First day of a multi-year agreement.
    pub agreement_start: Option<NaiveDate>,
    /// Last day of a multi-year agreement.
    pub agreement_end: Option<NaiveDate>,
    /// The agreement's reference.
    pub reference: String,
    /// Its purpose.
    pub purpose: String,
    /// A public subsidy.
    pub public_subsidy: bool,
    /// The idempotency key it was recorded with ("" for none): unique per
    /// structure (migration 10).
    pub idempotency_key: String,
}
