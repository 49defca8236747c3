//! Parsers of the sources of calls: each turns one document into a [`crate::call::Parsed`].
//!
//! - [`aides_territoires`]: the JSON of the Aides-territoires API (pages, or saved pages in a file);
//! - [`etalab`]: the CSV table of the Etalab `schema-dispositif-aide`, import and export;
//! - [`feed`]: RSS 2.0 and Atom feeds, read through a per-source [`feed::FeedMapping`].
//!
//! Every problem carries its position (`FILE:LINE`, `FILE:page N:item M (id X)`,
//! `FILE:item N`) and a message written in French and English side by side
//! ([`vigie_words::words!`]); a bad item never stops the others.

pub mod aides_territoires;
pub mod etalab;
pub mod feed;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime};
use chrono_tz::Tz;
use vigie_words::{words, Words};

use crate::call::{ImportProblem, Scale, Severity, TerritoryCode};
use crate::model::DEFAULT_TZ;

/// An error at `position`.
pub(crate) fn error(position: impl Into<String>, message: Words) -> ImportProblem {
    ImportProblem {
        position: position.into(),
        message,
        severity: Severity::Error,
    }
}

/// A warning at `position`.
pub(crate) fn warning(position: impl Into<String>, message: Words) -> ImportProblem {
    ImportProblem {
        position: position.into(),
        message,
        severity: Severity::Warning,
    }
}

/// A description of a JSON parse error, without its line (given by the position when known).
pub(crate) fn json_error(error: &serde_json::Error) -> Words {
    use serde_json::error::Category;
    let (line, column) = (error.line(), error.column());
    match error.classify() {
        Category::Eof => words!(
            "JSON tronqué (ligne {line}, colonne {column})",
            "truncated JSON (line {line}, column {column})"
        ),
        Category::Syntax => words!(
            "JSON invalide (ligne {line}, colonne {column})",
            "invalid JSON (line {line}, column {column})"
        ),
        Category::Data => words!(
            "structure JSON inattendue (ligne {line}, colonne {column})",
            "unexpected JSON structure (line {line}, column {column})"
        ),
        Category::Io => words!("lecture du JSON impossible", "the JSON could not be read"),
    }
}

/// The 1-based line of byte `offset` in `doc`.
pub(crate) fn line_at(doc: &[u8], offset: usize) -> usize {
    doc.iter().take(offset).filter(|&&b| b == b'\n').count() + 1
}

/// Lower-cases and folds the French accents of one character, one char for one
/// char, so that positions in the folded text are positions in the original.
pub(crate) fn fold_char(c: char) -> char {
    let lower = c.to_lowercase().next().unwrap_or(c);
    match lower {
        'é' | 'è' | 'ê' | 'ë' => 'e',
        'à' | 'â' | 'ä' => 'a',
        'î' | 'ï' => 'i',
        'ô' | 'ö' => 'o',
        'ù' | 'û' | 'ü' => 'u',
        'ç' => 'c',
        'œ' => 'o',
        '’' | 'ʼ' => '\'',
        '\u{a0}' | '\u{202f}' | '\t' | '\r' | '\n' => ' ',
        other => other,
    }
}

/// [`fold_char`] over a whole text.
pub(crate) fn fold(text: &str) -> String {
    text.trim().chars().map(fold_char).collect()
}

/// The time zone of a perimeter: the overseas zone when every code lies in the
/// same overseas department or region (Guadeloupe, Martinique, Guyane, La
/// Réunion, Mayotte), else `Europe/Paris`.
pub(crate) fn zone_of(codes: &[TerritoryCode]) -> Tz {
    let mut zones = codes.iter().map(overseas_zone);
    let Some(Some(first)) = zones.next() else {
        return DEFAULT_TZ;
    };
    if zones.all(|zone| zone == Some(first)) {
        first
    } else {
        DEFAULT_TZ
    }
}

fn overseas_zone(code: &TerritoryCode) -> Option<Tz> {
    let department = match code.scale {
        Scale::Region => match code.code.as_str() {
            "01" => "971",
            "02" => "972",
            "03" => "973",
            "04" => "974",
            "06" => "976",
            _ => return None,
        },
        Scale::Department => code.code.as_str(),
        Scale::Commune => code.code.get(..3)?,
        Scale::Country | Scale::Epci => return None,
    };
    Some(match department {
        "971" => chrono_tz::America::Guadeloupe,
        "972" => chrono_tz::America::Martinique,
        "973" => chrono_tz::America::Cayenne,
        "974" => chrono_tz::Indian::Reunion,
        "976" => chrono_tz::Indian::Mayotte,
        _ => return None,
    })
}

/// The last second of a day: a deadline at this local time is a whole-day deadline.
pub(crate) const END_OF_DAY: NaiveTime = match NaiveTime::from_hms_opt(23, 59, 59) {
    Some(time) => time,
    None => NaiveTime::MIN,
};

/// Reads an ISO 8601 date (`2027-03-14`: a whole day) or date-time, as a local
/// date and time in `zone`: a date-time with an offset (`Z`, `+01:00`) is
/// converted to `zone`, one without is taken as local. The last second of a
/// local day (`23:59:59`) is a whole-day deadline (`None`).
pub(crate) fn iso_when(value: &str, zone: Tz) -> Option<(NaiveDate, Option<NaiveTime>)> {
    let value = value.trim();
    if value.len() == 10 {
        return NaiveDate::parse_from_str(value, "%Y-%m-%d")
            .ok()
            .map(|date| (date, None));
    }
    let local = match DateTime::parse_from_rfc3339(value) {
        Ok(instant) => instant.with_timezone(&zone).naive_local(),
        Err(_) => [
            "%Y-%m-%dT%H:%M:%S%.f",
            "%Y-%m-%dT%H:%M",
            "%Y-%m-%d %H:%M:%S%.f",
            "%Y-%m-%d %H:%M",
        ]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(value, format).ok())?,
    };
    Some(whole_day_at_end(local.date(), local.time()))
}

