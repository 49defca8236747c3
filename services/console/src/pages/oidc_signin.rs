//! OIDC sign-in pages (`vigie serve console`): `/connexion` sends the
//! browser to the issuer, `/connexion/retour` receives the code, and
//! `GET /deconnexion` is where the issuer sends it back after logout.
//! Codes and tokens are never logged nor shown.

use std::sync::Arc;
use std::time::{Duration, Instant};

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

use super::{error_page, render, session, Layout};
use crate::lang::Lang;
use crate::oidc::{flow, ExchangeError, RelyingParty};
use crate::session::{PendingSignIn, Session, SignedIn};
use crate::{web, Console, SignIn};

/// A page about signing in: a failure, or the goodbye after logout.
#[derive(Template)]
#[template(path = "connexion_oidc.html")]
struct SignInNotice {
    layout: Layout,
    heading: String,
    message: String,
}

/// Why a sign-in did not end signed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// No sign-in under way for this browser (expired, or already used).
    Expired,
    /// `state` differs from the one sent (forged or mixed-up answer).
    State,
    /// The person or the issuer refused (`error=access_denied`, …), or the
    /// issuer refused the code.
    Refused,
    /// The issuer could not be reached.
    Unreachable,
}

impl Failure {
    /// Heading and message, in `lang`.
    pub fn words(self, lang: Lang) -> (&'static str, &'static str) {
        match self {
            Failure::Expired => (
                lang.pick("Connexion expirée", "Sign-in expired"),
                lang.pick(
                    "Cette connexion a expiré ou a déjà servi. Recommencez : c'est sans risque.",
                    "This sign-in has expired or was already used. Start again: it is safe.",
                ),
            ),
            Failure::State => (
                lang.pick("Connexion refusée", "Sign-in refused"),
                lang.pick(
                    "La réponse reçue ne correspond pas à la connexion demandée depuis ce navigateur : par sécurité, elle est ignorée. Recommencez la connexion.",
                    "The answer received does not match the sign-in started from this browser: for safety, it is ignored. Sign in again.",
                ),
            ),
            Failure::Refused => (
                lang.pick("Connexion refusée", "Sign-in refused"),
                lang.pick(
                    "Le service d'identification n'a pas accepté la connexion. Vérifiez votre compte, puis recommencez ; si cela persiste, contactez la personne qui administre Vigie.",
                    "The identity service did not accept the sign-in. Check your account, then try again; if it persists, contact the person who runs Vigie.",
                ),
            ),
            Failure::Unreachable => (
                lang.pick("Service d'identification injoignable", "Identity service unreachable"),
                lang.pick(
                    "Le service d'identification ne répond pas pour l'instant. Réessayez dans un moment.",
                    "The identity service does not answer for now. Try again in a moment.",
                ),
            ),
        }
    }

    fn status(self) -> StatusCode {
        match self {
            Failure::Expired | Failure::State => StatusCode::BAD_REQUEST,
            Failure::Refused => StatusCode::FORBIDDEN,
            Failure::Unreachable => StatusCode::BAD_GATEWAY,
        }
    }
}

fn notice(console: &Console, session: Option<&Session>, status: StatusCode, heading: &str, message: &str) -> Response {
    let page = SignInNotice {
        layout: Layout::new(console, heading, session),
        heading: heading.to_owned(),
        message: message.to_owned(),
    };
    render(console, session, status, &page)
}

fn failed(console: &Console, session: Option<&Session>, failure: Failure) -> Response {
    let lang = session.map(|s| s.lang).unwrap_or_default();
    let (heading, message) = failure.words(lang);
    notice(console, session, failure.status(), heading, message)
}

/// `GET /connexion` with OIDC: a new sign-in bound to this browser's
/// (anonymous) session, then off to the issuer. A signed-in person goes home.
pub fn start(console: &Console, rp: &RelyingParty, headers: &HeaderMap) -> Response {
    let (current, new_cookie) = match session(console, headers) {
        Some(session) if session.signed_in.is_some() => return web::see_other("/"),
        Some(session) => (session, None),
        None => match console.sessions.create(None, Instant::now()) {
            Ok(session) => {
                let cookie = web::set_cookie(&session.id, console.secure_cookies);
                (session, Some(cookie))
            }
            Err(error) => return error_page(console, None, &error.into()),
        },
    };
    let pending = match (
        console.sessions.random(),
        console.sessions.random(),
        console.sessions.random(),
    ) {
        (Ok(state), Ok(nonce), Ok(verifier)) => PendingSignIn { state, nonce, verifier },
        (Err(error), _, _) | (_, Err(error), _) | (_, _, Err(error)) => {
            return error_page(console, Some(&current), &error.into())
        }
    };
    let url = rp.authorization_url(&pending.state, &pending.nonce, &pending.verifier);
    console.sessions.set_pending(&current.id, pending);
    let response = web::see_other(&url);
    match new_cookie {
        Some(cookie) => web::with_cookie(response, cookie),
        None => response,
    }
}

