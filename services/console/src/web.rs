//! HTTP details shared by every page: the security headers, the session
//! cookie, redirects and HTML answers.

use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, COOKIE, LOCATION, REFERRER_POLICY, SET_COOKIE,
    X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// The session cookie's name.
pub const COOKIE_NAME: &str = "vigie_session";

/// No script at all (every action is a form); styles and images only from
/// the console; forms only to the console; never framed.
pub const CSP: &str =
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// [`CSP`] whose `form-action` also allows `origin` (`https://host[:port]`,
/// the OIDC issuer's, where the sign-out form's answer redirects); `None`
/// for an origin that is not one (never widened by accident).
pub fn csp_with_form_target(origin: &str) -> Option<HeaderValue> {
    let uri: http::Uri = origin.parse().ok()?;
    let valid = matches!(uri.scheme_str(), Some("https" | "http"))
        && uri.host().is_some()
        && uri
            .path_and_query()
            .is_none_or(|p| p.as_str().is_empty() || p.as_str() == "/")
        && !origin.contains([' ', ';', ',', '\'', '"']);
    if !valid {
        return None;
    }
    let origin = origin.trim_end_matches('/');
    HeaderValue::from_str(&CSP.replace("form-action 'self'", &format!("form-action 'self' {origin}"))).ok()
}

/// Adds the security headers to every answer; pages are personal, so
/// nothing is cached except the stylesheet (which says so itself).
pub async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    // For browsers without frame-ancestors.
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !headers.contains_key(CACHE_CONTROL) {
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// The session id the browser sent, if any.
pub fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, value)| value)
}

/// `Set-Cookie` for a session id: HttpOnly (no script reads it), SameSite=Lax
/// (not sent on cross-site POSTs), `Secure` outside loopback.
pub fn set_cookie(id: &str, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!("{COOKIE_NAME}={id}; Path=/; HttpOnly; SameSite=Lax{secure}"))
        // The id is URL-safe base64: always a valid header value.
        .unwrap_or_else(|_| HeaderValue::from_static("vigie_session=; Path=/; Max-Age=0"))
}

/// `Set-Cookie` that makes the browser forget the session.
pub fn clear_cookie(secure: bool) -> HeaderValue {
    if secure {
        HeaderValue::from_static("vigie_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax; Secure")
    } else {
        HeaderValue::from_static("vigie_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax")
    }
}

/// An HTML page.
pub fn html(status: StatusCode, body: String) -> Response {
    (
        status,
        [(CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"))],
        body,
    )
        .into_response()
}

/// `303 See Other` to a path of the console (after a form, or to sign in).
pub fn see_other(path: &str) -> Response {
    let location = HeaderValue::from_str(path).unwrap_or_else(|_| HeaderValue::from_static("/"));
    (StatusCode::SEE_OTHER, [(LOCATION, location)]).into_response()
}

/// Adds a `Set-Cookie` to an answer.
pub fn with_cookie(mut response: Response, cookie: HeaderValue) -> Response {
    response.headers_mut().append(SET_COOKIE, cookie);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, HeaderValue::from_static("a=1; vigie_session=abc_-1; b=2"));
        assert_eq!(session_cookie(&headers), Some("abc_-1"));
        headers.insert(COOKIE, HeaderValue::from_static("vigie_sessionx=1"));
        assert_eq!(session_cookie(&headers), None);
        assert_eq!(session_cookie(&HeaderMap::new()), None);
    }

    #[test]
    fn cookies_are_http_only_lax_and_secure_off_loopback() {
        let local = set_cookie("id", false);
        assert_eq!(local, "vigie_session=id; Path=/; HttpOnly; SameSite=Lax");
        let remote = set_cookie("id", true);
        assert_eq!(remote, "vigie_session=id; Path=/; HttpOnly; SameSite=Lax; Secure");
        assert!(clear_cookie(true).to_str().unwrap().contains("Max-Age=0"));
    }

    #[test]
    fn the_issuer_origin_joins_form_action_only() {
        let csp = csp_with_form_target("https://sso.example.org:8443").unwrap();
        assert_eq!(
            csp,
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self' https://sso.example.org:8443; frame-ancestors 'none'; base-uri 'none'"
        );
        assert!(csp_with_form_target("https://sso.example.org/realms/vigie").is_none());
        assert!(csp_with_form_target("https://a.example; script-src *").is_none());
        assert!(csp_with_form_target("javascript:alert(1)").is_none());
    }

    #[tokio::test]
    async fn every_answer_gets_the_security_headers() {
        let response = security_headers(see_other("/connexion")).await;
        let headers = response.headers();
        assert_eq!(headers[CONTENT_SECURITY_POLICY], CSP);
        assert_eq!(headers[CACHE_CONTROL], "no-store");
        assert_eq!(headers[X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(headers[REFERRER_POLICY], "same-origin");
        let cached = (
            [(CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"))],
            "css",
        )
            .into_response();
        let cached = security_headers(cached).await;
        assert_eq!(cached.headers()[CACHE_CONTROL], "public, max-age=3600");
    }
}
