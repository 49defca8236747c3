//! `vigie login` / `vigie logout`: OAuth 2.0 device authorization grant
//! (RFC 8628) or client credentials against the federation's OIDC issuer
//! (Keycloak), and the token cache that client commands use when no
//! `--token` / `VIGIE_TOKEN` is given.
//!
//! The cache is `$XDG_CONFIG_HOME/vigie/tokens.json` (or
//! `~/.config/vigie/tokens.json`), mode 0600, one entry per server endpoint.
//! Tokens are never printed. An access token whose `exp` (read from the JWT
//! payload, without checking the signature: the server does that) is past is
//! refreshed with the refresh token before the command connects.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, bail, Context as _};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::i18n::Lang;

/// Timeout of every exchange with the issuer.
const TIMEOUT: Duration = Duration::from_secs(15);
/// An access token expiring within this margin is refreshed first.
const MARGIN_SECS: i64 = 30;
const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// The tokens of one endpoint.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    /// The issuer the tokens come from.
    pub issuer: String,
    /// The OAuth client id.
    pub client_id: String,
    /// The issuer's token endpoint (refresh).
    pub token_endpoint: String,
    /// The access token.
    pub access_token: String,
    /// The refresh token (none for client credentials).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// `client_credentials` or `device_code`.
    pub grant: String,
}

/// The cache file: endpoint → tokens.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Cache {
    endpoints: BTreeMap<String, Entry>,
}

/// The cache file path.
///
/// # Errors
/// When neither `XDG_CONFIG_HOME` nor `HOME` is set.
pub fn cache_path() -> anyhow::Result<PathBuf> {
    let base = match std::env::var_os("XDG_CONFIG_HOME").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .ok_or_else(|| anyhow!("ni XDG_CONFIG_HOME ni HOME ne sont définis"))?,
        )
        .join(".config"),
    };
    Ok(base.join("vigie").join("tokens.json"))
}

fn load() -> anyhow::Result<Cache> {
    let path = cache_path()?;
    match std::fs::read(&path) {
        Ok(bytes) => {
            serde_json::from_slice(&bytes).with_context(|| format!("cache de jetons {} illisible", path.display()))
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Cache::default()),
        Err(error) => Err(error).with_context(|| format!("lecture de {}", path.display())),
    }
}

