//! Reminders of reporting duties (issue 16) inside the one claim pass of
//! [`super::dispatch`]: which duties are open (not « envoyé », due date not
//! passed), their reminders due now, the notices of moved dates, and the
//! « envoyé » acknowledgement (signed link, RPC, CLI).
//!
//! They go through the calls' machinery on purpose: the same send log (the
//! obligation key in `call_id`, `report`/`report_draft` in `stage_kind`, the
//! due date's day number as revision: keys that cannot collide with a call's
//! `call-…`), the same messages (one digest per address and day, calls and
//! duties together), the same transaction for the outbox events.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Days, NaiveDate, NaiveTime, Utc};
use sqlx::AnyConnection;
use vigie_alerting_domain::grants::calendar::{duty_entries, DutyEvent};
use vigie_alerting_domain::grants::remind::{
    date_of_revision, plan_duty, revision_of, Duty, DutyAlert, Step, STEP_REPORT, STEP_REPORT_DRAFT,
};
use vigie_alerting_domain::grants::rules::Rule;
use vigie_alerting_domain::ical::CalendarEntry;
use vigie_alerting_domain::message::{duty_heading, Notice};
use vigie_alerting_domain::model::{Stage, StageKind};
use vigie_alerting_domain::plan::Window;
use vigie_alerting_domain::reminders::{planned_reminders, resolve_local, ReminderPolicy};
use vigie_platform::events::Outbox;
use vigie_platform::words;
use vigie_proto::events::v1::ObligationAcknowledged;

use super::context::{network_settings, Context};
use super::grants::ObligationView;
use super::views::{SendKeyTuple, SendLogRecord};
use super::AlertingApp;
use crate::convert::date_to_pb;
use crate::error::AlertingError;
use crate::events;
use crate::storage::{self, ObligationAckRow, DUTY_SENT, NOTICE_MOVED};

/// A duty still to remind of: not « envoyé », its due date not passed.
#[derive(Debug, Clone)]
pub(super) struct OpenDuty {
    /// The obligation with its funder and title.
    pub view: ObligationView,
    /// Its structure's network ("" when the structure is not in the read model).
    pub network: String,
    /// Since when its due date is known.
    pub known_since: Option<DateTime<Utc>>,
}

impl OpenDuty {
    /// The planner's view of it.
    pub fn duty(&self) -> Duty {
        let o = &self.view.obligation;
        Duty {
            key: o.key.clone(),
            structure_id: o.structure_id.clone(),
            rule: o.rule,
            due: o.due,
            draft: o.draft,
            known_since: self.known_since,
        }
    }

    /// What the duty is, in French (see [`duty_fr`]).
    pub fn duty_fr(&self) -> String {
        duty_fr(&self.view)
    }

    /// « Compte rendu financier (Cerfa n° 15059) — Région Bretagne (Insertion) ».
    pub fn heading(&self) -> String {
        heading(&self.view)
    }
}

/// What a duty is, in French: the agreement's label for a date it writes,
/// the rule's duty otherwise.
fn duty_fr(view: &ObligationView) -> String {
    let o = &view.obligation;
    match (&o.label, o.rule) {
        (Some(label), Rule::Agreement) if !label.trim().is_empty() => label.clone(),
        _ => o.rule.duty_fr().to_owned(),
    }
}

/// The duty, its funder and title, as its reminders and the send log show it.
fn heading(view: &ObligationView) -> String {
    duty_heading(&duty_fr(view), &view.funder, &view.title)
}

/// The end of a due date's local day: after it, no more reminders.
pub(super) fn end_of_day(due: NaiveDate, policy: &ReminderPolicy) -> DateTime<Utc> {
    let next = due.checked_add_days(Days::new(1)).unwrap_or(due);
    resolve_local(policy.timezone, next.and_time(NaiveTime::MIN))
}

/// The reminder policy of each network (the default for the others).
pub(super) fn policies_by_network(rows: &[storage::PolicyRow]) -> HashMap<String, ReminderPolicy> {
    rows.iter()
        .map(|row| (row.network_id.clone(), network_settings(row).policy))
        .collect()
}

fn policy_of<'a>(
    policies: &'a HashMap<String, ReminderPolicy>,
    network: &str,
    default: &'a ReminderPolicy,
) -> &'a ReminderPolicy {
    policies.get(network).unwrap_or(default)
}

