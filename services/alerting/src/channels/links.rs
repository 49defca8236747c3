//! Signed links: acknowledgement without an account, secret iCalendar feed
//! URLs, one-click unsubscribe.
//!
//! A token is `<payload>.<tag>`, both base64url without padding (URL-safe
//! as is): the payload is a small JSON object naming what the token grants
//! (its kind and ids), the tag is HMAC-SHA256 with the service's link secret
//! over `vigie-link-v1.` followed by the payload bytes. Tokens do not expire:
//! a reminder read weeks later still works, a feed URL stays valid; changing
//! the secret revokes them all. A token of one kind is refused where another
//! kind is expected, and any change to a token (or another secret) makes it
//! invalid; tags are compared in constant time (`ring::hmac::verify`).

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::hmac;
use serde::{Deserialize, Serialize};

/// Domain separation of link tags from any other use of the secret.
const CONTEXT: &[u8] = b"vigie-link-v1.";
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

/// The signed content of a token.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "k")]
enum Payload {
    #[serde(rename = "ack")]
    Ack { s: String, c: String, a: String },
    #[serde(rename = "feed")]
    Feed { t: String, id: String },
    #[serde(rename = "unsub")]
    Unsubscribe { r: String },
}

/// Makes and checks the tokens of signed links.
#[derive(Clone)]
pub struct LinkSigner {
    key: hmac::Key,
}

impl fmt::Debug for LinkSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LinkSigner { .. }")
    }
}

impl LinkSigner {
    /// A signer with the service's link secret: at least 32 random bytes,
    /// kept secret and stable (changing it invalidates every link sent).
    pub fn new(secret: &[u8]) -> LinkSigner {
        LinkSigner {
            key: hmac::Key::new(hmac::HMAC_SHA256, secret),
        }
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

    /// The token of an iCalendar feed URL.
    pub fn feed_token(&self, kind: FeedKind, id: &str) -> String {
        self.sign(&Payload::Feed {
            t: kind.code().to_owned(),
            id: id.to_owned(),
        })
    }

    /// Checks a feed token.
    ///
    /// # Errors
    /// See [`LinkError`].
    pub fn verify_feed(&self, token: &str) -> Result<FeedClaim, LinkError> {
        match self.open(token)? {
            Payload::Feed { t, id } => Ok(FeedClaim {
                kind: FeedKind::from_code(&t).ok_or(LinkError::Malformed)?,
                id,
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

    fn tag(&self, payload: &[u8]) -> hmac::Tag {
        let mut context = hmac::Context::with_key(&self.key);
        context.update(CONTEXT);
        context.update(payload);
        context.sign()
    }

    fn sign(&self, payload: &Payload) -> String {
        // Serialising plain strings cannot fail.
        let bytes = serde_json::to_vec(payload).unwrap_or_default();
        let tag = self.tag(&bytes);
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(&bytes),
            URL_SAFE_NO_PAD.encode(tag.as_ref())
        )
    }

    fn open(&self, token: &str) -> Result<Payload, LinkError> {
        if token.len() > MAX_TOKEN {
            return Err(LinkError::Malformed);
        }
        let (payload, tag) = token.trim().split_once('.').ok_or(LinkError::Malformed)?;
        let payload = URL_SAFE_NO_PAD.decode(payload).map_err(|_| LinkError::Malformed)?;
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| LinkError::Malformed)?;
        let mut signed = Vec::with_capacity(CONTEXT.len() + payload.len());
        signed.extend_from_slice(CONTEXT);
        signed.extend_from_slice(&payload);
        hmac::verify(&self.key, &signed, &tag).map_err(|_| LinkError::BadSignature)?;
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
        let token = signer.feed_token(FeedKind::Network, "reseau-bretagne");
        assert_eq!(
            signer.verify_feed(&token),
            Ok(FeedClaim {
                kind: FeedKind::Network,
                id: "reseau-bretagne".into()
            })
        );
        let token = signer.feed_token(FeedKind::Structure, "S000001");
        assert_eq!(signer.verify_feed(&token).unwrap().kind, FeedKind::Structure);
        let token = signer.unsubscribe_token("P000004-2");
        assert_eq!(signer.verify_unsubscribe(&token), Ok("P000004-2".to_owned()));
    }

    #[test]
    fn a_token_of_one_kind_is_refused_for_another() {
        let signer = signer();
        let ack = signer.ack_token("S1", "C1", AckAction::Submitted);
        let feed = signer.feed_token(FeedKind::Structure, "S1");
        let unsubscribe = signer.unsubscribe_token("S1");
        assert_eq!(signer.verify_feed(&ack), Err(LinkError::WrongKind));
        assert_eq!(signer.verify_unsubscribe(&ack), Err(LinkError::WrongKind));
        assert_eq!(signer.verify_ack(&feed), Err(LinkError::WrongKind));
        assert_eq!(signer.verify_unsubscribe(&feed), Err(LinkError::WrongKind));
        assert_eq!(signer.verify_ack(&unsubscribe), Err(LinkError::WrongKind));
        assert_eq!(signer.verify_feed(&unsubscribe), Err(LinkError::WrongKind));
    }

    #[test]
    fn tampered_truncated_and_foreign_tokens_are_refused() {
        let signer = signer();
        let token = signer.ack_token("S000003", "C42", AckAction::NotConcerned);
        let (payload, tag) = token.split_once('.').unwrap();

        // Another secret.
        assert_eq!(
            LinkSigner::new(b"another secret, just as long....").verify_ack(&token),
            Err(LinkError::BadSignature)
        );
        // Another payload under the same tag: another structure, another action.
        let forged = URL_SAFE_NO_PAD.encode(br#"{"k":"ack","s":"S000004","c":"C42","a":"not_concerned"}"#);
        assert_eq!(
            signer.verify_ack(&format!("{forged}.{tag}")),
            Err(LinkError::BadSignature)
        );
        let forged = URL_SAFE_NO_PAD.encode(br#"{"k":"ack","s":"S000003","c":"C42","a":"submitted"}"#);
        assert_eq!(
            signer.verify_ack(&format!("{forged}.{tag}")),
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
        assert_eq!(
            signer.verify_ack(&format!("{payload}.{tag}.x")),
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
            signer.feed_token(FeedKind::Structure, "S1"),
            signer.feed_token(FeedKind::Structure, "S1")
        );
        assert_ne!(
            signer.feed_token(FeedKind::Structure, "S1"),
            signer.feed_token(FeedKind::Network, "S1")
        );
    }
}
