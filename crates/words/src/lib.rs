//! Words people read, in both languages: the language a person reads in
//! ([`Lang`]) and one text in French and in English ([`Words`], built by
//! [`words!`]).
//!
//! A message is written once, at the place it is raised, in French and in
//! English side by side, so that it cannot exist in one language only and
//! the compiler checks both. Dates in words live in [`dates`]. This crate
//! has no I/O and no transport, so that pure crates (the CSV readers, the
//! identifier rules) write their messages with it; `vigie-platform` carries
//! them to clients in gRPC statuses.

use std::fmt;

pub mod dates;

/// A language people read Vigie in: French by default, English on request.
///
/// The one definition for the CLI (`--lang`, `LANG`) and the console (the
/// session's choice): both pick a text at the place it is written
/// (`lang.pick("Accueil", "Home")`).
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

    /// The BCP 47 code: `<html lang>`, and what is sent to servers for their
    /// explanations.
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

    /// The other language, offered by the console's switch in its header.
    pub fn other(self) -> Lang {
        match self {
            Lang::Fr => Lang::En,
            Lang::En => Lang::Fr,
        }
    }

    /// The language's own name, as the console's switch shows it.
    pub fn own_name(self) -> &'static str {
        match self {
            Lang::Fr => "Français",
            Lang::En => "English",
        }
    }
}

/// One text in French and in English.
///
/// It reads as its French form (`Display`, `Deref<Target = str>`,
/// comparison with `&str`): French is what the wire's `grpc-message`, the
/// logs and the existing tests see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Words {
    /// The French text (the default).
    pub fr: String,
    /// The English text (`--lang en`).
    pub en: String,
}

/// A fixed word or phrase in both languages, known at compile time: what a
/// message names (a field, a column). `const`, so that a set of them can be
/// declared once beside the rules that use them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Term {
    /// In French (`date de dépôt`).
    pub fr: &'static str,
    /// In English (`submission date`).
    pub en: &'static str,
}

impl Term {
    /// A term given in both languages.
    pub const fn new(fr: &'static str, en: &'static str) -> Term {
        Term { fr, en }
    }
}

impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.fr)
    }
}

/// Builds [`Words`] from a French and an English format string with the same
/// arguments (inline captures work): `words!("{what} introuvable", "{what}
/// not found")`, `words!("niveau {} invalide", "invalid level {}", level)`.
/// Arguments are evaluated once per language: pass plain values.
#[macro_export]
macro_rules! words {
    ($fr:literal, $en:literal $(,)?) => {
        $crate::Words::new(format!($fr), format!($en))
    };
    ($fr:literal, $en:literal, $($arg:tt)+) => {
        $crate::Words::new(format!($fr, $($arg)+), format!($en, $($arg)+))
    };
}

impl Words {
    /// A text given in both languages.
    pub fn new(fr: impl Into<String>, en: impl Into<String>) -> Words {
        Words {
            fr: fr.into(),
            en: en.into(),
        }
    }

    /// A text that reads the same in both languages (an identifier, a
    /// message of another program), shown as is to every reader.
    pub fn same(text: impl Into<String>) -> Words {
        let text = text.into();
        Words {
            en: text.clone(),
            fr: text,
        }
    }

    /// The text in English when `english`, else in French.
    pub fn pick(&self, english: bool) -> &str {
        if english {
            &self.en
        } else {
            &self.fr
        }
    }

    /// The text in `lang`.
    pub fn in_lang(&self, lang: Lang) -> &str {
        self.pick(lang == Lang::En)
    }

    /// Both texts behind the same `prefix` (`people.csv:3: `): what a
    /// message becomes once it says where it was found.
    pub fn prefixed(&self, prefix: &str) -> Words {
        Words::new(format!("{prefix}{}", self.fr), format!("{prefix}{}", self.en))
    }

