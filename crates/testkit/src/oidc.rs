//! A real OIDC issuer on loopback for tests: an HTTP server serving discovery
//! and JWKS, and a minter of Keycloak-shaped access tokens signed with real
//! keys (RSA 2048 from test-only fixtures, P-256 generated at start).
//!
//! Everything about a token can be chosen (header `alg`, `kid`, `typ`, any
//! claim, the signing key, an HMAC secret, `none`), so tests can build every
//! kind of forged or broken token; keys can be published, dropped and rotated
//! while the issuer runs, and JWKS fetches are counted.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, bail, Context as _, Result};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use ring::rand::SystemRandom;
use ring::rsa::PublicKeyComponents;
use ring::signature::{self, EcdsaKeyPair, KeyPair as _, RsaKeyPair};
use serde_json::{json, Map, Value};
use tokio::net::TcpListener;
use tokio::task::JoinSet;

mod code;
pub use code::{CodeUser, Logout};

/// TEST-ONLY RSA 2048 private keys (see `fixtures/oidc/README.md`).
const RSA_FIXTURES: [&str; 3] = [
    include_str!("../fixtures/oidc/rsa-1.pk8.pem"),
    include_str!("../fixtures/oidc/rsa-2.pk8.pem"),
    include_str!("../fixtures/oidc/rsa-3.pk8.pem"),
];

/// The realm path, as Keycloak lays out its URLs.
const REALM_PATH: &str = "/realms/vigie";

#[derive(Clone)]
enum Pair {
    Rsa(Arc<RsaKeyPair>),
    Ec(Arc<EcdsaKeyPair>),
}

/// A signing key with its `kid` and, optionally, the `alg` its JWK declares.
#[derive(Clone)]
pub struct TestKey {
    kid: String,
    jwk_alg: Option<String>,
    pair: Pair,
}

impl std::fmt::Debug for TestKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestKey")
            .field("kid", &self.kid)
            .field("jwk_alg", &self.jwk_alg)
            .finish_non_exhaustive()
    }
}

impl TestKey {
    /// The RSA 2048 test key number `fixture` (0, 1 or 2), with JWK `alg` RS256.
    ///
    /// # Errors
    /// When `fixture` is out of range.
    pub fn rsa(kid: &str, fixture: usize) -> Result<Self> {
        let pem = RSA_FIXTURES
            .get(fixture)
            .ok_or_else(|| anyhow!("no RSA fixture {fixture}"))?;
        let der: String = pem.lines().filter(|line| !line.starts_with("-----")).collect();
        let der = STANDARD.decode(der).context("RSA fixture PEM")?;
        let pair = RsaKeyPair::from_pkcs8(&der).map_err(|e| anyhow!("RSA fixture: {e}"))?;
        Ok(TestKey {
            kid: kid.to_owned(),
            jwk_alg: Some("RS256".to_owned()),
            pair: Pair::Rsa(Arc::new(pair)),
        })
    }

    /// A freshly generated P-256 key, with JWK `alg` ES256.
    ///
    /// # Errors
    /// When `ring` cannot generate or load the key (never in practice).
    pub fn p256(kid: &str) -> Result<Self> {
        let rng = SystemRandom::new();
        let alg = &signature::ECDSA_P256_SHA256_FIXED_SIGNING;
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(alg, &rng).map_err(|e| anyhow!("P-256: {e}"))?;
        let pair = EcdsaKeyPair::from_pkcs8(alg, pkcs8.as_ref(), &rng).map_err(|e| anyhow!("P-256: {e}"))?;
        Ok(TestKey {
            kid: kid.to_owned(),
            jwk_alg: Some("ES256".to_owned()),
            pair: Pair::Ec(Arc::new(pair)),
        })
    }

    /// The same key with another JWK `alg` (`None`: the JWK declares none).
    #[must_use]
    pub fn with_jwk_alg(mut self, alg: Option<&str>) -> Self {
        self.jwk_alg = alg.map(str::to_owned);
        self
    }

    /// The same key material under another `kid`.
    #[must_use]
    pub fn with_kid(mut self, kid: &str) -> Self {
        kid.clone_into(&mut self.kid);
        self
    }

