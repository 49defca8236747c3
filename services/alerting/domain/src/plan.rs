//! Who receives which reminder, when: the pure core shared by the preview and
//! the dispatcher.
//!
//! For one dated stage of a call matching one structure, the planner crosses
//! the network's [`ReminderPolicy`] with the structure's recipients — the
//! people who hold `funding_applications` and the director — and, when
//! submission rests on nobody or on one person, or its holders leave before
//! the deadline, the network's referent from J-14 ([`REFERENT_FROM_DAYS`]).

use chrono::{DateTime, NaiveDate, Utc};

use crate::model::Stage;
use crate::reminders::{deadline_instant, planned_reminders, PlannedReminder, ReminderPolicy, LATE_GRACE};

/// The vital function whose holders receive the reminders.
pub const FUNDING_FUNCTION: &str = "funding_applications";
/// The referent is alerted for reminders at most this many days before the stage.
pub const REFERENT_FROM_DAYS: u32 = 14;

/// Why the network's referent is alerted too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EscalationReason {
    /// Nobody holds `funding_applications`.
    Orphan,
    /// Every holder leaves before the deadline.
    HoldersLeaving,
    /// One person holds it.
    Spof,
}

impl EscalationReason {
    /// The stable code (`orphan`, `holders_leaving`, `spof`), as in the `DeadlineEscalated` event.
    pub fn code(self) -> &'static str {
        match self {
            EscalationReason::Orphan => "orphan",
            EscalationReason::HoldersLeaving => "holders_leaving",
            EscalationReason::Spof => "spof",
        }
    }
}

/// Why submission is at risk for a deadline, from the end dates of the
/// function's current holders (`None` = no end date): nobody holds it, or
/// all leave before the deadline, or one person holds it. `None` when two or
/// more holders stay.
pub fn escalation_reason(holder_end_dates: &[Option<NaiveDate>], deadline: NaiveDate) -> Option<EscalationReason> {
    if holder_end_dates.is_empty() {
        return Some(EscalationReason::Orphan);
    }
    if holder_end_dates.iter().all(|end| end.is_some_and(|end| end < deadline)) {
        return Some(EscalationReason::HoldersLeaving);
    }
    if holder_end_dates.len() == 1 {
        return Some(EscalationReason::Spof);
    }
    None
}

/// The identity an unsubscription applies to: a network's referent unsubscribes
/// as the referent of the network, whatever structure a digest was about
/// (`referent:<network>:<structure>` → `referent:<network>`); a person as themself.
pub fn unsubscribe_identity(recipient_id: &str) -> &str {
    if let Some(rest) = recipient_id.strip_prefix("referent:") {
        if let Some((network, _structure)) = rest.split_once(':') {
            return &recipient_id[..("referent:".len() + network.len())];
        }
    }
    recipient_id
}

/// The kind of a recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RecipientKind {
    /// A person of the structure who holds `funding_applications`.
    Holder,
    /// The structure's director.
    Director,
    /// The network's referent (escalations only).
    Referent,
    /// The network's webhook (every reminder of the network).
    Webhook,
}

/// Someone (or something) a reminder goes to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Recipient {
    /// The send-log id: `person:<id>`, `referent:<network>:<structure>`, `webhook:<network>:<structure>`.
    pub id: String,
    /// Holder, director, referent or webhook.
    pub kind: RecipientKind,
    /// The person, for people (erasure).
    pub person_id: Option<String>,
    /// How to greet them.
    pub name: String,
    /// `email` or `webhook`.
    pub channel: &'static str,
    /// Email address or webhook URL; messages are grouped by it (one digest per address and day).
    pub address: String,
}

/// What the planner needs to know about a structure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StructureRecipients {
    /// Its id.
    pub structure_id: String,
    /// Its network.
    pub network: String,
    /// Holders and directors (active, with an address), deduplicated.
    pub people: Vec<Recipient>,
    /// End dates of the current holders of `funding_applications`.
    pub holder_end_dates: Vec<Option<NaiveDate>>,
}

/// A network's referent and webhook.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetworkContacts {
    /// Referent's name and email (empty email = none).
    pub referent_name: String,
    /// Referent's email.
    pub referent_email: String,
    /// Webhook URL (empty = none).
    pub webhook_url: String,
}

