//! Client commands: gRPC calls for people, with clear French errors.
//!
//! Every command connects through [`connect`], whose channel carries the
//! access token of `--token` / `VIGIE_TOKEN`, or else the one cached by
//! `vigie login` for the endpoint (set once by `main` with
//! [`set_token`]) as `authorization: Bearer …` on every call, whatever the
//! service.

pub mod alerting;
pub mod facilitation;
pub mod inventory;
pub mod people;
pub mod training;

use std::sync::OnceLock;

use anyhow::Context;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::interceptor::InterceptedService;
use tonic::service::Interceptor;
use tonic::transport::Endpoint;

use crate::i18n::Lang;

/// The access token of this process (`--token` / `VIGIE_TOKEN`).
static TOKEN: OnceLock<Option<String>> = OnceLock::new();

/// Sets the access token every call of this process sends; `main` calls it
/// once, before any command connects (later calls are ignored).
pub fn set_token(token: Option<String>) {
    let _ = TOKEN.set(token.filter(|t| !t.trim().is_empty()));
}

/// A connection to a Vigie server that authenticates every call.
pub type Channel = InterceptedService<tonic::transport::Channel, Bearer>;

/// Adds `authorization: Bearer <token>` to every request (nothing without a token).
#[derive(Clone)]
pub struct Bearer(Option<MetadataValue<Ascii>>);

impl std::fmt::Debug for Bearer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the token.
        f.write_str(if self.0.is_some() {
            "Bearer(…)"
        } else {
            "Bearer(none)"
        })
    }
}

impl Interceptor for Bearer {
    fn call(&mut self, mut request: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(value) = &self.0 {
            request.metadata_mut().insert("authorization", value.clone());
        }
        Ok(request)
    }
}

impl Bearer {
    /// The header value for `token` (`None`: no header).
    fn new(token: Option<&str>, lang: Lang) -> anyhow::Result<Self> {
        let Some(token) = token.map(str::trim) else {
            return Ok(Bearer(None));
        };
        let mut value: MetadataValue<Ascii> = format!("Bearer {token}").parse().map_err(|_| {
            anyhow::anyhow!(
                "{}",
                lang.pick(
                    "jeton d'accès illisible (--token / VIGIE_TOKEN) : un jeton OIDC ne contient que des caractères ASCII visibles",
                    "unreadable access token (--token / VIGIE_TOKEN): an OIDC token holds visible ASCII characters only"
                )
            )
        })?;
        value.set_sensitive(true);
        Ok(Bearer(Some(value)))
    }
}

/// Connects to a Vigie server, or explains how to start one. Calls carry the
/// token given to [`set_token`], if any.
///
/// # Errors
/// A message telling the user what to check when the server is unreachable,
/// or that the token cannot be sent.
pub async fn connect(endpoint: &str, lang: Lang) -> anyhow::Result<Channel> {
    let bearer = Bearer::new(TOKEN.get().and_then(Option::as_deref), lang)?;
    let target = Endpoint::from_shared(endpoint.to_owned()).with_context(|| {
        format!(
            "{} « {endpoint} »",
            lang.pick("adresse de serveur invalide", "invalid server address")
        )
    })?;
    let channel = target.connect().await.map_err(|_| {
        anyhow::anyhow!(
            "{}",
            match lang {
                Lang::Fr => format!(
                    "impossible de joindre Vigie à {endpoint}.\n  Le serveur est-il démarré ? Pour essayer : `vigie dev --demo` dans un autre terminal,\n  ou indiquez l'adresse avec --endpoint / VIGIE_ENDPOINT."
                ),
                Lang::En => format!(
                    "cannot reach Vigie at {endpoint}.\n  Is the server running? To try it: `vigie dev --demo` in another terminal,\n  or give the address with --endpoint / VIGIE_ENDPOINT."
                ),
            }
        )
    })?;
    Ok(InterceptedService::new(channel, bearer))
}

/// Turns a gRPC error into a message for people (the server's message is
/// already in French and free of internals).
pub fn status_error(status: tonic::Status, lang: Lang) -> anyhow::Error {
    if status.code() == tonic::Code::Unauthenticated {
        // The server says nothing more, on purpose (docs/security.md).
        return anyhow::anyhow!(
            "{}",
            lang.pick(
                "authentification refusée : jeton absent, expiré ou invalide — obtenez un jeton d'accès auprès du fournisseur d'identité (Keycloak) de votre fédération et passez-le avec --token ou VIGIE_TOKEN, ou connectez-vous avec vigie login --issuer URL",
                "authentication refused: missing, expired or invalid token — get an access token from your federation's identity provider (Keycloak) and pass it with --token or VIGIE_TOKEN, or log in with vigie login --issuer URL"
            )
        );
    }
    let kind = match status.code() {
        tonic::Code::NotFound => lang.pick("introuvable", "not found"),
        tonic::Code::InvalidArgument => lang.pick("demande invalide", "invalid request"),
        tonic::Code::Unavailable => lang.pick("serveur indisponible", "server unavailable"),
        tonic::Code::PermissionDenied => lang.pick("accès refusé", "access denied"),
        _ => lang.pick("erreur du serveur", "server error"),
    };
    anyhow::anyhow!("{kind} : {}", status.message())
}
