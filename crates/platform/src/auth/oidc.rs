//! Access-token validation against an OIDC issuer (Keycloak or any compliant one).
//!
//! [`OidcValidator::discover`] reads `<issuer>/.well-known/openid-configuration`
//! (whose `issuer` must equal the configured one exactly), loads the JWKS
//! from its `jwks_uri` and refreshes it in the background every
//! [`OidcConfig::refresh_interval`]. A token whose `kid` is unknown triggers
//! one immediate refresh, at most once per [`OidcConfig::unknown_kid_min_interval`]
//! (so a flood of forged `kid`s cannot hammer the issuer). A refresh replaces
//! the whole key set: a key the issuer dropped stops verifying at once. When a
//! refresh fails the previous keys are kept.
//!
//! What [`OidcValidator::validate`] checks, in order (any failure is a
//! [`TokenError`]; callers answer `UNAUTHENTICATED` without detail):
//!
//! 1. at most 16 KiB, three base64url (unpadded) parts, JSON header and payload;
//! 2. header `alg` in the allow-list (`none` and `HS*` can never be
//!    configured); header `typ`, when present, `JWT`, `at+jwt` or
//!    `application/at+jwt` (case-insensitive); a header `crit` is refused;
//! 3. header `kid` present and naming a key of the issuer's JWKS whose type
//!    fits `alg` (and whose JWK `alg`, when published, equals it);
//! 4. the signature, verified by `ring`;
//! 5. `iss` equal to the configured issuer (byte for byte);
//! 6. `exp` present and `now < exp + leeway`; `nbf`, when present, `nbf - leeway <= now`;
//! 7. `aud` (a string or an array) containing the configured audience — or,
//!    when [`OidcConfig::accept_azp`] is on, `azp` equal to it;
//! 8. Keycloak's payload `typ`, when present, `Bearer` (refuses ID and
//!    refresh tokens);
//! 9. `sub` present and non-empty.
//!
//! The [`Principal`] then carries the Vigie roles of `realm_access.roles` and
//! of `resource_access.<client>.roles` for each client of
//! [`OidcConfig::role_clients`] (by default the audience), and the scopes of
//! the `groups` claim (full group paths).

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::Deserialize;
use tokio_util::sync::{CancellationToken, DropGuard};

use super::fetch::{FetchError, Fetcher};
use super::jwks::{Algorithm, KeySet, PublicKey};
use super::principal::{Principal, Role, Scope};

/// Tokens longer than this are refused before any parsing.
pub(super) const MAX_TOKEN_LEN: usize = 16 * 1024;

/// How tokens are validated.
#[derive(Debug, Clone)]
pub struct OidcConfig {
    /// The issuer URL, exactly as in the tokens' `iss`
    /// (Keycloak: `https://HOST/realms/REALM`, no trailing slash).
    pub issuer: String,
    /// The audience this API requires in `aud` (Keycloak: add an audience mapper).
    pub audience: String,
    /// Also accept a token whose `azp` equals the audience when `aud` does not
    /// contain it (Keycloak without an audience mapper). Off by default.
    pub accept_azp: bool,
    /// Clients whose `resource_access.<client>.roles` grant Vigie roles; empty
    /// means the audience only. Realm roles are always read.
    pub role_clients: Vec<String>,
    /// Accepted signature algorithms (default RS256, ES256, PS256).
    pub algorithms: Vec<Algorithm>,
    /// Clock skew tolerated on `exp` and `nbf` (default 60 s).
    pub leeway: Duration,
    /// Background JWKS refresh period (default 5 min).
    pub refresh_interval: Duration,
    /// Minimum time between two refreshes triggered by an unknown `kid` (default 10 s).
    pub unknown_kid_min_interval: Duration,
    /// Timeout of each discovery or JWKS request (default 10 s).
    pub http_timeout: Duration,
    /// Allow plain `http` to a non-loopback issuer (never in production). Off by default.
    pub allow_insecure_http: bool,
}

