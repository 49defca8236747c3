//! The training service's error type and its one mapping to gRPC statuses.

use vigie_platform::words::IntoStatus;
use vigie_platform::words::{internal_status, not_found_status, rejected_status, Words};
use vigie_tabular::RowError;

use crate::storage::StorageError;

/// What can go wrong in the training use cases.
#[derive(Debug, thiserror::Error)]
pub enum TrainingError {
    /// Unknown session, person, structure (or outside the caller's scope).
    #[error("{0} introuvable")]
    NotFound(Words),
    /// A malformed request.
    #[error("{0}")]
    Invalid(Words),
    /// The request conflicts with the current state (already enrolled…).
    #[error("{0}")]
    Conflict(Words),
    /// A catalogue import was refused; nothing changed.
    #[error("catalogue refusé : {} erreur(s)", .0.len())]
    Rejected(Vec<RowError>),
    /// Storage failed.
    #[error("stockage : {0}")]
    Storage(#[from] StorageError),
    /// The outbox could not record an event.
    #[error("événements : {0}")]
    Events(String),
}

vigie_platform::from_database_errors!(TrainingError);

impl From<TrainingError> for tonic::Status {
    /// Client errors keep their message, in both languages; internal ones are
    /// logged with their cause chain, once, and the client only learns that
    /// it failed.
    fn from(error: TrainingError) -> Self {
        match error {
            TrainingError::NotFound(what) => not_found_status(what),
            TrainingError::Invalid(message) => message.into_status(tonic::Code::InvalidArgument),
            TrainingError::Conflict(message) => message.into_status(tonic::Code::FailedPrecondition),
            TrainingError::Rejected(errors) => rejected_status(errors.iter().map(RowError::to_words)),
            internal @ (TrainingError::Storage(_) | TrainingError::Events(_)) => {
                internal_status("training", "service de formation", &internal)
            }
        }
    }
}
