//! The console's pages: one module per page, this one for what they share
//! (the layout every template extends, the session of a request, the error
//! pages).

mod assets;
mod facilitation;
mod federation;
mod forms;
mod grants;
mod grants_import;
mod holdings;
mod home;
mod import;
mod import_check;
mod intervention;
mod inventory_download;
mod language;
mod network;
mod network_view;
mod oidc_signin;
mod signin;
mod structure;
mod training;
mod upload;
mod views;

use std::sync::Arc;
use std::time::Instant;

use askama::Template;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::error::PageError;
use crate::lang::Lang;
use crate::session::{csrf_matches, Session, SignedIn};
use crate::web;
use crate::Console;

/// The routes of the console (state: the [`Console`]).
pub fn routes() -> Router<Arc<Console>> {
    Router::new()
        .route("/", get(home::page))
        .route("/connexion", get(signin::page).post(signin::sign_in))
        .route("/connexion/retour", get(oidc_signin::callback))
        .route("/deconnexion", get(oidc_signin::signed_out).post(signin::sign_out))
        .route("/langue", post(language::switch))
        .route("/reseaux/{network}", get(network::page))
        .route("/reseaux/{network}/rappels", post(network::set_policy))
        .route("/federation", get(federation::page))
        .route("/structures/{id}", get(structure::page))
        .route("/structures/{id}/echeances", post(structure::acknowledge))
        .route("/structures/{id}/aide", post(structure::ask_for_help))
        .route("/structures/{id}/niveaux", post(holdings::set_level))
        .route(
            "/structures/{id}/subventions/candidature",
            post(grants::record_application),
        )
        .route("/structures/{id}/subventions/decision", post(grants::record_decision))
        .route("/structures/{id}/subventions/envoye", post(grants::mark_sent))
        .route(crate::reach::FACILITATION, get(facilitation::page))
        .route("/accompagnement/reponse", post(facilitation::respond))
        .route(
            "/accompagnement/demandes/{id}",
            get(intervention::page).post(intervention::record),
        )
        .route(crate::reach::TRAINING, get(training::page))
        .route("/formations/inscriptions", post(training::act))
        .route(
            "/reseaux/{network}/import",
            get(upload::page::<import::InventoryImport>)
                .post(upload::post::<import::InventoryImport>)
                .layer(axum::extract::DefaultBodyLimit::max(upload::DRAIN_BYTES)),
        )
        .route(
            "/reseaux/{network}/subventions/import",
            get(upload::page::<grants_import::GrantsImport>)
                .post(upload::post::<grants_import::GrantsImport>)
                .layer(axum::extract::DefaultBodyLimit::max(upload::DRAIN_BYTES)),
        )
        .route(
            "/reseaux/{network}/subventions/modele.xlsx",
            get(grants_import::template),
        )
        .route("/reseaux/{network}/modele.xlsx", get(inventory_download::template))
        .route("/reseaux/{network}/inventaire.xlsx", get(inventory_download::export))
        .route("/static/console.css", get(assets::stylesheet))
        .fallback(not_found)
}

/// What the layout (`base.html`) shows on every page.
pub struct Layout {
    /// The page's title (before « — Vigie »).
    pub title: String,
    /// Who is signed in (the sign-out button shows with it).
    pub who: Option<String>,
    /// The session's CSRF token, for the page's forms.
    pub csrf: String,
    /// The message left by the previous action.
    pub flash: Option<String>,
    /// The language of the page (the session's).
    pub lang: Lang,
}

impl Layout {
    /// The layout of a page of `session`; takes its pending message.
    fn new(console: &Console, title: impl Into<String>, session: Option<&Session>) -> Self {
        Layout {
            title: title.into(),
            who: session.and_then(|s| s.signed_in.as_ref()).map(|p| p.label.clone()),
            csrf: session.map(|s| s.csrf.clone()).unwrap_or_default(),
            flash: session.and_then(|s| console.sessions.take_flash(&s.id)),
            lang: session.map(|s| s.lang).unwrap_or_default(),
        }
    }
}

