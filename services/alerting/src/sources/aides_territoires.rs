//! The Aides-territoires API client: authentication by API key, then every
//! page of `GET /api/aids/` read with the pure parser of the domain.
//!
//! - `POST {base}/api/connexion/` with the header `X-AUTH-TOKEN: <key>` returns
//!   `{"token": "…"}`, a bearer token valid 24 h: it is cached for 23 h and
//!   asked again once when a page answers 401;
//! - `GET {base}/api/aids/?page=N&itemsPerPage=100` with `Authorization: Bearer
//!   <token>`, page after page while the envelope has a `next`;
//! - a connection failure, a timeout, a 429 or a 5xx is retried 3 times with a
//!   doubling backoff;
//! - a page that stays unreachable or is not an envelope is reported at
//!   `aides-territoires:page N`, and the next page is read when the `count`
//!   of an earlier page says there are more; a bad aid is reported at
//!   `aides-territoires:page N:item M (id X)` and the others are read.
//!
//! An aid met again on a later page (the pages shift when aids are published
//! during the fetch) is kept once, as first read.
//!
//! Only a refused API key (or a refused token after a fresh authentication)
//! and a base URL that cannot be used stop a fetch.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{header, Method, Request, StatusCode};
use http_body_util::{BodyExt as _, Full, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use serde::Deserialize;
use vigie_alerting_domain::call::{ImportProblem, Parsed, Severity};
use vigie_alerting_domain::connectors::aides_territoires::{parse_page, SOURCE};
use vigie_platform::net::is_loopback_host as is_loopback;
use vigie_platform::words::{words, Words};

/// How long a token is used (the API gives 24 h; renewed an hour early).
const TOKEN_LIFETIME: Duration = Duration::from_secs(23 * 3600);
/// The API's largest page.
pub const MAX_ITEMS_PER_PAGE: u32 = 100;
/// Largest response read (a page of 100 aids with their HTML descriptions).
const MAX_BODY: usize = 32 * 1024 * 1024;
/// Pages read at most in one fetch (a million aids): a guard against a `next` that never ends.
const MAX_PAGES: u32 = 10_000;

/// A fetch that could not be done at all.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The base URL is not an absolute `https` URL (or `http` to the loopback).
    #[error("URL de l'API Aides-territoires refusée : {0}")]
    Url(String),
    /// The TLS client could not be set up.
    #[error("client TLS : {0}")]
    Tls(String),
    /// The API key, or a token just obtained, was refused.
    #[error("Aides-territoires refuse l'authentification ({status}) : vérifiez la clé d'API")]
    Auth {
        /// The status answered.
        status: StatusCode,
    },
    /// No token could be obtained (connection, server error, unreadable answer).
    #[error("connexion à Aides-territoires impossible : {0}")]
    Unreachable(String),
}

/// What one fetch read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FetchOutcome {
    /// The calls read and every problem (unreachable or malformed pages, bad aids, unknown labels).
    pub parsed: Parsed,
    /// Pages requested (malformed or unreachable ones included).
    pub pages: u32,
}

#[derive(Deserialize)]
struct TokenAnswer {
    token: String,
}

#[derive(Debug, Clone)]
struct Token {
    value: String,
    obtained: Instant,
}

/// Why an exchange failed after its retries.
#[derive(Debug)]
enum Failure {
    /// No answer: connection refused or reset, timeout, body too large.
    Transport(Words),
    /// A 429 or 5xx answer, the last one.
    Status(StatusCode),
}

impl Failure {
    /// Why, in French and in English (a page's problem says it).
    fn words(&self) -> Words {
        match self {
            Failure::Transport(cause) => cause.clone(),
            Failure::Status(status) => words!("réponse {status}", "response {status}"),
        }
    }
}

/// In French, as the logs and [`SourceError`] read it.
impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.words().fr)
    }
}

