//! The preview of the reminders that would go out, in bounded memory.
//!
//! A week of a whole instance is millions of reminders (5 M for 200,000
//! structures and 10,000 calls); each `PlannedAlert` with its call's title is
//! about 1 KiB, so planning them all before answering took 5 GiB, and even a
//! 20-byte entry per reminder of the week is 100 MB. The answer is ordered by
//! due time first, so it is planned **one local day at a time**: a day's
//! reminders are planned as 20-byte [`Entry`]s (their due time and the
//! indices that find them again), sorted in the order of [`plan_calls`] (due
//! time, recipient, call, offset, then planning order), and
//! [`PreviewPlan::next_chunk`] plans again only the reminders of the next
//! chunk: the caller holds one chunk of full alerts at a time, the plan one
//! day of entries. A day only looks at the calls with a stage whose reminders
//! can fall on it (J-n of some policy, a day either side for time zones).
//!
//! [`plan_calls`]: super::listing::plan_calls

use std::cmp::Ordering;

use chrono::{DateTime, Days, NaiveDate, Utc};
use vigie_alerting_domain::plan::{plan_stage, PlannedAlert, RecipientKind, Window};
use vigie_alerting_domain::reminders::resolve_local;
use vigie_alerting_domain::territory::Territory;
use vigie_platform::words;

use super::call_plans::{stage_ref, CallPlans};
use super::context::Context;
use super::listing::PreviewAlert;
use super::views::CallRecord;
use crate::error::AlertingError;

/// [`Entry::recipient`] of the network referent.
const REFERENT: u16 = u16::MAX - 1;
/// [`Entry::recipient`] of the network webhook.
const WEBHOOK: u16 = u16::MAX;

/// One planned reminder, without its strings.
#[derive(Debug, Clone, Copy)]
struct Entry {
    /// Seconds from the day's start to the due time.
    due: u32,
    /// Index of the call in [`Days::calls`].
    call: u32,
    /// Index of the structure in the context.
    structure: u32,
    /// Index of the stage in the call.
    stage: u16,
    /// Index of the alert in `plan_stage`'s answer for that stage and day.
    alert: u16,
    /// Index of the person in the structure's recipients, or [`REFERENT`] / [`WEBHOOK`].
    recipient: u16,
    /// Days before the stage.
    offset: u16,
}

/// The start of a local day in Europe/Paris, the zone of the preview's dates.
pub(super) fn day_start(day: NaiveDate) -> DateTime<Utc> {
    resolve_local(chrono_tz::Europe::Paris, day.and_time(chrono::NaiveTime::MIN))
}

/// Every reminder of a window, planned a day at a time and given chunk by chunk.
pub struct PreviewPlan {
    /// Taken while a day is planned on a blocking thread (`None` after a
    /// planning thread panicked: the plan then ends).
    days: Option<Box<DayPlanner>>,
}

/// The state a day's planning needs and leaves.
struct DayPlanner {
    ctx: Context,
    calls: Vec<CallRecord>,
    territory: &'static Territory,
    /// Per call, the local dates its reminders can fall on under any policy
    /// of the instance (stage date minus an offset), sorted.
    call_days: Vec<Vec<NaiveDate>>,
    /// The next day to plan, and the last.
    next_day: NaiveDate,
    last_day: NaiveDate,
    /// The day whose entries are held, as a window.
    start: DateTime<Utc>,
    window: Window,
    entries: Vec<Entry>,
    next: usize,
    /// The last stage planned again, with its alerts (consecutive entries often share it).
    last: Option<((u32, u32, u16), Vec<PlannedAlert>)>,
}

fn too_large() -> AlertingError {
    AlertingError::Invalid(words!(
        "aperçu trop grand : réduisez la période ou choisissez une structure",
        "preview too large: shorten the period or choose a structure"
    ))
}