impl OidcConfig {
    /// The defaults for `issuer` and `audience`.
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>) -> Self {
        OidcConfig {
            issuer: issuer.into(),
            audience: audience.into(),
            accept_azp: false,
            role_clients: Vec::new(),
            algorithms: Algorithm::DEFAULT_ALLOWED.to_vec(),
            leeway: Duration::from_secs(60),
            refresh_interval: Duration::from_secs(300),
            unknown_kid_min_interval: Duration::from_secs(10),
            http_timeout: Duration::from_secs(10),
            allow_insecure_http: false,
        }
    }
}

/// The validator could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    /// The configuration breaks a rule.
    #[error("configuration OIDC invalide : {0}")]
    Config(String),
    /// The discovery document or the JWKS could not be fetched.
    #[error("OIDC : {0}")]
    Fetch(#[from] FetchError),
    /// The discovery document is not usable.
    #[error("document de découverte OIDC invalide : {0}")]
    Discovery(String),
    /// The JWKS is not a key set.
    #[error("JWKS invalide : {0}")]
    Jwks(#[from] serde_json::Error),
}

/// Why a token was refused (logged; never sent to the client).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// No `authorization: Bearer` metadata.
    #[error("aucun jeton")]
    Missing,
    /// Not a compact JWS with JSON header and payload.
    #[error("jeton mal formé : {0}")]
    Malformed(&'static str),
    /// `alg` not in the allow-list (including `none` and `HS*`).
    #[error("algorithme refusé : {0}")]
    Algorithm(String),
    /// Header `typ` is neither `JWT` nor `at+jwt`.
    #[error("type de jeton refusé : {0}")]
    Type(String),
    /// No key of the issuer has this `kid` (after the allowed refresh).
    #[error("clé inconnue : {0}")]
    UnknownKey(String),
    /// The signature does not verify.
    #[error("signature invalide")]
    Signature,
    /// `iss` differs from the configured issuer.
    #[error("émetteur refusé : {0}")]
    Issuer(String),
    /// `exp` is missing or past (beyond the leeway).
    #[error("jeton expiré")]
    Expired,
    /// `nbf` is in the future (beyond the leeway).
    #[error("jeton pas encore valide")]
    NotYetValid,
    /// The configured audience is not in `aud` (nor `azp` when accepted).
    #[error("audience refusée")]
    Audience,
    /// `sub` is missing or empty.
    #[error("sujet absent")]
    Subject,
    /// An ID token's `nonce` is not the one of the sign-in (replay).
    #[error("nonce refusé")]
    Nonce,
}

#[derive(Debug, Deserialize)]
struct Discovery {
    issuer: String,
    jwks_uri: String,
    authorization_endpoint: Option<String>,
    token_endpoint: Option<String>,
    end_session_endpoint: Option<String>,
}

/// The endpoints a relying party (the web console) uses, as the issuer's
/// discovery document announced them (each checked like the JWKS URL:
/// https, or http to loopback).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProviderEndpoints {
    /// Where the browser is sent to sign in (authorization code flow).
    pub authorization: Option<String>,
    /// Where codes are exchanged for tokens.
    pub token: Option<String>,
    /// RP-initiated logout, when the issuer offers it.
    pub end_session: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Header {
    alg: String,
    kid: Option<String>,
    typ: Option<String>,
    crit: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Default, Deserialize)]
struct RoleList {
    #[serde(default)]
    roles: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct Claims {
    iss: Option<String>,
    sub: Option<String>,
    aud: Option<Audience>,
    azp: Option<String>,
    client_id: Option<String>,
    exp: Option<f64>,
    nbf: Option<f64>,
    typ: Option<String>,
    #[serde(default)]
    realm_access: Option<RoleList>,
    #[serde(default)]
    resource_access: Option<std::collections::HashMap<String, RoleList>>,
    #[serde(default)]
    groups: Option<Vec<String>>,
}

/// Validates access tokens of one issuer; cheap to share (`Arc`).
pub struct OidcValidator {
    config: OidcConfig,
    fetcher: Fetcher,
    jwks_uri: String,
    endpoints: ProviderEndpoints,
    keys: RwLock<Arc<KeySet>>,
    /// Serialises refreshes triggered by unknown `kid`s.
    on_demand: tokio::sync::Mutex<Option<Instant>>,
    fetches: AtomicU64,
    _stop_refresh: DropGuard,
}

impl std::fmt::Debug for OidcValidator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcValidator")
            .field("issuer", &self.config.issuer)
            .field("audience", &self.config.audience)
            .field("jwks_uri", &self.jwks_uri)
            .finish_non_exhaustive()
    }
}

