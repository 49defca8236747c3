//! A call's stages planned under each reminder policy met while planning
//! the call: once per call and policy, not once per matched structure.
//!
//! A call matches thousands of structures of a few networks; planning its
//! stages (the reminder instants in the network's zone, the deadline) and
//! cloning its strings for each structure was most of a claim pass. With the
//! plans shared, a structure costs the window check of a few instants, and
//! strings are cloned only for the reminders that fall in the window.

use vigie_alerting_domain::plan::{StagePlan, StageRef};
use vigie_alerting_domain::reminders::ReminderPolicy;

use super::views::CallRecord;

/// The stages of one call under the policies planned so far.
pub(super) struct CallPlans<'a> {
    /// The call.
    pub call: &'a CallRecord,
    /// Per policy met (a network's, or the default), one plan per stage of
    /// the call, in the call's order. Policies are few (one per network): a
    /// list compared by address is enough.
    by_policy: Vec<(&'a ReminderPolicy, Vec<StagePlan>)>,
}

impl<'a> CallPlans<'a> {
    /// No stage planned yet.
    pub fn new(call: &'a CallRecord) -> CallPlans<'a> {
        CallPlans {
            call,
            by_policy: Vec::new(),
        }
    }

    /// The plans of every stage of the call under `policy` (the index is the
    /// stage's in the call, withdrawn ones included).
    pub fn stages(&mut self, policy: &'a ReminderPolicy) -> &[StagePlan] {
        let k = match self.by_policy.iter().position(|(p, _)| std::ptr::eq(*p, policy)) {
            Some(k) => k,
            None => {
                let plans = (0..self.call.stages.len())
                    .map(|s| StagePlan::new(stage_ref(self.call, s), policy))
                    .collect();
                self.by_policy.push((policy, plans));
                self.by_policy.len() - 1
            }
        };
        &self.by_policy[k].1
    }
}

/// The stage `s` of a call at its current revision.
pub(super) fn stage_ref(call: &CallRecord, s: usize) -> StageRef {
    let stage = &call.stages[s];
    StageRef {
        call_id: call.call_id.clone(),
        stage: stage.stage.clone(),
        revision: stage.revision,
        known_since: stage.known_since,
    }
}