fn save(cache: &Cache) -> anyhow::Result<()> {
    use std::io::Write as _;
    let path = cache_path()?;
    let dir = path.parent().ok_or_else(|| anyhow!("{}", path.display()))?;
    std::fs::create_dir_all(dir).with_context(|| format!("création de {}", dir.display()))?;
    let temporary = path.with_extension("json.tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(&temporary)
        .with_context(|| format!("écriture de {}", temporary.display()))?;
    #[cfg(unix)]
    std::fs::set_permissions(&temporary, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    file.write_all(&serde_json::to_vec_pretty(cache)?)?;
    file.sync_all()?;
    std::fs::rename(&temporary, &path).with_context(|| format!("écriture de {}", path.display()))?;
    Ok(())
}

/// The `exp` claim of a JWT, read without checking the signature.
fn expiry(token: &str) -> Option<i64> {
    let payload = token.split('.').nth(1)?;
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?).ok()?;
    claims.get("exp")?.as_i64()
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}

/// An OAuth error answer (`error`, `error_description`).
struct OauthError {
    error: String,
    description: Option<String>,
}

/// POSTs `form` to `url`: the JSON of a 200, or the OAuth error.
async fn post(url: &str, form: &[(&str, &str)], lang: Lang) -> anyhow::Result<Result<Value, OauthError>> {
    let (status, body) = vigie_platform::auth::exchange(url, Some(form), TIMEOUT)
        .await
        .map_err(|error| {
            anyhow!(
                "{} : {error}",
                lang.pick("fournisseur d'identité injoignable", "identity provider unreachable")
            )
        })?;
    let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if status.is_success() {
        return Ok(Ok(json));
    }
    Ok(Err(OauthError {
        error: json
            .get("error")
            .and_then(Value::as_str)
            .map_or_else(|| format!("HTTP {status}"), str::to_owned),
        description: json.get("error_description").and_then(Value::as_str).map(str::to_owned),
    }))
}

fn text(json: &Value, name: &str) -> Option<String> {
    json.get(name).and_then(Value::as_str).map(str::to_owned)
}

/// The device authorization and token endpoints of `issuer` (discovery).
async fn discover(issuer: &str, lang: Lang) -> anyhow::Result<(Option<String>, String)> {
    let url = format!("{}/.well-known/openid-configuration", issuer.trim_end_matches('/'));
    let unreachable = |cause: String| {
        anyhow!(
            "{} {issuer} : {cause}",
            lang.pick("découverte OIDC impossible auprès de", "OIDC discovery failed at")
        )
    };
    let (status, body) = vigie_platform::auth::exchange(&url, None, TIMEOUT)
        .await
        .map_err(|error| unreachable(error.to_string()))?;
    if !status.is_success() {
        return Err(unreachable(format!("HTTP {status}")));
    }
    let document: Value = serde_json::from_slice(&body).map_err(|error| unreachable(error.to_string()))?;
    if text(&document, "issuer").as_deref() != Some(issuer.trim_end_matches('/')) {
        return Err(unreachable(
            lang.pick("émetteur différent", "different issuer").to_owned(),
        ));
    }
    let token = text(&document, "token_endpoint").ok_or_else(|| unreachable("token_endpoint".to_owned()))?;
    Ok((text(&document, "device_authorization_endpoint"), token))
}

/// What `vigie login` was asked.
#[derive(Debug)]
pub struct Login {
    /// The issuer URL.
    pub issuer: String,
    /// The OAuth client.
    pub client_id: String,
    /// Client credentials instead of the device flow.
    pub client_credentials: bool,
    /// The client secret (client credentials).
    pub client_secret: Option<String>,
    /// The server endpoint the tokens are for.
    pub endpoint: String,
}

/// `vigie login`.
///
/// # Errors
/// When the issuer is unreachable, the user refuses or lets the code
/// expire, the client is refused, or the cache cannot be written.
pub async fn login(request: Login, lang: Lang) -> anyhow::Result<()> {
    let issuer = request.issuer.trim_end_matches('/').to_owned();
    let (device_endpoint, token_endpoint) = discover(&issuer, lang).await?;
    let (tokens, grant) = if request.client_credentials {
        let secret = request
            .client_secret
            .as_deref()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                anyhow!(
                    "{}",
                    lang.pick(
                        "--client-credentials demande --client-secret ou VIGIE_CLIENT_SECRET",
                        "--client-credentials needs --client-secret or VIGIE_CLIENT_SECRET"
                    )
                )
            })?;
        (
            client_credentials(&token_endpoint, &request.client_id, secret, lang).await?,
            "client_credentials",
        )
    } else {
        let device_endpoint = device_endpoint.ok_or_else(|| {
            anyhow!(
                "{}",
                lang.pick(
                    "cet émetteur n'annonce pas d'autorisation d'appareil (device_authorization_endpoint) ; dans Keycloak, activez « OAuth 2.0 Device Authorization Grant » sur le client",
                    "this issuer advertises no device authorization endpoint; in Keycloak, enable \"OAuth 2.0 Device Authorization Grant\" on the client"
                )
            )
        })?;
        (
            device_flow(&device_endpoint, &token_endpoint, &request.client_id, lang).await?,
            "device_code",
        )
    };
    let access_token = text(&tokens, "access_token").ok_or_else(|| anyhow!("access_token absent"))?;
    let mut cache = load()?;
    cache.endpoints.insert(
        request.endpoint.clone(),
        Entry {
            issuer,
            client_id: request.client_id,
            token_endpoint,
            access_token,
            refresh_token: text(&tokens, "refresh_token"),
            grant: grant.to_owned(),
        },
    );
    save(&cache)?;
    println!(
        "{} {} ({})",
        lang.pick("Connecté : jetons enregistrés pour", "Logged in: tokens saved for"),
        request.endpoint,
        cache_path()?.display()
    );
    Ok(())
}

