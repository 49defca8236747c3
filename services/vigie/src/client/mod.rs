//! Client commands: gRPC calls for people, with clear French errors.

pub mod facilitation;
pub mod inventory;
pub mod training;

use anyhow::Context;
use tonic::transport::{Channel, Endpoint};

use crate::i18n::Lang;

/// Connects to a Vigie server, or explains how to start one.
///
/// # Errors
/// A message telling the user what to check when the server is unreachable.
pub async fn connect(endpoint: &str, lang: Lang) -> anyhow::Result<Channel> {
    let target = Endpoint::from_shared(endpoint.to_owned()).with_context(|| {
        format!(
            "{} « {endpoint} »",
            lang.pick("adresse de serveur invalide", "invalid server address")
        )
    })?;
    target.connect().await.map_err(|_| {
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
    })
}

/// Turns a gRPC error into a message for people (the server's message is
/// already in French and free of internals).
pub fn status_error(status: tonic::Status, lang: Lang) -> anyhow::Error {
    let kind = match status.code() {
        tonic::Code::NotFound => lang.pick("introuvable", "not found"),
        tonic::Code::InvalidArgument => lang.pick("demande invalide", "invalid request"),
        tonic::Code::Unavailable => lang.pick("serveur indisponible", "server unavailable"),
        tonic::Code::Unauthenticated | tonic::Code::PermissionDenied => lang.pick("accès refusé", "access denied"),
        _ => lang.pick("erreur du serveur", "server error"),
    };
    anyhow::anyhow!("{kind} : {}", status.message())
}
