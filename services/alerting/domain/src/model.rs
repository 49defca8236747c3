//! Calls' stages and the normalisation of Aides-territoires choice labels.

use chrono::{NaiveDate, NaiveTime};
use chrono_tz::Tz;

/// The default time zone of a stage and of reminders.
pub const DEFAULT_TZ: Tz = chrono_tz::Europe::Paris;

/// An unknown code was given where a [`StageKind`] was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown stage kind code: {0:?}")]
pub struct UnknownStageKind(pub String);

/// The kind of a stage of a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StageKind {
    /// A letter of intent is due.
    LetterOfIntent,
    /// A pre-deposit (pré-dépôt) is due.
    PreDeposit,
    /// The application itself must be submitted.
    Submission,
    /// An internal milestone set by the structure.
    Internal,
}

impl StageKind {
    /// The stable code of the kind.
    pub fn code(self) -> &'static str {
        match self {
            StageKind::LetterOfIntent => "letter_of_intent",
            StageKind::PreDeposit => "pre_deposit",
            StageKind::Submission => "submission",
            StageKind::Internal => "internal",
        }
    }

    /// Parses a stable code.
    pub fn from_code(code: &str) -> Result<Self, UnknownStageKind> {
        match code {
            "letter_of_intent" => Ok(StageKind::LetterOfIntent),
            "pre_deposit" => Ok(StageKind::PreDeposit),
            "submission" => Ok(StageKind::Submission),
            "internal" => Ok(StageKind::Internal),
            other => Err(UnknownStageKind(other.to_owned())),
        }
    }
}

/// A stage of a call: a local date, an optional local time, its zone and the source's wording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stage {
    /// What is due.
    pub kind: StageKind,
    /// The local date of the deadline.
    pub date: NaiveDate,
    /// The local time of the deadline, when the source gives one (else the whole day).
    pub time: Option<NaiveTime>,
    /// The zone of `date` and `time` (default `Europe/Paris`).
    pub timezone: Tz,
    /// The source's wording, kept verbatim.
    pub wording: String,
}

impl Stage {
    /// A stage on a whole day in `Europe/Paris`.
    pub fn on_date(kind: StageKind, date: NaiveDate) -> Self {
        Stage {
            kind,
            date,
            time: None,
            timezone: DEFAULT_TZ,
            wording: String::new(),
        }
    }
}

/// How often a call opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Recurrence {
    /// Once ("Ponctuelle").
    Oneoff,
    /// Always open ("Permanente").
    Ongoing,
    /// Opens again periodically ("Récurrente").
    Recurring,
}

impl Recurrence {
    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            Recurrence::Oneoff => "oneoff",
            Recurrence::Ongoing => "ongoing",
            Recurrence::Recurring => "recurring",
        }
    }
}

/// Lower-cases, trims and folds the accents used in the labels, so "Récurrente" == "recurrente".
fn fold(label: &str) -> String {
    label
        .trim()
        .chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'à' | 'â' => 'a',
            'î' | 'ï' => 'i',
            'ô' => 'o',
            'ù' | 'û' | 'ü' => 'u',
            'ç' => 'c',
            '’' => '\'',
            other => other,
        })
        .collect()
}

/// Maps an Aides-territoires recurrence label (or code) to a [`Recurrence`]; unknown labels give `None`.
pub fn normalise_recurrence(label: &str) -> Option<Recurrence> {
    match fold(label).as_str() {
        "ponctuelle" | "oneoff" => Some(Recurrence::Oneoff),
        "permanente" | "ongoing" => Some(Recurrence::Ongoing),
        "recurrente" | "recurring" => Some(Recurrence::Recurring),
        _ => None,
    }
}

/// Maps an Aides-territoires targeted-audience label to our audience codes.
///
/// Returns `None` for a label we do not know (to be reported, not guessed). A
/// label may map to several codes ("Entreprises" covers the social-economy
/// companies we track: SCOP, SCIC and ESUS companies).
pub fn normalise_audience(label: &str) -> Option<&'static [&'static str]> {
    let codes: &'static [&'static str] = match fold(label).as_str() {
        "associations" | "association" => &["association"],
        "entreprises" | "entreprises privees" => &["scop", "scic", "esus_company"],
        "entreprises de l'economie sociale et solidaire" | "structures de l'ess" => {
            &["scop", "scic", "esus_company", "mutual", "foundation"]
        }
        "fondations" | "fondation" => &["foundation"],
        "mutuelles" | "mutuelle" => &["mutual"],
        "communes" | "commune" => &["commune"],
        "epci" | "intercommunalites / pays" | "intercommunalites" | "epci a fiscalite propre" => &["epci"],
        "departements" | "departement" => &["department"],
        "regions" | "region" => &["region"],
        "etablissement public"
        | "etablissements publics"
        | "etablissements publics (ecoles, bibliotheques...)"
        | "etablissements publics (ecoles, bibliotheques…) / services de l'etat"
        | "etablissements publics - services de l'etat" => &["public_establishment"],
        _ => return None,
    };
    Some(codes)
}

