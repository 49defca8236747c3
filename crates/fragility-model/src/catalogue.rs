//! The default catalogue of vital digital functions and the level scale of
//! `docs/fragility.md`.
//!
//! Structures may record custom function codes (with an explicit criticality);
//! the catalogue only supplies labels and default criticalities for the twelve
//! functions that almost every ESS structure depends on, so that networks can
//! compare like with like.

/// One vital function of the default catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CatalogueEntry {
    /// Stable code used in files, APIs and events.
    pub code: &'static str,
    /// Label shown to French-speaking users (the reference wording).
    pub label_fr: &'static str,
    /// Label shown to English-speaking users.
    pub label_en: &'static str,
    /// Criticality proposed when a structure records this function without
    /// choosing one: 1, 2 or 3 (3 = the structure cannot go a week without it).
    pub default_criticality: u8,
}

/// The twelve functions of the default catalogue, in the order of the
/// specification (which is the order forms present them in).
pub const CATALOGUE: [CatalogueEntry; 12] = [
    CatalogueEntry {
        code: "funding_applications",
        label_fr: "Dépôt en ligne des demandes de financement et réponses aux appels à projets",
        label_en: "Online funding applications and responses to calls for projects",
        default_criticality: 3,
    },
    CatalogueEntry {
        code: "funder_reporting",
        label_fr: "Bilans et comptes rendus aux financeurs",
        label_en: "Reports to funders",
        default_criticality: 2,
    },
    CatalogueEntry {
        code: "scheduling",
        label_fr: "Plannings des équipes",
        label_en: "Team schedules",
        default_criticality: 3,
    },
    CatalogueEntry {
        code: "payroll",
        label_fr: "Paie et déclarations sociales (DSN)",
        label_en: "Payroll and social security returns (DSN)",
        default_criticality: 3,
    },
    CatalogueEntry {
        code: "invoicing",
        label_fr: "Facturation",
        label_en: "Invoicing",
        default_criticality: 2,
    },
    CatalogueEntry {
        code: "accounting",
        label_fr: "Comptabilité et trésorerie",
        label_en: "Accounting and cash management",
        default_criticality: 2,
    },
    CatalogueEntry {
        code: "accounts_access",
        label_fr: "Comptes, mots de passe et accès aux plateformes",
        label_en: "Accounts, passwords and access to platforms",
        default_criticality: 3,
    },
    CatalogueEntry {
        code: "collaboration_suite",
        label_fr: "Messagerie, agendas et documents partagés",
        label_en: "Email, calendars and shared documents",
        default_criticality: 2,
    },
    CatalogueEntry {
        code: "beneficiary_records",
        label_fr: "Suivi des bénéficiaires et des adhérents",
        label_en: "Beneficiary and member records",
        default_criticality: 2,
    },
    CatalogueEntry {
        code: "communication",
        label_fr: "Site web, réseaux sociaux, lettres d'information",
        label_en: "Website, social media, newsletters",
        default_criticality: 1,
    },
    CatalogueEntry {
        code: "data_protection",
        label_fr: "Protection des données personnelles (RGPD)",
        label_en: "Personal data protection (GDPR)",
        default_criticality: 1,
    },
    CatalogueEntry {
        code: "equipment_backups",
        label_fr: "Postes de travail, matériel et sauvegardes",
        label_en: "Workstations, equipment and backups",
        default_criticality: 1,
    },
];

/// Looks up a catalogue function by its code (exact, case-sensitive match:
/// codes are identifiers, not free text).
pub fn find(code: &str) -> Option<&'static CatalogueEntry> {
    CATALOGUE.iter().find(|entry| entry.code == code)
}

/// French label of a function; a custom code (a network's own function)
/// reads as its words, « boutique_en_ligne » → « Boutique en ligne »: the
/// structure that invented it chose those words.
pub fn label_fr(code: &str) -> String {
    find(code).map_or_else(|| readable(code), |entry| entry.label_fr.to_owned())
}

/// English label of a function; a custom code reads as its words.
pub fn label_en(code: &str) -> String {
    find(code).map_or_else(|| readable(code), |entry| entry.label_en.to_owned())
}

/// A custom code in words: `_` and `-` become spaces, first letter in
/// capitals.
fn readable(code: &str) -> String {
    let words = code.replace(['_', '-'], " ");
    let mut chars = words.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Highest level of the 0–4 scale.
pub const MAX_LEVEL: u8 = 4;

const LEVELS_FR: [&str; 5] = [
    "aucune",
    "avec guidage",
    "autonome avec aide ponctuelle",
    "autonome",
    "peut former",
];

const LEVELS_EN: [&str; 5] = [
    "none",
    "with guidance",
    "autonomous with occasional help",
    "autonomous",
    "can train others",
];

/// French label of a level 0–4 (`None` outside the scale).
pub fn level_label_fr(level: u8) -> Option<&'static str> {
    LEVELS_FR.get(usize::from(level)).copied()
}

