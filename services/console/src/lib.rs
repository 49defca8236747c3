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

pub use profiles::TokenSource;
pub use services::Services;
use session::Sessions;

/// Everything the console's handlers share.
pub struct Console {
    services: Services,
    sessions: Sessions,
    tokens: Arc<dyn TokenSource>,
    secure_cookies: bool,
}

impl Console {
    /// A console calling `services`, signing demo profiles in with `tokens`.
    /// Cookies are `Secure` unless the console listens on loopback
    /// (`listen`): a browser on the same machine reaches it over plain HTTP.
    pub fn new(services: Services, tokens: Arc<dyn TokenSource>, listen: SocketAddr) -> Arc<Self> {
        Arc::new(Console {
            services,
            sessions: Sessions::default(),
            tokens,
            secure_cookies: !listen.ip().is_loopback(),
        })
    }
}

/// The console's routes, with the security headers on every answer.
pub fn router(console: Arc<Console>) -> Router {
    pages::routes()
        .layer(axum::middleware::map_response(web::security_headers))
        .with_state(console)
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