    /// The key's `kid`.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key bytes (RSA: PKCS#1 `RSAPublicKey` DER; EC: the
    /// uncompressed point) — what an attacker would use as an HMAC secret.
    pub fn public_key_bytes(&self) -> Vec<u8> {
        match &self.pair {
            Pair::Rsa(pair) => pair.public().as_ref().to_vec(),
            Pair::Ec(pair) => pair.public_key().as_ref().to_vec(),
        }
    }

    /// The public JWK.
    pub fn jwk(&self) -> Value {
        let mut jwk = match &self.pair {
            Pair::Rsa(pair) => {
                let components: PublicKeyComponents<Vec<u8>> = pair.public().into();
                json!({
                    "kty": "RSA",
                    "n": URL_SAFE_NO_PAD.encode(components.n),
                    "e": URL_SAFE_NO_PAD.encode(components.e),
                })
            }
            Pair::Ec(pair) => {
                let point = pair.public_key().as_ref();
                let (x, y) = point.get(1..).unwrap_or_default().split_at(32);
                json!({
                    "kty": "EC",
                    "crv": "P-256",
                    "x": URL_SAFE_NO_PAD.encode(x),
                    "y": URL_SAFE_NO_PAD.encode(y),
                })
            }
        };
        jwk["kid"] = json!(self.kid);
        jwk["use"] = json!("sig");
        if let Some(alg) = &self.jwk_alg {
            jwk["alg"] = json!(alg);
        }
        jwk
    }

    fn default_alg(&self) -> &str {
        match (&self.jwk_alg, &self.pair) {
            (Some(alg), _) => alg,
            (None, Pair::Rsa(_)) => "RS256",
            (None, Pair::Ec(_)) => "ES256",
        }
    }
}

/// A pending device authorization (RFC 8628).
struct Device {
    user_code: String,
    approved: Option<Vec<String>>,
    denied: bool,
    expires: Instant,
    last_poll: Option<Instant>,
    interval: Duration,
}

/// The OAuth 2.0 side of the issuer: device codes, refresh tokens, clients.
#[derive(Default)]
struct Grants {
    devices: HashMap<String, Device>,
    /// Refresh token → the realm roles of the session.
    refresh: HashMap<String, Vec<String>>,
    /// Confidential clients (client credentials): id → secret.
    clients: HashMap<String, String>,
    /// Seconds between polls the device endpoint asks for.
    interval: u64,
    /// Lifetime of device codes.
    device_lifetime: Duration,
    /// How many token requests were answered (all grants).
    token_requests: usize,
    /// The authorization code flow (browser sign-in, logout).
    code: code::CodeFlow,
}

impl Grants {
    /// The device authorization the user answers by `user_code` (approve or deny).
    fn pending_device(&mut self, user_code: &str) -> Result<&mut Device> {
        self.devices
            .values_mut()
            .find(|d| d.user_code == user_code)
            .ok_or_else(|| anyhow!("no device authorization with user code {user_code}"))
    }
}

struct Shared {
    issuer: String,
    audience: String,
    signer: Mutex<TestKey>,
    grants: Mutex<Grants>,
    published: Mutex<Vec<TestKey>>,
    jwks_fetches: AtomicUsize,
    discovery_fetches: AtomicUsize,
    jwks_failing: AtomicBool,
    /// An encryption key, published as Keycloak does (`use: enc`), never for signatures.
    enc_jwk: Value,
}