/// Every audience code a [`crate::call::CallDraft`] may carry.
pub const AUDIENCE_CODES: [&str; 11] = [
    "association",
    "scop",
    "scic",
    "mutual",
    "foundation",
    "esus_company",
    "commune",
    "epci",
    "department",
    "region",
    "public_establishment",
];

/// Whether `label` is an Aides-territoires audience that none of our audiences
/// covers ("Particuliers", "Agriculteurs", "Recherche", local public companies,
/// overseas collectivities with a special status): such a label is known and
/// dropped silently, unlike an unknown label, which is reported.
pub fn audience_out_of_scope(label: &str) -> bool {
    matches!(
        fold(label).as_str(),
        "particuliers"
            | "particulier"
            | "agriculteurs"
            | "recherche"
            | "entreprises publiques locales (sem, spl, semop)"
            | "collectivites d'outre-mer a statuts particuliers"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recurrence_labels() {
        assert_eq!(normalise_recurrence("Ponctuelle"), Some(Recurrence::Oneoff));
        assert_eq!(normalise_recurrence(" Permanente "), Some(Recurrence::Ongoing));
        assert_eq!(normalise_recurrence("Récurrente"), Some(Recurrence::Recurring));
        assert_eq!(normalise_recurrence("Parfois"), None);
    }

    #[test]
    fn audience_labels() {
        assert_eq!(normalise_audience("Associations"), Some(&["association"][..]));
        assert_eq!(normalise_audience("Départements"), Some(&["department"][..]));
        assert_eq!(
            normalise_audience("Établissement public"),
            Some(&["public_establishment"][..])
        );
        assert_eq!(normalise_audience("EPCI"), Some(&["epci"][..]));
        assert_eq!(normalise_audience("Particuliers"), None);
    }

    #[test]
    fn audience_labels_of_the_live_api() {
        assert_eq!(normalise_audience("EPCI à fiscalité propre"), Some(&["epci"][..]));
        assert_eq!(normalise_audience("Intercommunalités / Pays"), Some(&["epci"][..]));
        assert_eq!(
            normalise_audience("Établissements publics (écoles, bibliothèques…) / Services de l'État"),
            Some(&["public_establishment"][..])
        );
        assert_eq!(
            normalise_audience("Établissements publics (écoles, bibliothèques…) / Services de l’État"),
            Some(&["public_establishment"][..])
        );
        assert_eq!(
            normalise_audience("Établissements publics - Services de l'État"),
            Some(&["public_establishment"][..])
        );
        assert_eq!(
            normalise_audience("Entreprises privées"),
            Some(&["scop", "scic", "esus_company"][..])
        );
    }

    #[test]
    fn out_of_scope_audiences_are_known_but_carry_no_code() {
        for label in [
            "Particuliers",
            "Agriculteurs",
            "Recherche",
            "Entreprises publiques locales (Sem, Spl, SemOp)",
            "Collectivités d'outre-mer à statuts particuliers",
        ] {
            assert!(audience_out_of_scope(label), "{label}");
            assert_eq!(normalise_audience(label), None, "{label}");
        }
        assert!(!audience_out_of_scope("Associations"));
        assert!(!audience_out_of_scope("Clubs de lecture"));
    }

    #[test]
    fn every_normalised_audience_is_a_known_code() {
        for label in [
            "Associations",
            "Entreprises privées",
            "Structures de l'ESS",
            "Fondations",
            "Mutuelles",
            "Communes",
            "EPCI",
            "Départements",
            "Régions",
            "Établissement public",
        ] {
            for code in normalise_audience(label).unwrap_or_default() {
                assert!(AUDIENCE_CODES.contains(code), "{label}: {code}");
            }
        }
    }

    #[test]
    fn stage_kind_codes_round_trip() {
        for k in [
            StageKind::LetterOfIntent,
            StageKind::PreDeposit,
            StageKind::Submission,
            StageKind::Internal,
        ] {
            assert_eq!(StageKind::from_code(k.code()), Ok(k));
        }
        assert!(StageKind::from_code("x").is_err());
    }
}
