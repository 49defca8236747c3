//! The browser side of the test issuer: the authorization endpoint (OAuth
//! 2.0 authorization code with PKCE S256, no login form: it signs in the
//! user the test chose), the `authorization_code` grant of the token
//! endpoint, and RP-initiated logout (`end_session_endpoint`), which it
//! records.
//!
//! Like Keycloak, it refuses a client or `redirect_uri` it does not know
//! (no redirect at all: an error page), a missing or `plain` PKCE
//! challenge, and at the token endpoint a wrong verifier, a wrong
//! `redirect_uri`, a wrong client secret and a code used twice.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use bytes::Bytes;
use http_body_util::Full;
use serde_json::{json, Value};

use super::{oauth_error, parse_form, random_text, token_builder, Grants, Shared};

/// How long a code may wait for its exchange.
const CODE_LIFETIME: Duration = Duration::from_secs(60);

/// The person the authorization endpoint signs in (no login form).
#[derive(Debug, Clone, Default)]
pub struct CodeUser {
    /// `sub`.
    pub subject: String,
    /// `name`.
    pub name: String,
    /// `preferred_username`.
    pub username: String,
    /// Realm roles of the access token (`structure-manager`, …).
    pub roles: Vec<String>,
    /// Full group paths (`/networks/N/structures/S`), in both tokens.
    pub groups: Vec<String>,
}

/// One RP-initiated logout the issuer received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logout {
    /// `id_token_hint`, as sent.
    pub id_token_hint: Option<String>,
    /// `post_logout_redirect_uri`, as sent.
    pub post_logout_redirect_uri: Option<String>,
    /// `client_id`, as sent.
    pub client_id: Option<String>,
}

struct Client {
    redirect_uri: String,
    post_logout_redirect_uri: String,
    secret: Option<String>,
}

struct Pending {
    client_id: String,
    redirect_uri: String,
    challenge: String,
    nonce: Option<String>,
    user: CodeUser,
    expires: Instant,
}

/// The state of the code flow (inside the issuer's grants).
#[derive(Default)]
pub(super) struct CodeFlow {
    clients: HashMap<String, Client>,
    user: Option<CodeUser>,
    refuse: bool,
    codes: HashMap<String, Pending>,
    used: HashSet<String>,
    logouts: Vec<Logout>,
    authorizations: usize,
}

impl super::OidcIssuer {
    /// Registers a client of the code flow: its one `redirect_uri`, where
    /// logout may send back, and its secret (`None`: a public client).
    pub fn add_code_client(
        &self,
        client_id: &str,
        redirect_uri: &str,
        post_logout_redirect_uri: &str,
        secret: Option<&str>,
    ) {
        self.shared.grants().code.clients.insert(
            client_id.to_owned(),
            Client {
                redirect_uri: redirect_uri.to_owned(),
                post_logout_redirect_uri: post_logout_redirect_uri.to_owned(),
                secret: secret.map(str::to_owned),
            },
        );
    }

    /// The person the authorization endpoint signs in from now on.
    pub fn sign_in_as(&self, user: CodeUser) {
        let mut grants = self.shared.grants();
        grants.code.user = Some(user);
        grants.code.refuse = false;
    }

    /// Makes the authorization endpoint refuse (`error=access_denied`), as
    /// when the person cancels on Keycloak's page.
    pub fn refuse_sign_in(&self) {
        self.shared.grants().code.refuse = true;
    }

    /// The RP-initiated logouts received, in order.
    pub fn logouts(&self) -> Vec<Logout> {
        self.shared.grants().code.logouts.clone()
    }

    /// How many requests the authorization endpoint answered.
    pub fn authorizations(&self) -> usize {
        self.shared.grants().code.authorizations
    }
}

fn redirect(location: &str) -> hyper::Response<Full<Bytes>> {
    let mut response = hyper::Response::new(Full::new(Bytes::new()));
    *response.status_mut() = hyper::StatusCode::FOUND;
    if let Ok(value) = hyper::header::HeaderValue::from_str(location) {
        response.headers_mut().insert(hyper::header::LOCATION, value);
    }
    response
}

fn page(status: u16, text: &str) -> hyper::Response<Full<Bytes>> {
    let mut response = hyper::Response::new(Full::new(Bytes::from(text.to_owned())));
    *response.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::BAD_REQUEST);
    response
}

fn with_query(base: &str, pairs: &[(&str, &str)]) -> String {
    let separator = if base.contains('?') { '&' } else { '?' };
    let query = vigie_form(pairs);
    format!("{base}{separator}{query}")
}

