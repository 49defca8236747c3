//! The facilitation service's error type and its one mapping to gRPC statuses.

use vigie_platform::words::IntoStatus;
use vigie_platform::words::{internal_status, not_found_status, rejected_status, Words};
use vigie_tabular::RowError;

use crate::storage::StorageError;

/// What can go wrong in the facilitation use cases.
#[derive(Debug, thiserror::Error)]
pub enum FacilitationError {
    /// Unknown request, structure, person (or outside the caller's scope).
    #[error("{0} introuvable")]
    NotFound(Words),
    /// A malformed request.
    #[error("{0}")]
    Invalid(Words),
    /// The request conflicts with the current state (already closed…).
    #[error("{0}")]
    Conflict(Words),
    /// A facilitators import was refused; nothing changed.
    #[error("fichier des facilitateurs refusé : {} erreur(s)", .0.len())]
    Rejected(Vec<RowError>),
    /// Storage failed.
    #[error("stockage : {0}")]
    Storage(#[from] StorageError),
    /// The outbox could not record an event.
    #[error("événements : {0}")]
    Events(String),
}

vigie_platform::from_database_errors!(FacilitationError);

impl From<FacilitationError> for tonic::Status {
    /// Client errors keep their message, in both languages; internal ones are
    /// logged with their cause chain, once, and the client only learns that
    /// it failed.
    fn from(error: FacilitationError) -> Self {
        match error {
            FacilitationError::NotFound(what) => not_found_status(what),
            FacilitationError::Invalid(message) => message.into_status(tonic::Code::InvalidArgument),
            FacilitationError::Conflict(message) => message.into_status(tonic::Code::FailedPrecondition),
            FacilitationError::Rejected(errors) => rejected_status(errors.iter().map(RowError::to_words)),
            internal @ (FacilitationError::Storage(_) | FacilitationError::Events(_)) => {
                internal_status("facilitation", "service de facilitation", &internal)
            }
        }
    }
}
