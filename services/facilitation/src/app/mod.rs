//! Use cases of the facilitation service. Each change is one transaction;
//! an intervention that makes a person autonomous commits with its event in
//! the outbox.

mod escalation;
mod interventions;
mod matching;
mod requests;
pub mod views;

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use tokio::sync::Notify;
use vigie_facilitation_domain::facilitators_csv::parse_facilitators;
use vigie_facilitation_domain::model::{week_start, Facilitator};
use vigie_facilitation_domain::report::{report, unhelped, with_times, Intervention, ReportLine, Unhelped};
use vigie_platform::auth::Visibility;
use vigie_platform::db::Db;
use vigie_platform::words;

use crate::error::FacilitationError;
use crate::storage;

pub use escalation::{EscalationSummary, DEFAULT_ESCALATION_DELAY};
pub use interventions::{InterventionInput, InterventionOutcome};
pub use matching::{open_call_proposal, open_proposal, CallProposal};
pub use requests::HelpInput;

/// Gives "today" (injectable for tests).
pub type Clock = Arc<dyn Fn() -> NaiveDate + Send + Sync>;

/// Today on the system clock (local date).
pub fn system_clock() -> Clock {
    Arc::new(|| chrono::Local::now().date_naive())
}

/// Gives the current instant (injectable for tests): offers, answers,
/// closings and escalations are timestamped with it.
pub type Now = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// The system's current instant.
pub fn system_now() -> Now {
    Arc::new(Utc::now)
}

/// Minutes reserved when a request gives no estimate.
pub const DEFAULT_MINUTES: u32 = 120;

/// Status of a request offered to a facilitator (minutes reserved).
pub const OFFERED: &str = "offered";
/// Status of a request its facilitator accepted.
pub const ACCEPTED: &str = "accepted";
/// Status of a request nobody can take (see its reasons).
pub const UNASSIGNED: &str = "unassigned";
/// Status of a request an internal intervention answered.
pub const CLOSED: &str = "closed";
/// Status of a request left unanswered past the escalation delay, handed to
/// the network's coordinator (who becomes its facilitator).
pub const ESCALATED: &str = "escalated";

/// Kind of a request a structure asked for.
pub const KIND_HELP: &str = "help";
/// Kind of a proactive proposal opened on a critical or high fragility.
pub const KIND_FRAGILITY: &str = "fragility";
/// Kind of a proactive proposal opened on an alerting escalation: support to
/// submit an application with a member of the structure before J-7.
pub const KIND_CO_SUBMISSION: &str = "co-submission";

/// An optional code of a request (urgency, modality, activity type,
/// place): absent or blank is `default`, anything else must be one of the
/// codes, or the request is refused with `unknown(text)`. Every optional
/// code of the use cases is read this way.
fn code_or<T: std::str::FromStr>(
    text: Option<&str>,
    default: T,
    unknown: impl FnOnce(&str) -> words::Words,
) -> Result<T, FacilitationError> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(default),
        Some(text) => text.parse().map_err(|_| FacilitationError::Invalid(unknown(text))),
    }
}

/// The facilitation application service.
#[derive(Clone)]
pub struct FacilitationApp {
    db: Db,
    clock: Clock,
    now: Now,
    escalation_delay: std::time::Duration,
    relay: Arc<Notify>,
}

/// A network's report: per facilitator minutes and times, the fragile
/// structures never helped, and the interventions (for the CRA export).
#[derive(Debug, Clone)]
pub struct NetworkReport {
    /// One line per facilitator, by id.
    pub lines: Vec<ReportLine>,
    /// Fragile structures with exposed functions nobody helped on.
    pub unhelped: Vec<Unhelped>,
    /// The network's interventions of the period.
    pub interventions: Vec<Intervention>,
}

impl FacilitationApp {
    /// Builds the service over a migrated database; `relay` is woken after
    /// commits that appended events.
    /// Timestamps come from the system clock and the escalation delay is
    /// [`DEFAULT_ESCALATION_DELAY`]; see [`Self::with_now`] and
    /// [`Self::with_escalation_delay`].
    pub fn new(db: Db, clock: Clock, relay: Arc<Notify>) -> Self {
        FacilitationApp {
            db,
            clock,
            now: system_now(),
            escalation_delay: DEFAULT_ESCALATION_DELAY,
            relay,
        }
    }

    /// The same service, timestamping with `now`.
    #[must_use]
    pub fn with_now(mut self, now: Now) -> Self {
        self.now = now;
        self
    }

    /// The same service, escalating offers unanswered for `delay`.
    #[must_use]
    pub fn with_escalation_delay(mut self, delay: std::time::Duration) -> Self {
        self.escalation_delay = delay;
        self
    }

    /// Today according to the service's clock.
    pub fn today(&self) -> NaiveDate {
        (self.clock)()
    }

    /// The current instant according to the service's clock.
    pub fn now(&self) -> DateTime<Utc> {
        (self.now)()
    }

    /// Validates and stores `facilitators.csv` (all or nothing). Returns the
    /// number of facilitators.
    ///
    /// # Errors
    /// [`FacilitationError::Rejected`] with every row error; storage errors.
    pub async fn import_facilitators(&self, bytes: &[u8]) -> Result<usize, FacilitationError> {
        let facilitators = parse_facilitators(bytes).map_err(FacilitationError::Rejected)?;
        let mut tx = self.db.begin().await?;
        storage::save_facilitators(&mut tx, &facilitators, week_start(self.today())).await?;
        tx.commit().await?;
        tracing::info!(facilitators = facilitators.len(), "facilitators imported");
        Ok(facilitators.len())
    }