/// `application/x-www-form-urlencoded`, as a query string.
fn vigie_form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(name, value)| {
            let encode = |text: &str| {
                text.bytes()
                    .map(|b| match b {
                        b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                            char::from(b).to_string()
                        }
                        _ => format!("%{b:02X}"),
                    })
                    .collect::<String>()
            };
            format!("{}={}", encode(name), encode(value))
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// `GET …/protocol/openid-connect/auth`.
pub(super) fn authorize(shared: &Shared, query: &str) -> hyper::Response<Full<Bytes>> {
    let query = parse_form(query.as_bytes());
    let field = |name: &str| query.get(name).map(String::as_str).unwrap_or_default();
    let mut grants = shared.grants();
    let flow = &mut grants.code;
    flow.authorizations += 1;
    let Some(client) = flow.clients.get(field("client_id")) else {
        return page(400, "unknown client");
    };
    if client.redirect_uri != field("redirect_uri") {
        return page(400, "invalid redirect_uri");
    }
    let redirect_uri = client.redirect_uri.clone();
    let state = field("state").to_owned();
    let back = |error: &str| redirect(&with_query(&redirect_uri, &[("error", error), ("state", &state)]));
    if field("response_type") != "code" {
        return back("unsupported_response_type");
    }
    if !field("scope").split(' ').any(|s| s == "openid") {
        return back("invalid_scope");
    }
    if field("code_challenge_method") != "S256" || field("code_challenge").len() != 43 {
        return back("invalid_request");
    }
    if flow.refuse {
        return back("access_denied");
    }
    let Some(user) = flow.user.clone() else {
        return back("login_required");
    };
    let code = random_text(40);
    flow.codes.insert(
        code.clone(),
        Pending {
            client_id: field("client_id").to_owned(),
            redirect_uri: redirect_uri.clone(),
            challenge: field("code_challenge").to_owned(),
            nonce: query.get("nonce").cloned(),
            user,
            expires: Instant::now() + CODE_LIFETIME,
        },
    );
    redirect(&with_query(
        &redirect_uri,
        &[("code", &code), ("state", &state), ("iss", &shared.issuer)],
    ))
}

/// The `authorization_code` grant.
pub(super) fn exchange(shared: &Shared, grants: &mut Grants, form: &HashMap<String, String>) -> (u16, Value) {
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or_default();
    let code = field("code");
    let flow = &mut grants.code;
    // A code works once (RFC 6749 §4.1.2): the second use is refused.
    if !flow.used.insert(code.to_owned()) {
        return oauth_error("invalid_grant");
    }
    let Some(pending) = flow.codes.remove(code) else {
        return oauth_error("invalid_grant");
    };
    if Instant::now() >= pending.expires || pending.client_id != field("client_id") {
        return oauth_error("invalid_grant");
    }
    let Some(client) = flow.clients.get(&pending.client_id) else {
        return oauth_error("invalid_client");
    };
    if let Some(secret) = &client.secret {
        if field("client_secret") != secret {
            return (401, json!({ "error": "unauthorized_client" }));
        }
    }
    if pending.redirect_uri != field("redirect_uri") {
        return oauth_error("invalid_grant");
    }
    let verifier = field("code_verifier");
    let computed = URL_SAFE_NO_PAD.encode(ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes()));
    if !(43..=128).contains(&verifier.len()) || computed != pending.challenge {
        return oauth_error("invalid_grant");
    }
    let user = &pending.user;
    let roles: Vec<&str> = user.roles.iter().map(String::as_str).collect();
    let groups: Vec<&str> = user.groups.iter().map(String::as_str).collect();
    let profile = |builder: super::TokenBuilder| {
        builder
            .subject(&user.subject)
            .azp(&pending.client_id)
            .groups(&groups)
            .claim("name", json!(user.name))
            .claim("preferred_username", json!(user.username))
    };
    let access = profile(token_builder(shared)).realm_roles(&roles).sign();
    let mut id = profile(token_builder(shared))
        .aud(json!(pending.client_id))
        .claim("typ", json!("ID"))
        .without_claim("realm_access")
        .without_claim("resource_access")
        .without_claim("scope");
    if let Some(nonce) = &pending.nonce {
        id = id.claim("nonce", json!(nonce));
    }
    let (Ok(access), Ok(id)) = (access, id.sign()) else {
        return (500, json!({ "error": "server_error" }));
    };
    (
        200,
        json!({
            "access_token": access,
            "id_token": id,
            "expires_in": 300,
            "token_type": "Bearer",
            "scope": "openid profile email",
        }),
    )
}

/// `GET …/protocol/openid-connect/logout`: recorded; back to a registered
/// `post_logout_redirect_uri`, else a page.
pub(super) fn end_session(shared: &Shared, query: &str) -> hyper::Response<Full<Bytes>> {
    let query = parse_form(query.as_bytes());
    let mut grants = shared.grants();
    let logout = Logout {
        id_token_hint: query.get("id_token_hint").cloned(),
        post_logout_redirect_uri: query.get("post_logout_redirect_uri").cloned(),
        client_id: query.get("client_id").cloned(),
    };
    let back = logout
        .post_logout_redirect_uri
        .clone()
        .filter(|uri| grants.code.clients.values().any(|c| c.post_logout_redirect_uri == *uri));
    grants.code.logouts.push(logout);
    match back {
        Some(uri) => redirect(&uri),
        None => page(200, "signed out"),
    }
}
