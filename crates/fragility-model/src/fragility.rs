//! The fragility index of `docs/fragility.md`: how exposed a structure is to
//! losing a vital digital function because the only people who can perform it
//! leave or are unavailable.
//!
//! [`assess`] is a pure function of the inventory, the evaluation date and the
//! parameters. Every collection it builds is ordered (`BTreeMap`, `BTreeSet`,
//! sorted vectors) and every floating-point sum or product is accumulated in a
//! fixed order (function codes, then person ids, in byte order), so the result
//! does not depend on the order of the input records — two runs on the same
//! inputs give bit-for-bit identical assessments.

use crate::holding;
use crate::model::{PersonRecord, Role, StructureInventory, UnknownCode};
use chrono::NaiveDate;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

/// Configuration of the index. The defaults are those of the specification;
/// changing them changes every score, so they belong to the instance
/// configuration, not to a request.
#[derive(Debug, Clone, PartialEq)]
pub struct FragilityParams {
    /// A holding practised more than this many days before the evaluation
    /// date no longer counts (skills fade and passwords change). Default 365.
    pub recency_days: i64,
    /// Horizon over which departures are anticipated: a person whose
    /// engagement ends within this many days is certain to be unavailable.
    /// Default 365.
    pub horizon_days: i64,
    /// Unavailability of a person whose engagement ends within the horizon.
    /// Default 1.0.
    pub q_fixed_term_leaving: f64,
    /// Unavailability of volunteers, board members and contractors, whose
    /// commitment is looser than an employee's. Default 0.30.
    pub q_volunteer_like: f64,
    /// Unavailability of every other role (directors, employees,
    /// facilitators). Default 0.15.
    pub q_default: f64,
    /// Share of the vital weight under which the structure is considered to
    /// have lost its functions, for the truck factor. Default 0.5 (Avelino).
    pub truck_factor_threshold: f64,
}

impl Default for FragilityParams {
    fn default() -> Self {
        Self {
            recency_days: 365,
            horizon_days: 365,
            q_fixed_term_leaving: 1.0,
            q_volunteer_like: 0.30,
            q_default: 0.15,
            truck_factor_threshold: 0.5,
        }
    }
}

/// Fragility band of a structure, from least to most exposed (`Unknown`
/// first because it is not a level of exposure but the absence of data).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Band {
    /// No vital function recorded: the structure has not been inventoried.
    /// Never reported as `Low`, so that silence is not mistaken for safety.
    Unknown,
    /// None of the rules below applies.
    Low,
    /// Some function is an orphan or a single point of failure, or score ≥ 15.
    Moderate,
    /// Some criticality-3 function is a single point of failure, or score ≥ 40.
    High,
    /// Some criticality-3 function is certain to be lost within the horizon.
    Critical,
}

impl Band {
    /// Every band, from `Unknown` to `Critical`.
    pub const ALL: &'static [Band] = &[Band::Unknown, Band::Low, Band::Moderate, Band::High, Band::Critical];

    /// The stable code used in files, APIs and events.
    pub fn as_str(self) -> &'static str {
        match self {
            Band::Unknown => "unknown",
            Band::Low => "low",
            Band::Moderate => "moderate",
            Band::High => "high",
            Band::Critical => "critical",
        }
    }

    /// The label shown to French-speaking users.
    pub fn label_fr(self) -> &'static str {
        match self {
            Band::Unknown => "inconnu (non inventorié)",
            Band::Low => "faible",
            Band::Moderate => "modérée",
            Band::High => "élevée",
            Band::Critical => "critique",
        }
    }
}

impl FromStr for Band {
    type Err = UnknownCode;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Band::ALL
            .iter()
            .copied()
            .find(|band| band.as_str() == s)
            .ok_or_else(|| UnknownCode {
                value: s.to_owned(),
                expected: "unknown, low, moderate, high, critical",
            })
    }
}

impl fmt::Display for Band {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The person whose departure alone would take away the largest share of
/// vital weight (the functions they are the only one to hold).
#[derive(Debug, Clone, PartialEq)]
pub struct KeyPerson {
    /// The person's id.
    pub person_id: String,
    /// `KP(p)`: weight of the functions `p` alone holds, over the total weight.
    pub share: f64,
}

/// Exposure of one vital function.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionExposure {
    /// Function code (catalogue or custom).
    pub code: String,
    /// Criticality `w_f`, 1–3.
    pub criticality: u8,
    /// Ids of the people who hold the function today, sorted in byte order.
    pub holders: Vec<String>,
    /// `risk_f`: probability that every holder is unavailable within the
    /// horizon (1 for an orphan).
    pub risk: f64,
}

/// The fragility index of one structure on one date.
#[derive(Debug, Clone, PartialEq)]
pub struct Assessment {
    /// The date the index was computed for (`today`).
    pub evaluated_on: NaiveDate,
    /// Fragility band.
    pub band: Band,
    /// Expected share of vital weight lost over the horizon, 0–100; `None`
    /// when the structure has not been inventoried.
    pub score: Option<u32>,
    /// Number of departures after which less than half of the vital weight
    /// is still covered (greedy); `None` when not inventoried.
    pub truck_factor: Option<u32>,
    /// Codes of the functions nobody holds, sorted.
    pub orphan_functions: Vec<String>,
    /// Codes of the functions exactly one person holds, sorted.
    pub spof_functions: Vec<String>,
    /// The person with the largest key-person share; `None` when no function
    /// is a single point of failure (every share would be 0).
    pub top_key_person: Option<KeyPerson>,
    /// Sum of the key-person shares of the directors, 0–1.
    pub director_dependency: f64,
    /// Exposure of every recorded function, sorted by code.
    pub functions: Vec<FunctionExposure>,
}

/// Tolerance when testing `risk_f = 1` or `risk_f ≥ 0.5`: the parameters are
/// configurable floats, so a product meant to be exactly 1 may be off by an ulp.
pub(crate) const RISK_TOLERANCE: f64 = 1e-12;

/// Rounds a non-negative percentage half up, as the specification asks:
/// `⌊x + 1/2⌋`, with 1e-9 added so that an exact half computed as
/// 22.4999999999 still rounds up. Negative or NaN inputs give 0.
pub(crate) fn round_half_up(x: f64) -> u32 {
    let rounded = (x + 0.5 + 1e-9).floor();
    if rounded.is_nan() || rounded <= 0.0 {
        0
    } else if rounded >= f64::from(u32::MAX) {
        u32::MAX
    } else {
        // In range and integral, so the conversion is exact.
        rounded as u32
    }
}

