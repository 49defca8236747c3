//! The values of a cell as people and spreadsheets write them: French
//! amounts, dates, oui/non, the outcome; and the key derived for a row
//! without one.

use chrono::NaiveDate;
use vigie_words::{shown, words, Term, Words};

use super::columns::normalise_header;
use super::DERIVED_KEY_PREFIX;
use crate::validate::{REFUSED, WON};

/// Cents the French way: `12 500 €`, `1 234,50 €` (narrow no-break spaces
/// between thousands, a no-break space before the sign) — as the console and
/// the CLI show amounts; [`parse_euros`] reads them back.
pub fn euros_fr(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let cents = cents.unsigned_abs();
    let digits = (cents / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push('\u{202f}');
        }
        grouped.push(c);
    }
    match cents % 100 {
        0 => format!("{sign}{grouped}\u{a0}€"),
        rest => format!("{sign}{grouped},{rest:02}\u{a0}€"),
    }
}

/// An amount in euros the French way (« 12 500,50 », « 12500 », « 12 500 € »,
/// « 12.500 », or a spreadsheet's « 12500.5 ») in cents; `None` for empty.
///
/// A comma is always the decimal separator; a point is one too, unless it
/// is followed by exactly three digits (« 12.500 » is twelve thousand five
/// hundred, as a French reader means it).
///
/// # Errors
/// A message naming `field` for anything else (a negative amount, more than
/// two decimals, letters).
pub fn parse_euros(text: &str, field: Term) -> Result<Option<i64>, Words> {
    let raw = text.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    let en = field.en;
    let refuse = || {
        let raw = shown(raw);
        words!(
            "{field} « {raw} » : attendu un montant en euros, par exemple 12500, 12 500 ou 12 500,50 €",
            "{en} “{raw}”: expected an amount in euros, for example 12500, 12 500 or 12 500,50 €"
        )
    };
    let mut cleaned: String = raw
        .trim_end_matches("EUR")
        .trim_end_matches("eur")
        .trim_end_matches('€')
        .chars()
        .filter(|c| !matches!(c, ' ' | '\u{a0}' | '\u{202f}' | '\u{2009}' | '_'))
        .collect();
    // Points as thousands separators: 1.234.567 or 12.500 (and with a
    // comma for the cents: 12.500,50).
    let groups: Vec<&str> = cleaned.split(',').next().unwrap_or_default().split('.').collect();
    if groups.len() > 1 && groups[1..].iter().all(|g| g.len() == 3) && (1..=3).contains(&groups[0].len()) {
        let comma = cleaned.find(',').map(|i| cleaned[i..].to_owned()).unwrap_or_default();
        cleaned = format!("{}{comma}", groups.concat());
    }
    let (whole, fraction) = match cleaned.split_once([',', '.']) {
        Some((w, f)) => (w, f),
        None => (cleaned.as_str(), ""),
    };
    if whole.is_empty()
        || whole.len() > 12
        || !whole.chars().all(|c| c.is_ascii_digit())
        || fraction.len() > 2
        || !fraction.chars().all(|c| c.is_ascii_digit())
    {
        return Err(refuse());
    }
    let euros: i64 = whole.parse().map_err(|_| refuse())?;
    let cents: i64 = format!("{fraction:0<2}").parse().map_err(|_| refuse())?;
    euros
        .checked_mul(100)
        .and_then(|c| c.checked_add(cents))
        .map(Some)
        .ok_or_else(refuse)
}

