//! Fetching the discovery document and the JWKS: HTTPS (rustls with the
//! `ring` provider and the Mozilla roots of `webpki-roots`), or plain HTTP
//! to a loopback issuer (tests, a Keycloak on the same host) or when
//! explicitly allowed.

use std::time::Duration;

use crate::net::is_loopback_host as is_loopback;
use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;

/// The largest discovery document or JWKS accepted.
const MAX_BODY: usize = 1024 * 1024;

/// A failed fetch (the cause is logged, never sent to clients).
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The URL is not an absolute `https` URL (or `http` to loopback, unless allowed).
    #[error("URL refusée : {0}")]
    Url(String),
    /// The TLS client could not be set up.
    #[error("TLS : {0}")]
    Tls(#[from] rustls::Error),
    /// The connection or the request failed.
    #[error("requête vers {url} : {cause}")]
    Request {
        /// The URL fetched.
        url: String,
        /// The cause.
        cause: String,
    },
    /// The server answered with another status than 200.
    #[error("{url} a répondu {status}")]
    Status {
        /// The URL fetched.
        url: String,
        /// The HTTP status.
        status: http::StatusCode,
    },
    /// No answer in time.
    #[error("{url} n'a pas répondu à temps")]
    Timeout {
        /// The URL fetched.
        url: String,
    },
}

#[derive(Clone)]
pub(crate) struct Fetcher {
    client: Client<HttpsConnector<HttpConnector>, Empty<Bytes>>,
    timeout: Duration,
    allow_http: bool,
}

impl Fetcher {
    pub(crate) fn new(timeout: Duration, allow_http: bool) -> Result<Self, FetchError> {
        let client = crate::https::https_client()?;
        Ok(Fetcher {
            client,
            timeout,
            allow_http,
        })
    }

    /// Checks that `url` may be fetched and parses it.
    pub(crate) fn check_url(&self, url: &str) -> Result<http::Uri, FetchError> {
        check_url(url, self.allow_http)
    }

    /// GETs `url`, expecting 200 and at most 1 MiB.
    pub(crate) async fn get(&self, url: &str) -> Result<Bytes, FetchError> {
        let uri = self.check_url(url)?;
        let request = http::Request::get(uri)
            .header(http::header::ACCEPT, "application/json")
            .body(Empty::new())
            .map_err(|error| FetchError::Url(format!("{url}: {error}")))?;
        let failed = |cause: String| FetchError::Request {
            url: url.to_owned(),
            cause,
        };
        let exchange = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|error| failed(error.to_string()))?;
            if response.status() != http::StatusCode::OK {
                return Err(FetchError::Status {
                    url: url.to_owned(),
                    status: response.status(),
                });
            }
            let body = Limited::new(response.into_body(), MAX_BODY)
                .collect()
                .await
                .map_err(|error| failed(error.to_string()))?;
            Ok(body.to_bytes())
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| FetchError::Timeout { url: url.to_owned() })?
    }
}

/// A POST of an `application/x-www-form-urlencoded` body (OAuth 2.0 token
/// and device authorization endpoints) or a GET, for clients such as
/// `vigie login`: same URL rule as the validator (https, or http to loopback).
/// Any status is returned with its body (OAuth errors come as 400 + JSON).
///
/// # Errors
/// When the URL is refused, or the exchange fails or times out.
pub async fn exchange(
    url: &str,
    form: Option<&[(&str, &str)]>,
    timeout: Duration,
) -> Result<(http::StatusCode, Bytes), FetchError> {
    let uri = check_url(url, false)?;
    let client = crate::https::https_client::<Full<Bytes>>()?;
    let builder = http::Request::builder()
        .uri(uri)
        .header(http::header::ACCEPT, "application/json");
    let request = match form {
        Some(form) => builder
            .method(http::Method::POST)
            .header(http::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Full::new(Bytes::from(form_urlencoded(form)))),
        None => builder.method(http::Method::GET).body(Full::new(Bytes::new())),
    }
    .map_err(|error| FetchError::Url(format!("{url}: {error}")))?;
    let failed = |cause: String| FetchError::Request {
        url: url.to_owned(),
        cause,
    };
    let exchange = async {
        let response = client
            .request(request)
            .await
            .map_err(|error| failed(error.to_string()))?;
        let status = response.status();
        let body = Limited::new(response.into_body(), MAX_BODY)
            .collect()
            .await
            .map_err(|error| failed(error.to_string()))?;
        Ok((status, body.to_bytes()))
    };
    tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| FetchError::Timeout { url: url.to_owned() })?
}

/// `application/x-www-form-urlencoded` encoding of `pairs`.
pub fn form_urlencoded(pairs: &[(&str, &str)]) -> String {
    fn encode(text: &str, out: &mut String) {
        for byte in text.bytes() {
            match byte {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => out.push(char::from(byte)),
                b' ' => out.push('+'),
                _ => out.push_str(&format!("%{byte:02X}")),
            }
        }
    }
    let mut out = String::new();
    for (index, (name, value)) in pairs.iter().enumerate() {
        if index > 0 {
            out.push('&');
        }
        encode(name, &mut out);
        out.push('=');
        encode(value, &mut out);
    }
    out
}

pub(crate) fn check_url(url: &str, allow_http: bool) -> Result<http::Uri, FetchError> {
    let uri: http::Uri = url.parse().map_err(|_| FetchError::Url(url.to_owned()))?;
    let host = uri.host().ok_or_else(|| FetchError::Url(url.to_owned()))?;
    match uri.scheme_str() {
        Some("https") => Ok(uri),
        Some("http") if allow_http || is_loopback(host) => Ok(uri),
        Some("http") => Err(FetchError::Url(format!(
            "{url} (http n'est accepté que vers la boucle locale ; utilisez https)"
        ))),
        _ => Err(FetchError::Url(url.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_to_loopback_unless_allowed() {
        assert!(check_url("https://sso.example.org/realms/vigie", false).is_ok());
        assert!(check_url("http://127.0.0.1:8080/realms/vigie", false).is_ok());
        assert!(check_url("http://[::1]:8080/realms/vigie", false).is_ok());
        assert!(check_url("http://localhost:8080/realms/vigie", false).is_ok());
        assert!(check_url("http://sso.example.org/realms/vigie", false).is_err());
        assert!(check_url("http://sso.example.org/realms/vigie", true).is_ok());
        assert!(check_url("ftp://sso.example.org/", true).is_err());
        assert!(check_url("/realms/vigie", true).is_err());
    }

    #[test]
    fn forms_are_urlencoded() {
        assert_eq!(
            form_urlencoded(&[
                ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
                ("a b", "é&=")
            ]),
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code&a+b=%C3%A9%26%3D"
        );
    }
}