/// `q_p`: the probability that `person` is unavailable within the horizon.
fn unavailability(person: &PersonRecord, today: NaiveDate, params: &FragilityParams) -> f64 {
    // Computed as a signed day count rather than `today + horizon` so that a
    // huge configured horizon cannot overflow the calendar.
    let leaving = person
        .end_date
        .is_some_and(|end| end >= today && end.signed_duration_since(today).num_days() <= params.horizon_days);
    if leaving {
        params.q_fixed_term_leaving
    } else {
        match person.role {
            Role::Volunteer | Role::BoardMember | Role::Contractor => params.q_volunteer_like,
            Role::Director | Role::Employee | Role::Facilitator => params.q_default,
        }
    }
}

/// The people of an inventory by id. Ids are unique by contract; should a
/// malformed inventory repeat one, the record kept is the smallest by
/// (role, end date, name, e-mail, structure), so that the choice does not
/// depend on input order.
pub(crate) fn people_by_id(inventory: &StructureInventory) -> BTreeMap<&str, &PersonRecord> {
    let mut people: BTreeMap<&str, &PersonRecord> = BTreeMap::new();
    for person in &inventory.people {
        people
            .entry(person.id.as_str())
            .and_modify(|kept| {
                if person_key(person) < person_key(kept) {
                    *kept = person;
                }
            })
            .or_insert(person);
    }
    people
}

type PersonKey<'a> = (Role, Option<NaiveDate>, &'a str, Option<&'a str>, &'a str);

fn person_key(person: &PersonRecord) -> PersonKey<'_> {
    (
        person.role,
        person.end_date,
        person.display_name.as_str(),
        person.email.as_deref(),
        person.structure_id.as_str(),
    )
}

/// The recorded functions by code with their criticality. A code recorded
/// twice keeps its highest criticality (the cautious reading); criticalities
/// outside 1–3 (which validation rejects upstream) are clamped into 1–3 so
/// that the total weight is never 0 when a function exists.
fn recorded_functions(inventory: &StructureInventory) -> BTreeMap<&str, u8> {
    let mut functions: BTreeMap<&str, u8> = BTreeMap::new();
    for function in &inventory.functions {
        let w = function.criticality.clamp(1, 3);
        functions
            .entry(function.code.as_str())
            .and_modify(|kept| *kept = (*kept).max(w))
            .or_insert(w);
    }
    functions
}

/// Computes the fragility index of a structure on `today`.
///
/// Holdings on functions the structure does not record, or by people who are
/// not among its people, are ignored. Several holdings of the same person on
/// the same function count once: the person holds the function if any of
/// them qualifies (active, level ≥ 3, practised recently enough).
pub fn assess(inventory: &StructureInventory, today: NaiveDate, params: &FragilityParams) -> Assessment {
    let functions = recorded_functions(inventory);
    if functions.is_empty() {
        // Not inventoried: report nothing rather than a reassuring zero.
        return Assessment {
            evaluated_on: today,
            band: Band::Unknown,
            score: None,
            truck_factor: None,
            orphan_functions: Vec::new(),
            spof_functions: Vec::new(),
            top_key_person: None,
            director_dependency: 0.0,
            functions: Vec::new(),
        };
    }
    let people = people_by_id(inventory);

    // H_f for every recorded function (orphans keep an empty set).
    let mut holders: BTreeMap<&str, BTreeSet<&str>> = functions.keys().map(|code| (*code, BTreeSet::new())).collect();
    for holding in &inventory.holdings {
        let Some(function_holders) = holders.get_mut(holding.function.as_str()) else {
            continue;
        };
        let Some(person) = people.get(holding.person_id.as_str()) else {
            continue;
        };
        // The holding rule shared with alerting's recipients (`holding`).
        if holding::holds(holding.level, holding.last_practised, person.end_date, today, params) {
            function_holders.insert(person.id.as_str());
        }
    }

    let exposures: Vec<FunctionExposure> = functions
        .iter()
        .map(|(code, w)| {
            let h = &holders[code];
            // Product in person-id order: same factors, same order, same bits.
            let risk = h.iter().map(|id| unavailability(people[id], today, params)).product();
            FunctionExposure {
                code: (*code).to_owned(),
                criticality: *w,
                holders: h.iter().map(|id| (*id).to_owned()).collect(),
                risk,
            }
        })
        .collect();

    let total_weight: u32 = exposures.iter().map(|f| u32::from(f.criticality)).sum();
    let weighted_risk: f64 = exposures.iter().map(|f| f64::from(f.criticality) * f.risk).sum();
    // Evaluated exactly as written in the spec, 100·Σ / W, then rounded.
    let score = round_half_up(100.0 * weighted_risk / f64::from(total_weight)).min(100);

    let orphan_functions: Vec<String> = exposures
        .iter()
        .filter(|f| f.holders.is_empty())
        .map(|f| f.code.clone())
        .collect();
    let spof_functions: Vec<String> = exposures
        .iter()
        .filter(|f| f.holders.len() == 1)
        .map(|f| f.code.clone())
        .collect();

    // Key-person weights, summed as integers so that shares are exact ratios.
    let mut sole_weight: BTreeMap<&str, u32> = BTreeMap::new();
    for f in exposures.iter().filter(|f| f.holders.len() == 1) {
        *sole_weight.entry(f.holders[0].as_str()).or_default() += u32::from(f.criticality);
    }
    let mut top: Option<(&str, u32)> = None;
    for (id, weight) in &sole_weight {
        // Ids come in byte order and only a strictly larger weight replaces
        // the current best, so ties go to the smallest id.
        if top.is_none_or(|(_, best)| *weight > best) {
            top = Some((id, *weight));
        }
    }
    let top_key_person = top.map(|(id, weight)| KeyPerson {
        person_id: id.to_owned(),
        share: f64::from(weight) / f64::from(total_weight),
    });
    let director_weight: u32 = sole_weight
        .iter()
        .filter(|(id, _)| people.get(*id).is_some_and(|p| p.role == Role::Director))
        .map(|(_, weight)| *weight)
        .sum();
    let director_dependency = f64::from(director_weight) / f64::from(total_weight);

    let truck_factor =
        u32::try_from(truck_factor_removals(&exposures, params.truck_factor_threshold).len()).unwrap_or(u32::MAX);

    let band = if exposures
        .iter()
        .any(|f| f.criticality == 3 && f.risk >= 1.0 - RISK_TOLERANCE)
    {
        Band::Critical
    } else if exposures.iter().any(|f| f.criticality == 3 && f.holders.len() == 1) || score >= 40 {
        Band::High
    } else if !orphan_functions.is_empty() || !spof_functions.is_empty() || score >= 15 {
        Band::Moderate
    } else {
        Band::Low
    };

    Assessment {
        evaluated_on: today,
        band,
        score: Some(score),
        truck_factor: Some(truck_factor),
        orphan_functions,
        spof_functions,
        top_key_person,
        director_dependency,
        functions: exposures,
    }
}