/// `(date, None)` when `time` is the last second of the day (fractions ignored), else `(date, Some(time))`.
pub(crate) fn whole_day_at_end(date: NaiveDate, time: NaiveTime) -> (NaiveDate, Option<NaiveTime>) {
    use chrono::Timelike;
    if time.with_nanosecond(0) == Some(END_OF_DAY) {
        (date, None)
    } else {
        (date, Some(time))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(scale: Scale, code: &str) -> TerritoryCode {
        TerritoryCode {
            scale,
            code: code.to_owned(),
        }
    }

    #[test]
    fn overseas_perimeters_take_their_zone() {
        assert_eq!(zone_of(&[]), DEFAULT_TZ);
        assert_eq!(zone_of(&[code(Scale::Country, "FR")]), DEFAULT_TZ);
        assert_eq!(zone_of(&[code(Scale::Region, "53")]), DEFAULT_TZ);
        assert_eq!(zone_of(&[code(Scale::Region, "04")]), chrono_tz::Indian::Reunion);
        assert_eq!(
            zone_of(&[code(Scale::Department, "974"), code(Scale::Commune, "97411")]),
            chrono_tz::Indian::Reunion
        );
        assert_eq!(zone_of(&[code(Scale::Department, "973")]), chrono_tz::America::Cayenne);
        assert_eq!(
            zone_of(&[code(Scale::Commune, "97101")]),
            chrono_tz::America::Guadeloupe
        );
        assert_eq!(
            zone_of(&[code(Scale::Department, "974"), code(Scale::Department, "976")]),
            DEFAULT_TZ
        );
        assert_eq!(
            zone_of(&[code(Scale::Department, "974"), code(Scale::Department, "35")]),
            DEFAULT_TZ
        );
        assert_eq!(zone_of(&[code(Scale::Epci, "249740119")]), DEFAULT_TZ);
    }

    #[test]
    fn folding_keeps_one_char_per_char() {
        let text = "Date LIMITE\u{a0}: Échéance réglée’";
        assert_eq!(text.chars().count(), text.chars().map(fold_char).count());
        assert_eq!(fold(text), "date limite : echeance reglee'");
        assert_eq!(line_at(b"a\nb\nc", 0), 1);
        assert_eq!(line_at(b"a\nb\nc", 2), 2);
        assert_eq!(line_at(b"a\nb\nc", 4), 3);
    }

    #[test]
    fn iso_dates_and_date_times() {
        let paris = DEFAULT_TZ;
        let day = |text: &str| NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap();
        let time = |h, m| NaiveTime::from_hms_opt(h, m, 0);
        assert_eq!(iso_when("2027-03-14", paris), Some((day("2027-03-14"), None)));
        assert_eq!(iso_when(" 2027-03-14 ", paris), Some((day("2027-03-14"), None)));
        assert_eq!(
            iso_when("2027-03-14T12:00:00Z", paris),
            Some((day("2027-03-14"), time(13, 0)))
        );
        assert_eq!(
            iso_when("2027-07-14T12:00:00Z", paris),
            Some((day("2027-07-14"), time(14, 0))),
            "summer time"
        );
        assert_eq!(
            iso_when("2027-03-14T23:30:00Z", paris),
            Some((day("2027-03-15"), time(0, 30)))
        );
        assert_eq!(
            iso_when("2027-03-14T12:00:00+01:00", paris),
            Some((day("2027-03-14"), time(12, 0)))
        );
        assert_eq!(
            iso_when("2027-03-14T12:00", paris),
            Some((day("2027-03-14"), time(12, 0)))
        );
        assert_eq!(
            iso_when("2027-03-14 17:30:00", paris),
            Some((day("2027-03-14"), time(17, 30)))
        );
        assert_eq!(
            iso_when("2027-03-14T23:59:59+01:00", paris),
            Some((day("2027-03-14"), None))
        );
        assert_eq!(
            iso_when("2027-03-14T23:59:59.999", paris),
            Some((day("2027-03-14"), None))
        );
        assert_eq!(iso_when("2027-03-14T22:59:59Z", paris), Some((day("2027-03-14"), None)));
        assert_eq!(
            iso_when("2027-03-14T12:00:00Z", chrono_tz::Indian::Reunion),
            Some((day("2027-03-14"), time(16, 0)))
        );
        for bad in [
            "",
            "14/03/2027",
            "2027-02-30",
            "2027-03-14T25:00:00Z",
            "demain",
            "2027-03-14T12",
        ] {
            assert_eq!(iso_when(bad, paris), None, "{bad}");
        }
    }

    #[test]
    fn json_errors_are_in_french_and_english() {
        let Err(eof) = serde_json::from_str::<serde_json::Value>("{\"a\": ") else {
            panic!("tronqué accepté");
        };
        assert_eq!(json_error(&eof), "JSON tronqué (ligne 1, colonne 6)");
        assert_eq!(json_error(&eof).en, "truncated JSON (line 1, column 6)");
        let Err(syntax) = serde_json::from_str::<serde_json::Value>("{\n  \"a\" 1}") else {
            panic!("syntaxe acceptée");
        };
        assert_eq!(json_error(&syntax), "JSON invalide (ligne 2, colonne 7)");
        assert_eq!(json_error(&syntax).en, "invalid JSON (line 2, column 7)");
        let Err(data) = serde_json::from_str::<Vec<u8>>("{}") else {
            panic!("structure acceptée");
        };
        assert!(json_error(&data).starts_with("structure JSON inattendue"));
    }
}
