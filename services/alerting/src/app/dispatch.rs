//! Sending reminders in two steps that never lose nor double one:
//!
//! 1. **claim** ([`AlertingApp::claim_due`]): the reminders due now and not in
//!    the send log are grouped into one message per address (a daily digest),
//!    rendered, and committed in one transaction with their send-log rows,
//!    their `reminder.sent` events and any escalation event. The send log's primary key makes a second claim of
//!    the same reminder impossible, whatever crashes or runs concurrently.
//! 2. **deliver** ([`AlertingApp::deliver_due`]): pending messages are
//!    leased (one owner at a time, whatever the number of replicas), handed
//!    to their channel and marked sent by the lease holder; a transient
//!    refusal is retried with backoff, a permanent one is recorded as failed.
//!
//! A crash between the two leaves the message pending: it goes out at the
//! next pass. A crash while a message is leased keeps it until the lease
//! expires, then any replica sends it. The only window for a second copy is
//! a crash after the server accepted a message and before it is marked sent
//! (or a send outliving its lease): the copy carries the same Message-ID (or
//! webhook delivery id), so receivers can recognise it.

use std::collections::{BTreeMap, HashMap, HashSet};

use async_trait::async_trait;
use chrono::{DateTime, Days, NaiveDate, Utc};
use vigie_alerting_domain::grants::remind::{DutyAlert, Step, REPORTING_FUNCTION, STEP_REPORT};
use vigie_alerting_domain::message::{render_digest, AckLinks, Digest, DigestItem, DutyItem, Notice};
use vigie_alerting_domain::plan::{unsubscribe_identity, PlannedAlert, RecipientKind, Window};
use vigie_alerting_domain::reminders::deadline_instant;
use vigie_alerting_domain::reminders::{planned_reminders, ReminderPolicy};
use vigie_platform::events::{EventDraft, Outbox};
use vigie_proto::events::v1::{DeadlineEscalated, ObligationReminded};

use super::call_plans::CallPlans;
use super::context::{call_profile, network_settings, Context, Detail};
use super::duties::{self, OpenDuty};
use super::listing::plan_pair;
use super::reminder_events::reminder_events;
use super::views::{CallRecord, SendLogRecord};
use super::AlertingApp;
use crate::channels::links::AckAction;
use crate::channels::SendError;
use crate::convert::date_to_pb;
use crate::error::AlertingError;
use crate::events;
use crate::storage::{self, MessageRow, NOTICE_CANCELLED, NOTICE_MOVED};

/// Up to this many changed structures are checked one by one against each
/// call; more (a first import) go through the territory index.
const DIRTY_SCAN_LIMIT: usize = 2_000;
/// Messages claimed per transaction (a backlog drains in batches).
const CLAIM_BATCH: usize = 200;
/// Delivery attempts before a message is given up.
pub const MAX_ATTEMPTS: u32 = 12;

/// Hands a message to its channel.
#[async_trait]
pub trait Transport: Send + Sync {
    /// Delivers one message (email or webhook); `unsubscribe_url` goes in an
    /// email's `List-Unsubscribe`, `webhook_secret` signs a webhook.
    async fn deliver(&self, message: &MessageRow, webhook_secret: &str, unsubscribe_url: &str)
        -> Result<(), SendError>;
}

/// What a claim pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DispatchReport {
    /// Reminders and notices claimed (send-log rows).
    pub claimed: usize,
    /// Messages created.
    pub messages: usize,
    /// Of the claimed rows, notices of moved or cancelled calls.
    pub notices: usize,
    /// Escalation events published.
    pub escalations: usize,
    /// Reminders left for tomorrow's digest (a digest already went today).
    pub deferred: usize,
    /// `reminder.sent` events appended (one per message, structure, call
    /// and stage).
    pub reminders_published: usize,
}

/// What a delivery pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    /// Messages delivered.
    pub sent: usize,
    /// Messages refused for now, to retry.
    pub retried: usize,
    /// Messages given up.
    pub failed: usize,
    /// Leased messages given back unsent: half the lease had gone by (they
    /// are due again at once).
    pub released: usize,
    /// Outcomes not recorded: the lease had expired and another replica
    /// had taken the message.
    pub lease_lost: usize,
}

impl DeliveryReport {
    /// Messages leased by the pass.
    pub fn leased(&self) -> usize {
        self.sent + self.retried + self.failed + self.released + self.lease_lost
    }
}

/// What one digest groups: a channel and address, and for webhooks the
/// network (two networks may configure one URL; each gets its own
/// deliveries, signed with its own secret).
fn digest_key(channel: &str, address: &str, network: &str) -> (String, String, String) {
    let group = if channel == "webhook" { network } else { "" };
    (channel.to_owned(), address.to_owned(), group.to_owned())
}

/// The network of a webhook message: recorded with it, or (messages stored
/// before it was) read from its recipient `webhook:<network>:<structure>`.
fn message_network(message: &MessageRow) -> &str {
    if !message.network.is_empty() {
        return &message.network;
    }
    message
        .recipient
        .strip_prefix("webhook:")
        .and_then(|rest| rest.rsplit_once(':'))
        .map_or("", |(network, _)| network)
}

/// One line of a message before rendering: a call's reminder (`alert`), a
/// reporting duty's (`duty`), or a notice.
struct Line {
    row: SendLogRecord,
    alert: Option<PlannedAlert>,
    duty: Option<DutyLine>,
    notice: Option<Notice>,
    structure_name: String,
    /// The call's index in the pass's calls (`None` for duties).
    call: Option<usize>,
}