/// The session of a request, if its cookie names a live one.
fn session(console: &Console, headers: &HeaderMap) -> Option<Session> {
    web::session_cookie(headers).and_then(|id| console.sessions.get(id, Instant::now()))
}

/// The signed-in session of a request, or [`PageError::SignedOut`].
fn signed_in(console: &Console, headers: &HeaderMap) -> Result<(Session, SignedIn), PageError> {
    let session = session(console, headers).ok_or(PageError::SignedOut)?;
    let person = session.signed_in.clone().ok_or(PageError::SignedOut)?;
    Ok((session, person))
}

/// The session of a form, whose CSRF token must be the session's.
fn checked_form(console: &Console, headers: &HeaderMap, csrf: Option<&str>) -> Result<Session, PageError> {
    let session = session(console, headers).ok_or(PageError::Csrf)?;
    match csrf {
        Some(given) if csrf_matches(&session, given) => Ok(session),
        _ => Err(PageError::Csrf),
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    layout: Layout,
    heading: &'static str,
    message: &'static str,
}

/// The page of an error, for a request of `session`.
fn error_page(console: &Console, session: Option<&Session>, error: &PageError) -> Response {
    let lang = session.map(|s| s.lang).unwrap_or_default();
    let (heading, message) = match error {
        PageError::SignedOut => {
            // The session is gone or its token was refused: sign in again.
            if let Some(session) = session {
                console.sessions.remove(&session.id);
            }
            return web::with_cookie(web::see_other("/connexion"), web::clear_cookie(console.secure_cookies));
        }
        PageError::NotFound => (
            lang.pick("Page introuvable", "Page not found"),
            lang.pick(
                "Cette page n'existe pas, ou elle n'est pas accessible avec votre profil.",
                "This page does not exist, or your profile cannot see it.",
            ),
        ),
        PageError::Csrf => (
            lang.pick("Formulaire refusé", "Form refused"),
            lang.pick(
                "Ce formulaire a expiré ou ne vient pas de cette console. Revenez à la page, puis recommencez : rien n'a été modifié.",
                "This form has expired or does not come from this console. Go back to the page and try again: nothing was changed.",
            ),
        ),
        PageError::Unavailable(status) => {
            tracing::warn!(code = ?status.code(), message = status.message(), "a service failed a console page");
            (
                lang.pick("Service indisponible", "Service unavailable"),
                lang.pick(
                    "Un service de Vigie ne répond pas pour l'instant. Réessayez dans un moment.",
                    "A Vigie service is not answering right now. Try again in a moment.",
                ),
            )
        }
        PageError::Internal(cause) => {
            tracing::error!(cause = %cause, "console page failed");
            (
                lang.pick("Erreur interne", "Internal error"),
                lang.pick(
                    "La console a rencontré une erreur. Réessayez dans un moment.",
                    "The console ran into an error. Try again in a moment.",
                ),
            )
        }
    };
    let page = ErrorPage {
        layout: Layout::new(console, heading, session),
        heading,
        message,
    };
    match page.render() {
        Ok(body) => web::html(error.status(), body),
        Err(_) => (error.status(), heading).into_response(),
    }
}

/// A handler's response, or the page of its error (for the request's
/// session, if it has one).
fn or_error_page(console: &Console, headers: &HeaderMap, result: Result<Response, PageError>) -> Response {
    result.unwrap_or_else(|error| error_page(console, session(console, headers).as_ref(), &error))
}

/// Unknown paths.
async fn not_found(axum::extract::State(console): axum::extract::State<Arc<Console>>, headers: HeaderMap) -> Response {
    let session = session(&console, &headers);
    error_page(&console, session.as_ref(), &PageError::NotFound)
}

/// Renders a page, or the page of its error.
fn render(console: &Console, session: Option<&Session>, status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(body) => web::html(status, body),
        Err(error) => error_page(console, session, &PageError::from(error)),
    }
}
