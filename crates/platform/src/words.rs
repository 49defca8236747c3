//! Words people read, in both languages: the language a person reads in
//! ([`Lang`]), and a server's messages to its clients.
//!
//! A service's error message is written once, at the place it is raised, in
//! French and in English side by side ([`words!`]), so that a message cannot
//! exist in one language only. It leaves as a gRPC status that any client
//! understands: the French text is the `grpc-message` (Vigie's users are
//! French federations, and clients that know nothing of this keep working
//! unchanged); the English text rides along in the binary metadata entry
//! [`ENGLISH_MESSAGE_KEY`] (UTF-8). The status is built without the request's
//! language, so the same status serves a unary call, a stream that fails
//! half-way and a log line; the client picks ([`message_for`]).
//!
//! Texts that have no English form yet (the `FILE:LINE: message` lines of an
//! import, messages of pure domain crates) are [`Words::same`]: no metadata
//! is sent, and an English client shows the French text.

use std::fmt;

use tonic::metadata::MetadataValue;

/// The binary metadata entry that carries a status's English message.
pub const ENGLISH_MESSAGE_KEY: &str = "vigie-message-en-bin";

/// Beyond this, the English message is left out (the client falls back to
/// the French one): metadata travel in HTTP/2 headers, whose total size is
/// bounded by the peer, and a status must never fail to reach its client
/// because of its translation.
const ENGLISH_MAX_BYTES: usize = 8 * 1024;

/// A language people read Vigie in: French by default, English on request.
///
/// The one definition for the CLI (`--lang`, `LANG`) and the console (the
/// session's choice): both pick a text at the place it is written
/// (`lang.pick("Accueil", "Home")`), so that a text cannot exist in one
/// language only and the compiler checks both.
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

