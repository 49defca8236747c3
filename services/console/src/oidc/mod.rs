//! OIDC sign-in of the console (`vigie serve console`): a relying party of
//! the issuer the services trust, with the authorization code flow and PKCE
//! S256, and RP-initiated logout (docs/security.md, "Console sign-in").
//!
//! Discovery, keys and signature checks are the services' own validator
//! ([`OidcValidator`], with the console's client id as audience): the ID
//! token is checked there ([`OidcValidator::validate_id_token`]). The
//! access token is not checked here: the console only carries it to the
//! services, which validate it on every call.

pub mod flow;

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use vigie_platform::auth::{exchange, IdToken, OidcConfig, OidcValidator};

/// Time allowed to the token endpoint.
const TOKEN_TIMEOUT: Duration = Duration::from_secs(10);

/// How the console signs people in with OIDC.
#[derive(Clone)]
pub struct OidcSettings {
    /// The issuer URL, exactly as in `iss` (the services' one).
    pub issuer: String,
    /// The console's client id (Keycloak: `vigie-console`).
    pub client_id: String,
    /// The client secret of a confidential client; `None` for a public one.
    pub client_secret: Option<String>,
    /// The console's public URL (`https://console.example.org`), whose
    /// `/connexion/retour` is the redirect URI.
    pub public_url: String,
    /// The services' audience (`--oidc-audience`): the console reads the
    /// access token's roles and groups as the services will check them, to
    /// lead each person to her role's page. Without it everyone lands on the
    /// home list.
    pub audience: Option<String>,
}

impl std::fmt::Debug for OidcSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcSettings")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("confidential", &self.client_secret.is_some())
            .field("public_url", &self.public_url)
            .field("audience", &self.audience)
            .finish()
    }
}

/// Why the console cannot sign people in with this issuer.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// Discovery or keys failed (see [`vigie_platform::auth::OidcError`]).
    #[error(transparent)]
    Oidc(#[from] vigie_platform::auth::OidcError),
    /// The issuer has no authorization or token endpoint.
    #[error("l'émetteur OIDC n'annonce pas de {0} (authorization code flow impossible)")]
    Missing(&'static str),
}

/// Why a sign-in failed (logged without codes or tokens).
#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    /// The token endpoint could not be reached or timed out.
    #[error("point de jetons injoignable : {0}")]
    Unreachable(String),
    /// The issuer refused the code (wrong verifier, reused code, …).
    #[error("code refusé par l'émetteur ({status}, {error})")]
    Refused {
        /// HTTP status.
        status: u16,
        /// OAuth `error`.
        error: String,
    },
    /// The answer lacks a token, or the ID token is invalid.
    #[error("réponse de l'émetteur invalide : {0}")]
    Invalid(String),
}

/// A signed-in person, from the token endpoint's answer.
pub struct Tokens {
    /// Sent to the services.
    pub access_token: String,
    /// Kept for the logout's `id_token_hint`.
    pub id_token: String,
    /// What the valid ID token says.
    pub person: IdToken,
    /// The access token's life (`expires_in`), when given.
    pub expires_in: Option<Duration>,
    /// The Vigie roles and groups of the access token, read by the services'
    /// own validator (empty without [`OidcSettings::audience`]).
    pub roles: Vec<vigie_platform::auth::Role>,
    /// Its groups (`/networks/N`, `/networks/N/structures/S`).
    pub groups: Vec<String>,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: Option<String>,
    id_token: Option<String>,
    expires_in: Option<u64>,
}

#[derive(Deserialize)]
struct OAuthError {
    error: Option<String>,
}

/// The console as an OIDC relying party.
pub struct RelyingParty {
    settings: OidcSettings,
    validator: Arc<OidcValidator>,
    /// The services' validator (their audience), for the access token.
    access: Option<Arc<OidcValidator>>,
    authorization: String,
    token: String,
    end_session: Option<String>,
}

