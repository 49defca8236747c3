//! `/reseaux/<network>/import` — a coordinator sends the network's
//! inventory as one workbook (XLSX/ODS) or as the CSV files. The two
//! downloads beside it are in [`super::inventory_download`].
//!
//! Who reaches these pages is asked of the services with the person's token:
//! the network's reminder policy (`GetNetworkPolicy`) answers the network's
//! coordinators (and the federation) only; anyone else gets « introuvable ».
//! The import itself goes through the inventory's `Import` RPC, whose rule
//! decides: its refusal is shown, never worked around.
//!
//! The upload is validated whole first ([`super::import_check`]): every
//! problem is listed as `FILE:LINE: message`, and nothing is sent until
//! there is none. The import is then all or nothing.

use askama::Template;
use axum::extract::multipart::Multipart;
use axum::http::{HeaderMap, StatusCode};
use futures::StreamExt;
use vigie_proto::alerting::v1::GetNetworkPolicyRequest;
use vigie_proto::inventory::v1::import_progress::Phase;
use vigie_proto::inventory::v1::{ImportRequest, ImportSummary};

use super::import_check::{prepare, validate, Origin, Prepared, Refusal, Upload, MAX_UPLOAD_BYTES, SET_FILES};
use super::upload::{self, NetworkUpload, Next, Outcome, Part, UploadForm};
use super::{signed_in, Layout};
use crate::error::PageError;
use crate::lang::Lang;
use crate::services::Clients;
use crate::session::Session;
use crate::Console;

/// Bytes per streamed chunk of the Import RPC (as the CLI).
const CHUNK: usize = 64 * 1024;

#[derive(Template)]
#[template(path = "import.html")]
struct ImportPage {
    layout: Layout,
    form: UploadForm,
}

/// The signed-in person, her clients, once the services said she may
/// coordinate `network`.
pub(super) async fn coordinator(
    console: &Console,
    headers: &HeaderMap,
    network: &str,
) -> Result<(Session, Clients), PageError> {
    let (session, person) = signed_in(console, headers)?;
    let mut clients = console.services.for_token(&person.token)?;
    clients
        .alerting
        .get_network_policy(GetNetworkPolicyRequest {
            network: network.to_owned(),
        })
        .await?;
    Ok((session, clients))
}

/// The inventory's upload page.
pub struct InventoryImport;

impl NetworkUpload for InventoryImport {
    fn path(network: &str) -> String {
        format!("/reseaux/{network}/import")
    }

    const TITLE: (&'static str, &'static str) = ("Importer l'inventaire du réseau", "Import the inventory of network");

    const FILE_FIELD: &'static str = "fichiers";

    const TOO_LARGE: (&'static str, &'static str) = (
        "les fichiers dépassent 20 Mio : rien n'a été importé. Envoyez les fichiers CSV sans les compresser, ou découpez l'inventaire.",
        "the files exceed 20 MiB: nothing was imported. Send the CSV files uncompressed, or split the inventory.",
    );

    fn template(layout: Layout, form: UploadForm) -> impl Template {
        ImportPage { layout, form }
    }

    /// Reads the files (`fichiers`), validates them whole, imports.
    async fn receive(
        multipart: &mut Multipart,
        clients: &mut Clients,
        network: &str,
        lang: Lang,
    ) -> Result<Outcome, PageError> {
        let mut uploads = Vec::new();
        let mut received = 0usize;
        loop {
            // The files together within MAX_UPLOAD_BYTES.
            let room = MAX_UPLOAD_BYTES.saturating_sub(received);
            match upload::next_part::<Self>(multipart, room, lang).await? {
                Next::End => break,
                Next::Refused(refusal) => return Ok(refusal),
                Next::Part(Part::File { name, bytes }) => {
                    received += bytes.len();
                    uploads.push(Upload { name, bytes });
                }
                Next::Part(Part::Other(_)) => {}
            }
        }
        let prepared = match prepare(uploads, lang) {
            Ok(prepared) => prepared,
            Err(Refusal::Field(message)) => {
                return Ok(upload::refused_field(StatusCode::UNPROCESSABLE_ENTITY, message))
            }
            Err(Refusal::Lines(lines)) => return Ok(upload::refused_lines(lines, lang)),
        };
        let lines = validate(&prepared, network, lang);
        if !lines.is_empty() {
            return Ok(upload::refused_lines(lines, lang));
        }
        import(clients, prepared, lang).await
    }
}