impl OidcValidator {
    /// Checks `config`, fetches the discovery document and the JWKS, and
    /// starts the background refresh (stopped when the validator is dropped).
    /// Must be called inside a Tokio runtime.
    ///
    /// # Errors
    /// [`OidcError`] when the configuration is invalid or the issuer cannot
    /// be reached or answers nonsense: the service should not start.
    pub async fn discover(config: OidcConfig) -> Result<Arc<Self>, OidcError> {
        check_config(&config)?;
        let fetcher = Fetcher::new(config.http_timeout, config.allow_insecure_http)?;
        fetcher.check_url(&config.issuer)?;
        let discovery_url = format!("{}/.well-known/openid-configuration", config.issuer);
        let document = fetcher.get(&discovery_url).await?;
        let discovery: Discovery =
            serde_json::from_slice(&document).map_err(|error| OidcError::Discovery(error.to_string()))?;
        if discovery.issuer != config.issuer {
            return Err(OidcError::Discovery(format!(
                "l'émetteur annoncé ({}) diffère de l'émetteur configuré ({})",
                discovery.issuer, config.issuer
            )));
        }
        fetcher.check_url(&discovery.jwks_uri)?;
        for url in [
            &discovery.authorization_endpoint,
            &discovery.token_endpoint,
            &discovery.end_session_endpoint,
        ]
        .into_iter()
        .flatten()
        {
            fetcher.check_url(url)?;
        }
        let endpoints = ProviderEndpoints {
            authorization: discovery.authorization_endpoint,
            token: discovery.token_endpoint,
            end_session: discovery.end_session_endpoint,
        };
        let stop = CancellationToken::new();
        let validator = Arc::new(OidcValidator {
            fetcher,
            jwks_uri: discovery.jwks_uri,
            endpoints,
            keys: RwLock::new(Arc::new(KeySet::default())),
            on_demand: tokio::sync::Mutex::new(None),
            fetches: AtomicU64::new(0),
            _stop_refresh: stop.clone().drop_guard(),
            config,
        });
        validator.refresh().await?;
        tokio::spawn(background_refresh(Arc::downgrade(&validator), stop));
        Ok(validator)
    }

    /// The configuration in force.
    pub fn config(&self) -> &OidcConfig {
        &self.config
    }

    /// The relying-party endpoints of the discovery document.
    pub fn endpoints(&self) -> &ProviderEndpoints {
        &self.endpoints
    }

