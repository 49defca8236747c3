//! Ranking the facilitators who could answer one help request.
//!
//! A facilitator is **eligible** when all of these hold — an ineligible one
//! is never ranked, whatever else speaks for them:
//! 1. their funding has not ended before the day of the need (`funding_end`
//!    empty, or on or after `need.on`: the last funded day still counts);
//! 2. they serve the structure: it employs them, it is in their
//!    `served_structures`, or one of their territory codes is the structure's
//!    commune or department;
//! 3. their internal time left this week
//!    (`internal_minutes_per_week − committed_internal_minutes`, never below
//!    0) covers the estimated minutes — exactly equal is enough.
//!
//! EPCI territory codes never match: telling whether a commune belongs to an
//! EPCI needs the commune → EPCI table (which changes every January), and this
//! crate has none. A facilitator known only by EPCI is eligible through their
//! employer or served structures, or by also listing the communes or
//! departments they cover.
//!
//! The **score** adds these weights, in decreasing order of importance:
//! - skill: [`SKILL_WEIGHT`] (1000) when the function is in their
//!   `functions` — more than everything else together, so a skilled
//!   facilitator always outranks an unskilled one;
//! - territory closeness, the closest link counting: [`STRUCTURE_WEIGHT`]
//!   (100) for the employer or a served structure, [`COMMUNE_WEIGHT`] (60) for
//!   the same commune, [`DEPARTMENT_WEIGHT`] (30) for the same department —
//!   steps of at least 30, more than the two terms below together (15), so
//!   closeness is never overturned by them;
//! - remaining capacity share: [`CAPACITY_WEIGHT`] (10) × the internal time
//!   left this week over the internal time per week, spreading the load;
//! - continuity: [`CONTINUITY_WEIGHT`] (1) per past intervention with the
//!   structure, counted up to [`CONTINUITY_CAP`] (5), so at most 5 points;
//! - modality: when the structure asks for help **on site**
//!   ([`Modality::OnSite`]), [`ON_SITE_WEIGHT`] (200) for a facilitator who
//!   can come: employed by the structure, or whose territory codes include
//!   its commune or department. A facilitator linked only as a served
//!   structure (a shared post, possibly remote) gets nothing. 200 is more
//!   than the largest closeness step (100) plus capacity and continuity, so
//!   among equally skilled facilitators one who can come always ranks first,
//!   and less than the skill weight, so skill still comes first. `remote` and
//!   `either` change nothing.
//!
//! Capacity and continuity trade off (half the week's capacity is worth five
//! past interventions): a facilitator who knows the structure is worth some
//! extra load, but not a full week. Equal scores are ordered by facilitator id
//! (byte order), so the ranking is deterministic.

use crate::model::{Facilitator, FacilitatorKind, Modality};
use chrono::NaiveDate;
use std::collections::BTreeMap;
use vigie_fragility_model::catalogue;

/// Score for a facilitator who lists the function among their skills.
pub const SKILL_WEIGHT: f64 = 1000.0;
/// Territory score when the structure employs the facilitator or is one of
/// their served structures.
pub const STRUCTURE_WEIGHT: f64 = 100.0;
/// Territory score when one of their territory codes is the structure's commune.
pub const COMMUNE_WEIGHT: f64 = 60.0;
/// Territory score when one of their territory codes is the structure's department.
pub const DEPARTMENT_WEIGHT: f64 = 30.0;
/// Score for a full week of internal time left, scaled by the share left.
pub const CAPACITY_WEIGHT: f64 = 10.0;
/// Score per past intervention with the structure.
pub const CONTINUITY_WEIGHT: f64 = 1.0;
/// Past interventions beyond this count add nothing.
pub const CONTINUITY_CAP: u32 = 5;
/// Score for a facilitator who can come to the structure, when it asks for
/// help on site.
pub const ON_SITE_WEIGHT: f64 = 200.0;

/// Where the structure asking for help is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StructurePlace {
    /// The structure's id (the inventory's).
    pub structure_id: String,
    /// The network it belongs to.
    pub network: String,
    /// Its INSEE commune code.
    pub commune_insee: String,
    /// Its INSEE department code.
    pub department_code: String,
}

/// What a facilitator has already done, as known by the service.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FacilitatorLoad {
    /// Internal minutes already committed in the week of the need (accepted
    /// offers and recorded internal interventions).
    pub committed_internal_minutes: u32,
    /// Interventions they already made for the requesting structure.
    pub past_interventions_with_structure: u32,
}

/// One help request to match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Need {
    /// The structure asking.
    pub structure: StructurePlace,
    /// The vital-function code concerned.
    pub function: String,
    /// Expected duration of the help, in minutes.
    pub estimated_minutes: u32,
    /// The day the help is needed (its ISO week is the one the loads count).
    pub on: NaiveDate,
    /// How the structure would like to be helped.
    pub modality: Modality,
}

/// An eligible facilitator, with why they were ranked where they are.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranked {
    /// The facilitator's id.
    pub facilitator_id: String,
    /// The score (higher first); see the module documentation for the weights.
    pub score: f64,
    /// Internal minutes left this week, before this need.
    pub remaining_internal_minutes: u32,
    /// The reasons, in French, in the order of the weights: skill, territory,
    /// capacity, continuity, then on-site help when asked for.
    pub reasons: Vec<String>,
}

/// How a facilitator is linked to the structure, closest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Link {
    Employer,
    Served,
    Commune,
    Department,
}

impl Link {
    fn weight(self) -> f64 {
        match self {
            Link::Employer | Link::Served => STRUCTURE_WEIGHT,
            Link::Commune => COMMUNE_WEIGHT,
            Link::Department => DEPARTMENT_WEIGHT,
        }
    }