/// A dated stage of a call at its current revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageRef {
    /// The call.
    pub call_id: String,
    /// The stage.
    pub stage: Stage,
    /// Its revision.
    pub revision: u32,
    /// When this revision became known (imported). A reminder due before it
    /// is caught up at the next pass, not flagged late: the service was not
    /// down, the call was not known yet.
    pub known_since: Option<DateTime<Utc>>,
}

/// Which reminders to plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// Due at or before this instant and the deadline not passed (the dispatcher).
    DueAt(DateTime<Utc>),
    /// Due in `[from, to)` before the deadline (the preview).
    Between(DateTime<Utc>, DateTime<Utc>),
    /// Due after the first instant and at or before the second, the deadline
    /// not passed (an incremental dispatch pass: what fell due since the last).
    DueSince(DateTime<Utc>, DateTime<Utc>),
}

impl Window {
    /// Whether a reminder due at `due_at` for a deadline at `deadline` is in the window, and whether it is late.
    pub fn select(
        self,
        due_at: DateTime<Utc>,
        deadline: DateTime<Utc>,
        known_since: Option<DateTime<Utc>>,
    ) -> Option<bool> {
        let late = |now: DateTime<Utc>| now - due_at > LATE_GRACE && known_since.is_none_or(|known| due_at >= known);
        match self {
            Window::DueAt(now) => (due_at <= now && now < deadline).then(|| late(now)),
            Window::Between(from, to) => (due_at >= from && due_at < to && due_at < deadline).then_some(false),
            Window::DueSince(after, now) => (due_at > after && due_at <= now && now < deadline).then(|| late(now)),
        }
    }
}

/// One reminder for one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedAlert {
    /// Who.
    pub recipient: Recipient,
    /// The structure concerned.
    pub structure_id: String,
    /// The call.
    pub call_id: String,
    /// The stage and its revision.
    pub stage: Stage,
    /// Its revision.
    pub revision: u32,
    /// Days before the stage.
    pub offset_days: u32,
    /// When it is due.
    pub due_at: DateTime<Utc>,
    /// Local date of sending in the policy's zone.
    pub local_date: NaiveDate,
    /// Sent more than the grace period after its due time (only with [`Window::DueAt`]).
    pub late: bool,
    /// Set on every alert of an escalated stage (to the referent and to the people).
    pub escalation: Option<EscalationReason>,
}

/// Who receives one reminder of a structure: its people (holders and
/// director), the network's referent when the reminder is `escalated` and a
/// referent is set, and the network's webhook when one is set. Shared by the
/// reminders of calls and of reporting duties ([`crate::grants::remind`]).
pub fn recipients(structure: &StructureRecipients, contacts: &NetworkContacts, escalated: bool) -> Vec<Recipient> {
    let mut recipients: Vec<Recipient> = structure.people.clone();
    if escalated && !contacts.referent_email.trim().is_empty() {
        recipients.push(Recipient {
            id: format!("referent:{}:{}", structure.network, structure.structure_id),
            kind: RecipientKind::Referent,
            person_id: None,
            name: contacts.referent_name.clone(),
            channel: "email",
            address: contacts.referent_email.trim().to_owned(),
        });
    }
    if !contacts.webhook_url.trim().is_empty() {
        recipients.push(Recipient {
            id: format!("webhook:{}:{}", structure.network, structure.structure_id),
            kind: RecipientKind::Webhook,
            person_id: None,
            name: structure.network.clone(),
            channel: "webhook",
            address: contacts.webhook_url.trim().to_owned(),
        });
    }
    recipients
}

/// The reminders of one stage for one structure in `window`.
pub fn plan_stage(
    stage: &StageRef,
    structure: &StructureRecipients,
    contacts: &NetworkContacts,
    policy: &ReminderPolicy,
    window: Window,
) -> Vec<PlannedAlert> {
    StagePlan::new(stage.clone(), policy).alerts(structure, contacts, window)
}

/// One stage's reminders under one policy, without their recipients:
/// planned once for every structure whose network has that policy (a call
/// matches thousands of structures of a few networks), so that a structure
/// costs only the window check of a few instants, and the cloning of
/// strings only for the reminders in the window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StagePlan {
    /// The stage.
    pub stage: StageRef,
    /// Its deadline instant.
    pub deadline: DateTime<Utc>,
    /// Its reminders under the policy, largest offset first.
    pub planned: Vec<PlannedReminder>,
}

