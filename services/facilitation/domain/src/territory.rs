//! Territory codes of a facilitator: an INSEE commune code, the SIREN of an
//! EPCI (intercommunality) or an INSEE department code, told apart by their
//! length and validated with the inventory's [`ids`] rules.
//!
//! [`ids`]: vigie_french_ids

use std::fmt;
use vigie_french_ids as ids;
use vigie_tabular::{words, Words};

/// What a territory code designates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TerritoryKind {
    /// An INSEE commune code (5 characters, e.g. `35238`).
    Commune,
    /// An EPCI, by its SIREN (9 digits, e.g. `243500139`).
    Epci,
    /// An INSEE department code (2 or 3 characters, e.g. `35`, `2A`, `974`).
    Department,
}

impl fmt::Display for TerritoryKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TerritoryKind::Commune => "commune",
            TerritoryKind::Epci => "EPCI",
            TerritoryKind::Department => "département",
        })
    }
}

impl TerritoryKind {
    /// The kind's English name.
    pub fn english(self) -> &'static str {
        match self {
            TerritoryKind::Commune => "commune",
            TerritoryKind::Epci => "EPCI",
            TerritoryKind::Department => "department",
        }
    }
}

/// The kind a code claims to be by its length in characters (5: commune,
/// 9: EPCI, 2 or 3: department), before any validation; `None` for any other
/// length. The lengths do not overlap, so a typo inside a code is reported
/// against the kind the user meant.
pub fn classify(code: &str) -> Option<TerritoryKind> {
    match code.chars().count() {
        5 => Some(TerritoryKind::Commune),
        9 => Some(TerritoryKind::Epci),
        2 | 3 => Some(TerritoryKind::Department),
        _ => None,
    }
}

/// Validates one territory code and returns its kind: a commune with
/// [`ids::validate_commune_insee`], an EPCI with [`ids::validate_siren`]
/// (9 digits, Luhn key), a department with [`ids::validate_department_code`].
///
/// # Errors
///
/// A message (French, English) naming the column `column`, the kind that
/// failed and why.
pub fn validate(column: &str, code: &str) -> Result<TerritoryKind, Words> {
    let Some(kind) = classify(code) else {
        let shown = vigie_tabular::shown(code);
        return Err(words!(
            "colonne « {column} » : code de territoire « {shown} » non reconnu (attendu : code commune INSEE \
             à 5 caractères, SIREN d'EPCI à 9 chiffres ou code département à 2 ou 3 caractères, \
             ex. 35238, 243500139 ou 35)",
            "column “{column}”: territory code “{shown}” not recognised (expected: a 5-character INSEE \
             commune code, the 9-digit SIREN of an EPCI or a 2- or 3-character department code, \
             e.g. 35238, 243500139 or 35)"
        ));
    };
    let checked = match kind {
        TerritoryKind::Commune => ids::validate_commune_insee(code),
        TerritoryKind::Epci => ids::validate_siren(code),
        TerritoryKind::Department => ids::validate_department_code(code),
    };
    checked.map(|()| kind).map_err(|e| {
        let (english, e) = (kind.english(), e.words());
        let (fr, en) = (&e.fr, &e.en);
        words!(
            "colonne « {column} » ({kind}) : {fr}",
            "column “{column}” ({english}): {en}"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_classified_by_length() {
        assert_eq!(classify("35238"), Some(TerritoryKind::Commune));
        assert_eq!(classify("2A004"), Some(TerritoryKind::Commune));
        assert_eq!(classify("243500139"), Some(TerritoryKind::Epci));
        assert_eq!(classify("35"), Some(TerritoryKind::Department));
        assert_eq!(classify("974"), Some(TerritoryKind::Department));
        assert_eq!(classify("é5"), Some(TerritoryKind::Department), "characters, not bytes");
        for other in ["", "3", "3523", "352380", "2435001390", "24350013"] {
            assert_eq!(classify(other), None, "{other}");
        }
    }

    #[test]
    fn valid_codes_of_each_kind() {
        assert_eq!(validate("territory_codes", "35238"), Ok(TerritoryKind::Commune));
        assert_eq!(validate("territory_codes", "2B033"), Ok(TerritoryKind::Commune));
        assert_eq!(validate("territory_codes", "97411"), Ok(TerritoryKind::Commune));
        // Rennes Métropole, Métropole du Grand Paris.
        assert_eq!(validate("territory_codes", "243500139"), Ok(TerritoryKind::Epci));
        assert_eq!(validate("territory_codes", "200054781"), Ok(TerritoryKind::Epci));
        assert_eq!(validate("territory_codes", "35"), Ok(TerritoryKind::Department));
        assert_eq!(validate("territory_codes", "2A"), Ok(TerritoryKind::Department));
        assert_eq!(validate("territory_codes", "976"), Ok(TerritoryKind::Department));
    }

    #[test]
    fn each_failure_names_its_kind() {
        assert_eq!(
            validate("territory_codes", "20").unwrap_err().en,
            "column “territory_codes” (department): invalid department code “20” (expected: 01 to 95 \
             (except 20: Corsica is 2A or 2B), 2A, 2B or 971 to 976)"
        );
        assert_eq!(
            validate("territory_codes", "243500138").map_err(|w| w.fr),
            Err("colonne « territory_codes » (EPCI) : SIREN 243500138 invalide (clé de contrôle)".to_owned())
        );
        assert_eq!(
            validate("territory_codes", "24350013X").map_err(|w| w.fr),
            Err(
                "colonne « territory_codes » (EPCI) : SIREN « 24350013X » invalide (attendu : 9 chiffres, sans espace)"
                    .to_owned()
            )
        );
        assert_eq!(
            validate("territory_codes", "20004").map_err(|w| w.fr),
            Err(
                "colonne « territory_codes » (commune) : code commune INSEE « 20004 » invalide (attendu : \
                 5 caractères : code département (01 à 95, 2A, 2B) puis 3 chiffres, ou 971 à 978 / 984 à 989 \
                 puis 2 chiffres, ex. 35238)"
                    .to_owned()
            )
        );
        assert_eq!(
            validate("territory_codes", "20").map_err(|w| w.fr),
            Err(
                "colonne « territory_codes » (département) : code département « 20 » invalide (attendu : 01 à 95 \
                 (sauf 20 : la Corse s'écrit 2A ou 2B), 2A, 2B ou 971 à 976)"
                    .to_owned()
            )
        );
        assert_eq!(
            validate("territory_codes", "3523").map_err(|w| w.fr),
            Err(
                "colonne « territory_codes » : code de territoire « 3523 » non reconnu (attendu : code commune \
                 INSEE à 5 caractères, SIREN d'EPCI à 9 chiffres ou code département à 2 ou 3 caractères, \
                 ex. 35238, 243500139 ou 35)"
                    .to_owned()
            )
        );
    }
}