/// The people removed by the greedy truck-factor algorithm (Avelino et al.),
/// in removal order; the truck factor is its length.
///
/// While the weight of the functions still covered by someone outside `S` is
/// at least `threshold · W`, the person outside `S` holding the largest weight
/// of still-covered functions joins `S`; ties go to the one holding more such
/// functions, then to the smallest id in byte order.
fn truck_factor_removals(functions: &[FunctionExposure], threshold: f64) -> Vec<&str> {
    let total_weight: u32 = functions.iter().map(|f| u32::from(f.criticality)).sum();
    let limit = threshold * f64::from(total_weight);
    let mut removed: BTreeSet<&str> = BTreeSet::new();
    let mut order = Vec::new();
    loop {
        let still_covered: Vec<&FunctionExposure> = functions
            .iter()
            .filter(|f| f.holders.iter().any(|h| !removed.contains(h.as_str())))
            .collect();
        let covered_weight: u32 = still_covered.iter().map(|f| u32::from(f.criticality)).sum();
        // With the default threshold 0.5 and integer weights, the product
        // 0.5·W is exact, so "≥ W/2" is decided without rounding error.
        if f64::from(covered_weight) < limit || still_covered.is_empty() {
            break;
        }
        // (weight, number of functions) of still-covered functions per person.
        let mut tally: BTreeMap<&str, (u32, u32)> = BTreeMap::new();
        for f in &still_covered {
            for h in f.holders.iter().filter(|h| !removed.contains(h.as_str())) {
                let entry = tally.entry(h.as_str()).or_default();
                entry.0 += u32::from(f.criticality);
                entry.1 += 1;
            }
        }
        let mut best: Option<(&str, (u32, u32))> = None;
        for (id, score) in tally {
            // Byte-order iteration + strict comparison: ties go to the smallest id.
            if best.is_none_or(|(_, best_score)| score > best_score) {
                best = Some((id, score));
            }
        }
        let Some((id, _)) = best else {
            // Unreachable: a covered function has a holder outside `S`.
            break;
        };
        removed.insert(id);
        order.push(id);
    }
    order
}

/// Builders of inventories for tests: this crate's unit tests, and, with the
/// `fixtures` feature, the tests of crates that compute on assessments
/// (the inventory's roll-ups) — one builder rather than one per crate.
#[cfg(any(test, feature = "fixtures"))]
pub mod fixtures {
    use crate::model::{
        Evidence, FunctionRecord, HoldingRecord, LegalForm, PersonRecord, Role, StructureInventory, StructureRecord,
    };
    use chrono::NaiveDate;

