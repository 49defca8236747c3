//! Conversions between the domain's plain data and the protobuf messages of
//! the API and the events.

use chrono::NaiveDate;
use vigie_fragility_model::catalogue;
use vigie_fragility_model::explain::{explain, Lang};
use vigie_fragility_model::fragility::Assessment;
use vigie_fragility_model::model::StructureInventory;
use vigie_inventory_domain::rollup::RollupGroup;
pub use vigie_inventory_snapshot::{band_to_pb, holding_to_pb, person_to_pb, structure_to_pb};
use vigie_platform::words;
use vigie_proto::common::v1::Date;
pub use vigie_proto::dates::date_to_pb;
use vigie_proto::inventory::v1 as pb;

use crate::error::InventoryError;

/// A protobuf date as a domain date.
///
/// # Errors
/// [`InventoryError::Invalid`] when the date does not exist.
pub fn date_from_pb(date: &Date) -> Result<NaiveDate, InventoryError> {
    NaiveDate::from_ymd_opt(date.year, date.month, date.day).ok_or_else(|| {
        InventoryError::Invalid(words!(
            "date invalide : {:04}-{:02}-{:02}",
            "invalid date: {:04}-{:02}-{:02}",
            date.year,
            date.month,
            date.day
        ))
    })
}

/// The language asked for in a request (`fr` unless `en`).
pub fn lang_from_pb(lang: &str) -> Lang {
    if lang.eq_ignore_ascii_case("en") || lang.to_ascii_lowercase().starts_with("en_") {
        Lang::En
    } else {
        Lang::Fr
    }
}

/// The fragility of a structure, with plain-language explanations.
pub fn fragility_to_pb(inv: &StructureInventory, assessment: &Assessment, lang: Lang) -> pb::StructureFragility {
    let name_of = |id: &str| {
        inv.people
            .iter()
            .find(|p| p.id == id)
            .map(|p| p.display_name.clone())
            .unwrap_or_default()
    };
    let (top_id, top_name, top_share) = match &assessment.top_key_person {
        Some(kp) => (kp.person_id.clone(), name_of(&kp.person_id), kp.share),
        None => (String::new(), String::new(), 0.0),
    };
    pb::StructureFragility {
        structure_id: inv.structure.id.clone(),
        name: inv.structure.name.clone(),
        network: inv.structure.network.clone(),
        evaluated_on: Some(date_to_pb(assessment.evaluated_on)),
        band: band_to_pb(assessment.band) as i32,
        score: assessment.score,
        truck_factor: assessment.truck_factor,
        orphan_functions: assessment.orphan_functions.clone(),
        spof_functions: assessment.spof_functions.clone(),
        top_key_person_id: top_id,
        top_key_person_name: top_name,
        top_key_person_share: top_share,
        director_dependency: assessment.director_dependency,
        functions: assessment
            .functions
            .iter()
            .map(|f| pb::FunctionExposure {
                code: f.code.clone(),
                label: catalogue::label_fr(&f.code),
                criticality: u32::from(f.criticality),
                holder_ids: f.holders.clone(),
                risk: f.risk,
            })
            .collect(),
        explanations: explain(inv, assessment, lang),
    }
}

/// A roll-up group as a protobuf message.
pub fn rollup_group_to_pb(group: &RollupGroup) -> pb::RollupGroup {
    pb::RollupGroup {
        key: group.key.clone(),
        structures: group.structures,
        unknown: group.unknown,
        low: group.low,
        moderate: group.moderate,
        high: group.high,
        critical: group.critical,
        mean_score: group.mean_score,
        functions: group
            .functions
            .iter()
            .map(|f| pb::FunctionShare {
                code: f.code.clone(),
                structures: f.structures,
                orphan_share: f.orphan_share,
                spof_share: f.spof_share,
            })
            .collect(),
    }
}