/// When the reminders of the open duties fall due (draft dates included), as
/// derived at one pass. Deriving every open duty costs 0.3–1.5 s at 8,416
/// duties and the claim pass runs every minute: a later pass reuses these
/// instants as long as no grant, agreement date or « envoyé » changed since
/// and the policies are the same; anything else (a structure moved to another
/// network, a setting) makes that pass plan, which derives them again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct DutyInstants {
    /// The pass that derived them.
    pub at: DateTime<Utc>,
    /// The policies they were derived with.
    pub policies: HashMap<String, ReminderPolicy>,
    /// Every instant, sorted (those of duties closed since only make a pass
    /// plan for nothing: never a reminder missed).
    instants: Vec<DateTime<Utc>>,
}

impl DutyInstants {
    /// The instants of `duties` under `policies`, derived at `at`.
    pub fn of(duties: &[OpenDuty], policies: &HashMap<String, ReminderPolicy>, at: DateTime<Utc>) -> DutyInstants {
        let default = ReminderPolicy::default();
        let mut instants: Vec<DateTime<Utc>> = duties
            .iter()
            .flat_map(|d| {
                let policy = policy_of(policies, &d.network, &default);
                let o = &d.view.obligation;
                let mut stage = Stage::on_date(StageKind::Submission, o.due);
                stage.timezone = policy.timezone;
                let draft_at = resolve_local(policy.timezone, o.draft.and_time(policy.local_hour));
                planned_reminders(&stage, policy)
                    .into_iter()
                    .map(|r| r.due_at)
                    .chain(std::iter::once(draft_at))
            })
            .collect();
        instants.sort_unstable();
        instants.dedup();
        DutyInstants {
            at,
            policies: policies.clone(),
            instants,
        }
    }

    /// Whether a reminder of an open duty fell due in `(after, now]`: the
    /// claim pass then plans them (a pass with nothing due stays a few queries).
    pub fn any_between(&self, after: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        let first = self.instants.partition_point(|&t| t <= after);
        self.instants.get(first).is_some_and(|&t| t <= now)
    }
}

/// The reminders of open duties due at `now` for the structures of `ctx`,
/// except to unsubscribed recipients; by index of `duties`.
pub(super) fn due_duty_alerts(ctx: &Context, duties: &[OpenDuty], now: DateTime<Utc>) -> Vec<(usize, DutyAlert)> {
    let mut out = Vec::new();
    for (d, duty) in duties.iter().enumerate() {
        let Some(i) = ctx.position(&duty.view.obligation.structure_id) else {
            continue;
        };
        let structure = &ctx.structures[i];
        let network = ctx.network(&structure.profile.network);
        for alert in plan_duty(
            &duty.duty(),
            structure.reporting(),
            &network.contacts,
            &network.policy,
            Window::DueAt(now),
        ) {
            if !ctx.unsubscribed(&alert.recipient.id) {
                out.push((d, alert));
            }
        }
    }
    out
}

/// The send-log row of a duty's reminder.
pub(super) fn duty_log_row(alert: &DutyAlert, now: DateTime<Utc>) -> SendLogRecord {
    SendLogRecord {
        recipient: alert.recipient.id.clone(),
        call_id: alert.key.clone(),
        stage_kind: alert.step.code().to_owned(),
        revision: alert.revision,
        offset_days: i64::from(alert.offset_days),
        channel: alert.recipient.channel.to_owned(),
        person_id: alert.recipient.person_id.clone(),
        structure_id: alert.structure_id.clone(),
        due_at: alert.due_at,
        late: alert.late,
        escalation: alert.escalation.map(|r| r.code().to_owned()).unwrap_or_default(),
        message_id: String::new(),
        claimed_at: now,
    }
}

