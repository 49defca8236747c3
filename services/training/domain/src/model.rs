//! Plain data of the training catalogue: trainings, the vital functions they
//! target, and their sessions.
//!
//! Levels are those of the inventory (0–4, see
//! [`vigie_fragility_model::catalogue::level_label_fr`]); function codes are
//! the inventory's catalogue codes or a structure's custom codes.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use std::fmt;
use std::str::FromStr;
use vigie_fragility_model::model::UnknownCode;

/// The time zone of a session whose `timezone` cell is empty: most member
/// structures are in metropolitan France.
pub const DEFAULT_TIMEZONE: Tz = Tz::Europe__Paris;

/// How a training is delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Modality {
    /// In a room: every session has a place (commune).
    OnSite,
    /// Remotely: every session has a link.
    Remote,
    /// Either or both, session by session.
    Hybrid,
}

impl Modality {
    /// Every modality, in declaration order.
    pub const ALL: &'static [Modality] = &[Modality::OnSite, Modality::Remote, Modality::Hybrid];

    /// The stable code used in files, APIs and events.
    pub fn as_str(self) -> &'static str {
        match self {
            Modality::OnSite => "on_site",
            Modality::Remote => "remote",
            Modality::Hybrid => "hybrid",
        }
    }

    /// The label shown to French-speaking users.
    pub fn label_fr(self) -> &'static str {
        match self {
            Modality::OnSite => "en présentiel",
            Modality::Remote => "à distance",
            Modality::Hybrid => "hybride",
        }
    }
}

impl FromStr for Modality {
    type Err = UnknownCode;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Modality::ALL
            .iter()
            .copied()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| UnknownCode {
                value: s.to_owned(),
                expected: "on_site, remote, hybrid",
            })
    }
}

impl fmt::Display for Modality {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a training does for one vital function, in the Pix manner: who may
/// follow it (the prerequisite level) and where it takes them (the goal).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TrainingTarget {
    /// Function code (inventory catalogue or custom).
    pub function: String,
    /// Level a learner needs on the function before the training, 0–4.
    pub prerequisite_level: u8,
    /// Level the training brings the learner to, 0–4, above the prerequisite.
    /// Only a goal of 3 or more makes the learner a holder of the function.
    pub goal_level: u8,
}

/// A training of the catalogue.
#[derive(Debug, Clone, PartialEq)]
pub struct Training {
    /// The catalogue's own identifier.
    pub id: String,
    /// Title shown to structures.
    pub title: String,
    /// Organisation that delivers it.
    pub provider: String,
    /// On site, remote or hybrid.
    pub modality: Modality,
    /// Duration in hours (a whole number of minutes).
    pub duration_hours: f64,
    /// Cost per learner in euros (at most two decimals); `None` when unknown.
    pub cost_eur: Option<f64>,
    /// Funding scheme, free text (e.g. an OPCO); empty when none is stated.
    pub funding: String,
    /// The functions it targets, sorted by function code, one per function.
    pub targets: Vec<TrainingTarget>,
}

impl Training {
    /// The target on `function`, if the training has one.
    pub fn target(&self, function: &str) -> Option<&TrainingTarget> {
        self.targets.iter().find(|t| t.function == function)
    }
}

/// One session of a training: when (local time in its time zone), where
/// (a commune, a link, or both) and for how many people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The catalogue's own identifier.
    pub id: String,
    /// The training it delivers.
    pub training_id: String,
    /// Start, local date-time in `timezone` (minutes, no seconds).
    pub starts_at: NaiveDateTime,
    /// End, local date-time in `timezone`.
    pub ends_at: NaiveDateTime,
    /// IANA time zone of the place, or of the organiser for a remote session.
    pub timezone: Tz,
    /// INSEE code of the commune where it takes place, if on site.
    pub commune_insee: Option<String>,
    /// Link to join it, if remote (`http://` or `https://`).
    pub remote_url: Option<String>,
    /// Seats, at least 1.
    pub capacity: u32,
}

impl Session {
    /// The start as an instant; `None` when the local time does not exist in
    /// the time zone (see [`local_to_utc`]; a validated session always has one).
    pub fn starts_utc(&self) -> Option<DateTime<Utc>> {
        local_to_utc(self.timezone, self.starts_at)
    }

    /// The end as an instant; `None` when the local time does not exist.
    pub fn ends_utc(&self) -> Option<DateTime<Utc>> {
        local_to_utc(self.timezone, self.ends_at)
    }

    /// The local date on which the session ends (the default completion
    /// date: the day the learners walk out, as they see it on their calendar).
    pub fn ends_on(&self) -> NaiveDate {
        self.ends_at.date()
    }
}