async fn client_credentials(token_endpoint: &str, client_id: &str, secret: &str, lang: Lang) -> anyhow::Result<Value> {
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", client_id),
        ("client_secret", secret),
    ];
    post(token_endpoint, &form, lang).await?.map_err(|error| {
        anyhow!(
            "{} ({}{})",
            lang.pick(
                "identifiants du client refusés par le fournisseur d'identité : vérifiez --client-id et le secret",
                "client credentials refused by the identity provider: check --client-id and the secret"
            ),
            error.error,
            error.description.map(|d| format!(" : {d}")).unwrap_or_default()
        )
    })
}

async fn device_flow(
    device_endpoint: &str,
    token_endpoint: &str,
    client_id: &str,
    lang: Lang,
) -> anyhow::Result<Value> {
    let form = [("client_id", client_id), ("scope", "openid")];
    let authorization = post(device_endpoint, &form, lang).await?.map_err(|error| {
        anyhow!(
            "{} : {}",
            lang.pick("autorisation d'appareil refusée", "device authorization refused"),
            error.error
        )
    })?;
    let device_code = text(&authorization, "device_code").ok_or_else(|| anyhow!("device_code absent"))?;
    let user_code = text(&authorization, "user_code").ok_or_else(|| anyhow!("user_code absent"))?;
    let uri = text(&authorization, "verification_uri").ok_or_else(|| anyhow!("verification_uri absent"))?;
    let (mut interval, expires_in) = device_timing(&authorization);
    let deadline = deadline_after(tokio::time::Instant::now(), expires_in);
    match lang {
        Lang::Fr => println!("Pour vous connecter, ouvrez {uri}\net saisissez le code : {user_code}"),
        Lang::En => println!("To log in, open {uri}\nand enter the code: {user_code}"),
    }
    if let Some(complete) = text(&authorization, "verification_uri_complete") {
        println!("{} {complete}", lang.pick("(ou directement :", "(or directly:"));
    }
    println!(
        "{}",
        lang.pick("En attente de votre confirmation…", "Waiting for your approval…")
    );
    let expired = || {
        anyhow!(
            "{}",
            lang.pick(
                "le code a expiré avant d'être confirmé : relancez vigie login",
                "the code expired before it was approved: run vigie login again"
            )
        )
    };
    loop {
        tokio::time::sleep(Duration::from_secs(interval)).await;
        if tokio::time::Instant::now() >= deadline {
            return Err(expired());
        }
        let form = [
            ("grant_type", DEVICE_GRANT),
            ("device_code", &device_code),
            ("client_id", client_id),
        ];
        match post(token_endpoint, &form, lang).await? {
            Ok(tokens) => return Ok(tokens),
            Err(error) => match error.error.as_str() {
                "authorization_pending" => {}
                "slow_down" => interval = interval.saturating_add(5).min(MAX_POLL_INTERVAL_SECS),
                "expired_token" => return Err(expired()),
                "access_denied" => bail!(
                    "{}",
                    lang.pick(
                        "connexion refusée sur la page du fournisseur d'identité",
                        "login denied on the identity provider's page"
                    )
                ),
                other => bail!(
                    "{} : {other}{}",
                    lang.pick("connexion impossible", "login failed"),
                    error.description.map(|d| format!(" ({d})")).unwrap_or_default()
                ),
            },
        }
    }
}

/// Longest wait for a device code the CLI accepts, whatever the server says.
const MAX_DEVICE_CODE_SECS: u64 = 3600;
/// Longest pause between two polls of the token endpoint.
const MAX_POLL_INTERVAL_SECS: u64 = 60;

/// The polling interval and lifetime (seconds) of a device authorisation
/// answer, with RFC 8628 defaults (5 s, 600 s), clamped to sane bounds: a
/// hostile or broken server's huge values must not overflow a deadline.
fn device_timing(authorization: &Value) -> (u64, u64) {
    let interval = authorization
        .get("interval")
        .and_then(Value::as_u64)
        .unwrap_or(5)
        .clamp(1, MAX_POLL_INTERVAL_SECS);
    let expires_in = authorization
        .get("expires_in")
        .and_then(Value::as_u64)
        .unwrap_or(600)
        .min(MAX_DEVICE_CODE_SECS);
    (interval, expires_in)
}

