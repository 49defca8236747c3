//! The columns of the grants sheet: French headers (the template's), the
//! English ones also accepted, what each holds; and how a header written by
//! a person is matched to one (case, accents, `_`, `-` and apostrophes do
//! not matter).

/// One column of the sheet: its French header (the template's), the
/// English and plain-ASCII names also accepted, and what it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// What the row's value is used for.
    pub field: Field,
    /// The header written by the template.
    pub fr: &'static str,
    /// The English header, also accepted.
    pub en: &'static str,
    /// Required in every file (its header must be there).
    pub required: bool,
    /// French help, for the template's « Lisez-moi » and the docs.
    pub help_fr: &'static str,
}

/// The meaning of a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// `structure`.
    Structure,
    /// `financeur`.
    Funder,
    /// `intitulé`.
    Title,
    /// `appel`.
    Call,
    /// `date de dépôt`.
    AppliedOn,
    /// `montant demandé`.
    AmountAsked,
    /// `issue`.
    Outcome,
    /// `date de décision`.
    DecidedOn,
    /// `montant accordé`.
    AmountGranted,
    /// `fin d'exercice`.
    YearEnd,
    /// `début de convention`.
    AgreementStart,
    /// `fin de convention`.
    AgreementEnd,
    /// `référence`.
    Reference,
    /// `objet`.
    Purpose,
    /// `subvention publique`.
    Public,
    /// `clé`.
    Key,
}

/// Every column, in the template's order.
pub const COLUMNS: [Column; 16] = [
    Column {
        field: Field::Structure,
        fr: "structure",
        en: "structure_id",
        required: true,
        help_fr: "identifiant de la structure dans Vigie (obligatoire)",
    },
    Column {
        field: Field::Funder,
        fr: "financeur",
        en: "funder",
        required: true,
        help_fr: "qui finance (« Région Bretagne ») ; obligatoire sans appel",
    },
    Column {
        field: Field::Title,
        fr: "intitulé",
        en: "title",
        required: true,
        help_fr: "le projet ou l'action ; obligatoire sans appel",
    },
    Column {
        field: Field::Call,
        fr: "appel",
        en: "call",
        required: false,
        help_fr: "identifiant de l'appel dans Vigie (vigie calls list), facultatif",
    },
    Column {
        field: Field::AppliedOn,
        fr: "date de dépôt",
        en: "applied on",
        required: false,
        help_fr: "JJ/MM/AAAA ou AAAA-MM-JJ (par défaut aujourd'hui)",
    },
    Column {
        field: Field::AmountAsked,
        fr: "montant demandé",
        en: "amount asked",
        required: false,
        help_fr: "en euros : 12500, 12 500 ou 12 500,50 €",
    },
    Column {
        field: Field::Outcome,
        fr: "issue",
        en: "outcome",
        required: false,
        help_fr: "vide (en attente), obtenu ou refusé",
    },
    Column {
        field: Field::DecidedOn,
        fr: "date de décision",
        en: "decided on",
        required: false,
        help_fr: "JJ/MM/AAAA ou AAAA-MM-JJ (par défaut aujourd'hui)",
    },
    Column {
        field: Field::AmountGranted,
        fr: "montant accordé",
        en: "amount granted",
        required: false,
        help_fr: "en euros, pour une subvention obtenue",
    },
    Column {
        field: Field::YearEnd,
        fr: "fin d'exercice",
        en: "financial year end",
        required: false,
        help_fr: "dernier jour de l'exercice financé (obligatoire si obtenu)",
    },
    Column {
        field: Field::AgreementStart,
        fr: "début de convention",
        en: "agreement start",
        required: false,
        help_fr: "convention pluriannuelle : premier jour (avec la fin)",
    },
    Column {
        field: Field::AgreementEnd,
        fr: "fin de convention",
        en: "agreement end",
        required: false,
        help_fr: "convention pluriannuelle : dernier jour (avec le début)",
    },
    Column {
        field: Field::Reference,
        fr: "référence",
        en: "reference",
        required: false,
        help_fr: "référence de la convention (100 caractères au plus)",
    },
    Column {
        field: Field::Purpose,
        fr: "objet",
        en: "purpose",
        required: false,
        help_fr: "objet de la subvention (2000 caractères au plus)",
    },
    Column {
        field: Field::Public,
        fr: "subvention publique",
        en: "public subsidy",
        required: false,
        help_fr: "oui (par défaut) ou non : seules les publiques comptent dans le seuil de 153 000 €",
    },
    Column {
        field: Field::Key,
        fr: "clé",
        en: "key",
        required: false,
        help_fr: "facultative : sans elle, la ligne est reconnue par structure, financeur, intitulé et date de dépôt",
    },
];

/// The French headers, in order (the template's first line).
pub fn header_fr() -> Vec<&'static str> {
    COLUMNS.iter().map(|c| c.fr).collect()
}

/// A header as compared: lower case, without accents, `_ - '` as spaces,
/// spaces collapsed (« Date_de_dépôt » is « date de depot »).
pub(crate) fn normalise_header(name: &str) -> String {
    let folded: String = name
        .trim()
        .chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'à' | 'â' | 'ä' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'î' | 'ï' => 'i',
            'ô' | 'ö' => 'o',
            'ù' | 'û' | 'ü' => 'u',
            'ç' => 'c',
            '_' | '-' | '\'' | '’' => ' ',
            other => other,
        })
        .collect();
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The column a header names, French or English.
pub(crate) fn column_of(name: &str) -> Option<&'static Column> {
    let name = normalise_header(name);
    COLUMNS
        .iter()
        .find(|c| normalise_header(c.fr) == name || normalise_header(c.en) == name)
}
