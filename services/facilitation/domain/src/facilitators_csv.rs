//! The facilitators file, `facilitators.csv`, validated all or nothing.
//!
//! Reading (BOM, UTF-8, exact header [`FACILITATORS_HEADER`], quoting,
//! trimming, blank lines, line numbers, [`RowError`]) is the inventory's
//! [`tabular`] reader, so this import behaves and reports like the others:
//! every problem, each as `facilitators.csv:LINE: message` in French, in line
//! order then column order.
//!
//! Cell rules:
//! - `facilitator_id`, `display_name`, `kind` are mandatory; an id defined
//!   twice is reported on the later line, naming the first;
//! - `employer_structure_id` and `funding_programme` may be empty;
//! - `served_structures`, `territory_codes`, `functions` are lists separated by
//!   `;` (items trimmed, empty items dropped, repeats kept once, in first-seen
//!   order) and may be empty; territory codes are checked by
//!   [`territory::validate`]; functions are catalogue or custom codes
//!   (`[a-z0-9_]`);
//! - `weekly_hours`: more than 0 and at most 60, a whole number of minutes,
//!   decimals with `.` or the French `,` (quoted, since `,` separates columns);
//! - `internal_share`: in `[0, 1]` as a decimal, or a percentage from 0 % to
//!   100 % (`30%`, `30 %`, `12,5 %`);
//! - `funding_end`: empty, or a date `YYYY-MM-DD`.
//!
//! [`tabular`]: vigie_tabular

use crate::model::{Facilitator, FacilitatorKind};
use crate::territory;
use chrono::NaiveDate;
use std::collections::HashMap;
use vigie_tabular::fields::{self, MAX_TEXT_CHARS};
use vigie_tabular::{flush, keep, read_rows, words, FileSpec, Words};

pub use vigie_tabular::RowError;

/// Name of the facilitators file (used in every error).
pub const FACILITATORS_FILE: &str = "facilitators.csv";

/// Columns of `facilitators.csv`, in order.
pub const FACILITATORS_HEADER: [&str; 11] = [
    "facilitator_id",
    "display_name",
    "kind",
    "employer_structure_id",
    "served_structures",
    "territory_codes",
    "functions",
    "weekly_hours",
    "internal_share",
    "funding_programme",
    "funding_end",
];

/// Most weekly hours accepted: above the legal maximum, so only a typo (a
/// monthly figure, minutes instead of hours) is refused.
pub const MAX_WEEKLY_HOURS: f64 = 60.0;

const FACILITATORS: FileSpec = FileSpec::new(FACILITATORS_FILE, &FACILITATORS_HEADER, true);

/// Parses and validates `facilitators.csv`. The facilitators are returned
/// sorted by id (byte order), so that equal files give equal values.
///
/// # Errors
///
/// Every problem found, as [`RowError`]s (`facilitators.csv:LINE: message`),
/// in line order; nothing is returned unless the whole file is valid.
pub fn parse_facilitators(bytes: &[u8]) -> Result<Vec<Facilitator>, Vec<RowError>> {
    let mut errors = Vec::new();
    let mut facilitators = Vec::new();
    // Facilitator id → line of its definition.
    let mut lines: HashMap<String, u64> = HashMap::new();
    read_rows(&FACILITATORS, bytes, &mut errors, |line, f, errors| {
        let (mut msgs, facilitator) = parse_row(f);
        if fields::id("facilitator_id", f[0]).is_ok() {
            match lines.get(f[0]) {
                Some(first) => msgs.insert(
                    0,
                    words!(
                        "facilitator_id « {} » en double (déjà défini ligne {first})",
                        "duplicate facilitator_id “{}” (already defined on line {first})",
                        f[0]
                    ),
                ),
                None => {
                    lines.insert(f[0].to_owned(), line);
                }
            }
        }
        if msgs.is_empty() {
            facilitators.extend(facilitator);
        }
        flush(FACILITATORS_FILE, line, msgs, errors);
    });
    if errors.is_empty() {
        facilitators.sort_unstable_by(|a: &Facilitator, b| a.id.cmp(&b.id));
        Ok(facilitators)
    } else {
        Err(errors)
    }
}

/// Checks every cell of one row: the messages in column order, and the
/// facilitator when there are none.
fn parse_row(f: &[&str]) -> (Vec<Words>, Option<Facilitator>) {
    let mut msgs = Vec::new();
    let id = keep(&mut msgs, fields::id("facilitator_id", f[0]));
    let name = keep(&mut msgs, fields::text("display_name", f[1]));
    let kind = keep(&mut msgs, kind(f[2]));
    let employer = keep(&mut msgs, optional_id("employer_structure_id", f[3]));
    let served = list(&mut msgs, f[4], |v| fields::id("served_structures", v));
    let territories = list(&mut msgs, f[5], |v| {
        territory::validate("territory_codes", v).map(|_| ())
    });
    let functions = list(&mut msgs, f[6], |v| {
        // The shared rule names the column only for some problems: name it always.
        fields::function_code("functions", v).map_err(|m| {
            if m.starts_with("colonne") {
                m
            } else {
                let (fr, en) = (&m.fr, &m.en);
                words!("colonne « functions » : {fr}", "column “functions”: {en}")
            }
        })
    });
    let weekly_minutes = keep(&mut msgs, weekly_hours(f[7]));
    let share = keep(&mut msgs, internal_share(f[8]));
    let programme = keep(&mut msgs, fields::bounded("funding_programme", f[9], MAX_TEXT_CHARS));
    let funding_end: Option<Option<NaiveDate>> = keep(&mut msgs, fields::date("funding_end", f[10]));

    let facilitator = match (
        id,
        name,
        kind,
        employer,
        served,
        territories,
        functions,
        weekly_minutes,
        share,
        programme,
        funding_end,
    ) {
        (
            Some(()),
            Some(()),
            Some(kind),
            Some(employer_structure_id),
            Some(served_structures),
            Some(territory_codes),
            Some(functions),
            Some(weekly_minutes),
            Some(internal_share),
            Some(()),
            Some(funding_end),
        ) => Some(Facilitator {
            id: f[0].to_owned(),
            display_name: f[1].to_owned(),
            kind,
            employer_structure_id,
            served_structures,
            territory_codes,
            functions,
            weekly_minutes,
            internal_share,
            funding_programme: f[9].to_owned(),
            funding_end,
        }),
        _ => None,
    };
    (msgs, facilitator)
}

