//! Signed links: acknowledgement without an account, secret iCalendar feed
//! URLs, one-click unsubscribe.
//!
//! A token is `<kid>.<payload>.<tag>`, all base64url-safe without padding
//! (URL-safe as is): `kid` names the signing key, the payload is a small JSON
//! object naming what the token grants (its kind and ids), the tag is
//! HMAC-SHA256 with that key over `vigie-link-v2.<kid>.` followed by the
//! payload bytes. Tokens do not expire: a reminder read weeks later still
//! works, a feed URL stays valid.
//!
//! The signer holds a key ring: the current key signs, previous keys (by id)
//! still verify, so the operator rotates the secret without breaking the
//! links already sent, then drops the old key when they may go dead. Tokens
//! of the first format (`<payload>.<tag>`, no key id, context
//! `vigie-link-v1.`) are still accepted from any key of the ring.
//!
//! A feed token also carries its scope's generation: revoking a feed bumps the
//! generation stored for the structure or network, so every URL issued
//! before stops working (checked by the application, which knows the current
//! generation). Generation 0 is left out of the payload, so feed URLs issued
//! before generations existed remain those of generation 0.
//!
//! A token of one kind is refused where another kind is expected, and any
//! change to a token (or another key) makes it invalid; tags are compared in
//! constant time (`ring::hmac::verify`).

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::hmac;
use serde::{Deserialize, Serialize};

/// Domain separation of link tags from any other use of the secret (tokens with a key id).
const CONTEXT: &[u8] = b"vigie-link-v2.";
/// The context of the first tokens, without key id (still verified).
const LEGACY_CONTEXT: &[u8] = b"vigie-link-v1.";
/// Longest key id.
const MAX_KEY_ID: usize = 16;
/// Longest token accepted (a token is well under 1 KiB).
const MAX_TOKEN: usize = 4096;

/// What a recipient answers with an acknowledgement link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AckAction {
    /// The application was submitted ("déposé").
    Submitted,
    /// Someone is working on it ("en cours").
    InProgress,
    /// The structure will not apply ("pas concerné").
    NotConcerned,
}

impl AckAction {
    /// Every action, in the order links are shown.
    pub const ALL: [AckAction; 3] = [AckAction::Submitted, AckAction::InProgress, AckAction::NotConcerned];

    /// The stable code: `submitted`, `in_progress`, `not_concerned`.
    pub fn code(self) -> &'static str {
        match self {
            AckAction::Submitted => "submitted",
            AckAction::InProgress => "in_progress",
            AckAction::NotConcerned => "not_concerned",
        }
    }

    /// Parses a stable code.
    pub fn from_code(code: &str) -> Option<AckAction> {
        AckAction::ALL.into_iter().find(|action| action.code() == code)
    }

    /// The French label: "déposé", "en cours", "pas concerné".
    pub fn label(self) -> &'static str {
        match self {
            AckAction::Submitted => "déposé",
            AckAction::InProgress => "en cours",
            AckAction::NotConcerned => "pas concerné",
        }
    }
}

/// What a valid acknowledgement token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AckClaim {
    /// The structure acknowledging.
    pub structure_id: String,
    /// The call acknowledged.
    pub call_id: String,
    /// The answer.
    pub action: AckAction,
}

/// What a valid « envoyé » token of a reporting duty says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DutyClaim {
    /// The structure that owes the duty.
    pub structure_id: String,
    /// The obligation key.
    pub obligation_key: String,
}

/// Whose iCalendar feed a feed token opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FeedKind {
    /// The deadlines of one structure.
    Structure,
    /// The deadlines of every structure of a network.
    Network,
}

impl FeedKind {
    /// The stable code: `structure`, `network`.
    pub fn code(self) -> &'static str {
        match self {
            FeedKind::Structure => "structure",
            FeedKind::Network => "network",
        }
    }

    /// Parses a stable code.
    pub fn from_code(code: &str) -> Option<FeedKind> {
        match code {
            "structure" => Some(FeedKind::Structure),
            "network" => Some(FeedKind::Network),
            _ => None,
        }
    }
}

/// What a valid feed token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedClaim {
    /// A structure's or a network's feed.
    pub kind: FeedKind,
    /// The structure or network id.
    pub id: String,
    /// The scope's generation when the URL was issued.
    pub generation: u64,
}