/// A reporting duty's reminder with what its line shows.
struct DutyLine {
    alert: DutyAlert,
    duty: OpenDuty,
    /// The end of the due date's local day.
    deadline: DateTime<Utc>,
    /// The zone of the due date (the network's reminder policy).
    timezone: chrono_tz::Tz,
}

/// A message being built for one address.
struct Draft {
    channel: String,
    address: String,
    name: String,
    recipient: String,
    person_id: Option<String>,
    network: String,
    lines: Vec<Line>,
}

impl AlertingApp {
    /// Claims every reminder and notice due at `now` into messages (one per address and day).
    ///
    /// # Errors
    /// Storage errors; nothing is claimed by a failed batch.
    pub async fn claim_due(&self, now: DateTime<Utc>) -> Result<DispatchReport, AlertingError> {
        let today = now.with_timezone(&chrono_tz::Europe::Paris).date_naive();
        let territory = self.territory();
        let mut conn = self.db.pool().acquire().await?;
        // Incremental: what fell due since the last pass, plus everything due
        // for what changed since (calls, stages, structures, settings).
        let after = storage::planned_until(&mut conn).await?;
        let since = today.checked_sub_days(Days::new(1)).unwrap_or(today);
        let calls = storage::calls(&mut conn, Some(since)).await?;
        let policy_rows = storage::policies(&mut conn).await?;
        let mut policies = vec![ReminderPolicy::default()];
        policies.extend(policy_rows.iter().map(|p| network_settings(p).policy));
        // Reporting duties (issue 16): planned whenever the pass plans, and
        // the pass plans when one of their reminders fell due since the last
        // one or a grant, an agreement's date or an « envoyé » changed.
        let duty_policies = duties::policies_by_network(&policy_rows);
        // The instants of the last pass that derived the duties, while they
        // still hold (same policies, derived before the last pass, and no
        // grant, agreement date or « envoyé » changed since).
        let cached = self
            .duty_instants
            .lock()
            .ok()
            .and_then(|c| c.clone())
            .filter(|c| c.policies == duty_policies && after.is_some_and(|a| c.at <= a));
        let cache_holds = match &cached {
            Some(c) => !storage::duties_changed_since(&mut conn, c.at).await?,
            None => false,
        };
        let (open_duties, duty_due) = match (after, cached) {
            (None, _) => {
                let (open, _) = self.derive_duties(&mut conn, &duty_policies, now).await?;
                let due = !open.is_empty();
                (Some(open), due)
            }
            (Some(after), cached) => {
                // A duty's line deferred to tomorrow's digest (the address had
                // one today) fell due before the last pass: the first pass of a
                // new local day looks a day back, so it is caught up then.
                let new_day = after.with_timezone(&chrono_tz::Europe::Paris).date_naive() < today;
                let from = if new_day {
                    after - chrono::TimeDelta::days(1)
                } else {
                    after
                };
                match cached.filter(|_| cache_holds) {
                    Some(c) => (None, c.any_between(from, now)),
                    None => {
                        let changed = storage::duties_changed_since(&mut conn, after).await?;
                        let (open, instants) = self.derive_duties(&mut conn, &duty_policies, now).await?;
                        (Some(open), changed || instants.any_between(from, now))
                    }
                }
            }
        };
        let windows: Vec<Vec<Option<Window>>> = calls.iter().map(|c| stage_windows(c, after, now, &policies)).collect();
        let unplanned = storage::unplanned_structures(&mut conn).await?;
        let (changed_networks, changed_structures) = match after {
            Some(after) => storage::settings_changed_since(&mut conn, after).await?,
            None => (Vec::new(), Vec::new()),
        };
        let nothing_due = windows.iter().flatten().all(Option::is_none);
        if nothing_due
            && !duty_due
            && unplanned.is_empty()
            && changed_networks.is_empty()
            && changed_structures.is_empty()
        {
            storage::set_planned_until(&mut conn, now).await?;
            return Ok(DispatchReport::default());
        }
        // The pass plans: duties are planned with it, derived now if the
        // instants of an earlier pass answered above.
        let open_duties = match open_duties {
            Some(open) => open,
            None => self.derive_duties(&mut conn, &duty_policies, now).await?.0,
        };
        // Reporting recipients are read for the duties' reminders and
        // notices, of open duties only.
        let with_duties: HashSet<String> = open_duties
            .iter()
            .map(|d| d.view.obligation.structure_id.clone())
            .collect();
        let ctx = Context::load_with(
            &mut conn,
            today,
            super::context::Scope::All,
            territory,
            Detail::ReportingOf(&with_duties),
            self.fragility(),
        )
        .await?;
        let mut dirty: HashSet<usize> = unplanned.iter().filter_map(|(id, _)| ctx.position(id)).collect();
        dirty.extend(changed_structures.iter().filter_map(|id| ctx.position(id)));
        if !changed_networks.is_empty() {
            dirty.extend(
                (0..ctx.structures.len()).filter(|&i| changed_networks.contains(&ctx.structures[i].profile.network)),
            );
        }
        let alerts = due_alerts(&ctx, &calls, &windows, &dirty, now, territory);
        let mut call_ids: Vec<String> = alerts.iter().map(|(c, _)| calls[*c].call_id.clone()).collect();
        let changed_calls: Vec<String> = calls
            .iter()
            .filter(|c| {
                after.is_none_or(|a| c.updated_at >= a || c.stages.iter().any(|s| s.known_since.is_none_or(|k| k >= a)))
            })
            .map(|c| c.call_id.clone())
            .collect();
        call_ids.extend(changed_calls.iter().cloned());
        let duty_keys: Vec<String> = open_duties.iter().map(|d| d.view.obligation.key.clone()).collect();
        call_ids.extend(duty_keys.iter().cloned());
        call_ids.sort_unstable();
        call_ids.dedup();
        let claimed = storage::claimed_keys(&mut conn, &call_ids).await?;
        let mut lines: Vec<Line> = Vec::new();
        let mut keys = HashSet::new();
        for (c, alert) in alerts {
            let row = log_row(&alert, now, String::new());
            if claimed.contains(&row.key()) || !keys.insert(row.key()) {
                continue;
            }
            let structure_name = ctx
                .position(&alert.structure_id)
                .map(|i| ctx.structures[i].name.clone())
                .unwrap_or_default();
            lines.push(Line {
                row,
                alert: Some(alert),
                duty: None,
                notice: None,
                structure_name,
                call: Some(c),
            });
        }
        for (d, alert) in duties::due_duty_alerts(&ctx, &open_duties, now) {
            let row = duties::duty_log_row(&alert, now);
            if claimed.contains(&row.key()) || !keys.insert(row.key()) {
                continue;
            }
            let Some(i) = ctx.position(&alert.structure_id) else {
                continue;
            };
            let duty = open_duties[d].clone();
            let structure_name = ctx.structures[i].name.clone();
            let policy = &ctx.network(&ctx.structures[i].profile.network).policy;
            let deadline = duties::end_of_day(alert.due, policy);
            let timezone = policy.timezone;
            lines.push(Line {
                row,
                alert: None,
                duty: Some(DutyLine {
                    alert,
                    duty,
                    deadline,
                    timezone,
                }),
                notice: None,
                structure_name,
                call: None,
            });
        }
        lines.extend(notices(
            &ctx,
            &calls,
            &claimed,
            &storage::reminders_sent_for(&mut conn, &changed_calls).await?,
            now,
        ));
        let duty_sent = storage::reminders_sent_for(&mut conn, &duty_keys).await?;
        for (_, row, notice) in duties::duty_notices(&ctx, &open_duties, &claimed, &duty_sent, now) {
            let structure_name = ctx
                .position(&row.structure_id)
                .map(|i| ctx.structures[i].name.clone())
                .unwrap_or_default();
            lines.push(Line {
                row,
                alert: None,
                duty: None,
                notice: Some(notice),
                structure_name,
                call: None,
            });
        }
        let digested_today: HashSet<(String, String, String)> = storage::addresses_with_digest_on(&mut conn, today)
            .await?
            .iter()
            .map(|(channel, address, network)| digest_key(channel, address, network))
            .collect();
        drop(conn);

        let mut drafts: BTreeMap<(String, String, String), Draft> = BTreeMap::new();
        for line in lines {
            let Some((channel, address, name, network)) = address_of(&ctx, &line) else {
                continue;
            };
            let draft = drafts
                .entry(digest_key(&channel, &address, &network))
                .or_insert_with(|| Draft {
                    channel,
                    address,
                    name,
                    recipient: line.row.recipient.clone(),
                    person_id: line.row.person_id.clone(),
                    network,
                    lines: Vec::new(),
                });
            draft.lines.push(line);
        }
        let mut report = DispatchReport::default();
        let drafts: Vec<Draft> = drafts.into_values().collect();
        for batch in drafts.chunks(CLAIM_BATCH) {
            let mut tx = self.db.begin().await?;
            let mut events = 0;
            let mut batch_report = DispatchReport::default();
            // Written together after the loop: a few multi-row statements per
            // batch instead of two per message (a round trip each on PostgreSQL).
            let mut messages: Vec<MessageRow> = Vec::with_capacity(batch.len());
            let mut claims: Vec<SendLogRecord> = Vec::new();
            // The batch's events, in the order they were appended one by one
            // before: one multi-row insert instead of a round trip per event.
            let mut drafts_out: Vec<EventDraft> = Vec::new();
            for draft in batch {
                let mut draft_lines: Vec<&Line> = draft.lines.iter().collect();
                // One digest per address and local day: when today's already
                // went, what can wait until tomorrow waits.
                if digested_today.contains(&digest_key(&draft.channel, &draft.address, &draft.network)) {
                    let tomorrow = now + chrono::TimeDelta::days(1);
                    let before = draft_lines.len();
                    draft_lines.retain(|l| match (&l.alert, &l.duty) {
                        (Some(a), _) => deadline_instant(&a.stage) <= tomorrow,
                        (None, Some(d)) => d.deadline <= tomorrow,
                        (None, None) => false,
                    });
                    batch_report.deferred += before - draft_lines.len();
                }
                if draft_lines.is_empty() {
                    continue;
                }
                let message_id = format!("{}@vigie", uuid::Uuid::now_v7());
                let rows: Vec<SendLogRecord> = draft_lines
                    .iter()
                    .map(|l| SendLogRecord {
                        message_id: message_id.clone(),
                        ..l.row.clone()
                    })
                    .collect();
                messages.push(self.render(draft, &draft_lines, &calls, &message_id, today, now));
                batch_report.messages += 1;
                batch_report.claimed += rows.len();
                claims.extend(rows);
                batch_report.notices += draft_lines.iter().filter(|l| l.notice.is_some()).count();
                // What the federation counts: the reminders of this message,
                // committed with its claim, so a reminder claimed once is
                // counted once (a second claim finds its send-log row).
                for event in reminder_events(draft_lines.iter().filter_map(|l| l.alert.as_ref()), today) {
                    drafts_out.push(events::reminder_sent(&event));
                    batch_report.reminders_published += 1;
                }
                for event in obligation_events(draft_lines.iter().filter_map(|l| l.duty.as_ref()), today) {
                    drafts_out.push(events::obligation_reminded(&event));
                    batch_report.reminders_published += 1;
                }
                for line in &draft_lines {
                    let escalation = match (&line.duty, &line.alert, line.call) {
                        (Some(duty), _, _) => duty_escalation(duty),
                        (None, Some(alert), Some(c)) => call_escalation(alert, &calls[c]),
                        _ => None,
                    };
                    // Recorded once per structure, call (or duty), stage and
                    // reason (`al_escalations`): its event only the first time.
                    if let Some(event) = escalation {
                        if storage::insert_escalation(
                            &mut tx,
                            &event.structure_id,
                            &event.call_id,
                            &event.stage_kind,
                            &event.reason,
                            now,
                        )
                        .await?
                        {
                            drafts_out.push(events::deadline_escalated(&event));
                            events += 1;
                        }
                    }
                }
            }
            // Messages first: each send-log row names its message.
            storage::insert_messages(&mut tx, &messages, now).await?;
            storage::claim(&mut tx, &claims).await?;
            Outbox::new(events::SOURCE)
                .append_many(&mut tx, drafts_out)
                .await
                .map_err(|e| AlertingError::Events(e.to_string()))?;
            tx.commit().await?;
            batch_report.escalations = events;
            report.claimed += batch_report.claimed;
            report.messages += batch_report.messages;
            report.notices += batch_report.notices;
            report.escalations += batch_report.escalations;
            report.deferred += batch_report.deferred;
            report.reminders_published += batch_report.reminders_published;
            if events > 0 || batch_report.reminders_published > 0 {
                self.relay.notify_one();
            }
        }
        // Every batch committed: the next pass starts from here.
        let mut tx = self.db.begin().await?;
        storage::mark_planned(&mut tx, &unplanned).await?;
        storage::set_planned_until(&mut tx, now).await?;
        tx.commit().await?;
        Ok(report)
    }