/// A client of the Aides-territoires API.
pub struct AidesTerritoiresClient {
    base_url: String,
    api_key: String,
    query: String,
    items_per_page: u32,
    retries: u32,
    backoff: Duration,
    timeout: Duration,
    http: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    token: tokio::sync::Mutex<Option<Token>>,
}

impl std::fmt::Debug for AidesTerritoiresClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AidesTerritoiresClient")
            .field("base_url", &self.base_url)
            .field("query", &self.query)
            .field("items_per_page", &self.items_per_page)
            .finish_non_exhaustive()
    }
}

impl AidesTerritoiresClient {
    /// A client of the API at `base_url` (`https://aides-territoires.beta.gouv.fr`;
    /// plain `http` only to the loopback), authenticated by `api_key`. The
    /// aids' relative links are resolved against the same base.
    ///
    /// # Errors
    /// When the URL cannot be used or TLS cannot be set up.
    pub fn new(base_url: &str, api_key: &str) -> Result<Self, SourceError> {
        let base_url = base_url.trim().trim_end_matches('/').to_owned();
        check_url(&base_url)?;
        let http = vigie_platform::https::https_client().map_err(|error| SourceError::Tls(error.to_string()))?;
        Ok(AidesTerritoiresClient {
            base_url,
            api_key: api_key.to_owned(),
            query: String::new(),
            items_per_page: MAX_ITEMS_PER_PAGE,
            retries: 3,
            backoff: Duration::from_millis(500),
            timeout: Duration::from_secs(60),
            http,
            token: tokio::sync::Mutex::new(None),
        })
    }

    /// The first wait before a retry (doubled at each retry; default 500 ms).
    #[must_use]
    pub fn with_retry_backoff(mut self, first: Duration) -> Self {
        self.backoff = first;
        self
    }

    /// The bound on each exchange, body included (default 60 s).
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Aids per page, between 1 and [`MAX_ITEMS_PER_PAGE`] (default 100).
    #[must_use]
    pub fn with_items_per_page(mut self, items: u32) -> Self {
        self.items_per_page = items.clamp(1, MAX_ITEMS_PER_PAGE);
        self
    }

    /// Filters added to every page request, as a query string
    /// (`targeted_audiences=association&perimeter=…`).
    #[must_use]
    pub fn with_query(mut self, query: &str) -> Self {
        self.query = query.trim_start_matches(['?', '&']).to_owned();
        self
    }

    /// Reads every page. `progress(page, pages_total)` is called after each
    /// page, with the total once a page gave the `count`.
    ///
    /// # Errors
    /// When the API key is refused, or no token can be obtained.
    pub async fn fetch_all<F>(&self, mut progress: F) -> Result<FetchOutcome, SourceError>
    where
        F: FnMut(u32, Option<u32>),
    {
        let mut outcome = FetchOutcome::default();
        let mut total: Option<u32> = None;
        let mut seen: HashSet<String> = HashSet::new();
        let mut page = 1;
        loop {
            let position = format!("{SOURCE}:page {page}");
            outcome.pages += 1;
            let more = match self.get_page(page).await? {
                Ok(body) => match parse_page(&body, &position, &self.base_url) {
                    Ok(read) => {
                        if let Some(count) = read.count {
                            total = Some(pages_for(count, self.items_per_page));
                        }
                        for call in read.parsed.calls {
                            // An aid published while paging shifts the pages: one already read comes again.
                            if seen.insert(call.source_ref.clone()) {
                                outcome.parsed.calls.push(call);
                            } else {
                                tracing::debug!(id = %call.source_ref, page, "aide déjà lue sur une page précédente");
                            }
                        }
                        outcome.parsed.problems.extend(read.parsed.problems);
                        read.next.is_some()
                    }
                    Err(problem) => {
                        outcome.parsed.problems.push(problem);
                        total.is_some_and(|total| page < total)
                    }
                },
                Err(cause) => {
                    let Words { fr, en } = cause.words();
                    outcome.parsed.problems.push(ImportProblem {
                        position,
                        message: words!("page inaccessible : {fr}", "page unreachable: {en}"),
                        severity: Severity::Error,
                    });
                    total.is_some_and(|total| page < total)
                }
            };
            progress(page, total);
            if !more {
                break;
            }
            if page >= MAX_PAGES {
                outcome.parsed.problems.push(ImportProblem {
                    position: format!("{SOURCE}:page {page}"),
                    message: words!(
                        "lecture arrêtée après {MAX_PAGES} pages",
                        "reading stopped after {MAX_PAGES} pages"
                    ),
                    severity: Severity::Error,
                });
                break;
            }
            page += 1;
        }
        Ok(outcome)
    }

