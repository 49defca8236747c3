//! Training plans: for each orphan or single-point-of-failure function of a
//! structure, who should learn it, with which training and session, and the
//! fragility predicted once they have — computed by the inventory's own
//! [`assess`] on the upgraded holdings, never by a formula of our own.
//!
//! # Rules (issue 5, `docs/fragility.md`)
//!
//! 1. **Items**: the orphan and SPOF functions of `assess(inventory, at)`,
//!    ordered by `w_f · risk_f` descending, then function code (byte order).
//! 2. **Candidates** for a function: people who are active and not leaving
//!    within the horizon (no end date, or an end date more than
//!    `horizon_days` after `at`), whose level on the function is 1 or 2 (a
//!    holding exists), and who do not hold it; ranked by the number of
//!    functions they hold (fewest first, so the work spreads), then person id
//!    (byte order); the first [`PlanParams::learners_for_orphan`] (orphan)
//!    or [`PlanParams::learners_for_spof`] (SPOF) are kept.
//! 3. **Trainings**: those with a target on the function whose goal is 3 or
//!    more (a lower goal would not make a holder) and whose prerequisite at
//!    least one candidate meets; each lists the candidates it fits. They are
//!    ordered by preference — highest goal on the function, then lowest cost
//!    (a known cost before an unknown one), then id — and **the training
//!    chosen for a learner is the first that lists them**. A candidate whom
//!    no training fits stays listed, without upgrade.
//! 4. **Next session** of a training: its earliest session (by instant, then
//!    id) starting on a local date after `at`, with at least one seat left.
//!    The plan does not reserve seats: the same session may be proposed to
//!    more learners than it has seats left, and enrolment decides.
//! 5. **Items are planned in order, each on the inventory as upgraded by the
//!    items before** (levels, holders and counts alike): a learner chosen
//!    for one function is counted as holding it — and every other function
//!    their training makes them hold — when candidates are ranked for the
//!    next functions, so the work spreads; and someone whom an earlier
//!    training already makes a holder of a function is no longer a
//!    candidate for it.
//! 6. **Prediction**: `predicted = assess(upgraded_inventory(inventory,
//!    plan, trainings, at), at)`, where every learner completes their chosen
//!    training on `at` with the rule of [`crate::completion`] — every target
//!    function of the training raised to its goal, as the inventory does
//!    when the completion events arrive.
//!
//! Everything is ordered explicitly, so the plan does not depend on the
//! order of the input records.

use crate::completion::{apply_completion, raises};
use crate::model::{Session, Training};
use chrono::{NaiveDate, NaiveDateTime};
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use vigie_fragility_model::fragility::{assess, Assessment, FragilityParams};
use vigie_fragility_model::model::{StructureInventory, StructureRecord};

/// How many learners a plan proposes per function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanParams {
    /// For an orphan function: 2, so that it ends with two holders, not a
    /// new single point of failure.
    pub learners_for_orphan: usize,
    /// For a single point of failure: 1 second holder.
    pub learners_for_spof: usize,
}

impl Default for PlanParams {
    fn default() -> Self {
        Self {
            learners_for_orphan: 2,
            learners_for_spof: 1,
        }
    }
}

/// A session and its seats still free (capacity minus enrolments), as the
/// service knows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionSeats {
    /// The session.
    pub session: Session,
    /// Seats still free.
    pub seats_left: u32,
}

/// Why a function is in the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Exposure {
    /// Nobody holds it.
    Orphan,
    /// Exactly one person holds it (single point of failure).
    Spof,
}

impl Exposure {
    /// The stable code used in APIs: `orphan` or `spof`.
    pub fn as_str(self) -> &'static str {
        match self {
            Exposure::Orphan => "orphan",
            Exposure::Spof => "spof",
        }
    }

    /// The label shown to French-speaking users.
    pub fn label_fr(self) -> &'static str {
        match self {
            Exposure::Orphan => "personne ne la maîtrise",
            Exposure::Spof => "une seule personne la maîtrise",
        }
    }
}

/// A person proposed to learn a function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The person's id.
    pub person_id: String,
    /// Name shown to the structure's managers.
    pub display_name: String,
    /// Current level on the function (1 or 2).
    pub level: u8,
    /// Number of functions the person holds when ranked, counting those the
    /// plan's earlier items make them hold.
    pub functions_held: usize,
}

