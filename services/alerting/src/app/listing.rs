//! Reading: calls (all, or those matching a structure), and the preview of
//! the reminders that would go out.

use chrono::{Days, NaiveDate};
use vigie_alerting_domain::plan::{PlannedAlert, Window};
use vigie_platform::words;

use super::call_plans::CallPlans;
use super::context::{Context, Detail, Scope};
use super::preview::{day_start, PreviewPlan};
use super::views::CallRecord;
use super::AlertingApp;
use crate::error::AlertingError;
use crate::storage;

/// A call with, for a structure, its acknowledgement.
#[derive(Debug, Clone)]
pub struct CallView {
    /// The call.
    pub call: CallRecord,
    /// Days until its next deadline (from today), when it has one.
    pub days_left: Option<i64>,
    /// The structure's acknowledgement, when listed for a structure.
    pub acknowledgement: Option<String>,
    /// The structures of the network it matches, when listed for a network.
    pub matched_structures: Vec<String>,
}

/// Which calls [`AlertingApp::list_calls`] lists: every call (`All`), the
/// calls matching a structure, with its acknowledgement (`Structure`), or
/// those matching at least one structure of a network, with them
/// (`Network`: one pass for a whole network, its coordinator's page,
/// instead of a call per structure). The same structures as a
/// [`Context`]'s scope.
pub type CallsOf<'a> = Scope<'a>;

/// A reminder that would go out, with its call's title.
#[derive(Debug, Clone)]
pub struct PreviewAlert {
    /// The reminder.
    pub alert: PlannedAlert,
    /// The call's title.
    pub call_title: String,
}

/// The next deadline of a call on or after `today` (the last one when all passed).
pub fn next_deadline(call: &CallRecord, today: NaiveDate) -> Option<NaiveDate> {
    let mut dates: Vec<NaiveDate> = call
        .stages
        .iter()
        .filter(|s| !s.withdrawn)
        .map(|s| s.stage.date)
        .collect();
    dates.sort_unstable();
    dates
        .iter()
        .copied()
        .find(|d| *d >= today)
        .or_else(|| dates.last().copied())
}

/// The reminders of every matching structure for the calls, in `window`,
/// except for acknowledged calls and unsubscribed recipients, sorted by due
/// time, recipient and call.
pub fn plan_calls(
    ctx: &Context,
    calls: &[CallRecord],
    window: Window,
    territory: &vigie_alerting_domain::territory::Territory,
) -> Vec<(usize, PlannedAlert)> {
    let mut out = Vec::new();
    for (c, call) in calls.iter().enumerate() {
        if call.cancelled {
            continue;
        }
        let mut plans = CallPlans::new(call);
        for i in ctx.matching(call, territory) {
            plan_pair(ctx, c, &mut plans, i, &mut out, |s| {
                (!call.stages[s].withdrawn).then_some(window)
            });
        }
    }
    out.sort_by(|a, b| {
        (a.1.due_at, &a.1.recipient.id, &a.1.call_id, a.1.offset_days).cmp(&(
            b.1.due_at,
            &b.1.recipient.id,
            &b.1.call_id,
            b.1.offset_days,
        ))
    });
    out
}

/// The reminders of one call (number `c`, planned in `plans`) for one
/// structure, each stage in its window.
pub(super) fn plan_pair<'a>(
    ctx: &'a Context,
    c: usize,
    plans: &mut CallPlans<'a>,
    i: usize,
    out: &mut Vec<(usize, PlannedAlert)>,
    window: impl Fn(usize) -> Option<Window>,
) {
    let structure = &ctx.structures[i];
    if ctx
        .acknowledged(&structure.profile.structure_id, &plans.call.call_id)
        .is_some()
    {
        return;
    }
    let network = ctx.network(&structure.profile.network);
    for (s, plan) in plans.stages(&network.policy).iter().enumerate() {
        let Some(window) = window(s) else { continue };
        for alert in plan.alerts(&structure.recipients, &network.contacts, window) {
            if !ctx.unsubscribed(&alert.recipient.id) {
                out.push((c, alert));
            }
        }
    }
}

