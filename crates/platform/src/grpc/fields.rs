//! Reading request fields the way every service's gRPC adapter does: an
//! empty or blank text field means "not given" (proto3 has no absent
//! string), and a date must be a real calendar day.

use chrono::NaiveDate;
use vigie_proto::common::v1::Date;
use vigie_proto::dates::date_from_pb;

use crate::words::Words;

/// `value` trimmed, or `None` when it is blank.
pub fn non_empty(value: &str) -> Option<&str> {
    let value = value.trim();
    (!value.is_empty()).then_some(value)
}

/// The optional date of a request; `Err` (the words for an invalid
/// argument) when it is given but is no calendar day.
///
/// # Errors
/// The message naming the invalid date, in both languages.
pub fn optional_date(value: Option<&Date>) -> Result<Option<NaiveDate>, Words> {
    value
        .map(|d| {
            date_from_pb(d).ok_or_else(|| {
                crate::words!(
                    "date invalide : {}-{}-{}",
                    "invalid date: {}-{}-{}",
                    d.year,
                    d.month,
                    d.day
                )
            })
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_is_absent_and_text_is_trimmed() {
        assert_eq!(non_empty("  "), None);
        assert_eq!(non_empty(""), None);
        assert_eq!(non_empty(" a b "), Some("a b"));
    }

    #[test]
    fn dates_must_be_calendar_days() {
        assert_eq!(optional_date(None).unwrap(), None);
        let day = Date {
            year: 2026,
            month: 2,
            day: 28,
        };
        assert_eq!(optional_date(Some(&day)).unwrap(), NaiveDate::from_ymd_opt(2026, 2, 28));
        let error = optional_date(Some(&Date {
            year: 2026,
            month: 2,
            day: 30,
        }))
        .unwrap_err();
        assert_eq!(error.pick(false), "date invalide : 2026-2-30");
        assert_eq!(error.pick(true), "invalid date: 2026-2-30");
    }
}