    fn render(
        &self,
        draft: &Draft,
        lines: &[&Line],
        calls: &[CallRecord],
        message_id: &str,
        today: NaiveDate,
        now: DateTime<Utc>,
    ) -> MessageRow {
        let base = self.settings.public_url.trim_end_matches('/');
        // Several offsets of one stage due together (after an outage) make one line.
        let mut seen = HashSet::new();
        let mut items = Vec::new();
        let mut notices = Vec::new();
        let mut json_items = Vec::new();
        let mut ordered: Vec<&&Line> = lines.iter().collect();
        ordered.sort_by_key(|l| (l.alert.as_ref().map(|a| a.offset_days), l.row.call_id.clone()));
        let mut duty_items: Vec<DutyItem> = Vec::new();
        let mut duty_lines: Vec<(&str, &DutyLine)> = ordered
            .iter()
            .filter_map(|l| Some((l.structure_name.as_str(), l.duty.as_ref()?)))
            .collect();
        // Several reminders of one duty due together (after an outage, or
        // J-14 on the draft date) make one line: the draft date's when it is
        // among them, the nearest offset otherwise.
        duty_lines.sort_by_key(|(_, d)| {
            (
                d.alert.structure_id.clone(),
                d.alert.key.clone(),
                d.alert.step != Step::Draft,
                d.alert.offset_days,
            )
        });
        let mut duty_seen = HashSet::new();
        for (structure_name, d) in duty_lines {
            if !duty_seen.insert((d.alert.structure_id.clone(), d.alert.key.clone())) {
                continue;
            }
            let item = DutyItem {
                structure_name: structure_name.to_owned(),
                duty: d.duty.duty_fr(),
                funder: d.duty.view.funder.clone(),
                title: d.duty.view.title.clone(),
                due: d.alert.due,
                draft: d.alert.draft,
                draft_reminder: d.alert.step == Step::Draft,
                days_left: (d.alert.due - today).num_days(),
                late: d.alert.late,
                escalation: d.alert.escalation.map(|r| r.code().to_owned()),
                sent_link: format!(
                    "{base}/ack/{}",
                    self.links.duty_sent_token(&d.alert.structure_id, &d.alert.key)
                ),
            };
            json_items.push(serde_json::json!({
                "kind": "obligation",
                "structure_id": d.alert.structure_id,
                "obligation_key": d.alert.key,
                "rule": d.alert.rule.code(),
                "duty": item.duty,
                "funder": item.funder,
                "title": item.title,
                "due": d.alert.due.to_string(),
                "draft": d.alert.draft.to_string(),
                "draft_reminder": item.draft_reminder,
                "offset_days": d.alert.offset_days,
                "late": d.alert.late,
                "escalation": d.alert.escalation.map(|r| r.code()),
            }));
            duty_items.push(item);
        }
        for line in ordered {
            if line.duty.is_some() {
                continue;
            }
            if let Some(Notice::DutyMoved { from, to, .. }) = &line.notice {
                json_items.push(serde_json::json!({
                    "kind": "obligation_moved",
                    "structure_id": line.row.structure_id,
                    "obligation_key": line.row.call_id,
                    "from": from.to_string(),
                    "to": to.to_string(),
                }));
                if let Some(notice) = &line.notice {
                    notices.push(notice.clone());
                }
                continue;
            }
            let Some(c) = line.call else { continue };
            let call = &calls[c];
            if let Some(notice) = &line.notice {
                notices.push(notice.clone());
                json_items.push(serde_json::json!({
                    "kind": if line.row.offset_days == NOTICE_CANCELLED { "cancelled" } else { "moved" },
                    "structure_id": line.row.structure_id,
                    "call_id": call.call_id,
                    "title": call.title,
                    "stage": line.row.stage_kind,
                    "url": call.url(),
                }));
                continue;
            }
            let Some(alert) = &line.alert else { continue };
            if !seen.insert((alert.structure_id.clone(), alert.call_id.clone(), alert.stage.kind)) {
                continue;
            }
            let link = |action: AckAction| {
                format!(
                    "{base}/ack/{}",
                    self.links.ack_token(&alert.structure_id, &alert.call_id, action)
                )
            };
            items.push(DigestItem {
                structure_name: line.structure_name.clone(),
                call_title: call.title.clone(),
                stage_kind: alert.stage.kind,
                deadline_date: alert.stage.date,
                deadline_time: alert.stage.time,
                timezone: alert.stage.timezone,
                days_left: (alert.stage.date - today).num_days(),
                late: alert.late,
                url: call.url().to_owned(),
                escalation: alert.escalation.map(|r| r.code().to_owned()),
                ack_links: AckLinks {
                    submitted: link(AckAction::Submitted),
                    in_progress: link(AckAction::InProgress),
                    not_concerned: link(AckAction::NotConcerned),
                },
            });
            json_items.push(serde_json::json!({
                "kind": "reminder",
                "structure_id": alert.structure_id,
                "call_id": alert.call_id,
                "title": call.title,
                "stage": alert.stage.kind.code(),
                "deadline": alert.stage.date.to_string(),
                "time": alert.stage.time.map(|t| t.format("%H:%M").to_string()),
                "timezone": alert.stage.timezone.name(),
                "offset_days": alert.offset_days,
                "late": alert.late,
                "escalation": alert.escalation.map(|r| r.code()),
                "url": call.url(),
            }));
        }
        let (subject, text, html) = if draft.channel == "webhook" {
            let body = serde_json::json!({
                "type": "vigie.alerting.reminders",
                "delivery_id": message_id,
                "network": draft.network,
                "date": today.to_string(),
                "items": json_items,
            });
            ("vigie.alerting.reminders".to_owned(), body.to_string(), String::new())
        } else {
            let rendered = render_digest(&Digest {
                recipient_name: draft.name.clone(),
                local_date: today,
                items,
                duties: duty_items,
                notices,
                unsubscribe_url: format!(
                    "{base}/unsubscribe/{}",
                    self.links.unsubscribe_token(unsubscribe_identity(&draft.recipient))
                ),
            });
            (rendered.subject, rendered.text, rendered.html)
        };
        MessageRow {
            message_id: message_id.to_owned(),
            recipient: draft.recipient.clone(),
            person_id: draft.person_id.clone(),
            channel: draft.channel.clone(),
            address: draft.address.clone(),
            network: draft.network.clone(),
            local_date: today,
            subject,
            body_text: text,
            body_html: html,
            status: storage::PENDING.to_owned(),
            attempts: 0,
            next_attempt_at: now,
            last_error: String::new(),
            sent_at: None,
        }
    }

