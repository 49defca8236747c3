//! Conversions between the inventory's snapshot messages, the domain and the
//! training API.

use vigie_fragility_model::model::{FunctionRecord, HoldingRecord, PersonRecord, StructureInventory, StructureRecord};
use vigie_platform::words::{words, Term, Words};
use vigie_proto::inventory::v1 as inv;

pub use vigie_proto::dates::{date_from_pb, date_to_pb};

/// The inventory snapshot of a structure as domain data.
///
/// # Errors
/// A message naming the first invalid code (the inventory validated
/// everything, so this means the two services disagree on a vocabulary).
pub fn structure_from_pb(s: &inv::Structure) -> Result<StructureInventory, Words> {
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

/// The protobuf band of a domain band.
pub fn band_to_pb(band: vigie_fragility_model::fragility::Band) -> inv::Band {
    use vigie_fragility_model::fragility::Band;
    match band {
        Band::Unknown => inv::Band::Unknown,
        Band::Low => inv::Band::Low,
        Band::Moderate => inv::Band::Moderate,
        Band::High => inv::Band::High,
        Band::Critical => inv::Band::Critical,
    }
}