/// A training proposed for a function, and to whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedTraining {
    /// The training's id.
    pub training_id: String,
    /// Its title.
    pub title: String,
    /// Ids of the candidates whose level meets its prerequisite, in
    /// candidate order.
    pub learners: Vec<String>,
    /// Id of its next session with seats, if any.
    pub next_session: Option<String>,
    /// Local start of that session (in the session's time zone).
    pub next_session_starts: Option<NaiveDateTime>,
}

/// One orphan or single-point-of-failure function of the plan.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanItem {
    /// Function code.
    pub function: String,
    /// Criticality `w_f`, 1–3.
    pub criticality: u8,
    /// Orphan or single point of failure.
    pub exposure: Exposure,
    /// `w_f · risk_f` today: the share of vital weight at stake, and the
    /// order of the items.
    pub weighted_risk: f64,
    /// The people proposed to learn it, best first.
    pub candidates: Vec<Candidate>,
    /// Matching trainings, in order of preference (see the module rules).
    pub trainings: Vec<PlannedTraining>,
}

impl PlanItem {
    /// The training chosen for `person_id` on this function: the first of
    /// [`PlanItem::trainings`] that lists them; `None` when none fits.
    pub fn chosen_training(&self, person_id: &str) -> Option<&PlannedTraining> {
        self.trainings
            .iter()
            .find(|t| t.learners.iter().any(|l| l == person_id))
    }
}

/// The training plan of one structure on one date.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The structure.
    pub structure_id: String,
    /// The date of the plan (`at`).
    pub evaluated_on: NaiveDate,
    /// Fragility today.
    pub current: Assessment,
    /// Fragility once every learner has completed their chosen training.
    pub predicted: Assessment,
    /// The orphan and SPOF functions, most at stake first.
    pub items: Vec<PlanItem>,
}

/// A learner of the plan and the training chosen for them on one function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Assignment<'a> {
    /// Function code of the item.
    pub function: &'a str,
    /// The learner.
    pub person_id: &'a str,
    /// The chosen training.
    pub training: &'a PlannedTraining,
}

impl Plan {
    /// Every learner with a chosen training, item by item, in candidate
    /// order — who to enrol where. A person may appear for several functions
    /// (with the same training or not).
    pub fn assignments(&self) -> Vec<Assignment<'_>> {
        self.items
            .iter()
            .flat_map(|item| {
                item.candidates.iter().filter_map(move |c| {
                    item.chosen_training(&c.person_id).map(|training| Assignment {
                        function: &item.function,
                        person_id: &c.person_id,
                        training,
                    })
                })
            })
            .collect()
    }
}

