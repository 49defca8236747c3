//! Field-level rules shared by the CSV imports. Each check returns the
//! message to report, in French and in English, naming the column so the
//! user finds the cell to fix.

use chrono::NaiveDate;
use std::str::FromStr;
use vigie_words::{words, Words};

/// What a value names, for messages: `rôle` / `role`, with the French
/// adjective « inconnu » agreeing with it (`inconnue` for a feminine noun).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Label {
    /// The French noun (`forme juridique`).
    pub fr: &'static str,
    /// The English noun (`legal form`).
    pub en: &'static str,
    /// « inconnu » or « inconnue », agreeing with the French noun.
    pub unknown_fr: &'static str,
}

impl Label {
    /// A label: the French noun, the English one, and « inconnu » or
    /// « inconnue » agreeing with the French noun.
    pub const fn new(fr: &'static str, en: &'static str, unknown_fr: &'static str) -> Label {
        Label { fr, en, unknown_fr }
    }
}

/// Longest identifier accepted (structure, person, network, function code).
/// Ids are the user's own strings; the bound keeps storage and messages sane.
pub const MAX_ID_CHARS: usize = 100;

/// Longest display text (structure name, person name, tool name).
pub const MAX_TEXT_CHARS: usize = 200;

/// A bounded text: at most `max` characters and no control character
/// (values end up in URLs, logs, messages and other CSV files).
pub fn bounded(column: &str, v: &str, max: usize) -> Result<(), Words> {
    let n = v.chars().count();
    if n > max {
        return Err(words!(
            "colonne « {column} » : valeur trop longue ({n} caractères, {max} au maximum)",
            "column “{column}”: value too long ({n} characters, at most {max})"
        ));
    }
    if v.chars().any(char::is_control) {
        let shown = vigie_words::shown(v);
        return Err(words!(
            "colonne « {column} » : caractère de contrôle interdit (retour à la ligne, tabulation…) dans « {shown} »",
            "column “{column}”: control character not allowed (line break, tab…) in “{shown}”"
        ));
    }
    Ok(())
}

/// A mandatory identifier: non-empty, at most [`MAX_ID_CHARS`] characters,
/// no control character (it ends up in URLs, logs and other CSV files).
pub fn id(column: &str, v: &str) -> Result<(), Words> {
    if v.is_empty() {
        return Err(words!(
            "colonne « {column} » vide (identifiant obligatoire)",
            "column “{column}” is empty (identifier required)"
        ));
    }
    bounded(column, v, MAX_ID_CHARS)
}

/// A mandatory free text (names): non-empty, bounded, no control character.
pub fn text(column: &str, v: &str) -> Result<(), Words> {
    if v.is_empty() {
        return Err(words!(
            "colonne « {column} » vide (valeur obligatoire)",
            "column “{column}” is empty (value required)"
        ));
    }
    bounded(column, v, MAX_TEXT_CHARS)
}

/// A function code: lowercase ASCII letters, digits and `_`, so that codes
/// are stable keys (no accent or case variants of the same function).
pub fn function_code(column: &str, v: &str) -> Result<(), Words> {
    if v.is_empty() {
        return Err(words!(
            "colonne « {column} » vide (code de fonction obligatoire)",
            "column “{column}” is empty (function code required)"
        ));
    }
    if v.len() > MAX_ID_CHARS {
        let n = v.chars().count();
        return Err(words!(
            "colonne « {column} » : code de fonction trop long ({n} caractères, {MAX_ID_CHARS} au maximum)",
            "column “{column}”: function code too long ({n} characters, at most {MAX_ID_CHARS})"
        ));
    }
    if !v
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        let shown = vigie_words::shown(v);
        return Err(words!(
            "code de fonction « {shown} » invalide (attendu : lettres minuscules sans accent, chiffres et _, ex. payroll)",
            "invalid function code “{shown}” (expected: lowercase letters without accents, digits and _, e.g. payroll)"
        ));
    }
    Ok(())
}