    /// One page's body, or why it could not be read; `Err` only when authentication fails.
    async fn get_page(&self, page: u32) -> Result<Result<Bytes, Failure>, SourceError> {
        let mut query = format!("page={page}&itemsPerPage={}", self.items_per_page);
        if !self.query.is_empty() {
            query.push('&');
            query.push_str(&self.query);
        }
        let url = format!("{}/api/aids/?{query}", self.base_url);
        let mut token = self.token(None).await?;
        let mut renewed = false;
        loop {
            let bearer = format!("Bearer {token}");
            let answer = self
                .exchange(Method::GET, &url, &[(header::AUTHORIZATION.as_str(), bearer.as_str())])
                .await;
            match answer {
                Ok((StatusCode::UNAUTHORIZED, _)) if !renewed => {
                    renewed = true;
                    token = self.token(Some(&token)).await?;
                }
                Ok((status @ (StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN), _)) => {
                    return Err(SourceError::Auth { status });
                }
                Ok((status, body)) if status.is_success() => return Ok(Ok(body)),
                Ok((status, _)) => return Ok(Err(Failure::Status(status))),
                Err(failure) => return Ok(Err(failure)),
            }
        }
    }

    /// The cached token, or a new one; `stale` is a token the API just refused.
    async fn token(&self, stale: Option<&str>) -> Result<String, SourceError> {
        let mut cached = self.token.lock().await;
        if let Some(token) = cached.as_ref() {
            let refused = stale.is_some_and(|stale| stale == token.value);
            if !refused && token.obtained.elapsed() < TOKEN_LIFETIME {
                return Ok(token.value.clone());
            }
        }
        *cached = None;
        let url = format!("{}/api/connexion/", self.base_url);
        let (status, body) = self
            .exchange(Method::POST, &url, &[("x-auth-token", self.api_key.as_str())])
            .await
            .map_err(|failure| SourceError::Unreachable(failure.to_string()))?;
        if matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) {
            return Err(SourceError::Auth { status });
        }
        if !status.is_success() {
            return Err(SourceError::Unreachable(format!("{url} a répondu {status}")));
        }
        let answer: TokenAnswer = serde_json::from_slice(&body)
            .map_err(|_| SourceError::Unreachable(format!("{url} n'a pas rendu de jeton {{\"token\": …}}")))?;
        if answer.token.trim().is_empty() {
            return Err(SourceError::Unreachable(format!("{url} a rendu un jeton vide")));
        }
        *cached = Some(Token {
            value: answer.token.clone(),
            obtained: Instant::now(),
        });
        Ok(answer.token)
    }

    /// One exchange with its retries: the status and body of the first answer
    /// that is neither a 429 nor a 5xx, or the last failure.
    async fn exchange(
        &self,
        method: Method,
        url: &str,
        headers: &[(&str, &str)],
    ) -> Result<(StatusCode, Bytes), Failure> {
        let mut attempt = 0;
        loop {
            let failure = match self.exchange_once(&method, url, headers).await {
                Ok((status, _)) if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() => {
                    Failure::Status(status)
                }
                Ok(answer) => return Ok(answer),
                Err(cause) => Failure::Transport(cause),
            };
            if attempt >= self.retries {
                return Err(failure);
            }
            tracing::debug!(url, attempt, %failure, "Aides-territoires : nouvel essai");
            tokio::time::sleep(self.backoff.saturating_mul(1 << attempt.min(16))).await;
            attempt += 1;
        }
    }

    async fn exchange_once(
        &self,
        method: &Method,
        url: &str,
        headers: &[(&str, &str)],
    ) -> Result<(StatusCode, Bytes), Words> {
        let mut builder = Request::builder()
            .method(method.clone())
            .uri(url)
            .header(header::ACCEPT, "application/json")
            .header(header::USER_AGENT, "vigie-alerting");
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let request = builder.body(Full::new(Bytes::new())).map_err(|error| {
            words!(
                "requête invalide vers {url} : {error}",
                "invalid request to {url}: {error}"
            )
        })?;
        let exchange = async {
            let response = self.http.request(request).await.map_err(|error| {
                let cause = crate::error::one_line(&error);
                words!("{url} injoignable : {cause}", "{url} unreachable: {cause}")
            })?;
            let status = response.status();
            let body = Limited::new(response.into_body(), MAX_BODY)
                .collect()
                .await
                .map_err(|error| {
                    words!(
                        "lecture de la réponse de {url} : {error}",
                        "reading the response from {url}: {error}"
                    )
                })?;
            Ok((status, body.to_bytes()))
        };
        tokio::time::timeout(self.timeout, exchange).await.map_err(|_| {
            let seconds = self.timeout.as_secs();
            words!(
                "{url} n'a pas répondu en {seconds} s",
                "{url} did not answer within {seconds} s"
            )
        })?
    }
}