    fn reason(self, place: &StructurePlace) -> String {
        match self {
            Link::Employer => "salarié de la structure".to_owned(),
            Link::Served => "intervient déjà pour la structure (poste partagé)".to_owned(),
            Link::Commune => format!("intervient sur la commune de la structure ({})", place.commune_insee),
            Link::Department => format!(
                "intervient dans le département de la structure ({})",
                place.department_code
            ),
        }
    }
}

/// The closest link between `f` and the structure, if any. EPCI codes
/// (9 digits) can never equal a commune (5) or department (2–3) code, so they
/// fall through: see the module documentation.
fn link(f: &Facilitator, place: &StructurePlace) -> Option<Link> {
    let id = place.structure_id.as_str();
    if f.employer_structure_id.as_deref() == Some(id) {
        Some(Link::Employer)
    } else if f.served_structures.iter().any(|s| s == id) {
        Some(Link::Served)
    } else if f.territory_codes.contains(&place.commune_insee) {
        Some(Link::Commune)
    } else if f.territory_codes.contains(&place.department_code) {
        Some(Link::Department)
    } else {
        None
    }
}

/// Whether `f` can come to the structure's premises: employed by it, or
/// intervening on its commune or department (see the module documentation).
pub fn covers_on_site(f: &Facilitator, place: &StructurePlace) -> bool {
    f.employer_structure_id.as_deref() == Some(place.structure_id.as_str())
        || f.territory_codes.contains(&place.commune_insee)
        || f.territory_codes.contains(&place.department_code)
}

/// The coordinator who receives the escalations of a request from `place`:
/// among the facilitators of kind [`FacilitatorKind::Coordinateur`] whose
/// funding has not ended before `on`, those linked to the structure itself
/// (employer, served structure, commune, department) first — the closest
/// link winning —, then those linked to another structure of its network
/// (`network_places`), by id. `None` when the network has no coordinator.
pub fn coordinator_for<'a>(
    place: &StructurePlace,
    network_places: &[StructurePlace],
    facilitators: &'a [Facilitator],
    on: NaiveDate,
) -> Option<&'a Facilitator> {
    facilitators
        .iter()
        .filter(|f| f.kind == FacilitatorKind::Coordinateur && f.funding_end.is_none_or(|end| end >= on))
        .filter_map(|f| {
            let rank = match link(f, place) {
                Some(l) => l as u8,
                None if network_places
                    .iter()
                    .any(|p| p.network == place.network && link(f, p).is_some()) =>
                {
                    u8::MAX
                }
                None => return None,
            };
            Some((rank, f))
        })
        .min_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.id.cmp(&b.1.id)))
        .map(|(_, f)| f)
}

/// Ranks the eligible facilitators for `need`, best first. `loads` is keyed
/// by facilitator id; a facilitator without an entry has committed nothing
/// this week and never helped the structure.
pub fn rank(need: &Need, facilitators: &[Facilitator], loads: &BTreeMap<String, FacilitatorLoad>) -> Vec<Ranked> {
    let mut ranked: Vec<Ranked> = facilitators
        .iter()
        .filter_map(|f| assess(need, f, loads.get(&f.id).copied().unwrap_or_default()))
        .collect();
    ranked.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.facilitator_id.cmp(&b.facilitator_id))
    });
    ranked
}

/// Scores one facilitator, or `None` when they are not eligible.
fn assess(need: &Need, f: &Facilitator, load: FacilitatorLoad) -> Option<Ranked> {
    if f.funding_end.is_some_and(|end| end < need.on) {
        return None;
    }
    let link = link(f, &need.structure)?;
    let per_week = f.internal_minutes_per_week();
    let remaining = per_week.saturating_sub(load.committed_internal_minutes);
    if remaining < need.estimated_minutes {
        return None;
    }

    let skilled = f.functions.contains(&need.function);
    let capacity_share = if per_week == 0 {
        0.0
    } else {
        f64::from(remaining) / f64::from(per_week)
    };
    let past = load.past_interventions_with_structure;
    let on_site = need.modality == Modality::OnSite;
    let comes = on_site && covers_on_site(f, &need.structure);
    let score = if skilled { SKILL_WEIGHT } else { 0.0 }
        + link.weight()
        + CAPACITY_WEIGHT * capacity_share
        + CONTINUITY_WEIGHT * f64::from(past.min(CONTINUITY_CAP))
        + if comes { ON_SITE_WEIGHT } else { 0.0 };

    let label = catalogue::label_fr(&need.function);
    let mut reasons = vec![
        if skilled {
            format!("compétence déclarée sur la fonction « {label} »")
        } else {
            format!("pas de compétence déclarée sur la fonction « {label} » (aide générale)")
        },
        link.reason(&need.structure),
        format!("{remaining} min disponibles cette semaine sur {per_week} min réservées au soutien interne"),
        match past {
            0 => "n'a encore jamais aidé la structure".to_owned(),
            1 => "a déjà aidé la structure une fois".to_owned(),
            n => format!("a déjà aidé la structure {n} fois"),
        },
    ];
    if on_site {
        reasons.push(if comes {
            "peut se déplacer dans la structure (aide sur place demandée)".to_owned()
        } else {
            "ne couvre pas le territoire de la structure : aide sur place moins probable".to_owned()
        });
    }
    Some(Ranked {
        facilitator_id: f.id.clone(),
        score,
        remaining_internal_minutes: remaining,
        reasons,
    })
}

#[cfg(test)]
mod tests;