    /// Leases up to `limit` pending messages due at `now` and delivers them
    /// through `transport`, recording each outcome while the lease is held.
    /// Sending stops when half the lease has gone by (the rest is given
    /// back): a send started then has the other half to finish before
    /// another replica may take the message.
    ///
    /// # Errors
    /// Storage errors (a message whose delivery could not be recorded stays
    /// pending, leased until its lease expires).
    pub async fn deliver_due(
        &self,
        now: DateTime<Utc>,
        transport: &dyn Transport,
        limit: u32,
    ) -> Result<DeliveryReport, AlertingError> {
        let lease = chrono::TimeDelta::from_std(self.lease).unwrap_or(chrono::TimeDelta::minutes(5));
        let owner: &str = &self.lease_owner;
        let mut conn = self.db.pool().acquire().await?;
        let until = now + lease;
        let messages = storage::lease_due_messages(
            &mut conn,
            self.db.backend(),
            &storage::Lease { owner, until },
            now,
            limit,
        )
        .await?;
        // Secrets by network: two networks may share a URL, never a secret.
        let secrets: HashMap<String, String> = storage::policies(&mut conn)
            .await?
            .into_iter()
            .map(|p| (p.network_id, p.webhook_secret))
            .collect();
        // No connection held while sending: a slow server must not hold the
        // database (SQLite has one connection for everything).
        drop(conn);
        let stop_at = now + lease / 2;
        let mut report = DeliveryReport::default();
        for (i, message) in messages.iter().enumerate() {
            if self.now() >= stop_at {
                let rest: Vec<String> = messages[i..].iter().map(|m| m.message_id.clone()).collect();
                storage::release_leases(&mut *self.db.pool().acquire().await?, owner, &rest).await?;
                tracing::info!(
                    released = rest.len(),
                    "half the lease gone by, unsent messages given back"
                );
                report.released += rest.len();
                break;
            }
            let secret = secrets.get(message_network(message)).map(String::as_str).unwrap_or("");
            let unsubscribe = format!(
                "{}/unsubscribe/{}",
                self.settings.public_url.trim_end_matches('/'),
                self.links.unsubscribe_token(unsubscribe_identity(&message.recipient))
            );
            let outcome = transport.deliver(message, secret, &unsubscribe).await;
            let (sent_before, failed_before) = (report.sent, report.failed);
            let mut conn = self.db.pool().acquire().await?;
            let (recorded, counter) = match outcome {
                Ok(()) => (
                    storage::mark_sent(&mut conn, &message.message_id, owner, self.now()).await?,
                    &mut report.sent,
                ),
                Err(SendError::Transient(error)) if message.attempts + 1 < MAX_ATTEMPTS => {
                    let next = now + crate::channels::webhook::backoff(message.attempts + 1);
                    tracing::warn!(message_id = %message.message_id, %error, "delivery refused for now, will retry");
                    (
                        storage::mark_failed_attempt(&mut conn, &message.message_id, owner, &error, Some(next)).await?,
                        &mut report.retried,
                    )
                }
                Err(SendError::Transient(error) | SendError::Permanent(error)) => {
                    tracing::warn!(message_id = %message.message_id, %error, "delivery failed for good");
                    (
                        storage::mark_failed_attempt(&mut conn, &message.message_id, owner, &error, None).await?,
                        &mut report.failed,
                    )
                }
            };
            if recorded {
                *counter += 1;
                self.count_delivery(&mut conn, message, &report, sent_before, failed_before)
                    .await;
            } else {
                // Our lease expired and another replica took the message: its
                // outcome is that replica's to record (a copy it sends carries
                // the same Message-ID).
                tracing::warn!(
                    message_id = %message.message_id,
                    lease_owner = owner,
                    "delivery outcome refused: the lease expired and was taken by another replica"
                );
                report.lease_lost += 1;
            }
        }
        Ok(report)
    }
}

