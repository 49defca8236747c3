//! Field-level rules specific to the CSV set. Each check returns the
//! message to report (French and English), naming the column so the user finds the cell to fix;
//! the rules shared with other imports come from [`vigie_tabular::fields`].

use vigie_tabular::fields::{bounded, MAX_TEXT_CHARS};
pub(super) use vigie_tabular::fields::{code, date, function_code, id, small_int, text, Label};
use vigie_tabular::{words, Words};

/// Default criticality of a catalogue code, `None` for a custom code.
pub(crate) fn catalogue_default(code: &str) -> Option<u8> {
    vigie_fragility_model::catalogue::find(code).map(|entry| entry.default_criticality)
}

/// A plausible e-mail address (empty allowed): one `@`, a non-empty local
/// part, a dotted domain, and none of the characters that betray a pasted
/// "Name <address>" or a list of several addresses. Deliverability is not our
/// concern, catching obvious spreadsheet mistakes is.
pub(super) fn email(v: &str) -> Result<Option<String>, Words> {
    if v.is_empty() {
        return Ok(None);
    }
    let plausible = || {
        if v.len() > 254
            || v.chars()
                .any(|c| c.is_whitespace() || c.is_control() || "<>(),;:\"[]\\".contains(c))
        {
            return false;
        }
        let Some((local, domain)) = v.split_once('@') else {
            return false;
        };
        !local.is_empty()
            && local.len() <= 64
            && !domain.contains('@')
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
    };
    if plausible() {
        Ok(Some(v.to_owned()))
    } else {
        let shown = vigie_tabular::shown(v);
        Err(words!(
            "colonne « email » : adresse « {shown} » invalide (attendu : une seule adresse, ex. prenom.nom@exemple.fr)",
            "column “email”: invalid address “{shown}” (expected: a single address, e.g. first.last@example.org)"
        ))
    }
}

/// The `tools` column: `;`-separated names, trimmed, empty items dropped
/// (a trailing `;` is common when lists are concatenated by hand).
pub(super) fn tools(v: &str) -> Result<Vec<String>, Words> {
    let tools: Vec<String> = v
        .split(';')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect();
    for t in &tools {
        bounded("tools", t, MAX_TEXT_CHARS)?;
    }
    Ok(tools)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert_eq!(email(""), Ok(None));
        assert_eq!(
            email("jeanne.dupont@asso.fr"),
            Ok(Some("jeanne.dupont@asso.fr".to_owned()))
        );
        for bad in [
            "jeanne.dupont",
            "@asso.fr",
            "jeanne@asso",
            "jeanne@@asso.fr",
            "jeanne@asso..fr",
            "jeanne@.asso.fr",
            "jeanne@asso.fr.",
            "Jeanne <jeanne@asso.fr>",
            "a@asso.fr;b@asso.fr",
            "jeanne dupont@asso.fr",
        ] {
            assert!(email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn tools_are_split_trimmed_and_non_empty() {
        assert_eq!(tools(""), Ok(vec![]));
        assert_eq!(
            tools(" Excel ;; Google Agenda ; "),
            Ok(vec!["Excel".to_owned(), "Google Agenda".to_owned()])
        );
        assert!(tools("Excel;Sage\nPaie").is_err());
    }

    #[test]
    fn catalogue_matches_the_specification() {
        assert_eq!(catalogue_default("payroll"), Some(3));
        assert_eq!(catalogue_default("communication"), Some(1));
        assert_eq!(catalogue_default("funder_reporting"), Some(2));
        assert_eq!(catalogue_default("billetterie"), None);
        let three: Vec<&str> = vigie_fragility_model::catalogue::CATALOGUE
            .iter()
            .filter(|e| e.default_criticality == 3)
            .map(|e| e.code)
            .collect();
        assert_eq!(
            three,
            ["funding_applications", "scheduling", "payroll", "accounts_access"]
        );
    }
}
