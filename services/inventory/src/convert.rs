//! Conversions between the domain's plain data and the protobuf messages of
//! the API and the events.

use chrono::NaiveDate;
use vigie_fragility_model::catalogue;
use vigie_fragility_model::explain::{explain, Lang};
use vigie_fragility_model::fragility::{Assessment, Band};
use vigie_fragility_model::model::{HoldingRecord, StructureInventory};
use vigie_inventory_domain::rollup::RollupGroup;
use vigie_platform::words;
use vigie_proto::common::v1::Date;
pub use vigie_proto::dates::date_to_pb;
use vigie_proto::inventory::v1 as pb;

use crate::app::views::VersionedInventory;
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

/// The protobuf band of a domain band.
pub fn band_to_pb(band: Band) -> pb::Band {
    match band {
        Band::Unknown => pb::Band::Unknown,
        Band::Low => pb::Band::Low,
        Band::Moderate => pb::Band::Moderate,
        Band::High => pb::Band::High,
        Band::Critical => pb::Band::Critical,
    }
}

/// The language asked for in a request (`fr` unless `en`).
pub fn lang_from_pb(lang: &str) -> Lang {
    if lang.eq_ignore_ascii_case("en") || lang.to_ascii_lowercase().starts_with("en_") {
        Lang::En
    } else {
        Lang::Fr
    }
}

/// A holding as a protobuf message.
pub fn holding_to_pb(h: &HoldingRecord) -> pb::Holding {
    pb::Holding {
        person_id: h.person_id.clone(),
        function: h.function.clone(),
        level: u32::from(h.level),
        last_practised: h.last_practised.map(date_to_pb),
        evidence: h.evidence.as_str().to_owned(),
    }
}

/// A stored structure with its whole inventory.
/// A person of the inventory.
pub fn person_to_pb(p: &vigie_fragility_model::model::PersonRecord) -> pb::Person {
    pb::Person {
        person_id: p.id.clone(),
        display_name: p.display_name.clone(),
        role: p.role.as_str().to_owned(),
        end_date: p.end_date.map(date_to_pb),
        email: p.email.clone().unwrap_or_default(),
    }
}

/// The inventory as a message.
pub fn structure_to_pb(stored: &VersionedInventory) -> pb::Structure {
    let inv = &stored.inventory;
    let s = &inv.structure;
    pb::Structure {
        structure_id: s.id.clone(),
        name: s.name.clone(),
        network: s.network.clone(),
        legal_form: s.legal_form.as_str().to_owned(),
        siret: s.siret.clone().unwrap_or_default(),
        rna: s.rna.clone().unwrap_or_default(),
        region_code: s.region_code.clone(),
        department_code: s.department_code.clone(),
        commune_insee: s.commune_insee.clone(),
        people: inv.people.iter().map(person_to_pb).collect(),
        functions: inv
            .functions
            .iter()
            .map(|f| pb::VitalFunction {
                code: f.code.clone(),
                criticality: u32::from(f.criticality),
                tools: f.tools.clone(),
                label: catalogue::label_fr(&f.code),
            })
            .collect(),
        holdings: inv.holdings.iter().map(holding_to_pb).collect(),
        version: u64::try_from(stored.version).unwrap_or_default(),
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