/// Builds [`Words`] from a French and an English format string with the same
/// arguments (inline captures work): `words!("{what} introuvable", "{what}
/// not found")`, `words!("niveau {} invalide", "invalid level {}", level)`.
/// Arguments are evaluated once per language: pass plain values.
#[macro_export]
macro_rules! words {
    ($fr:literal, $en:literal $(,)?) => {
        $crate::words::Words::new(format!($fr), format!($en))
    };
    ($fr:literal, $en:literal, $($arg:tt)+) => {
        $crate::words::Words::new(format!($fr, $($arg)+), format!($en, $($arg)+))
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

    /// A text that reads the same in both languages (an identifier), or that
    /// only exists in French so far (an English client shows it as is).
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

    /// A status of `code` whose message is the French text, carrying the
    /// English one in [`ENGLISH_MESSAGE_KEY`] when it differs.
    pub fn into_status(self, code: tonic::Code) -> tonic::Status {
        let mut status = tonic::Status::new(code, self.fr.as_str());
        if self.en != self.fr && self.en.len() <= ENGLISH_MAX_BYTES {
            status
                .metadata_mut()
                .insert_bin(ENGLISH_MESSAGE_KEY, MetadataValue::from_bytes(self.en.as_bytes()));
        }
        status
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

/// The English message a server attached to `status`, if any (and valid
/// UTF-8).
pub fn english_message(status: &tonic::Status) -> Option<String> {
    let value = status.metadata().get_bin(ENGLISH_MESSAGE_KEY)?;
    let bytes = value.to_bytes().ok()?;
    String::from_utf8(bytes.to_vec()).ok()
}

/// The message of `status` for a reader of English (`english`) or French:
/// the English one when asked for and present, else the `grpc-message`.
pub fn message_for(status: &tonic::Status, english: bool) -> String {
    english
        .then(|| english_message(status))
        .flatten()
        .unwrap_or_else(|| status.message().to_owned())
}

/// The status of an unknown object (or one outside the caller's reach: the
/// same answer, so that existence does not leak): « {what} introuvable » /
/// "{what} not found".
pub fn not_found_status(what: Words) -> tonic::Status {
    Words::new(format!("{} introuvable", what.fr), format!("{} not found", what.en)).into_status(tonic::Code::NotFound)
}

/// The status of a failure inside a service (storage, event backbone): the
/// cause chain is logged here, once, and the client only learns that the
/// `service` failed (`fr_name` completes « erreur interne du … », e.g.
/// `service d'inventaire`), never how.
pub fn internal_status(service: &'static str, fr_name: &str, error: &dyn fmt::Display) -> tonic::Status {
    tracing::error!(service, %error, "request failed");
    words!(
        "erreur interne du {fr_name} (voir les journaux du serveur)",
        "internal error in the {service} service (see the server logs)"
    )
    .into_status(tonic::Code::Internal)
}

/// The status of a refused import: one problem a line (`FILE:LINE: message`,
/// in French only so far), all of them, so the file can be fixed in one go.
pub fn rejected_status<T: fmt::Display>(problems: &[T]) -> tonic::Status {
    let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
    Words::same(lines.join("\n")).into_status(tonic::Code::InvalidArgument)
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

    #[test]
    fn the_macro_formats_both_languages_with_the_same_arguments() {
        let what = "structure « S1 »";
        let level = 7;
        let words = words!("{what} introuvable, niveau {}", "{what} not found, level {}", level);
        assert_eq!(words.fr, "structure « S1 » introuvable, niveau 7");
        assert_eq!(words.en, "structure « S1 » not found, level 7");
        assert_eq!(words.to_string(), words.fr);
        assert!(words.contains("introuvable") && words == "structure « S1 » introuvable, niveau 7");
    }

    #[test]
    fn a_status_keeps_french_as_its_message_and_english_in_metadata() {
        let status =
            words!("élève « Zoé » introuvable", "pupil “Zoé” not found — déjà vu").into_status(tonic::Code::NotFound);
        assert_eq!(status.code(), tonic::Code::NotFound);
        assert_eq!(status.message(), "élève « Zoé » introuvable");
        assert_eq!(
            english_message(&status).as_deref(),
            Some("pupil “Zoé” not found — déjà vu")
        );
        assert_eq!(message_for(&status, true), "pupil “Zoé” not found — déjà vu");
        assert_eq!(message_for(&status, false), "élève « Zoé » introuvable");
    }

    #[test]
    fn the_english_message_survives_the_wire_headers() {
        // What a server writes (trailers) and a client reads back.
        let sent = Words::new("date « 2026-13-01 » invalide", "invalid date “2026-13-01” ✓")
            .into_status(tonic::Code::InvalidArgument);
        let mut headers = http::HeaderMap::new();
        sent.add_header(&mut headers).expect("a status always encodes");
        let received = tonic::Status::from_header_map(&headers).expect("the grpc-status header is present");
        assert_eq!(received.code(), tonic::Code::InvalidArgument);
        assert_eq!(received.message(), "date « 2026-13-01 » invalide");
        assert_eq!(message_for(&received, true), "invalid date “2026-13-01” ✓");
    }

    #[test]
    fn without_english_both_readers_get_the_french_message() {
        let same = Words::same("FICHIER:3: colonne manquante").into_status(tonic::Code::InvalidArgument);
        assert!(english_message(&same).is_none(), "no metadata for an untranslated text");
        assert_eq!(message_for(&same, true), "FICHIER:3: colonne manquante");

        let plain = tonic::Status::not_found("appel introuvable");
        assert_eq!(message_for(&plain, true), "appel introuvable");

        let long = Words::new("trop long", "x".repeat(ENGLISH_MAX_BYTES + 1)).into_status(tonic::Code::InvalidArgument);
        assert!(english_message(&long).is_none(), "an oversized translation is left out");
        assert_eq!(message_for(&long, true), "trop long");
    }

    #[test]
    fn a_malformed_english_entry_falls_back_to_french() {
        let mut status = tonic::Status::invalid_argument("demande invalide");
        status
            .metadata_mut()
            .insert_bin(ENGLISH_MESSAGE_KEY, MetadataValue::from_bytes(&[0xff, 0xfe]));
        assert_eq!(message_for(&status, true), "demande invalide");
    }
}
