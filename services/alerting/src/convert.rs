//! Conversions between protobuf dates and domain dates.

use chrono::{Datelike, NaiveDate};
use vigie_proto::common::v1::Date;

/// A domain date as a protobuf date.
pub fn date_to_pb(date: NaiveDate) -> Date {
    Date {
        year: date.year(),
        month: date.month(),
        day: date.day(),
    }
}

/// A protobuf date as a domain date, `None` when it does not exist.
pub fn date_from_pb(date: &Date) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(date.year, date.month, date.day)
}