/// One of the codes of a `code_enum!` type of `model` (role, legal form),
/// with a message listing every accepted value.
pub fn code<T: FromStr + Copy>(label: Label, all: &[T], as_str: fn(T) -> &'static str, v: &str) -> Result<T, Words> {
    v.parse::<T>().map_err(|_| {
        let expected = all.iter().map(|&x| as_str(x)).collect::<Vec<_>>().join(", ");
        let (shown, Label { fr, en, unknown_fr }) = (vigie_words::shown(v), label);
        words!(
            "{fr} « {shown} » {unknown_fr} (attendu : {expected})",
            "unknown {en} “{shown}” (expected: {expected})"
        )
    })
}

/// An optional date, strictly `YYYY-MM-DD` (the format the server and the
/// generator write; a spreadsheet's `30/06/2026` must be converted, not
/// guessed, since `03/04` is ambiguous).
pub fn date(column: &str, v: &str) -> Result<Option<NaiveDate>, Words> {
    if v.is_empty() {
        return Ok(None);
    }
    let b = v.as_bytes();
    let shaped = b.len() == 10
        && b.iter().enumerate().all(|(i, &c)| {
            if i == 4 || i == 7 {
                c == b'-'
            } else {
                c.is_ascii_digit()
            }
        });
    if !shaped {
        let shown = vigie_words::shown(v);
        return Err(words!(
            "colonne « {column} » : date « {shown} » invalide (format attendu AAAA-MM-JJ, ex. 2026-06-30)",
            "column “{column}”: invalid date “{shown}” (expected format YYYY-MM-DD, e.g. 2026-06-30)"
        ));
    }
    // The shape guarantees these slices are digits.
    let num = |r: std::ops::Range<usize>| v[r].parse::<u32>().unwrap_or(0);
    let year = i32::try_from(num(0..4)).unwrap_or(0);
    NaiveDate::from_ymd_opt(year, num(5..7), num(8..10))
        .map(Some)
        .ok_or_else(|| {
            words!(
                "colonne « {column} » : la date {v} n'existe pas",
                "column “{column}”: the date {v} does not exist"
            )
        })
}