impl AlertingApp {
    /// Counts a recorded outcome in the delivery metrics: sent (and late?)
    /// or given up. Best effort: a failed lateness lookup only loses the
    /// `late` count.
    async fn count_delivery(
        &self,
        conn: &mut sqlx::AnyConnection,
        message: &MessageRow,
        report: &DeliveryReport,
        sent_before: usize,
        failed_before: usize,
    ) {
        if report.sent > sent_before {
            let late = match storage::message_lateness(conn, &message.message_id).await {
                Ok(Some((created_at, claimed_late))) => super::metrics::sent_late(created_at, claimed_late, self.now()),
                Ok(None) => false,
                Err(error) => {
                    tracing::debug!(%error, "lateness of a sent message not read");
                    false
                }
            };
            self.metrics.sent(&message.channel, late);
        } else if report.failed > failed_before {
            self.metrics.failed(&message.channel);
        }
    }
}

/// The window of each active stage of a call at `now` after the last pass
/// (`after`): everything due when the call or the stage changed since (or on
/// the first pass), what fell due since otherwise, `None` when no policy has a
/// reminder of it in between.
fn stage_windows(
    call: &CallRecord,
    after: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    policies: &[ReminderPolicy],
) -> Vec<Option<Window>> {
    call.stages
        .iter()
        .map(|stage| {
            if call.cancelled || stage.withdrawn {
                return None;
            }
            let Some(after) = after else {
                return Some(Window::DueAt(now));
            };
            // `>=`: a change committed at the instant of the last pass may have been read after it.
            if call.updated_at >= after || stage.known_since.is_none_or(|k| k >= after) {
                return Some(Window::DueAt(now));
            }
            policies
                .iter()
                .any(|p| {
                    planned_reminders(&stage.stage, p)
                        .iter()
                        .any(|r| r.due_at > after && r.due_at <= now)
                })
                .then_some(Window::DueSince(after, now))
        })
        .collect()
}

