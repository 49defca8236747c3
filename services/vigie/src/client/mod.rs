//! Client commands: gRPC calls for people, with clear French errors.
//!
//! Every command connects through [`connect`], whose channel carries the
//! access token of `--token` / `VIGIE_TOKEN`, or else the one cached by
//! `vigie login` for the endpoint (set once by `main` with
//! [`set_token`]) as `authorization: Bearer …` on every call, whatever the
//! service.
//!
//! Transport (`vigie_platform::grpc::client`): an `https://` endpoint is TLS
//! or an error, with the TLS files given once by `main` ([`set_tls`]:
//! `--ca-cert`, `--client-cert`, `--client-key`); a token is never sent in
//! cleartext to another machine than this one. Every service client reads
//! answers up to [`MAX_RESPONSE_BYTES`] (tonic's default, 4 MiB, was too
//! small for a whole export).

pub mod alerting;
pub mod facilitation;
pub mod federation;
pub mod grants;
pub mod grants_import;
pub mod health;
pub mod inventory;
pub mod inventory_files;
pub mod people;
pub mod training;

use std::sync::OnceLock;

use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::interceptor::InterceptedService;
use tonic::service::Interceptor;
use vigie_platform::grpc::client::{self as transport, ClientError, ClientOptions};
use vigie_platform::grpc::tls::ClientTlsFiles;

use crate::i18n::Lang;

/// Largest answer a command reads.
pub const MAX_RESPONSE_BYTES: usize = vigie_platform::grpc::CLIENT_MAX_RESPONSE_BYTES;
/// Largest request a command sends.
pub const MAX_REQUEST_BYTES: usize = vigie_platform::grpc::CLIENT_MAX_REQUEST_BYTES;

/// The access token of this process (`--token` / `VIGIE_TOKEN`).
static TOKEN: OnceLock<Option<String>> = OnceLock::new();

/// The TLS files of this process (`--ca-cert`, `--client-cert`, `--client-key`).
static TLS: OnceLock<ClientTlsFiles> = OnceLock::new();

/// Sets the access token every call of this process sends; `main` calls it
/// once, before any command connects (later calls are ignored).
pub fn set_token(token: Option<String>) {
    let _ = TOKEN.set(token.filter(|t| !t.trim().is_empty()));
}

/// Sets the TLS files of every connection of this process; `main` calls it
/// once, before any command connects (later calls are ignored).
pub fn set_tls(files: ClientTlsFiles) {
    let _ = TLS.set(files);
}

/// Applies [`MAX_RESPONSE_BYTES`] and [`MAX_REQUEST_BYTES`] to a generated
/// service client (they have these two methods but no common trait).
macro_rules! sized {
    ($client:expr) => {
        $client
            .max_decoding_message_size($crate::client::MAX_RESPONSE_BYTES)
            .max_encoding_message_size($crate::client::MAX_REQUEST_BYTES)
    };
}
pub(crate) use sized;

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
/// token given to [`set_token`], if any, over TLS for `https://`.
///
/// # Errors
/// A message telling the user what to check when the server is unreachable,
/// when TLS fails (unknown authority: `--ca-cert`), or that the token cannot
/// be sent (unreadable, or in cleartext to another machine).
pub async fn connect(endpoint: &str, lang: Lang) -> anyhow::Result<Channel> {
    let bearer = Bearer::new(TOKEN.get().and_then(Option::as_deref), lang)?;
    let options = ClientOptions {
        tls: TLS.get().cloned().unwrap_or_default(),
        credentials: bearer.0.is_some(),
    };
    let channel = transport::connect(endpoint, &options)
        .await
        .map_err(|error| connect_error(endpoint, &error, lang))?;
    Ok(InterceptedService::new(channel, bearer))
}

/// The message for a failed connection.
fn connect_error(endpoint: &str, error: &ClientError, lang: Lang) -> anyhow::Error {
    let ClientError::Connect { source, .. } = error else {
        // Checked before connecting.
        return anyhow::anyhow!("{}", error.words().in_lang(lang));
    };
    if let Some(tls) = transport::tls_failure(source) {
        return anyhow::anyhow!(
            "{} {endpoint} : {tls}",
            lang.pick("connexion TLS impossible à", "TLS connection failed to")
        );
    }
    anyhow::anyhow!(
        "{}",
        match lang {
            Lang::Fr => format!(
                "impossible de joindre Vigie à {endpoint}.\n  Le serveur est-il démarré ? Pour essayer : `vigie dev --demo` dans un autre terminal,\n  ou indiquez l'adresse avec --endpoint / VIGIE_ENDPOINT (https:// si le serveur est en TLS)."
            ),
            Lang::En => format!(
                "cannot reach Vigie at {endpoint}.\n  Is the server running? To try it: `vigie dev --demo` in another terminal,\n  or give the address with --endpoint / VIGIE_ENDPOINT (https:// if the server uses TLS)."
            ),
        }
    )
}

/// The answer of a call, or its refusal as a message for people
/// ([`status_error`]): what every command does with what a server says.
pub trait Answered<T> {
    /// The answer's message.
    ///
    /// # Errors
    /// The call's status, in words.
    fn answered(self, lang: Lang) -> anyhow::Result<T>;
}