impl Shared {
    fn published(&self) -> std::sync::MutexGuard<'_, Vec<TestKey>> {
        self.published.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn grants(&self) -> std::sync::MutexGuard<'_, Grants> {
        self.grants.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn signer(&self) -> TestKey {
        self.signer.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// A real OIDC issuer on a free loopback port, stopped on drop.
///
/// At start it publishes three signing keys: `rsa-1` (RSA fixture 0, JWK
/// `alg` RS256, the default signer), `ps-1` (RSA fixture 1, JWK `alg` PS256)
/// and `ec-1` (P-256, JWK `alg` ES256); its JWKS also lists, like
/// Keycloak's, an encryption key `enc-1` (`use: enc`, `alg: RSA-OAEP`).
pub struct OidcIssuer {
    shared: Arc<Shared>,
    addr: SocketAddr,
    _server: JoinSet<()>,
}

impl OidcIssuer {
    /// Starts an issuer minting tokens for `audience` (the API's client id).
    /// The port is bound before this returns: no waiting needed.
    ///
    /// # Errors
    /// When no loopback port can be bound or a key cannot be loaded.
    pub async fn start(audience: &str) -> Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await.context("binding the issuer")?;
        let addr = listener.local_addr()?;
        let rsa = TestKey::rsa("rsa-1", 0)?;
        let ps = TestKey::rsa("ps-1", 1)?.with_jwk_alg(Some("PS256"));
        let ec = TestKey::p256("ec-1")?;
        let shared = Arc::new(Shared {
            issuer: format!("http://{addr}{REALM_PATH}"),
            audience: audience.to_owned(),
            signer: Mutex::new(rsa.clone()),
            grants: Mutex::new(Grants {
                interval: 1,
                device_lifetime: Duration::from_secs(600),
                ..Grants::default()
            }),
            published: Mutex::new(vec![rsa, ps, ec]),
            jwks_fetches: AtomicUsize::new(0),
            discovery_fetches: AtomicUsize::new(0),
            jwks_failing: AtomicBool::new(false),
            enc_jwk: {
                let mut jwk = TestKey::rsa("enc-1", 2)?.with_jwk_alg(Some("RSA-OAEP")).jwk();
                jwk["use"] = json!("enc");
                jwk
            },
        });
        let mut server = JoinSet::new();
        server.spawn(serve(listener, shared.clone()));
        Ok(OidcIssuer {
            shared,
            addr,
            _server: server,
        })
    }

    /// The issuer URL (`http://127.0.0.1:PORT/realms/vigie`), as in `iss`.
    pub fn issuer(&self) -> &str {
        &self.shared.issuer
    }

    /// The audience tokens are minted for by default.
    pub fn audience(&self) -> &str {
        &self.shared.audience
    }

    /// Registers a confidential client for the client credentials grant;
    /// its tokens carry the realm role `integration` and `azp` = `client_id`.
    pub fn add_client(&self, client_id: &str, secret: &str) {
        self.shared
            .grants()
            .clients
            .insert(client_id.to_owned(), secret.to_owned());
    }

    /// The polling interval (seconds) and lifetime of new device codes.
    pub fn set_device_timing(&self, interval: u64, lifetime: Duration) {
        let mut grants = self.shared.grants();
        grants.interval = interval;
        grants.device_lifetime = lifetime;
    }

    /// The user codes of the device authorizations not yet approved or denied.
    pub fn pending_user_codes(&self) -> Vec<String> {
        self.shared
            .grants()
            .devices
            .values()
            .filter(|d| d.approved.is_none() && !d.denied)
            .map(|d| d.user_code.clone())
            .collect()
    }

    /// The user approves the device authorization `user_code` (as on
    /// Keycloak's verification page); the session gets the realm role
    /// `federation-admin`.
    ///
    /// # Errors
    /// When no pending authorization has this user code.
    pub fn approve(&self, user_code: &str) -> Result<()> {
        self.approve_with_roles(user_code, &["federation-admin"])
    }

    /// [`approve`](Self::approve) with the given realm roles.
    ///
    /// # Errors
    /// When no pending authorization has this user code.
    pub fn approve_with_roles(&self, user_code: &str, roles: &[&str]) -> Result<()> {
        let mut grants = self.shared.grants();
        let device = grants.pending_device(user_code)?;
        device.approved = Some(roles.iter().map(|r| (*r).to_owned()).collect());
        Ok(())
    }

    /// The user refuses the device authorization `user_code`.
    ///
    /// # Errors
    /// When no pending authorization has this user code.
    pub fn deny(&self, user_code: &str) -> Result<()> {
        let mut grants = self.shared.grants();
        let device = grants.pending_device(user_code)?;
        device.denied = true;
        Ok(())
    }

    /// How many requests the token endpoint answered.
    pub fn token_requests(&self) -> usize {
        self.shared.grants().token_requests
    }

    /// The address the issuer listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// How many times the JWKS was requested.
    pub fn jwks_fetches(&self) -> usize {
        self.shared.jwks_fetches.load(Ordering::SeqCst)
    }

    /// How many times the discovery document was requested.
    pub fn discovery_fetches(&self) -> usize {
        self.shared.discovery_fetches.load(Ordering::SeqCst)
    }

    /// Makes the JWKS endpoint answer 500 (`true`) or serve the keys again.
    pub fn set_jwks_failing(&self, failing: bool) {
        self.shared.jwks_failing.store(failing, Ordering::SeqCst);
    }

    /// A published key by `kid`.
    ///
    /// # Errors
    /// When no published key has this `kid`.
    pub fn key(&self, kid: &str) -> Result<TestKey> {
        self.shared
            .published()
            .iter()
            .find(|key| key.kid == kid)
            .cloned()
            .ok_or_else(|| anyhow!("no published key {kid}"))
    }

    /// The key plain [`token`](Self::token)s are signed with.
    pub fn signer(&self) -> TestKey {
        self.shared.signer()
    }

    /// Publishes `key` (replacing a key with the same `kid`).
    pub fn publish(&self, key: TestKey) {
        let mut published = self.shared.published();
        published.retain(|k| k.kid != key.kid);
        published.push(key);
    }

    /// Stops publishing the key `kid`.
    pub fn unpublish(&self, kid: &str) {
        self.shared.published().retain(|k| k.kid != kid);
    }

    /// Key rotation as Keycloak does it: publishes `new`, drops the current
    /// default signer and signs with `new` from now on.
    pub fn rotate(&self, new: TestKey) {
        let mut signer = self.shared.signer.lock().unwrap_or_else(|p| p.into_inner());
        self.unpublish(&signer.kid);
        self.publish(new.clone());
        *signer = new;
    }

    /// A Keycloak-shaped access token to customise and [`sign`](TokenBuilder::sign):
    /// header `{alg: RS256, typ: JWT, kid}` of the default signer; claims
    /// `exp` (in 5 min), `iat`, `jti`, `iss`, `aud` `[audience, "account"]`,
    /// `sub`, `typ: Bearer`, `azp: vigie-cli`, default realm and account
    /// roles, `scope`, profile claims, no groups.
    pub fn token(&self) -> TokenBuilder {
        token_builder(&self.shared)
    }
}

/// The `sub` of the issuer's one user (a Keycloak user id), in every token
/// issued to a person: the default claims and the device and refresh grants.
const USER_SUBJECT: &str = "5f0c3c1e-2b6a-4f1e-9d0a-1c2b3d4e5f60";

fn token_builder(shared: &Shared) -> TokenBuilder {
    let signer = shared.signer();
    let now = now();
    let claims = json!({
        "exp": now + 300,
        "iat": now,
        "auth_time": now,
        "jti": uuid::Uuid::now_v7().to_string(),
        "iss": shared.issuer,
        "aud": [shared.audience, "account"],
        "sub": USER_SUBJECT,
        "typ": "Bearer",
        "azp": "vigie-cli",
        "sid": "0b6b1c4e-7d6f-4f39-9a4b-6a2c1b3d4e5f",
        "acr": "1",
        "allowed-origins": ["/*"],
        "realm_access": { "roles": ["default-roles-vigie", "offline_access", "uma_authorization"] },
        "resource_access": { "account": { "roles": ["manage-account", "manage-account-links", "view-profile"] } },
        "scope": "openid profile email",
        "email_verified": true,
        "name": "Camille Test",
        "preferred_username": "camille",
        "given_name": "Camille",
        "family_name": "Test",
        "email": "camille@example.org",
    });
    let mut builder = TokenBuilder {
        header: Map::new(),
        claims: match claims {
            Value::Object(map) => map,
            _ => Map::new(),
        },
        key: None,
        hmac_secret: None,
    };
    builder = builder.key(&signer);
    builder.header.insert("typ".into(), json!("JWT"));
    builder
}

/// Setters of one string member of the header or the claims: they differ
/// only by their name, the member and where it goes (`header_value` or
/// `claim`), so each is one line of this list.
macro_rules! string_members {
    ($($(#[$doc:meta])* $name:ident => $set:ident($member:literal);)*) => {
        $(
            $(#[$doc])*
            #[must_use]
            pub fn $name(self, value: &str) -> Self {
                self.$set($member, json!(value))
            }
        )*
    };
}

/// A token being built; see [`OidcIssuer::token`].
#[derive(Debug, Clone)]
pub struct TokenBuilder {
    header: Map<String, Value>,
    claims: Map<String, Value>,
    key: Option<TestKey>,
    hmac_secret: Option<Vec<u8>>,
}

impl TokenBuilder {
    /// Signs with `key`: sets `kid` and `alg` (the key's JWK `alg`, or RS256/ES256).
    #[must_use]
    pub fn key(mut self, key: &TestKey) -> Self {
        self.header.insert("alg".into(), json!(key.default_alg()));
        self.header.insert("kid".into(), json!(key.kid));
        self.key = Some(key.clone());
        self
    }

    string_members! {
        /// Header `alg` (the signature follows it: `none` signs nothing, `HS*`
        /// uses the [`hmac_secret`](Self::hmac_secret)).
        alg => header_value("alg");
        /// Header `kid`.
        kid => header_value("kid");
        /// `iss`.
        iss => claim("iss");
        /// `azp`.
        azp => claim("azp");
        /// `sub`.
        subject => claim("sub");
    }

    /// Header `typ` (`None` removes it).
    #[must_use]
    pub fn typ(mut self, typ: Option<&str>) -> Self {
        match typ {
            Some(typ) => self.header.insert("typ".into(), json!(typ)),
            None => self.header.remove("typ"),
        };
        self
    }

    /// Any header member.
    #[must_use]
    pub fn header_value(mut self, name: &str, value: Value) -> Self {
        self.header.insert(name.into(), value);
        self
    }

    /// The secret of `HS*` signatures.
    #[must_use]
    pub fn hmac_secret(mut self, secret: &[u8]) -> Self {
        self.hmac_secret = Some(secret.to_vec());
        self
    }

    /// Any claim.
    #[must_use]
    pub fn claim(mut self, name: &str, value: Value) -> Self {
        self.claims.insert(name.into(), value);
        self
    }

    /// Removes a claim.
    #[must_use]
    pub fn without_claim(mut self, name: &str) -> Self {
        self.claims.remove(name);
        self
    }

    /// `exp` = now + `seconds` (negative: in the past).
    #[must_use]
    pub fn exp_in(self, seconds: i64) -> Self {
        self.claim("exp", json!(now() + seconds))
    }

    /// `nbf` = now + `seconds`.
    #[must_use]
    pub fn nbf_in(self, seconds: i64) -> Self {
        self.claim("nbf", json!(now() + seconds))
    }

    /// `aud` (a string or an array).
    #[must_use]
    pub fn aud(self, audience: Value) -> Self {
        self.claim("aud", audience)
    }

    /// `realm_access.roles` (replacing Keycloak's defaults).
    #[must_use]
    pub fn realm_roles(self, roles: &[&str]) -> Self {
        self.claim("realm_access", json!({ "roles": roles }))
    }

    /// `resource_access.<client>.roles` (other clients kept).
    #[must_use]
    pub fn client_roles(mut self, client: &str, roles: &[&str]) -> Self {
        let access = self
            .claims
            .entry("resource_access")
            .or_insert_with(|| Value::Object(Map::new()));
        if !access.is_object() {
            *access = Value::Object(Map::new());
        }
        access[client] = json!({ "roles": roles });
        self
    }

    /// `groups` (full group paths, as Keycloak's group mapper sends them).
    #[must_use]
    pub fn groups(self, groups: &[&str]) -> Self {
        self.claim("groups", json!(groups))
    }

    /// The compact JWS.
    ///
    /// # Errors
    /// When `alg` does not fit the key (or no HMAC secret was given for `HS*`).
    pub fn sign(&self) -> Result<String> {
        let header = serde_json::to_vec(&self.header)?;
        let claims = serde_json::to_vec(&self.claims)?;
        let input = format!("{}.{}", URL_SAFE_NO_PAD.encode(header), URL_SAFE_NO_PAD.encode(claims));
        let alg = self.header.get("alg").and_then(Value::as_str).unwrap_or_default();
        let signature = sign(alg, self.key.as_ref(), self.hmac_secret.as_deref(), input.as_bytes())?;
        Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature)))
    }
}

fn sign(alg: &str, key: Option<&TestKey>, secret: Option<&[u8]>, input: &[u8]) -> Result<Vec<u8>> {
    let rng = SystemRandom::new();
    if alg == "none" {
        return Ok(Vec::new());
    }
    if let Some(bits) = alg.strip_prefix("HS") {
        let algorithm = match bits {
            "256" => ring::hmac::HMAC_SHA256,
            "384" => ring::hmac::HMAC_SHA384,
            "512" => ring::hmac::HMAC_SHA512,
            _ => bail!("unknown HMAC {alg}"),
        };
        let secret = secret.ok_or_else(|| anyhow!("{alg} needs an hmac_secret"))?;
        return Ok(ring::hmac::sign(&ring::hmac::Key::new(algorithm, secret), input)
            .as_ref()
            .to_vec());
    }
    let key = key.ok_or_else(|| anyhow!("{alg} needs a key"))?;
    match &key.pair {
        Pair::Rsa(pair) => {
            let padding: &'static dyn signature::RsaEncoding = match alg {
                "RS256" => &signature::RSA_PKCS1_SHA256,
                "RS384" => &signature::RSA_PKCS1_SHA384,
                "RS512" => &signature::RSA_PKCS1_SHA512,
                "PS256" => &signature::RSA_PSS_SHA256,
                "PS384" => &signature::RSA_PSS_SHA384,
                "PS512" => &signature::RSA_PSS_SHA512,
                _ => bail!("an RSA key cannot sign {alg}"),
            };
            let mut signature = vec![0; pair.public().modulus_len()];
            pair.sign(padding, &rng, input, &mut signature)
                .map_err(|e| anyhow!("RSA signature: {e}"))?;
            Ok(signature)
        }
        Pair::Ec(pair) => {
            if alg != "ES256" {
                bail!("a P-256 key cannot sign {alg}");
            }
            Ok(pair
                .sign(&rng, input)
                .map_err(|e| anyhow!("ECDSA signature: {e}"))?
                .as_ref()
                .to_vec())
        }
    }
}

