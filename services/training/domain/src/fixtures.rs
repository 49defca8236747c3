//! Builders shared by the unit tests of this crate.

use crate::model::{Modality, Session, Training, TrainingTarget, DEFAULT_TIMEZONE};
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use vigie_fragility_model::model::{
    Evidence, FunctionRecord, HoldingRecord, LegalForm, PersonRecord, Role, StructureInventory, StructureRecord,
};

/// A calendar date; panics on an invalid one (tests only).
pub(crate) fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    match NaiveDate::from_ymd_opt(y, m, d) {
        Some(date) => date,
        None => panic!("invalid test date {y}-{m}-{d}"),
    }
}

/// `day` shifted by `days` (may be negative).
pub(crate) fn shift(day: NaiveDate, days: i64) -> NaiveDate {
    match day.checked_add_signed(chrono::TimeDelta::days(days)) {
        Some(date) => date,
        None => panic!("date out of range"),
    }
}

/// A local date-time; panics on an invalid one (tests only).
pub(crate) fn local(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> NaiveDateTime {
    match NaiveTime::from_hms_opt(h, mi, 0) {
        Some(time) => date(y, mo, d).and_time(time),
        None => panic!("invalid test time {h}:{mi}"),
    }
}

/// A remote session in Paris time with 10 seats.
pub(crate) fn session(id: &str, training: &str, starts: NaiveDateTime, ends: NaiveDateTime) -> Session {
    Session {
        id: id.to_owned(),
        training_id: training.to_owned(),
        starts_at: starts,
        ends_at: ends,
        timezone: DEFAULT_TIMEZONE,
        commune_insee: None,
        remote_url: Some("https://visio.example.org/s".to_owned()),
        capacity: 10,
    }
}

/// A remote training of 7 hours with the given cost and targets
/// `(function, prerequisite, goal)`.
pub(crate) fn training(id: &str, cost: Option<f64>, targets: &[(&str, u8, u8)]) -> Training {
    Training {
        id: id.to_owned(),
        title: format!("Formation {id}"),
        provider: "Organisme".to_owned(),
        modality: Modality::Remote,
        duration_hours: 7.0,
        cost_eur: cost,
        funding: String::new(),
        targets: targets
            .iter()
            .map(|(function, prerequisite_level, goal_level)| TrainingTarget {
                function: (*function).to_owned(),
                prerequisite_level: *prerequisite_level,
                goal_level: *goal_level,
            })
            .collect(),
    }
}

/// Fluent builder of a [`StructureInventory`].
pub(crate) struct Builder {
    inv: StructureInventory,
}

impl Builder {
    pub(crate) fn new(id: &str) -> Self {
        Self::in_department(id, "69")
    }

    pub(crate) fn in_department(id: &str, department: &str) -> Self {
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
                    department_code: department.to_owned(),
                    commune_insee: format!("{department}123"),
                },
                people: Vec::new(),
                functions: Vec::new(),
                holdings: Vec::new(),
            },
        }
    }

    pub(crate) fn person(mut self, id: &str, role: Role, end_date: Option<NaiveDate>) -> Self {
        let structure_id = self.inv.structure.id.clone();
        self.inv.people.push(PersonRecord {
            id: id.to_owned(),
            structure_id,
            display_name: format!("Nom {id}"),
            role,
            end_date,
            email: None,
        });
        self
    }

    pub(crate) fn function(mut self, code: &str, criticality: u8) -> Self {
        let structure_id = self.inv.structure.id.clone();
        self.inv.functions.push(FunctionRecord {
            structure_id,
            code: code.to_owned(),
            criticality,
            tools: Vec::new(),
        });
        self
    }

    pub(crate) fn holding(mut self, person: &str, function: &str, level: u8, last: Option<NaiveDate>) -> Self {
        self.inv.holdings.push(HoldingRecord {
            person_id: person.to_owned(),
            function: function.to_owned(),
            level,
            last_practised: last,
            evidence: Evidence::Import,
        });
        self
    }

    /// A recent (undated) holding at `level`.
    pub(crate) fn level(self, person: &str, function: &str, level: u8) -> Self {
        self.holding(person, function, level, None)
    }

    pub(crate) fn build(self) -> StructureInventory {
        self.inv
    }
}