/// A small integer in `range`, with a label and the accepted values spelt
/// out (`expected`: French, English).
pub fn small_int(
    column: &str,
    label: Label,
    range: std::ops::RangeInclusive<u8>,
    expected: (&str, &str),
    v: &str,
) -> Result<u8, Words> {
    let (Label { fr, en, .. }, (expected_fr, expected_en)) = (label, expected);
    if v.is_empty() {
        return Err(words!(
            "colonne « {column} » vide ({fr} obligatoire : {expected_fr})",
            "column “{column}” is empty ({en} required: {expected_en})"
        ));
    }
    match v.parse::<u8>() {
        Ok(n) if range.contains(&n) && !v.starts_with('+') => Ok(n),
        _ => {
            let shown = vigie_words::shown(v);
            Err(words!(
                "{fr} « {shown} » invalide (attendu : {expected_fr})",
                "invalid {en} “{shown}” (expected: {expected_en})"
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A code type of the kind `code` reads (the inventory's roles, the
    /// training modes…), local so that this crate depends on no model.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Mode {
        OnSite,
        Remote,
    }

    impl Mode {
        const ALL: &[Mode] = &[Mode::OnSite, Mode::Remote];

        fn as_str(self) -> &'static str {
            match self {
                Mode::OnSite => "on_site",
                Mode::Remote => "remote",
            }
        }
    }

    impl FromStr for Mode {
        type Err = ();

        fn from_str(s: &str) -> Result<Self, ()> {
            Mode::ALL.iter().copied().find(|m| m.as_str() == s).ok_or(())
        }
    }

    /// The French message, which existing rows are checked against (the
    /// English one is checked where it is built).
    fn fr<T>(result: Result<T, Words>) -> Result<T, String> {
        result.map_err(|words| words.fr)
    }

    const MODE: Label = Label::new("mode", "mode", "inconnu");

    #[test]
    fn ids() {
        assert_eq!(id("person_id", "P1"), Ok(()));
        assert_eq!(id("person_id", "x".repeat(100).as_str()), Ok(()));
        assert_eq!(
            fr(id("person_id", "")),
            Err("colonne « person_id » vide (identifiant obligatoire)".to_owned())
        );
        assert_eq!(
            fr(id("person_id", "é".repeat(101).as_str())),
            Err("colonne « person_id » : valeur trop longue (101 caractères, 100 au maximum)".to_owned())
        );
        assert_eq!(
            fr(id("person_id", "P\t1")),
            Err("colonne « person_id » : caractère de contrôle interdit (retour à la ligne, tabulation…) dans « P\\t1 »".to_owned())
        );
    }

    #[test]
    fn function_codes() {
        assert_eq!(function_code("function", "payroll"), Ok(()));
        assert_eq!(function_code("function", "cantine_2"), Ok(()));
        for bad in ["Payroll", "paie-dsn", "comptabilité", "a b", ""] {
            assert!(function_code("function", bad).is_err(), "{bad}");
        }
        assert!(function_code("function", &"a".repeat(101)).is_err());
    }

    #[test]
    fn codes_list_the_accepted_values() {
        assert_eq!(code(MODE, Mode::ALL, Mode::as_str, "remote"), Ok(Mode::Remote));
        assert_eq!(
            code(MODE, Mode::ALL, Mode::as_str, "distanciel").map_err(|e| (e.fr, e.en)),
            Err((
                "mode « distanciel » inconnu (attendu : on_site, remote)".to_owned(),
                "unknown mode “distanciel” (expected: on_site, remote)".to_owned()
            ))
        );
    }

    #[test]
    fn dates() {
        assert_eq!(date("end_date", ""), Ok(None));
        assert_eq!(date("end_date", "2026-06-30"), Ok(NaiveDate::from_ymd_opt(2026, 6, 30)));
        assert_eq!(date("end_date", "2028-02-29"), Ok(NaiveDate::from_ymd_opt(2028, 2, 29)));
        assert_eq!(
            fr(date("end_date", "2026-02-30")),
            Err("colonne « end_date » : la date 2026-02-30 n'existe pas".to_owned())
        );
        assert!(date("end_date", "2026-13-01").is_err());
        assert!(date("end_date", "2027-02-29").is_err());
        for bad in [
            "30/06/2026",
            "2026-6-30",
            "2026-06-30T00:00",
            "20260630",
            "2026/06/30",
            "+026-06-30",
        ] {
            assert_eq!(
                date("end_date", bad),
                Err(Words::new(
                    format!(
                        "colonne « end_date » : date « {bad} » invalide (format attendu AAAA-MM-JJ, ex. 2026-06-30)"
                    ),
                    format!("column “end_date”: invalid date “{bad}” (expected format YYYY-MM-DD, e.g. 2026-06-30)")
                )),
            );
        }
    }

    #[test]
    fn small_ints() {
        const LEVEL: Label = Label::new("niveau", "level", "inconnu");
        let level = |v| small_int("level", LEVEL, 0..=4, ("0, 1, 2, 3 ou 4", "0, 1, 2, 3 or 4"), v);
        assert_eq!(level("0"), Ok(0));
        assert_eq!(level("4"), Ok(4));
        assert_eq!(
            fr(level("5")),
            Err("niveau « 5 » invalide (attendu : 0, 1, 2, 3 ou 4)".to_owned())
        );
        for bad in ["-1", "+3", "3.0", "trois", "256"] {
            assert!(level(bad).is_err(), "{bad}");
        }
        assert_eq!(
            fr(level("")),
            Err("colonne « level » vide (niveau obligatoire : 0, 1, 2, 3 ou 4)".to_owned())
        );
        assert_eq!(
            level("7").unwrap_err().en,
            "invalid level “7” (expected: 0, 1, 2, 3 or 4)"
        );
    }
}
