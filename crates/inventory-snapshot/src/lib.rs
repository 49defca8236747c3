//! The inventory's snapshot of a structure on the wire — the
//! `structure.inventoried` event's payload and `GetStructure`'s answer: the
//! inventory model ([`StructureInventory`]) to its message and back, and the
//! fragility band's message.
//!
//! One home for both directions, so that the inventory that writes a
//! snapshot and the services that read one (training's plans, the tests that
//! feed read models) cannot drift apart: the tests round-trip generated
//! inventories through them.

use vigie_fragility_model::catalogue;
use vigie_fragility_model::fragility::Band;
use vigie_fragility_model::model::{FunctionRecord, HoldingRecord, PersonRecord, StructureInventory, StructureRecord};
use vigie_proto::dates::{date_from_pb, date_to_pb};
use vigie_proto::inventory::v1 as pb;
use vigie_words::{words, Term, Words};

/// The inventory of a structure at `version` as a message.
pub fn structure_to_pb(inventory: &StructureInventory, version: i64) -> pb::Structure {
    let s = &inventory.structure;
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
        people: inventory.people.iter().map(person_to_pb).collect(),
        functions: inventory
            .functions
            .iter()
            .map(|f| pb::VitalFunction {
                code: f.code.clone(),
                criticality: u32::from(f.criticality),
                tools: f.tools.clone(),
                label: catalogue::label_fr(&f.code),
            })
            .collect(),
        holdings: inventory.holdings.iter().map(holding_to_pb).collect(),
        version: u64::try_from(version).unwrap_or_default(),
    }
}

/// A person of the inventory as a message.
pub fn person_to_pb(p: &PersonRecord) -> pb::Person {
    pb::Person {
        person_id: p.id.clone(),
        display_name: p.display_name.clone(),
        role: p.role.as_str().to_owned(),
        end_date: p.end_date.map(date_to_pb),
        email: p.email.clone().unwrap_or_default(),
    }
}

/// A holding as a message.
pub fn holding_to_pb(h: &HoldingRecord) -> pb::Holding {
    pb::Holding {
        person_id: h.person_id.clone(),
        function: h.function.clone(),
        level: u32::from(h.level),
        last_practised: h.last_practised.map(date_to_pb),
        evidence: h.evidence.as_str().to_owned(),
    }
}

/// The inventory snapshot of a structure as domain data.
///
/// # Errors
/// A message naming the first invalid code (the inventory validated
/// everything, so this means the two services disagree on a vocabulary).
pub fn structure_from_pb(s: &pb::Structure) -> Result<StructureInventory, Words> {
    let id = &s.structure_id;
    let bad = |what: Term, value: &str| {
        let en = what.en;
        words!(
            "{what} « {value} » inconnu dans l'instantané de {id}",
            "unknown {en} “{value}” in the snapshot of {id}"
        )
    };
    let structure = StructureRecord {
        id: s.structure_id.clone(),
        name: s.name.clone(),
        network: s.network.clone(),
        legal_form: s
            .legal_form
            .parse()
            .map_err(|_| bad(Term::new("forme juridique", "legal form"), &s.legal_form))?,
        siret: (!s.siret.is_empty()).then(|| s.siret.clone()),
        rna: (!s.rna.is_empty()).then(|| s.rna.clone()),
        region_code: s.region_code.clone(),
        department_code: s.department_code.clone(),
        commune_insee: s.commune_insee.clone(),
    };
    let people = s
        .people
        .iter()
        .map(|p| {
            Ok(PersonRecord {
                id: p.person_id.clone(),
                structure_id: s.structure_id.clone(),
                display_name: p.display_name.clone(),
                role: p.role.parse().map_err(|_| bad(Term::new("rôle", "role"), &p.role))?,
                end_date: p.end_date.as_ref().and_then(date_from_pb),
                email: (!p.email.is_empty()).then(|| p.email.clone()),
            })
        })
        .collect::<Result<Vec<_>, Words>>()?;
    let functions = s
        .functions
        .iter()
        .map(|f| FunctionRecord {
            structure_id: s.structure_id.clone(),
            code: f.code.clone(),
            criticality: u8::try_from(f.criticality).unwrap_or(1),
            tools: f.tools.clone(),
        })
        .collect();
    let holdings = s
        .holdings
        .iter()
        .map(|h| {
            Ok(HoldingRecord {
                person_id: h.person_id.clone(),
                function: h.function.clone(),
                level: u8::try_from(h.level).unwrap_or(0),
                last_practised: h.last_practised.as_ref().and_then(date_from_pb),
                evidence: h
                    .evidence
                    .parse()
                    .map_err(|_| bad(Term::new("preuve", "evidence"), &h.evidence))?,
            })
        })
        .collect::<Result<Vec<_>, Words>>()?;
    Ok(StructureInventory {
        structure,
        people,
        functions,
        holdings,
    })
}

/// The message of a fragility band.
pub fn band_to_pb(band: Band) -> pb::Band {
    match band {
        Band::Unknown => pb::Band::Unknown,
        Band::Low => pb::Band::Low,
        Band::Moderate => pb::Band::Moderate,
        Band::High => pb::Band::High,
        Band::Critical => pb::Band::Critical,
    }
}

#[cfg(test)]
mod tests;
