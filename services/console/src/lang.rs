//! The language of the pages: French by default, English on request.
//!
//! Every text a page shows is written in both languages side by side, at the
//! place it is shown (`{{ layout.lang.pick("Accueil", "Home") }}` in a
//! template, `lang.pick(…)` in Rust), so that a text cannot exist in one
//! language only and the compiler checks both. The choice is kept in the
//! session (a POST form in every page's header, with its CSRF token), and
//! survives signing in.

/// A language of the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// French: Vigie's users are French federations.
    #[default]
    Fr,
    /// English.
    En,
}

impl Lang {
    /// Picks the French or the English text.
    pub fn pick<'a>(self, fr: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Fr => fr,
            Lang::En => en,
        }
    }

    /// The BCP 47 code, for `<html lang>` and the services' explanations.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Fr => "fr",
            Lang::En => "en",
        }
    }

    /// The language of a code sent by a form (`fr`, `en`); anything else is
    /// refused rather than guessed.
    pub fn from_code(code: &str) -> Option<Lang> {
        match code {
            "fr" => Some(Lang::Fr),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The other language, offered by the switch in the header.
    pub fn other(self) -> Lang {
        match self {
            Lang::Fr => Lang::En,
            Lang::En => Lang::Fr,
        }
    }

    /// The language's own name, as the switch shows it.
    pub fn own_name(self) -> &'static str {
        match self {
            Lang::Fr => "Français",
            Lang::En => "English",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn french_is_the_default_and_codes_round_trip() {
        assert_eq!(Lang::default(), Lang::Fr);
        for lang in [Lang::Fr, Lang::En] {
            assert_eq!(Lang::from_code(lang.code()), Some(lang));
            assert_eq!(lang.other().other(), lang);
        }
        assert_eq!(Lang::from_code("de"), None);
        assert_eq!(Lang::from_code("EN"), None);
        assert_eq!(Lang::En.pick("Accueil", "Home"), "Home");
        assert_eq!(Lang::Fr.pick("Accueil", "Home"), "Accueil");
    }
}