/// A notice of a duty's moved date to each recipient reminded of it at
/// another date: the send-log row to claim (offset [`NOTICE_MOVED`], the
/// new date's revision: once per recipient and new date) and the notice.
pub(super) fn duty_notices(
    ctx: &Context,
    duties: &[OpenDuty],
    claimed: &HashSet<SendKeyTuple>,
    sent: &[SendLogRecord],
    now: DateTime<Utc>,
) -> Vec<(usize, SendLogRecord, Notice)> {
    let by_key: HashMap<(&str, &str), usize> = duties
        .iter()
        .enumerate()
        .map(|(i, d)| {
            (
                (d.view.obligation.structure_id.as_str(), d.view.obligation.key.as_str()),
                i,
            )
        })
        .collect();
    // The last reminder each recipient had of each duty: the date they were told.
    let mut last: HashMap<(&str, &str, &str), &SendLogRecord> = HashMap::new();
    for row in sent {
        let entry = last
            .entry((row.recipient.as_str(), row.structure_id.as_str(), row.call_id.as_str()))
            .or_insert(row);
        if row.claimed_at > entry.claimed_at {
            *entry = row;
        }
    }
    let mut out = Vec::new();
    for ((recipient, structure_id, key), told) in last {
        let Some(&d) = by_key.get(&(structure_id, key)) else {
            continue;
        };
        let duty = &duties[d];
        let revision = revision_of(duty.view.obligation.due);
        if told.revision == revision {
            continue;
        }
        let row = SendLogRecord {
            stage_kind: Step::Due.code().to_owned(),
            revision,
            offset_days: NOTICE_MOVED,
            due_at: now,
            late: false,
            escalation: String::new(),
            message_id: String::new(),
            claimed_at: now,
            ..told.clone()
        };
        if claimed.contains(&row.key()) || ctx.unsubscribed(recipient) {
            continue;
        }
        let Some(from) = date_of_revision(told.revision) else {
            continue;
        };
        let structure_name = ctx
            .position(structure_id)
            .map(|i| ctx.structures[i].name.clone())
            .unwrap_or_default();
        let notice = Notice::DutyMoved {
            structure_name,
            heading: duty.heading(),
            from,
            to: duty.view.obligation.due,
        };
        out.push((d, row, notice));
    }
    out.sort_by_key(|a| a.1.key());
    out
}

/// A duty's « envoyé » state and its structure's reporting holders, for
/// `ListObligations`.
#[derive(Debug, Clone, Default)]
pub struct DutyStates {
    acks: HashMap<(String, String), ObligationAckRow>,
    holders: HashMap<String, u32>,
}

impl DutyStates {
    /// `sent` or "", when it was marked sent, and how many people hold
    /// `funder_reporting` in the structure today.
    pub fn of(&self, structure_id: &str, key: &str) -> (String, Option<NaiveDate>, u32) {
        let ack = self.acks.get(&(structure_id.to_owned(), key.to_owned()));
        let status = ack.map(|a| a.status.clone()).unwrap_or_default();
        let sent_on = ack.filter(|a| a.status == DUTY_SENT).and_then(|a| a.sent_on);
        (status, sent_on, self.holders.get(structure_id).copied().unwrap_or(0))
    }
}

/// Since when each obligation's due date is known: its grant's last change
/// or the agreement date's, whichever is later; a structure-wide duty
/// (audit, publication) follows the structure's latest grant.
async fn known_times(
    conn: &mut AnyConnection,
    views: &[ObligationView],
) -> Result<HashMap<(String, String), DateTime<Utc>>, AlertingError> {
    let (grant_times, date_times) = storage::duty_times(conn).await?;
    let structures: Vec<String> = views.iter().map(|v| v.obligation.structure_id.clone()).collect();
    let mut latest: HashMap<String, DateTime<Utc>> = HashMap::new();
    for g in storage::grants_of(conn, Some(&structures)).await? {
        if let Some(&at) = grant_times.get(&g.grant_id) {
            let entry = latest.entry(g.structure_id).or_insert(at);
            *entry = (*entry).max(at);
        }
    }
    let mut out = HashMap::new();
    for view in views {
        let o = &view.obligation;
        let grant_at = match &o.grant_id {
            Some(id) => grant_times.get(id).copied(),
            None => latest.get(&o.structure_id).copied(),
        };
        let date_at = date_times.get(&(o.structure_id.clone(), o.key.clone())).copied();
        if let Some(at) = grant_at.max(date_at) {
            out.insert((o.structure_id.clone(), o.key.clone()), at);
        }
    }
    Ok(out)
}

