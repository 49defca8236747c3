//! Dates as people read them: « 11 décembre 2026 », « 1er mars 2027 ».

use chrono::{Datelike, NaiveDate};
use vigie_proto::common::v1::Date;
use vigie_proto::dates::date_from_pb;

use crate::lang::Lang;

const MONTHS: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];

/// Today in Paris, where the people reading the console are: the services
/// count their days there too (between 23:00 and midnight UTC the machine's
/// date is already, or still, another day).
pub fn today() -> NaiveDate {
    chrono::Utc::now().with_timezone(&chrono_tz::Europe::Paris).date_naive()
}

/// A date in French words; the first of the month is « 1er » as in French
/// typography.
pub fn french(date: NaiveDate) -> String {
    let day = date.day();
    let month = MONTHS[date.month0() as usize];
    if day == 1 {
        format!("1er {month} {}", date.year())
    } else {
        format!("{day} {month} {}", date.year())
    }
}

/// A protobuf date in French words; `None` when absent or impossible.
pub fn french_pb(date: Option<&Date>) -> Option<String> {
    date.and_then(date_from_pb).map(french)
}

/// « dans 12 jours », « demain », « aujourd'hui », « il y a 3 jours ».
pub fn days_from_now(days: i64) -> String {
    match days {
        0 => "aujourd'hui".to_owned(),
        1 => "demain".to_owned(),
        -1 => "hier".to_owned(),
        d if d > 1 => format!("dans {d} jours"),
        d => format!("il y a {} jours", -d),
    }
}

const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// A date in words in `lang`: « 1er mars 2027 », "1 March 2027".
pub fn long(date: NaiveDate, lang: Lang) -> String {
    match lang {
        Lang::Fr => french(date),
        Lang::En => format!("{} {} {}", date.day(), MONTHS_EN[date.month0() as usize], date.year()),
    }
}

/// A protobuf date in words in `lang`; `None` when absent or impossible.
pub fn long_pb(date: Option<&Date>, lang: Lang) -> Option<String> {
    date.and_then(date_from_pb).map(|d| long(d, lang))
}

/// [`days_from_now`] in `lang`.
pub fn days_from_now_in(days: i64, lang: Lang) -> String {
    match (lang, days) {
        (Lang::Fr, _) => days_from_now(days),
        (Lang::En, 0) => "today".to_owned(),
        (Lang::En, 1) => "tomorrow".to_owned(),
        (Lang::En, -1) => "yesterday".to_owned(),
        (Lang::En, d) if d > 1 => format!("in {d} days"),
        (Lang::En, d) => format!("{} days ago", -d),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn dates_read_as_in_french() {
        assert_eq!(french(date(2026, 12, 11)), "11 décembre 2026");
        assert_eq!(french(date(2027, 3, 1)), "1er mars 2027");
        assert_eq!(french(date(2026, 8, 31)), "31 août 2026");
        assert_eq!(french(date(2027, 2, 2)), "2 février 2027");
    }

    #[test]
    fn protobuf_dates_absent_or_impossible_give_nothing() {
        let good = Date {
            year: 2026,
            month: 1,
            day: 15,
        };
        assert_eq!(french_pb(Some(&good)).as_deref(), Some("15 janvier 2026"));
        let impossible = Date {
            year: 2026,
            month: 2,
            day: 30,
        };
        assert_eq!(french_pb(Some(&impossible)), None);
        assert_eq!(french_pb(None), None);
    }

    #[test]
    fn distances_in_days() {
        assert_eq!(days_from_now(0), "aujourd'hui");
        assert_eq!(days_from_now(1), "demain");
        assert_eq!(days_from_now(12), "dans 12 jours");
        assert_eq!(days_from_now(-1), "hier");
        assert_eq!(days_from_now(-3), "il y a 3 jours");
    }

    #[test]
    fn dates_read_in_english_too() {
        assert_eq!(long(date(2027, 3, 1), Lang::En), "1 March 2027");
        assert_eq!(long(date(2027, 3, 1), Lang::Fr), "1er mars 2027");
        assert_eq!(days_from_now_in(12, Lang::En), "in 12 days");
        assert_eq!(days_from_now_in(-3, Lang::En), "3 days ago");
    }
}
