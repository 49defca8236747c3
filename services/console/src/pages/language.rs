//! `POST /langue`: the language switch of every page's header. A form (not
//! a link) so that it carries the CSRF token like every other change; it
//! leads back to the page it was sent from.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::header::REFERER;
use axum::http::HeaderMap;
use axum::response::Response;

use super::{checked_form, error_page, session};
use crate::error::PageError;
use crate::lang::Lang;
use crate::{web, Console};

/// `POST /langue` (`lang=fr|en`).
pub async fn switch(
    State(console): State<Arc<Console>>,
    headers: HeaderMap,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let fields = form.map(|Form(fields)| fields).unwrap_or_default();
    let current = match checked_form(&console, &headers, fields.get("csrf").map(String::as_str)) {
        Ok(session) => session,
        Err(error) => return error_page(&console, session(&console, &headers).as_ref(), &error),
    };
    let Some(lang) = fields.get("lang").and_then(|code| Lang::from_code(code)) else {
        return error_page(&console, Some(&current), &PageError::NotFound);
    };
    console.sessions.set_lang(&current.id, lang);
    let back = headers.get(REFERER).and_then(|value| value.to_str().ok()).and_then(local_path);
    web::see_other(back.unwrap_or("/"))
}

/// The path and query of a `Referer` sent by this console's own pages, or
/// `None`: never a redirect to another site (`//host`, `/\host`, a scheme).
fn local_path(referer: &str) -> Option<&str> {
    // Same-origin pages send an absolute URL: keep what follows the host.
    let rest = referer.split_once("://").map_or(referer, |(_, rest)| rest);
    let path = &rest[rest.find('/')?..];
    let safe = path.starts_with('/')
        && !path.starts_with("//")
        && !path.starts_with("/\\")
        && !path.chars().any(|c| c.is_control());
    safe.then_some(path)
}

#[cfg(test)]
mod tests {
    use super::local_path;

    #[test]
    fn only_a_local_path_is_followed_back() {
        assert_eq!(local_path("http://127.0.0.1:8080/structures/S1?x=1"), Some("/structures/S1?x=1"));
        assert_eq!(local_path("http://127.0.0.1:8080"), None);
        assert_eq!(local_path("http://127.0.0.1:8080//evil.example/"), None);
        assert_eq!(local_path("http://127.0.0.1:8080/\\evil.example/"), None);
        assert_eq!(local_path("/reseaux/N1"), Some("/reseaux/N1"));
        assert_eq!(local_path("javascript:alert(1)"), None);
    }
}