impl AlertingApp {
    /// Gives the send log's rows of duties (stage `report`, `report_draft`)
    /// the duty's heading where a call's row has the call's title: their
    /// `call_id` is the obligation key, which names no call.
    ///
    /// # Errors
    /// Storage errors.
    pub(super) async fn title_duty_rows(&self, entries: &mut [super::views::LogEntry]) -> Result<(), AlertingError> {
        let is_duty = |e: &super::views::LogEntry| {
            e.call_title.is_empty() && [STEP_REPORT, STEP_REPORT_DRAFT].contains(&e.row.stage_kind.as_str())
        };
        let mut structures: Vec<String> = entries
            .iter()
            .filter(|e| is_duty(e))
            .map(|e| e.row.structure_id.clone())
            .collect();
        if structures.is_empty() {
            return Ok(());
        }
        structures.sort_unstable();
        structures.dedup();
        let headings: HashMap<(String, String), String> = self
            .obligations(Some(&structures))
            .await?
            .iter()
            .map(|v| {
                (
                    (v.obligation.structure_id.clone(), v.obligation.key.clone()),
                    heading(v),
                )
            })
            .collect();
        for entry in entries.iter_mut().filter(|e| is_duty(e)) {
            if let Some(title) = headings.get(&(entry.row.structure_id.clone(), entry.row.call_id.clone())) {
                entry.call_title.clone_from(title);
            }
        }
        Ok(())
    }

    /// The calendar events of these structures' duties not « envoyé » whose
    /// due date is `since` or later: the due date and the internal draft
    /// date of each (the structure's and the network's feeds).
    pub(super) async fn duty_calendar_entries(
        &self,
        conn: &mut AnyConnection,
        structures: &[String],
        since: NaiveDate,
    ) -> Result<Vec<CalendarEntry>, AlertingError> {
        let views: Vec<ObligationView> = self
            .obligations_on(conn, Some(structures))
            .await?
            .into_iter()
            .filter(|v| v.obligation.due >= since)
            .collect();
        if views.is_empty() {
            return Ok(Vec::new());
        }
        let acks = storage::obligation_acks(conn, Some(structures)).await?;
        let known = known_times(conn, &views).await?;
        let mut out = Vec::new();
        for view in views {
            let o = &view.obligation;
            let id = (o.structure_id.clone(), o.key.clone());
            if acks.get(&id).is_some_and(|a| a.status == DUTY_SENT) {
                continue;
            }
            let open = OpenDuty {
                view: view.clone(),
                network: String::new(),
                known_since: None,
            };
            out.extend(duty_entries(&DutyEvent {
                key: o.key.clone(),
                duty: open.duty_fr(),
                funder: view.funder.clone(),
                title: view.title.clone(),
                source: o.rule.source_fr().to_owned(),
                due: o.due,
                draft: o.draft,
                edited: o.edited,
                dtstamp: known.get(&id).copied().unwrap_or_default(),
            }));
        }
        Ok(out)
    }

    /// The [`AlertingApp::open_duties`] at `now`, and their instants, kept
    /// for the next claim passes.
    ///
    /// # Errors
    /// Storage errors; an undecodable snapshot.
    pub(super) async fn derive_duties(
        &self,
        conn: &mut AnyConnection,
        policies: &HashMap<String, ReminderPolicy>,
        now: DateTime<Utc>,
    ) -> Result<(Vec<OpenDuty>, DutyInstants), AlertingError> {
        let open = self.open_duties(conn, policies, now).await?;
        let instants = DutyInstants::of(&open, policies, now);
        if let Ok(mut cache) = self.duty_instants.lock() {
            *cache = Some(instants.clone());
        }
        Ok((open, instants))
    }

    /// Every duty not « envoyé » whose due date has not passed at `now`.
    pub(super) async fn open_duties(
        &self,
        conn: &mut AnyConnection,
        policies: &HashMap<String, ReminderPolicy>,
        now: DateTime<Utc>,
    ) -> Result<Vec<OpenDuty>, AlertingError> {
        let all = self.obligations_on(conn, None).await?;
        if all.is_empty() {
            return Ok(Vec::new());
        }
        let acks = storage::obligation_acks(conn, None).await?;
        let known = known_times(conn, &all).await?;
        let networks = storage::structure_networks(conn).await?;
        let default = ReminderPolicy::default();
        let mut out = Vec::new();
        for view in all {
            let o = &view.obligation;
            let sent = acks
                .get(&(o.structure_id.clone(), o.key.clone()))
                .is_some_and(|a| a.status == DUTY_SENT);
            let network = networks.get(&o.structure_id).cloned().unwrap_or_default();
            if sent || end_of_day(o.due, policy_of(policies, &network, &default)) <= now {
                continue;
            }
            out.push(OpenDuty {
                known_since: known.get(&(o.structure_id.clone(), o.key.clone())).copied(),
                network,
                view,
            });
        }
        Ok(out)
    }

