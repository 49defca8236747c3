//! Server-side sessions: the only state the console keeps.
//!
//! A session is identified by a random 256-bit id (ring's `SystemRandom`)
//! sent in the `vigie_session` cookie; everything else stays here, in
//! memory: the signed-in person's access token (never sent to the browser),
//! the CSRF token of the session's forms, and a one-shot message shown after
//! a redirect. The store is bounded ([`MAX_SESSIONS`]) and every session
//! expires, so a client that opens sessions without end costs a fixed amount
//! of memory: when full, expired sessions go first, then the oldest.
//!
//! A visitor who is not signed in still gets an *anonymous* session, short
//! lived, only so that the sign-in form carries a CSRF token too (login
//! CSRF). Signing in replaces it with a new id (session fixation).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::rand::{SecureRandom, SystemRandom};

use crate::lang::Lang;

/// Sessions kept at most; beyond, the oldest is forgotten.
pub const MAX_SESSIONS: usize = 10_000;
/// Life of a signed-in session (the access token lives as long).
pub const SIGNED_IN_TTL: Duration = Duration::from_secs(8 * 3600);
/// Life of an anonymous session (time to choose a profile).
pub const ANONYMOUS_TTL: Duration = Duration::from_secs(30 * 60);

/// Who is signed in, and how the console calls the services for them.
#[derive(Clone)]
pub struct SignedIn {
    /// The access token sent as `authorization: Bearer …` on every call.
    pub token: String,
    /// How the profile is named to its owner ("Direction de S000004 — …").
    pub label: String,
    /// The networks of the person's groups (`/networks/N`): a facilitator's
    /// time report is read per network.
    pub networks: Vec<String>,
    /// A facilitator's id in the facilitation service (their own line of the
    /// time report).
    pub facilitator_id: Option<String>,
    /// Where `/` leads, from the token's roles and groups
    /// ([`crate::reach::home_of`]).
    pub home: crate::reach::Home,
}

impl std::fmt::Debug for SignedIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the token.
        f.debug_struct("SignedIn")
            .field("label", &self.label)
            .field("home", &self.home)
            .finish_non_exhaustive()
    }
}

/// One session, as handlers see it (a copy: the store keeps the original).
#[derive(Clone, Debug)]
pub struct Session {
    /// The cookie value.
    pub id: String,
    /// The token every POST form must carry back.
    pub csrf: String,
    /// `None` for an anonymous session.
    pub signed_in: Option<SignedIn>,
    /// The language of its pages.
    pub lang: Lang,
}

/// An OIDC sign-in under way, bound to the anonymous session that started
/// it: the `state` and `nonce` sent to the issuer and the PKCE verifier,
/// which never leaves the console (docs/security.md, "Console sign-in").
#[derive(Clone, PartialEq, Eq)]
pub struct PendingSignIn {
    /// Echoed back by the issuer with the code.
    pub state: String,
    /// Must come back inside the ID token.
    pub nonce: String,
    /// PKCE `code_verifier`, sent only with the code to the token endpoint.
    pub verifier: String,
}

impl std::fmt::Debug for PendingSignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PendingSignIn { .. }")
    }
}

struct Entry {
    session: Session,
    created: Instant,
    expires: Instant,
    flash: Option<String>,
    /// OIDC: the sign-in started by this (anonymous) session.
    pending: Option<PendingSignIn>,
    /// OIDC: the ID token of the sign-in, sent back as `id_token_hint` on
    /// logout (never to the browser).
    id_token: Option<String>,
}

/// Why a session could not be created.
#[derive(Debug, thiserror::Error)]
#[error("générateur aléatoire du système indisponible")]
pub struct RandomUnavailable;

/// The in-memory, bounded, expiring session store.
pub struct Sessions {
    entries: Mutex<HashMap<String, Entry>>,
    random: SystemRandom,
    capacity: usize,
}

impl Default for Sessions {
    fn default() -> Self {
        Self::with_capacity(MAX_SESSIONS)
    }
}

impl Sessions {
    /// A store holding at most `capacity` sessions.
    pub fn with_capacity(capacity: usize) -> Self {
        Sessions {
            entries: Mutex::new(HashMap::new()),
            random: SystemRandom::new(),
            capacity: capacity.max(1),
        }
    }