impl PreviewPlan {
    /// The plan of the reminders due on the local days `from` to `to`
    /// (Europe/Paris) of every structure of `ctx` for `calls`, except
    /// acknowledged calls and unsubscribed recipients. Nothing is planned yet.
    ///
    /// # Errors
    /// [`AlertingError::Invalid`] when the instance exceeds the compact
    /// indices (4 billion calls or structures).
    pub fn new(
        ctx: Context,
        calls: Vec<CallRecord>,
        from: NaiveDate,
        to: NaiveDate,
        territory: &'static Territory,
    ) -> Result<PreviewPlan, AlertingError> {
        if u32::try_from(calls.len()).is_err() || u32::try_from(ctx.structures.len()).is_err() {
            return Err(too_large());
        }
        let mut offsets: Vec<u32> = ctx.policies().flat_map(|p| p.offsets_days.iter().copied()).collect();
        offsets.sort_unstable();
        offsets.dedup();
        let call_days = calls
            .iter()
            .map(|call| {
                let mut days: Vec<NaiveDate> = call
                    .stages
                    .iter()
                    .filter(|s| !s.withdrawn && !call.cancelled)
                    .flat_map(|s| {
                        offsets
                            .iter()
                            .filter_map(|&o| s.stage.date.checked_sub_days(Days::new(u64::from(o))))
                    })
                    .collect();
                days.sort_unstable();
                days.dedup();
                days
            })
            .collect();
        let start = day_start(from);
        Ok(PreviewPlan {
            days: Some(Box::new(DayPlanner {
                ctx,
                calls,
                territory,
                call_days,
                next_day: from,
                last_day: to,
                start,
                window: Window::Between(start, start),
                entries: Vec::new(),
                next: 0,
                last: None,
            })),
        })
    }

    /// Whether every reminder was given.
    #[must_use]
    pub fn is_done(&self) -> bool {
        self.days
            .as_ref()
            .is_none_or(|d| d.next == d.entries.len() && d.next_day > d.last_day)
    }

    /// The next `max` reminders (fewer at the end of a day, none once all were
    /// given); a day is planned, on a blocking thread, when the previous one
    /// was given.
    ///
    /// # Errors
    /// [`AlertingError::Invalid`] when planning failed (a day of more than
    /// 65,000 stages or people per structure, or a planning thread that panicked).
    pub async fn next_chunk(&mut self, max: usize) -> Result<Vec<PreviewAlert>, AlertingError> {
        while !self.is_done() && self.days.as_ref().is_some_and(|d| d.next == d.entries.len()) {
            let Some(mut days) = self.days.take() else { break };
            self.days = Some(
                tokio::task::spawn_blocking(move || days.plan_next_day().map(|()| days))
                    .await
                    .map_err(|e| {
                        AlertingError::Invalid(words!("aperçu interrompu : {e}", "preview interrupted: {e}"))
                    })??,
            );
        }
        Ok(self.days.as_mut().map(|d| d.chunk(max)).unwrap_or_default())
    }

    /// Every reminder not given yet (a unary answer: all in memory).
    ///
    /// # Errors
    /// As [`PreviewPlan::next_chunk`].
    pub async fn rest(&mut self) -> Result<Vec<PreviewAlert>, AlertingError> {
        let mut out = Vec::new();
        while !self.is_done() {
            out.append(&mut self.next_chunk(usize::MAX).await?);
        }
        Ok(out)
    }
}

impl DayPlanner {
    /// Plans the entries of the next day (the previous ones were all given).
    fn plan_next_day(&mut self) -> Result<(), AlertingError> {
        let day = self.next_day;
        let following = day.checked_add_days(Days::new(1)).ok_or_else(too_large)?;
        self.next_day = following;
        self.start = day_start(day);
        self.window = Window::Between(self.start, day_start(following));
        self.entries = Vec::new();
        self.next = 0;
        self.last = None;
        let near = |d: &NaiveDate| d.checked_add_days(Days::new(1)).is_some_and(|d| d >= day) && *d <= following;
        let ctx = &self.ctx;
        for (c, call) in self.calls.iter().enumerate() {
            if !self.call_days[c].iter().any(near) {
                continue;
            }
            let mut plans = CallPlans::new(call);
            for i in ctx.matching(call, self.territory) {
                let structure = &ctx.structures[i];
                if ctx
                    .acknowledged(&structure.profile.structure_id, &call.call_id)
                    .is_some()
                {
                    continue;
                }
                let network = ctx.network(&structure.profile.network);
                for (s, plan) in plans.stages(&network.policy).iter().enumerate() {
                    if call.stages[s].withdrawn {
                        continue;
                    }
                    for (j, alert) in plan
                        .alerts(&structure.recipients, &network.contacts, self.window)
                        .iter()
                        .enumerate()
                    {
                        if ctx.unsubscribed(&alert.recipient.id) {
                            continue;
                        }
                        let recipient = match alert.recipient.kind {
                            RecipientKind::Referent => REFERENT,
                            RecipientKind::Webhook => WEBHOOK,
                            _ => structure
                                .recipients
                                .people
                                .iter()
                                .position(|p| p.id == alert.recipient.id)
                                .and_then(|k| u16::try_from(k).ok())
                                .filter(|&k| k < REFERENT)
                                .ok_or_else(too_large)?,
                        };
                        // Both fit: checked in `PreviewPlan::new`; a day is 90,000 seconds at most.
                        let entry = Entry {
                            due: u32::try_from((alert.due_at - self.start).num_seconds()).map_err(|_| too_large())?,
                            call: u32::try_from(c).map_err(|_| too_large())?,
                            structure: u32::try_from(i).map_err(|_| too_large())?,
                            stage: u16::try_from(s).map_err(|_| too_large())?,
                            alert: u16::try_from(j).map_err(|_| too_large())?,
                            recipient,
                            offset: u16::try_from(alert.offset_days).map_err(|_| too_large())?,
                        };
                        debug_assert_eq!(
                            recipient_parts(ctx, &entry).concat(),
                            alert.recipient.id,
                            "recipient ids rebuilt as plan_stage builds them"
                        );
                        self.entries.push(entry);
                    }
                }
            }
        }
        self.entries.shrink_to_fit();
        let (ctx, calls) = (&self.ctx, &self.calls);
        self.entries.sort_unstable_by(|a, b| compare(ctx, calls, a, b));
        Ok(())
    }

