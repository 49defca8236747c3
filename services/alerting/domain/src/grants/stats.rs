//! Views of grants (issue 16, item 4; docs/grants.md « Views »): the
//! pipeline of a set of applications, the record of each funder and
//! programme (counts, amounts, success rate), and the duties at risk this
//! fortnight — due soon, not sent, and resting on nobody, on one person or
//! on people who leave before the date.
//!
//! Pure aggregation over plain rows: the application service loads the
//! grants, the obligations and the structures' holders, this module counts.

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate};

use crate::plan::{escalation_reason, EscalationReason};

/// A duty resting on ≤ 1 holder of this function is at risk.
pub use super::remind::REPORTING_FUNCTION;

/// A duty is « at risk this fortnight » when due within this many days
/// from today (today included: due today is 0 days away, due in 14 days is
/// still in; in 15 days is not).
pub const AT_RISK_DAYS: u64 = 14;

/// Where an application stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Stage {
    /// Submitted, no decision yet.
    Applied,
    /// Granted.
    Won,
    /// Refused.
    Refused,
}

impl Stage {
    /// The stage of its stored code (`applied`, `won`, `refused`); anything
    /// else is an application without a decision.
    pub fn from_code(code: &str) -> Stage {
        match code {
            "won" => Stage::Won,
            "refused" => Stage::Refused,
            _ => Stage::Applied,
        }
    }
}

/// Counts and amounts of a pipeline. Amounts in euro cents, signed as
/// stored and on the wire (they are validated non-negative on input).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pipeline {
    /// Every application.
    pub applied: u64,
    /// Without a decision.
    pub pending: u64,
    /// Won.
    pub won: u64,
    /// Refused.
    pub refused: u64,
    /// Cents asked.
    pub amount_asked: i64,
    /// Cents granted.
    pub amount_granted: i64,
}

impl Pipeline {
    /// Counts one application: every one is « applied », then by its stage;
    /// only a grant won adds to the amount granted.
    pub fn add(&mut self, stage: Stage, asked: i64, granted: i64) {
        self.applied += 1;
        self.amount_asked = self.amount_asked.saturating_add(asked);
        match stage {
            Stage::Won => {
                self.won += 1;
                self.amount_granted = self.amount_granted.saturating_add(granted);
            }
            Stage::Refused => self.refused += 1,
            Stage::Applied => self.pending += 1,
        }
    }

    /// Won / (won + refused) in per mille, rounded to the nearest; `None`
    /// while nothing is decided (a rate of 0 ‰ would say « all refused »).
    pub fn success_rate_per_mille(&self) -> Option<u32> {
        let decided = self.won + self.refused;
        if decided == 0 {
            return None;
        }
        let rate = (self.won * 1000 + decided / 2) / decided;
        u32::try_from(rate).ok()
    }
}

/// One application, as the views need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantFact {
    /// Who pays.
    pub funder: String,
    /// The programme: the call's title for an imported call, the grant's
    /// own title otherwise.
    pub programme: String,
    /// Its stage.
    pub stage: Stage,
    /// Cents asked.
    pub amount_asked: i64,
    /// Cents granted (won only).
    pub amount_granted: i64,
}

/// The record of one funder's programme.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunderStats {
    /// Who pays.
    pub funder: String,
    /// The programme.
    pub programme: String,
    /// Its applications.
    pub pipeline: Pipeline,
    /// [`Pipeline::success_rate_per_mille`].
    pub success_rate_per_mille: Option<u32>,
}

/// The pipeline of every fact.
pub fn pipeline<'a>(facts: impl IntoIterator<Item = &'a GrantFact>) -> Pipeline {
    let mut p = Pipeline::default();
    for f in facts {
        p.add(f.stage, f.amount_asked, f.amount_granted);
    }
    p
}

/// The record of each funder and programme, by funder then programme
/// (names compared as written, trimmed: « Région Bretagne » and « Région
/// bretagne » are two funders, as the person typed them).
pub fn by_funder(facts: &[GrantFact]) -> Vec<FunderStats> {
    let mut groups: BTreeMap<(&str, &str), Pipeline> = BTreeMap::new();
    for f in facts {
        groups
            .entry((f.funder.trim(), f.programme.trim()))
            .or_default()
            .add(f.stage, f.amount_asked, f.amount_granted);
    }
    groups
        .into_iter()
        .map(|((funder, programme), pipeline)| FunderStats {
            funder: funder.to_owned(),
            programme: programme.to_owned(),
            success_rate_per_mille: pipeline.success_rate_per_mille(),
            pipeline,
        })
        .collect()
}