/// Lowest cost first; a known cost before an unknown one.
fn by_cost(a: Option<f64>, b: Option<f64>) -> Ordering {
    match (a, b) {
        (Some(x), Some(y)) => x.total_cmp(&y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

/// Whether someone with this end date is active on `at` and not leaving
/// within the horizon (the complement of `q_p = 1` in `docs/fragility.md`).
fn stays(end_date: Option<NaiveDate>, at: NaiveDate, horizon_days: i64) -> bool {
    end_date.is_none_or(|end| end >= at && end.signed_duration_since(at).num_days() > horizon_days)
}

/// The earliest session with seats of each training, starting on a local
/// date after `at`. A session whose start does not exist in its time zone
/// (refused by validation) is skipped.
fn next_sessions(sessions: &[SessionSeats], at: NaiveDate) -> BTreeMap<&str, &Session> {
    let mut next: BTreeMap<&str, (chrono::DateTime<chrono::Utc>, &Session)> = BTreeMap::new();
    for s in sessions {
        if s.seats_left == 0 || s.session.starts_at.date() <= at {
            continue;
        }
        let Some(starts) = s.session.starts_utc() else {
            continue;
        };
        let key = (starts, s.session.id.as_str());
        next.entry(s.session.training_id.as_str())
            .and_modify(|best| {
                if key < (best.0, best.1.id.as_str()) {
                    *best = (starts, &s.session);
                }
            })
            .or_insert((starts, &s.session));
    }
    next.into_iter().map(|(id, (_, s))| (id, s)).collect()
}

/// The trainings by id; should an id repeat, the first one given is kept.
fn trainings_by_id(trainings: &[Training]) -> BTreeMap<&str, &Training> {
    let mut by_id = BTreeMap::new();
    for t in trainings {
        by_id.entry(t.id.as_str()).or_insert(t);
    }
    by_id
}

/// People who may learn: id → display name, for people active and not
/// leaving within the horizon. Should an id repeat (malformed inventory),
/// it qualifies only if every record does, with the smallest name.
fn staying_people(inventory: &StructureInventory, at: NaiveDate, horizon_days: i64) -> BTreeMap<&str, &str> {
    let mut people: BTreeMap<&str, (bool, &str)> = BTreeMap::new();
    for p in &inventory.people {
        let ok = stays(p.end_date, at, horizon_days);
        people
            .entry(p.id.as_str())
            .and_modify(|(all_ok, name)| {
                *all_ok &= ok;
                *name = (*name).min(p.display_name.as_str());
            })
            .or_insert((ok, p.display_name.as_str()));
    }
    people
        .into_iter()
        .filter(|(_, (ok, _))| *ok)
        .map(|(id, (_, name))| (id, name))
        .collect()
}

/// Computes the training plan of a structure on `at` (see the module rules).
pub fn plan(
    inventory: &StructureInventory,
    trainings: &[Training],
    sessions: &[SessionSeats],
    at: NaiveDate,
    fragility: &FragilityParams,
    params: &PlanParams,
) -> Plan {
    let current = assess(inventory, at, fragility);
    let mut exposed: Vec<(&str, u8, Exposure, f64)> = current
        .functions
        .iter()
        .filter_map(|f| {
            let exposure = match f.holders.len() {
                0 => Exposure::Orphan,
                1 => Exposure::Spof,
                _ => return None,
            };
            Some((
                f.code.as_str(),
                f.criticality,
                exposure,
                f64::from(f.criticality) * f.risk,
            ))
        })
        .collect();
    exposed.sort_by(|a, b| b.3.total_cmp(&a.3).then_with(|| a.0.cmp(b.0)));

    let catalogue = trainings_by_id(trainings);
    let next = next_sessions(sessions, at);
    let people = staying_people(inventory, at, fragility.horizon_days);

    // The inventory as upgraded by the items planned so far, and its index.
    let mut working = inventory.clone();
    let mut working_assessment = current.clone();
    let mut completed: BTreeSet<(String, String)> = BTreeSet::new();
    let mut items = Vec::with_capacity(exposed.len());

    for (code, criticality, exposure, weighted_risk) in exposed {
        let mut held: BTreeMap<&str, usize> = BTreeMap::new();
        for h in working_assessment.functions.iter().flat_map(|f| &f.holders) {
            *held.entry(h.as_str()).or_default() += 1;
        }
        // Highest level per person: a holder has a record at 3 or more, so
        // the 1–2 rule below also keeps holders out.
        let mut levels: BTreeMap<&str, u8> = BTreeMap::new();
        for h in working.holdings.iter().filter(|h| h.function == code) {
            let level = levels.entry(h.person_id.as_str()).or_default();
            *level = (*level).max(h.level);
        }
        let mut ranked: Vec<Candidate> = people
            .iter()
            .filter_map(|(id, name)| {
                let level = *levels.get(id)?;
                (1..=2).contains(&level).then(|| Candidate {
                    person_id: (*id).to_owned(),
                    display_name: (*name).to_owned(),
                    level,
                    functions_held: held.get(id).copied().unwrap_or(0),
                })
            })
            .collect();
        // `people` iterates in id order and the sort is stable: ties on the
        // count stay in byte order of the ids.
        ranked.sort_by_key(|c| c.functions_held);
        ranked.truncate(match exposure {
            Exposure::Orphan => params.learners_for_orphan,
            Exposure::Spof => params.learners_for_spof,
        });

        let mut matching: Vec<(u8, Option<f64>, PlannedTraining)> = catalogue
            .values()
            .filter_map(|t| {
                let target = t.target(code).filter(|target| target.goal_level >= 3)?;
                let learners: Vec<String> = ranked
                    .iter()
                    .filter(|c| c.level >= target.prerequisite_level)
                    .map(|c| c.person_id.clone())
                    .collect();
                if learners.is_empty() {
                    return None;
                }
                let session = next.get(t.id.as_str());
                Some((
                    target.goal_level,
                    t.cost_eur,
                    PlannedTraining {
                        training_id: t.id.clone(),
                        title: t.title.clone(),
                        learners,
                        next_session: session.map(|s| s.id.clone()),
                        next_session_starts: session.map(|s| s.starts_at),
                    },
                ))
            })
            .collect();
        matching.sort_by(|a, b| {
            b.0.cmp(&a.0)
                .then_with(|| by_cost(a.1, b.1))
                .then_with(|| a.2.training_id.cmp(&b.2.training_id))
        });
        let item = PlanItem {
            function: code.to_owned(),
            criticality,
            exposure,
            weighted_risk,
            candidates: ranked,
            trainings: matching.into_iter().map(|(_, _, t)| t).collect(),
        };

        // Upgrade the working inventory with this item's completions.
        let mut changed = false;
        for c in &item.candidates {
            let Some(chosen) = item.chosen_training(&c.person_id) else {
                continue;
            };
            let Some(training) = catalogue.get(chosen.training_id.as_str()) else {
                continue;
            };
            if completed.insert((c.person_id.clone(), training.id.clone())) {
                apply_completion(&mut working, &c.person_id, &raises(training), at);
                changed = true;
            }
        }
        if changed {
            working_assessment = assess(&working, at, fragility);
        }
        items.push(item);
    }

    let mut plan = Plan {
        structure_id: inventory.structure.id.clone(),
        evaluated_on: at,
        predicted: current.clone(),
        current,
        items,
    };
    plan.predicted = assess(&upgraded_inventory(inventory, &plan, trainings, at), at, fragility);
    plan
}

/// The inventory once every learner of `plan` has completed their chosen
/// training on `completed_on` (see [`crate::completion::apply_completion`]):
/// what the inventory will hold after the completions. A training absent
/// from `trainings` raises nothing.
pub fn upgraded_inventory(
    inventory: &StructureInventory,
    plan: &Plan,
    trainings: &[Training],
    completed_on: NaiveDate,
) -> StructureInventory {
    let catalogue = trainings_by_id(trainings);
    let mut upgraded = inventory.clone();
    let mut done: BTreeSet<(&str, &str)> = BTreeSet::new();
    for a in plan.assignments() {
        if !done.insert((a.person_id, a.training.training_id.as_str())) {
            continue;
        }
        if let Some(training) = catalogue.get(a.training.training_id.as_str()) {
            apply_completion(&mut upgraded, a.person_id, &raises(training), completed_on);
        }
    }
    upgraded
}

/// One training to organise in one department, for the network plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkPlanLine {
    /// The training's id.
    pub training_id: String,
    /// Its title.
    pub title: String,
    /// Department (INSEE code) of the structures whose learners chose it.
    pub department_code: String,
    /// Distinct learners for whom it is the chosen training.
    pub learners: usize,
    /// Structures those learners belong to.
    pub structures: usize,
}

/// Which trainings to organise where, for how many people: the plans'
/// assignments (learners and their chosen trainings) grouped by training and
/// department of the structure. A person counts once per training even when
/// it is chosen for several of their functions. Sorted by learners
/// (descending), then training id, then department code.
pub fn network_plan(plans: &[(StructureRecord, Plan)]) -> Vec<NetworkPlanLine> {
    type Group<'a> = (&'a str, BTreeSet<(&'a str, &'a str)>, BTreeSet<&'a str>);
    let mut groups: BTreeMap<(&str, &str), Group<'_>> = BTreeMap::new();
    for (structure, plan) in plans {
        for a in plan.assignments() {
            let group = groups
                .entry((a.training.training_id.as_str(), structure.department_code.as_str()))
                .or_insert_with(|| (a.training.title.as_str(), BTreeSet::new(), BTreeSet::new()));
            // Titles of one id agree; the smallest keeps the result independent of order.
            group.0 = group.0.min(a.training.title.as_str());
            group.1.insert((structure.id.as_str(), a.person_id));
            group.2.insert(structure.id.as_str());
        }
    }
    let mut lines: Vec<NetworkPlanLine> = groups
        .into_iter()
        .map(
            |((training, department), (title, learners, structures))| NetworkPlanLine {
                training_id: training.to_owned(),
                title: title.to_owned(),
                department_code: department.to_owned(),
                learners: learners.len(),
                structures: structures.len(),
            },
        )
        .collect();
    // The groups come in (training, department) order; a stable sort on the
    // count keeps that order among equal counts.
    lines.sort_by_key(|line| std::cmp::Reverse(line.learners));
    lines
}

#[cfg(test)]
mod tests;