/// What the issuer sends back (RFC 6749 §4.1.2).
#[derive(Deserialize)]
pub struct Answer {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// `GET /connexion/retour`: checks `state`, exchanges the code, validates the
/// ID token, and signs the person in under a new session id.
pub async fn callback(
    State(console): State<Arc<Console>>,
    headers: HeaderMap,
    answer: Result<Query<Answer>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let SignIn::Oidc(rp) = &console.sign_in else {
        return super::not_found(State(console.clone()), headers).await;
    };
    let current = session(&console, &headers);
    // The sign-in under way is taken once: a replayed answer finds none.
    let pending = current.as_ref().and_then(|s| console.sessions.take_pending(&s.id));
    let (Some(old), Some(pending)) = (current.as_ref(), pending) else {
        tracing::info!("console sign-in: answer without a sign-in under way");
        return failed(&console, current.as_ref(), Failure::Expired);
    };
    let Ok(Query(answer)) = answer else {
        return failed(&console, Some(old), Failure::State);
    };
    if !answer
        .state
        .as_deref()
        .is_some_and(|state| flow::state_matches(&pending.state, state))
    {
        tracing::warn!("console sign-in: state mismatch, answer ignored");
        return failed(&console, Some(old), Failure::State);
    }
    if let Some(error) = &answer.error {
        let error: String = error
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .take(40)
            .collect();
        tracing::info!(%error, "console sign-in: the issuer refused");
        return failed(&console, Some(old), Failure::Refused);
    }
    let Some(code) = answer.code.as_deref().filter(|c| !c.is_empty()) else {
        return failed(&console, Some(old), Failure::Refused);
    };
    let tokens = match rp.exchange(code, &pending.verifier, &pending.nonce).await {
        Ok(tokens) => tokens,
        Err(error) => {
            tracing::warn!(%error, "console sign-in failed");
            let failure = match error {
                ExchangeError::Unreachable(_) => Failure::Unreachable,
                ExchangeError::Refused { .. } | ExchangeError::Invalid(_) => Failure::Refused,
            };
            return failed(&console, Some(old), failure);
        }
    };
    let lang = old.lang;
    let label =
        flow::label(&tokens.person).unwrap_or_else(|| lang.pick("compte sans nom", "unnamed account").to_owned());
    let person = SignedIn {
        token: tokens.access_token,
        label: label.clone(),
        home: crate::reach::home_of(&tokens.roles, &tokens.groups),
        networks: crate::reach::networks_of(&tokens.groups),
        // The facilitation service's ids are not in the token: a facilitator
        // signed in with OIDC sees every request offered in her networks.
        facilitator_id: None,
    };
    // The session ends with the access token: then, sign in again.
    let ttl = tokens.expires_in.unwrap_or(Duration::from_secs(300));
    // A new id on sign-in: an id planted before cannot ride the session.
    console.sessions.remove(&old.id);
    match console.sessions.create_for(Some(person), Instant::now(), ttl) {
        Ok(session) => {
            tracing::info!(subject = %tokens.person.subject, "console sign-in (oidc)");
            console.sessions.set_lang(&session.id, lang);
            console.sessions.set_id_token(&session.id, tokens.id_token);
            console.sessions.set_flash(
                &session.id,
                format!("{} {label}.", lang.pick("Vous êtes connecté·e :", "You are signed in:")),
            );
            web::with_cookie(
                web::see_other("/"),
                web::set_cookie(&session.id, console.secure_cookies),
            )
        }
        Err(error) => error_page(&console, None, &error.into()),
    }
}

/// `GET /deconnexion`: where the issuer sends the browser after logout.
pub async fn signed_out(State(console): State<Arc<Console>>, headers: HeaderMap) -> Response {
    if matches!(console.sign_in, SignIn::Dev(_)) {
        // The dev sign-out leads back to the list of profiles instead.
        return super::not_found(State(console.clone()), headers).await;
    }
    let current = session(&console, &headers);
    let lang = current.as_ref().map(|s| s.lang).unwrap_or_default();
    notice(
        &console,
        current.as_ref(),
        StatusCode::OK,
        lang.pick("Vous êtes déconnecté·e", "You are signed out"),
        lang.pick(
            "Votre session est terminée, dans la console comme auprès du service d'identification.",
            "Your session has ended, in the console and with the identity service.",
        ),
    )
}

/// Where logout sends the browser: the issuer's end-session endpoint with
/// the ID token as hint, or the console's goodbye page.
pub fn after_logout(rp: &RelyingParty, id_token: Option<&str>) -> Response {
    match rp.logout_url(id_token) {
        Some(url) => web::see_other(&url),
        None => web::see_other("/deconnexion"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_failure_speaks_both_languages_and_tells_the_way_back() {
        for failure in [Failure::Expired, Failure::State, Failure::Refused, Failure::Unreachable] {
            let (fr_heading, fr) = failure.words(Lang::Fr);
            let (en_heading, en) = failure.words(Lang::En);
            assert!(!fr_heading.is_empty() && !en_heading.is_empty());
            assert_ne!(fr, en);
            assert!(fr.ends_with('.') && en.ends_with('.'));
            assert!(failure.status().is_client_error() || failure.status().is_server_error());
        }
    }
}
