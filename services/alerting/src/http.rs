//! The alerting service's public HTTP endpoints. Every one is reached through
//! a signed token that only Vigie can produce (a secret URL), so none needs an
//! account; nothing else is served:
//!
//! - `GET /calendar/<token>.ics`: the iCalendar feed of a structure or network;
//! - `GET /ack/<token>` shows what the link does, `POST /ack/<token>` records it
//!   (mail scanners follow links with GET: a GET changes nothing);
//! - `GET|POST /unsubscribe/<token>`: stop emails (RFC 8058 one-click with POST);
//! - `GET /healthz`.

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::app::AlertingApp;
use crate::error::AlertingError;

/// Largest request body read (a one-click unsubscribe is a few bytes).
const MAX_BODY: usize = 4096;

/// Serves the endpoints on `listener` until `shutdown`.
pub async fn serve(listener: TcpListener, app: AlertingApp, shutdown: CancellationToken) {
    let mut connections = JoinSet::new();
    loop {
        let (stream, _) = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::warn!(%error, "alerting http: accept failed");
                    continue;
                }
            },
        };
        let app = app.clone();
        connections.spawn(async move {
            let service = service_fn(move |request: Request<hyper::body::Incoming>| {
                let app = app.clone();
                async move {
                    let (parts, body) = request.into_parts();
                    let body = match http_body_util::Limited::new(body, MAX_BODY).collect().await {
                        Ok(b) => b.to_bytes(),
                        Err(_) => {
                            return Ok::<_, Infallible>(page(StatusCode::PAYLOAD_TOO_LARGE, "Requête trop grande", ""))
                        }
                    };
                    Ok::<_, Infallible>(answer(&app, &parts.method, parts.uri.path(), &body).await)
                }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
        while connections.try_join_next().is_some() {}
    }
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
                    .body(Full::new(Bytes::from(ics)))
                    .unwrap_or_default(),
                Err(error) => failure(&error),
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
