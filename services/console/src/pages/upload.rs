//! What the console's two uploads — a network's inventory files and a sheet
//! of grants — share: the limits of a request, the refusal of one too large
//! (read to its end first, so a browser still sending gets the page saying
//! why rather than a cut connection), and where the answer leads.

use std::future::Future;
use std::sync::Arc;

use axum::extract::multipart::{Field, Multipart, MultipartError, MultipartRejection};
use axum::extract::{Path, State};
use axum::http::header::CONTENT_LENGTH;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use crate::error::PageError;
use crate::lang::Lang;
use crate::services::Clients;
use crate::session::Session;
use crate::{web, Console};

use super::import::coordinator;
use super::{checked_form, error_page, or_error_page, render, session, Layout};

/// An upload page of a network (`/reseaux/<network>/…`), reached by its
/// coordinators ([`coordinator`]): what differs from one to the other. The
/// handlers [`page`] and [`post`] do the rest, and the page is shown by
/// [`show`] in `upload.html`, whose blocks each page's template fills.
pub trait NetworkUpload {
    /// The page's address, where the form is and where a done upload leads.
    fn path(network: &str) -> String;

    /// The page's title (French, English), followed by the network's name
    /// (its `<h1>` too).
    const TITLE: (&'static str, &'static str);

    /// The name of the form's file field.
    const FILE_FIELD: &'static str;

    /// The refusal of files over [`MAX_FILES_BYTES`] (French, English), with
    /// the page's advice ([`too_large`]).
    const TOO_LARGE: (&'static str, &'static str);

    /// The page's template (extending `upload.html`) around the form.
    fn template(layout: Layout, form: UploadForm) -> impl askama::Template;

    /// Reads the rest of the form (its CSRF token, the first field, already
    /// checked by [`post`]) and sends it to the service.
    fn receive(
        multipart: &mut Multipart,
        clients: &mut Clients,
        network: &str,
        lang: Lang,
    ) -> impl Future<Output = Result<Outcome, PageError>> + Send;
}

/// What `upload.html` shows of an upload page besides its own texts.
pub struct UploadForm {
    /// The page's title ([`NetworkUpload::TITLE`]), before the network.
    pub title: &'static str,
    pub network: String,
    /// Where the form is sent ([`NetworkUpload::path`]).
    pub action: String,
    /// The file field's name ([`NetworkUpload::FILE_FIELD`]).
    pub field: &'static str,
    /// The refusal, next to the field.
    pub form_error: Option<String>,
    /// « 2 erreurs : rien n'a été importé » ([`errors_heading`]).
    pub errors_heading: String,
    /// The refused upload's `FILE:LINE: message` lines.
    pub errors: Vec<String>,
}

/// The page, with a refused upload's message and error lines.
pub fn show<U: NetworkUpload>(
    console: &Console,
    session: &Session,
    network: &str,
    status: StatusCode,
    form_error: Option<String>,
    errors: Vec<String>,
) -> Response {
    let lang = session.lang;
    let title = lang.pick(U::TITLE.0, U::TITLE.1);
    let form = UploadForm {
        title,
        network: network.to_owned(),
        action: U::path(network),
        field: U::FILE_FIELD,
        form_error,
        errors_heading: errors_heading(errors.len(), lang),
        errors,
    };
    let layout = Layout::new(console, format!("{title} {network}"), Some(session));
    render(console, Some(session), status, &U::template(layout, form))
}

/// `GET` an upload page.
pub async fn page<U: NetworkUpload>(
    State(console): State<Arc<Console>>,
    Path(network): Path<String>,
    headers: HeaderMap,
) -> Response {
    match coordinator(&console, &headers, &network).await {
        Ok((session, _)) => show::<U>(&console, &session, &network, StatusCode::OK, None, Vec::new()),
        Err(error) => error_page(&console, session(&console, &headers).as_ref(), &error),
    }
}

/// `POST` an upload page (multipart, `csrf` first): refused at once when
/// declared too large, else its token checked, read, sent, and answered
/// ([`answer`]).
pub async fn post<U: NetworkUpload>(
    State(console): State<Arc<Console>>,
    Path(network): Path<String>,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let result = async {
        let (session, mut clients) = coordinator(&console, &headers, &network).await?;
        let lang = session.lang;
        let outcome = match accepted(&headers, multipart).await? {
            None => too_large::<U>(lang),
            Some(mut multipart) => match csrf_first(&console, &headers, &mut multipart, || too_large::<U>(lang)).await?
            {
                Some(refusal) => refusal,
                None => U::receive(&mut multipart, &mut clients, &network, lang).await?,
            },
        };
        let show = |status, form_error, errors| show::<U>(&console, &session, &network, status, form_error, errors);
        Ok(answer(&console, &session, outcome, &U::path(&network), show))
    }
    .await;
    or_error_page(&console, &headers, result)
}

