//! Dates as people read them, in French and in English: « 1er mars 2027 »,
//! "1 March 2027", « vendredi 14 mars 2027 », « dans 12 jours ». One home
//! for the console's pages, the reminders' mails and the tests that read
//! them back.

use chrono::{Datelike, NaiveDate, Weekday};

use crate::Lang;

const MONTHS_FR: [&str; 12] = [
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

/// A date in words in `lang`: « 1er mars 2027 » (the first of the month is
/// « 1er », as French typography writes it), "1 March 2027".
pub fn long(date: NaiveDate, lang: Lang) -> String {
    let (day, month, year) = (date.day(), date.month0() as usize, date.year());
    match lang {
        Lang::Fr if day == 1 => format!("1er {} {year}", MONTHS_FR[month]),
        Lang::Fr => format!("{day} {} {year}", MONTHS_FR[month]),
        Lang::En => format!("{day} {} {year}", MONTHS_EN[month]),
    }
}

/// [`long`] in French: « 11 décembre 2026 », « 1er mars 2027 ».
pub fn french(date: NaiveDate) -> String {
    long(date, Lang::Fr)
}

/// The French name of the day of the week: « lundi » … « dimanche ».
pub fn weekday_fr(date: NaiveDate) -> &'static str {
    match date.weekday() {
        Weekday::Mon => "lundi",
        Weekday::Tue => "mardi",
        Weekday::Wed => "mercredi",
        Weekday::Thu => "jeudi",
        Weekday::Fri => "vendredi",
        Weekday::Sat => "samedi",
        Weekday::Sun => "dimanche",
    }
}

/// A distance from today in `lang`: « aujourd'hui », « demain », « hier »,
/// « dans 12 jours », « il y a 3 jours »; "today", "in 12 days"….
pub fn days_from_now(days: i64, lang: Lang) -> String {
    match (lang, days) {
        (Lang::Fr, 0) => "aujourd'hui".to_owned(),
        (Lang::Fr, 1) => "demain".to_owned(),
        (Lang::Fr, -1) => "hier".to_owned(),
        (Lang::Fr, d) if d > 1 => format!("dans {d} jours"),
        (Lang::Fr, d) => format!("il y a {} jours", -d),
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
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
    }

    #[test]
    fn dates_read_as_in_french() {
        assert_eq!(french(date(2026, 12, 11)), "11 décembre 2026");
        assert_eq!(french(date(2027, 3, 1)), "1er mars 2027");
        assert_eq!(french(date(2026, 8, 31)), "31 août 2026");
        assert_eq!(french(date(2027, 2, 2)), "2 février 2027");
        assert_eq!(weekday_fr(date(2027, 3, 14)), "dimanche");
        assert_eq!(weekday_fr(date(2026, 12, 4)), "vendredi");
    }

    #[test]
    fn dates_read_in_english_too() {
        assert_eq!(long(date(2027, 3, 1), Lang::En), "1 March 2027");
        assert_eq!(long(date(2026, 12, 31), Lang::En), "31 December 2026");
    }

    #[test]
    fn distances_in_days() {
        let fr = |d| days_from_now(d, Lang::Fr);
        assert_eq!(fr(0), "aujourd'hui");
        assert_eq!(fr(1), "demain");
        assert_eq!(fr(12), "dans 12 jours");
        assert_eq!(fr(-1), "hier");
        assert_eq!(fr(-3), "il y a 3 jours");
        let en = |d| days_from_now(d, Lang::En);
        assert_eq!(en(0), "today");
        assert_eq!(en(-1), "yesterday");
        assert_eq!(en(12), "in 12 days");
        assert_eq!(en(-3), "3 days ago");
    }
}