impl AlertingApp {
    /// Calls soonest deadline first: all, or those matching `structure_id`;
    /// closing within `closing_within` days; closed ones only with
    /// `include_closed`. Permanent calls (no deadline) come last, whatever
    /// `closing_within`.
    ///
    /// # Errors
    /// [`AlertingError::NotFound`] for an unknown structure; storage errors.
    pub async fn list_calls(
        &self,
        of: impl Into<CallsOf<'_>>,
        closing_within: Option<u32>,
        include_closed: bool,
    ) -> Result<Vec<CallView>, AlertingError> {
        let today = self.today();
        let mut conn = self.db.pool().acquire().await?;
        let calls = storage::calls(&mut conn, if include_closed { None } else { Some(today) }).await?;
        let selected: Vec<(CallRecord, Option<String>, Vec<String>)> = match of.into() {
            CallsOf::Structure(id) => {
                let ctx = Context::load(&mut conn, today, Some(id).into(), self.territory(), self.fragility()).await?;
                if ctx.position(id).is_none() {
                    return Err(AlertingError::NotFound(words!("structure {id}", "structure {id}")));
                }
                calls
                    .into_iter()
                    .filter(|c| !ctx.matching(c, self.territory()).is_empty())
                    .map(|c| {
                        let ack = ctx.acknowledged(id, &c.call_id).map(str::to_owned);
                        (c, ack, Vec::new())
                    })
                    .collect()
            }
            CallsOf::Network(network) => {
                let ctx = Context::load(
                    &mut conn,
                    today,
                    Scope::Network(network),
                    self.territory(),
                    self.fragility(),
                )
                .await?;
                calls
                    .into_iter()
                    .filter_map(|c| {
                        let mut matched: Vec<String> = ctx
                            .matching(&c, self.territory())
                            .into_iter()
                            .map(|i| ctx.structures[i].profile.structure_id.clone())
                            .collect();
                        matched.sort();
                        (!matched.is_empty()).then_some((c, None, matched))
                    })
                    .collect()
            }
            CallsOf::All => calls.into_iter().map(|c| (c, None, Vec::new())).collect(),
        };
        let limit = closing_within.and_then(|d| today.checked_add_days(Days::new(u64::from(d))));
        let mut out: Vec<CallView> = selected
            .into_iter()
            .filter_map(|(call, acknowledgement, matched_structures)| {
                let next = next_deadline(&call, today);
                // A permanent call (no deadline) is open whatever the window:
                // listed after the dated ones.
                if let (Some(limit), Some(next)) = (limit, next) {
                    if next < today || next > limit {
                        return None;
                    }
                }
                if !include_closed && call.cancelled {
                    return None;
                }
                Some(CallView {
                    days_left: next.map(|d| (d - today).num_days()),
                    call,
                    acknowledgement,
                    matched_structures,
                })
            })
            .collect();
        out.sort_by(|a, b| {
            (a.days_left.unwrap_or(i64::MAX), &a.call.call_id).cmp(&(b.days_left.unwrap_or(i64::MAX), &b.call.call_id))
        });
        Ok(out)
    }

    /// The reminders that would go out in `[from, to]` (local dates in Europe/Paris), without sending.
    ///
    /// Holds every full alert at once: for a whole instance use
    /// [`AlertingApp::preview_plan`], which gives them chunk by chunk in the same order.
    ///
    /// # Errors
    /// [`AlertingError::NotFound`] for an unknown structure; [`AlertingError::Invalid`] when `to < from`.
    pub async fn preview(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        structure_id: Option<&str>,
    ) -> Result<Vec<PreviewAlert>, AlertingError> {
        self.preview_plan(from, to, structure_id).await?.rest().await
    }

    /// The reminders of [`AlertingApp::preview`], not yet planned:
    /// [`PreviewPlan::next_chunk`] plans them a day at a time and gives them
    /// chunk by chunk.
    ///
    /// # Errors
    /// As [`AlertingApp::preview`].
    pub async fn preview_plan(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        structure_id: Option<&str>,
    ) -> Result<PreviewPlan, AlertingError> {
        let (ctx, calls) = self.preview_inputs(from, to, structure_id).await?;
        PreviewPlan::new(ctx, calls, from, to, self.territory())
    }

    /// The preview planned the simple way, every full alert in memory then
    /// sorted: the reference the chunked [`AlertingApp::preview_plan`] is tested against.
    ///
    /// # Errors
    /// As [`AlertingApp::preview`].
    pub async fn preview_in_memory(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        structure_id: Option<&str>,
    ) -> Result<Vec<PreviewAlert>, AlertingError> {
        let (ctx, calls) = self.preview_inputs(from, to, structure_id).await?;
        let end = day_start(to.checked_add_days(Days::new(1)).unwrap_or(to));
        Ok(
            plan_calls(&ctx, &calls, Window::Between(day_start(from), end), self.territory())
                .into_iter()
                .map(|(c, alert)| PreviewAlert {
                    call_title: calls[c].title.clone(),
                    alert,
                })
                .collect(),
        )
    }

