//! The activity-report (CRA, « compte rendu d'activité ») vocabulary of the
//! national digital-inclusion programme, as the facilitation service records
//! it: codes (the `db` values of `coop_cra_enums.json`) with their French
//! labels (the file's) and an English translation. The codes are the
//! service's own (`vigie_facilitation_domain::model`), checked by the tests.

use crate::lang::Lang;

/// `TypeActivite`: (code, French, English).
pub const ACTIVITY_TYPES: &[(&str, &str, &str)] = &[
    ("individuel", "Accompagnement individuel", "Individual support"),
    ("collectif", "Atelier collectif", "Group workshop"),
];

/// `TypeLieu`: (code, French, English).
pub const PLACES: &[(&str, &str, &str)] = &[
    ("lieu_activite", "Lieu d’activité", "Place of activity"),
    (
        "domicile",
        "À domicile (dans les locaux de la structure)",
        "At home (the structure's premises)",
    ),
    ("a_distance", "À distance", "Remote"),
    ("autre", "Autre lieu", "Other place"),
];

/// `Thematique`: (code, French, English).
pub const THEMES: &[(&str, &str, &str)] = &[
    (
        "diagnostic_numerique",
        "Diagnostic numérique",
        "Digital skills assessment",
    ),
    (
        "prendre_en_main_du_materiel",
        "Prendre en main du matériel",
        "Getting started with a device",
    ),
    (
        "maintenance_de_materiel",
        "Maintenance de matériel",
        "Device maintenance",
    ),
    (
        "gere_ses_contenus_numeriques",
        "Gérer ses contenus numériques",
        "Managing one's digital content",
    ),
    (
        "navigation_sur_internet",
        "Navigation sur internet",
        "Browsing the internet",
    ),
    ("email", "E-mail", "E-mail"),
    ("bureautique", "Bureautique", "Office software"),
    (
        "reseaux_sociaux",
        "Réseaux sociaux communication",
        "Social networks, communication",
    ),
    ("sante", "Santé", "Health"),
    (
        "banque_et_achats_en_ligne",
        "Banque et achats en ligne",
        "Online banking and shopping",
    ),
    (
        "entrepreneuriat",
        "Accompagner un professionnel",
        "Supporting a professional",
    ),
    ("insertion_professionnelle", "Insertion professionnelle", "Finding work"),
    (
        "securite_numerique",
        "Prévention en sécurité numérique",
        "Digital safety",
    ),
    ("parentalite", "Parentalité", "Parenting"),
    ("scolarite_et_numerique", "Scolarité et numérique", "School and digital"),
    (
        "creer_avec_le_numerique",
        "Créer avec le numérique",
        "Creating with digital tools",
    ),
    ("culture_numerique", "Culture numérique", "Digital culture"),
    (
        "intelligence_artificielle",
        "Intelligence artificielle (IA)",
        "Artificial intelligence (AI)",
    ),
    (
        "aide_aux_demarches_administratives",
        "Aide aux démarches administratives",
        "Help with administrative procedures",
    ),
    (
        "papiers_elections_citoyennete",
        "Papiers - Élections - Citoyenneté",
        "Papers - Elections - Citizenship",
    ),
    ("famille_scolarite", "Famille - Scolarité", "Family - School"),
    ("social_sante", "Social - Santé", "Social - Health"),
    (
        "travail_formation",
        "Travail - Formation - Entreprise",
        "Work - Training - Business",
    ),
    ("logement", "Logement", "Housing"),
    ("transports_mobilite", "Transports - Mobilité", "Transport - Mobility"),
    ("argent_impots", "Argent - Impôts", "Money - Taxes"),
    ("justice", "Justice", "Justice"),
    ("etrangers_europe", "Étrangers - Europe", "Foreigners - Europe"),
    (
        "loisirs_sports_culture",
        "Loisirs - Sports - Culture",
        "Leisure - Sports - Culture",
    ),
    ("associations", "Associations", "Associations"),
];

/// The label of `code` in `table`, in `lang`; `None` for an unknown code.
pub fn label(table: &[(&'static str, &'static str, &'static str)], code: &str, lang: Lang) -> Option<&'static str> {
    table
        .iter()
        .find(|(known, _, _)| *known == code)
        .map(|(_, fr, en)| lang.pick(fr, en))
}

/// The (code, label) choices of `table` in `lang`, in the file's order.
pub fn choices(table: &[(&'static str, &'static str, &'static str)], lang: Lang) -> Vec<(&'static str, &'static str)> {
    table.iter().map(|(code, fr, en)| (*code, lang.pick(fr, en))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigie_facilitation_domain::model::{ActivityType, PlaceType, THEMATIQUES};

    fn codes(table: &[(&'static str, &str, &str)]) -> Vec<&'static str> {
        table.iter().map(|(code, _, _)| *code).collect()
    }

    #[test]
    fn the_codes_are_the_services_own_in_the_same_order() {
        let activity: Vec<&str> = ActivityType::ALL.iter().map(|a| a.as_str()).collect();
        assert_eq!(codes(ACTIVITY_TYPES), activity);
        let places: Vec<&str> = PlaceType::ALL.iter().map(|p| p.as_str()).collect();
        assert_eq!(codes(PLACES), places);
        assert_eq!(codes(THEMES), THEMATIQUES);
    }

    #[test]
    fn labels_are_the_activity_reports_in_french() {
        assert_eq!(label(ACTIVITY_TYPES, "collectif", Lang::Fr), Some("Atelier collectif"));
        assert_eq!(label(PLACES, "a_distance", Lang::Fr), Some("À distance"));
        assert_eq!(
            label(THEMES, "reseaux_sociaux", Lang::Fr),
            Some("Réseaux sociaux communication")
        );
        assert_eq!(
            label(THEMES, "entrepreneuriat", Lang::Fr),
            Some("Accompagner un professionnel")
        );
        assert_eq!(label(THEMES, "email", Lang::En), Some("E-mail"));
        assert_eq!(label(THEMES, "inconnu", Lang::Fr), None);
        assert_eq!(choices(THEMES, Lang::Fr).len(), 30);
    }
}
