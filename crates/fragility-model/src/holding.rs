//! Who holds a vital function (`docs/fragility.md`, « holds »): the one rule
//! the fragility index counts holders by and alerting picks the recipients of
//! its reminders by.
//!
//! Written once because the two readings must move together: a holding the
//! index stops counting after `recency_days` must stop making its person a
//! recipient at the same moment, or the index calls a function an orphan while
//! reminders still go to someone who is no longer able to act on them (issue 15).
//! The rule takes plain values (level, dates) so that callers reading another
//! shape of the same data — alerting reads inventory snapshots — apply it
//! without building an inventory.

use chrono::NaiveDate;

use crate::fragility::FragilityParams;

/// Level from which a person can perform a function alone (« autonome »).
pub const HOLDING_LEVEL: u8 = 3;

/// A person is active on `today` unless their engagement ended strictly
/// before: the last day of a contract is still a working day.
pub fn is_active(end_date: Option<NaiveDate>, today: NaiveDate) -> bool {
    end_date.is_none_or(|end| end >= today)
}

/// A holding is recent when it was never dated or practised at most
/// `params.recency_days` days before `today`. A practice date in the future
/// is "0 days or less before today", hence recent: the declared date is not
/// second-guessed.
pub fn is_recent(last_practised: Option<NaiveDate>, today: NaiveDate, params: &FragilityParams) -> bool {
    last_practised.is_none_or(|last| today.signed_duration_since(last).num_days() <= params.recency_days)
}

/// Whether a holding at `level`, last practised on `last_practised`, makes a
/// person whose engagement ends on `end_date` a holder of the function on
/// `today`: active, level ≥ [`HOLDING_LEVEL`], recent.
pub fn holds(
    level: u8,
    last_practised: Option<NaiveDate>,
    end_date: Option<NaiveDate>,
    today: NaiveDate,
    params: &FragilityParams,
) -> bool {
    is_active(end_date, today) && level >= HOLDING_LEVEL && is_recent(last_practised, today, params)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fragility::fixtures::{date, shift};

    fn today() -> NaiveDate {
        date(2026, 11, 28)
    }

    #[test]
    fn level_three_and_above_hold() {
        let p = FragilityParams::default();
        assert!(!holds(2, None, None, today(), &p));
        assert!(holds(3, None, None, today(), &p));
        assert!(holds(4, None, None, today(), &p));
    }

    #[test]
    fn practice_counts_for_recency_days_inclusive() {
        let p = FragilityParams::default();
        assert!(holds(3, Some(shift(today(), -365)), None, today(), &p));
        assert!(!holds(3, Some(shift(today(), -366)), None, today(), &p));
        assert!(holds(3, Some(shift(today(), 10)), None, today(), &p));
        let longer = FragilityParams {
            recency_days: 400,
            ..FragilityParams::default()
        };
        assert!(holds(3, Some(shift(today(), -366)), None, today(), &longer));
    }

    #[test]
    fn the_last_day_of_an_engagement_still_counts() {
        let p = FragilityParams::default();
        assert!(holds(3, None, Some(today()), today(), &p));
        assert!(!holds(3, None, Some(shift(today(), -1)), today(), &p));
    }
}