/// `now + seconds`, or `now` when it cannot be represented (never panics).
fn deadline_after(now: tokio::time::Instant, seconds: u64) -> tokio::time::Instant {
    now.checked_add(Duration::from_secs(seconds)).unwrap_or(now)
}

/// `vigie logout`: forgets the tokens of `endpoint`.
///
/// # Errors
/// When the cache cannot be read or written.
pub fn logout(endpoint: &str, lang: Lang) -> anyhow::Result<()> {
    let mut cache = load()?;
    if cache.endpoints.remove(endpoint).is_some() {
        save(&cache)?;
        println!(
            "{} {endpoint}",
            lang.pick("Déconnecté : jetons supprimés pour", "Logged out: tokens removed for")
        );
    } else {
        println!(
            "{} {endpoint}",
            lang.pick("Aucun jeton enregistré pour", "No tokens saved for")
        );
    }
    Ok(())
}

/// The cached access token for `endpoint`, refreshed first when expired
/// (`None`: not logged in).
///
/// # Errors
/// When the cache is unreadable or the refresh is refused (the message says
/// to log in again).
pub async fn cached_token(endpoint: &str, lang: Lang) -> anyhow::Result<Option<String>> {
    let mut cache = load()?;
    let Some(entry) = cache.endpoints.get(endpoint).cloned() else {
        return Ok(None);
    };
    if expiry(&entry.access_token).is_none_or(|exp| exp > now().saturating_add(MARGIN_SECS)) {
        return Ok(Some(entry.access_token));
    }
    let again = || {
        anyhow!(
            "{}",
            match lang {
                Lang::Fr => format!(
                    "session expirée pour {endpoint} : reconnectez-vous avec vigie login --issuer {}",
                    entry.issuer
                ),
                Lang::En => format!(
                    "session expired for {endpoint}: log in again with vigie login --issuer {}",
                    entry.issuer
                ),
            }
        )
    };
    let secret = std::env::var("VIGIE_CLIENT_SECRET").ok().filter(|s| !s.is_empty());
    let tokens = match (&entry.refresh_token, secret) {
        (Some(refresh), _) => {
            let form = [
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh.as_str()),
                ("client_id", entry.client_id.as_str()),
            ];
            post(&entry.token_endpoint, &form, lang).await?.map_err(|_| again())?
        }
        (None, Some(secret)) if entry.grant == "client_credentials" => {
            client_credentials(&entry.token_endpoint, &entry.client_id, &secret, lang).await?
        }
        _ => return Err(again()),
    };
    let access_token = text(&tokens, "access_token").ok_or_else(again)?;
    let updated = Entry {
        access_token: access_token.clone(),
        refresh_token: text(&tokens, "refresh_token").or(entry.refresh_token.clone()),
        ..entry
    };
    cache.endpoints.insert(endpoint.to_owned(), updated);
    save(&cache)?;
    Ok(Some(access_token))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_is_read_from_the_payload() {
        let payload = URL_SAFE_NO_PAD.encode(br#"{"exp":1700000000,"sub":"x"}"#);
        assert_eq!(expiry(&format!("e30.{payload}.sig")), Some(1_700_000_000));
        assert_eq!(expiry("not-a-jwt"), None);
    }

    #[test]
    fn device_timing_is_clamped_and_never_overflows() {
        let huge = serde_json::json!({"interval": u64::MAX, "expires_in": u64::MAX});
        let (interval, expires_in) = device_timing(&huge);
        assert_eq!((interval, expires_in), (MAX_POLL_INTERVAL_SECS, MAX_DEVICE_CODE_SECS));
        assert_eq!(device_timing(&serde_json::json!({})), (5, 600));
        assert_eq!(
            device_timing(&serde_json::json!({"interval": 0, "expires_in": 30})),
            (1, 30)
        );
        // Negative or non-integer values fall back to the defaults.
        assert_eq!(
            device_timing(&serde_json::json!({"interval": -3, "expires_in": 1e300})),
            (5, 600)
        );
        let now = tokio::time::Instant::now();
        assert!(deadline_after(now, expires_in) > now);
        assert_eq!(deadline_after(now, u64::MAX), now);
    }
}