    /// The « envoyé » states of these structures' duties (all with `None`)
    /// and their holders of `funder_reporting` today.
    ///
    /// # Errors
    /// Storage errors; an undecodable snapshot.
    pub async fn duty_states(&self, structures: Option<&[String]>) -> Result<DutyStates, AlertingError> {
        let mut conn = self.db.pool().acquire().await?;
        let acks = storage::obligation_acks(&mut conn, structures).await?;
        // One connection at a time (SQLite has one for everything).
        drop(conn);
        let holders = self
            .reporting(structures)
            .await?
            .iter()
            .map(|(id, r)| (id.clone(), super::grant_stats::holder_count(Some(r))))
            .collect();
        Ok(DutyStates { acks, holders })
    }

    /// Marks a structure's duty « envoyé » to its funder (`sent`), or takes
    /// it back (""): no more reminders of it while sent. Publishes
    /// `ObligationAcknowledged` in the same transaction when the status
    /// changes, nothing when it is the same; `via` is logged (`link`, `rpc`).
    ///
    /// # Errors
    /// [`AlertingError::Invalid`] for another status, [`AlertingError::NotFound`]
    /// for an unknown structure or obligation; storage errors.
    pub async fn acknowledge_obligation(
        &self,
        structure_id: &str,
        obligation_key: &str,
        status: &str,
        via: &str,
    ) -> Result<ObligationView, AlertingError> {
        let status = status.trim();
        if status != DUTY_SENT && !status.is_empty() {
            return Err(AlertingError::Invalid(words!(
                "statut « {status} » inconnu : « sent » (envoyé) ou vide pour l'annuler",
                "unknown status “{status}”: “sent”, or empty to cancel it"
            )));
        }
        let key = obligation_key.trim();
        if key.is_empty() || key.chars().count() > 300 || key.chars().any(char::is_control) {
            return Err(AlertingError::Invalid(words!(
                "clé d'obligation : requise, au plus 300 caractères, sans caractère de contrôle",
                "obligation key: required, 300 characters at most, no control character"
            )));
        }
        let structure_id = structure_id.trim();
        let mut tx = self.db.begin().await?;
        if structure_id.is_empty() || storage::structure_version(&mut tx, structure_id).await?.is_none() {
            return Err(AlertingError::NotFound(words!(
                "structure {structure_id}",
                "structure {structure_id}"
            )));
        }
        let only = [structure_id.to_owned()];
        let view = self
            .obligations_on(&mut tx, Some(&only))
            .await?
            .into_iter()
            .find(|o| o.obligation.key == key)
            .ok_or_else(|| AlertingError::NotFound(words!("obligation « {key} »", "obligation “{key}”")))?;
        let today = self.today();
        let row = ObligationAckRow {
            structure_id: structure_id.to_owned(),
            obligation_key: key.to_owned(),
            status: status.to_owned(),
            sent_on: (status == DUTY_SENT).then_some(today),
        };
        let changed = storage::save_obligation_ack(&mut tx, &row, self.now()).await?;
        if changed {
            let event = ObligationAcknowledged {
                structure_id: structure_id.to_owned(),
                obligation_key: key.to_owned(),
                rule: view.obligation.rule.code().to_owned(),
                status: status.to_owned(),
                due: Some(date_to_pb(view.obligation.due)),
                on: Some(date_to_pb(today)),
            };
            Outbox::new(events::SOURCE)
                .append(&mut tx, events::obligation_acknowledged(&event))
                .await
                .map_err(|e| AlertingError::Events(e.to_string()))?;
        }
        tx.commit().await?;
        if changed {
            tracing::info!(via, status, "reporting duty acknowledged");
            self.relay.notify_one();
        }
        Ok(view)
    }
}