/// Why a token was refused. Callers answer the same way to all of them (a
/// page saying the link is invalid), the detail is for logs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    /// Not made of two base64url parts, too long, or an unreadable payload.
    #[error("lien illisible")]
    Malformed,
    /// The tag does not match: altered, truncated, or signed with another secret.
    #[error("signature du lien invalide")]
    BadSignature,
    /// A valid token of another kind (a feed token used to acknowledge…).
    #[error("ce lien ne sert pas à cela")]
    WrongKind,
}

/// Why a key ring is refused (at start, before anything is served).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyRingError {
    /// A key id empty, too long, or with other characters than `A-Z a-z 0-9 - _`.
    #[error("identifiant de clé de lien « {0} » invalide : 1 à 16 caractères parmi A-Z a-z 0-9 - _")]
    BadId(String),
    /// Two keys with one id.
    #[error("identifiant de clé de lien « {0} » en double")]
    DuplicateId(String),
    /// A secret shorter than 32 bytes.
    #[error("la clé de lien « {0} » doit compter au moins 32 caractères")]
    ShortSecret(String),
}

/// One key of the ring: its id (in every token it signs) and its secret.
#[derive(Clone)]
pub struct LinkKey {
    /// `A-Z a-z 0-9 - _`, 1 to 16 characters.
    pub id: String,
    /// At least 32 random bytes.
    pub secret: Vec<u8>,
}

impl fmt::Debug for LinkKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LinkKey {{ id: {:?}, .. }}", self.id)
    }
}

/// The id of the key when none is configured.
pub const DEFAULT_KEY_ID: &str = "1";

fn valid_key_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_KEY_ID && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The signed content of a token.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "k")]
enum Payload {
    #[serde(rename = "ack")]
    Ack { s: String, c: String, a: String },
    #[serde(rename = "feed")]
    Feed {
        t: String,
        id: String,
        #[serde(default, skip_serializing_if = "is_zero")]
        g: u64,
    },
    #[serde(rename = "unsub")]
    Unsubscribe { r: String },
    /// A reporting duty sent to its funder (« envoyé », issue 16): the
    /// structure and the obligation key. A kind of its own, so a call's
    /// acknowledgement token never opens a duty and the reverse.
    #[serde(rename = "duty")]
    DutySent { s: String, o: String },
}

fn is_zero(value: &u64) -> bool {
    *value == 0
}

/// Makes and checks the tokens of signed links.
#[derive(Clone)]
pub struct LinkSigner {
    /// The key that signs, first; then the keys that only verify.
    keys: Vec<(String, hmac::Key)>,
}

impl fmt::Debug for LinkSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LinkSigner { .. }")
    }
}

impl LinkSigner {
    /// A signer with one key, id [`DEFAULT_KEY_ID`]: at least 32 random
    /// bytes, kept secret (changing it without keeping the old one in the
    /// ring invalidates every link sent).
    pub fn new(secret: &[u8]) -> LinkSigner {
        LinkSigner {
            keys: vec![(DEFAULT_KEY_ID.to_owned(), hmac::Key::new(hmac::HMAC_SHA256, secret))],
        }
    }

    /// A signer whose `current` key signs and whose `previous` keys still verify.
    ///
    /// # Errors
    /// [`KeyRingError`]: a bad or repeated id, a secret under 32 bytes.
    pub fn with_ring(current: &LinkKey, previous: &[LinkKey]) -> Result<LinkSigner, KeyRingError> {
        let mut keys: Vec<(String, hmac::Key)> = Vec::with_capacity(1 + previous.len());
        for key in std::iter::once(current).chain(previous) {
            if !valid_key_id(&key.id) {
                return Err(KeyRingError::BadId(key.id.clone()));
            }
            if keys.iter().any(|(id, _)| *id == key.id) {
                return Err(KeyRingError::DuplicateId(key.id.clone()));
            }
            if key.secret.len() < 32 {
                return Err(KeyRingError::ShortSecret(key.id.clone()));
            }
            keys.push((key.id.clone(), hmac::Key::new(hmac::HMAC_SHA256, &key.secret)));
        }
        Ok(LinkSigner { keys })
    }

    /// The id of the key that signs.
    pub fn current_key_id(&self) -> &str {
        &self.keys[0].0
    }

    /// The token of an acknowledgement link.
    pub fn ack_token(&self, structure_id: &str, call_id: &str, action: AckAction) -> String {
        self.sign(&Payload::Ack {
            s: structure_id.to_owned(),
            c: call_id.to_owned(),
            a: action.code().to_owned(),
        })
    }

