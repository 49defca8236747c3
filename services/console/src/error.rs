//! The one place where failures become pages. People get a French page with
//! a way back; the cause goes to the log, never to the page.

use axum::http::StatusCode;

/// Why a page could not be served.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    /// Unknown, or outside the person's reach: the same page for both, so
    /// that existence does not leak.
    #[error("introuvable")]
    NotFound,
    /// A form without the session's CSRF token.
    #[error("formulaire refusé (jeton de sécurité absent ou périmé)")]
    Csrf,
    /// No session, or the services refused its token: sign in again.
    #[error("session absente ou expirée")]
    SignedOut,
    /// A service failed or is unreachable.
    #[error("service indisponible")]
    Unavailable(#[source] tonic::Status),
    /// The console itself failed (random generator, template).
    #[error("erreur interne")]
    Internal(String),
}

impl PageError {
    /// The HTTP status of the page.
    pub fn status(&self) -> StatusCode {
        match self {
            PageError::NotFound => StatusCode::NOT_FOUND,
            PageError::Csrf => StatusCode::FORBIDDEN,
            PageError::SignedOut => StatusCode::SEE_OTHER,
            PageError::Unavailable(_) => StatusCode::BAD_GATEWAY,
            PageError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<tonic::Status> for PageError {
    /// Object pages: `NOT_FOUND` (unknown or out of reach) and
    /// `PERMISSION_DENIED` (a role the RPC does not grant) both read as
    /// « introuvable »; an expired or refused token signs the person out.
    fn from(status: tonic::Status) -> Self {
        match status.code() {
            tonic::Code::NotFound | tonic::Code::PermissionDenied => PageError::NotFound,
            tonic::Code::Unauthenticated => PageError::SignedOut,
            _ => PageError::Unavailable(status),
        }
    }
}

/// A service's own words for `status`, in the page's language: services send
/// French as the status message and English beside it
/// (`vigie_platform::words`); a text not translated yet reads in French.
pub fn service_message(status: &tonic::Status, lang: crate::lang::Lang) -> String {
    vigie_platform::words::message_for(status, lang == crate::lang::Lang::En)
}

impl From<askama::Error> for PageError {
    fn from(error: askama::Error) -> Self {
        PageError::Internal(error.to_string())
    }
}

impl From<crate::session::RandomUnavailable> for PageError {
    fn from(error: crate::session::RandomUnavailable) -> Self {
        PageError::Internal(error.to_string())
    }
}
