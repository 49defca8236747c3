//! One cell → the text of a CSV field, as the person meant it: text as is,
//! integral numbers without ".0", dates as `YYYY-MM-DD`; identifiers must be
//! text, and a number where an identifier is expected is reported rather
//! than turned into a code that lost its leading zeros.

use calamine::{Data, DataRef, ExcelDateTime};
use vigie_words::{words, Words};

/// A cell value, whichever reader produced it.
pub(crate) enum Value<'a> {
    Empty,
    Text(&'a str),
    Int(i64),
    Float(f64),
    Bool(bool),
    Date(&'a ExcelDateTime),
    Iso(&'a str),
    Duration,
    Error(String),
}

impl<'a> From<&'a DataRef<'a>> for Value<'a> {
    fn from(d: &'a DataRef<'a>) -> Self {
        match d {
            DataRef::Empty => Value::Empty,
            DataRef::String(s) => Value::Text(s),
            DataRef::SharedString(s) => Value::Text(s),
            DataRef::Int(i) => Value::Int(*i),
            DataRef::Float(f) => Value::Float(*f),
            DataRef::Bool(b) => Value::Bool(*b),
            DataRef::DateTime(d) => Value::Date(d),
            DataRef::DateTimeIso(s) => Value::Iso(s),
            DataRef::DurationIso(_) => Value::Duration,
            DataRef::Error(e) => Value::Error(e.to_string()),
        }
    }
}

impl<'a> From<&'a Data> for Value<'a> {
    fn from(d: &'a Data) -> Self {
        match d {
            Data::Empty => Value::Empty,
            Data::String(s) => Value::Text(s),
            Data::Int(i) => Value::Int(*i),
            Data::Float(f) => Value::Float(*f),
            Data::Bool(b) => Value::Bool(*b),
            Data::DateTime(d) => Value::Date(d),
            Data::DateTimeIso(s) => Value::Iso(s),
            Data::DurationIso(_) => Value::Duration,
            Data::Error(e) => Value::Error(e.to_string()),
        }
    }
}

/// What a column expects.
#[derive(Clone, Copy)]
pub(crate) enum Kind {
    /// Free text, numbers, levels.
    Plain,
    /// An identifier; `Some(widths)` when it has a fixed number of digits.
    Id(Option<&'static [usize]>),
    /// A date.
    Date,
}

/// Largest integer a float stores exactly (2^53).
const EXACT: f64 = 9_007_199_254_740_992.0;

/// `A`, `B`, … `AF`: the column letters a spreadsheet shows.
pub(crate) fn column_letters(mut col: u32) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'A' + (col % 26) as u8);
        if col < 26 {
            break;
        }
        col = col / 26 - 1;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// The text of one cell for `column` (its header name, for messages), or the
/// message explaining why it cannot be used.
pub(crate) fn cell_text(value: Value<'_>, column: &str, kind: Kind) -> Result<String, Words> {
    let text = match value {
        Value::Empty => return Ok(String::new()),
        Value::Text(s) => s.to_owned(),
        Value::Int(i) => number(i as f64, Some(i), column, kind)?,
        Value::Float(f) => number(f, None, column, kind)?,
        Value::Bool(b) => (if b { "true" } else { "false" }).to_owned(),
        Value::Date(d) if d.is_datetime() => {
            let (y, m, day, ..) = d.to_ymd_hms_milli();
            let date = format!("{y:04}-{m:02}-{day:02}");
            if matches!(kind, Kind::Id(_)) {
                return Err(words!(
                    "colonne « {column} » : une date ({date}) à la place d'un identifiant ; mettez la colonne au format Texte et retapez la valeur",
                    "column “{column}”: a date ({date}) instead of an identifier; format the column as Text and type the value again"
                ));
            }
            date
        }
        Value::Date(_) | Value::Duration => {
            return Err(words!(
                "colonne « {column} » : une durée n'est pas une valeur attendue ici",
                "column “{column}”: a duration is not a value expected here"
            ))
        }
        // ODS dates: `2026-01-05` or `2026-01-05T00:00:00`.
        Value::Iso(s) => s.get(..10).unwrap_or(s).to_owned(),
        Value::Error(e) => {
            return Err(words!(
                "colonne « {column} » : la cellule contient une erreur de calcul ({e})",
                "column “{column}”: the cell holds a calculation error ({e})"
            ))
        }
    };
    if text.contains(['\n', '\r']) {
        // A line break would shift every following line of the CSV file,
        // and no field of the set accepts one anyway.
        return Err(words!(
            "colonne « {column} » : retour à la ligne dans la cellule (une seule ligne attendue)",
            "column “{column}”: line break in the cell (a single line expected)"
        ));
    }
    Ok(text)
}

/// A number cell. Integral values are written without ".0"; in an
/// identifier column a number is refused with the fix to apply, because the
/// spreadsheet may already have dropped leading zeros (`01234` → `1234`).
fn number(f: f64, int: Option<i64>, column: &str, kind: Kind) -> Result<String, Words> {
    let integral = int.or_else(|| (f.fract() == 0.0 && f.abs() < EXACT).then_some(f as i64));
    match kind {
        Kind::Plain | Kind::Date => Ok(match integral {
            Some(i) => i.to_string(),
            None => f.to_string(),
        }),
        Kind::Id(widths) => {
            let shown = integral.map_or_else(|| f.to_string(), |i| i.to_string());
            let digits = shown.len();
            match (integral, widths) {
                // As many digits as the code has: no zero can be missing.
                (Some(i), Some(w)) if i >= 0 && w.contains(&digits) => Ok(shown),
                (Some(i), Some(w)) if i >= 0 && w.iter().all(|&w| digits < w) => {
                    let widths: Vec<String> = w.iter().map(usize::to_string).collect();
                    let (or_fr, or_en) = (widths.join(" ou "), widths.join(" or "));
                    let padded = format!("{:0>width$}", shown, width = w[0].max(digits));
                    Err(words!(
                        "colonne « {column} » : « {shown} » est enregistré comme un nombre et a perdu ses zéros initiaux (attendu {or_fr} chiffres, par exemple « {padded} ») ; mettez la colonne au format Texte et retapez la valeur",
                        "column “{column}”: “{shown}” is stored as a number and lost its leading zeros (expected {or_en} digits, for example “{padded}”); format the column as Text and type the value again"
                    ))
                }
                _ => Err(words!(
                    "colonne « {column} » : l'identifiant « {shown} » est enregistré comme un nombre, ce qui efface les zéros initiaux ; mettez la colonne au format Texte et retapez la valeur",
                    "column “{column}”: the identifier “{shown}” is stored as a number, which drops leading zeros; format the column as Text and type the value again"
                )),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters() {
        assert_eq!(column_letters(0), "A");
        assert_eq!(column_letters(25), "Z");
        assert_eq!(column_letters(26), "AA");
        assert_eq!(column_letters(31), "AF");
    }

    #[test]
    fn numbers_are_written_as_people_see_them() {
        assert_eq!(cell_text(Value::Float(3.0), "level", Kind::Plain).as_deref(), Ok("3"));
        assert_eq!(cell_text(Value::Int(2), "level", Kind::Plain).as_deref(), Ok("2"));
        assert_eq!(cell_text(Value::Float(2.5), "level", Kind::Plain).as_deref(), Ok("2.5"));
        assert_eq!(
            cell_text(Value::Text("0042"), "person_id", Kind::Id(None)).as_deref(),
            Ok("0042")
        );
    }

    #[test]
    fn numeric_identifiers_are_refused_not_changed() {
        let e = cell_text(Value::Float(1053.0), "commune_insee", Kind::Id(Some(&[5]))).unwrap_err();
        assert!(e.contains("« 01053 »") && e.contains("zéros initiaux"), "{e}");
        assert!(cell_text(Value::Float(42.0), "person_id", Kind::Id(None)).is_err());
        // Full width: nothing could have been lost.
        assert_eq!(
            cell_text(Value::Float(75056.0), "commune_insee", Kind::Id(Some(&[5]))).as_deref(),
            Ok("75056")
        );
        assert_eq!(
            cell_text(Value::Int(971), "department_code", Kind::Id(Some(&[2, 3]))).as_deref(),
            Ok("971")
        );
        assert!(cell_text(Value::Int(1), "department_code", Kind::Id(Some(&[2, 3]))).is_err());
    }

    #[test]
    fn dates_and_oddities() {
        let d = ExcelDateTime::new(46027.0, calamine::ExcelDateTimeType::DateTime, false);
        assert_eq!(
            cell_text(Value::Date(&d), "end_date", Kind::Date).as_deref(),
            Ok("2026-01-05")
        );
        assert_eq!(
            cell_text(Value::Iso("2026-01-05T00:00:00"), "end_date", Kind::Date).as_deref(),
            Ok("2026-01-05")
        );
        assert!(cell_text(Value::Text("a\nb"), "name", Kind::Plain).is_err());
        assert!(cell_text(Value::Error("#DIV/0!".into()), "name", Kind::Plain).is_err());
    }
}
