//! Dates as people read them: « 11 décembre 2026 », « 1er mars 2027 »
//! (the words are `vigie_words::dates`'), today in Paris, protobuf dates.

use chrono::NaiveDate;
use vigie_proto::common::v1::Date;
use vigie_proto::dates::date_from_pb;

use crate::lang::Lang;

pub use vigie_words::dates::{days_from_now, french, long};

/// Today in Paris, where the people reading the console are: the services
/// count their days there too (between 23:00 and midnight UTC the machine's
/// date is already, or still, another day).
pub fn today() -> NaiveDate {
    chrono::Utc::now().with_timezone(&chrono_tz::Europe::Paris).date_naive()
}

/// A protobuf date in French words; `None` when absent or impossible.
pub fn french_pb(date: Option<&Date>) -> Option<String> {
    date.and_then(date_from_pb).map(french)
}

/// A protobuf date in words in `lang`; `None` when absent or impossible.
pub fn long_pb(date: Option<&Date>, lang: Lang) -> Option<String> {
    date.and_then(date_from_pb).map(|d| long(d, lang))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protobuf_dates_absent_or_impossible_give_nothing() {
        let good = Date {
            year: 2026,
            month: 1,
            day: 15,
        };
        assert_eq!(french_pb(Some(&good)).as_deref(), Some("15 janvier 2026"));
        assert_eq!(long_pb(Some(&good), Lang::En).as_deref(), Some("15 January 2026"));
        let impossible = Date {
            year: 2026,
            month: 2,
            day: 30,
        };
        assert_eq!(french_pb(Some(&impossible)), None);
        assert_eq!(french_pb(None), None);
    }
}
