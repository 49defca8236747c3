//! The language of human output: French unless asked otherwise.

/// A language of human output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// French (default: Vigie's users are French federations).
    Fr,
    /// English.
    En,
}

impl Lang {
    /// `--lang` when given, else `LANG` (`en*` → English), else French.
    pub fn detect(flag: Option<&str>) -> Lang {
        let from = |value: &str| {
            if value.to_ascii_lowercase().starts_with("en") {
                Lang::En
            } else {
                Lang::Fr
            }
        };
        match flag {
            Some(value) => from(value),
            None => std::env::var("LANG").map(|v| from(&v)).unwrap_or(Lang::Fr),
        }
    }

    /// Picks the French or the English text.
    pub fn pick<'a>(self, fr: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Fr => fr,
            Lang::En => en,
        }
    }

    /// The code sent to servers for their explanations.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Fr => "fr",
            Lang::En => "en",
        }
    }
}