    /// The texts of `all`, one a line, in each language.
    pub fn lines<'a>(all: impl IntoIterator<Item = &'a Words>) -> Words {
        let (mut fr, mut en) = (String::new(), String::new());
        for (i, words) in all.into_iter().enumerate() {
            if i > 0 {
                fr.push('\n');
                en.push('\n');
            }
            fr.push_str(&words.fr);
            en.push_str(&words.en);
        }
        Words { fr, en }
    }
}

impl fmt::Display for Words {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.fr)
    }
}

impl std::ops::Deref for Words {
    type Target = str;

    fn deref(&self) -> &str {
        &self.fr
    }
}

impl PartialEq<&str> for Words {
    fn eq(&self, other: &&str) -> bool {
        self.fr == *other
    }
}

impl PartialEq<str> for Words {
    fn eq(&self, other: &str) -> bool {
        self.fr == other
    }
}

/// Most characters of an outside value a message repeats (see [`shown`]).
pub const MAX_SHOWN_CHARS: usize = 80;

/// A value received from outside (a cell, a field) as a message repeats it:
/// control characters escaped (`\t`, `\n`), and cut after
/// [`MAX_SHOWN_CHARS`] characters with `…`, so that a message stays small
/// whatever the cell held — a thousand refused rows must not make a
/// thousand-fold copy of a huge cell.
pub fn shown(value: &str) -> String {
    shown_up_to(value, MAX_SHOWN_CHARS)
}

/// [`shown`] with another bound: `max` characters (a whole header line).
pub fn shown_up_to(value: &str, max: usize) -> String {
    let mut chars = value.chars();
    let head: String = chars.by_ref().take(max).collect();
    let escaped = head.escape_debug().to_string();
    if chars.next().is_some() {
        escaped + "…"
    } else {
        escaped
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
        assert_eq!(Lang::Fr.own_name(), "Français");
    }

    #[test]
    fn the_macro_formats_both_languages_with_the_same_arguments() {
        let what = "structure « S1 »";
        let level = 7;
        let words = words!("{what} introuvable, niveau {}", "{what} not found, level {}", level);
        assert_eq!(words.fr, "structure « S1 » introuvable, niveau 7");
        assert_eq!(words.en, "structure « S1 » not found, level 7");
        assert_eq!(words.to_string(), words.fr);
        assert!(words.contains("introuvable") && words == "structure « S1 » introuvable, niveau 7");
        assert_eq!(words.in_lang(Lang::En), words.en);
        assert_eq!(words.pick(false), words.fr);
    }

    #[test]
    fn outside_values_are_escaped_and_cut() {
        assert_eq!(shown("P\t1"), "P\\t1");
        assert_eq!(shown("é".repeat(80).as_str()), "é".repeat(80));
        assert_eq!(shown("é".repeat(81).as_str()), "é".repeat(80) + "…");
        assert_eq!(shown(&"x".repeat(1_000_000)).chars().count(), 81);
        assert_eq!(shown_up_to("abcd", 3), "abc…");
    }

    #[test]
    fn a_term_reads_as_its_french_form() {
        const FUNDER: Term = Term::new("financeur", "funder");
        assert_eq!(FUNDER.to_string(), "financeur");
        assert_eq!(FUNDER.en, "funder");
    }

    #[test]
    fn same_reads_alike_in_both_languages() {
        let id = Words::same("S-001");
        assert_eq!((id.fr.as_str(), id.en.as_str()), ("S-001", "S-001"));
    }

    #[test]
    fn prefixes_and_lines_keep_each_language_apart() {
        let first = words!("colonne manquante", "missing column").prefixed("people.csv:3: ");
        assert_eq!(first.fr, "people.csv:3: colonne manquante");
        assert_eq!(first.en, "people.csv:3: missing column");
        let second = words!("date invalide", "invalid date");
        let both = Words::lines([&first, &second]);
        assert_eq!(both.fr, "people.csv:3: colonne manquante\ndate invalide");
        assert_eq!(both.en, "people.csv:3: missing column\ninvalid date");
        assert_eq!(Words::lines([]), Words::same(""));
    }
}