/// Largest upload: the files of one import (20 MiB: the workbook reader's
/// bound, and the services' bound of an import).
pub const MAX_FILES_BYTES: usize = vigie_workbook::MAX_WORKBOOK_BYTES;
/// The request body accepted: the files plus the multipart envelope.
pub const MAX_BODY_BYTES: usize = MAX_FILES_BYTES + 64 * 1024;
/// An upload declared over [`MAX_BODY_BYTES`] but under this is read to its
/// end and thrown away before the refusal; beyond it the refusal is sent at
/// once (the routes' body limit).
pub const DRAIN_BYTES: usize = 2 * MAX_BODY_BYTES;

/// What became of an upload.
pub enum Outcome {
    /// Imported (or checked): the flash message, then back to the page.
    Done(String),
    /// Refused: the status, the message next to the field, the error lines.
    Refused(StatusCode, Option<String>, Vec<String>),
}

/// The refusal of files over [`MAX_FILES_BYTES`], with the page's advice
/// ([`NetworkUpload::TOO_LARGE`]).
pub fn too_large<U: NetworkUpload>(lang: Lang) -> Outcome {
    let (french, english) = U::TOO_LARGE;
    Outcome::Refused(
        StatusCode::PAYLOAD_TOO_LARGE,
        Some(lang.pick(french, english).to_owned()),
        Vec::new(),
    )
}

/// A multipart error: the body limit is `too_large`; a truncated or
/// malformed body is not a form of this page.
fn upload_error(error: &MultipartError, too_large: Outcome) -> Result<Outcome, PageError> {
    if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
        Ok(too_large)
    } else {
        Err(PageError::Csrf)
    }
}

/// « 2 erreurs : rien n'a été importé »: the heading of a refused upload's
/// error lines.
pub fn errors_heading(count: usize, lang: Lang) -> String {
    match (lang, count) {
        (Lang::Fr, 1) => "1 erreur : rien n'a été importé".to_owned(),
        (Lang::Fr, n) => format!("{n} erreurs : rien n'a été importé"),
        (Lang::En, 1) => "1 error: nothing was imported".to_owned(),
        (Lang::En, n) => format!("{n} errors: nothing was imported"),
    }
}

/// The refusal of an upload with error lines: how many, and that nothing
/// was imported.
pub fn refused_lines(lines: Vec<String>, lang: Lang) -> Outcome {
    let message = match lang {
        Lang::Fr => format!(
            "{} erreur(s), listée(s) plus bas avec leur fichier et leur ligne : corrigez-les puis renvoyez. Rien n'a été importé.",
            lines.len()
        ),
        Lang::En => format!(
            "{} error(s), listed below with their file and line: fix them, then send again. Nothing was imported.",
            lines.len()
        ),
    };
    Outcome::Refused(StatusCode::UNPROCESSABLE_ENTITY, Some(message), lines)
}

/// The refusal of the form's one field (nothing to list line by line).
pub fn refused_field(status: StatusCode, message: String) -> Outcome {
    Outcome::Refused(status, Some(message), Vec::new())
}

/// The import service refused what was sent (its reason on the page: the
/// person reached the page rightly), or failed (the usual error pages). A
/// refusal of the person herself is left to each page, whose words name its
/// service.
///
/// # Errors
/// The [`PageError`] of a failure that is no refusal of the content.
pub fn refused_by_service(status: tonic::Status, lang: Lang) -> Result<Outcome, PageError> {
    match status.code() {
        tonic::Code::InvalidArgument
        | tonic::Code::OutOfRange
        | tonic::Code::ResourceExhausted
        | tonic::Code::FailedPrecondition => {
            let message = format!(
                "{} {}",
                lang.pick("import refusé :", "import refused:"),
                crate::error::service_message(&status, lang)
            );
            Ok(refused_field(StatusCode::UNPROCESSABLE_ENTITY, message))
        }
        _ => Err(PageError::from(status)),
    }
}