/// Re-encodes the payload of `token` after `change`, keeping its header and
/// signature (a tampered token).
///
/// # Errors
/// When `token` is not a compact JWS with a JSON object payload.
pub fn tamper_payload(token: &str, change: impl FnOnce(&mut Map<String, Value>)) -> Result<String> {
    let parts: Vec<&str> = token.split('.').collect();
    let [header, payload, signature] = parts.as_slice() else {
        bail!("not a compact JWS");
    };
    let mut claims: Map<String, Value> = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload)?)?;
    change(&mut claims);
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims)?);
    Ok(format!("{header}.{payload}.{signature}"))
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}

async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    // Connections live in this set: dropping the issuer aborts them all.
    let mut connections = JoinSet::new();
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let shared = shared.clone();
        connections.spawn(async move {
            let service = service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                let shared = shared.clone();
                async move {
                    let (parts, body) = request.into_parts();
                    let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
                    Ok::<_, Infallible>(answer(&shared, &hyper::Request::from_parts(parts, body)))
                }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
        // Reap finished connections.
        while connections.try_join_next().is_some() {}
    }
}

fn answer(shared: &Shared, request: &hyper::Request<Bytes>) -> hyper::Response<Full<Bytes>> {
    let path = request.uri().path();
    let discovery = format!("{REALM_PATH}/.well-known/openid-configuration");
    let certs = format!("{REALM_PATH}/protocol/openid-connect/certs");
    let json_response = |status: u16, body: Value| {
        let mut response = hyper::Response::new(Full::new(Bytes::from(body.to_string())));
        *response.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::OK);
        response.headers_mut().insert(
            hyper::header::CONTENT_TYPE,
            hyper::header::HeaderValue::from_static("application/json"),
        );
        response
    };
    if path == discovery {
        shared.discovery_fetches.fetch_add(1, Ordering::SeqCst);
        let issuer = &shared.issuer;
        json_response(
            200,
            json!({
                "issuer": issuer,
                "authorization_endpoint": format!("{issuer}/protocol/openid-connect/auth"),
                "token_endpoint": format!("{issuer}/protocol/openid-connect/token"),
                "device_authorization_endpoint": format!("{issuer}/protocol/openid-connect/auth/device"),
                "end_session_endpoint": format!("{issuer}/protocol/openid-connect/logout"),
                "response_types_supported": ["code"],
                "code_challenge_methods_supported": ["S256"],
                "jwks_uri": format!("{issuer}/protocol/openid-connect/certs"),
                "id_token_signing_alg_values_supported": ["RS256", "PS256", "ES256"],
                "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials",
                    "urn:ietf:params:oauth:grant-type:device_code"],
            }),
        )
    } else if path == certs {
        shared.jwks_fetches.fetch_add(1, Ordering::SeqCst);
        if shared.jwks_failing.load(Ordering::SeqCst) {
            return json_response(500, json!({ "error": "unavailable" }));
        }
        let mut keys: Vec<Value> = shared.published().iter().map(TestKey::jwk).collect();
        keys.push(shared.enc_jwk.clone());
        json_response(200, json!({ "keys": keys }))
    } else if path == format!("{REALM_PATH}/protocol/openid-connect/auth/device") && request.method() == "POST" {
        let form = parse_form(request.body());
        if form.get("client_id").is_none_or(String::is_empty) {
            return json_response(400, json!({ "error": "invalid_client" }));
        }
        let mut grants = shared.grants();
        let device_code = random_text(32);
        let letters = random_text(8).to_uppercase();
        let user_code = format!("{}-{}", &letters[..4], &letters[4..]);
        let (interval, lifetime) = (grants.interval, grants.device_lifetime);
        grants.devices.insert(
            device_code.clone(),
            Device {
                user_code: user_code.clone(),
                approved: None,
                denied: false,
                // A lifetime beyond what an Instant holds (tests of huge
                // `expires_in` answers) never expires.
                expires: Instant::now()
                    .checked_add(lifetime)
                    .unwrap_or_else(|| Instant::now() + Duration::from_secs(100 * 365 * 86_400)),
                last_poll: None,
                interval: Duration::from_secs(interval),
            },
        );
        let verification_uri = format!("{}/device", shared.issuer);
        json_response(
            200,
            json!({
                "device_code": device_code,
                "user_code": user_code,
                "verification_uri": verification_uri,
                "verification_uri_complete": format!("{verification_uri}?user_code={user_code}"),
                "expires_in": lifetime.as_secs(),
                "interval": interval,
            }),
        )
    } else if path == format!("{REALM_PATH}/protocol/openid-connect/auth") && request.method() == "GET" {
        code::authorize(shared, request.uri().query().unwrap_or_default())
    } else if path == format!("{REALM_PATH}/protocol/openid-connect/logout") && request.method() == "GET" {
        code::end_session(shared, request.uri().query().unwrap_or_default())
    } else if path == format!("{REALM_PATH}/protocol/openid-connect/token") && request.method() == "POST" {
        let form = parse_form(request.body());
        let (status, body) = token_endpoint(shared, &form);
        json_response(status, body)
    } else {
        json_response(404, json!({ "error": "not found" }))
    }
}