/// `kind`: one of the codes of [`FacilitatorKind`].
fn kind(v: &str) -> Result<FacilitatorKind, Words> {
    if v.is_empty() {
        return Err(words!(
            "colonne « kind » vide (type obligatoire : conseiller_numerique, mediateur, coordinateur, \
             internal_referent ou trusted_peer)",
            "column “kind” is empty (type required: conseiller_numerique, mediateur, coordinateur, \
             internal_referent or trusted_peer)"
        ));
    }
    const KIND: fields::Label = fields::Label::new("type d'accompagnant", "facilitator type", "inconnu");
    fields::code(KIND, FacilitatorKind::ALL, FacilitatorKind::as_str, v)
}

/// An optional identifier: empty means none.
fn optional_id(column: &str, v: &str) -> Result<Option<String>, Words> {
    if v.is_empty() {
        return Ok(None);
    }
    fields::id(column, v).map(|()| Some(v.to_owned()))
}

/// A `;`-separated list: items trimmed (non-breaking spaces included), empty
/// items dropped, repeats kept once in first-seen order. Each invalid item is
/// reported (once, however often it is repeated); `None` if any was invalid.
fn list(msgs: &mut Vec<Words>, v: &str, check: impl Fn(&str) -> Result<(), Words>) -> Option<Vec<String>> {
    let mut items: Vec<String> = Vec::new();
    let mut problems: Vec<Words> = Vec::new();
    for item in v.split(';').map(str::trim).filter(|i| !i.is_empty()) {
        match check(item) {
            Ok(()) if !items.iter().any(|seen| seen == item) => items.push(item.to_owned()),
            Ok(()) => {}
            Err(m) if !problems.contains(&m) => problems.push(m),
            Err(_) => {}
        }
    }
    let valid = problems.is_empty();
    msgs.extend(problems);
    valid.then_some(items)
}

/// A non-negative decimal: digits, then optionally `.` or `,` and digits (no
/// sign, exponent, thousands separator or `NaN`).
fn decimal(v: &str) -> Option<f64> {
    let (int, frac) = match v.find(['.', ',']) {
        Some(i) => (&v[..i], Some(&v[i + 1..])),
        None => (v, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(int) || !frac.is_none_or(digits) {
        return None;
    }
    let value: f64 = format!("{int}.{}", frac.unwrap_or("0")).parse().ok()?;
    value.is_finite().then_some(value)
}

/// `weekly_hours`, returned in minutes: more than 0, at most
/// [`MAX_WEEKLY_HOURS`], a whole number of minutes (17.5 is 17 h 30; 17.33 is
/// not a working time anyone writes in a contract).
fn weekly_hours(v: &str) -> Result<u32, Words> {
    if v.is_empty() {
        return Err(words!(
            "colonne « weekly_hours » vide (temps de travail hebdomadaire obligatoire, en heures, \
             ex. 35 ou 17.5)",
            "column “weekly_hours” is empty (weekly working time required, in hours, e.g. 35 or 17.5)"
        ));
    }
    let minutes = decimal(v).map(|h| h * 60.0);
    match minutes {
        Some(m) if m > 0.0 && m <= MAX_WEEKLY_HOURS * 60.0 && (m - m.round()).abs() < 1e-6 => Ok(m.round() as u32),
        _ => {
            let shown = vigie_tabular::shown(v);
            Err(words!(
                "heures hebdomadaires « {shown} » invalides (attendu : un nombre d'heures supérieur à 0 et au plus \
                 60, à la minute près, ex. 35, 17.5 ou 7,25)",
                "invalid weekly hours “{shown}” (expected: a number of hours above 0 and at most 60, to the \
                 minute, e.g. 35, 17.5 or 7,25)"
            ))
        }
    }
}

/// `internal_share`: a decimal in `[0, 1]` or a percentage in `[0 %, 100 %]`
/// (spaces, including non-breaking ones, allowed before `%`).
fn internal_share(v: &str) -> Result<f64, Words> {
    if v.is_empty() {
        return Err(words!(
            "colonne « internal_share » vide (part du temps réservée au soutien interne obligatoire, \
             ex. 0.3 ou 30%)",
            "column “internal_share” is empty (share of time set aside for internal support required, \
             e.g. 0.3 or 30%)"
        ));
    }
    let share = match v.strip_suffix('%') {
        Some(percent) => decimal(percent.trim_end()).filter(|p| *p <= 100.0).map(|p| p / 100.0),
        None => decimal(v).filter(|s| *s <= 1.0),
    };
    share.ok_or_else(|| {
        let shown = vigie_tabular::shown(v);
        words!(
            "part interne « {shown} » invalide (attendu : un nombre entre 0 et 1 ou un pourcentage entre 0 % et \
             100 %, ex. 0.3, 0,25 ou 30%)",
            "invalid internal share “{shown}” (expected: a number between 0 and 1 or a percentage between 0% and \
             100%, e.g. 0.3, 0,25 or 30%)"
        )
    })
}

#[cfg(test)]
mod tests;