/// Checks the form's CSRF token, its first field, before any file is read.
/// `Ok(Some(refusal))` is the answer to a body over the limit (`too_large`).
///
/// # Errors
/// [`PageError::Csrf`] when the first field is not a matching token, or the
/// body is no form of this page.
async fn csrf_first(
    console: &Console,
    headers: &HeaderMap,
    multipart: &mut Multipart,
    too_large: impl FnOnce() -> Outcome,
) -> Result<Option<Outcome>, PageError> {
    let first = match multipart.next_field().await {
        Ok(Some(field)) if field.name() == Some("csrf") => field.text().await.ok(),
        Ok(_) => None,
        Err(error) => return upload_error(&error, too_large()).map(Some),
    };
    checked_form(console, headers, first.as_deref())?;
    Ok(None)
}

/// A part of an upload form, after its token.
pub enum Part {
    /// The page's file field ([`NetworkUpload::FILE_FIELD`]): the name the
    /// browser gave the file, and its bytes.
    File { name: String, bytes: Vec<u8> },
    /// Another field, by name (its value left unread).
    Other(String),
}

/// What reading an upload form's next part came to.
pub enum Next {
    Part(Part),
    /// The form's end.
    End,
    /// The answer to give instead: a file over `room`, or a body over the
    /// route's limit (the form drained first where it can still be read).
    Refused(Outcome),
}

/// The form's next part, its file read within `room` bytes: what both upload
/// pages do with every part, the limits and refusals included.
///
/// # Errors
/// [`PageError::Csrf`] for a body that broke off or is no form of this page.
pub async fn next_part<U: NetworkUpload>(
    multipart: &mut Multipart,
    room: usize,
    lang: Lang,
) -> Result<Next, PageError> {
    let mut field = match multipart.next_field().await {
        Ok(Some(field)) => field,
        Ok(None) => return Ok(Next::End),
        Err(error) => return upload_error(&error, too_large::<U>(lang)).map(Next::Refused),
    };
    let name = field.name().unwrap_or_default().to_owned();
    if name != U::FILE_FIELD {
        return Ok(Next::Part(Part::Other(name)));
    }
    let file_name = field.file_name().unwrap_or_default().to_owned();
    // The route admits up to DRAIN_BYTES; the files, `room`.
    match read_within(&mut field, room).await {
        Ok(Some(bytes)) => Ok(Next::Part(Part::File { name: file_name, bytes })),
        Ok(None) => {
            drain(multipart).await;
            Ok(Next::Refused(too_large::<U>(lang)))
        }
        Err(error) => upload_error(&error, too_large::<U>(lang)).map(Next::Refused),
    }
}

/// The rest of a file field, or `None` as soon as it exceeds `room` bytes
/// (the caller then drains the form and refuses it).
///
/// # Errors
/// The multipart error of a body that broke off or exceeded the route's limit.
async fn read_within(field: &mut Field<'_>, room: usize) -> Result<Option<Vec<u8>>, MultipartError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field.chunk().await? {
        if bytes.len() + chunk.len() > room {
            return Ok(None);
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(Some(bytes))
}

/// The form, unless its declared length is over [`MAX_BODY_BYTES`]: then
/// what the browser sends is read and thrown away, and `None` says to refuse.
///
/// # Errors
/// [`PageError::Csrf`] for a request that is no multipart form.
pub async fn accepted(
    headers: &HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Option<Multipart>, PageError> {
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES) {
        if let Ok(mut multipart) = multipart {
            drain(&mut multipart).await;
        }
        return Ok(None);
    }
    multipart.map(Some).map_err(|_| PageError::Csrf)
}

/// Reads what is left of a refused form and throws it away (the route's body
/// limit bounds it; an error ends it).
async fn drain(multipart: &mut Multipart) {
    while let Ok(Some(mut field)) = multipart.next_field().await {
        while let Ok(Some(_)) = field.chunk().await {}
    }
}

/// The answer: done → the flash message and back to `page` (POST, redirect,
/// GET); refused → the page again with the problems (`show`).
pub fn answer(
    console: &Console,
    session: &Session,
    outcome: Outcome,
    page: &str,
    show: impl FnOnce(StatusCode, Option<String>, Vec<String>) -> Response,
) -> Response {
    match outcome {
        Outcome::Done(message) => {
            console.sessions.set_flash(&session.id, message);
            web::see_other(page)
        }
        Outcome::Refused(status, form_error, errors) => show(status, form_error, errors),
    }
}
