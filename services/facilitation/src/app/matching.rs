//! Offering a request to the best ranked facilitator with internal time left
//! this week. Reservation is a conditional UPDATE on the facilitator's week
//! row (`committed + minutes <= capacity`): when it fails (another request
//! took the time meanwhile), the next ranked facilitator is tried, so
//! concurrent requests never exceed anyone's capacity.
//!
//! A structure's own request comes first: when nobody ranked has the time
//! left, the automatic proposals (fragility, co-submission) offered to a
//! ranked facilitator and not answered yet give their minutes back, newest
//! first, and wait unassigned with the reason.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::AnyConnection;
use vigie_facilitation_domain::matching::{rank, Need, Ranked, StructurePlace};
use vigie_facilitation_domain::model::{week_start, Modality};
use vigie_fragility_model::catalogue::label_fr;

use super::views::{CallRef, HelpRequest};
use crate::error::FacilitationError;
use crate::storage;

use super::{DEFAULT_MINUTES, KIND_CO_SUBMISSION, KIND_FRAGILITY, KIND_HELP, OFFERED, UNASSIGNED};

/// Offers `row` (not yet offered, or just released) to the best ranked
/// facilitator who has not declined it, reserving its minutes in the week of
/// `today` and timestamping the offer with `now`; otherwise marks it
/// unassigned with the reason in French.
///
/// # Errors
/// Storage errors.
pub(crate) async fn offer(
    conn: &mut AnyConnection,
    row: &mut HelpRequest,
    place: &StructurePlace,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<(), FacilitationError> {
    let week = week_start(today);
    let facilitators = storage::facilitators(conn).await?;
    let loads = storage::loads(conn, week, &place.structure_id).await?;
    let need = Need {
        structure: place.clone(),
        function: row.function.clone(),
        estimated_minutes: row.estimated_minutes,
        on: today,
        modality: row.modality.parse().unwrap_or(Modality::Either),
    };
    let ranked: Vec<_> = rank(&need, &facilitators, &loads)
        .into_iter()
        .filter(|r| !row.declined_by.contains(&r.facilitator_id))
        .collect();
    // Week rows are created first, in id order, before any reservation: two
    // transactions never wait on each other's new rows in opposite orders.
    let mut ids: Vec<&str> = ranked.iter().map(|r| r.facilitator_id.as_str()).collect();
    ids.sort_unstable();
    for id in ids {
        if let Some(f) = facilitators.iter().find(|f| f.id == id) {
            storage::ensure_capacity(conn, id, week, f.internal_minutes_per_week()).await?;
        }
    }
    let offered = |row: &mut HelpRequest, candidate: &Ranked| {
        row.status = OFFERED.to_owned();
        row.facilitator_id = Some(candidate.facilitator_id.clone());
        row.facilitator_name = facilitators
            .iter()
            .find(|f| f.id == candidate.facilitator_id)
            .map(|f| f.display_name.clone());
        row.week_start = Some(week);
        row.reasons = candidate.reasons.clone();
        row.offered_at = Some(now);
        row.overdue_at = None;
    };
    for candidate in &ranked {
        if storage::reserve(conn, &candidate.facilitator_id, week, row.estimated_minutes).await? {
            offered(row, candidate);
            return Ok(());
        }
    }
    // Who would cover the need if they had time left (ranked the same way).
    let covering: Vec<Ranked> = rank(
        &Need {
            estimated_minutes: 0,
            ..need
        },
        &facilitators,
        &loads,
    )
    .into_iter()
    .filter(|r| !row.declined_by.contains(&r.facilitator_id))
    .collect();
    // Nobody has the time left: a structure's own request comes before the
    // proposals Vigie opened by itself, which give back their minutes.
    if row.kind == KIND_HELP {
        for candidate in &covering {
            if make_room(conn, &candidate.facilitator_id, week, row.estimated_minutes).await?
                && storage::reserve(conn, &candidate.facilitator_id, week, row.estimated_minutes).await?
            {
                offered(row, candidate);
                return Ok(());
            }
        }
    }
    row.status = UNASSIGNED.to_owned();
    row.facilitator_id = None;
    row.facilitator_name = None;
    row.week_start = None;
    row.offered_at = None;
    row.overdue_at = None;
    let function = label_fr(&row.function);
    let covering = covering.len();
    row.reasons = vec![if covering == 0 && row.declined_by.is_empty() {
        format!(
            "aucun facilitateur ne couvre la fonction « {function} » pour cette structure (territoire, réseau ou structures servies)"
        )
    } else if covering == 0 {
        format!("tous les facilitateurs pouvant aider sur « {function} » ont décliné la demande")
    } else {
        format!(
            "les facilitateurs pouvant aider sur « {function} » n'ont plus assez de temps réservé aux besoins internes cette semaine ({} min demandées)",
            row.estimated_minutes
        )
    }];
    Ok(())
}

/// Frees `minutes` of `facilitator`'s week, if taking back the automatic
/// proposals offered to them and not answered yet (newest offer first) is
/// enough: each taken back gives its minutes back and waits, unassigned,
/// with the reason. Returns whether the minutes now fit; takes nothing back
/// when they cannot.
///
/// # Errors
/// Storage errors.
async fn make_room(
    conn: &mut AnyConnection,
    facilitator: &str,
    week: NaiveDate,
    minutes: u32,
) -> Result<bool, FacilitationError> {
    let Some((capacity, committed)) = storage::capacity(conn, facilitator, week).await? else {
        return Ok(false);
    };
    let mut free = capacity.saturating_sub(committed);
    let mut taken = Vec::new();
    for id in storage::offered_proposals(conn, facilitator, week, KIND_HELP).await? {
        if free >= minutes {
            break;
        }
        // Locked, then read again: it may have been answered meanwhile.
        storage::lock_request(conn, &id).await?;
        let Some(proposal) = storage::request(conn, &id).await? else {
            continue;
        };
        if proposal.status != OFFERED || proposal.facilitator_id.as_deref() != Some(facilitator) {
            continue;
        }
        free = free.saturating_add(proposal.estimated_minutes);
        taken.push(proposal);
    }
    if free < minutes {
        return Ok(false);
    }
    for mut proposal in taken {
        storage::release(conn, facilitator, week, proposal.estimated_minutes).await?;
        let name = proposal
            .facilitator_name
            .take()
            .unwrap_or_else(|| facilitator.to_owned());
        proposal.status = UNASSIGNED.to_owned();
        proposal.facilitator_id = None;
        proposal.week_start = None;
        proposal.offered_at = None;
        proposal.overdue_at = None;
        proposal.reasons = vec![format!(
            "proposition reprise à {name} : son temps de la semaine est allé à une demande d'aide d'une structure, prioritaire sur les propositions automatiques"
        )];
        storage::update_request(conn, &proposal).await?;
    }
    Ok(true)
}

/// Opens a proactive proposal on `function` of a fragile structure, offered
/// to the best facilitator — unless one is already open for that structure
/// and function (unique key: a replayed or repeated event opens nothing).
/// Returns the proposal when one was opened.
///
/// # Errors
/// Storage errors.
pub async fn open_proposal(
    conn: &mut AnyConnection,
    place: &StructurePlace,
    function: &str,
    description: String,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Option<HelpRequest>, FacilitationError> {
    let mut row = proposal_row(place, function, description, today, now);
    row.open_key = Some(format!("{}/{function}", place.structure_id));
    open(conn, row, place, today, now).await
}

/// A co-submission proposal to open on an alerting escalation.
#[derive(Debug, Clone)]
pub struct CallProposal {
    /// The function submission rests on (`funding_applications`).
    pub function: String,
    /// The call and the escalated deadline.
    pub call: CallRef,
    /// What the facilitator is asked (plain French).
    pub description: String,
    /// When the support should be done (J-7, or today when that has passed).
    pub due_on: NaiveDate,
}

/// Opens a co-submission proposal on a call of a structure, offered to the
/// best facilitator for the proposal's function — unless one is already open
/// for that structure and call (unique key `structure/call:<id>`: a replayed
/// or repeated escalation opens nothing and reserves nothing). Returns the
/// proposal when one was opened.
///
/// # Errors
/// Storage errors.
pub async fn open_call_proposal(
    conn: &mut AnyConnection,
    place: &StructurePlace,
    proposal: CallProposal,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Option<HelpRequest>, FacilitationError> {
    let mut row = proposal_row(place, &proposal.function, proposal.description, today, now);
    row.open_key = Some(format!("{}/call:{}", place.structure_id, proposal.call.call_id));
    row.kind = KIND_CO_SUBMISSION.to_owned();
    row.due_on = Some(proposal.due_on);
    row.call = Some(proposal.call);
    open(conn, row, place, today, now).await
}

/// A proactive proposal not yet offered (a fragility one; callers adjust).
fn proposal_row(
    place: &StructurePlace,
    function: &str,
    description: String,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> HelpRequest {
    HelpRequest {
        description,
        urgency: "high".to_owned(),
        ..unassigned("proposal", KIND_FRAGILITY, place, function, today, now)
    }
}

/// A new request or proposal of `place` about `function`, not yet offered
/// to anyone, with the default terms (normal urgency, either modality, no
/// deadline, [`DEFAULT_MINUTES`]): the one place that knows what a fresh
/// row holds, so that asked requests and opened proposals cannot drift
/// apart. Callers set the description and any other terms.
pub(super) fn unassigned(
    origin: &str,
    kind: &str,
    place: &StructurePlace,
    function: &str,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> HelpRequest {
    HelpRequest {
        request_id: uuid::Uuid::now_v7().to_string(),
        origin: origin.to_owned(),
        structure_id: place.structure_id.clone(),
        network_id: place.network.clone(),
        function: function.to_owned(),
        description: String::new(),
        urgency: "normal".to_owned(),
        modality: "either".to_owned(),
        due_on: None,
        estimated_minutes: DEFAULT_MINUTES,
        status: UNASSIGNED.to_owned(),
        facilitator_id: None,
        facilitator_name: None,
        week_start: None,
        reasons: Vec::new(),
        declined_by: Vec::new(),
        created_on: today,
        open_key: None,
        created_at: Some(now),
        offered_at: None,
        accepted_at: None,
        closed_at: None,
        escalated_at: None,
        overdue_at: None,
        kind: kind.to_owned(),
        call: None,
    }
}

/// Inserts `row` under its open key, then offers it: when the key is taken
/// (a proposal already open), nothing is inserted nor reserved.
async fn open(
    conn: &mut AnyConnection,
    mut row: HelpRequest,
    place: &StructurePlace,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Option<HelpRequest>, FacilitationError> {
    if !storage::insert_request(conn, &row).await? {
        return Ok(None);
    }
    offer(conn, &mut row, place, today, now).await?;
    storage::update_request(conn, &row).await?;
    Ok(Some(row))
}
