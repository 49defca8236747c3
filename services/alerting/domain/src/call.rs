//! A project call as the connectors produce it, before it is stored: the
//! shared shape of every source (Aides-territoires, Etalab CSV, RSS/Atom).

use vigie_words::Words;

use crate::model::{Recurrence, Stage};

/// The scale of a territory code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scale {
    /// The whole country (`FR`), overseas included.
    Country,
    /// An INSEE region code (`53` = Bretagne).
    Region,
    /// An INSEE department code (`35`, `2A`, `974`).
    Department,
    /// An EPCI by its SIREN (`243500139`).
    Epci,
    /// An INSEE commune code (`35238`).
    Commune,
}

impl Scale {
    /// The stable code (`country`, `region`, `department`, `epci`, `commune`).
    pub fn code(self) -> &'static str {
        match self {
            Scale::Country => "country",
            Scale::Region => "region",
            Scale::Department => "department",
            Scale::Epci => "epci",
            Scale::Commune => "commune",
        }
    }

    /// Parses a stable code.
    pub fn from_code(code: &str) -> Option<Self> {
        Some(match code {
            "country" => Scale::Country,
            "region" => Scale::Region,
            "department" => Scale::Department,
            "epci" => Scale::Epci,
            "commune" => Scale::Commune,
            _ => return None,
        })
    }
}

/// One area of the administrative tree.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TerritoryCode {
    /// Its scale.
    pub scale: Scale,
    /// Its INSEE code (SIREN for an EPCI, `FR` for the country).
    pub code: String,
}

/// `scale:code`, e.g. `departement:35`: how the API and the storage spell an area.
impl std::fmt::Display for TerritoryCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.scale.code(), self.code)
    }
}

/// Where a call applies. Sources give either codes or a name with a scale
/// label (Aides-territoires gives "Bretagne" + "Région"); names are resolved
/// against the territory table by the service, and reported when they cannot
/// be resolved (never guessed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Perimeter {
    /// The source's name of the perimeter, verbatim ("" when the source gives codes).
    pub name: String,
    /// The source's scale label, verbatim ("Région", "Département", "Commune", "EPCI", "Pays", "Adhoc"…).
    pub scale_label: String,
    /// Codes of the areas covered, when the source gives them.
    pub codes: Vec<TerritoryCode>,
    /// Codes of the areas excluded from `codes`.
    pub exclusions: Vec<TerritoryCode>,
}

/// A call read from a source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallDraft {
    /// The source: `aides-territoires`, `etalab` or `feed:<name>`.
    pub source: String,
    /// The call's id within its source (stable across imports).
    pub source_ref: String,
    /// Title.
    pub title: String,
    /// Funders (financeurs), verbatim.
    pub funders: Vec<String>,
    /// Programmes, verbatim.
    pub programmes: Vec<String>,
    /// Page describing the call (absolute URL), may be empty.
    pub info_url: String,
    /// Where to apply (absolute URL), may be empty.
    pub application_url: String,
    /// Themes, as "Thème / Sous-thème" or "Thème", verbatim.
    pub themes: Vec<String>,
    /// Targeted audiences normalised to our codes (`association`, `scop`,
    /// `scic`, `mutual`, `foundation`, `esus_company`, `commune`, `epci`,
    /// `department`, `region`, `public_establishment`), sorted, deduplicated.
    pub audiences: Vec<String>,
    /// Where it applies.
    pub perimeter: Perimeter,
    /// How often it opens, when the source says.
    pub recurrence: Option<Recurrence>,
    /// Its dated stages (none for an ongoing call without deadline).
    pub stages: Vec<Stage>,
    /// The source withdrew the call.
    pub cancelled: bool,
    /// The source's item verbatim (JSON object, CSV row as JSON, XML item).
    pub raw: String,
}

/// How bad a problem found while reading a source is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// The item was read; something in it was ignored (an unknown audience label…).
    Warning,
    /// The item cannot be read: skipped by a scheduled fetch, refuses a file import.
    Error,
}

/// A problem at a position in a source: `FILE:LINE` for CSV, `FILE:page N:item M`
/// for JSON pages, `FILE:item N` for feeds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportProblem {
    /// Where (`FILE:LINE`, `FILE:page N:item M (id X)`…).
    pub position: String,
    /// The message, in French and in English (`Display` shows the French).
    pub message: Words,
    /// Warning or error.
    pub severity: Severity,
}

impl std::fmt::Display for ImportProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.position, self.message)
    }
}

/// What a connector read from one document (a page, a file, a feed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parsed {
    /// The calls read (items in error are not in it).
    pub calls: Vec<CallDraft>,
    /// Every problem, in document order.
    pub problems: Vec<ImportProblem>,
}

impl Parsed {
    /// Whether some item was in error.
    pub fn has_errors(&self) -> bool {
        self.problems.iter().any(|p| p.severity == Severity::Error)
    }
}
