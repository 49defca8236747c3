//! The activity-report (CRA, « compte rendu d'activité ») vocabulary of the
//! national digital-inclusion programme (« La Coop de la médiation
//! numérique »): the codes its reports store (the `db` values of its schema's
//! enums, `coop_cra_enums.json` in the project's reference data) with their
//! French labels (the programme's own forms) and an English translation.
//!
//! One home for what facilitation records (codes, validated) and what the
//! console shows (labels): neither keeps a copy of the lists.

/// One value of a CRA list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Term {
    /// The stable code stored in reports, files and APIs.
    pub code: &'static str,
    /// The programme's French label.
    pub fr: &'static str,
    /// Its English translation.
    pub en: &'static str,
}

const fn term(code: &'static str, fr: &'static str, en: &'static str) -> Term {
    Term { code, fr, en }
}

/// `TypeActivite.Individuel`: one person or structure helped.
pub const INDIVIDUEL: Term = term("individuel", "Accompagnement individuel", "Individual support");
/// `TypeActivite.Collectif`: a group (workshop).
pub const COLLECTIF: Term = term("collectif", "Atelier collectif", "Group workshop");

/// `TypeActivite`, in the programme's order.
pub const ACTIVITY_TYPES: &[Term] = &[INDIVIDUEL, COLLECTIF];

/// `TypeLieu.LieuActivite`: the facilitator's place of activity.
pub const LIEU_ACTIVITE: Term = term("lieu_activite", "Lieu d’activité", "Place of activity");
/// `TypeLieu.Domicile`: at the beneficiary's (for a structure: its premises).
pub const DOMICILE: Term = term(
    "domicile",
    "À domicile (dans les locaux de la structure)",
    "At home (the structure's premises)",
);
/// `TypeLieu.ADistance`: by phone or video.
pub const A_DISTANCE: Term = term("a_distance", "À distance", "Remote");
/// `TypeLieu.Autre`: elsewhere (claims nothing).
pub const AUTRE_LIEU: Term = term("autre", "Autre lieu", "Other place");

/// `TypeLieu`, in the programme's order.
pub const PLACES: &[Term] = &[LIEU_ACTIVITE, DOMICILE, A_DISTANCE, AUTRE_LIEU];

/// `Thematique`, in the programme's order (a table: one term a line).
#[rustfmt::skip]
pub const THEMES: &[Term] = &[
    term("diagnostic_numerique", "Diagnostic numérique", "Digital skills assessment"),
    term("prendre_en_main_du_materiel", "Prendre en main du matériel", "Getting started with a device"),
    term("maintenance_de_materiel", "Maintenance de matériel", "Device maintenance"),
    term("gere_ses_contenus_numeriques", "Gérer ses contenus numériques", "Managing one's digital content"),
    term("navigation_sur_internet", "Navigation sur internet", "Browsing the internet"),
    term("email", "E-mail", "E-mail"),
    term("bureautique", "Bureautique", "Office software"),
    term("reseaux_sociaux", "Réseaux sociaux communication", "Social networks, communication"),
    term("sante", "Santé", "Health"),
    term("banque_et_achats_en_ligne", "Banque et achats en ligne", "Online banking and shopping"),
    term("entrepreneuriat", "Accompagner un professionnel", "Supporting a professional"),
    term("insertion_professionnelle", "Insertion professionnelle", "Finding work"),
    term("securite_numerique", "Prévention en sécurité numérique", "Digital safety"),
    term("parentalite", "Parentalité", "Parenting"),
    term("scolarite_et_numerique", "Scolarité et numérique", "School and digital"),
    term("creer_avec_le_numerique", "Créer avec le numérique", "Creating with digital tools"),
    term("culture_numerique", "Culture numérique", "Digital culture"),
    term("intelligence_artificielle", "Intelligence artificielle (IA)", "Artificial intelligence (AI)"),
    term("aide_aux_demarches_administratives", "Aide aux démarches administratives", "Help with administrative procedures"),
    term("papiers_elections_citoyennete", "Papiers - Élections - Citoyenneté", "Papers - Elections - Citizenship"),
    term("famille_scolarite", "Famille - Scolarité", "Family - School"),
    term("social_sante", "Social - Santé", "Social - Health"),
    term("travail_formation", "Travail - Formation - Entreprise", "Work - Training - Business"),
    term("logement", "Logement", "Housing"),
    term("transports_mobilite", "Transports - Mobilité", "Transport - Mobility"),
    term("argent_impots", "Argent - Impôts", "Money - Taxes"),
    term("justice", "Justice", "Justice"),
    term("etrangers_europe", "Étrangers - Europe", "Foreigners - Europe"),
    term("loisirs_sports_culture", "Loisirs - Sports - Culture", "Leisure - Sports - Culture"),
    term("associations", "Associations", "Associations"),
];

/// The term of `code` in `list`; `None` for a code the list does not have.
pub fn find(list: &'static [Term], code: &str) -> Option<&'static Term> {
    list.iter().find(|term| term.code == code)
}

/// The codes of `list`, in its order.
pub fn codes(list: &'static [Term]) -> impl Iterator<Item = &'static str> {
    list.iter().map(|term| term.code)
}

#[cfg(test)]
mod tests;