    /// How many times the JWKS was fetched (successfully or not) since discovery.
    pub fn jwks_fetches(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    /// Fetches the JWKS now and replaces the cached keys.
    ///
    /// # Errors
    /// [`OidcError`] when the JWKS cannot be fetched or parsed (the previous keys are kept).
    pub async fn refresh(&self) -> Result<(), OidcError> {
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let document = self.fetcher.get(&self.jwks_uri).await?;
        let keys = KeySet::parse(&document)?;
        tracing::debug!(keys = keys.len(), "oidc: jwks refreshed");
        if keys.len() == 0 {
            tracing::warn!(jwks_uri = %self.jwks_uri, "oidc: the issuer publishes no usable signing key");
        }
        *self.keys.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(keys);
        Ok(())
    }

    fn cached_keys(&self) -> Arc<KeySet> {
        self.keys
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Validates a compact JWS access token and builds its [`Principal`].
    ///
    /// # Errors
    /// [`TokenError`] naming the first check that failed.
    pub async fn validate(&self, token: &str) -> Result<Principal, TokenError> {
        let payload = self.verified_payload(token).await?;
        let claims: Claims = decode_json(payload)?;
        self.check_claims(claims)
    }

    /// Checks steps 1 to 4 (shape, header, key, signature) and returns the
    /// payload (base64url) whose claims the caller then checks: access
    /// tokens here, ID tokens in [`super::id_token`].
    pub(super) async fn verified_payload<'t>(&self, token: &'t str) -> Result<&'t str, TokenError> {
        let jws = Compact::split(token)?;
        let header: Header = decode_json(jws.header)?;
        let alg = header
            .alg
            .parse::<Algorithm>()
            .ok()
            .filter(|alg| self.config.algorithms.contains(alg))
            .ok_or_else(|| TokenError::Algorithm(header.alg.clone()))?;
        if let Some(typ) = &header.typ {
            let accepted = ["JWT", "at+jwt", "application/at+jwt"];
            if !accepted.iter().any(|a| a.eq_ignore_ascii_case(typ)) {
                return Err(TokenError::Type(typ.clone()));
            }
        }
        if header.crit.is_some() {
            return Err(TokenError::Malformed("en-tête crit non pris en charge"));
        }
        let kid = header.kid.ok_or(TokenError::Malformed("kid absent"))?;
        let key = self.key(&kid, alg).await?;
        let signature = jws.signature()?;
        if !key.verify(alg, jws.signed.as_bytes(), &signature) {
            return Err(TokenError::Signature);
        }
        Ok(jws.payload)
    }

    /// The key for `kid`, refreshing the JWKS once (rate-limited) when unknown.
    async fn key(&self, kid: &str, alg: Algorithm) -> Result<PublicKey, TokenError> {
        let usable = |keys: &KeySet| keys.get(kid).filter(|key| key.accepts(alg)).cloned();
        let unknown = || TokenError::UnknownKey(kid.to_owned());
        let keys = self.cached_keys();
        if let Some(key) = usable(&keys) {
            return Ok(key);
        }
        if keys.get(kid).is_some() {
            // Known kid, but not for this algorithm: no refresh would help.
            return Err(TokenError::Algorithm(alg.to_string()));
        }
        let mut last = self.on_demand.lock().await;
        // Another request may have refreshed while we waited.
        let keys = self.cached_keys();
        if let Some(key) = usable(&keys) {
            return Ok(key);
        }
        if last.is_some_and(|at| at.elapsed() < self.config.unknown_kid_min_interval) {
            return Err(unknown());
        }
        *last = Some(Instant::now());
        tracing::info!(%kid, "oidc: unknown kid, refreshing the jwks");
        if let Err(error) = self.refresh().await {
            tracing::warn!(%error, "oidc: jwks refresh failed");
        }
        usable(&self.cached_keys()).ok_or_else(unknown)
    }

    fn check_claims(&self, claims: Claims) -> Result<Principal, TokenError> {
        let config = &self.config;
        match &claims.iss {
            Some(iss) if *iss == config.issuer => {}
            other => return Err(TokenError::Issuer(other.clone().unwrap_or_default())),
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or_default();
        let leeway = config.leeway.as_secs_f64();
        match claims.exp {
            Some(exp) if now < exp + leeway => {}
            _ => return Err(TokenError::Expired),
        }
        if claims.nbf.is_some_and(|nbf| nbf - leeway > now) {
            return Err(TokenError::NotYetValid);
        }
        let in_aud = match &claims.aud {
            Some(Audience::One(aud)) => *aud == config.audience,
            Some(Audience::Many(auds)) => auds.contains(&config.audience),
            None => false,
        };
        let by_azp = config.accept_azp && claims.azp.as_deref() == Some(config.audience.as_str());
        if !in_aud && !by_azp {
            return Err(TokenError::Audience);
        }
        if let Some(typ) = &claims.typ {
            if !typ.eq_ignore_ascii_case("Bearer") {
                return Err(TokenError::Type(typ.clone()));
            }
        }
        let subject = claims.sub.filter(|sub| !sub.is_empty()).ok_or(TokenError::Subject)?;

        let mut roles = BTreeSet::new();
        let mut grant = |names: &[String]| roles.extend(names.iter().filter_map(|name| name.parse::<Role>().ok()));
        if let Some(realm) = &claims.realm_access {
            grant(&realm.roles);
        }
        if let Some(resources) = &claims.resource_access {
            let audience = [config.audience.clone()];
            let clients = if config.role_clients.is_empty() {
                &audience[..]
            } else {
                &config.role_clients[..]
            };
            for client in clients {
                if let Some(list) = resources.get(client) {
                    grant(&list.roles);
                }
            }
        }
        let scopes = scopes_of(claims.groups.iter().flatten());
        Ok(Principal {
            subject,
            roles,
            scopes,
            client_id: claims.azp.or(claims.client_id),
        })
    }
}

/// A compact JWS, split and bounded: `header.payload.signature`, each
/// base64url; `signed` is what the signature covers.
pub(super) struct Compact<'a> {
    pub(super) header: &'a str,
    pub(super) payload: &'a str,
    pub(super) signed: &'a str,
    signature: &'a str,
}

