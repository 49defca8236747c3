//! Views of grants (issue 16, item 4; docs/grants.md « Views »): for a
//! network or the whole instance, the pipeline, the record of each funder
//! and programme, and the duties at risk this fortnight. Loads the rows and
//! the structures' holders of `funder_reporting`; the counting is the
//! domain's ([`vigie_alerting_domain::grants::stats`]).

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::NaiveDate;
use vigie_alerting_domain::grants::stats::{
    by_funder, duties_at_risk, pipeline, DutyFact, FunderStats, GrantFact, Pipeline, Stage, REPORTING_FUNCTION,
};
use vigie_alerting_domain::plan::EscalationReason;

use super::context::{end_date, holders, snapshot};
use super::{AlertingApp, ObligationView};
use crate::error::AlertingError;
use crate::storage::{self, ObligationAckRow};

/// Up to this many structures are read one by one rather than in one pass.
const FEW_STRUCTURES: usize = 50;

/// Who sends a structure's reports to funders, today.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reporting {
    /// The structure's name.
    pub name: String,
    /// End dates of its holders of `funder_reporting` (`None`: no end
    /// date), one per holder; their count is `Obligation.reporting_holders`.
    pub holder_end_dates: Vec<Option<NaiveDate>>,
}

/// A duty at risk this fortnight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DutyAtRisk {
    /// The duty.
    pub obligation: ObligationView,
    /// Its structure's name.
    pub structure_name: String,
    /// Its holders of `funder_reporting`, today.
    pub reporting_holders: u32,
    /// Why: nobody, one person, or holders leaving before the date.
    pub reason: EscalationReason,
}

/// The views of a set of structures' grants.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GrantStats {
    /// Every application.
    pub pipeline: Pipeline,
    /// By funder, then programme.
    pub by_funder: Vec<FunderStats>,
    /// Soonest first.
    pub at_risk: Vec<DutyAtRisk>,
}

/// Whether a duty was marked « envoyé » to its funder (`AcknowledgeObligation`,
/// the signed link of its reminders): a sent duty is never at risk.
fn is_sent(acks: &HashMap<(String, String), ObligationAckRow>, duty: &ObligationView) -> bool {
    acks.get(&(duty.obligation.structure_id.clone(), duty.obligation.key.clone()))
        .is_some_and(|a| a.status == storage::DUTY_SENT)
}

/// The count of holders, as on the wire.
pub fn holder_count(reporting: Option<&Reporting>) -> u32 {
    reporting.map_or(0, |r| u32::try_from(r.holder_end_dates.len()).unwrap_or(u32::MAX))
}

impl AlertingApp {
    /// Who sends the reports of these structures (all with `None`), by
    /// structure id, from the inventory snapshots, today (Europe/Paris).
    ///
    /// # Errors
    /// Storage errors, an undecodable snapshot.
    pub async fn reporting(&self, structures: Option<&[String]>) -> Result<HashMap<String, Reporting>, AlertingError> {
        let today = self.today();
        let wanted: Option<HashSet<&str>> = structures.map(|s| s.iter().map(String::as_str).collect());
        let mut conn = self.db.pool().acquire().await?;
        // A few structures (one structure's duties, a small network) are
        // read one by one; more, in one pass over the read model.
        let rows = match structures {
            Some(ids) if ids.len() <= FEW_STRUCTURES => {
                let mut rows = Vec::with_capacity(ids.len());
                for id in ids {
                    rows.extend(storage::structure(&mut conn, id).await?);
                }
                rows
            }
            _ => storage::structures(&mut conn).await?,
        };
        let mut out = HashMap::new();
        for row in rows {
            if wanted.as_ref().is_some_and(|w| !w.contains(row.structure_id.as_str())) {
                continue;
            }
            let snapshot = snapshot(&row)?;
            let holder_end_dates = holders(&snapshot, REPORTING_FUNCTION, today, self.fragility())
                .into_iter()
                .map(end_date)
                .collect();
            out.insert(
                row.structure_id.clone(),
                Reporting {
                    name: snapshot.name.clone(),
                    holder_end_dates,
                },
            );
        }
        Ok(out)
    }

    /// The pipeline, the record by funder and programme and the duties at
    /// risk of these structures (all with `None`).
    ///
    /// # Errors
    /// Storage errors, an undecodable snapshot.
    pub async fn grant_stats(&self, structures: Option<&[String]>) -> Result<GrantStats, AlertingError> {
        let grants = self.grants(structures).await?;
        // The programme of an imported call is the call's title, whatever
        // title the application was recorded with.
        let mut call_titles: BTreeMap<String, String> = BTreeMap::new();
        {
            let mut conn = self.db.pool().acquire().await?;
            for call_id in grants.iter().map(|g| &g.call_id).filter(|c| !c.is_empty()) {
                if call_titles.contains_key(call_id) {
                    continue;
                }
                if let Some(call) = storage::call(&mut conn, call_id).await? {
                    call_titles.insert(call_id.clone(), call.title);
                }
            }
        }
        let facts: Vec<GrantFact> = grants
            .iter()
            .map(|g| GrantFact {
                funder: g.funder.clone(),
                programme: call_titles.get(&g.call_id).unwrap_or(&g.title).clone(),
                stage: Stage::from_code(&g.stage),
                amount_asked: g.amount_asked,
                amount_granted: g.amount_granted,
            })
            .collect();
        let obligations = self.obligations(structures).await?;
        let reporting = self.reporting(structures).await?;
        let acks = storage::obligation_acks(&mut *self.db.pool().acquire().await?, structures).await?;
        let nobody: Vec<Option<NaiveDate>> = Vec::new();
        let duties: Vec<DutyFact<'_>> = obligations
            .iter()
            .map(|o| DutyFact {
                due: o.obligation.due,
                sent: is_sent(&acks, o),
                holder_end_dates: reporting
                    .get(&o.obligation.structure_id)
                    .map_or(&nobody, |r| &r.holder_end_dates),
            })
            .collect();
        let at_risk = duties_at_risk(&duties, self.today())
            .into_iter()
            .map(|(i, reason)| {
                let obligation = obligations[i].clone();
                let of = reporting.get(&obligation.obligation.structure_id);
                DutyAtRisk {
                    structure_name: of.map(|r| r.name.clone()).unwrap_or_default(),
                    reporting_holders: holder_count(of),
                    obligation,
                    reason,
                }
            })
            .collect();
        Ok(GrantStats {
            pipeline: pipeline(&facts),
            by_funder: by_funder(&facts),
            at_risk,
        })
    }
}
