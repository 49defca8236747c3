//! Plain data of an inventory: structures, people, vital functions, holdings.
//!
//! These types carry no behaviour beyond parsing and printing their codes; the
//! fragility index (`fragility`) and the CSV set (`vigie-inventory-set`) work on them.

use chrono::NaiveDate;
use std::fmt;
use std::str::FromStr;

/// Error returned when a code (role, legal form…) is not one we know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("valeur inconnue « {value} » (attendu : {expected})")]
pub struct UnknownCode {
    /// The value as given.
    pub value: String,
    /// The accepted values, comma-separated.
    pub expected: &'static str,
}

macro_rules! code_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $code:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// The stable code used in files, APIs and events.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }
        }

        impl FromStr for $name {
            type Err = UnknownCode;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($code => Ok($name::$variant),)+
                    _ => Err(UnknownCode { value: s.to_owned(), expected: concat!($($code, " "),+) }),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.as_str()) }
        }
    };
}

code_enum!(
    /// Role of a person in a structure (drives the unavailability probability).
    Role {
        /// Director (direction).
        Director => "director",
        /// Salaried employee.
        Employee => "employee",
        /// Volunteer (bénévole).
        Volunteer => "volunteer",
        /// Board member (administrateur, mandate).
        BoardMember => "board_member",
        /// Digital facilitator employed by the structure.
        Facilitator => "facilitator",
        /// External contractor.
        Contractor => "contractor",
    }
);

code_enum!(
    /// Legal form of an ESS structure.
    LegalForm {
        /// Association loi 1901.
        Association => "association",
        /// Société coopérative et participative.
        Scop => "scop",
        /// Société coopérative d'intérêt collectif.
        Scic => "scic",
        /// Mutuelle.
        Mutual => "mutual",
        /// Fondation.
        Foundation => "foundation",
        /// Entreprise solidaire d'utilité sociale.
        EsusCompany => "esus_company",
    }
);

code_enum!(
    /// Where a holding's level comes from.
    Evidence {
        /// Declared in an imported CSV set.
        Import => "import",
        /// Set by hand through the API.
        Manual => "manual",
        /// Raised by a completed training.
        Training => "training",
        /// Raised by a facilitator's intervention.
        Facilitation => "facilitation",
    }
);

/// A member structure (association, cooperative, mutual, foundation…).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StructureRecord {
    /// The user's own identifier, kept as given.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Identifier of the network the structure belongs to.
    pub network: String,
    /// Legal form.
    pub legal_form: LegalForm,
    /// SIRET (14 digits, Luhn-valid), if known.
    pub siret: Option<String>,
    /// RNA number (`W` + 9 digits), if known.
    pub rna: Option<String>,
    /// INSEE region code (2 digits).
    pub region_code: String,
    /// INSEE department code (`01`…`95`, `2A`, `2B`, `971`…).
    pub department_code: String,
    /// INSEE commune code (5 characters).
    pub commune_insee: String,
}

/// A person working in or for a structure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonRecord {
    /// The user's own identifier, unique across the instance.
    pub id: String,
    /// Structure the person belongs to.
    pub structure_id: String,
    /// Name shown to the structure's managers.
    pub display_name: String,
    /// Role in the structure.
    pub role: Role,
    /// End of the engagement (fixed-term contract, subsidised post, mandate).
    pub end_date: Option<NaiveDate>,
    /// Contact address (used for reminders), if any.
    pub email: Option<String>,
}

/// A vital digital function recorded for a structure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionRecord {
    /// Structure the function belongs to.
    pub structure_id: String,
    /// Catalogue code (see `catalogue`) or a custom code.
    pub code: String,
    /// 1, 2 or 3 (3 = the structure cannot go a week without it).
    pub criticality: u8,
    /// Tools used to perform it (software, portals).
    pub tools: Vec<String>,
}

/// A person's level on a vital function of their structure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldingRecord {
    /// The person.
    pub person_id: String,
    /// The function code.
    pub function: String,
    /// 0 none, 1 with guidance, 2 autonomous with occasional help, 3 autonomous, 4 can train others.
    pub level: u8,
    /// Last time the person performed the function, if known.
    pub last_practised: Option<NaiveDate>,
    /// Where the level comes from.
    pub evidence: Evidence,
}

/// Everything the fragility index needs about one structure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StructureInventory {
    /// The structure itself.
    pub structure: StructureRecord,
    /// Its people.
    pub people: Vec<PersonRecord>,
    /// Its vital functions.
    pub functions: Vec<FunctionRecord>,
    /// Holdings of its people on its functions.
    pub holdings: Vec<HoldingRecord>,
}

impl StructureInventory {
    /// Sorts its parts by their keys (people by id, functions by code,
    /// holdings by person then function), so that two equal inventories
    /// compare equal whatever order their rows came in.
    pub fn sort_parts(&mut self) {
        self.people.sort_by(|a, b| a.id.cmp(&b.id));
        self.functions.sort_by(|a, b| a.code.cmp(&b.code));
        self.holdings
            .sort_by(|a, b| (&a.person_id, &a.function).cmp(&(&b.person_id, &b.function)));
    }
}
