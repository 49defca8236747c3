//! The preview of the reminders that would go out, in bounded memory.
//!
//! A week of a whole instance is millions of reminders (5 M for 200,000
//! structures and 10,000 calls); each `PlannedAlert` with its call's title is
//! about 1 KiB, so planning them all before answering took 5 GiB. Here the
//! first pass plans every (call, structure, stage) once and keeps, per
//! reminder, a 20-byte [`Entry`]: its due time and the indices that find it
//! again. The entries are sorted in the order of [`plan_calls`] (due time,
//! recipient, call, offset, then planning order), and [`PreviewPlan::next_chunk`]
//! plans again only the reminders of the next chunk: the caller holds one
//! chunk of full alerts at a time.
//!
//! [`plan_calls`]: super::listing::plan_calls

use std::cmp::Ordering;

use chrono::{DateTime, Utc};
use vigie_alerting_domain::plan::{plan_stage, PlannedAlert, RecipientKind, StageRef, Window};

use super::context::Context;
use super::listing::PreviewAlert;
use crate::error::AlertingError;
use crate::storage::StoredCall;

/// [`Entry::recipient`] of the network referent.
const REFERENT: u16 = u16::MAX - 1;
/// [`Entry::recipient`] of the network webhook.
const WEBHOOK: u16 = u16::MAX;

/// One planned reminder, without its strings.
#[derive(Debug, Clone, Copy)]
struct Entry {
    /// Seconds from the window's start to the due time.
    due: u32,
    /// Index of the call in [`PreviewPlan::calls`].
    call: u32,
    /// Index of the structure in the context.
    structure: u32,
    /// Index of the stage in the call.
    stage: u16,
    /// Index of the alert in `plan_stage`'s answer for that stage.
    alert: u16,
    /// Index of the person in the structure's recipients, or [`REFERENT`] / [`WEBHOOK`].
    recipient: u16,
    /// Days before the stage.
    offset: u16,
}

/// Every reminder of a window, sorted, to be materialised chunk by chunk.
pub struct PreviewPlan {
    ctx: Context,
    calls: Vec<StoredCall>,
    start: DateTime<Utc>,
    window: Window,
    entries: Vec<Entry>,
    next: usize,
    /// The last stage planned again, with its alerts (consecutive entries often share it).
    last: Option<((u32, u32, u16), Vec<PlannedAlert>)>,
}

fn too_large() -> AlertingError {
    AlertingError::Invalid("aperçu trop grand : réduisez la période ou choisissez une structure".into())
}

impl PreviewPlan {
    /// Plans the reminders due in `[start, end)` of every structure of `ctx`
    /// for `calls`, except acknowledged calls and unsubscribed recipients.
    ///
    /// # Errors
    /// [`AlertingError::Invalid`] when the window or the instance exceeds the
    /// compact indices (more than 130 years, 4 billion calls or structures,
    /// 65,000 stages or people).
    pub fn new(
        ctx: Context,
        calls: Vec<StoredCall>,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        territory: &vigie_alerting_domain::territory::Territory,
    ) -> Result<PreviewPlan, AlertingError> {
        if u32::try_from((end - start).num_seconds()).is_err() {
            return Err(too_large());
        }
        let window = Window::Between(start, end);
        let mut entries = Vec::new();
        for (c, call) in calls.iter().enumerate() {
            if call.cancelled {
                continue;
            }
            let c32 = u32::try_from(c).map_err(|_| too_large())?;
            for i in ctx.matching(call, territory) {
                let structure = &ctx.structures[i];
                if ctx
                    .acknowledged(&structure.profile.structure_id, &call.call_id)
                    .is_some()
                {
                    continue;
                }
                let i32_ = u32::try_from(i).map_err(|_| too_large())?;
                let network = ctx.network(&structure.profile.network);
                for (s, stage) in call.stages.iter().enumerate() {
                    if stage.withdrawn {
                        continue;
                    }
                    let s16 = u16::try_from(s).map_err(|_| too_large())?;
                    let alerts = plan_stage(
                        &stage_ref(call, s),
                        &structure.recipients,
                        &network.contacts,
                        &network.policy,
                        window,
                    );
                    for (j, alert) in alerts.iter().enumerate() {
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
                        let entry = Entry {
                            due: u32::try_from((alert.due_at - start).num_seconds()).map_err(|_| too_large())?,
                            call: c32,
                            structure: i32_,
                            stage: s16,
                            alert: u16::try_from(j).map_err(|_| too_large())?,
                            recipient,
                            offset: u16::try_from(alert.offset_days).map_err(|_| too_large())?,
                        };
                        debug_assert_eq!(
                            recipient_parts(&ctx, &entry).concat(),
                            alert.recipient.id,
                            "recipient ids rebuilt as plan_stage builds them"
                        );
                        entries.push(entry);
                    }
                }
            }
        }
        entries.shrink_to_fit();
        entries.sort_unstable_by(|a, b| compare(&ctx, &calls, a, b));
        Ok(PreviewPlan {
            ctx,
            calls,
            start,
            window,
            entries,
            next: 0,
            last: None,
        })
    }

    /// How many reminders the plan holds.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// How many reminders [`PreviewPlan::next_chunk`] has still to give.
    #[must_use]
    pub fn remaining(&self) -> usize {
        self.entries.len() - self.next
    }

    /// Whether the plan holds no reminder.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The next `max` reminders (fewer at the end, none once all were given).
    pub fn next_chunk(&mut self, max: usize) -> Vec<PreviewAlert> {
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
        if self.next == self.entries.len() {
            // Everything was given: free the entries before the caller's last writes.
            self.entries = Vec::new();
            self.next = 0;
            self.last = None;
        }
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

fn stage_ref(call: &StoredCall, s: usize) -> StageRef {
    let stage = &call.stages[s];
    StageRef {
        call_id: call.call_id.clone(),
        stage: stage.stage.clone(),
        revision: stage.revision,
        known_since: stage.known_since,
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
fn compare(ctx: &Context, calls: &[StoredCall], a: &Entry, b: &Entry) -> Ordering {
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
        // 5 M reminders of a week: 100 MB of entries, the bulk of the plan.
        assert_eq!(std::mem::size_of::<Entry>(), 20);
    }
}
