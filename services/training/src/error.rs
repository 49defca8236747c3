//! The training service's error type and its one mapping to gRPC statuses.

use vigie_tabular::RowError;

use crate::storage::StorageError;

/// What can go wrong in the training use cases.
#[derive(Debug, thiserror::Error)]
pub enum TrainingError {
    /// Unknown session, person, structure (or outside the caller's scope).
    #[error("{0} introuvable")]
    NotFound(String),
    /// A malformed request.
    #[error("{0}")]
    Invalid(String),
    /// The request conflicts with the current state (already enrolled…).
    #[error("{0}")]
    Conflict(String),
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

impl From<vigie_platform::db::DbError> for TrainingError {
    fn from(error: vigie_platform::db::DbError) -> Self {
        TrainingError::Storage(StorageError::Db(error))
    }
}

impl From<sqlx::Error> for TrainingError {
    fn from(error: sqlx::Error) -> Self {
        TrainingError::Storage(StorageError::Database(error))
    }
}

impl From<TrainingError> for tonic::Status {
    fn from(error: TrainingError) -> Self {
        match error {
            TrainingError::NotFound(what) => tonic::Status::not_found(format!("{what} introuvable")),
            TrainingError::Invalid(message) => tonic::Status::invalid_argument(message),
            TrainingError::Conflict(message) => tonic::Status::failed_precondition(message),
            TrainingError::Rejected(errors) => {
                tonic::Status::invalid_argument(errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))
            }
            internal @ (TrainingError::Storage(_) | TrainingError::Events(_)) => {
                tracing::error!(error = %internal, "training request failed");
                tonic::Status::internal("erreur interne du service de formation (voir les journaux du serveur)")
            }
        }
    }
}