/// A duty, as the at-risk view needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DutyFact<'a> {
    /// The external due date.
    pub due: NaiveDate,
    /// Marked « envoyé » to the funder.
    pub sent: bool,
    /// End dates of the structure's current holders of
    /// [`REPORTING_FUNCTION`] (`None`: no end date).
    pub holder_end_dates: &'a [Option<NaiveDate>],
}

/// Why `duty` is at risk on `today`, `None` when it is not: due within
/// [`AT_RISK_DAYS`] (today included, not past), not sent, and resting on
/// nobody, on one person, or on holders who all leave before the due date
/// ([`escalation_reason`], the rule of calls' escalations).
pub fn at_risk(duty: &DutyFact<'_>, today: NaiveDate) -> Option<EscalationReason> {
    let last = today
        .checked_add_days(Days::new(AT_RISK_DAYS))
        .unwrap_or(NaiveDate::MAX);
    if duty.sent || duty.due < today || duty.due > last {
        return None;
    }
    escalation_reason(duty.holder_end_dates, duty.due)
}

/// The indexes of the duties at risk on `today`, with why, in the order given.
pub fn duties_at_risk(duties: &[DutyFact<'_>], today: NaiveDate) -> Vec<(usize, EscalationReason)> {
    duties
        .iter()
        .enumerate()
        .filter_map(|(i, duty)| at_risk(duty, today).map(|reason| (i, reason)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn fact(funder: &str, programme: &str, stage: Stage, asked: i64, granted: i64) -> GrantFact {
        GrantFact {
            funder: funder.into(),
            programme: programme.into(),
            stage,
            amount_asked: asked,
            amount_granted: granted,
        }
    }

    #[test]
    fn stages_read_from_their_codes() {
        assert_eq!(Stage::from_code("won"), Stage::Won);
        assert_eq!(Stage::from_code("refused"), Stage::Refused);
        assert_eq!(Stage::from_code("applied"), Stage::Applied);
        assert_eq!(Stage::from_code(""), Stage::Applied);
    }

    #[test]
    fn the_pipeline_counts_every_stage_and_only_won_amounts_as_granted() {
        let facts = [
            fact("A", "P", Stage::Applied, 100, 0),
            fact("A", "P", Stage::Won, 200, 150),
            fact("A", "P", Stage::Refused, 50, 999),
        ];
        assert_eq!(
            pipeline(&facts),
            Pipeline {
                applied: 3,
                pending: 1,
                won: 1,
                refused: 1,
                amount_asked: 350,
                amount_granted: 150,
            }
        );
        assert_eq!(pipeline(&[]), Pipeline::default());
    }

    #[test]
    fn amounts_saturate_rather_than_wrap() {
        let mut p = Pipeline::default();
        p.add(Stage::Won, i64::MAX, i64::MAX);
        p.add(Stage::Won, 1, 1);
        assert_eq!((p.amount_asked, p.amount_granted), (i64::MAX, i64::MAX));
    }

    #[test]
    fn the_success_rate_is_in_per_mille_of_decisions_only() {
        let rate = |won: u64, refused: u64, pending: u64| {
            Pipeline {
                won,
                refused,
                pending,
                applied: won + refused + pending,
                ..Pipeline::default()
            }
            .success_rate_per_mille()
        };
        assert_eq!(rate(0, 0, 5), None, "nothing decided: no rate");
        assert_eq!(rate(0, 3, 0), Some(0));
        assert_eq!(rate(3, 0, 9), Some(1000), "pending ones do not count");
        assert_eq!(rate(1, 1, 0), Some(500));
        assert_eq!(rate(2, 1, 0), Some(667), "rounded to the nearest");
        assert_eq!(rate(1, 2, 0), Some(333));
        assert_eq!(rate(1, 7, 0), Some(125));
    }

    #[test]
    fn funders_and_programmes_are_counted_apart_and_sorted() {
        let facts = [
            fact("Région Bretagne", "Insertion", Stage::Won, 1000, 800),
            fact("CAF", "Jeunesse", Stage::Refused, 500, 0),
            fact("Région Bretagne ", "Insertion", Stage::Refused, 300, 0),
            fact("Région Bretagne", "Culture", Stage::Applied, 200, 0),
            fact("Région Bretagne", "Insertion", Stage::Won, 100, 100),
        ];
        let stats = by_funder(&facts);
        let keys: Vec<_> = stats
            .iter()
            .map(|s| (s.funder.as_str(), s.programme.as_str()))
            .collect();
        assert_eq!(
            keys,
            vec![
                ("CAF", "Jeunesse"),
                ("Région Bretagne", "Culture"),
                ("Région Bretagne", "Insertion")
            ]
        );
        assert_eq!(stats[0].success_rate_per_mille, Some(0));
        assert_eq!(stats[1].success_rate_per_mille, None);
        let insertion = &stats[2];
        assert_eq!(insertion.success_rate_per_mille, Some(667));
        assert_eq!(
            insertion.pipeline,
            Pipeline {
                applied: 3,
                pending: 0,
                won: 2,
                refused: 1,
                amount_asked: 1400,
                amount_granted: 900,
            }
        );
        assert!(by_funder(&[]).is_empty());
    }

    #[test]
    fn a_duty_is_at_risk_only_within_the_fortnight_not_sent_and_resting_on_one_or_nobody() {
        let today = d(2027, 1, 4);
        let duty = |due: NaiveDate, sent: bool, holders: &'static [Option<NaiveDate>]| DutyFact {
            due,
            sent,
            holder_end_dates: holders,
        };
        static ONE: [Option<NaiveDate>; 1] = [None];
        static TWO: [Option<NaiveDate>; 2] = [None, None];
        static NOBODY: [Option<NaiveDate>; 0] = [];
        // The window: today and the next 14 days.
        assert_eq!(at_risk(&duty(today, false, &ONE), today), Some(EscalationReason::Spof));
        assert_eq!(
            at_risk(&duty(d(2027, 1, 18), false, &ONE), today),
            Some(EscalationReason::Spof),
            "in 14 days"
        );
        assert_eq!(at_risk(&duty(d(2027, 1, 19), false, &ONE), today), None, "in 15 days");
        assert_eq!(at_risk(&duty(d(2027, 1, 3), false, &ONE), today), None, "past");
        // Sent: no longer at risk.
        assert_eq!(at_risk(&duty(d(2027, 1, 10), true, &NOBODY), today), None);
        // Nobody, two who stay.
        assert_eq!(
            at_risk(&duty(d(2027, 1, 10), false, &NOBODY), today),
            Some(EscalationReason::Orphan)
        );
        assert_eq!(at_risk(&duty(d(2027, 1, 10), false, &TWO), today), None);
    }

    #[test]
    fn holders_who_all_leave_before_the_due_date_put_it_at_risk() {
        let today = d(2027, 1, 4);
        let due = d(2027, 1, 12);
        let leaving = [Some(d(2027, 1, 8)), Some(d(2027, 1, 11))];
        let one_stays = [Some(d(2027, 1, 8)), Some(due)];
        let risk = |holders: &[Option<NaiveDate>]| {
            at_risk(
                &DutyFact {
                    due,
                    sent: false,
                    holder_end_dates: holders,
                },
                today,
            )
        };
        assert_eq!(risk(&leaving), Some(EscalationReason::HoldersLeaving));
        assert_eq!(risk(&one_stays), None, "one holder is still there on the due date");
    }

    #[test]
    fn duties_at_risk_keep_their_order_and_reasons() {
        let today = d(2027, 1, 4);
        let nobody: [Option<NaiveDate>; 0] = [];
        let one = [None];
        let two = [None, None];
        let duties = [
            DutyFact {
                due: d(2027, 1, 5),
                sent: false,
                holder_end_dates: &two,
            },
            DutyFact {
                due: d(2027, 1, 6),
                sent: false,
                holder_end_dates: &one,
            },
            DutyFact {
                due: d(2027, 1, 7),
                sent: false,
                holder_end_dates: &nobody,
            },
            DutyFact {
                due: d(2027, 3, 7),
                sent: false,
                holder_end_dates: &nobody,
            },
        ];
        assert_eq!(
            duties_at_risk(&duties, today),
            vec![(1, EscalationReason::Spof), (2, EscalationReason::Orphan)]
        );
    }
}
