//! The alerting service's public HTTP endpoints. Every one is reached through
//! a signed token that only Vigie can produce (a secret URL), so none needs an
//! account; nothing else is served:
//!
//! - `GET /calendar/<token>.ics`: the iCalendar feed of a structure or network;
//! - `GET /ack/<token>` shows what the link does, `POST /ack/<token>` records it
//!   (mail scanners follow links with GET: a GET changes nothing): a call's
//!   status, or a reporting duty's « envoyé »;
//! - `GET|POST /unsubscribe/<token>`: stop emails (RFC 8058 one-click with POST);
//! - `GET /healthz`.
//!
//! Every page carries a `Content-Security-Policy` that allows nothing but its
//! inline style and forbids framing; connections are bounded in time and
//! number ([`HttpLimits`], module `limits`).

mod limits;

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use limits::HttpLimits;
use vigie_platform::http_listener::{self, HttpBounds};

use crate::app::AlertingApp;
use crate::error::AlertingError;

/// Largest request body read (a one-click unsubscribe is a few bytes).
const MAX_BODY: usize = 4096;
/// Largest buffer of a connection (request line and headers).
const MAX_BUF: usize = 16 * 1024;

/// What the pages may load: nothing but their inline style; no framing
/// (clickjacking of the confirmation buttons); forms post back to Vigie only.
const CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

/// Serves the endpoints on `listener` until `shutdown`, with the default [`HttpLimits`].
pub async fn serve(listener: TcpListener, app: AlertingApp, shutdown: CancellationToken) {
    serve_with(listener, app, HttpLimits::default(), shutdown).await;
}

/// Serves the endpoints on `listener` until `shutdown`, within `limits`.
///
/// A connection slot is taken before each accept: at the cap, new clients
/// wait in the kernel's accept queue and are served as soon as another
/// connection ends (a timeout closes idle or stalled ones). An accept error
/// pauses the loop with a growing delay and is logged once per burst: the
/// listener every plain HTTP endpoint shares ([`vigie_platform::http_listener`]).
pub async fn serve_with(listener: TcpListener, app: AlertingApp, limits: HttpLimits, shutdown: CancellationToken) {
    let bounds = HttpBounds {
        header_read_timeout: limits.header_read_timeout,
        max_connection_age: limits.max_connection_age,
        max_connections: limits.max_connections,
        max_buf: MAX_BUF,
    };
    http_listener::serve(listener, "alerting http", bounds, shutdown, move || {
        let app = app.clone();
        service_fn(move |request: Request<hyper::body::Incoming>| {
            let app = app.clone();
            async move {
                let (parts, body) = request.into_parts();
                let read = tokio::time::timeout(
                    limits.body_timeout,
                    http_body_util::Limited::new(body, MAX_BODY).collect(),
                );
                let body = match read.await {
                    Ok(Ok(body)) => body.to_bytes(),
                    Ok(Err(_)) => {
                        return Ok::<_, Infallible>(page(StatusCode::PAYLOAD_TOO_LARGE, "Requête trop grande", ""))
                    }
                    Err(_) => return Ok(page(StatusCode::REQUEST_TIMEOUT, "Requête trop lente", "")),
                };
                Ok::<_, Infallible>(answer(&app, &parts.method, parts.uri.path(), &body).await)
            }
        })
    })
    .await;
}

/// Binds the HTTP listener.
///
/// # Errors
/// The address cannot be bound.
pub async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr).await
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn page(status: StatusCode, title: &str, body_html: &str) -> Response<Full<Bytes>> {
    let html = format!(
        "<!doctype html><html lang=\"fr\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" \
         content=\"width=device-width\"><title>{t} — Vigie</title></head><body style=\"font-family:sans-serif;\
         max-width:36em;margin:2em auto;padding:0 1em\"><h1>{t}</h1>{body_html}</body></html>",
        t = escape(title)
    );
    Response::builder()
        .status(status)
        .header("content-type", "text/html; charset=utf-8")
        .header("cache-control", "no-store")
        .header("content-security-policy", CONTENT_SECURITY_POLICY)
        .header("x-content-type-options", "nosniff")
        .header("x-frame-options", "DENY")
        .header("referrer-policy", "no-referrer")
        .body(Full::new(Bytes::from(html)))
        .unwrap_or_default()
}

fn not_found() -> Response<Full<Bytes>> {
    page(
        StatusCode::NOT_FOUND,
        "Lien inconnu",
        "<p>Ce lien n'est pas (ou plus) valide. Demandez-en un nouveau à votre fédération.</p>",
    )
}