    /// The next `max` entries of the day, as full alerts.
    fn chunk(&mut self, max: usize) -> Vec<PreviewAlert> {
        let end = self.entries.len().min(self.next.saturating_add(max.max(1)));
        let mut out = Vec::with_capacity(end - self.next);
        for n in self.next..end {
            let entry = self.entries[n];
            if let Some(alert) = self.alert(&entry) {
                out.push(PreviewAlert {
                    call_title: self.calls[entry.call as usize].title.clone(),
                    alert,
                });
            }
        }
        self.next = end;
        out
    }

    /// The full alert of an entry, planned again (the same inputs give the same alert).
    fn alert(&mut self, entry: &Entry) -> Option<PlannedAlert> {
        let key = (entry.call, entry.structure, entry.stage);
        if self.last.as_ref().is_none_or(|(k, _)| *k != key) {
            let call = &self.calls[entry.call as usize];
            let structure = &self.ctx.structures[entry.structure as usize];
            let network = self.ctx.network(&structure.profile.network);
            let alerts = plan_stage(
                &stage_ref(call, usize::from(entry.stage)),
                &structure.recipients,
                &network.contacts,
                &network.policy,
                self.window,
            );
            self.last = Some((key, alerts));
        }
        let alert = self
            .last
            .as_ref()
            .and_then(|(_, alerts)| alerts.get(usize::from(entry.alert)))
            .cloned();
        debug_assert!(alert
            .as_ref()
            .is_some_and(|a| (a.due_at - self.start).num_seconds() == i64::from(entry.due)));
        alert
    }
}

/// The recipient's id in pieces, as `plan_stage` builds it, without allocating.
fn recipient_parts<'a>(ctx: &'a Context, entry: &Entry) -> [&'a str; 5] {
    let recipients = &ctx.structures[entry.structure as usize].recipients;
    let special = |prefix| {
        [
            prefix,
            recipients.network.as_str(),
            ":",
            recipients.structure_id.as_str(),
            "",
        ]
    };
    match entry.recipient {
        REFERENT => special("referent:"),
        WEBHOOK => special("webhook:"),
        k => [recipients.people[usize::from(k)].id.as_str(), "", "", "", ""],
    }
}

/// The order of [`super::listing::plan_calls`]: due time, recipient id, call id,
/// offset, then planning order.
fn compare(ctx: &Context, calls: &[CallRecord], a: &Entry, b: &Entry) -> Ordering {
    a.due
        .cmp(&b.due)
        .then_with(|| {
            let (ra, rb) = (recipient_parts(ctx, a), recipient_parts(ctx, b));
            if a.recipient < REFERENT && b.recipient < REFERENT {
                ra[0].cmp(rb[0])
            } else {
                ra.into_iter()
                    .flat_map(str::bytes)
                    .cmp(rb.into_iter().flat_map(str::bytes))
            }
        })
        .then_with(|| calls[a.call as usize].call_id.cmp(&calls[b.call as usize].call_id))
        .then_with(|| a.offset.cmp(&b.offset))
        // Planning order (what the stable sort of `plan_calls` keeps): the
        // same call, so structures ascending (`MatchIndex::candidates` sorts
        // them), then stages, then `plan_stage`'s order.
        .then_with(|| (a.structure, a.stage, a.alert).cmp(&(b.structure, b.stage, b.alert)))
}

#[cfg(test)]
mod tests {
    use super::Entry;

    #[test]
    fn an_entry_stays_twenty_bytes() {
        // A day of a week of 5 M reminders: 15 MB of entries, the bulk of the plan.
        assert_eq!(std::mem::size_of::<Entry>(), 20);
    }
}