/// The reminders to claim: for every stage with a window, its matching
/// structures (all that is due for the `dirty` ones, whose snapshot or
/// settings changed); and for the dirty structures, everything due of every
/// other call they match.
fn due_alerts(
    ctx: &Context,
    calls: &[CallRecord],
    windows: &[Vec<Option<Window>>],
    dirty: &HashSet<usize>,
    now: DateTime<Utc>,
    territory: &vigie_alerting_domain::territory::Territory,
) -> Vec<(usize, PlannedAlert)> {
    let mut out = Vec::new();
    for (c, call) in calls.iter().enumerate() {
        if windows[c].iter().all(Option::is_none) {
            continue;
        }
        let mut plans = CallPlans::new(call);
        for i in ctx.matching(call, territory) {
            let everything = dirty.contains(&i);
            plan_pair(ctx, c, &mut plans, i, &mut out, |s| {
                if everything && !call.stages[s].withdrawn && !call.cancelled {
                    Some(Window::DueAt(now))
                } else {
                    windows[c][s]
                }
            });
        }
    }
    if !dirty.is_empty() {
        // Calls with a window were planned above for every structure they
        // match, dirty ones included: only the others remain.
        for (c, call) in calls.iter().enumerate() {
            if call.cancelled || windows[c].iter().any(Option::is_some) {
                continue;
            }
            // Few dirty structures: check each; many (a first import): the index.
            let structures: Vec<usize> = if dirty.len() <= DIRTY_SCAN_LIMIT {
                let profile = call_profile(call);
                dirty
                    .iter()
                    .copied()
                    .filter(|&i| ctx.matches_profile(call, &profile, i, territory))
                    .collect()
            } else {
                ctx.matching(call, territory)
                    .into_iter()
                    .filter(|i| dirty.contains(i))
                    .collect()
            };
            let mut plans = CallPlans::new(call);
            for i in structures {
                plan_pair(ctx, c, &mut plans, i, &mut out, |s| {
                    (!call.stages[s].withdrawn).then_some(Window::DueAt(now))
                });
            }
        }
    }
    out
}

