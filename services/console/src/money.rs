//! Euros as French people read and type them: `12 500 €` on the pages, and
//! `12500`, `12 500` or `1234,50` in the forms. Amounts travel in cents.

/// Cents the French way: `12 500 €`, `1 234,50 €` (narrow no-break spaces
/// between thousands, a no-break space before the sign).
pub fn euros(cents: i64) -> String {
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

/// An amount typed in euros (`12500`, `12 500`, `12 500 €`, `1234,50`,
/// `1234.5`) in cents; `None` for anything else (negative, letters, more
/// than two decimals, too large to hold).
pub fn parse_euros(text: &str) -> Option<i64> {
    let cleaned: String = text
        .trim()
        .trim_end_matches('€')
        .chars()
        .filter(|c| !matches!(c, ' ' | '\u{a0}' | '\u{202f}'))
        .collect();
    let (whole, fraction) = cleaned.split_once([',', '.']).unwrap_or((cleaned.as_str(), ""));
    if whole.is_empty()
        || !whole.chars().all(|c| c.is_ascii_digit())
        || fraction.len() > 2
        || !fraction.chars().all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let euros: i64 = whole.parse().ok()?;
    let cents: i64 = format!("{fraction:0<2}").parse().ok()?;
    euros.checked_mul(100)?.checked_add(cents)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn euros_read_the_french_way() {
        assert_eq!(euros(1_250_000), "12\u{202f}500\u{a0}€");
        assert_eq!(euros(123_450), "1\u{202f}234,50\u{a0}€");
        assert_eq!(euros(0), "0\u{a0}€");
        assert_eq!(euros(99_900), "999\u{a0}€");
        assert_eq!(euros(100_000_000), "1\u{202f}000\u{202f}000\u{a0}€");
    }

    #[test]
    fn typed_amounts_become_cents() {
        assert_eq!(parse_euros("12500"), Some(1_250_000));
        assert_eq!(parse_euros(" 12 500 € "), Some(1_250_000));
        assert_eq!(parse_euros("1234,5"), Some(123_450));
        assert_eq!(parse_euros("1234.50"), Some(123_450));
        assert_eq!(parse_euros("0"), Some(0));
        for bad in ["", "-5", "12a", "1,234", "€", "99999999999999999999"] {
            assert_eq!(parse_euros(bad), None, "{bad}");
        }
    }
}
