//! Euros as French people read and type them: `12 500 €` on the pages, and
//! `12500`, `12 500` or `1234,50` in the forms. Amounts travel in cents. The
//! rules are the alerting domain's, shared with the CLI and the import of
//! grants.

use vigie_grants_sheet::import;
use vigie_grants_sheet::validate::field;

/// Cents the French way: `12 500 €`, `1 234,50 €`.
pub fn euros(cents: i64) -> String {
    import::euros_fr(cents)
}

/// An amount typed in euros (`12500`, `12 500`, `12 500 €`, `1234,50`) in
/// cents; `None` when empty or not an amount.
pub fn parse_euros(text: &str) -> Option<i64> {
    import::parse_euros(text, field::AMOUNT).ok().flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_amounts_become_cents() {
        assert_eq!(parse_euros("12500"), Some(1_250_000));
        assert_eq!(parse_euros(" 12 500 € "), Some(1_250_000));
        assert_eq!(parse_euros("1234,5"), Some(123_450));
        assert_eq!(parse_euros("1234.50"), Some(123_450));
        assert_eq!(parse_euros("0"), Some(0));
        assert_eq!(euros(1_250_000), "12\u{202f}500\u{a0}€");
        for bad in ["", "-5", "12a", "€", "99999999999999999999"] {
            assert_eq!(parse_euros(bad), None, "{bad}");
        }
    }
}
