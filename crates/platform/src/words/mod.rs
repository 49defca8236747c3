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
//! [`Lang`] and [`Words`] live in the pure crate `vigie-words` (so that the
//! CSV readers and other pure crates write bilingual messages too) and are
//! re-exported here with what carries them in a status ([`IntoStatus`]).
//! A text that reads the same in both languages is [`Words::same`]: no
//! metadata is sent.

mod fit;

use std::fmt;

use tonic::metadata::MetadataValue;

/// The binary metadata entry that carries a status's English message.
pub const ENGLISH_MESSAGE_KEY: &str = "vigie-message-en-bin";

pub use vigie_words::{words, Lang, Term, Words};

/// A text sent to a client as a gRPC status.
pub trait IntoStatus {
    /// A status of `code` whose message is the French text, carrying the
    /// English one in [`ENGLISH_MESSAGE_KEY`] when it differs — each cut,
    /// when too long, to what a client can receive (whole lines first, then
    /// « … et N autres lignes non affichées »; see `fit.rs`).
    fn into_status(self, code: tonic::Code) -> tonic::Status;
}

impl IntoStatus for Words {
    fn into_status(self, code: tonic::Code) -> tonic::Status {
        let french = fit::fit(&self.fr, fit::FRENCH_BUDGET, fit::percent_encoded_len, fit::more_fr);
        let mut status = tonic::Status::new(code, french.as_ref());
        if self.en != self.fr {
            let english = fit::fit(&self.en, fit::ENGLISH_BUDGET, str::len, fit::more_en);
            status
                .metadata_mut()
                .insert_bin(ENGLISH_MESSAGE_KEY, MetadataValue::from_bytes(english.as_bytes()));
        }
        status
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

/// The status of a refused import: one problem a line (`FILE:LINE: message`),
/// all of them, so the file can be fixed in one go, in both languages.
pub fn rejected_status(problems: impl IntoIterator<Item = Words>) -> tonic::Status {
    let problems: Vec<Words> = problems.into_iter().collect();
    Words::lines(&problems).into_status(tonic::Code::InvalidArgument)
}

#[cfg(test)]
mod tests {
    use super::*;

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
    }

    #[test]
    fn long_texts_are_cut_to_what_a_client_receives() {
        let id = "x".repeat(4 << 20);
        let status =
            words!("structure « {id} » introuvable", "structure “{id}” not found").into_status(tonic::Code::NotFound);
        assert!(status.message().len() <= fit::FRENCH_BUDGET && status.message().ends_with("x…"));
        let english = english_message(&status).unwrap();
        assert!(english.len() <= fit::ENGLISH_BUDGET && english.starts_with("structure “xxx"));
        let mut headers = http::HeaderMap::new();
        status.add_header(&mut headers).expect("a status always encodes");
        let size: usize = headers
            .iter()
            .map(|(name, value)| name.as_str().len() + value.len() + 32)
            .sum();
        assert!(size < 16 * 1024, "below hyper's default header list limit: {size}");
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