impl std::fmt::Debug for RelyingParty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelyingParty")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl RelyingParty {
    /// Reads the issuer's discovery document and keys.
    ///
    /// # Errors
    /// [`SetupError`]: the console should not start.
    pub async fn discover(settings: OidcSettings) -> Result<Self, SetupError> {
        let validator = OidcValidator::discover(OidcConfig::new(&settings.issuer, &settings.client_id)).await?;
        let endpoints = validator.endpoints().clone();
        let authorization = endpoints
            .authorization
            .ok_or(SetupError::Missing("authorization_endpoint"))?;
        let token = endpoints.token.ok_or(SetupError::Missing("token_endpoint"))?;
        let access = match &settings.audience {
            Some(audience) => Some(OidcValidator::discover(OidcConfig::new(&settings.issuer, audience)).await?),
            None => None,
        };
        Ok(RelyingParty {
            settings,
            validator,
            access,
            authorization,
            token,
            end_session: endpoints.end_session,
        })
    }

    /// The settings in force.
    pub fn settings(&self) -> &OidcSettings {
        &self.settings
    }

    /// `<public URL>/connexion/retour`.
    pub fn redirect_uri(&self) -> String {
        format!("{}/connexion/retour", self.settings.public_url.trim_end_matches('/'))
    }

    /// Where the issuer sends the browser back after logout.
    pub fn post_logout_uri(&self) -> String {
        format!("{}/deconnexion", self.settings.public_url.trim_end_matches('/'))
    }

    /// The authorization URL for a sign-in with this `state`, `nonce` and
    /// PKCE verifier.
    pub fn authorization_url(&self, state: &str, nonce: &str, verifier: &str) -> String {
        flow::authorization_url(&flow::Authorization {
            endpoint: &self.authorization,
            client_id: &self.settings.client_id,
            redirect_uri: &self.redirect_uri(),
            state,
            nonce,
            verifier,
        })
    }

    /// The origin (`scheme://host[:port]`) of the end-session endpoint, where
    /// the sign-out form's answer leads.
    pub fn logout_origin(&self) -> Option<String> {
        let uri: http::Uri = self.end_session.as_deref()?.parse().ok()?;
        Some(format!("{}://{}", uri.scheme_str()?, uri.authority()?))
    }

    /// The RP-initiated logout URL, when the issuer has an end-session endpoint.
    pub fn logout_url(&self, id_token_hint: Option<&str>) -> Option<String> {
        self.end_session.as_deref().map(|endpoint| {
            flow::logout_url(
                endpoint,
                id_token_hint,
                &self.settings.client_id,
                &self.post_logout_uri(),
            )
        })
    }

    /// Exchanges `code` at the token endpoint (with the PKCE verifier, and
    /// the secret of a confidential client), then validates the ID token
    /// against `nonce`.
    ///
    /// # Errors
    /// [`ExchangeError`].
    pub async fn exchange(&self, code: &str, verifier: &str, nonce: &str) -> Result<Tokens, ExchangeError> {
        let redirect_uri = self.redirect_uri();
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri.as_str()),
            ("client_id", self.settings.client_id.as_str()),
            ("code_verifier", verifier),
        ];
        if let Some(secret) = &self.settings.client_secret {
            // client_secret_post: Keycloak's "Client Id and Secret" accepts it.
            form.push(("client_secret", secret.as_str()));
        }
        let (status, body) = exchange(&self.token, Some(&form), TOKEN_TIMEOUT)
            .await
            .map_err(|error| ExchangeError::Unreachable(error.to_string()))?;
        if status != http::StatusCode::OK {
            let error = serde_json::from_slice::<OAuthError>(&body)
                .ok()
                .and_then(|e| e.error)
                .unwrap_or_default();
            return Err(ExchangeError::Refused {
                status: status.as_u16(),
                // An OAuth error code is a short token; never the body itself.
                error: error
                    .chars()
                    .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .take(40)
                    .collect(),
            });
        }
        let answer: TokenAnswer =
            serde_json::from_slice(&body).map_err(|_| ExchangeError::Invalid("JSON illisible".to_owned()))?;
        let access_token = answer
            .access_token
            .filter(|t| !t.is_empty())
            .ok_or_else(|| ExchangeError::Invalid("access_token absent".to_owned()))?;
        let id_token = answer
            .id_token
            .filter(|t| !t.is_empty())
            .ok_or_else(|| ExchangeError::Invalid("id_token absent".to_owned()))?;
        let person = self
            .validator
            .validate_id_token(&id_token, nonce)
            .await
            .map_err(|error| ExchangeError::Invalid(format!("ID token : {error}")))?;
        // The roles and groups the services will read from the access token
        // (the ID token carries no roles): only where `/` leads depends on
        // them; the services still check every call.
        let (roles, groups) = match &self.access {
            Some(access) => {
                let principal = access
                    .validate(&access_token)
                    .await
                    .map_err(|error| ExchangeError::Invalid(format!("access token : {error}")))?;
                let groups = principal.scopes.iter().map(ToString::to_string).collect();
                (principal.roles.into_iter().collect(), groups)
            }
            None => (Vec::new(), person.groups.clone()),
        };
        Ok(Tokens {
            access_token,
            id_token,
            person,
            expires_in: answer.expires_in.map(Duration::from_secs),
            roles,
            groups,
        })
    }
}