fn parse_form(body: &[u8]) -> HashMap<String, String> {
    fn decode(text: &str) -> String {
        let bytes = text.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut index = 0;
        while index < bytes.len() {
            match bytes[index] {
                b'+' => out.push(b' '),
                b'%' if index + 2 < bytes.len() => {
                    let hex = std::str::from_utf8(&bytes[index + 1..index + 3]).unwrap_or("");
                    out.push(u8::from_str_radix(hex, 16).unwrap_or(b'?'));
                    index += 2;
                }
                other => out.push(other),
            }
            index += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }
    String::from_utf8_lossy(body)
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(name, value)| (decode(name), decode(value)))
        .collect()
}

/// `len` random hexadecimal characters.
fn random_text(len: usize) -> String {
    let mut bytes = vec![0_u8; len.div_ceil(2)];
    let _ = ring::rand::SecureRandom::fill(&SystemRandom::new(), &mut bytes);
    let mut text: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    text.truncate(len);
    text
}

fn oauth_error(error: &str) -> (u16, Value) {
    (400, json!({ "error": error }))
}

/// Tokens for a session with `roles`: an access token (5 min) and a new refresh token.
fn tokens(shared: &Shared, grants: &mut Grants, azp: &str, subject: &str, roles: &[String]) -> (u16, Value) {
    let roles: Vec<&str> = roles.iter().map(String::as_str).collect();
    let Ok(access) = token_builder(shared)
        .azp(azp)
        .subject(subject)
        .realm_roles(&roles)
        .sign()
    else {
        return (500, json!({ "error": "server_error" }));
    };
    let refresh = random_text(40);
    grants
        .refresh
        .insert(refresh.clone(), roles.iter().map(|r| (*r).to_owned()).collect());
    (
        200,
        json!({
            "access_token": access,
            "expires_in": 300,
            "refresh_expires_in": 1800,
            "refresh_token": refresh,
            "token_type": "Bearer",
            "scope": "openid profile email",
        }),
    )
}