impl<T> Answered<T> for Result<tonic::Response<T>, tonic::Status> {
    fn answered(self, lang: Lang) -> anyhow::Result<T> {
        self.map(tonic::Response::into_inner).map_err(|s| status_error(s, lang))
    }
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
    if matches!(status.code(), tonic::Code::Unknown | tonic::Code::Unavailable) && status.message() == "transport error"
    {
        // The connection broke under the call: typically a TLS server
        // addressed with http://, or a server that stopped.
        return anyhow::anyhow!(
            "{}",
            lang.pick(
                "connexion coupée par le serveur : s'il est en TLS, son adresse commence par https:// (avec --ca-cert pour une autorité privée) ; sinon, est-il toujours démarré ?",
                "connection closed by the server: if it uses TLS, its address starts with https:// (with --ca-cert for a private authority); otherwise, is it still running?"
            )
        );
    }
    if is_broken_connection(&status) {
        // Made here from a broken connection (hyper, h2, I/O), not sent by a
        // server: its text is a library's, in English and meant for
        // developers. The detail stays at the end for whoever debugs.
        return anyhow::anyhow!(
            "{}{}",
            lang.pick(
                "la connexion au serveur s'est interrompue pendant la réponse (serveur arrêté, redémarré ou réseau coupé) ; relancez la commande quand il répond de nouveau (vigie health) — une modification demandée a pu être enregistrée ou non : vérifiez-la avant de la refaire — détail : ",
                "the connection to the server broke during the answer (server stopped, restarted or network cut); run the command again once it answers (vigie health) — a change you asked for may or may not have been saved: check it before making it again — detail: "
            ),
            status.message()
        );
    }
    let kind = match status.code() {
        tonic::Code::NotFound => lang.pick("introuvable", "not found"),
        tonic::Code::InvalidArgument => lang.pick("demande invalide", "invalid request"),
        tonic::Code::Unavailable => lang.pick("serveur indisponible", "server unavailable"),
        tonic::Code::PermissionDenied => lang.pick("accès refusé", "access denied"),
        tonic::Code::ResourceExhausted => lang.pick(
            "serveur saturé (trop de requêtes en cours), réessayez dans un instant",
            "server overloaded (too many requests in progress), try again shortly",
        ),
        tonic::Code::OutOfRange if status.message().contains("message length too large") => lang.pick(
            "message trop volumineux pour les limites configurées (grpc.max_request_bytes, grpc.max_response_bytes)",
            "message too large for the configured limits (grpc.max_request_bytes, grpc.max_response_bytes)",
        ),
        tonic::Code::Cancelled | tonic::Code::DeadlineExceeded => lang.pick(
            "délai dépassé (la requête a pris trop de temps)",
            "deadline exceeded (the request took too long)",
        ),
        _ => lang.pick("erreur du serveur", "server error"),
    };
    // French sets its colon apart with a space; English does not.
    anyhow::anyhow!("{kind}{}{}", lang.pick(" : ", ": "), server_message(&status, lang))
}

/// Whether `status` was made on this side from a broken connection rather
/// than sent by a server: tonic keeps the transport error it came from as
/// the status's source, where a server's status (read from the trailers)
/// has none. Deadlines and local limits have their own words.
fn is_broken_connection(status: &tonic::Status) -> bool {
    std::error::Error::source(status).is_some()
        && matches!(
            status.code(),
            tonic::Code::Unknown | tonic::Code::Internal | tonic::Code::Unavailable
        )
}

/// The server's own words for `status` in `lang`: servers send French as the
/// status message and English beside it (`vigie_platform::words`); an older
/// server, or a text not translated yet, reads in French.
pub fn server_message(status: &tonic::Status, lang: Lang) -> String {
    vigie_platform::words::message_for(status, lang == Lang::En)
}

#[cfg(test)]
mod tests {
    use vigie_platform::words::{IntoStatus, Words};

    use super::*;

    fn refused() -> tonic::Status {
        Words::new("date « 2026-02-30 » invalide", "invalid date “2026-02-30” — ça")
            .into_status(tonic::Code::InvalidArgument)
    }

    #[test]
    fn english_readers_get_the_servers_english_words() {
        let error = status_error(refused(), Lang::En).to_string();
        assert_eq!(error, "invalid request: invalid date “2026-02-30” — ça");
    }

    #[test]
    fn french_readers_get_the_status_message() {
        let error = status_error(refused(), Lang::Fr).to_string();
        assert_eq!(error, "demande invalide : date « 2026-02-30 » invalide");
    }

    #[test]
    fn a_status_without_english_reads_in_french_in_both_languages() {
        let old_server = tonic::Status::not_found("structure « S1 » introuvable");
        assert_eq!(server_message(&old_server, Lang::En), "structure « S1 » introuvable");
        assert_eq!(
            status_error(old_server, Lang::En).to_string(),
            "not found: structure « S1 » introuvable"
        );
    }

    #[test]
    fn a_connection_broken_under_a_call_is_told_in_words_with_the_detail_last() {
        // What tonic makes of a connection that breaks mid-answer: the
        // transport error kept as the status's source.
        let broken = tonic::Status::from_error(Box::new(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "error reading a body from connection",
        )));
        let error = status_error(broken, Lang::Fr).to_string();
        assert!(
            error.starts_with("la connexion au serveur s'est interrompue pendant la réponse"),
            "{error}"
        );
        assert!(
            error.ends_with("détail : error reading a body from connection"),
            "{error}"
        );
        let broken = tonic::Status::from_error(Box::new(std::io::Error::other("reset")));
        assert!(status_error(broken, Lang::En)
            .to_string()
            .starts_with("the connection to the server broke during the answer"));
    }

    #[test]
    fn a_servers_own_internal_error_keeps_its_words() {
        // Same code, but sent by a server: no source.
        let sent = tonic::Status::internal("erreur interne, voir les journaux du serveur");
        assert_eq!(
            status_error(sent, Lang::Fr).to_string(),
            "erreur du serveur : erreur interne, voir les journaux du serveur"
        );
    }
}