    /// 256 random bits, URL-safe base64 (43 characters).
    fn token(&self) -> Result<String, RandomUnavailable> {
        let mut bytes = [0u8; 32];
        self.random.fill(&mut bytes).map_err(|_| RandomUnavailable)?;
        Ok(URL_SAFE_NO_PAD.encode(bytes))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        // A panic while holding the lock leaves a consistent map (every
        // change is one insert or remove): keep serving.
        self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A new session (anonymous when `signed_in` is `None`).
    ///
    /// # Errors
    /// The system's random generator failed.
    pub fn create(&self, signed_in: Option<SignedIn>, now: Instant) -> Result<Session, RandomUnavailable> {
        let ttl = if signed_in.is_some() {
            SIGNED_IN_TTL
        } else {
            ANONYMOUS_TTL
        };
        self.create_for(signed_in, now, ttl)
    }

    /// A new session living `ttl` at most [`SIGNED_IN_TTL`] (an OIDC
    /// sign-in ends with its access token: the person signs in again).
    ///
    /// # Errors
    /// The system's random generator failed.
    pub fn create_for(
        &self,
        signed_in: Option<SignedIn>,
        now: Instant,
        ttl: Duration,
    ) -> Result<Session, RandomUnavailable> {
        let ttl = ttl.min(SIGNED_IN_TTL);
        let session = Session {
            id: self.token()?,
            csrf: self.token()?,
            signed_in,
            lang: Lang::default(),
        };
        let mut entries = self.lock();
        if entries.len() >= self.capacity {
            entries.retain(|_, entry| entry.expires > now);
        }
        if entries.len() >= self.capacity {
            // Still full of live sessions: the oldest goes (a flood of
            // anonymous sessions cannot grow memory, at worst it signs the
            // oldest person out).
            if let Some(oldest) = entries
                .iter()
                .min_by_key(|(_, entry)| entry.created)
                .map(|(id, _)| id.clone())
            {
                entries.remove(&oldest);
            }
        }
        entries.insert(
            session.id.clone(),
            Entry {
                session: session.clone(),
                created: now,
                expires: now + ttl,
                flash: None,
                pending: None,
                id_token: None,
            },
        );
        Ok(session)
    }

    /// The live session of cookie value `id`.
    pub fn get(&self, id: &str, now: Instant) -> Option<Session> {
        let mut entries = self.lock();
        match entries.get(id) {
            Some(entry) if entry.expires > now => Some(entry.session.clone()),
            Some(_) => {
                entries.remove(id);
                None
            }
            None => None,
        }
    }

    /// Ends a session (sign-out, or a token the services refused).
    pub fn remove(&self, id: &str) {
        self.lock().remove(id);
    }

    /// Leaves a message for the next page of this session.
    pub fn set_flash(&self, id: &str, message: impl Into<String>) {
        if let Some(entry) = self.lock().get_mut(id) {
            entry.flash = Some(message.into());
        }
    }

    /// Sets the language of a session's pages.
    pub fn set_lang(&self, id: &str, lang: Lang) {
        if let Some(entry) = self.lock().get_mut(id) {
            entry.session.lang = lang;
        }
    }

    /// Binds an OIDC sign-in under way to a session (replacing any earlier one).
    pub fn set_pending(&self, id: &str, pending: PendingSignIn) {
        if let Some(entry) = self.lock().get_mut(id) {
            entry.pending = Some(pending);
        }
    }

    /// Takes the sign-in under way, once: a second answer for it is refused.
    pub fn take_pending(&self, id: &str) -> Option<PendingSignIn> {
        self.lock().get_mut(id).and_then(|entry| entry.pending.take())
    }

    /// Keeps the ID token of a session's sign-in, for its logout.
    pub fn set_id_token(&self, id: &str, token: String) {
        if let Some(entry) = self.lock().get_mut(id) {
            entry.id_token = Some(token);
        }
    }

    /// Ends a session, giving back its ID token (the logout's hint).
    pub fn end(&self, id: &str) -> Option<String> {
        self.lock().remove(id).and_then(|entry| entry.id_token)
    }

    /// A random 256-bit value, URL-safe base64 (OIDC `state`, `nonce`,
    /// PKCE verifier).
    ///
    /// # Errors
    /// The system's random generator failed.
    pub fn random(&self) -> Result<String, RandomUnavailable> {
        self.token()
    }

    /// Takes the message left for this page, once.
    pub fn take_flash(&self, id: &str) -> Option<String> {
        self.lock().get_mut(id).and_then(|entry| entry.flash.take())
    }

    /// Sessions held (expired ones included until they are swept).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no session is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Whether `given` is the session's CSRF token, in time independent of
/// where they differ (no guessing byte by byte).
pub fn csrf_matches(session: &Session, given: &str) -> bool {
    let expected = session.csrf.as_bytes();
    let given = given.as_bytes();
    if expected.len() != given.len() {
        return false;
    }
    expected.iter().zip(given).fold(0u8, |diff, (a, b)| diff | (a ^ b)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(label: &str) -> Option<SignedIn> {
        Some(SignedIn {
            token: format!("token-{label}"),
            label: label.to_owned(),
            networks: Vec::new(),
            facilitator_id: None,
            home: crate::reach::Home::Elsewhere,
        })
    }

    #[test]
    fn ids_and_csrf_tokens_are_256_random_bits_and_distinct() {
        let sessions = Sessions::default();
        let now = Instant::now();
        let a = sessions.create(None, now).unwrap();
        let b = sessions.create(None, now).unwrap();
        for token in [&a.id, &a.csrf, &b.id, &b.csrf] {
            assert_eq!(URL_SAFE_NO_PAD.decode(token).unwrap().len(), 32);
        }
        assert_ne!(a.id, b.id);
        assert_ne!(a.id, a.csrf);
        assert_ne!(a.csrf, b.csrf);
    }

    #[test]
    fn a_session_expires_anonymous_sooner_than_signed_in() {
        let sessions = Sessions::default();
        let now = Instant::now();
        let anonymous = sessions.create(None, now).unwrap();
        let signed = sessions.create(person("a"), now).unwrap();
        let later = now + ANONYMOUS_TTL + Duration::from_secs(1);
        assert!(sessions.get(&anonymous.id, later).is_none());
        assert!(sessions.get(&signed.id, later).is_some());
        let much_later = now + SIGNED_IN_TTL + Duration::from_secs(1);
        assert!(sessions.get(&signed.id, much_later).is_none());
        assert!(sessions.get("unknown", now).is_none());
    }

    #[test]
    fn the_store_is_bounded_expired_first_then_oldest() {
        let sessions = Sessions::with_capacity(3);
        let start = Instant::now();
        let old = sessions.create(None, start).unwrap();
        let kept = sessions.create(person("kept"), start + Duration::from_secs(1)).unwrap();
        let newer = sessions
            .create(person("newer"), start + Duration::from_secs(2))
            .unwrap();
        // Full: the anonymous one has expired by then, so it alone goes.
        let later = start + ANONYMOUS_TTL + Duration::from_secs(5);
        let fourth = sessions.create(person("fourth"), later).unwrap();
        assert_eq!(sessions.len(), 3);
        assert!(sessions.get(&old.id, later).is_none());
        assert!(sessions.get(&kept.id, later).is_some());
        // Full of live sessions: the oldest goes.
        let fifth = sessions.create(None, later).unwrap();
        assert_eq!(sessions.len(), 3);
        assert!(sessions.get(&kept.id, later).is_none());
        for live in [&newer, &fourth, &fifth] {
            assert!(sessions.get(&live.id, later).is_some());
        }
    }

    #[test]
    fn flash_messages_are_shown_once_and_removal_ends_the_session() {
        let sessions = Sessions::default();
        let now = Instant::now();
        let session = sessions.create(person("a"), now).unwrap();
        sessions.set_flash(&session.id, "Échéance notée");
        assert_eq!(sessions.take_flash(&session.id).as_deref(), Some("Échéance notée"));
        assert_eq!(sessions.take_flash(&session.id), None);
        sessions.remove(&session.id);
        assert!(sessions.get(&session.id, now).is_none());
        assert!(sessions.is_empty());
    }

    #[test]
    fn a_session_speaks_french_until_told_otherwise() {
        let sessions = Sessions::default();
        let now = Instant::now();
        let session = sessions.create(None, now).unwrap();
        assert_eq!(session.lang, Lang::Fr);
        sessions.set_lang(&session.id, Lang::En);
        assert_eq!(sessions.get(&session.id, now).unwrap().lang, Lang::En);
    }

    #[test]
    fn csrf_tokens_match_exactly() {
        let sessions = Sessions::default();
        let session = sessions.create(None, Instant::now()).unwrap();
        let good = session.csrf.clone();
        assert!(csrf_matches(&session, &good));
        assert!(!csrf_matches(&session, ""));
        assert!(!csrf_matches(&session, &good[..good.len() - 1]));
        let mut wrong = good.clone().into_bytes();
        wrong[0] = if wrong[0] == b'A' { b'B' } else { b'A' };
        assert!(!csrf_matches(&session, &String::from_utf8(wrong).unwrap()));
        let other = sessions.create(None, Instant::now()).unwrap();
        assert!(!csrf_matches(&session, &other.csrf));
    }

    #[test]
    fn a_pending_sign_in_is_taken_once_and_an_id_token_ends_with_its_session() {
        let sessions = Sessions::default();
        let now = Instant::now();
        let session = sessions.create(None, now).unwrap();
        let pending = PendingSignIn {
            state: sessions.random().unwrap(),
            nonce: "n".to_owned(),
            verifier: "v".to_owned(),
        };
        sessions.set_pending(&session.id, pending.clone());
        assert!(!format!("{pending:?}").contains(&pending.state));
        assert_eq!(sessions.take_pending(&session.id), Some(pending));
        assert_eq!(sessions.take_pending(&session.id), None);
        let signed = sessions.create_for(person("a"), now, Duration::from_secs(300)).unwrap();
        sessions.set_id_token(&signed.id, "id-token".to_owned());
        let other = sessions.create_for(person("c"), now, Duration::from_secs(300)).unwrap();
        assert_eq!(sessions.end(&signed.id).as_deref(), Some("id-token"));
        assert_eq!(sessions.end(&signed.id), None);
        assert!(sessions.get(&other.id, now + Duration::from_secs(299)).is_some());
        assert!(sessions.get(&other.id, now + Duration::from_secs(301)).is_none());
        let long = sessions
            .create_for(person("b"), now, Duration::from_secs(u64::MAX / 4))
            .unwrap();
        assert!(sessions.get(&long.id, now + SIGNED_IN_TTL).is_none(), "capped");
    }

    #[test]
    fn the_token_is_never_printed() {
        let printed = format!("{:?}", person("x"));
        assert!(!printed.contains("token-x"), "{printed}");
    }
}