    /// Checks an acknowledgement token.
    ///
    /// # Errors
    /// See [`LinkError`].
    pub fn verify_ack(&self, token: &str) -> Result<AckClaim, LinkError> {
        match self.open(token)? {
            Payload::Ack { s, c, a } => Ok(AckClaim {
                structure_id: s,
                call_id: c,
                action: AckAction::from_code(&a).ok_or(LinkError::Malformed)?,
            }),
            _ => Err(LinkError::WrongKind),
        }
    }

    /// The token of the « envoyé » link of a structure's reporting duty.
    pub fn duty_sent_token(&self, structure_id: &str, obligation_key: &str) -> String {
        self.sign(&Payload::DutySent {
            s: structure_id.to_owned(),
            o: obligation_key.to_owned(),
        })
    }

    /// Checks the token of a duty's « envoyé » link.
    ///
    /// # Errors
    /// See [`LinkError`] (a call's acknowledgement token is [`LinkError::WrongKind`]).
    pub fn verify_duty_sent(&self, token: &str) -> Result<DutyClaim, LinkError> {
        match self.open(token)? {
            Payload::DutySent { s, o } => Ok(DutyClaim {
                structure_id: s,
                obligation_key: o,
            }),
            _ => Err(LinkError::WrongKind),
        }
    }

    /// The token of an iCalendar feed URL of `generation` (0 until the
    /// scope's feed is first revoked).
    pub fn feed_token(&self, kind: FeedKind, id: &str, generation: u64) -> String {
        self.sign(&Payload::Feed {
            t: kind.code().to_owned(),
            id: id.to_owned(),
            g: generation,
        })
    }

    /// Checks a feed token.
    ///
    /// # Errors
    /// See [`LinkError`].
    pub fn verify_feed(&self, token: &str) -> Result<FeedClaim, LinkError> {
        match self.open(token)? {
            Payload::Feed { t, id, g } => Ok(FeedClaim {
                kind: FeedKind::from_code(&t).ok_or(LinkError::Malformed)?,
                id,
                generation: g,
            }),
            _ => Err(LinkError::WrongKind),
        }
    }

    /// The token of a recipient's one-click unsubscribe link.
    pub fn unsubscribe_token(&self, recipient_id: &str) -> String {
        self.sign(&Payload::Unsubscribe {
            r: recipient_id.to_owned(),
        })
    }

    /// Checks an unsubscribe token; returns the recipient id.
    ///
    /// # Errors
    /// See [`LinkError`].
    pub fn verify_unsubscribe(&self, token: &str) -> Result<String, LinkError> {
        match self.open(token)? {
            Payload::Unsubscribe { r } => Ok(r),
            _ => Err(LinkError::WrongKind),
        }
    }

    fn sign(&self, payload: &Payload) -> String {
        // Serialising plain strings and numbers cannot fail.
        let bytes = serde_json::to_vec(payload).unwrap_or_default();
        let (kid, key) = &self.keys[0];
        let mut context = hmac::Context::with_key(key);
        context.update(CONTEXT);
        context.update(kid.as_bytes());
        context.update(b".");
        context.update(&bytes);
        let tag = context.sign();
        format!(
            "{kid}.{}.{}",
            URL_SAFE_NO_PAD.encode(&bytes),
            URL_SAFE_NO_PAD.encode(tag.as_ref())
        )
    }