fn token_endpoint(shared: &Shared, form: &HashMap<String, String>) -> (u16, Value) {
    let mut grants = shared.grants();
    grants.token_requests += 1;
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or_default();
    match field("grant_type") {
        "urn:ietf:params:oauth:grant-type:device_code" => {
            let Some(device) = grants.devices.get_mut(field("device_code")) else {
                return oauth_error("invalid_grant");
            };
            let now = Instant::now();
            if now >= device.expires {
                return oauth_error("expired_token");
            }
            if device.denied {
                return oauth_error("access_denied");
            }
            let too_soon = device
                .last_poll
                .is_some_and(|last| now.duration_since(last) + Duration::from_millis(100) < device.interval);
            device.last_poll = Some(now);
            if too_soon {
                device.interval += Duration::from_secs(5);
                return oauth_error("slow_down");
            }
            let Some(roles) = device.approved.clone() else {
                return oauth_error("authorization_pending");
            };
            grants.devices.remove(field("device_code"));
            let client = field("client_id").to_owned();
            tokens(shared, &mut grants, &client, USER_SUBJECT, &roles)
        }
        "refresh_token" => {
            // Refresh tokens rotate, as Keycloak's do by default.
            let Some(roles) = grants.refresh.remove(field("refresh_token")) else {
                return oauth_error("invalid_grant");
            };
            let client = field("client_id").to_owned();
            tokens(shared, &mut grants, &client, USER_SUBJECT, &roles)
        }
        "client_credentials" => {
            let client = field("client_id").to_owned();
            if grants
                .clients
                .get(&client)
                .is_none_or(|secret| secret != field("client_secret"))
            {
                return (
                    401,
                    json!({ "error": "unauthorized_client", "error_description": "Invalid client or Invalid client credentials" }),
                );
            }
            let (status, mut body) = tokens(
                shared,
                &mut grants,
                &client,
                &format!("service-account-{client}"),
                &["integration".to_owned()],
            );
            // Keycloak issues no refresh token to service accounts by default.
            if let Some(refresh) = body.get("refresh_token").and_then(Value::as_str).map(str::to_owned) {
                grants.refresh.remove(&refresh);
            }
            if let Value::Object(map) = &mut body {
                map.remove("refresh_token");
                map.remove("refresh_expires_in");
            }
            (status, body)
        }
        "authorization_code" => code::exchange(shared, &mut grants, form),
        _ => oauth_error("unsupported_grant_type"),
    }
}