impl StagePlan {
    /// Plans `stage` under `policy`.
    pub fn new(stage: StageRef, policy: &ReminderPolicy) -> StagePlan {
        StagePlan {
            deadline: deadline_instant(&stage.stage),
            planned: planned_reminders(&stage.stage, policy),
            stage,
        }
    }

    /// The reminders of the stage for one structure in `window`, as [`plan_stage`].
    pub fn alerts(
        &self,
        structure: &StructureRecipients,
        contacts: &NetworkContacts,
        window: Window,
    ) -> Vec<PlannedAlert> {
        let stage = &self.stage;
        let mut out = Vec::new();
        for planned in &self.planned {
            let Some(late) = window.select(planned.due_at, self.deadline, stage.known_since) else {
                continue;
            };
            let reason = escalation_reason(&structure.holder_end_dates, stage.stage.date);
            let escalated = reason.filter(|_| planned.offset_days <= REFERENT_FROM_DAYS);
            for recipient in recipients(structure, contacts, escalated.is_some()) {
                out.push(PlannedAlert {
                    recipient,
                    structure_id: structure.structure_id.clone(),
                    call_id: stage.call_id.clone(),
                    stage: stage.stage.clone(),
                    revision: stage.revision,
                    offset_days: planned.offset_days,
                    due_at: planned.due_at,
                    local_date: planned.local_date,
                    late,
                    escalation: escalated,
                });
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::StageKind;
    use crate::test_fixtures::{contacts, date, person, utc};

    fn structure(holders: Vec<Option<NaiveDate>>) -> StructureRecipients {
        StructureRecipients {
            structure_id: "S1".into(),
            network: "net".into(),
            people: vec![
                person("dir", RecipientKind::Director),
                person("h1", RecipientKind::Holder),
            ],
            holder_end_dates: holders,
        }
    }

    fn stage() -> StageRef {
        StageRef {
            call_id: "c1".into(),
            stage: Stage::on_date(StageKind::Submission, date(2027, 3, 14)),
            revision: 1,
            known_since: None,
        }
    }

    #[test]
    fn a_referent_unsubscribes_for_the_whole_network() {
        assert_eq!(unsubscribe_identity("referent:net:S1"), "referent:net");
        assert_eq!(unsubscribe_identity("referent:net"), "referent:net");
        assert_eq!(unsubscribe_identity("person:P1"), "person:P1");
        assert_eq!(unsubscribe_identity("webhook:net:S1"), "webhook:net:S1");
    }

    #[test]
    fn reasons() {
        let d = date(2027, 3, 14);
        assert_eq!(escalation_reason(&[], d), Some(EscalationReason::Orphan));
        assert_eq!(escalation_reason(&[None], d), Some(EscalationReason::Spof));
        assert_eq!(
            escalation_reason(&[Some(date(2027, 3, 13))], d),
            Some(EscalationReason::HoldersLeaving)
        );
        assert_eq!(
            escalation_reason(&[Some(d)], d),
            Some(EscalationReason::Spof),
            "leaving on the day: still there"
        );
        assert_eq!(
            escalation_reason(&[Some(date(2027, 1, 1)), Some(date(2027, 2, 1))], d),
            Some(EscalationReason::HoldersLeaving)
        );
        assert_eq!(escalation_reason(&[Some(date(2027, 1, 1)), None], d), None);
        assert_eq!(escalation_reason(&[None, None], d), None);
    }

    #[test]
    fn j7_goes_to_holders_and_director_at_local_nine() {
        let alerts = plan_stage(
            &stage(),
            &structure(vec![None, None]),
            &contacts(),
            &ReminderPolicy::default(),
            Window::Between(utc(2027, 3, 7, 0), utc(2027, 3, 8, 0)),
        );
        assert_eq!(alerts.len(), 2);
        assert!(alerts
            .iter()
            .all(|a| a.offset_days == 7 && a.due_at == utc(2027, 3, 7, 8) && a.escalation.is_none()));
    }

    #[test]
    fn referent_only_from_j14_on_a_spof() {
        let policy = ReminderPolicy::default();
        let all = plan_stage(
            &stage(),
            &structure(vec![None]),
            &contacts(),
            &policy,
            Window::Between(utc(2027, 1, 1, 0), utc(2027, 3, 15, 0)),
        );
        let referent: Vec<u32> = all
            .iter()
            .filter(|a| a.recipient.kind == RecipientKind::Referent)
            .map(|a| a.offset_days)
            .collect();
        assert_eq!(referent, vec![14, 7, 2]);
        assert!(all
            .iter()
            .filter(|a| a.offset_days == 30)
            .all(|a| a.escalation.is_none()));
        assert!(all
            .iter()
            .filter(|a| a.offset_days == 14)
            .all(|a| a.escalation == Some(EscalationReason::Spof)));
        assert_eq!(all.iter().filter(|a| a.recipient.id == "referent:net:S1").count(), 3);
    }

    #[test]
    fn no_referent_configured_means_people_only() {
        let alerts = plan_stage(
            &stage(),
            &structure(vec![]),
            &NetworkContacts::default(),
            &ReminderPolicy::default(),
            Window::Between(utc(2027, 1, 1, 0), utc(2027, 3, 15, 0)),
        );
        assert_eq!(alerts.len(), 8);
        assert!(alerts.iter().all(|a| a.recipient.kind != RecipientKind::Referent));
    }

    #[test]
    fn reminders_due_before_the_call_was_known_are_caught_up_not_late() {
        let known = StageRef {
            known_since: Some(utc(2027, 3, 1, 10)),
            ..stage()
        };
        let due = plan_stage(
            &known,
            &structure(vec![None, None]),
            &contacts(),
            &ReminderPolicy::default(),
            Window::DueAt(utc(2027, 3, 12, 8)),
        );
        let mut seen: Vec<(u32, bool)> = due.iter().map(|a| (a.offset_days, a.late)).collect();
        seen.dedup();
        // J-30 and J-14 fell due before the import; J-7 after it, while the service was down.
        assert_eq!(seen, vec![(30, false), (14, false), (7, true), (2, false)]);
    }

    #[test]
    fn an_incremental_window_takes_only_what_fell_due_since_the_last_pass() {
        let s = structure(vec![None, None]);
        let since = |after, now| {
            let mut got: Vec<(u32, bool)> = plan_stage(
                &stage(),
                &s,
                &contacts(),
                &ReminderPolicy::default(),
                Window::DueSince(after, now),
            )
            .iter()
            .map(|a| (a.offset_days, a.late))
            .collect();
            got.dedup();
            got
        };
        // A pass a minute after J-7's 08:00 UTC.
        assert_eq!(since(utc(2027, 3, 7, 7), utc(2027, 3, 7, 8)), vec![(7, false)]);
        assert!(
            since(utc(2027, 3, 7, 8), utc(2027, 3, 7, 9)).is_empty(),
            "J-7 is not due twice"
        );
        // Down from before J-14 to after J-7: both, late.
        assert_eq!(
            since(utc(2027, 2, 20, 0), utc(2027, 3, 8, 12)),
            vec![(14, true), (7, true)]
        );
    }

    #[test]
    fn webhook_receives_every_reminder() {
        let contacts = NetworkContacts {
            webhook_url: "https://hooks.example.org/vigie".into(),
            ..NetworkContacts::default()
        };
        let alerts = plan_stage(
            &stage(),
            &structure(vec![None, None]),
            &contacts,
            &ReminderPolicy::default(),
            Window::Between(utc(2027, 1, 1, 0), utc(2027, 3, 15, 0)),
        );
        let hooks: Vec<&PlannedAlert> = alerts.iter().filter(|a| a.recipient.channel == "webhook").collect();
        assert_eq!(hooks.len(), 4);
        assert_eq!(hooks[0].recipient.id, "webhook:net:S1");
    }

    #[test]
    fn due_window_after_an_outage_marks_late_and_stops_at_the_deadline() {
        let s = structure(vec![None, None]);
        let due = plan_stage(
            &stage(),
            &s,
            &contacts(),
            &ReminderPolicy::default(),
            Window::DueAt(utc(2027, 3, 12, 8)),
        );
        let mut seen: Vec<(u32, bool)> = due.iter().map(|a| (a.offset_days, a.late)).collect();
        seen.dedup();
        assert_eq!(seen, vec![(30, true), (14, true), (7, true), (2, false)]);
        // The whole day of the 14th still counts; the 15th at 00:00 Paris does not.
        assert!(!plan_stage(
            &stage(),
            &s,
            &contacts(),
            &ReminderPolicy::default(),
            Window::DueAt(utc(2027, 3, 14, 22))
        )
        .is_empty());
        assert!(plan_stage(
            &stage(),
            &s,
            &contacts(),
            &ReminderPolicy::default(),
            Window::DueAt(utc(2027, 3, 14, 23))
        )
        .is_empty());
    }
}