    /// A calendar date; panics on an invalid one (tests only).
    pub fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        match NaiveDate::from_ymd_opt(y, m, d) {
            Some(date) => date,
            None => panic!("invalid test date {y}-{m}-{d}"),
        }
    }

    /// `day` shifted by `days` (may be negative).
    pub fn shift(day: NaiveDate, days: i64) -> NaiveDate {
        match day.checked_add_signed(chrono::TimeDelta::days(days)) {
            Some(date) => date,
            None => panic!("date out of range"),
        }
    }

    /// Fluent builder of a [`StructureInventory`].
    pub struct Builder {
        inv: StructureInventory,
        /// The evidence of the holdings added next.
        evidence: Evidence,
    }

    impl Builder {
        /// An association `id` of network `net` with nothing recorded.
        pub fn new(id: &str) -> Self {
            Self {
                inv: StructureInventory {
                    structure: StructureRecord {
                        id: id.to_owned(),
                        name: format!("Structure {id}"),
                        network: "net".to_owned(),
                        legal_form: LegalForm::Association,
                        siret: None,
                        rna: None,
                        region_code: "84".to_owned(),
                        department_code: "69".to_owned(),
                        commune_insee: "69123".to_owned(),
                    },
                    people: Vec::new(),
                    functions: Vec::new(),
                    holdings: Vec::new(),
                },
                evidence: Evidence::Manual,
            }
        }

        /// Moves the structure to `department` (its commune `{department}123`).
        pub fn in_department(mut self, department: &str) -> Self {
            self.inv.structure.department_code = department.to_owned();
            self.inv.structure.commune_insee = format!("{department}123");
            self
        }

        /// The holdings added after this one carry `evidence` (manual until then).
        pub fn evidence(mut self, evidence: Evidence) -> Self {
            self.evidence = evidence;
            self
        }

        /// Adds a person of the structure.
        pub fn person(mut self, id: &str, name: &str, role: Role, end_date: Option<NaiveDate>) -> Self {
            let structure_id = self.inv.structure.id.clone();
            self.inv.people.push(PersonRecord {
                id: id.to_owned(),
                structure_id,
                display_name: name.to_owned(),
                role,
                end_date,
                email: None,
            });
            self
        }

        /// Adds a function of the given criticality, without tools.
        pub fn function(mut self, code: &str, criticality: u8) -> Self {
            let structure_id = self.inv.structure.id.clone();
            self.inv.functions.push(FunctionRecord {
                structure_id,
                code: code.to_owned(),
                criticality,
                tools: Vec::new(),
            });
            self
        }

        /// Adds a holding of `function` by `person` ([`Builder::evidence`]).
        pub fn holding(mut self, person: &str, function: &str, level: u8, last_practised: Option<NaiveDate>) -> Self {
            self.inv.holdings.push(HoldingRecord {
                person_id: person.to_owned(),
                function: function.to_owned(),
                level,
                last_practised,
                evidence: self.evidence,
            });
            self
        }

        /// A level-3 holding with no practice date (always recent).
        pub fn holds(self, person: &str, function: &str) -> Self {
            self.holding(person, function, 3, None)
        }

        /// Adds people of the same `role`, staying, each named after its id
        /// in capitals: most cases differ only by who they are.
        pub fn people(self, role: Role, ids: &[&str]) -> Self {
            ids.iter()
                .fold(self, |builder, id| builder.person(id, &id.to_uppercase(), role, None))
        }

        /// Adds functions given as `(code, criticality)`.
        pub fn functions(self, functions: &[(&str, u8)]) -> Self {
            functions.iter().fold(self, |builder, (code, criticality)| {
                builder.function(code, *criticality)
            })
        }

        /// Adds level-3 holdings given as `(person, function)`.
        pub fn holds_all(self, holdings: &[(&str, &str)]) -> Self {
            holdings
                .iter()
                .fold(self, |builder, (person, function)| builder.holds(person, function))
        }

        /// The inventory built.
        pub fn build(self) -> StructureInventory {
            self.inv
        }
    }

    /// The evaluation date of the worked example.
    pub fn worked_example_date() -> NaiveDate {
        date(2026, 11, 28)
    }

    /// The worked example of `docs/fragility.md`.
    pub fn worked_example() -> StructureInventory {
        let recent = Some(date(2026, 10, 15));
        Builder::new("S1")
            .person("dir", "Claire Martin", Role::Director, None)
            .person("E", "Émile Durand", Role::Employee, Some(date(2027, 3, 31)))
            .person("V", "Véronique Petit", Role::Volunteer, None)
            .function("funding_applications", 3)
            .function("scheduling", 3)
            .function("communication", 1)
            .holding("dir", "funding_applications", 4, recent)
            .holding("dir", "scheduling", 3, recent)
            .holding("E", "scheduling", 3, recent)
            .holding("V", "communication", 3, recent)
            .build()
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::{date, shift, worked_example, worked_example_date, Builder};
    use super::*;

    const EPS: f64 = 1e-12;

    fn assess_default(inventory: &StructureInventory, today: NaiveDate) -> Assessment {
        assess(inventory, today, &FragilityParams::default())
    }

    fn exposure<'a>(a: &'a Assessment, code: &str) -> &'a FunctionExposure {
        match a.functions.iter().find(|f| f.code == code) {
            Some(f) => f,
            None => panic!("function {code} missing from {a:?}"),
        }
    }

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    fn today() -> NaiveDate {
        date(2026, 6, 15)
    }

    /// One criticality-1 function held by one person with the given role and
    /// end date.
    fn single_holder(role: Role, end: Option<NaiveDate>) -> StructureInventory {
        Builder::new("S")
            .person("p", "P", role, end)
            .function("communication", 1)
            .holds("p", "communication")
            .build()
    }

    /// Two single points of failure: an employee (0.15) alone on `first`, a
    /// volunteer (0.30) alone on `second` (the rounding cases).
    fn employee_and_volunteer(first: (&str, u8), second: (&str, u8)) -> StructureInventory {
        Builder::new("S")
            .person("e", "E", Role::Employee, None)
            .person("v", "V", Role::Volunteer, None)
            .functions(&[first, second])
            .holds_all(&[("e", first.0), ("v", second.0)])
            .build()
    }

    #[test]
    fn default_params_are_the_spec_ones() {
        let p = FragilityParams::default();
        assert_eq!(p.recency_days, 365);
        assert_eq!(p.horizon_days, 365);
        assert_eq!(p.q_fixed_term_leaving, 1.0);
        assert_eq!(p.q_volunteer_like, 0.30);
        assert_eq!(p.q_default, 0.15);
        assert_eq!(p.truck_factor_threshold, 0.5);
    }

    #[test]
    fn band_codes_round_trip_and_labels() {
        let codes: Vec<&str> = Band::ALL.iter().map(|b| b.as_str()).collect();
        assert_eq!(codes, ["unknown", "low", "moderate", "high", "critical"]);
        for band in Band::ALL {
            assert_eq!(band.as_str().parse::<Band>(), Ok(*band));
            assert_eq!(band.to_string(), band.as_str());
        }
        let labels: Vec<&str> = Band::ALL.iter().map(|b| b.label_fr()).collect();
        assert_eq!(
            labels,
            ["inconnu (non inventorié)", "faible", "modérée", "élevée", "critique"]
        );
        let err = "Critical".parse::<Band>();
        assert_eq!(
            err.map_err(|e| e.value),
            Err("Critical".to_owned()),
            "codes are case-sensitive"
        );
        assert!(Band::Low < Band::Critical && Band::Unknown < Band::Low);
    }

    #[test]
    fn worked_example_of_the_spec() {
        let a = assess_default(&worked_example(), worked_example_date());
        assert_eq!(a.evaluated_on, date(2026, 11, 28));
        assert_eq!(a.score, Some(17));
        assert_eq!(a.truck_factor, Some(2));
        assert_eq!(a.band, Band::High);
        assert!(a.orphan_functions.is_empty());
        assert_eq!(a.spof_functions, strings(&["communication", "funding_applications"]));
        let kp = match &a.top_key_person {
            Some(kp) => kp,
            None => panic!("no key person"),
        };
        assert_eq!(kp.person_id, "dir");
        assert!((kp.share - 3.0 / 7.0).abs() < EPS, "{}", kp.share);
        assert!((a.director_dependency - 3.0 / 7.0).abs() < EPS);
        assert_eq!(
            a.functions.iter().map(|f| f.code.as_str()).collect::<Vec<_>>(),
            ["communication", "funding_applications", "scheduling"]
        );
        let funding = exposure(&a, "funding_applications");
        assert_eq!(funding.criticality, 3);
        assert_eq!(funding.holders, strings(&["dir"]));
        assert!((funding.risk - 0.15).abs() < EPS);
        let scheduling = exposure(&a, "scheduling");
        assert_eq!(scheduling.holders, strings(&["E", "dir"]), "byte order: 'E' < 'd'");
        assert!((scheduling.risk - 0.15).abs() < EPS);
        let communication = exposure(&a, "communication");
        assert_eq!(communication.criticality, 1);
        assert_eq!(communication.holders, strings(&["V"]));
        assert!((communication.risk - 0.30).abs() < EPS);
        assert_eq!(
            truck_factor_removals(&a.functions, 0.5),
            ["dir", "E"],
            "the director goes first (weight 6), then E (3) over V (1)"
        );
    }

    #[test]
    fn no_function_is_unknown_never_low() {
        let inv = Builder::new("S")
            .person("p", "P", Role::Director, None)
            .holds("p", "payroll")
            .build();
        let a = assess_default(&inv, today());
        assert_eq!(a.band, Band::Unknown);
        assert_eq!(a.score, None);
        assert_eq!(a.truck_factor, None);
        assert_eq!(a.top_key_person, None);
        assert_eq!(a.director_dependency, 0.0);
        assert!(a.functions.is_empty() && a.orphan_functions.is_empty());
        assert!(a.spof_functions.is_empty());
        assert_eq!(a.evaluated_on, today());
    }

    #[test]
    fn orphan_criticality_3_is_critical() {
        let inv = Builder::new("S")
            .people(Role::Employee, &["a", "b"])
            .functions(&[("payroll", 3), ("invoicing", 2)])
            .holds_all(&[("a", "invoicing"), ("b", "invoicing")])
            .build();
        let a = assess_default(&inv, today());
        assert_eq!(a.band, Band::Critical);
        assert_eq!(a.orphan_functions, strings(&["payroll"]));
        assert!(a.spof_functions.is_empty());
        assert_eq!(exposure(&a, "payroll").risk, 1.0);
        // (3·1 + 2·0.0225) / 5 = 0.609 → 61
        assert_eq!(a.score, Some(61));
        assert_eq!(a.top_key_person, None, "no single point of failure");
        // Covered weight 2 < 2.5 from the start.
        assert_eq!(a.truck_factor, Some(0));
    }

    #[test]
    fn orphan_of_lower_criticality_is_only_moderate() {
        let inv = Builder::new("S")
            .people(Role::Employee, &["a", "b"])
            .functions(&[("payroll", 3), ("communication", 1)])
            .holds_all(&[("a", "payroll"), ("b", "payroll")])
            .build();
        let a = assess_default(&inv, today());
        // (3·0.0225 + 1·1) / 4 = 0.266875 → 27 → moderate (< 40), via the orphan too.
        assert_eq!(a.score, Some(27));
        assert_eq!(a.band, Band::Moderate);
        assert_eq!(a.orphan_functions, strings(&["communication"]));
    }

    #[test]
    fn every_holder_leaving_is_critical() {
        let t = today();
        let inv = Builder::new("S")
            .person("a", "A", Role::Employee, Some(shift(t, 30)))
            .person("b", "B", Role::Volunteer, Some(shift(t, 200)))
            .person("c", "C", Role::Employee, None)
            .functions(&[("scheduling", 3), ("accounting", 2)])
            .holds_all(&[
                ("a", "scheduling"),
                ("b", "scheduling"),
                ("a", "accounting"),
                ("c", "accounting"),
            ])
            .build();
        let a = assess_default(&inv, t);
        assert_eq!(exposure(&a, "scheduling").holders, strings(&["a", "b"]));
        assert_eq!(exposure(&a, "scheduling").risk, 1.0);
        assert!((exposure(&a, "accounting").risk - 0.15).abs() < EPS);
        assert!(a.orphan_functions.is_empty() && a.spof_functions.is_empty());
        assert_eq!(a.band, Band::Critical);
        // (3 + 2·0.15) / 5 = 0.66 → 66
        assert_eq!(a.score, Some(66));
    }

    #[test]
    fn one_holder_staying_prevents_critical() {
        let t = today();
        let inv = Builder::new("S")
            .person("a", "A", Role::Employee, Some(shift(t, 30)))
            .person("b", "B", Role::Volunteer, None)
            .function("scheduling", 3)
            .holds_all(&[("a", "scheduling"), ("b", "scheduling")])
            .build();
        let a = assess_default(&inv, t);
        assert!((exposure(&a, "scheduling").risk - 0.30).abs() < EPS);
        assert_eq!(a.score, Some(30));
        assert_eq!(a.band, Band::Moderate);
    }

    #[test]
    fn custom_leaving_probability_below_one_is_not_critical() {
        let t = today();
        let inv = Builder::new("S")
            .person("a", "A", Role::Employee, Some(shift(t, 30)))
            .functions(&[("scheduling", 3), ("other", 3)])
            .holds_all(&[("a", "scheduling"), ("a", "other")])
            .build();
        let params = FragilityParams {
            q_fixed_term_leaving: 0.9,
            ..FragilityParams::default()
        };
        let a = assess(&inv, t, &params);
        assert!((exposure(&a, "scheduling").risk - 0.9).abs() < EPS);
        assert_eq!(a.band, Band::High, "SPOF of weight 3, but risk < 1");
        assert_eq!(a.score, Some(90));
    }

    #[test]
    fn person_past_end_date_holds_nothing() {
        let t = today();
        let inv = single_holder(Role::Employee, Some(shift(t, -1)));
        let a = assess_default(&inv, t);
        assert!(exposure(&a, "communication").holders.is_empty());
        assert_eq!(a.orphan_functions, strings(&["communication"]));
        assert_eq!(a.score, Some(100));
        assert_eq!(a.truck_factor, Some(0));
        // A criticality-1 orphan is not critical, but its score of 100 is high.
        assert_eq!(a.band, Band::High);
    }

    #[test]
    fn end_date_today_is_still_active_but_leaving() {
        let t = today();
        let a = assess_default(&single_holder(Role::Employee, Some(t)), t);
        assert_eq!(exposure(&a, "communication").holders, strings(&["p"]));
        assert_eq!(exposure(&a, "communication").risk, 1.0);
        assert_eq!(a.score, Some(100));
        assert_eq!(a.truck_factor, Some(1));
    }

    #[test]
    fn end_date_at_the_horizon_is_leaving_one_day_later_is_not() {
        let t = today();
        let at_horizon = assess_default(&single_holder(Role::Employee, Some(shift(t, 365))), t);
        assert_eq!(exposure(&at_horizon, "communication").risk, 1.0);
        let after = assess_default(&single_holder(Role::Employee, Some(shift(t, 366))), t);
        assert!((exposure(&after, "communication").risk - 0.15).abs() < EPS);
        let volunteer_after = assess_default(&single_holder(Role::Volunteer, Some(shift(t, 366))), t);
        assert!((exposure(&volunteer_after, "communication").risk - 0.30).abs() < EPS);
    }

    #[test]
    fn horizon_is_configurable() {
        let t = today();
        let inv = single_holder(Role::Employee, Some(shift(t, 100)));
        let short = FragilityParams {
            horizon_days: 99,
            ..FragilityParams::default()
        };
        assert!((exposure(&assess(&inv, t, &short), "communication").risk - 0.15).abs() < EPS);
        let exact = FragilityParams {
            horizon_days: 100,
            ..FragilityParams::default()
        };
        assert_eq!(exposure(&assess(&inv, t, &exact), "communication").risk, 1.0);
    }

    #[test]
    fn unavailability_by_role() {
        let t = today();
        let cases = [
            (Role::Director, 0.15),
            (Role::Employee, 0.15),
            (Role::Facilitator, 0.15),
            (Role::Volunteer, 0.30),
            (Role::BoardMember, 0.30),
            (Role::Contractor, 0.30),
        ];
        for (role, q) in cases {
            let a = assess_default(&single_holder(role, None), t);
            let risk = exposure(&a, "communication").risk;
            assert!((risk - q).abs() < EPS, "{role}: {risk}");
        }
    }

    #[test]
    fn stale_holdings_do_not_count() {
        let t = today();
        let build = |days: i64| {
            Builder::new("S")
                .person("p", "P", Role::Employee, None)
                .function("payroll", 3)
                .holding("p", "payroll", 4, Some(shift(t, -days)))
                .build()
        };
        let fresh = assess_default(&build(365), t);
        assert_eq!(exposure(&fresh, "payroll").holders, strings(&["p"]));
        assert_eq!(fresh.band, Band::High);
        let stale = assess_default(&build(366), t);
        assert!(exposure(&stale, "payroll").holders.is_empty());
        assert_eq!(stale.band, Band::Critical);
        let today_practised = assess_default(&build(0), t);
        assert_eq!(exposure(&today_practised, "payroll").holders, strings(&["p"]));
    }

    #[test]
    fn future_practice_date_counts_as_recent() {
        let t = today();
        let inv = Builder::new("S")
            .person("p", "P", Role::Employee, None)
            .function("payroll", 3)
            .holding("p", "payroll", 3, Some(shift(t, 10)))
            .build();
        assert_eq!(exposure(&assess_default(&inv, t), "payroll").holders, strings(&["p"]));
    }

    #[test]
    fn level_3_holds_level_2_does_not() {
        let t = today();
        let build = |level: u8| {
            Builder::new("S")
                .person("p", "P", Role::Employee, None)
                .function("payroll", 3)
                .holding("p", "payroll", level, None)
                .build()
        };
        assert!(exposure(&assess_default(&build(2), t), "payroll").holders.is_empty());
        assert_eq!(
            exposure(&assess_default(&build(3), t), "payroll").holders,
            strings(&["p"])
        );
        assert_eq!(
            exposure(&assess_default(&build(4), t), "payroll").holders,
            strings(&["p"])
        );
    }

    #[test]
    fn best_qualifying_holding_wins_for_a_person_and_function() {
        let t = today();
        let inv = Builder::new("S")
            .person("p", "P", Role::Employee, None)
            .functions(&[("payroll", 3), ("invoicing", 2)])
            // Stale level 4 and recent level 2: neither qualifies.
            .holding("p", "invoicing", 4, Some(shift(t, -400)))
            .holding("p", "invoicing", 2, Some(shift(t, -1)))
            // Level 2 then level 3: the level 3 qualifies, and counts once.
            .holding("p", "payroll", 2, None)
            .holding("p", "payroll", 3, None)
            .holding("p", "payroll", 4, None)
            .build();
        let a = assess_default(&inv, t);
        assert_eq!(exposure(&a, "payroll").holders, strings(&["p"]));
        assert!((exposure(&a, "payroll").risk - 0.15).abs() < EPS, "counted once");
        assert!(exposure(&a, "invoicing").holders.is_empty());
    }

    #[test]
    fn holdings_outside_the_structure_are_ignored() {
        let t = today();
        let inv = Builder::new("S")
            .person("p", "P", Role::Employee, None)
            .function("payroll", 3)
            .holds("p", "payroll")
            .holds("p", "invoicing") // function not recorded
            .holds("ghost", "payroll") // person not in the structure
            .build();
        let a = assess_default(&inv, t);
        assert_eq!(a.functions.len(), 1);
        assert_eq!(exposure(&a, "payroll").holders, strings(&["p"]));
        assert_eq!(a.spof_functions, strings(&["payroll"]));
    }

    #[test]
    fn custom_functions_use_their_criticality() {
        let t = today();
        let inv = Builder::new("S")
            .people(Role::Employee, &["p", "q"])
            .functions(&[("cantine_reservations", 3), ("payroll", 1)])
            .holds_all(&[("p", "payroll"), ("q", "payroll")])
            .build();
        let a = assess_default(&inv, t);
        assert_eq!(exposure(&a, "cantine_reservations").criticality, 3);
        assert_eq!(exposure(&a, "payroll").criticality, 1, "recorded, not catalogue");
        assert_eq!(a.band, Band::Critical);
        // (3·1 + 1·0.0225) / 4 = 0.755625 → 76
        assert_eq!(a.score, Some(76));
    }

    #[test]
    fn custom_function_of_criticality_1_orphan_is_moderate() {
        let t = today();
        let inv = Builder::new("S")
            .people(Role::Employee, &["p", "q"])
            .functions(&[("payroll", 3), ("jardin_partage", 1)])
            .holds_all(&[("p", "payroll"), ("q", "payroll")])
            .build();
        let a = assess_default(&inv, t);
        assert_eq!(a.orphan_functions, strings(&["jardin_partage"]));
        assert_eq!(a.band, Band::Moderate);
    }

    #[test]
    fn duplicate_function_codes_keep_the_highest_criticality_and_bad_ones_are_clamped() {
        let t = today();
        let inv = Builder::new("S")
            .functions(&[("payroll", 1), ("payroll", 3), ("zero", 0), ("nine", 9)])
            .build();
        let a = assess_default(&inv, t);
        let w: Vec<(&str, u8)> = a.functions.iter().map(|f| (f.code.as_str(), f.criticality)).collect();
        assert_eq!(w, [("nine", 3), ("payroll", 3), ("zero", 1)]);
        assert_eq!(a.score, Some(100));
    }

    #[test]
    fn exact_half_rounds_up() {
        // Two criticality-1 functions, each a SPOF: an employee (0.15) and a
        // volunteer (0.30). 100·0.45/2 = 22.5 exactly in decimal, but
        // 0.15 + 0.30 is 0.44999999999999996 in binary floating point.
        let t = today();
        let inv = employee_and_volunteer(("communication", 1), ("data_protection", 1));
        let a = assess_default(&inv, t);
        let sum: f64 = a.functions.iter().map(|f| f64::from(f.criticality) * f.risk).sum();
        assert!(100.0 * sum / 2.0 < 22.5, "the float sum is just under the half");
        assert_eq!(a.score, Some(23));
        assert_eq!(a.band, Band::Moderate);
    }

    #[test]
    fn exact_half_with_weights_2_rounds_up() {
        // W = 4: (2·0.15 + 2·0.30) / 4 = 0.225 → 22.5 → 23.
        let t = today();
        let inv = employee_and_volunteer(("invoicing", 2), ("accounting", 2));
        assert_eq!(assess_default(&inv, t).score, Some(23));
    }

    #[test]
    fn round_half_up_rules() {
        assert_eq!(round_half_up(12.5), 13);
        assert_eq!(round_half_up(12.499_999_999_9), 13);
        assert_eq!(round_half_up(12.499_99), 12);
        assert_eq!(round_half_up(13.5), 14);
        assert_eq!(round_half_up(0.0), 0);
        assert_eq!(round_half_up(-3.0), 0);
        assert_eq!(round_half_up(f64::NAN), 0);
    }

    #[test]
    fn orphan_makes_moderate_even_under_score_15() {
        // W = 8: one criticality-1 orphan, the rest held by two employees:
        // 100·(1 + 7·0.0225)/8 = 14.47 → 14, yet moderate because of the orphan.
        let t = today();
        let inv = Builder::new("S")
            .people(Role::Employee, &["a", "b"])
            .functions(&[
                ("communication", 1),
                ("payroll", 3),
                ("scheduling", 3),
                ("data_protection", 1),
            ])
            .holds_all(&[
                ("a", "payroll"),
                ("b", "payroll"),
                ("a", "scheduling"),
                ("b", "scheduling"),
                ("a", "data_protection"),
                ("b", "data_protection"),
            ])
            .build();
        let a = assess_default(&inv, t);
        assert_eq!(a.score, Some(14));
        assert_eq!(a.band, Band::Moderate);
        // Without the orphan (now held twice) the same structure is low.
        let mut covered = inv.clone();
        let extra = Builder::new("S")
            .holds_all(&[("a", "communication"), ("b", "communication")])
            .build();
        covered.holdings.extend(extra.holdings);
        let a = assess_default(&covered, t);
        assert_eq!((a.score, a.band), (Some(2), Band::Low));
    }

    #[test]
    fn score_thresholds_drive_bands() {
        let t = today();
        // Two criticality-2 functions each held by two volunteers: risk 0.09,
        // score 9 → low.
        let low = Builder::new("S")
            .people(Role::Volunteer, &["a", "b"])
            .functions(&[("invoicing", 2), ("accounting", 2)])
            .holds_all(&[
                ("a", "invoicing"),
                ("b", "invoicing"),
                ("a", "accounting"),
                ("b", "accounting"),
            ])
            .build();
        let a = assess_default(&low, t);
        assert_eq!((a.score, a.band), (Some(9), Band::Low));

        // Four volunteers, a and b on invoicing, c and d on accounting, those
        // in `leaving` within the horizon: only who leaves differs below.
        let leaving = |leaving: &[&str]| {
            let mut builder = Builder::new("S");
            for id in ["a", "b", "c", "d"] {
                let end = leaving.contains(&id).then(|| shift(t, 10));
                builder = builder.person(id, &id.to_uppercase(), Role::Volunteer, end);
            }
            builder
                .functions(&[("invoicing", 2), ("accounting", 2)])
                .holds_all(&[
                    ("a", "invoicing"),
                    ("b", "invoicing"),
                    ("c", "accounting"),
                    ("d", "accounting"),
                ])
                .build()
        };

        // Both holders of one function leaving: (2·1 + 2·0.09) / 4 = 0.545
        // → 54.5 → 55 → high by score alone (no criticality-3 function).
        let a = assess_default(&leaving(&["a", "b"]), t);
        assert_eq!((a.score, a.band), (Some(55), Band::High));

        // One of the two leaving: (2·0.3 + 2·0.09) / 4 = 0.195 → 19.5 → 20
        // → moderate by score alone (no orphan, no SPOF).
        let moderate = leaving(&["a"]);
        let a = assess_default(&moderate, t);
        assert!(a.orphan_functions.is_empty() && a.spof_functions.is_empty());
        assert_eq!((a.score, a.band), (Some(20), Band::Moderate));
    }

    #[test]
    fn key_person_ties_go_to_the_smallest_id_and_directors_add_up() {
        let t = today();
        let inv = Builder::new("S")
            .person("zoe", "Zoé", Role::Director, None)
            .person("Yann", "Yann", Role::Director, None)
            .person("emp", "Emp", Role::Employee, None)
            .functions(&[
                ("payroll", 3),
                ("scheduling", 3),
                ("invoicing", 2),
                ("communication", 2),
            ])
            .holds_all(&[
                ("zoe", "payroll"),
                ("Yann", "scheduling"),
                ("emp", "invoicing"),
                ("emp", "communication"),
            ])
            .build();
        let a = assess_default(&inv, t);
        // Sole weights: zoe 3, Yann 3, emp 2 + 2 = 4 → emp is top with 4/10;
        // the two directors together weigh 6/10.
        let kp = match &a.top_key_person {
            Some(kp) => kp,
            None => panic!("no key person"),
        };
        assert_eq!(kp.person_id, "emp");
        assert!((kp.share - 0.4).abs() < EPS);
        assert!((a.director_dependency - 0.6).abs() < EPS);

        let tie = Builder::new("S")
            .person("zoe", "Zoé", Role::Employee, None)
            .person("Yann", "Yann", Role::Employee, None)
            .functions(&[("payroll", 3), ("scheduling", 3)])
            .holds_all(&[("zoe", "payroll"), ("Yann", "scheduling")])
            .build();
        let a = assess_default(&tie, t);
        let kp = match &a.top_key_person {
            Some(kp) => kp,
            None => panic!("no key person"),
        };
        assert_eq!(kp.person_id, "Yann", "'Y' < 'z' in byte order");
        assert!((kp.share - 0.5).abs() < EPS);
        assert_eq!(a.director_dependency, 0.0);
    }

    #[test]
    fn truck_factor_weight_tie_goes_to_more_functions() {
        // b holds 7 and goes first; then c (one function, weight 3) and d (two
        // functions, weight 1 + 2) tie on weight: d goes first. Picking c
        // instead would stop at 2.
        let t = today();
        let inv = Builder::new("S")
            .people(Role::Employee, &["a", "b", "c", "d"])
            .functions(&[("f1", 3), ("f2", 1), ("f3", 3), ("f4", 2)])
            .holds_all(&[
                ("b", "f1"),
                ("b", "f2"),
                ("d", "f2"),
                ("b", "f3"),
                ("c", "f3"),
                ("a", "f4"),
                ("d", "f4"),
            ])
            .build();
        let a = assess_default(&inv, t);
        assert_eq!(truck_factor_removals(&a.functions, 0.5), ["b", "d", "c"]);
        assert_eq!(a.truck_factor, Some(3));
    }

    #[test]
    fn truck_factor_full_tie_goes_to_the_smallest_id_in_byte_order() {
        // f1 orphan, f2 {a, p2, p9}, f3 {a, p10}: a goes first (6); then p10,
        // p2, p9 tie (one function of weight 3 each). Byte order picks "p10",
        // which uncovers f3 and stops at 2; "numeric" order (p2) would not.
        let t = today();
        let inv = Builder::new("S")
            .people(Role::Employee, &["p9", "p2", "p10", "a"])
            .functions(&[("f1", 3), ("f2", 3), ("f3", 3)])
            .holds_all(&[("p9", "f2"), ("p2", "f2"), ("a", "f2"), ("p10", "f3"), ("a", "f3")])
            .build();
        let a = assess_default(&inv, t);
        assert_eq!(truck_factor_removals(&a.functions, 0.5), ["a", "p10"]);
        assert_eq!(a.truck_factor, Some(2));
    }

    #[test]
    fn truck_factor_edge_cases() {
        let t = today();
        // Exactly half covered at the start: the loop runs (≥ W/2).
        let half = Builder::new("S")
            .person("a", "A", Role::Employee, None)
            .functions(&[("f1", 2), ("f2", 2)])
            .holds("a", "f2")
            .build();
        assert_eq!(assess_default(&half, t).truck_factor, Some(1));
        // Less than half covered at the start: 0.
        let under = Builder::new("S")
            .person("a", "A", Role::Employee, None)
            .functions(&[("f1", 3), ("f2", 2)])
            .holds("a", "f2")
            .build();
        assert_eq!(assess_default(&under, t).truck_factor, Some(0));
        // Everyone must go: three people each covering one third.
        let all = Builder::new("S")
            .people(Role::Employee, &["a", "b", "c"])
            .functions(&[("f1", 1), ("f2", 1), ("f3", 1)])
            .holds_all(&[("a", "f1"), ("b", "f2"), ("c", "f3")])
            .build();
        let a = assess_default(&all, t);
        // Covered 3 → remove a → 2 ≥ 1.5 → remove b → 1 < 1.5.
        assert_eq!(truck_factor_removals(&a.functions, 0.5), ["a", "b"]);
        assert_eq!(a.truck_factor, Some(2));
        // A redundant team of four on every function.
        let mut b = Builder::new("S").function("f1", 3).function("f2", 1);
        for id in ["a", "b", "c", "d"] {
            b = b.person(id, id, Role::Employee, None).holds(id, "f1").holds(id, "f2");
        }
        assert_eq!(assess_default(&b.build(), t).truck_factor, Some(4));
    }

    #[test]
    fn truck_factor_threshold_is_configurable() {
        let t = today();
        let inv = Builder::new("S")
            .people(Role::Employee, &["a", "b"])
            .functions(&[("f1", 1), ("f2", 1)])
            .holds_all(&[("a", "f1"), ("b", "f2")])
            .build();
        // 0.5: covered 2 ≥ 1 → remove a → 1 ≥ 1 → remove b → 0.
        assert_eq!(assess_default(&inv, t).truck_factor, Some(2));
        // 0.75: covered 2 ≥ 1.5 → remove a → 1 < 1.5.
        let lenient = FragilityParams {
            truck_factor_threshold: 0.75,
            ..FragilityParams::default()
        };
        assert_eq!(assess(&inv, t, &lenient).truck_factor, Some(1));
    }

    #[test]
    fn result_does_not_depend_on_input_order() {
        let t = worked_example_date();
        let mut inv = worked_example();
        // Add noise that exercises ties and ignored rows.
        inv.people.push(crate::model::PersonRecord {
            id: "B".to_owned(),
            structure_id: "S1".to_owned(),
            display_name: "Bob".to_owned(),
            role: Role::Contractor,
            end_date: None,
            email: None,
        });
        let extra = Builder::new("S1")
            .functions(&[("accounts_access", 3), ("payroll", 2)])
            .holds_all(&[
                ("B", "accounts_access"),
                ("V", "accounts_access"),
                ("B", "payroll"),
                ("ghost", "payroll"),
            ])
            .holding("E", "payroll", 2, None)
            .build();
        inv.functions.extend(extra.functions);
        inv.holdings.extend(extra.holdings);
        let reference = assess_default(&inv, t);

        let mut permuted = inv.clone();
        permuted.people.reverse();
        permuted.functions.reverse();
        permuted.holdings.reverse();
        assert_eq!(assess_default(&permuted, t), reference);
        for shift_by in 1..inv.holdings.len() {
            let mut rotated = inv.clone();
            rotated.holdings.rotate_left(shift_by);
            rotated.people.rotate_left(shift_by % inv.people.len());
            rotated.functions.rotate_right(shift_by % inv.functions.len());
            assert_eq!(assess_default(&rotated, t), reference);
        }
        assert_eq!(
            reference.spof_functions,
            strings(&["communication", "funding_applications", "payroll"])
        );
    }

    #[test]
    fn duplicate_person_ids_are_resolved_independently_of_order() {
        let t = today();
        let build = |first_leaves: bool| {
            let leaving = Some(shift(t, 10));
            let (a, b) = if first_leaves { (leaving, None) } else { (None, leaving) };
            Builder::new("S")
                .person("p", "P", Role::Employee, a)
                .person("p", "P", Role::Employee, b)
                .function("payroll", 3)
                .holds("p", "payroll")
                .build()
        };
        let one = assess_default(&build(true), t);
        let other = assess_default(&build(false), t);
        assert_eq!(one, other);
        // The record without end date sorts first (None < Some).
        assert!((exposure(&one, "payroll").risk - 0.15).abs() < EPS);
    }
}
