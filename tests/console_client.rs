//! A browser without script for the web console: one cookie jar (the
//! session), redirects not followed (callers check them). Used by the e2e
//! scenarios and by `vigie-bench console`.

use anyhow::{ensure, Context, Result};
use bytes::Bytes;
use http::header::{CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use vigie_platform::auth::form_urlencoded;

/// One answer of the console.
pub struct Page {
    /// Its status.
    pub status: StatusCode,
    /// Its headers.
    pub headers: HeaderMap,
    /// Its body, as text.
    pub body: String,
}

impl Page {
    /// The `Location` of a redirect ("" when none).
    pub fn location(&self) -> &str {
        self.headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    /// The `Set-Cookie` header of the answer, when it sets one.
    pub fn set_cookie(&self) -> Option<&str> {
        self.headers.get(SET_COOKIE).and_then(|v| v.to_str().ok())
    }

    /// The value of the first `name="NAME" value="…"` of the page.
    ///
    /// # Errors
    /// No such field.
    pub fn field(&self, name: &str) -> Result<String> {
        let marker = format!("name=\"{name}\" value=\"");
        let start = self.body.find(&marker).context(format!("no field {name}"))? + marker.len();
        Ok(self.body[start..].chars().take_while(|c| *c != '"').collect())
    }

    /// « score de N sur 100 » as « Ma structure » writes it.
    ///
    /// # Errors
    /// No score on the page.
    pub fn score(&self) -> Result<u64> {
        let start = self.body.find("score de ").context("no score on the page")? + "score de ".len();
        let digits: String = self.body[start..].chars().take_while(char::is_ascii_digit).collect();
        Ok(digits.parse()?)
    }
}

/// Text as askama writes it into HTML.
pub fn escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// `vigie dev --demo` with its data in `dir`, and its console's address.
///
/// # Errors
/// The server did not start or announced no loopback console.
pub async fn start_demo(dir: &std::path::Path) -> Result<(crate::VigieServer, String)> {
    let server = crate::VigieServer::dev(dir.join("data"), &["--demo"], &[]).await?;
    let console = server.console.clone().context("vigie dev announced no console")?;
    ensure!(console.starts_with("http://127.0.0.1:"), "{console}");
    Ok((server, console))
}

/// The console's client: its base URL and the session cookie.
pub struct Browser {
    base: String,
    client: Client<HttpConnector, Full<Bytes>>,
    /// The `vigie_session` cookie, once the console set one.
    pub session: Option<String>,
}

impl Browser {
    /// A client of the console at `base` (`http://127.0.0.1:PORT`).
    pub fn new(base: &str) -> Self {
        Browser {
            base: base.to_owned(),
            client: Client::builder(TokioExecutor::new()).build_http(),
            session: None,
        }
    }

    /// The console's address.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Sends a request (a form when `form` is given) to `target`, a path of
    /// the console or an absolute URL (another origin, such as an OIDC
    /// issuer): the session cookie goes to the console only, and is taken
    /// from its answers only.
    ///
    /// # Errors
    /// Transport.
    pub async fn send(&mut self, method: Method, target: &str, form: Option<&[(&str, &str)]>) -> Result<Page> {
        let url = if target.starts_with("http") {
            target.to_owned()
        } else {
            format!("{}{target}", self.base)
        };
        let to_console = url.starts_with(&self.base);
        let mut request = Request::builder().method(method).uri(&url);
        if let (Some(id), true) = (&self.session, to_console) {
            request = request.header(COOKIE, format!("vigie_session={id}"));
        }
        let body = match form {
            Some(pairs) => {
                request = request.header(CONTENT_TYPE, "application/x-www-form-urlencoded");
                Full::new(Bytes::from(form_urlencoded(pairs)))
            }
            None => Full::new(Bytes::new()),
        };
        let response = self.client.request(request.body(body)?).await?;
        let (parts, body) = response.into_parts();
        if to_console {
            for cookie in parts.headers.get_all(SET_COOKIE) {
                let cookie = cookie.to_str()?;
                if let Some(rest) = cookie.strip_prefix("vigie_session=") {
                    let value = rest.split(';').next().unwrap_or_default();
                    self.session = (!value.is_empty()).then(|| value.to_owned());
                }
            }
        }
        // Pages are UTF-8; a download (a workbook) is read lossily, for its status and headers.
        let body = String::from_utf8_lossy(&body.collect().await?.to_bytes()).into_owned();
        Ok(Page {
            status: parts.status,
            headers: parts.headers,
            body,
        })
    }

    /// `GET target` (a path of the console or an absolute URL).
    ///
    /// # Errors
    /// As [`Browser::send`].
    pub async fn get(&mut self, target: &str) -> Result<Page> {
        self.send(Method::GET, target, None).await
    }

    /// `POST path` with a form.
    ///
    /// # Errors
    /// As [`Browser::send`].
    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Result<Page> {
        self.send(Method::POST, path, Some(form)).await
    }

    /// Posts a form that must be done and lead to `to` (303, the console's
    /// POST, redirect, GET), then follows it: the page `to` with the form's
    /// confirmation.
    ///
    /// # Errors
    /// As [`Browser::send`]; any other answer to the form (with its body).
    pub async fn submit(&mut self, path: &str, form: &[(&str, &str)], to: &str) -> Result<Page> {
        let done = self.post(path, form).await?;
        ensure!(
            done.status == StatusCode::SEE_OTHER && done.location() == to,
            "{path}: {} {} {}",
            done.status,
            done.location(),
            done.body
        );
        // The fragment stays in the browser: the request is for the page.
        self.get(to.split('#').next().unwrap_or(to)).await
    }

    /// Signs in as `profile` through the dev page `/connexion`; returns the
    /// person's home: where `/` leads, or `/` itself when it is the home.
    ///
    /// # Errors
    /// The sign-in did not go as the console documents it.
    pub async fn sign_in(&mut self, profile: &str) -> Result<String> {
        let page = self.get("/connexion").await?;
        ensure!(page.status == StatusCode::OK, "connexion: {}", page.status);
        let before = self.session.clone().context("an anonymous session for the form")?;
        let csrf = page.field("csrf")?;
        let signed = self
            .post("/connexion", &[("csrf", &csrf), ("profile", profile)])
            .await?;
        ensure!(
            signed.status == StatusCode::SEE_OTHER && signed.location() == "/",
            "{} {}",
            signed.status,
            signed.body
        );
        ensure!(self.session.as_deref() != Some(&before), "a new session id on sign-in");
        let home = self.get("/").await?;
        match home.status {
            StatusCode::SEE_OTHER => Ok(home.location().to_owned()),
            StatusCode::OK => Ok("/".to_owned()),
            other => anyhow::bail!("/ after sign-in: {other}"),
        }
    }
}