    /// Every facilitator, by id.
    ///
    /// # Errors
    /// Storage errors.
    pub async fn facilitators(&self) -> Result<Vec<Facilitator>, FacilitationError> {
        let mut conn = self.db.pool().acquire().await?;
        Ok(storage::facilitators(&mut conn).await?)
    }

    /// `(capacity, committed)` internal minutes of a facilitator's week (of
    /// `day`), when anything was reserved that week.
    ///
    /// # Errors
    /// Storage errors.
    pub async fn week_load(&self, facilitator: &str, day: NaiveDate) -> Result<Option<(u32, u32)>, FacilitationError> {
        let mut conn = self.db.pool().acquire().await?;
        Ok(storage::capacity(&mut conn, facilitator, week_start(day)).await?)
    }

    /// Open requests and proactive proposals (of one structure, or all).
    ///
    /// # Errors
    /// Storage errors.
    pub async fn proposals(&self, structure: Option<&str>) -> Result<Vec<views::HelpRequest>, FacilitationError> {
        let mut conn = self.db.pool().acquire().await?;
        Ok(storage::open_requests(&mut conn, structure).await?)
    }

    /// Open requests and proactive proposals (of one structure, or all)
    /// restricted to what `visibility` covers, filtered in the queries: one
    /// per visible network, one per single visible structure.
    ///
    /// # Errors
    /// Storage errors.
    pub async fn proposals_in(
        &self,
        structure: Option<&str>,
        visibility: &Visibility,
    ) -> Result<Vec<views::HelpRequest>, FacilitationError> {
        let Visibility::Only { networks, structures } = visibility else {
            return self.proposals(structure).await;
        };
        let mut conn = self.db.pool().acquire().await?;
        let mut rows = Vec::new();
        for network in networks {
            rows.extend(storage::open_requests_in(&mut conn, network, structure).await?);
        }
        for (network, id) in structures {
            if structure.is_none_or(|wanted| wanted == id) {
                rows.extend(storage::open_requests_in(&mut conn, network, Some(id)).await?);
            }
        }
        rows.sort_by(|a, b| a.request_id.cmp(&b.request_id));
        Ok(rows)
    }

    /// Where a structure is, from the inventory's read model (what
    /// authorisation checks a request for help against).
    ///
    /// # Errors
    /// Storage errors.
    pub async fn structure_network(&self, structure: &str) -> Result<Option<String>, FacilitationError> {
        let mut conn = self.db.pool().acquire().await?;
        Ok(storage::structure_place(&mut conn, structure.trim())
            .await?
            .map(|place| place.network))
    }

    /// One request, whatever its status.
    ///
    /// # Errors
    /// [`FacilitationError::NotFound`]; storage errors.
    pub async fn request(&self, id: &str) -> Result<views::HelpRequest, FacilitationError> {
        let mut conn = self.db.pool().acquire().await?;
        storage::request(&mut conn, id)
            .await?
            .ok_or_else(|| FacilitationError::NotFound(words!("demande « {id} »", "request “{id}”")))
    }

    /// Per facilitator, minutes on internal needs and on external
    /// beneficiaries in a network from `from` to `to` (inclusive), with the
    /// median response and resolution times; the fragile structures never
    /// helped; the interventions for the CRA export.
    ///
    /// # Errors
    /// [`FacilitationError::Invalid`] when `from` is after `to`; storage errors.
    pub async fn report(
        &self,
        network: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<NetworkReport, FacilitationError> {
        self.report_in(network, from, to, true).await
    }

    /// [`Self::report`] for a caller who may see the network (`visible`) or
    /// not: then nothing of the network is read, and the answer is exactly
    /// that for a network without any activity.
    ///
    /// # Errors
    /// As [`Self::report`].
    pub async fn report_in(
        &self,
        network: &str,
        from: NaiveDate,
        to: NaiveDate,
        visible: bool,
    ) -> Result<NetworkReport, FacilitationError> {
        if from > to {
            return Err(FacilitationError::Invalid(words!(
                "période invalide : {from} est après {to}",
                "invalid period: {from} is after {to}"
            )));
        }
        let network = network.trim();
        if network.is_empty() {
            return Err(FacilitationError::Invalid(words!(
                "le réseau est requis",
                "the network is required"
            )));
        }
        let mut conn = self.db.pool().acquire().await?;
        let facilitators = storage::facilitators(&mut conn).await?;
        let (interventions, timings, fragile) = if visible {
            let mut interventions = storage::interventions(&mut conn, from, to).await?;
            interventions.retain(|i| i.network == network);
            let timings = storage::timings(&mut conn, network).await?;
            let fragile = storage::fragility(&mut conn, network).await?;
            (interventions, timings, fragile)
        } else {
            (vec![], vec![], vec![])
        };
        let lines = report(&interventions, &facilitators, Some(network), from, to);
        Ok(NetworkReport {
            lines: with_times(lines, &timings, &facilitators, network, from, to),
            unhelped: unhelped(&fragile, &interventions, network, from, to),
            interventions,
        })
    }
}
