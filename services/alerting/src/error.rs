//! The alerting service's error type and its one mapping to gRPC statuses.

use vigie_alerting_domain::call::{ImportProblem, Severity};
use vigie_platform::words::IntoStatus;
use vigie_platform::words::{internal_status, not_found_status, Words};

use crate::storage::StorageError;

/// What can go wrong in the alerting use cases.
#[derive(Debug, thiserror::Error)]
pub enum AlertingError {
    /// Unknown call, structure or network (or outside the caller's scope).
    #[error("{0} introuvable")]
    NotFound(Words),
    /// A malformed request.
    #[error("{0}")]
    Invalid(Words),
    /// Storage failed.
    #[error("stockage : {0}")]
    Storage(#[from] StorageError),
    /// The outbox could not record an event.
    #[error("événements : {0}")]
    Events(String),
    /// A remote source could not be reached at all.
    #[error("source injoignable : {0}")]
    Source(String),
    /// A file import was refused; nothing changed.
    #[error("fichier refusé : {} erreur(s)", errors(.0))]
    Rejected(Vec<ImportProblem>),
}

vigie_platform::from_database_errors!(AlertingError);

impl From<AlertingError> for tonic::Status {
    /// Client errors keep their message, in both languages; internal ones are
    /// logged with their cause chain, once, and the client only learns that
    /// it failed.
    fn from(error: AlertingError) -> Self {
        match error {
            AlertingError::NotFound(what) => not_found_status(what),
            AlertingError::Invalid(message) => message.into_status(tonic::Code::InvalidArgument),
            AlertingError::Rejected(problems) => {
                let count = errors(&problems);
                vigie_platform::words!("fichier refusé : {count} erreur(s)", "file refused: {count} error(s)")
                    .into_status(tonic::Code::InvalidArgument)
            }
            AlertingError::Source(reason) => {
                vigie_platform::words!("source injoignable : {reason}", "source unreachable: {reason}")
                    .into_status(tonic::Code::Unavailable)
            }
            internal @ (AlertingError::Storage(_) | AlertingError::Events(_)) => {
                internal_status("alerting", "service d'alertes", &internal)
            }
        }
    }
}

/// How many of an import's problems refuse it (warnings do not).
fn errors(problems: &[ImportProblem]) -> usize {
    problems.iter().filter(|p| p.severity == Severity::Error).count()
}

/// The error and its causes on one line (`error : cause : cause…`, French
/// spacing), as an outgoing exchange's failure is reported: the webhook
/// sender and the Aides-territoires client read it the same way.
pub(crate) fn one_line(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(" : ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
