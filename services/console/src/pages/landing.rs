//! Where `/` leads a signed-in person, from the kind of profile known at
//! sign-in: a director to her structure, a facilitator to their requests, a
//! trainer to the sessions; the others stay on the home page (`None`).
//! Kept apart from `home.rs` so that the home page and the role pages can
//! change independently.

use crate::profiles::Kind;
use crate::session::SignedIn;

/// The facilitator's home.
pub const FACILITATION: &str = "/accompagnement";
/// The trainer's home.
pub const TRAINING: &str = "/formations";

/// The page `/` redirects `person` to, if any.
pub fn landing(person: &SignedIn) -> Option<String> {
    if let Some(structure) = &person.home_structure {
        return Some(format!("/structures/{structure}"));
    }
    match person.kind? {
        Kind::Facilitator => Some(FACILITATION.to_owned()),
        Kind::Trainer => Some(TRAINING.to_owned()),
        Kind::Federation | Kind::Coordinator | Kind::Director => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(kind: Option<Kind>, home: Option<&str>) -> SignedIn {
        SignedIn {
            token: String::new(),
            label: String::new(),
            home_structure: home.map(str::to_owned),
            kind,
            networks: Vec::new(),
            facilitator_id: None,
        }
    }

    #[test]
    fn each_kind_lands_on_its_home() {
        assert_eq!(
            landing(&person(Some(Kind::Director), Some("S000004"))).as_deref(),
            Some("/structures/S000004")
        );
        assert_eq!(
            landing(&person(Some(Kind::Facilitator), None)).as_deref(),
            Some(FACILITATION)
        );
        assert_eq!(landing(&person(Some(Kind::Trainer), None)).as_deref(), Some(TRAINING));
        assert_eq!(landing(&person(Some(Kind::Coordinator), None)), None);
        assert_eq!(landing(&person(Some(Kind::Federation), None)), None);
        assert_eq!(landing(&person(None, None)), None);
    }
}
