//! The Vigie web console: server-rendered French pages for the people Vigie
//! serves (docs/console.md).
//!
//! It is a *client* of the services: every page calls their gRPC APIs with
//! the signed-in person's own access token, so authorisation stays in one
//! place, the services. It keeps sessions ([`session`]), never business data.
//! Pages are plain HTML forms (no script at all), templates compiled into the
//! binary with auto-escaping (askama), one self-hosted stylesheet, and strict
//! security headers on every answer ([`web`]).

pub mod cra;
pub mod dates;
pub mod error;
pub mod labels;
pub mod lang;
pub mod money;
pub mod oidc;
mod pages;
pub mod profiles;
pub mod reach;
pub mod services;
pub mod session;
pub mod web;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use oidc::{OidcSettings, RelyingParty};
pub use profiles::TokenSource;
pub use services::{Channels, Services};
use session::Sessions;

/// Everything the console's handlers share.
pub struct Console {
    services: Services,
    sessions: Sessions,
    sign_in: SignIn,
    secure_cookies: bool,
}

/// How people sign in: never both (with OIDC the dev list is never served).
enum SignIn {
    /// `vigie dev`: a list of demo profiles, tokens signed by the process.
    Dev(Arc<dyn TokenSource>),
    /// `vigie serve console`: OIDC authorization code with PKCE.
    Oidc(Arc<RelyingParty>),
}

impl Console {
    /// A console calling `services`, signing demo profiles in with `tokens`.
    /// Cookies are `Secure` unless the console listens on loopback
    /// (`listen`): a browser on the same machine reaches it over plain HTTP.
    pub fn new(services: Services, tokens: Arc<dyn TokenSource>, listen: SocketAddr) -> Arc<Self> {
        Arc::new(Console {
            services,
            sessions: Sessions::default(),
            sign_in: SignIn::Dev(tokens),
            secure_cookies: !listen.ip().is_loopback(),
        })
    }

    /// A console signing people in with OIDC (`oidc`). Cookies are `Secure`
    /// unless it listens on loopback behind a plain-HTTP public URL (a
    /// browser on the same machine); an `https` public URL always gets them.
    pub fn with_oidc(services: Services, oidc: RelyingParty, listen: SocketAddr) -> Arc<Self> {
        let https = oidc.settings().public_url.starts_with("https://");
        Arc::new(Console {
            services,
            sessions: Sessions::default(),
            sign_in: SignIn::Oidc(Arc::new(oidc)),
            secure_cookies: secure_cookies(listen, https),
        })
    }
}

/// Whether session cookies get `Secure`: always off loopback, and always
/// behind an `https` public URL.
pub fn secure_cookies(listen: SocketAddr, https_public_url: bool) -> bool {
    https_public_url || !listen.ip().is_loopback()
}

/// The console's routes, with the security headers on every answer.
pub fn router(console: Arc<Console>) -> Router {
    let routes = pages::routes().layer(axum::middleware::map_response(web::security_headers));
    // The sign-out form's answer redirects to the issuer's end-session
    // endpoint: browsers check `form-action` along a form's redirects, so
    // that origin (only) joins it.
    let logout_origin = match &console.sign_in {
        SignIn::Oidc(rp) => rp.logout_origin(),
        SignIn::Dev(_) => None,
    };
    let routes = match logout_origin.and_then(|origin| web::csp_with_form_target(&origin)) {
        Some(csp) => routes.layer(axum::middleware::map_response(
            move |mut response: axum::response::Response| {
                let csp = csp.clone();
                async move {
                    response
                        .headers_mut()
                        .insert(axum::http::header::CONTENT_SECURITY_POLICY, csp);
                    response
                }
            },
        )),
        None => routes,
    };
    routes.with_state(console)
}

/// Serves the console on `listener` until `stop` is cancelled.
///
/// # Errors
/// The listener failed.
pub async fn serve(listener: TcpListener, console: Arc<Console>, stop: CancellationToken) -> std::io::Result<()> {
    axum::serve(listener, router(console))
        .with_graceful_shutdown(async move { stop.cancelled().await })
        .await
}

#[cfg(test)]
mod tests {
    #[test]
    fn cookies_are_secure_off_loopback_or_behind_https() {
        let local = "127.0.0.1:8080".parse().unwrap();
        let public = "0.0.0.0:8080".parse().unwrap();
        assert!(!super::secure_cookies(local, false));
        assert!(super::secure_cookies(local, true));
        assert!(super::secure_cookies(public, false));
        assert!(super::secure_cookies("[::]:8080".parse().unwrap(), false));
    }
}