/// Pages needed for `count` aids.
fn pages_for(count: u64, per_page: u32) -> u32 {
    let pages = count.div_ceil(u64::from(per_page.max(1)));
    u32::try_from(pages).unwrap_or(u32::MAX)
}

fn check_url(url: &str) -> Result<(), SourceError> {
    let uri: http::Uri = url.parse().map_err(|_| SourceError::Url(url.to_owned()))?;
    let host = uri.host().ok_or_else(|| SourceError::Url(url.to_owned()))?;
    match uri.scheme_str() {
        Some("https") => Ok(()),
        Some("http") if is_loopback(host) => Ok(()),
        Some("http") => Err(SourceError::Url(format!(
            "{url} (http n'est accepté que vers la boucle locale ; utilisez https)"
        ))),
        _ => Err(SourceError::Url(url.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_from_the_count() {
        assert_eq!(pages_for(0, 100), 0);
        assert_eq!(pages_for(1, 100), 1);
        assert_eq!(pages_for(100, 100), 1);
        assert_eq!(pages_for(101, 100), 2);
        assert_eq!(pages_for(250, 100), 3);
        assert_eq!(pages_for(5, 0), 5);
    }

    #[test]
    fn base_urls_are_checked() {
        assert!(check_url("https://aides-territoires.beta.gouv.fr").is_ok());
        assert!(check_url("http://127.0.0.1:8080").is_ok());
        assert!(check_url("http://[::1]:8080").is_ok());
        assert!(check_url("http://localhost:8080").is_ok());
        assert!(check_url("http://aides-territoires.beta.gouv.fr").is_err());
        assert!(check_url("ftp://aides-territoires.beta.gouv.fr").is_err());
        assert!(check_url("/api").is_err());
        assert!(check_url("").is_err());
    }

    #[test]
    fn failures_read_in_french_and_english() {
        assert_eq!(
            Failure::Status(StatusCode::BAD_GATEWAY).to_string(),
            "réponse 502 Bad Gateway"
        );
        assert_eq!(
            Failure::Status(StatusCode::BAD_GATEWAY).words().en,
            "response 502 Bad Gateway"
        );
        assert_eq!(Failure::Transport(words!("coupure", "cut")).to_string(), "coupure");
        assert_eq!(
            SourceError::Auth {
                status: StatusCode::UNAUTHORIZED
            }
            .to_string(),
            "Aides-territoires refuse l'authentification (401 Unauthorized) : vérifiez la clé d'API"
        );
    }
}
