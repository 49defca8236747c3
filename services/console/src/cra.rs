//! The activity-report (CRA, « compte rendu d'activité ») vocabulary as the
//! intervention form shows it: the kernel's lists
//! ([`vigie_activity_report`], the codes facilitation records) with the
//! label of the page's language.

use crate::lang::Lang;
pub use vigie_activity_report::{Term, ACTIVITY_TYPES, PLACES, THEMES};

/// The label of `code` in `list`, in `lang`; `None` for an unknown code.
pub fn label(list: &'static [Term], code: &str, lang: Lang) -> Option<&'static str> {
    vigie_activity_report::find(list, code).map(|term| lang.pick(term.fr, term.en))
}

/// The (code, label) choices of `list` in `lang`, in the programme's order.
pub fn choices(list: &'static [Term], lang: Lang) -> Vec<(&'static str, &'static str)> {
    list.iter()
        .map(|term| (term.code, lang.pick(term.fr, term.en)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_follow_the_pages_language() {
        assert_eq!(label(ACTIVITY_TYPES, "collectif", Lang::Fr), Some("Atelier collectif"));
        assert_eq!(label(ACTIVITY_TYPES, "collectif", Lang::En), Some("Group workshop"));
        assert_eq!(label(THEMES, "inconnu", Lang::Fr), None);
        let places = choices(PLACES, Lang::Fr);
        assert_eq!(places.first(), Some(&("lieu_activite", "Lieu d’activité")));
        assert_eq!(places.len(), 4);
        assert_eq!(choices(THEMES, Lang::En).len(), 30);
    }
}
