//! Who is reminded of a reporting duty, when: the planner of the reminders
//! of obligations, beside [`crate::plan`] for calls and built on the same
//! pieces (the network's [`ReminderPolicy`], the [`Window`] of a dispatch
//! pass, the recipients rule and the escalation reasons).
//!
//! A duty gets the policy's offsets (J-30/14/7/2 by default) before its
//! external due date, at the policy's local hour in the policy's zone, plus
//! **one** reminder on its internal draft date. Recipients are the holders of
//! [`REPORTING_FUNCTION`] and the director; when reporting rests on nobody or
//! one person, or its holders leave before the due date, the network's
//! referent too, from [`REFERENT_FROM_DAYS`].
//!
//! In the send log a duty's reminder is keyed like a call's: `call_id` is the
//! obligation key (`G…:rule:year`, `S…:rule:year`: never `call-…`),
//! `stage_kind` is [`STEP_REPORT`] or [`STEP_REPORT_DRAFT`] and the revision
//! is derived from the due date ([`revision_of`]), so a moved date is a new
//! series and the former date can be read back for the notice
//! ([`date_of_revision`]).

use chrono::{DateTime, Datelike, NaiveDate, Utc};

use super::rules::Rule;
use crate::model::{Stage, StageKind};
use crate::plan::{
    escalation_reason, recipients, EscalationReason, NetworkContacts, Recipient, StructureRecipients, Window,
    REFERENT_FROM_DAYS,
};
use crate::reminders::{deadline_instant, planned_reminders, resolve_local, ReminderPolicy};

/// The vital function whose holders are reminded of reporting duties.
pub const REPORTING_FUNCTION: &str = "funder_reporting";
/// `stage_kind` in the send log of a reminder before the due date.
pub const STEP_REPORT: &str = "report";
/// `stage_kind` in the send log of the reminder of the internal draft date.
pub const STEP_REPORT_DRAFT: &str = "report_draft";

/// Which reminder of a duty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Step {
    /// J-n before the external due date.
    Due,
    /// On the internal draft date.
    Draft,
}

impl Step {
    /// Its `stage_kind` in the send log.
    pub fn code(self) -> &'static str {
        match self {
            Step::Due => STEP_REPORT,
            Step::Draft => STEP_REPORT_DRAFT,
        }
    }
}

/// A duty to remind of, as the planner needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duty {
    /// The obligation key.
    pub key: String,
    /// The structure that owes it.
    pub structure_id: String,
    /// The rule that makes it due.
    pub rule: Rule,
    /// External due date (local, in the policy's zone).
    pub due: NaiveDate,
    /// Internal draft date.
    pub draft: NaiveDate,
    /// Since when this due date is known (the grant recorded, the agreement's
    /// date set): a reminder due before is caught up, not marked late.
    pub known_since: Option<DateTime<Utc>>,
}

/// One reminder of a duty for one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DutyAlert {
    /// Who.
    pub recipient: Recipient,
    /// The structure.
    pub structure_id: String,
    /// The obligation key.
    pub key: String,
    /// The rule.
    pub rule: Rule,
    /// Before the due date or on the draft date.
    pub step: Step,
    /// External due date.
    pub due: NaiveDate,
    /// Internal draft date.
    pub draft: NaiveDate,
    /// [`revision_of`] the due date.
    pub revision: u32,
    /// Days before the due date (for the draft reminder: due − draft).
    pub offset_days: u32,
    /// When it is due.
    pub due_at: DateTime<Utc>,
    /// Local date of sending.
    pub local_date: NaiveDate,
    /// Sent more than the grace period after its due time.
    pub late: bool,
    /// Set on every alert of an escalated reminder.
    pub escalation: Option<EscalationReason>,
}

/// The send-log revision of a due date: its day number. Another date is
/// another revision; the date is read back by [`date_of_revision`].
pub fn revision_of(due: NaiveDate) -> u32 {
    u32::try_from(due.num_days_from_ce()).unwrap_or(0)
}

/// The due date a revision was made of.
pub fn date_of_revision(revision: u32) -> Option<NaiveDate> {
    NaiveDate::from_num_days_from_ce_opt(i32::try_from(revision).ok()?)
}

/// The reminders of one duty for its structure in `window`. `structure`
/// holds the people to remind (holders of [`REPORTING_FUNCTION`] and the
/// director) and the holders' end dates. None once the due date has passed
/// (the window says so); the caller leaves out duties already « envoyé ».
pub fn plan_duty(
    duty: &Duty,
    structure: &StructureRecipients,
    contacts: &NetworkContacts,
    policy: &ReminderPolicy,
    window: Window,
) -> Vec<DutyAlert> {
    // The due date as an all-day stage in the network's zone: the same
    // offsets, local hour and end of day as a call's deadline.
    let mut stage = Stage::on_date(StageKind::Submission, duty.due);
    stage.timezone = policy.timezone;
    let deadline = deadline_instant(&stage);
    let reason = escalation_reason(&structure.holder_end_dates, duty.due);
    let mut steps: Vec<(Step, u32, DateTime<Utc>, NaiveDate)> = planned_reminders(&stage, policy)
        .into_iter()
        .map(|p| (Step::Due, p.offset_days, p.due_at, p.local_date))
        .collect();
    if duty.draft < duty.due {
        let days = u32::try_from((duty.due - duty.draft).num_days()).unwrap_or(0);
        let at = resolve_local(policy.timezone, duty.draft.and_time(policy.local_hour));
        steps.push((Step::Draft, days, at, duty.draft));
    }
    let mut out = Vec::new();
    for (step, offset_days, due_at, local_date) in steps {
        let Some(late) = window.select(due_at, deadline, duty.known_since) else {
            continue;
        };
        let escalated = reason.filter(|_| offset_days <= REFERENT_FROM_DAYS);
        for recipient in recipients(structure, contacts, escalated.is_some()) {
            out.push(DutyAlert {
                recipient,
                structure_id: duty.structure_id.clone(),
                key: duty.key.clone(),
                rule: duty.rule,
                step,
                due: duty.due,
                draft: duty.draft,
                revision: revision_of(duty.due),
                offset_days,
                due_at,
                local_date,
                late,
                escalation: escalated,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests;