fn log_row(alert: &PlannedAlert, now: DateTime<Utc>, message_id: String) -> SendLogRecord {
    SendLogRecord {
        recipient: alert.recipient.id.clone(),
        call_id: alert.call_id.clone(),
        stage_kind: alert.stage.kind.code().to_owned(),
        revision: alert.revision,
        offset_days: i64::from(alert.offset_days),
        channel: alert.recipient.channel.to_owned(),
        person_id: alert.recipient.person_id.clone(),
        structure_id: alert.structure_id.clone(),
        due_at: alert.due_at,
        late: alert.late,
        escalation: alert.escalation.map(|r| r.code().to_owned()).unwrap_or_default(),
        message_id,
        claimed_at: now,
    }
}

/// Notices to whoever received a reminder of a stage that moved since, or of a call since cancelled.
fn notices(
    ctx: &Context,
    calls: &[CallRecord],
    claimed: &HashSet<super::views::SendKeyTuple>,
    sent: &[SendLogRecord],
    now: DateTime<Utc>,
) -> Vec<Line> {
    let by_id: HashMap<&str, usize> = calls.iter().enumerate().map(|(i, c)| (c.call_id.as_str(), i)).collect();
    // The last reminder each recipient had of each stage: it tells the date they were told.
    let mut last: HashMap<(&str, &str, &str), &SendLogRecord> = HashMap::new();
    for row in sent {
        let entry = last
            .entry((row.recipient.as_str(), row.call_id.as_str(), row.stage_kind.as_str()))
            .or_insert(row);
        if (row.revision, std::cmp::Reverse(row.offset_days)) > (entry.revision, std::cmp::Reverse(entry.offset_days)) {
            *entry = row;
        }
    }
    let mut out: Vec<Line> = Vec::new();
    let mut planned = HashSet::new();
    for row in sent {
        let Some(&c) = by_id.get(row.call_id.as_str()) else {
            continue;
        };
        let call = &calls[c];
        let Some(stage) = call.stages.iter().find(|s| s.stage.kind.code() == row.stage_kind) else {
            continue;
        };
        let (offset, notice, revision) = if call.cancelled {
            (NOTICE_CANCELLED, None, stage.revision)
        } else if stage.revision > row.revision && !stage.withdrawn {
            (NOTICE_MOVED, Some(stage), stage.revision)
        } else {
            continue;
        };
        let key = (
            row.recipient.clone(),
            row.call_id.clone(),
            row.stage_kind.clone(),
            revision,
            offset,
            row.channel.clone(),
        );
        if claimed.contains(&key) || !planned.insert(key) {
            continue;
        }
        if ctx.acknowledged(&row.structure_id, &row.call_id).is_some() || ctx.unsubscribed(&row.recipient) {
            continue;
        }
        let structure_name = ctx
            .position(&row.structure_id)
            .map(|i| ctx.structures[i].name.clone())
            .unwrap_or_default();
        let notice = match notice {
            Some(stage) => {
                let told = last
                    .get(&(row.recipient.as_str(), row.call_id.as_str(), row.stage_kind.as_str()))
                    .copied()
                    .unwrap_or(row);
                let from = told_date(told);
                Notice::Moved {
                    structure_name: structure_name.clone(),
                    call_title: call.title.clone(),
                    kind: stage.stage.kind,
                    from,
                    to: stage.stage.date,
                    url: call.url().to_owned(),
                }
            }
            None => Notice::Cancelled {
                structure_name: structure_name.clone(),
                call_title: call.title.clone(),
                url: call.url().to_owned(),
            },
        };
        out.push(Line {
            row: SendLogRecord {
                revision,
                offset_days: offset,
                due_at: now,
                late: false,
                escalation: String::new(),
                message_id: String::new(),
                claimed_at: now,
                ..row.clone()
            },
            alert: None,
            duty: None,
            notice: Some(notice),
            structure_name,
            call: Some(c),
        });
    }
    out
}

/// The deadline a reminder told of: its due instant is J-n before it.
fn told_date(row: &SendLogRecord) -> NaiveDate {
    let local = row.due_at.with_timezone(&chrono_tz::Europe::Paris).date_naive();
    local
        .checked_add_days(Days::new(u64::try_from(row.offset_days).unwrap_or(0)))
        .unwrap_or(local)
}