/// The instant of a local date-time in `tz`.
///
/// - A local time skipped when clocks go forward (in `Europe/Paris`,
///   2027-03-28 02:00–02:59) does not exist: `None`. Validation refuses it,
///   since guessing an hour for a session would send people at the wrong time.
/// - A local time that occurs twice when clocks go back (2027-10-31
///   02:00–02:59) is ambiguous: the **earlier** instant (still summer time)
///   is taken, so that nobody arrives an hour late.
pub fn local_to_utc(tz: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    tz.from_local_datetime(&local)
        .earliest()
        .map(|dt| dt.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{local, session};

    #[test]
    fn modality_codes_round_trip_and_unknown_ones_are_refused() {
        for m in Modality::ALL {
            assert_eq!(m.as_str().parse::<Modality>(), Ok(*m));
            assert_eq!(m.to_string(), m.as_str());
        }
        let codes: Vec<&str> = Modality::ALL.iter().map(|m| m.as_str()).collect();
        assert_eq!(codes, ["on_site", "remote", "hybrid"]);
        let labels: Vec<&str> = Modality::ALL.iter().map(|m| m.label_fr()).collect();
        assert_eq!(labels, ["en présentiel", "à distance", "hybride"]);
        let err = "présentiel".parse::<Modality>().err();
        assert_eq!(
            err.map(|e| e.to_string()),
            Some("valeur inconnue « présentiel » (attendu : on_site, remote, hybrid)".to_owned())
        );
        assert!("On_Site".parse::<Modality>().is_err(), "codes are case-sensitive");
    }

    #[test]
    fn target_lookup_by_function() {
        let t = Training {
            id: "T".into(),
            title: "T".into(),
            provider: "P".into(),
            modality: Modality::Remote,
            duration_hours: 7.0,
            cost_eur: None,
            funding: String::new(),
            targets: vec![TrainingTarget {
                function: "payroll".into(),
                prerequisite_level: 1,
                goal_level: 3,
            }],
        };
        assert_eq!(t.target("payroll").map(|t| t.goal_level), Some(3));
        assert_eq!(t.target("invoicing"), None);
    }

    #[test]
    fn ordinary_local_times_convert_with_the_seasonal_offset() {
        // Winter: UTC+1; summer: UTC+2.
        let s = session("S", "T", local(2027, 1, 15, 9, 30), local(2027, 7, 15, 17, 0));
        assert_eq!(
            s.starts_utc().map(|d| d.to_rfc3339()),
            Some("2027-01-15T08:30:00+00:00".to_owned())
        );
        assert_eq!(
            s.ends_utc().map(|d| d.to_rfc3339()),
            Some("2027-07-15T15:00:00+00:00".to_owned())
        );
        let reunion = Session {
            timezone: Tz::Indian__Reunion,
            ..s
        };
        assert_eq!(
            reunion.starts_utc().map(|d| d.to_rfc3339()),
            Some("2027-01-15T05:30:00+00:00".to_owned())
        );
    }

    #[test]
    fn dst_gap_has_no_instant() {
        // 2027-03-28: Paris clocks jump from 02:00 to 03:00.
        let gap = local(2027, 3, 28, 2, 30);
        assert_eq!(local_to_utc(DEFAULT_TIMEZONE, gap), None);
        let s = session("S", "T", gap, local(2027, 3, 28, 4, 0));
        assert_eq!(s.starts_utc(), None);
        assert!(s.ends_utc().is_some());
        // Just around the gap, both exist.
        assert_eq!(
            local_to_utc(DEFAULT_TIMEZONE, local(2027, 3, 28, 1, 59)).map(|d| d.to_rfc3339()),
            Some("2027-03-28T00:59:00+00:00".to_owned())
        );
        assert_eq!(
            local_to_utc(DEFAULT_TIMEZONE, local(2027, 3, 28, 3, 0)).map(|d| d.to_rfc3339()),
            Some("2027-03-28T01:00:00+00:00".to_owned())
        );
    }

    #[test]
    fn dst_fold_takes_the_earlier_instant() {
        // 2027-10-31: Paris clocks go back from 03:00 to 02:00, so 02:30
        // happens at 00:30 UTC (summer time) and again at 01:30 UTC.
        let fold = local(2027, 10, 31, 2, 30);
        assert_eq!(
            local_to_utc(DEFAULT_TIMEZONE, fold).map(|d| d.to_rfc3339()),
            Some("2027-10-31T00:30:00+00:00".to_owned())
        );
        let s = session("S", "T", local(2027, 10, 31, 1, 0), fold);
        assert_eq!(
            s.ends_utc().map(|d| d.to_rfc3339()),
            Some("2027-10-31T00:30:00+00:00".to_owned())
        );
    }

    #[test]
    fn ends_on_is_the_local_date() {
        // A session ending at 00:30 on 1 July in Paris ends at 22:30 UTC on
        // 30 June: the learners' calendar says 1 July, and that counts.
        let s = session("S", "T", local(2027, 6, 30, 20, 0), local(2027, 7, 1, 0, 30));
        assert_eq!(s.ends_on(), crate::fixtures::date(2027, 7, 1));
        assert_eq!(
            s.ends_utc().map(|d| d.date_naive()),
            Some(crate::fixtures::date(2027, 6, 30))
        );
    }
}
