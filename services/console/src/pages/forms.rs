//! What the console's forms share: the posted form of a signed-in person
//! with its CSRF token checked, how a service's refusal of its values
//! reaches the page, and the redirect that ends a form that did its work.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Form, FromRequest, Request};
use axum::response::Response;

use super::{checked_form, error_page, session};
use crate::error::PageError;
use crate::lang::Lang;
use crate::services::Clients;
use crate::session::Session;
use crate::{web, Console};

/// A posted form of a signed-in person whose CSRF token checks: her
/// session, her clients (calls carry her token) and the form's fields.
/// Extracted last (it reads the body); refused, it is the page of its error
/// (a form expired or from elsewhere, a person signed out).
pub struct SignedInForm {
    pub session: Session,
    pub clients: Clients,
    pub fields: HashMap<String, String>,
}

impl SignedInForm {
    /// The session, the clients and the fields, to use apart.
    pub fn into_parts(self) -> (Session, Clients, HashMap<String, String>) {
        (self.session, self.clients, self.fields)
    }
}

impl FromRequest<Arc<Console>> for SignedInForm {
    type Rejection = Response;

    async fn from_request(request: Request, console: &Arc<Console>) -> Result<Self, Response> {
        let headers = request.headers().clone();
        // A body that is no form has no token: refused as a wrong one.
        let fields = Form::<HashMap<String, String>>::from_request(request, console)
            .await
            .map(|Form(fields)| fields)
            .unwrap_or_default();
        let signed_in = || {
            let session = checked_form(console, &headers, fields.get("csrf").map(String::as_str))?;
            let person = session.signed_in.clone().ok_or(PageError::SignedOut)?;
            let clients = console.services.for_token(&person.token)?;
            Ok((session, clients))
        };
        match signed_in() {
            Ok((session, clients)) => Ok(SignedInForm {
                session,
                clients,
                fields,
            }),
            Err(error) => Err(error_page(console, session(console, &headers).as_ref(), &error)),
        }
    }
}

/// What a service said to a form's values.
pub enum FormAnswer<T> {
    /// It did the work: its answer.
    Accepted(T),
    /// It refused a value (`InvalidArgument`): its message, meant for
    /// people, in the page's language, to show beside the form's field.
    Refused(String),
}

/// Sorts a service's answer to a form: accepted, refused for its values, or
/// (any other failure) the page's error.
///
/// # Errors
/// The [`PageError`] of a failure that is not about the values.
pub fn form_answer<T>(
    answer: Result<tonic::Response<T>, tonic::Status>,
    lang: Lang,
) -> Result<FormAnswer<T>, PageError> {
    match answer {
        Ok(answer) => Ok(FormAnswer::Accepted(answer.into_inner())),
        Err(status) if status.code() == tonic::Code::InvalidArgument => {
            Ok(FormAnswer::Refused(crate::error::service_message(&status, lang)))
        }
        Err(status) => Err(PageError::from(status)),
    }
}

/// Back to `page` with `message` shown there (POST, redirect, GET): the end
/// of a form that did its work.
pub fn done(
    console: &Console,
    session: &Session,
    message: impl Into<String>,
    page: &str,
) -> Result<Response, PageError> {
    console.sessions.set_flash(&session.id, message);
    Ok(web::see_other(page))
}
