//! `/reseaux/<network>/subventions/import` — a coordinator sends the
//! network's applications and grants as one sheet (CSV, XLSX or ODS) to
//! `ImportGrants` (issue 16, docs/grants.md « Import d'un tableau »), and
//! `/reseaux/<network>/subventions/modele.xlsx`, the sheet to fill: the same
//! workbook as `vigie grants template` (`vigie_workbook::grants_template`).
//!
//! Same reach as the inventory import page ([`super::import::coordinator`]:
//! the network's coordinators and the federation), same bounds and draining
//! of a too large upload. The service checks every row before writing any:
//! every problem comes back as `FILE:LINE: message` and is listed here,
//! nothing is written while one remains; then the summary (created,
//! updated, unchanged). « Vérifier seulement » asks the same with `dry_run`.

use std::sync::Arc;

use askama::Template;
use axum::extract::multipart::Multipart;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use vigie_proto::alerting::v1::{ImportGrantsRequest, ImportGrantsResponse};

use super::inventory_download::blank_workbook;
use super::upload::{self, NetworkUpload, Next, Outcome, Part, UploadForm};
use super::Layout;
use crate::error::PageError;
use crate::lang::Lang;
use crate::services::Clients;
use crate::Console;

#[derive(Template)]
#[template(path = "grants_import.html")]
struct GrantsImportPage {
    layout: Layout,
    form: UploadForm,
}

/// `GET /reseaux/<network>/subventions/modele.xlsx`: the sheet to fill.
pub async fn template(
    State(console): State<Arc<Console>>,
    Path(network): Path<String>,
    headers: HeaderMap,
) -> Response {
    let write = vigie_workbook::grants_template;
    blank_workbook(&console, &headers, &network, write, "modele-subventions.xlsx").await
}

/// The grants' upload page.
pub struct GrantsImport;

impl NetworkUpload for GrantsImport {
    fn path(network: &str) -> String {
        format!("/reseaux/{network}/subventions/import")
    }

    const TITLE: (&'static str, &'static str) = ("Importer des subventions du réseau", "Import grants of network");

    const FILE_FIELD: &'static str = "fichier";

    const TOO_LARGE: (&'static str, &'static str) = (
        "le fichier dépasse 20 Mio : rien n'a été importé. Découpez-le en plusieurs fichiers.",
        "the file exceeds 20 MiB: nothing was imported. Split it into several files.",
    );

    fn template(layout: Layout, form: UploadForm) -> impl Template {
        GrantsImportPage { layout, form }
    }

    /// Reads the sheet (`fichier`) and `verifier`, then sends the sheet.
    async fn receive(
        multipart: &mut Multipart,
        clients: &mut Clients,
        network: &str,
        lang: Lang,
    ) -> Result<Outcome, PageError> {
        let mut received = Received {
            name: String::new(),
            bytes: Vec::new(),
            dry_run: false,
        };
        let mut files = 0usize;
        loop {
            // The file within MAX_FILES_BYTES.
            let room = upload::MAX_FILES_BYTES.saturating_sub(received.bytes.len());
            match upload::next_part::<Self>(multipart, room, lang).await? {
                Next::End => break,
                Next::Refused(refusal) => return Ok(refusal),
                Next::Part(Part::Other(name)) if name == "verifier" => received.dry_run = true,
                Next::Part(Part::Other(_)) => {}
                Next::Part(Part::File { name, bytes }) => {
                    let name = base_name(&name);
                    // A file input left empty still sends a part, nameless and empty.
                    if !name.is_empty() || !bytes.is_empty() {
                        files += 1;
                        received.name = name;
                        received.bytes = bytes;
                    }
                }
            }
        }
        if let Some(message) = file_error(files, &received.bytes, lang) {
            return Ok(upload::refused_field(StatusCode::UNPROCESSABLE_ENTITY, message));
        }
        import(clients, received, network, lang).await
    }
}

/// The file as received: its base name and content.
struct Received {
    name: String,
    bytes: Vec<u8>,
    dry_run: bool,
}

/// The last component of the name a browser sent, without control
/// characters, bounded (the service bounds it too, and names it in positions).
pub fn base_name(name: &str) -> String {
    let name = name.rsplit(['/', '\\']).next().unwrap_or("").trim();
    name.chars().filter(|c| !c.is_control()).take(200).collect()
}

/// Why the form's file cannot be sent, if it cannot: none, several, or empty.
pub fn file_error(files: usize, bytes: &[u8], lang: Lang) -> Option<String> {
    let message = match files {
        0 => lang.pick(
            "choisissez le fichier à importer (.csv, .xlsx ou .ods) : rien n'a été importé.",
            "choose the file to import (.csv, .xlsx or .ods): nothing was imported.",
        ),
        1 if bytes.is_empty() => lang.pick(
            "le fichier est vide : rien n'a été importé.",
            "the file is empty: nothing was imported.",
        ),
        1 => return None,
        _ => lang.pick(
            "un seul fichier à la fois : rien n'a été importé.",
            "one file at a time: nothing was imported.",
        ),
    };
    Some(message.to_owned())
}