    fn open(&self, token: &str) -> Result<Payload, LinkError> {
        if token.len() > MAX_TOKEN {
            return Err(LinkError::Malformed);
        }
        let parts: Vec<&str> = token.trim().split('.').collect();
        let payload = match parts.as_slice() {
            [kid, payload, tag] => {
                let (_, key) = self
                    .keys
                    .iter()
                    .find(|(id, _)| id == kid)
                    .ok_or(LinkError::BadSignature)?;
                let payload = URL_SAFE_NO_PAD.decode(payload).map_err(|_| LinkError::Malformed)?;
                let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| LinkError::Malformed)?;
                let mut signed = Vec::with_capacity(CONTEXT.len() + kid.len() + 1 + payload.len());
                signed.extend_from_slice(CONTEXT);
                signed.extend_from_slice(kid.as_bytes());
                signed.push(b'.');
                signed.extend_from_slice(&payload);
                hmac::verify(key, &signed, &tag).map_err(|_| LinkError::BadSignature)?;
                payload
            }
            // The first format: no key id, any key of the ring.
            [payload, tag] => {
                let payload = URL_SAFE_NO_PAD.decode(payload).map_err(|_| LinkError::Malformed)?;
                let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| LinkError::Malformed)?;
                let mut signed = Vec::with_capacity(LEGACY_CONTEXT.len() + payload.len());
                signed.extend_from_slice(LEGACY_CONTEXT);
                signed.extend_from_slice(&payload);
                if !self
                    .keys
                    .iter()
                    .any(|(_, key)| hmac::verify(key, &signed, &tag).is_ok())
                {
                    return Err(LinkError::BadSignature);
                }
                payload
            }
            _ => return Err(LinkError::Malformed),
        };
        serde_json::from_slice(&payload).map_err(|_| LinkError::Malformed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> LinkSigner {
        LinkSigner::new(b"0123456789abcdef0123456789abcdef")
    }

    #[test]
    fn ack_tokens_round_trip_for_every_action() {
        let signer = signer();
        for action in AckAction::ALL {
            let token = signer.ack_token("S000003", "aides-territoires:1234", action);
            assert!(
                token
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.'),
                "not URL-safe: {token}"
            );
            assert_eq!(
                signer.verify_ack(&token),
                Ok(AckClaim {
                    structure_id: "S000003".into(),
                    call_id: "aides-territoires:1234".into(),
                    action,
                })
            );
        }
    }

    #[test]
    fn codes_and_french_labels() {
        assert_eq!(AckAction::Submitted.code(), "submitted");
        assert_eq!(AckAction::InProgress.code(), "in_progress");
        assert_eq!(AckAction::NotConcerned.code(), "not_concerned");
        assert_eq!(AckAction::Submitted.label(), "déposé");
        assert_eq!(AckAction::InProgress.label(), "en cours");
        assert_eq!(AckAction::NotConcerned.label(), "pas concerné");
        for action in AckAction::ALL {
            assert_eq!(AckAction::from_code(action.code()), Some(action));
        }
        assert_eq!(AckAction::from_code("done"), None);
        assert_eq!(FeedKind::from_code(FeedKind::Network.code()), Some(FeedKind::Network));
        assert_eq!(
            FeedKind::from_code(FeedKind::Structure.code()),
            Some(FeedKind::Structure)
        );
    }

    #[test]
    fn ids_with_separators_stay_intact() {
        let signer = signer();
        let token = signer.ack_token("a.b|c\"d", "x\ny.z", AckAction::InProgress);
        let claim = signer.verify_ack(&token).unwrap();
        assert_eq!(claim.structure_id, "a.b|c\"d");
        assert_eq!(claim.call_id, "x\ny.z");
    }

    #[test]
    fn feed_and_unsubscribe_tokens_round_trip() {
        let signer = signer();
        let token = signer.feed_token(FeedKind::Network, "reseau-bretagne", 0);
        assert_eq!(
            signer.verify_feed(&token),
            Ok(FeedClaim {
                kind: FeedKind::Network,
                id: "reseau-bretagne".into(),
                generation: 0,
            })
        );
        let token = signer.feed_token(FeedKind::Structure, "S000001", 3);
        assert_eq!(signer.verify_feed(&token).unwrap().generation, 3);
        assert_eq!(signer.verify_feed(&token).unwrap().kind, FeedKind::Structure);
        let token = signer.unsubscribe_token("P000004-2");
        assert_eq!(signer.verify_unsubscribe(&token), Ok("P000004-2".to_owned()));
    }

    #[test]
    fn a_token_of_one_kind_is_refused_for_another() {
        let signer = signer();
        let ack = signer.ack_token("S1", "C1", AckAction::Submitted);
        let feed = signer.feed_token(FeedKind::Structure, "S1", 0);
        let unsubscribe = signer.unsubscribe_token("S1");
        assert_eq!(signer.verify_feed(&ack), Err(LinkError::WrongKind));
        assert_eq!(signer.verify_unsubscribe(&ack), Err(LinkError::WrongKind));
        assert_eq!(signer.verify_ack(&feed), Err(LinkError::WrongKind));
        assert_eq!(signer.verify_unsubscribe(&feed), Err(LinkError::WrongKind));
        assert_eq!(signer.verify_ack(&unsubscribe), Err(LinkError::WrongKind));
        assert_eq!(signer.verify_feed(&unsubscribe), Err(LinkError::WrongKind));
    }

    #[test]
    fn duty_tokens_round_trip_and_open_nothing_else() {
        let signer = signer();
        let token = signer.duty_sent_token("S000003", "G01:financial_report_6_months:2026-12-31");
        assert_eq!(
            signer.verify_duty_sent(&token),
            Ok(DutyClaim {
                structure_id: "S000003".into(),
                obligation_key: "G01:financial_report_6_months:2026-12-31".into(),
            })
        );
        assert_eq!(signer.verify_ack(&token), Err(LinkError::WrongKind));
        assert_eq!(signer.verify_feed(&token), Err(LinkError::WrongKind));
        assert_eq!(signer.verify_unsubscribe(&token), Err(LinkError::WrongKind));
        let ack = signer.ack_token(
            "S000003",
            "G01:financial_report_6_months:2026-12-31",
            AckAction::Submitted,
        );
        assert_eq!(signer.verify_duty_sent(&ack), Err(LinkError::WrongKind));
        // Another secret, or a changed byte: refused.
        assert_eq!(
            LinkSigner::new(b"another secret, just as long....").verify_duty_sent(&token),
            Err(LinkError::BadSignature)
        );
        let mut altered = token.clone().into_bytes();
        let middle = altered.len() / 2;
        altered[middle] = if altered[middle] == b'A' { b'B' } else { b'A' };
        assert!(signer.verify_duty_sent(&String::from_utf8(altered).unwrap()).is_err());
        // Call tokens signed before duties existed still verify as before.
        let old = signer.ack_token("S1", "C1", AckAction::InProgress);
        assert!(signer.verify_ack(&old).is_ok());
    }

    #[test]
    fn tampered_truncated_and_foreign_tokens_are_refused() {
        let signer = signer();
        let token = signer.ack_token("S000003", "C42", AckAction::NotConcerned);
        let (signed, tag) = token.rsplit_once('.').unwrap();
        let (kid, payload) = signed.split_once('.').unwrap();
        assert_eq!(kid, DEFAULT_KEY_ID);

        // Another secret.
        assert_eq!(
            LinkSigner::new(b"another secret, just as long....").verify_ack(&token),
            Err(LinkError::BadSignature)
        );
        // Another payload under the same tag: another structure, another action.
        let forged = URL_SAFE_NO_PAD.encode(br#"{"k":"ack","s":"S000004","c":"C42","a":"not_concerned"}"#);
        assert_eq!(
            signer.verify_ack(&format!("{kid}.{forged}.{tag}")),
            Err(LinkError::BadSignature)
        );
        let forged = URL_SAFE_NO_PAD.encode(br#"{"k":"ack","s":"S000003","c":"C42","a":"submitted"}"#);
        assert_eq!(
            signer.verify_ack(&format!("{kid}.{forged}.{tag}")),
            Err(LinkError::BadSignature)
        );
        // Every single-character change is refused.
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        for index in 0..token.len() {
            let mut bytes = token.clone().into_bytes();
            let original = bytes[index];
            bytes[index] = alphabet.iter().copied().find(|&c| c != original).unwrap();
            let altered = String::from_utf8(bytes).unwrap();
            assert!(
                signer.verify_ack(&altered).is_err(),
                "accepted after changing byte {index}: {altered}"
            );
        }
        // Truncations.
        for length in 0..token.len() {
            assert!(
                signer.verify_ack(&token[..length]).is_err(),
                "accepted truncated to {length}"
            );
        }
        assert_eq!(signer.verify_ack(payload), Err(LinkError::Malformed));
        assert_eq!(signer.verify_ack(&format!("{payload}.")), Err(LinkError::BadSignature));
        // The tag of the keyed format is not a tag of the first format.
        assert_eq!(
            signer.verify_ack(&format!("{payload}.{tag}")),
            Err(LinkError::BadSignature)
        );
        assert_eq!(
            signer.verify_ack(&format!("{kid}.{payload}.{tag}.x")),
            Err(LinkError::Malformed)
        );
        assert_eq!(signer.verify_ack("not a token"), Err(LinkError::Malformed));
        assert_eq!(signer.verify_ack(""), Err(LinkError::Malformed));
        assert_eq!(signer.verify_ack(&"A".repeat(5000)), Err(LinkError::Malformed));
    }

    #[test]
    fn tokens_are_deterministic() {
        let signer = signer();
        assert_eq!(
            signer.feed_token(FeedKind::Structure, "S1", 0),
            signer.feed_token(FeedKind::Structure, "S1", 0)
        );
        assert_ne!(
            signer.feed_token(FeedKind::Structure, "S1", 0),
            signer.feed_token(FeedKind::Network, "S1", 0)
        );
        assert_ne!(
            signer.feed_token(FeedKind::Structure, "S1", 0),
            signer.feed_token(FeedKind::Structure, "S1", 1)
        );
    }

    fn key(id: &str, secret: &[u8]) -> LinkKey {
        LinkKey {
            id: id.to_owned(),
            secret: secret.to_vec(),
        }
    }

    const OLD: &[u8] = b"0123456789abcdef0123456789abcdef";
    const NEW: &[u8] = b"a brand new secret of 32 bytes..";

    #[test]
    fn after_a_rotation_the_new_key_signs_and_the_old_one_still_verifies() {
        let before = LinkSigner::new(OLD);
        let old_ack = before.ack_token("S1", "C1", AckAction::Submitted);
        let old_feed = before.feed_token(FeedKind::Network, "N1", 0);
        let rotated = LinkSigner::with_ring(&key("2", NEW), &[key(DEFAULT_KEY_ID, OLD)]).unwrap();
        assert_eq!(rotated.current_key_id(), "2");
        assert_eq!(rotated.verify_ack(&old_ack).unwrap().structure_id, "S1");
        assert_eq!(rotated.verify_feed(&old_feed).unwrap().id, "N1");
        let new_ack = rotated.ack_token("S1", "C1", AckAction::Submitted);
        assert!(new_ack.starts_with("2."), "{new_ack}");
        assert_eq!(rotated.verify_ack(&new_ack).unwrap().call_id, "C1");
        // The old signer does not know key 2; once key 1 is dropped, its links die.
        assert_eq!(before.verify_ack(&new_ack), Err(LinkError::BadSignature));
        let dropped = LinkSigner::with_ring(&key("2", NEW), &[]).unwrap();
        assert_eq!(dropped.verify_ack(&old_ack), Err(LinkError::BadSignature));
        // A token naming key 1 but signed with key 2 is refused.
        let (_, rest) = new_ack.split_once('.').unwrap();
        assert_eq!(
            rotated.verify_ack(&format!("{DEFAULT_KEY_ID}.{rest}")),
            Err(LinkError::BadSignature)
        );
    }

    #[test]
    fn tokens_of_the_first_format_still_verify_with_any_key_of_the_ring() {
        // A token as issued before key ids: `<payload>.<tag>` over `vigie-link-v1.`.
        let payload = br#"{"k":"feed","t":"structure","id":"S000001"}"#;
        let legacy_tag = |secret: &[u8]| {
            let mut signed = LEGACY_CONTEXT.to_vec();
            signed.extend_from_slice(payload);
            hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, secret), &signed)
        };
        let token = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(payload),
            URL_SAFE_NO_PAD.encode(legacy_tag(OLD).as_ref())
        );
        let claim = LinkSigner::new(OLD).verify_feed(&token).unwrap();
        assert_eq!(
            (claim.kind, claim.id.as_str(), claim.generation),
            (FeedKind::Structure, "S000001", 0)
        );
        let rotated = LinkSigner::with_ring(&key("2", NEW), &[key(DEFAULT_KEY_ID, OLD)]).unwrap();
        assert_eq!(rotated.verify_feed(&token).unwrap().id, "S000001");
        assert_eq!(LinkSigner::new(NEW).verify_feed(&token), Err(LinkError::BadSignature));
        // A generation-0 feed token signs exactly the payload of the first format.
        let current = LinkSigner::new(OLD).feed_token(FeedKind::Structure, "S000001", 0);
        assert_eq!(
            current.split('.').nth(1),
            Some(URL_SAFE_NO_PAD.encode(payload).as_str())
        );
    }

    #[test]
    fn a_bad_key_ring_is_refused_with_a_clear_reason() {
        assert_eq!(
            LinkSigner::with_ring(&key("", NEW), &[]).err(),
            Some(KeyRingError::BadId(String::new()))
        );
        assert_eq!(
            LinkSigner::with_ring(&key("a.b", NEW), &[]).err(),
            Some(KeyRingError::BadId("a.b".into()))
        );
        assert_eq!(
            LinkSigner::with_ring(&key(&"k".repeat(17), NEW), &[]).err(),
            Some(KeyRingError::BadId("k".repeat(17)))
        );
        assert_eq!(
            LinkSigner::with_ring(&key("2", NEW), &[key("2", OLD)]).err(),
            Some(KeyRingError::DuplicateId("2".into()))
        );
        assert_eq!(
            LinkSigner::with_ring(&key("2", NEW), &[key("1", b"short")]).err(),
            Some(KeyRingError::ShortSecret("1".into()))
        );
        assert!(format!("{:?}", key("2", NEW)).contains("..") && !format!("{:?}", key("2", NEW)).contains("brand"));
    }
}