/// Channel, address, greeting name and network of a line's recipient, as known now.
fn address_of(ctx: &Context, line: &Line) -> Option<(String, String, String, String)> {
    if let Some(duty) = &line.duty {
        let network = ctx
            .position(&duty.alert.structure_id)
            .map(|i| ctx.structures[i].profile.network.clone())
            .unwrap_or_default();
        let recipient = &duty.alert.recipient;
        return Some((
            recipient.channel.to_owned(),
            recipient.address.clone(),
            recipient.name.clone(),
            network,
        ));
    }
    if let Some(alert) = &line.alert {
        let network = ctx
            .position(&alert.structure_id)
            .map(|i| ctx.structures[i].profile.network.clone())
            .unwrap_or_default();
        return Some((
            alert.recipient.channel.to_owned(),
            alert.recipient.address.clone(),
            alert.recipient.name.clone(),
            network,
        ));
    }
    let i = ctx.position(&line.row.structure_id)?;
    let structure = &ctx.structures[i];
    let network = structure.profile.network.clone();
    let contacts = &ctx.network(&network).contacts;
    let recipient = &line.row.recipient;
    if recipient.starts_with("referent:") {
        return (!contacts.referent_email.is_empty()).then(|| {
            (
                "email".to_owned(),
                contacts.referent_email.clone(),
                contacts.referent_name.clone(),
                network.clone(),
            )
        });
    }
    if recipient.starts_with("webhook:") {
        return (!contacts.webhook_url.is_empty()).then(|| {
            (
                "webhook".to_owned(),
                contacts.webhook_url.clone(),
                network.clone(),
                network.clone(),
            )
        });
    }
    // People reminded of calls, or of reporting duties (a notice of a moved duty).
    structure
        .recipients
        .people
        .iter()
        .chain(&structure.reporting().people)
        .find(|r| &r.id == recipient)
        .map(|r| ("email".to_owned(), r.address.clone(), r.name.clone(), network.clone()))
}

/// One `ObligationReminded` per structure, duty and step among the duties'
/// reminders of one message claimed on `sent_on` (the line the digest
/// shows: the nearest offset, the structure's own recipient kind first);
/// none for webhooks, as for calls (`reminder_events`).
fn obligation_events<'a>(lines: impl IntoIterator<Item = &'a DutyLine>, sent_on: NaiveDate) -> Vec<ObligationReminded> {
    let mut by_line: BTreeMap<(&str, &str, Step), (u32, RecipientKind, &DutyLine)> = BTreeMap::new();
    for line in lines {
        let alert = &line.alert;
        if alert.recipient.kind == RecipientKind::Webhook {
            continue;
        }
        let entry = by_line
            .entry((alert.structure_id.as_str(), alert.key.as_str(), alert.step))
            .or_insert((alert.offset_days, alert.recipient.kind, line));
        entry.0 = entry.0.min(alert.offset_days);
        entry.1 = entry.1.min(alert.recipient.kind);
    }
    by_line
        .into_values()
        .map(|(days_before, kind, line)| ObligationReminded {
            structure_id: line.alert.structure_id.clone(),
            obligation_key: line.alert.key.clone(),
            rule: line.alert.rule.code().to_owned(),
            due: Some(date_to_pb(line.alert.due)),
            draft: Some(date_to_pb(line.alert.draft)),
            days_before,
            recipient_kind: match kind {
                RecipientKind::Holder => "holder",
                RecipientKind::Director => "director",
                _ => "referent",
            }
            .to_owned(),
            sent_on: Some(date_to_pb(sent_on)),
            draft_reminder: line.alert.step == Step::Draft,
        })
        .collect()
}

/// The escalation a call's reminder to the referent announces (`None` for
/// any other line).
fn call_escalation(alert: &PlannedAlert, call: &CallRecord) -> Option<DeadlineEscalated> {
    let (Some(reason), RecipientKind::Referent) = (alert.escalation, alert.recipient.kind) else {
        return None;
    };
    Some(DeadlineEscalated {
        structure_id: alert.structure_id.clone(),
        call_id: call.call_id.clone(),
        call_title: call.title.clone(),
        stage_kind: alert.stage.kind.code().to_owned(),
        deadline: Some(date_to_pb(alert.stage.date)),
        time: alert.stage.time.map(|t| t.format("%H:%M").to_string()),
        timezone: alert.stage.timezone.name().to_owned(),
        function: vigie_alerting_domain::plan::FUNDING_FUNCTION.to_owned(),
        reason: reason.code().to_owned(),
        url: call.url().to_owned(),
    })
}

/// The escalation a duty's reminder to the referent announces: the duty in
/// place of a call (its obligation key, stage `report`, `funder_reporting`).
fn duty_escalation(line: &DutyLine) -> Option<DeadlineEscalated> {
    let alert = &line.alert;
    let (Some(reason), RecipientKind::Referent) = (alert.escalation, alert.recipient.kind) else {
        return None;
    };
    Some(DeadlineEscalated {
        structure_id: alert.structure_id.clone(),
        call_id: alert.key.clone(),
        call_title: line.duty.heading(),
        stage_kind: STEP_REPORT.to_owned(),
        deadline: Some(date_to_pb(alert.due)),
        time: None,
        timezone: line.timezone.name().to_owned(),
        function: REPORTING_FUNCTION.to_owned(),
        reason: reason.code().to_owned(),
        url: String::new(),
    })
}
