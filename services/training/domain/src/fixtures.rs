//! Builders shared by the unit tests of this crate.

use crate::model::{Modality, Session, Training, TrainingTarget, DEFAULT_TIMEZONE};
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use vigie_fragility_model::fragility::fixtures;
use vigie_fragility_model::model::{Evidence, Role, StructureInventory};

pub(crate) use vigie_fragility_model::fragility::fixtures::{date, shift};

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

/// The shared inventory builder (`vigie_fragility_model::fragility::fixtures`)
/// with this crate's habits: people named « Nom ID », holdings imported.
pub(crate) struct Builder(fixtures::Builder);

impl Builder {
    pub(crate) fn new(id: &str) -> Self {
        Self(fixtures::Builder::new(id).evidence(Evidence::Import))
    }

    pub(crate) fn in_department(id: &str, department: &str) -> Self {
        Self(Self::new(id).0.in_department(department))
    }

    pub(crate) fn person(self, id: &str, role: Role, end_date: Option<NaiveDate>) -> Self {
        Self(self.0.person(id, &format!("Nom {id}"), role, end_date))
    }

    pub(crate) fn function(self, code: &str, criticality: u8) -> Self {
        Self(self.0.function(code, criticality))
    }

    pub(crate) fn holding(self, person: &str, function: &str, level: u8, last: Option<NaiveDate>) -> Self {
        Self(self.0.holding(person, function, level, last))
    }

    /// A recent (undated) holding at `level`.
    pub(crate) fn level(self, person: &str, function: &str, level: u8) -> Self {
        self.holding(person, function, level, None)
    }

    pub(crate) fn build(self) -> StructureInventory {
        self.0.build()
    }
}