impl<'a> Compact<'a> {
    /// The three parts of `token`.
    pub(super) fn split(token: &'a str) -> Result<Compact<'a>, TokenError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(TokenError::Malformed("trop long"));
        }
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Malformed("pas trois parties"));
        };
        let signed = token
            .get(..header.len() + 1 + payload.len())
            .ok_or(TokenError::Malformed("découpage"))?;
        Ok(Compact {
            header,
            payload,
            signed,
            signature,
        })
    }

    /// The signature's bytes.
    pub(super) fn signature(&self) -> Result<Vec<u8>, TokenError> {
        URL_SAFE_NO_PAD
            .decode(self.signature)
            .map_err(|_| TokenError::Malformed("signature illisible"))
    }
}

/// The tenant scopes of a token's group paths, each once, in order.
pub(super) fn scopes_of<'g>(groups: impl IntoIterator<Item = &'g String>) -> Vec<Scope> {
    let mut scopes: Vec<Scope> = Vec::new();
    for scope in groups.into_iter().filter_map(|group| Scope::from_group(group)) {
        if !scopes.contains(&scope) {
            scopes.push(scope);
        }
    }
    scopes
}

pub(super) fn decode_json<T: serde::de::DeserializeOwned>(part: &str) -> Result<T, TokenError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| TokenError::Malformed("base64url illisible"))?;
    serde_json::from_slice(&bytes).map_err(|_| TokenError::Malformed("JSON illisible"))
}

fn check_config(config: &OidcConfig) -> Result<(), OidcError> {
    if config.issuer.is_empty() || config.issuer.ends_with('/') {
        return Err(OidcError::Config(format!(
            "l'émetteur « {} » doit être l'URL exacte des jetons, sans « / » final",
            config.issuer
        )));
    }
    if config.audience.is_empty() {
        return Err(OidcError::Config("l'audience est obligatoire".to_owned()));
    }
    if config.algorithms.is_empty() {
        return Err(OidcError::Config("aucun algorithme autorisé".to_owned()));
    }
    if config.leeway > Duration::from_secs(300) {
        return Err(OidcError::Config("la tolérance d'horloge dépasse 5 minutes".to_owned()));
    }
    if config.refresh_interval < Duration::from_millis(100) {
        return Err(OidcError::Config(
            "intervalle de rafraîchissement trop court".to_owned(),
        ));
    }
    Ok(())
}

async fn background_refresh(validator: std::sync::Weak<OidcValidator>, stop: CancellationToken) {
    let Some(period) = validator.upgrade().map(|v| v.config.refresh_interval) else {
        return;
    };
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = ticks.tick() => {}
        }
        let Some(validator) = validator.upgrade() else { return };
        if let Err(error) = validator.refresh().await {
            tracing::warn!(%error, "oidc: background jwks refresh failed, keeping the previous keys");
        }
    }
}
