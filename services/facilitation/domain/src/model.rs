//! Plain data of facilitation: facilitators, and the codes of help requests
//! (beneficiary kind, urgency, modality), with the ISO week used to count a
//! facilitator's committed time.
//!
//! Function codes are the inventory's catalogue codes or a structure's custom
//! codes; structure ids are the inventory's.

use chrono::{Datelike, Days, NaiveDate};
use std::fmt;
use std::str::FromStr;
use vigie_activity_report as cra;
use vigie_fragility_model::model::UnknownCode;

/// Declares a code enum: `ALL`, `as_str` (stable code), `label_fr`,
/// `FromStr` (error [`UnknownCode`] listing the codes) and `Display` (the code).
macro_rules! code_enum {
    (
        $(#[$meta:meta])* $name:ident, $expected:literal {
            $($(#[$vmeta:meta])* $variant:ident => $code:literal, $label:expr),+ $(,)?
        }
    ) => {
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

            /// The label shown to French-speaking users.
            pub fn label_fr(self) -> &'static str {
                match self { $($name::$variant => $label),+ }
            }
        }

        impl FromStr for $name {
            type Err = UnknownCode;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($code => Ok($name::$variant),)+
                    _ => Err(UnknownCode { value: s.to_owned(), expected: $expected }),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

code_enum!(
    /// What kind of helper a facilitator is. Only the first three are funded
    /// posts of digital mediation; the last two are the people a structure
    /// already turns to, recorded so that their help is counted too.
    FacilitatorKind, "conseiller_numerique, mediateur, coordinateur, internal_referent, trusted_peer" {
        /// Conseiller numérique (post funded by the State programme).
        ConseillerNumerique => "conseiller_numerique", "conseiller numérique",
        /// Médiateur numérique (other funding).
        Mediateur => "mediateur", "médiateur numérique",
        /// Coordinator of a network of facilitators (receives escalations).
        Coordinateur => "coordinateur", "coordinateur",
        /// A member of the structure designated as its digital referent.
        InternalReferent => "internal_referent", "référent numérique interne",
        /// A trusted colleague or volunteer outside any programme.
        TrustedPeer => "trusted_peer", "pair de confiance",
    }
);

code_enum!(
    /// Who benefited from an intervention: the activity reports of the
    /// national tools only know people; Vigie also counts a structure's own
    /// functions.
    Beneficiary, "internal, external" {
        /// A structure's internal function (payroll, funding applications…).
        Internal => "internal", "fonction interne d'une structure",
        /// An external person (the public of the mediation).
        External => "external", "personne extérieure",
    }
);

code_enum!(
    /// How urgent a help request is.
    Urgency, "low, normal, high" {
        /// Can wait for a convenient slot.
        Low => "low", "faible",
        /// The default.
        Normal => "normal", "normale",
        /// Blocks a vital function or a deadline.
        High => "high", "haute",
    }
);

code_enum!(
    /// How the structure would like to be helped.
    Modality, "on_site, remote, either" {
        /// At the structure's premises.
        OnSite => "on_site", "sur place",
        /// By phone or video.
        Remote => "remote", "à distance",
        /// No preference.
        Either => "either", "indifférent",
    }
);

code_enum!(
    /// `TypeActivite` of the national activity reports (CRA): one person or
    /// structure helped, or a group (workshop).
    ActivityType, "individuel, collectif" {
        /// `TypeActivite.Individuel` (the default).
        Individuel => "individuel", cra::INDIVIDUEL.fr,
        /// `TypeActivite.Collectif`.
        Collectif => "collectif", cra::COLLECTIF.fr,
    }
);

code_enum!(
    /// `TypeLieu` of the national activity reports (CRA): where the
    /// intervention took place.
    PlaceType, "lieu_activite, domicile, a_distance, autre" {
        /// `TypeLieu.LieuActivite`: the facilitator's place of activity.
        LieuActivite => "lieu_activite", cra::LIEU_ACTIVITE.fr,
        /// `TypeLieu.Domicile`: at the beneficiary's (for a structure: its premises).
        Domicile => "domicile", cra::DOMICILE.fr,
        /// `TypeLieu.ADistance`: by phone or video.
        ADistance => "a_distance", cra::A_DISTANCE.fr,
        /// `TypeLieu.Autre` (the default: claims nothing).
        Autre => "autre", cra::AUTRE_LIEU.fr,
    }
);

/// Validates CRA themes: trimmed, empty entries dropped, duplicates removed
/// (first kept, order preserved). The error names the first unknown code.
///
/// # Errors
/// [`UnknownCode`] for a code that is not one of the CRA's themes
/// ([`vigie_activity_report::THEMES`]).
pub fn parse_themes<S: AsRef<str>>(themes: &[S]) -> Result<Vec<String>, UnknownCode> {
    let mut out: Vec<String> = Vec::new();
    for theme in themes.iter().map(|t| t.as_ref().trim()).filter(|t| !t.is_empty()) {
        if cra::find(cra::THEMES, theme).is_none() {
            return Err(UnknownCode {
                value: theme.to_owned(),
                expected: "les codes de thématique du CRA (p. ex. bureautique, email, associations)",
            });
        }
        if !out.iter().any(|t| t == theme) {
            out.push(theme.to_owned());
        }
    }
    Ok(out)
}

/// A digital facilitator who can be mobilised for structures' internal needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Facilitator {
    /// Stable id (the user's own string).
    pub id: String,
    /// Name shown to users.
    pub display_name: String,
    /// Kind of helper.
    pub kind: FacilitatorKind,
    /// Structure that employs them, if any (a trusted peer may have none).
    pub employer_structure_id: Option<String>,
    /// Other structures they serve (shared posts), without duplicates.
    pub served_structures: Vec<String>,
    /// Territories where they intervene: INSEE commune codes (5 characters),
    /// EPCI SIRENs (9 digits) or department codes, without duplicates.
    pub territory_codes: Vec<String>,
    /// Vital-function codes they can support, without duplicates.
    pub functions: Vec<String>,
    /// Weekly working time, in minutes.
    pub weekly_minutes: u32,
    /// Share of the weekly time reserved for structures' internal needs, in
    /// `[0, 1]`.
    pub internal_share: f64,
    /// Programme funding the post (free text, may be empty).
    pub funding_programme: String,
    /// Last day of funding, if the post is funded until a known date.
    pub funding_end: Option<NaiveDate>,
}

impl Facilitator {
    /// Minutes per week reserved for internal support:
    /// `floor(weekly_minutes × internal_share)`, the share being clamped to
    /// `[0, 1]` (a NaN counts as 0). A millionth of a minute is added before
    /// flooring so that binary rounding does not lose a minute
    /// (`100 × 0.29` is `28.999999999999996` in `f64`, and means 29).
    pub fn internal_minutes_per_week(&self) -> u32 {
        let share = if self.internal_share.is_nan() {
            0.0
        } else {
            self.internal_share.clamp(0.0, 1.0)
        };
        // In [0, u32::MAX] since share ≤ 1, so the cast neither wraps nor saturates wrongly.
        (f64::from(self.weekly_minutes) * share + 1e-6)
            .floor()
            .min(f64::from(self.weekly_minutes)) as u32
    }
}

/// The Monday of `date`'s ISO week (the week in which committed internal time
/// is counted). ISO weeks start on Monday, so 2027-01-01, a Friday, belongs to
/// the week starting 2026-12-28.
pub fn week_start(date: NaiveDate) -> NaiveDate {
    let back = u64::from(date.weekday().num_days_from_monday());
    // Only fails within a week of the earliest date chrono represents.
    date.checked_sub_days(Days::new(back)).unwrap_or(NaiveDate::MIN)
}

#[cfg(test)]
mod tests;