/// A date as `JJ/MM/AAAA` (or `J/M/AAAA`, `JJ-MM-AAAA`, `JJ.MM.AAAA`) or
/// `AAAA-MM-JJ` (what a spreadsheet's date cell becomes); `None` for empty.
///
/// # Errors
/// A message naming `field`.
pub fn parse_date(text: &str, field: Term) -> Result<Option<NaiveDate>, Words> {
    let raw = text.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    let en = field.en;
    let refuse = || {
        let raw = shown(raw);
        words!(
            "{field} « {raw} » : date attendue au format JJ/MM/AAAA ou AAAA-MM-JJ",
            "{en} “{raw}”: date expected as DD/MM/YYYY or YYYY-MM-DD"
        )
    };
    let parts: Vec<&str> = raw.split(['/', '-', '.']).collect();
    let [a, b, c] = parts[..] else {
        return Err(refuse());
    };
    let number = |s: &str| -> Option<u32> {
        (!s.is_empty() && s.len() <= 4 && s.chars().all(|c| c.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    let (year, month, day) = match (a.len(), c.len()) {
        (4, 1..=2) => (number(a), number(b), number(c)),
        (1..=2, 4) => (number(c), number(b), number(a)),
        _ => return Err(refuse()),
    };
    let (Some(year), Some(month), Some(day)) = (year, month, day) else {
        return Err(refuse());
    };
    let year = i32::try_from(year).map_err(|_| refuse())?;
    NaiveDate::from_ymd_opt(year, month, day).map(Some).ok_or_else(|| {
        let raw = shown(raw);
        words!(
            "{field} « {raw} » : cette date n'existe pas",
            "{en} “{raw}”: this date does not exist"
        )
    })
}

/// `oui`/`non` (and `yes`/`no`, `vrai`/`faux`, `true`/`false`, `1`/`0`);
/// `None` for empty.
///
/// # Errors
/// A message naming `field`.
pub fn parse_yes_no(text: &str, field: Term) -> Result<Option<bool>, Words> {
    match normalise_header(text).as_str() {
        "" => Ok(None),
        "oui" | "o" | "yes" | "y" | "vrai" | "true" | "1" | "x" => Ok(Some(true)),
        "non" | "n" | "no" | "faux" | "false" | "0" => Ok(Some(false)),
        _ => {
            let (en, raw) = (field.en, shown(text.trim()));
            Err(words!(
                "{field} « {raw} » : attendu oui ou non",
                "{en} “{raw}”: expected yes or no"
            ))
        }
    }
}

/// The stage an `issue` names: `None` for empty (an application pending),
/// [`WON`] or [`REFUSED`].
///
/// # Errors
/// A message naming the column.
pub fn parse_outcome(text: &str) -> Result<Option<&'static str>, Words> {
    match normalise_header(text).as_str() {
        "" | "en attente" | "depose" | "deposee" | "pending" | "applied" => Ok(None),
        "obtenu" | "obtenue" | "accorde" | "accordee" | "won" | "granted" => Ok(Some(WON)),
        "refuse" | "refusee" | "rejete" | "rejetee" | "refused" | "rejected" => Ok(Some(REFUSED)),
        _ => {
            let raw = shown(text.trim());
            Err(words!(
                "issue « {raw} » inconnue : vide (en attente), obtenu ou refusé",
                "unknown outcome “{raw}”: empty (pending), won or refused"
            ))
        }
    }
}

/// FNV-1a, 64 bits, from `seed`: a stable hash that needs no dependency
/// (the derived key must not change between versions of Vigie, which rules
/// out the standard library's hasher).
fn fnv1a(seed: u64, bytes: &[u8]) -> u64 {
    let mut hash = seed;
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// The key of a row without one: the structure, the funder, the title (case
/// and spaces folded) and the date of submission (empty when not given, so
/// that a re-import on another day finds the same rows), hashed on 128 bits.
pub fn derived_key(structure_id: &str, funder: &str, title: &str, applied_on: Option<NaiveDate>) -> String {
    let fold = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
    let text = format!(
        "{}\u{1f}{}\u{1f}{}\u{1f}{}",
        structure_id.trim(),
        fold(funder),
        fold(title),
        applied_on.map(|d| d.to_string()).unwrap_or_default()
    );
    let high = fnv1a(0xcbf2_9ce4_8422_2325, text.as_bytes());
    let low = fnv1a(0x8422_2325_cbf2_9ce4, text.as_bytes());
    format!("{DERIVED_KEY_PREFIX}{high:016x}{low:016x}")
}