/// English label of a level 0–4 (`None` outside the scale).
pub fn level_label_en(level: u8) -> Option<&'static str> {
    LEVELS_EN.get(usize::from(level)).copied()
}

/// Converts a Pix/CRCN level (1–8) to our 0–4 scale: 1–2 → 1, 3–4 → 2,
/// 5–6 → 3, 7–8 → 4. Anything else is not a Pix level and gives `None`
/// rather than a guess, so that an import error surfaces instead of silently
/// granting (or denying) autonomy.
pub fn pix_to_level(pix: u8) -> Option<u8> {
    match pix {
        1..=8 => Some(pix.div_ceil(2)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn catalogue_has_the_twelve_functions_of_the_spec_with_their_criticality() {
        let expected = [
            ("funding_applications", 3),
            ("funder_reporting", 2),
            ("scheduling", 3),
            ("payroll", 3),
            ("invoicing", 2),
            ("accounting", 2),
            ("accounts_access", 3),
            ("collaboration_suite", 2),
            ("beneficiary_records", 2),
            ("communication", 1),
            ("data_protection", 1),
            ("equipment_backups", 1),
        ];
        let actual: Vec<(&str, u8)> = CATALOGUE.iter().map(|e| (e.code, e.default_criticality)).collect();
        assert_eq!(actual, expected);
    }

    #[test]
    fn codes_and_labels_are_unique_and_non_empty() {
        let codes: BTreeSet<&str> = CATALOGUE.iter().map(|e| e.code).collect();
        let fr: BTreeSet<&str> = CATALOGUE.iter().map(|e| e.label_fr).collect();
        let en: BTreeSet<&str> = CATALOGUE.iter().map(|e| e.label_en).collect();
        assert_eq!(codes.len(), 12);
        assert_eq!(fr.len(), 12);
        assert_eq!(en.len(), 12);
        assert!(CATALOGUE
            .iter()
            .all(|e| !e.label_fr.is_empty() && !e.label_en.is_empty()));
    }

    #[test]
    fn french_labels_match_the_spec_wording() {
        assert_eq!(
            label_fr("funding_applications"),
            "Dépôt en ligne des demandes de financement et réponses aux appels à projets"
        );
        assert_eq!(label_fr("scheduling"), "Plannings des équipes");
        assert_eq!(label_fr("payroll"), "Paie et déclarations sociales (DSN)");
        assert_eq!(
            label_fr("communication"),
            "Site web, réseaux sociaux, lettres d'information"
        );
        assert_eq!(
            label_fr("data_protection"),
            "Protection des données personnelles (RGPD)"
        );
        assert_eq!(label_en("scheduling"), "Team schedules");
    }

    #[test]
    fn find_is_exact() {
        assert_eq!(find("payroll").map(|e| e.default_criticality), Some(3));
        assert_eq!(find("invoicing").map(|e| e.label_fr), Some("Facturation"));
        assert!(find("Payroll").is_none());
        assert!(find(" payroll").is_none());
        assert!(find("").is_none());
    }

    #[test]
    fn custom_codes_read_as_their_words() {
        assert_eq!(label_fr("cantine_reservations"), "Cantine reservations");
        assert_eq!(label_en("boutique-en-ligne"), "Boutique en ligne");
        assert_eq!(label_fr("Épicerie"), "Épicerie");
        assert_eq!(label_fr(""), "");
    }

    #[test]
    fn level_labels() {
        let fr: Vec<Option<&str>> = (0..=5).map(level_label_fr).collect();
        assert_eq!(
            fr,
            [
                Some("aucune"),
                Some("avec guidage"),
                Some("autonome avec aide ponctuelle"),
                Some("autonome"),
                Some("peut former"),
                None
            ]
        );
        let en: Vec<Option<&str>> = (0..=5).map(level_label_en).collect();
        assert_eq!(
            en,
            [
                Some("none"),
                Some("with guidance"),
                Some("autonomous with occasional help"),
                Some("autonomous"),
                Some("can train others"),
                None
            ]
        );
        assert_eq!(level_label_fr(MAX_LEVEL), Some("peut former"));
    }

    #[test]
    fn pix_levels_map_by_pairs() {
        let mapped: Vec<Option<u8>> = (0..=9).map(pix_to_level).collect();
        assert_eq!(
            mapped,
            [
                None,
                Some(1),
                Some(1),
                Some(2),
                Some(2),
                Some(3),
                Some(3),
                Some(4),
                Some(4),
                None
            ]
        );
        assert_eq!(pix_to_level(u8::MAX), None);
    }
}