/// The ImportGrants RPC, with the person's token, restricted to the network.
async fn import(clients: &mut Clients, received: Received, network: &str, lang: Lang) -> Result<Outcome, PageError> {
    let Received { name, bytes, dry_run } = received;
    // Bounds as the CLI's: a 20 MiB sheet goes in one message, and a long
    // list of problems comes back in one.
    let mut alerting = clients
        .alerting
        .clone()
        .max_encoding_message_size(vigie_platform::grpc::CLIENT_MAX_REQUEST_BYTES.max(upload::MAX_BODY_BYTES))
        .max_decoding_message_size(vigie_platform::grpc::CLIENT_MAX_RESPONSE_BYTES);
    let answer = alerting
        .import_grants(ImportGrantsRequest {
            filename: name.clone(),
            content: bytes,
            dry_run,
            network: network.to_owned(),
        })
        .await;
    let answer = match answer {
        Ok(answer) => answer.into_inner(),
        Err(status) => return refused_by_service(status, lang),
    };
    if !answer.problems.is_empty() {
        let lines: Vec<String> = answer
            .problems
            .iter()
            .map(|p| format!("{}: {}", p.position, p.message_in(lang)))
            .collect();
        return Ok(upload::refused_lines(lines, lang));
    }
    Ok(Outcome::Done(done_message(&answer, &name, dry_run, lang)))
}

/// The service said no: its reason on the page, or the usual error pages.
fn refused_by_service(status: tonic::Status, lang: Lang) -> Result<Outcome, PageError> {
    if status.code() != tonic::Code::PermissionDenied {
        return upload::refused_by_service(status, lang);
    }
    let message = lang.pick(
        "le service des subventions n'autorise pas votre profil à importer : rien n'a été importé. Demandez l'import à la fédération, en lui envoyant ce fichier.",
        "the grants service does not let your profile import: nothing was imported. Ask the federation to import it, sending them this file.",
    );
    Ok(upload::refused_field(StatusCode::FORBIDDEN, message.to_owned()))
}

/// « Import terminé (subventions.csv) : 3 ligne(s) créée(s) … ».
pub fn done_message(r: &ImportGrantsResponse, name: &str, dry_run: bool, lang: Lang) -> String {
    let from = if name.is_empty() {
        String::new()
    } else {
        format!(" ({name})")
    };
    let (created, updated, unchanged) = (r.created, r.updated, r.unchanged);
    match (lang, dry_run) {
        (Lang::Fr, false) => format!(
            "Import terminé{from} : {created} ligne(s) créée(s), {updated} modifiée(s), {unchanged} déjà à jour. Les comptes rendus dus sont sur la page de chaque structure."
        ),
        (Lang::Fr, true) => format!(
            "Vérification réussie{from}, rien n'a été écrit : {created} ligne(s) à créer, {updated} à modifier, {unchanged} déjà à jour. Renvoyez-le sans cocher « Vérifier seulement » pour l'importer."
        ),
        (Lang::En, false) => format!(
            "Import done{from}: {created} row(s) created, {updated} updated, {unchanged} up to date. The reports due are on each structure's page."
        ),
        (Lang::En, true) => format!(
            "Check passed{from}, nothing written: {created} row(s) to create, {updated} to update, {unchanged} up to date. Send it again without ticking “Check only” to import it."
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_says_what_was_created_updated_and_unchanged_or_would_be() {
        let r = ImportGrantsResponse {
            problems: Vec::new(),
            created: 3,
            updated: 1,
            unchanged: 2,
        };
        let fr = done_message(&r, "subventions.csv", false, Lang::Fr);
        assert!(
            fr.starts_with("Import terminé (subventions.csv) : 3 ligne(s) créée(s), 1 modifiée(s), 2 déjà à jour."),
            "{fr}"
        );
        let check = done_message(&r, "", true, Lang::Fr);
        assert!(
            check.starts_with("Vérification réussie, rien n'a été écrit : 3 ligne(s) à créer"),
            "{check}"
        );
        assert!(done_message(&r, "a.xlsx", false, Lang::En).starts_with("Import done (a.xlsx): 3 row(s) created"));
        assert!(done_message(&r, "a.xlsx", true, Lang::En).contains("nothing written"));
    }

    #[test]
    fn one_non_empty_file_is_sent_and_its_name_is_cut_to_its_base() {
        assert!(file_error(0, b"", Lang::Fr).unwrap().contains("choisissez le fichier"));
        assert!(file_error(1, b"", Lang::Fr).unwrap().contains("vide"));
        assert!(file_error(2, b"x", Lang::En).unwrap().contains("one file at a time"));
        assert_eq!(file_error(1, b"x", Lang::Fr), None);
        assert_eq!(base_name("C:\\Users\\ana\\subventions.csv"), "subventions.csv");
        assert_eq!(base_name("/tmp/a/b.xlsx"), "b.xlsx");
        assert_eq!(base_name("x\u{7}y.csv"), "xy.csv");
        assert_eq!(base_name(&"n".repeat(500)).chars().count(), 200);
        assert_eq!(upload::errors_heading(1, Lang::Fr), "1 erreur : rien n'a été importé");
        assert_eq!(upload::errors_heading(3, Lang::En), "3 errors: nothing was imported");
    }
}