fn failure(error: &AlertingError) -> Response<Full<Bytes>> {
    match error {
        AlertingError::NotFound(_) => not_found(),
        _ => {
            tracing::error!(%error, "alerting http request failed");
            page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Service momentanément indisponible",
                "<p>Réessayez dans quelques minutes.</p>",
            )
        }
    }
}

async fn answer(app: &AlertingApp, method: &Method, path: &str, _body: &Bytes) -> Response<Full<Bytes>> {
    let segments: Vec<&str> = path.trim_start_matches('/').splitn(2, '/').collect();
    match (method, segments.as_slice()) {
        (&Method::GET, ["healthz"]) => Response::new(Full::new(Bytes::from_static(b"ok"))),
        (&Method::GET, ["calendar", file]) => {
            let Some(token) = file.strip_suffix(".ics") else {
                return not_found();
            };
            match app.calendar(token).await {
                Ok(ics) => Response::builder()
                    .header("content-type", "text/calendar; charset=utf-8")
                    .header("cache-control", "private, max-age=3600")
                    .header("x-content-type-options", "nosniff")
                    .header("referrer-policy", "no-referrer")
                    .body(Full::new(Bytes::from(ics)))
                    .unwrap_or_default(),
                Err(error) => failure(&error),
            }
        }
        // A reporting duty's « envoyé » (issue 16): same page, same button.
        (&Method::GET, ["ack", token]) if app.links().verify_duty_sent(token).is_ok() => page(
            StatusCode::OK,
            "Confirmer : « envoyé »",
            "<p>Le compte rendu a été envoyé au financeur ? Vigie ne vous rappellera plus cette obligation \
             pour votre structure.</p><form method=\"post\"><button type=\"submit\" \
             style=\"font-size:1.2em;padding:.5em 1em\">Confirmer « envoyé »</button></form>",
        ),
        (&Method::POST, ["ack", token]) if app.links().verify_duty_sent(token).is_ok() => {
            match app.links().verify_duty_sent(token) {
                Ok(claim) => match app
                    .acknowledge_obligation(&claim.structure_id, &claim.obligation_key, "sent", "link")
                    .await
                {
                    Ok(_) => page(
                        StatusCode::OK,
                        "C'est noté, merci",
                        "<p>Réponse enregistrée : « envoyé ». Plus aucun rappel pour cette obligation.</p>",
                    ),
                    Err(error) => failure(&error),
                },
                Err(_) => not_found(),
            }
        }
        (&Method::GET, ["ack", token]) => match app.links().verify_ack(token) {
            Ok(claim) => page(
                StatusCode::OK,
                &format!("Confirmer : « {} »", claim.action.label()),
                &format!(
                    "<p>Vigie ne vous rappellera plus cet appel à projets pour votre structure.</p>\
                     <form method=\"post\"><button type=\"submit\" style=\"font-size:1.2em;padding:.5em 1em\">\
                     Confirmer « {} »</button></form>",
                    escape(claim.action.label())
                ),
            ),
            Err(_) => not_found(),
        },
        (&Method::POST, ["ack", token]) => match app.links().verify_ack(token) {
            Ok(claim) => match app
                .acknowledge(&claim.structure_id, &claim.call_id, claim.action, "link")
                .await
            {
                Ok(()) => page(
                    StatusCode::OK,
                    "C'est noté, merci",
                    &format!(
                        "<p>Réponse enregistrée : « {} ». Plus aucun rappel pour cet appel.</p>",
                        escape(claim.action.label())
                    ),
                ),
                Err(error) => failure(&error),
            },
            Err(_) => not_found(),
        },
        (&Method::GET, ["unsubscribe", token]) => match app.links().verify_unsubscribe(token) {
            Ok(_) => page(
                StatusCode::OK,
                "Ne plus recevoir ces rappels",
                "<form method=\"post\"><button type=\"submit\" style=\"font-size:1.2em;padding:.5em 1em\">\
                 Me désabonner</button></form>",
            ),
            Err(_) => not_found(),
        },
        (&Method::POST, ["unsubscribe", token]) => match app.links().verify_unsubscribe(token) {
            Ok(recipient) => match app.unsubscribe(&recipient).await {
                Ok(()) => page(
                    StatusCode::OK,
                    "Désabonnement enregistré",
                    "<p>Vous ne recevrez plus de rappels par courriel. Votre fédération peut vous réabonner.</p>",
                ),
                Err(error) => failure(&error),
            },
            Err(_) => not_found(),
        },
        _ => not_found(),
    }
}
