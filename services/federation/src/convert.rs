//! Between protobuf messages and the domain's types. Snapshots received from
//! a region are hostile until checked: sizes bounded, identifiers shaped,
//! suppressed cells empty.

use chrono::{DateTime, NaiveDate, Utc};
use vigie_federation_domain::facts::Band;
use vigie_federation_domain::rollup::RollupRow;
use vigie_federation_domain::secrecy::{Cell, PublishedFunction, PublishedGroup, PublishedSnapshot, MIN_THRESHOLD};
use vigie_proto::dates::{date_from_pb, date_to_pb, rfc3339};
use vigie_proto::events::v1::FragilityAssessed;
use vigie_proto::federation::v1 as pb;
use vigie_proto::inventory::v1::Band as PbBand;

use crate::storage::{Assessment, RegionRow};

/// The vital function submission of a funding application rests on.
const FUNDING_APPLICATIONS: &str = "funding_applications";
/// Bounds of a received snapshot (a region has at most a few hundred
/// networks; a department code is 2–3 characters).
const MAX_GROUPS: usize = 10_000;
const MAX_FUNCTIONS: usize = 200;
const MAX_KEY: usize = 64;

/// The reduced assessment of a `FragilityAssessed` event.
///
/// # Errors
/// A message without its fragility or its date.
pub fn assessment(event: &FragilityAssessed) -> Result<Assessment, String> {
    let f = event.fragility.as_ref().ok_or("no fragility")?;
    let on = event
        .evaluated_on
        .as_ref()
        .or(f.evaluated_on.as_ref())
        .and_then(date_from_pb)
        .ok_or("no evaluation date")?;
    let band = match PbBand::try_from(f.band).unwrap_or(PbBand::Unspecified) {
        PbBand::Low => Band::Low,
        PbBand::Moderate => Band::Moderate,
        PbBand::High => Band::High,
        PbBand::Critical => Band::Critical,
        PbBand::Unknown | PbBand::Unspecified => Band::Unknown,
    };
    let funding_holders = f
        .functions
        .iter()
        .find(|x| x.code == FUNDING_APPLICATIONS)
        .map_or(0, |x| u32::try_from(x.holder_ids.len()).unwrap_or(u32::MAX));
    Ok(Assessment {
        structure_id: f.structure_id.clone(),
        network: f.network.clone(),
        band,
        score: if band == Band::Unknown { None } else { f.score },
        orphan_functions: f.orphan_functions.clone(),
        single_functions: f.spof_functions.clone(),
        director_dependency: f.director_dependency.clamp(0.0, 1.0),
        funding_holders,
        assessed_on: on,
    })
}

fn cell_to_pb(cell: Cell) -> pb::Cell {
    pb::Cell {
        value: if cell.suppressed { 0 } else { cell.value },
        suppressed: cell.suppressed,
        partial: cell.partial,
    }
}

fn cell_from_pb(cell: Option<&pb::Cell>) -> Result<Cell, String> {
    let cell = cell.copied().unwrap_or_default();
    if cell.suppressed && cell.value != 0 {
        // A region must never send a suppressed value: refuse the snapshot
        // rather than keep what it should not have sent.
        return Err("cellule masquée portant une valeur".to_owned());
    }
    if cell.partial {
        return Err("cellule partielle dans un instantané".to_owned());
    }
    Ok(Cell {
        value: cell.value,
        suppressed: cell.suppressed,
        partial: false,
    })
}

fn group_to_pb(g: &PublishedGroup) -> pb::GroupFigures {
    pb::GroupFigures {
        key: g.key.clone(),
        structures: Some(cell_to_pb(g.structures)),
        band_unknown: Some(cell_to_pb(g.bands[0])),
        band_low: Some(cell_to_pb(g.bands[1])),
        band_moderate: Some(cell_to_pb(g.bands[2])),
        band_high: Some(cell_to_pb(g.bands[3])),
        band_critical: Some(cell_to_pb(g.bands[4])),
        score_mean: g.score_mean,
        score_q1: g.score_q1,
        score_median: g.score_median,
        score_q3: g.score_q3,
        director_dependent: Some(cell_to_pb(g.director_dependent)),
        deadline_at_risk: Some(cell_to_pb(g.deadline_at_risk)),
        reminders_sent: Some(cell_to_pb(g.reminders_sent)),
        reminders_acknowledged: Some(cell_to_pb(g.reminders_acknowledged)),
        facilitation_minutes_internal: Some(cell_to_pb(g.minutes_internal)),
        facilitation_minutes_external: Some(cell_to_pb(g.minutes_external)),
        training_completions: Some(cell_to_pb(g.training_completions)),
        reporting_at_risk: Some(cell_to_pb(g.reporting_at_risk)),
        grants_won: Some(cell_to_pb(g.grants_won)),
        grants_refused: Some(cell_to_pb(g.grants_refused)),
        amount_granted_euros: Some(cell_to_pb(g.amount_granted_euros)),
        functions: g
            .functions
            .iter()
            .map(|f| pb::FunctionFigures {
                function: f.function.clone(),
                orphan: Some(cell_to_pb(f.orphan)),
                single_holder: Some(cell_to_pb(f.single_holder)),
            })
            .collect(),
    }
}