    /// The context and the calls of a preview.
    async fn preview_inputs(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        structure_id: Option<&str>,
    ) -> Result<(Context, Vec<CallRecord>), AlertingError> {
        if to < from {
            return Err(AlertingError::Invalid(words!(
                "la date de fin précède la date de début",
                "the end date is before the start date"
            )));
        }
        let mut conn = self.db.pool().acquire().await?;
        let mut calls = storage::calls(&mut conn, Some(from)).await?;
        for call in &mut calls {
            // The source's payload (export only) is most of a call's bytes; a
            // whole instance's preview holds every call until its last day.
            call.raw = String::new();
        }
        let ctx = Context::load_with(
            &mut conn,
            from,
            structure_id.into(),
            self.territory(),
            Detail::Calls,
            self.fragility(),
        )
        .await?;
        // The context holds only that structure when one is asked for.
        if let Some(id) = structure_id {
            ctx.position(id)
                .ok_or_else(|| AlertingError::NotFound(words!("structure {id}", "structure {id}")))?;
        }
        Ok((ctx, calls))
    }
}

/// A stored call as a draft again (for the Etalab export).
pub fn to_draft(call: &CallRecord) -> vigie_alerting_domain::call::CallDraft {
    vigie_alerting_domain::call::CallDraft {
        source: call.source.clone(),
        source_ref: call.source_ref.clone(),
        title: call.title.clone(),
        funders: call.funders.clone(),
        programmes: call.programmes.clone(),
        info_url: call.info_url.clone(),
        application_url: call.application_url.clone(),
        themes: call.themes.clone(),
        audiences: call.audiences.clone(),
        perimeter: vigie_alerting_domain::call::Perimeter {
            name: call.perimeter_name.clone(),
            scale_label: call.perimeter_scale.clone(),
            codes: call.areas.clone(),
            exclusions: call.exclusions.clone(),
        },
        recurrence: call.recurrence,
        stages: call
            .stages
            .iter()
            .filter(|s| !s.withdrawn)
            .map(|s| s.stage.clone())
            .collect(),
        cancelled: call.cancelled,
        raw: call.raw.clone(),
    }
}

impl AlertingApp {
    /// Every call in the Etalab schema-dispositif-aide CSV format.
    ///
    /// # Errors
    /// Storage errors.
    pub async fn export_calls(&self) -> Result<String, AlertingError> {
        let mut conn = self.db.pool().acquire().await?;
        let calls = storage::calls(&mut conn, None).await?;
        let drafts: Vec<_> = calls.iter().map(to_draft).collect();
        Ok(vigie_alerting_domain::connectors::etalab::write_csv(&drafts))
    }

    /// The send log, newest first.
    ///
    /// # Errors
    /// Storage errors.
    pub async fn send_log(
        &self,
        structure_id: Option<&str>,
        limit: u32,
    ) -> Result<Vec<super::views::LogEntry>, AlertingError> {
        let only = structure_id.map(|s| vec![s.to_owned()]);
        self.send_log_of(only.as_deref(), limit).await
    }

    /// The send log of `structures` only (`None`: all), newest first,
    /// restricted in the query.
    ///
    /// # Errors
    /// Storage errors.
    pub async fn send_log_of(
        &self,
        structures: Option<&[String]>,
        limit: u32,
    ) -> Result<Vec<super::views::LogEntry>, AlertingError> {
        let mut entries = {
            let mut conn = self.db.pool().acquire().await?;
            storage::send_log(&mut conn, structures, limit).await?
        };
        self.title_duty_rows(&mut entries).await?;
        Ok(entries)
    }

    /// The network of a structure of the read model.
    ///
    /// # Errors
    /// Storage errors.
    pub async fn structure_network(&self, structure_id: &str) -> Result<Option<String>, AlertingError> {
        let mut conn = self.db.pool().acquire().await?;
        Ok(storage::structure(&mut conn, structure_id).await?.map(|s| s.network_id))
    }

    /// Every structure of the read model with its network.
    ///
    /// # Errors
    /// Storage errors.
    pub async fn structure_networks(&self) -> Result<std::collections::HashMap<String, String>, AlertingError> {
        let mut conn = self.db.pool().acquire().await?;
        Ok(storage::structures(&mut conn)
            .await?
            .into_iter()
            .map(|s| (s.structure_id, s.network_id))
            .collect())
    }
}