/// The Import RPC, with the person's token; its rejection lines mapped back
/// to the upload's files or sheets.
async fn import(clients: &mut Clients, prepared: Prepared, lang: Lang) -> Result<Outcome, PageError> {
    let Prepared { origin, files } = prepared;
    let mut messages = Vec::new();
    for (name, bytes) in SET_FILES
        .iter()
        .zip([&files.structures, &files.people, &files.functions, &files.holdings])
    {
        for chunk in bytes.chunks(CHUNK) {
            messages.push(ImportRequest {
                file_name: (*name).to_owned(),
                chunk: chunk.to_vec(),
            });
        }
    }
    let answer = clients.inventory.import(futures::stream::iter(messages)).await;
    let mut progress = match answer {
        Ok(answer) => answer.into_inner(),
        Err(status) => return refused_by_service(status, lang),
    };
    let (mut summary, mut errors) = (None, Vec::new());
    while let Some(message) = progress.next().await {
        let message = match message {
            Ok(message) => message,
            Err(status) => return refused_by_service(status, lang),
        };
        match Phase::try_from(message.phase).unwrap_or(Phase::Unspecified) {
            Phase::Done => summary = message.summary,
            Phase::Rejected => errors.extend(
                message
                    .errors
                    .iter()
                    .map(|e| origin.line(&e.file, e.line, e.message_in(lang))),
            ),
            _ => {}
        }
    }
    if !errors.is_empty() {
        return Ok(upload::refused_lines(errors, lang));
    }
    let summary = summary.ok_or_else(|| PageError::Internal("import sans résumé".to_owned()))?;
    Ok(Outcome::Done(done_message(&summary, &origin, lang)))
}

/// The service said no: its reason on the page (the person reached the page
/// rightly; the import is what is refused), or the usual error pages.
fn refused_by_service(status: tonic::Status, lang: Lang) -> Result<Outcome, PageError> {
    if !matches!(status.code(), tonic::Code::PermissionDenied | tonic::Code::NotFound) {
        return upload::refused_by_service(status, lang);
    }
    let message = lang.pick(
        "le service d'inventaire n'autorise pas votre profil à importer un inventaire : rien n'a été importé. Demandez l'import à la fédération, en lui envoyant ce fichier.",
        "the inventory service does not let your profile import an inventory: nothing was imported. Ask the federation to import it, sending them this file.",
    );
    Ok(upload::refused_field(StatusCode::FORBIDDEN, message.to_owned()))
}

/// « Import terminé : N structures importées … ».
pub fn done_message(s: &ImportSummary, origin: &Origin, lang: Lang) -> String {
    let from = match origin {
        Origin::Workbook(name) => format!(" ({name})"),
        Origin::Csv => String::new(),
    };
    match lang {
        Lang::Fr => format!(
            "Import terminé{from} : {} structures importées ({} nouvelles, {} modifiées, {} inchangées), {} personnes, {} fonctions, {} compétences.",
            s.structures, s.structures_created, s.structures_updated, s.structures_unchanged, s.people, s.functions, s.holdings
        ),
        Lang::En => format!(
            "Import done{from}: {} structures imported ({} new, {} changed, {} unchanged), {} people, {} functions, {} holdings.",
            s.structures, s.structures_created, s.structures_updated, s.structures_unchanged, s.people, s.functions, s.holdings
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_says_how_many_structures() {
        let s = ImportSummary {
            structures: 3,
            structures_created: 1,
            structures_updated: 1,
            structures_unchanged: 1,
            people: 4,
            functions: 5,
            holdings: 6,
            events: 2,
        };
        let fr = done_message(&s, &Origin::Workbook("inventaire.xlsx".into()), Lang::Fr);
        assert!(
            fr.starts_with("Import terminé (inventaire.xlsx) : 3 structures importées (1 nouvelles"),
            "{fr}"
        );
        let en = done_message(&s, &Origin::Csv, Lang::En);
        assert!(en.starts_with("Import done: 3 structures imported"), "{en}");
    }
}
