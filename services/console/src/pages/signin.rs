//! `/connexion` (dev sign-in: one button per demo profile; with OIDC, the
//! redirect to the issuer of [`super::oidc_signin`]) and `/deconnexion`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use askama::Template;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::{checked_form, error_page, render, session, Layout};
use crate::error::PageError;
use crate::profiles::{self, Kind};
use crate::session::{SignedIn, SIGNED_IN_TTL};
use crate::{web, Console, SignIn};

struct Group {
    heading: String,
    /// (profile id, label)
    profiles: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "connexion.html")]
struct SignInPage {
    layout: Layout,
    groups: Vec<Group>,
}

/// `GET /connexion`: the profiles, read from the services now. A visitor
/// without a session gets an anonymous one, so that this form too carries a
/// CSRF token.
pub async fn page(State(console): State<Arc<Console>>, headers: HeaderMap) -> Response {
    if let SignIn::Oidc(rp) = &console.sign_in {
        // With OIDC the dev list is never served.
        return super::oidc_signin::start(&console, rp, &headers);
    }
    let (current, new_cookie) = match session(&console, &headers) {
        Some(session) => (session, None),
        None => match console.sessions.create(None, Instant::now()) {
            Ok(session) => {
                let cookie = web::set_cookie(&session.id, console.secure_cookies);
                (session, Some(cookie))
            }
            Err(error) => return error_page(&console, None, &error.into()),
        },
    };
    let response = match profiles::list(&mut console.services.dev_identity()).await {
        Ok(all) => {
            let groups = Kind::ALL
                .iter()
                .map(|kind| Group {
                    heading: kind.heading(current.lang).to_owned(),
                    profiles: all
                        .iter()
                        .filter(|p| p.kind == *kind)
                        .map(|p| (p.id.clone(), p.label.clone()))
                        .collect(),
                })
                .filter(|group| !group.profiles.is_empty())
                .collect();
            let page = SignInPage {
                layout: Layout::new(&console, current.lang.pick("Se connecter", "Sign in"), Some(&current)),
                groups,
            };
            render(&console, Some(&current), StatusCode::OK, &page)
        }
        Err(status) => error_page(&console, Some(&current), &PageError::Unavailable(status)),
    };
    match new_cookie {
        Some(cookie) => web::with_cookie(response, cookie),
        None => response,
    }
}

/// `POST /connexion`: signs in as the chosen profile, under a new session id.
pub async fn sign_in(
    State(console): State<Arc<Console>>,
    headers: HeaderMap,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let SignIn::Dev(tokens) = &console.sign_in else {
        // With OIDC, no profile can be chosen.
        return super::not_found(State(console.clone()), headers).await;
    };
    let fields = form.map(|Form(fields)| fields).unwrap_or_default();
    let old = match checked_form(&console, &headers, fields.get("csrf").map(String::as_str)) {
        Ok(session) => session,
        Err(error) => return error_page(&console, session(&console, &headers).as_ref(), &error),
    };
    let chosen = fields.get("profile").map(String::as_str).unwrap_or_default();
    // The list is read again: only a profile that exists now can be chosen.
    let all = match profiles::list(&mut console.services.dev_identity()).await {
        Ok(all) => all,
        Err(status) => return error_page(&console, Some(&old), &PageError::Unavailable(status)),
    };
    let Some(profile) = all.into_iter().find(|p| p.id == chosen) else {
        return error_page(&console, Some(&old), &PageError::NotFound);
    };
    let token = tokens.issue(&profile.subject, &profile.roles, &profile.groups, SIGNED_IN_TTL);
    let person = SignedIn {
        token,
        label: profile.label.clone(),
        networks: crate::reach::networks_of(&profile.groups),
        facilitator_id: profile.id.strip_prefix("facilitator:").map(str::to_owned),
        home: crate::reach::home_of(&profile.roles, &profile.groups),
    };
    // A new id on sign-in: an id planted before cannot ride the session.
    console.sessions.remove(&old.id);
    match console.sessions.create(Some(person), Instant::now()) {
        Ok(session) => {
            tracing::info!(profile = %profile.id, "console sign-in");
            // The language chosen before signing in stays.
            console.sessions.set_lang(&session.id, old.lang);
            console.sessions.set_flash(
                &session.id,
                format!(
                    "{} {}.",
                    old.lang.pick("Vous êtes connecté·e :", "You are signed in:"),
                    profile.label
                ),
            );
            web::with_cookie(
                web::see_other("/"),
                web::set_cookie(&session.id, console.secure_cookies),
            )
        }
        Err(error) => error_page(&console, None, &error.into()),
    }
}

/// `POST /deconnexion`: ends the session; with OIDC, then at the issuer
/// (RP-initiated logout).
pub async fn sign_out(
    State(console): State<Arc<Console>>,
    headers: HeaderMap,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let fields = form.map(|Form(fields)| fields).unwrap_or_default();
    match checked_form(&console, &headers, fields.get("csrf").map(String::as_str)) {
        Ok(session) => {
            let id_token = console.sessions.end(&session.id);
            let next = match &console.sign_in {
                SignIn::Oidc(rp) => super::oidc_signin::after_logout(rp, id_token.as_deref()),
                SignIn::Dev(_) => web::see_other("/connexion"),
            };
            web::with_cookie(next, web::clear_cookie(console.secure_cookies))
        }
        Err(error) => error_page(&console, session(&console, &headers).as_ref(), &error),
    }
}