fn key_ok(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= MAX_KEY
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

fn statistic(value: Option<f64>) -> Result<Option<f64>, String> {
    match value {
        Some(v) if !(0.0..=100.0).contains(&v) => Err(format!("statistique de score hors bornes : {v}")),
        other => Ok(other),
    }
}

fn group_from_pb(g: &pb::GroupFigures) -> Result<PublishedGroup, String> {
    if !key_ok(&g.key) {
        return Err(format!(
            "clé de groupe invalide : {:?}",
            g.key.chars().take(MAX_KEY).collect::<String>()
        ));
    }
    if g.functions.len() > MAX_FUNCTIONS {
        return Err(format!("trop de fonctions : {}", g.functions.len()));
    }
    let functions = g
        .functions
        .iter()
        .map(|f| {
            if !key_ok(&f.function) {
                return Err("code de fonction invalide".to_owned());
            }
            Ok(PublishedFunction {
                function: f.function.clone(),
                orphan: cell_from_pb(f.orphan.as_ref())?,
                single_holder: cell_from_pb(f.single_holder.as_ref())?,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(PublishedGroup {
        key: g.key.clone(),
        structures: cell_from_pb(g.structures.as_ref())?,
        bands: [
            cell_from_pb(g.band_unknown.as_ref())?,
            cell_from_pb(g.band_low.as_ref())?,
            cell_from_pb(g.band_moderate.as_ref())?,
            cell_from_pb(g.band_high.as_ref())?,
            cell_from_pb(g.band_critical.as_ref())?,
        ],
        score_mean: statistic(g.score_mean)?,
        score_q1: statistic(g.score_q1)?,
        score_median: statistic(g.score_median)?,
        score_q3: statistic(g.score_q3)?,
        director_dependent: cell_from_pb(g.director_dependent.as_ref())?,
        deadline_at_risk: cell_from_pb(g.deadline_at_risk.as_ref())?,
        reminders_sent: cell_from_pb(g.reminders_sent.as_ref())?,
        reminders_acknowledged: cell_from_pb(g.reminders_acknowledged.as_ref())?,
        minutes_internal: cell_from_pb(g.facilitation_minutes_internal.as_ref())?,
        minutes_external: cell_from_pb(g.facilitation_minutes_external.as_ref())?,
        training_completions: cell_from_pb(g.training_completions.as_ref())?,
        reporting_at_risk: cell_from_pb(g.reporting_at_risk.as_ref())?,
        grants_won: cell_from_pb(g.grants_won.as_ref())?,
        grants_refused: cell_from_pb(g.grants_refused.as_ref())?,
        amount_granted_euros: cell_from_pb(g.amount_granted_euros.as_ref())?,
        functions,
    })
}

/// The event payload of a published snapshot.
pub fn snapshot_to_pb(
    region: &str,
    evaluated_on: NaiveDate,
    sequence: u64,
    computed_at: DateTime<Utc>,
    snapshot: &PublishedSnapshot,
) -> pb::RegionSnapshot {
    pb::RegionSnapshot {
        region: region.to_owned(),
        evaluated_on: Some(date_to_pb(evaluated_on)),
        sequence,
        threshold: snapshot.threshold,
        networks: snapshot.networks.iter().map(group_to_pb).collect(),
        departments: snapshot.departments.iter().map(group_to_pb).collect(),
        computed_at: rfc3339(computed_at),
    }
}

/// The domain snapshot of a payload, checked.
///
/// # Errors
/// A malformed or oversized snapshot (French message).
pub fn snapshot_from_pb(s: &pb::RegionSnapshot) -> Result<PublishedSnapshot, String> {
    if s.threshold < MIN_THRESHOLD {
        return Err(format!(
            "seuil de secret statistique {} inférieur à {MIN_THRESHOLD}",
            s.threshold
        ));
    }
    if s.networks.len() > MAX_GROUPS || s.departments.len() > MAX_GROUPS {
        return Err("trop de groupes".to_owned());
    }
    Ok(PublishedSnapshot {
        threshold: s.threshold,
        networks: s.networks.iter().map(group_from_pb).collect::<Result<_, _>>()?,
        departments: s.departments.iter().map(group_from_pb).collect::<Result<_, _>>()?,
    })
}

/// The row to keep for a received snapshot, checked.
///
/// # Errors
/// A malformed snapshot (French message).
pub fn received(s: &pb::RegionSnapshot, now: &DateTime<Utc>) -> Result<RegionRow, String> {
    if !key_ok(&s.region) {
        return Err("identifiant de région invalide".to_owned());
    }
    let evaluated_on = s
        .evaluated_on
        .as_ref()
        .and_then(date_from_pb)
        .ok_or("date d'évaluation absente")?;
    let computed_at = DateTime::parse_from_rfc3339(&s.computed_at)
        .map_err(|_| "heure de calcul invalide".to_owned())?
        .with_timezone(&Utc);
    snapshot_from_pb(s)?;
    Ok(RegionRow {
        region: s.region.clone(),
        sequence: s.sequence,
        evaluated_on,
        computed_at: rfc3339(computed_at),
        received_at: rfc3339(*now),
        bytes: prost::Message::encode_to_vec(s),
    })
}

/// A roll-up row for the API.
pub fn row_to_pb(row: &RollupRow, label: String) -> pb::RollupRow {
    pb::RollupRow {
        region: row.region.clone(),
        key: row.key.clone(),
        label,
        figures: row.figures.as_ref().map(group_to_pb),
        orphan: Some(cell_to_pb(row.orphan)),
        single_holder: Some(cell_to_pb(row.single_holder)),
        suppressed_cells: row.suppressed_cells,
        data_date: Some(date_to_pb(row.data_date)),
        stale: row.stale,
    }
}
